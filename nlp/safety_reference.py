"""The labelled reference messages the embedding check of :mod:`nlp.safety` votes over
(``safety_reference.csv``), loaded and embedded once per process.

The rows: the development set tests/data/safety.csv, the first held-out set
tests/data/safety_heldout.csv once its misses had been studied, short exemplars, medication
talk on both sides (source ``medicines``), and replies that are lists (source ``lists``).
Rows from ``everyday`` are short everyday replies, and rows from ``access`` ordinary requests
for quicker care; neither is part of the vote (:func:`everyday_rows`, :func:`access_rows`).

A bare list of a question's topics ("feet, eyes and diet", "pain, sleep and mood") has no
sentence around its words, so it sat nearest to whichever risky message shared one of them:
half of 25 such lists were flagged, and a participant picking options in their own words was
sent crisis signposting. The ``lists`` rows (ordinary lists of topics, and a few risky lists,
so that "razor, cuts, bleeding" still reads as risk) bring that to 2 of the 25, every risky
list and every risky example in tests/data still flagged: tests/test_safety_lists.py.

"see a doctor faster", the commonest suggestion in a GP-access study, read as a medical
emergency: its words (doctor, faster) sit nearer the reference set's emergencies than anything
ordinary, so every participant who asked for quicker care was sent crisis signposting. The 99
``access`` rows (asking to see a doctor or nurse sooner, for more appointments, quicker
referrals, shorter waits in A&E, ambulances and call-backs, from patients, carers and staff)
let :mod:`nlp.safety_vote` leave an answer much closer to one of them than to any risky
message to the patterns, unless a clause of it, read alone, is flagged. Outside the vote, they
leave the thresholds as they were: tests/test_safety_access_requests.py.
"""

from __future__ import annotations

import csv
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nlp.safety_medicines import names_medicine

REFERENCE = Path(__file__).with_name("safety_reference.csv")
EVERYDAY_SOURCE = "everyday"
ACCESS_SOURCE = "access"
OUTSIDE_THE_VOTE = (EVERYDAY_SOURCE, ACCESS_SOURCE)


@dataclass(frozen=True)
class Reference:
    """The labelled reference messages and their sentence vectors."""

    texts: list[str]
    risky: np.ndarray
    categories: list[str]
    vectors: np.ndarray
    everyday: np.ndarray
    """The vectors of the everyday replies (:func:`everyday_rows`)."""
    medicine: np.ndarray
    """Whether each message names a medicine or a drink (:func:`names_medicine`)."""
    access: np.ndarray
    """The vectors of the requests for quicker care (:func:`access_rows`)."""


def _all_rows() -> list[dict[str, str]]:
    with REFERENCE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def reference_rows() -> list[dict[str, str]]:
    """The labelled messages the vote is taken over (and ``THRESHOLD`` chosen on)."""
    return [row for row in _all_rows() if row["source"] not in OUTSIDE_THE_VOTE]


def everyday_rows() -> list[dict[str, str]]:
    """Short everyday replies ("remind me friday", "2 or 3 times"): an answer much closer to
    one of them than to any risky message is left to the lexicon."""
    return [row for row in _all_rows() if row["source"] == EVERYDAY_SOURCE]


def access_rows() -> list[dict[str, str]]:
    """Ordinary requests for quicker care ("see a GP sooner", "shorter waits in A&E"): an
    answer much closer to one of them than to any risky message is left to the lexicon."""
    return [row for row in _all_rows() if row["source"] == ACCESS_SOURCE]


class _Reference:
    """The reference set, embedded once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: Reference | None = None

    def get(self) -> Reference:
        with self._lock:
            if self._ready is None:
                from nlp.embed import embed

                rows, everyday = reference_rows(), [r["text"] for r in everyday_rows()]
                texts, access = [r["text"] for r in rows], [r["text"] for r in access_rows()]
                vectors = embed(texts + everyday + access)
                outside = len(texts) + len(everyday)
                self._ready = Reference(
                    texts=texts,
                    risky=np.array([r["risky"] == "1" for r in rows]),
                    categories=[r["category"] for r in rows],
                    vectors=vectors[:len(texts)],
                    everyday=vectors[len(texts):outside],
                    medicine=np.array([names_medicine(text) for text in texts]),
                    access=vectors[outside:],
                )
            return self._ready


embedded_reference = _Reference()
"""The process's reference set (embedded on first use)."""
