"""The embedding check of :mod:`nlp.safety`: a vote of the ``NEIGHBOURS`` most similar
reference messages (MiniLM sentence vectors, weighted by similarity; :mod:`nlp.safety_reference`).
It catches paraphrases the lexicon lacks ("if the cancer doesn't get me I'll do it myself");
the ordinary messages, hard negatives among them ("this wait is killing me"), keep it from
flagging every mention of pain or death. An answer is flagged when the vote reaches
``THRESHOLD``, chosen by cross-validation on the reference set so that ``TARGET_RECALL`` of its
risky messages would be flagged by the others or by the patterns (:func:`choose_thresholds`).

An answer most of whose nearest reference messages name a medicine or drink
(:func:`among_medicines`) needs the stricter ``MEDICINE_THRESHOLD``, chosen so that at most
``MEDICINE_FALSE_ALARMS`` of the ordinary ones would be flagged.

Short everyday replies ("I'm fine", "about 3 times", "can't decide") sit close to everything in
a sentence-vector space, so the vote alone once flagged a third of them. The check therefore
also needs ``MIN_CONTENT_WORDS`` words that are not function words, and gives way when the
answer is ``EVERYDAY_MARGIN`` closer to one of the reference set's everyday replies than to any
risky message. Short explicit risk ("kill myself", "overdose", "want to die") is the lexicon's
to catch. Measured on 82 everyday replies and every risky example in tests/data:
tests/test_safety_everyday.py.

Asking for quicker care ("see a doctor faster") shares words with emergencies: 64 of 251 such
requests were flagged. The check gives way when the answer is ``ACCESS_MARGIN`` closer to one of
the reference set's access requests than to any risky message, unless a clause of it read alone
is flagged ("the ambulance hasn't come and dad has collapsed"): tests/test_safety_access_requests.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from nlp.safety_medicines import names_medicine
from nlp.safety_patterns import lexicon_match
from nlp.safety_reference import embedded_reference, reference_rows
from nlp.safety_text import content_words

Match = tuple[str, int, float]
"""A flag: category, index of the nearest risky reference message, vote."""
NEIGHBOURS = 10
TARGET_RECALL = 0.98
MEDICINE_FALSE_ALARMS = 0.1
# Both chosen by choose_thresholds() on the reference set (scripts/bench/safety.py prints them
# again, with the recall and false alarms they give there).
THRESHOLD = -0.041
MEDICINE_THRESHOLD = 0.034
"""The vote an answer among medication talk needs (:func:`among_medicines`)."""
MIN_CONTENT_WORDS = 3
"""The embedding check looks only at answers with at least this many content words."""
EVERYDAY_MARGIN = 0.15
"""How much closer to an everyday reply than to any risky message an answer must be for the
embedding check to leave it (chosen on the everyday and risky sets named above)."""
ACCESS_MARGIN = 0.10
"""The same for access requests (no risky example in tests/data comes within 0.04 of it)."""
CLAUSE_BREAK = re.compile(r"[.,;:!?\n]+|\b(?:and|but|because|cos|so|while|when|then)\b", re.IGNORECASE)


def nearest(vectors: np.ndarray, reference: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """For each vector, the indices of its ``k`` most similar reference messages and their similarities."""
    sims = vectors @ reference.T
    k = min(k, len(reference))
    near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return near, np.take_along_axis(sims, near, axis=1)


def vote(vectors: np.ndarray, reference: np.ndarray, risky: np.ndarray,
         k: int = NEIGHBOURS) -> np.ndarray:
    """For each vector, the similarity-weighted vote of its ``k`` nearest
    reference messages: +1 when all are risky, -1 when all are ordinary."""
    near, sims = nearest(vectors, reference, k)
    weights = np.maximum(sims, 0.0) + 1e-6
    signs = np.where(risky[near], 1.0, -1.0)
    return np.asarray((weights * signs).sum(1) / weights.sum(1))


def among_medicines(vectors: np.ndarray, reference: np.ndarray, medicine: np.ndarray) -> np.ndarray:
    """Whether most of each answer's nearest reference messages name a medicine or a drink.

    Among medication talk the sentence vectors read the topic, not the dose: "I take 2
    paracetamol for my back" and "took 20 paracetamol with vodka" sit side by side. There the
    patterns, which read quantities, drink and intent, do most of the work, and the vote must
    reach ``MEDICINE_THRESHOLD``. Decided from the vectors alone, so that the check needs no
    text to agree with itself."""
    near, _ = nearest(vectors, reference)
    return np.asarray(medicine[near].mean(axis=1) >= 0.5)


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


def _closest(vectors: np.ndarray, others: np.ndarray) -> np.ndarray:
    """For each vector, its similarity to the most similar of ``others`` (-inf when there are none)."""
    return (vectors @ others.T).max(axis=1) if len(others) else np.full(len(vectors), -np.inf)


def similarity_match(vectors: np.ndarray, texts: Sequence[str] | None = None) -> list[Match | None]:
    """The embedding check alone: for each answer (``texts``, their sentence ``vectors``),
    (category, index of the nearest risky reference message, vote) when it is flagged, else
    None. Flagged: enough content words, a vote at ``THRESHOLD`` or above (``MEDICINE_THRESHOLD``
    among medication talk: :func:`among_medicines`), and not ``EVERYDAY_MARGIN`` closer to an
    everyday reply, nor ``ACCESS_MARGIN`` to an access request unless a clause is flagged
    (:func:`_risky_clause`), than to every risky message (without ``texts``: words and clauses unread)."""
    found, access_like = _vote_match(vectors, texts)
    if texts is not None:
        for n in map(int, np.flatnonzero(access_like)):
            found[n] = _risky_clause(texts[n])
    return found


def _vote_match(vectors: np.ndarray, texts: Sequence[str] | None) -> tuple[list[Match | None], np.ndarray]:
    """:func:`similarity_match` before clauses are read, and which answers it left as access requests."""
    ref = embedded_reference.get()
    scores = vote(vectors, ref.vectors, ref.risky)
    thresholds = np.where(among_medicines(vectors, ref.vectors, ref.medicine), MEDICINE_THRESHOLD, THRESHOLD)
    risky_sims = np.where(ref.risky, vectors @ ref.vectors.T, -np.inf)
    everyday_sims, access_sims = _closest(vectors, ref.everyday), _closest(vectors, ref.access)
    found: list[Match | None] = []
    access_like = np.zeros(len(vectors), dtype=bool)
    for n, score in enumerate(scores):
        best = int(np.argmax(risky_sims[n]))
        everyday = everyday_sims[n] - risky_sims[n, best] >= EVERYDAY_MARGIN
        wordy = texts is None or content_words(texts[n]) >= MIN_CONTENT_WORDS
        voted = bool(score >= thresholds[n]) and wordy and not everyday
        access_like[n] = voted and access_sims[n] - risky_sims[n, best] >= ACCESS_MARGIN
        found.append((ref.categories[best], best, float(score)) if voted and not access_like[n] else None)
    return found, access_like


def clauses(text: str) -> list[str]:
    """The parts of an answer between punctuation and joining words ("and", "because",
    "when"), those with ``MIN_CONTENT_WORDS`` content words."""
    parts = (part.strip() for part in CLAUSE_BREAK.split(text))
    return [part for part in parts if content_words(part) >= MIN_CONTENT_WORDS]


def _risky_clause(text: str) -> Match | None:
    """The first flag of a clause of an answer read as an access request: "the ambulance hasn't
    come and dad has collapsed on the floor" is flagged for its second clause."""
    parts = clauses(text)
    if len(parts) < 2:
        return None
    from nlp.embed import embed

    found, _ = _vote_match(embed(parts), parts)
    return next((match for match in found if match is not None), None)
