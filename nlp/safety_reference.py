"""The labelled reference messages the embedding check of :mod:`nlp.safety` votes over
(``safety_reference.csv``), loaded and embedded once per process.

The rows: the development set tests/data/safety.csv, the first held-out set
tests/data/safety_heldout.csv once its misses had been studied, short exemplars, medication
talk on both sides (source ``medicines``), and replies that are lists (source ``lists``).
Rows from ``everyday`` are short everyday replies, and rows from ``access`` ordinary requests
for quicker care, and rows from ``ward`` ordinary talk of ward work; none is part of the vote
(:func:`everyday_rows`, :func:`access_rows`, :func:`ward_rows`).

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

Staff talking about ward work ("a whiteboard by each bay", "who is nil by mouth") sat nearest to
risky messages for want of anything ordinary in its words. The 134 ``ward`` rows (handover,
bays, obs, fasting, drug rounds, bank shifts, rotas, discharge) are treated like the access rows:
tests/test_safety_ward_language.py.

Patients and carers telling how care was arranged ("we were not told Dad was being discharged, he
arrived home in a taxi") sat nearest to risky messages about a father or a son: the reference set
had few ordinary messages about family, discharge, phone calls and time off work. The 88 ``care``
rows are treated like the access rows: tests/test_safety_welsh_and_carers.py.

Mental-health service users telling what helped ("someone who knew me", "not being believed
about my meds", "waiting alone in A&E for the crisis team") sat nearest to risky messages such as
"nobody would miss me if I was gone": the reference set had few ordinary messages about being
known, listened to, believed or alone. The ordinary ``mental_health`` rows are treated like the
access rows. Its risky rows, risk told in the same words ("if they send me home again I don't
think I'll still be here"), are outside the vote too, but count as risky messages when those
margins are measured (:func:`margin_risky_rows`), so that an answer near both is not left to the
patterns: tests/test_safety_mental_health.py.
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
WARD_SOURCE = "ward"
CARE_SOURCE = "care"
MENTAL_HEALTH_SOURCE = "mental_health"
OUTSIDE_THE_VOTE = (EVERYDAY_SOURCE, ACCESS_SOURCE, WARD_SOURCE, CARE_SOURCE, MENTAL_HEALTH_SOURCE)


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
    ward: np.ndarray
    """The vectors of the ordinary ward and clinical-process messages (:func:`ward_rows`)."""
    care: np.ndarray
    """The vectors of patients' and carers' ordinary accounts of how care was arranged (:func:`care_rows`)."""
    mental_health: np.ndarray
    """The vectors of ordinary accounts of mental-health services (:func:`mental_health_rows`)."""
    margin_risky: np.ndarray
    """The vectors of the risky messages outside the vote (:func:`margin_risky_rows`)."""


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


def ward_rows() -> list[dict[str, str]]:
    """Ordinary talk of ward work from staff ("handover at the bedside", "nil by mouth from
    midnight", "the bank rate for nights is too low"): an answer much closer to one of them than
    to any risky message is left to the lexicon."""
    return [row for row in _all_rows() if row["source"] == WARD_SOURCE]


def care_rows() -> list[dict[str, str]]:
    """Patients and carers telling how care was arranged ("nobody told us he was being discharged",
    "my son had to take a day off because no one phoned"): treated like :func:`access_rows`."""
    return [row for row in _all_rows() if row["source"] == CARE_SOURCE]


def mental_health_rows() -> list[dict[str, str]]:
    """Ordinary accounts of mental-health services ("a familiar face", "nobody believed me about
    the side effects", "the crisis line never picked up"): treated like :func:`access_rows`."""
    return [row for row in _all_rows() if row["source"] == MENTAL_HEALTH_SOURCE and row["risky"] == "0"]


def margin_risky_rows() -> list[dict[str, str]]:
    """Risk told in the words of those accounts ("I can't keep safe on my own tonight"): outside
    the vote, but an answer must be a margin closer to an ordinary row than to these as well."""
    return [row for row in _all_rows() if row["source"] in OUTSIDE_THE_VOTE and row["risky"] == "1"]


class _Reference:
    """The reference set, embedded once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: Reference | None = None

    def get(self) -> Reference:
        with self._lock:
            if self._ready is None:
                from nlp.embed import embed

                rows = reference_rows()
                texts = [r["text"] for r in rows]
                groups = [texts] + [[r["text"] for r in kind()] for kind in (
                    everyday_rows, access_rows, ward_rows, care_rows, mental_health_rows, margin_risky_rows)]
                ends = np.cumsum([len(group) for group in groups])
                vote, everyday, access, ward, care, mental_health, margin_risky = np.split(
                    embed([text for group in groups for text in group]), ends[:-1])
                self._ready = Reference(
                    texts=texts,
                    risky=np.array([r["risky"] == "1" for r in rows]),
                    categories=[r["category"] for r in rows],
                    vectors=vote,
                    everyday=everyday,
                    medicine=np.array([names_medicine(text) for text in texts]),
                    access=access, ward=ward, care=care, mental_health=mental_health, margin_risky=margin_risky,
                )
            return self._ready


embedded_reference = _Reference()
"""The process's reference set (embedded on first use)."""
