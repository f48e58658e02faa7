"""How the thresholds of the vote (:mod:`nlp.safety_vote`) are chosen: by cross-validation on the
reference set, so that ``TARGET_RECALL`` of its risky messages would be flagged by the others or by
the patterns, and among medication talk at most ``MEDICINE_FALSE_ALARMS`` of the ordinary ones
(scripts/bench/safety.py prints them again, with the recall and false alarms they give there)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlp.safety_medicines import names_medicine
from nlp.safety_patterns import lexicon_match
from nlp.safety_reference import reference_rows
from nlp.safety_vote import MEDICINE_FALSE_ALARMS, TARGET_RECALL, among_medicines, vote


@dataclass(frozen=True)
class Thresholds:
    general: float
    medicine: float


def cross_validated(vectors: np.ndarray, risky: np.ndarray, medicine: np.ndarray,
                    folds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Each reference message's vote, and whether it sits among medication talk, when it is
    judged by the others (``folds``-fold cross-validation)."""
    order = np.random.default_rng(0).permutation(len(vectors))
    scores = np.zeros(len(vectors))
    medicines = np.zeros(len(vectors), dtype=bool)
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        scores[test] = vote(vectors[test], vectors[train], risky[train])
        medicines[test] = among_medicines(vectors[test], vectors[train], medicine[train])
    return scores, medicines


def choose_thresholds(vectors: np.ndarray, risky: np.ndarray, medicine: np.ndarray, caught: np.ndarray,
                      recall: float = TARGET_RECALL, false_alarms: float = MEDICINE_FALSE_ALARMS) -> Thresholds:
    """The vote thresholds, by cross-validation on the reference set (:func:`cross_validated`):
    ``general``, at which ``recall`` of the risky messages outside medication talk would be
    flagged, by the vote or by the patterns (``caught``: what Chorus runs is both);
    ``medicine``, at which no more than ``false_alarms`` of the ordinary messages among
    medication talk would be flagged by the vote. This is how ``THRESHOLD`` and
    ``MEDICINE_THRESHOLD`` were chosen (scripts/bench/safety.py prints them again, with the
    recall and false alarms they give)."""
    scores, medicines = cross_validated(vectors, risky, medicine)
    found = np.where(caught, np.inf, scores)
    general = float(np.quantile(found[risky & ~medicines], 1 - recall))
    ordinary_medicine = scores[~risky & medicines]
    medicine_threshold = float(np.quantile(ordinary_medicine, 1 - false_alarms)) if len(ordinary_medicine) else general
    return Thresholds(general, max(general, medicine_threshold))


def choose_threshold(vectors: np.ndarray, risky: np.ndarray, texts: Sequence[str] | None = None,
                     recall: float = TARGET_RECALL) -> float:
    """``THRESHOLD``: the general threshold :func:`choose_thresholds` chooses for the reference
    messages ``texts`` (by default the reference set's: :func:`reference_rows`), given their ``vectors``."""
    texts = [row["text"] for row in reference_rows()] if texts is None else texts
    if len(texts) != len(vectors):
        raise ValueError("choose_threshold needs the texts of the messages the vectors are of")
    medicine = np.array([names_medicine(text) for text in texts])
    caught = np.array([lexicon_match(text) is not None for text in texts])
    return choose_thresholds(vectors, risky, medicine, caught, recall).general
