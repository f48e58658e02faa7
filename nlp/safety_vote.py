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
Ordinary talk of ward work ("who is nil by mouth") is treated the same way, with ``WARD_MARGIN``
(tests/test_safety_ward_language.py), and patients' and carers' accounts of how care was arranged
("nobody phoned to say Dad was being discharged"), with ``CARE_MARGIN``, and accounts of
mental-health services ("someone who knew me", "nobody believed me about my meds"), with
``MENTAL_HEALTH_MARGIN``. For these margins the risky messages outside the vote count too (risk told
in the words of those accounts: :func:`nlp.safety_reference.margin_risky_rows`):
tests/test_safety_mental_health.py.

The model is an English one: Welsh is noise to it, and its neighbours voted at random (a third of
ordinary Welsh answers flagged, and every Welsh risk it flagged the patterns flag too). A message
that reads as Welsh (:func:`nlp.safety_welsh.reads_as_welsh`) is left to the Welsh patterns, and one
nearer than ``OUT_OF_REACH`` to no reference message at all (another language, noise) to the
patterns: tests/test_safety_welsh_and_carers.py.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from nlp.safety_reference import embedded_reference
from nlp.safety_text import content_words, for_the_model
from nlp.safety_welsh import reads_as_welsh

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
WARD_MARGIN = 0.10
"""The same for ordinary talk of ward work (:func:`nlp.safety_reference.ward_rows`)."""
CARE_MARGIN = 0.10
"""The same for how care was arranged (:func:`nlp.safety_reference.care_rows`)."""
MENTAL_HEALTH_MARGIN = 0.10
"""The same for accounts of mental-health services (:func:`nlp.safety_reference.mental_health_rows`)."""
OUT_OF_REACH = 0.30
"""An answer less similar than this to every reference message is not voted on (every risky
message of tests/data/safety_heldout_b.csv is at least 0.33 from one; Welsh answers 0.16 to 0.34)."""
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
    sims = vectors @ ref.vectors.T
    risky_sims, within_reach = np.where(ref.risky, sims, -np.inf), sims.max(axis=1) >= OUT_OF_REACH
    everyday_sims = _closest(vectors, ref.everyday)
    routines = [(_closest(vectors, kind), margin) for kind, margin in
                ((ref.access, ACCESS_MARGIN), (ref.ward, WARD_MARGIN), (ref.care, CARE_MARGIN),
                 (ref.mental_health, MENTAL_HEALTH_MARGIN))]
    margin_risky = _closest(vectors, ref.margin_risky)
    found: list[Match | None] = []
    access_like = np.zeros(len(vectors), dtype=bool)
    for n, score in enumerate(scores):
        best = int(np.argmax(risky_sims[n]))
        everyday = everyday_sims[n] - risky_sims[n, best] >= EVERYDAY_MARGIN
        readable = texts is None or (content_words(texts[n]) >= MIN_CONTENT_WORDS and not reads_as_welsh(texts[n]))
        voted = bool(score >= thresholds[n]) and readable and within_reach[n] and not everyday
        nearest_risk = max(risky_sims[n, best], margin_risky[n])
        routine = any(kind[n] - nearest_risk >= margin for kind, margin in routines)
        access_like[n] = voted and routine
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
    parts = clauses(for_the_model(text))
    if len(parts) < 2:
        return None
    from nlp.embed import embed

    found, _ = _vote_match(embed(parts), parts)
    return next((match for match in found if match is not None), None)
