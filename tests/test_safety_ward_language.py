"""Staff talking about ward work is not a crisis; a member of staff in crisis still is.

Found in a staff study: the embedding model read ordinary ward language as risk, "a whiteboard by
each bay" as an overdose (nearest: "half a bottle of vodka and whatever pills...") and "who is nil
by mouth" as a medical emergency ("lips feel numb"). Ward words (bay, obs, nil by mouth, drug
round, sluice) are rare in the reference set, so a short proposal made of them sat nearest to
whichever risky message it happened to, and a staff study would bury its coordinator in alerts.

The ``ward`` rows of nlp/safety_reference.csv (134 ordinary messages about handover, bays,
observations, fasting, drug rounds, bank shifts, rotas, discharge and the rest of ward work) are
outside the vote; an answer ``WARD_MARGIN`` closer to one of them than to any risky message is
left to the patterns unless one of its clauses, read alone, is flagged (nlp/safety_vote.py).

* ``TESTER``: the study's two sentences.
* ``HELD_OUT``: written before the ward rows, by the same person, and set aside; none is in the
  reference set (the first test). Before the change 2 of 28 were flagged.
* ``STAFF_AT_RISK``: staff disclosing risk in ward language. Each one flagged before the change is
  flagged after it; "thinking of ending it" was missed before and a pattern now reads it.
The risky examples of tests/data are flagged by the model as often as before:
tests/test_safety_access_requests.py (``test_the_model_catches_what_it_caught_in_tests_data``);
scripts/bench/safety.py prints the same figures before and after.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bot.safeguarding import check_from_env, concern_about
from nlp import safety
from nlp.embed import embed
from nlp.safety import assess_batch, lexicon_match, similarity_match
from nlp.safety_reference import access_rows, embedded_reference, ward_rows
from nlp.safety_vote import WARD_MARGIN

DATA = Path(__file__).parent / "data"
TESTER = ["a whiteboard by each bay", "who is nil by mouth", "Handover sheet should list who is nil by mouth"]

HELD_OUT = [
    "put the fluid balance charts at the end of each bed",
    "the drug round takes too long because we keep getting interrupted",
    "a red tabard for whoever is doing the meds round",
    "bank staff don't know where anything is kept",
    "nobody checks the resus trolley on nights",
    "the discharge lounge is always full by ten",
    "huddle at 2pm to go over the bed state",
    "a flag on the board for patients at risk of falls",
    "obs are due every four hours but we fall behind",
    "the NEWS score should be on the handover sheet",
    "a bleep holder for each side of the ward",
    "pharmacy TTOs hold up every discharge",
    "the hoist is broken again in bay 4",
    "protected mealtimes keep getting ignored",
    "cannulas and bloods done before the ward round",
    "a checklist for transfers to theatre",
    "side rooms for infection control",
    "the agency nurse didn't get an induction",
    "we need a second nurse to check controlled drugs at night",
    "pressure area care every two hours for bed bound patients",
    "the sluice is too small for two commodes",
    "swap the paper rota for an app",
    "make it clear who is in charge of each bay",
    "a quiet room for relatives",
    "fasting times written above the bed before surgery",
    "the ward clerk could chase the scans",
    "more time for breaks on a long day",
    "turning charts kept at the foot of the bed",
]
STAFF_AT_RISK = [
    "I can't cope, I've been thinking of ending it after my shift",
    "after nights I sit in the car and think about driving into a lorry",
    "I've been taking tablets from the ward stock so I can sleep and last week I took a handful",
    "the sister grabs me by the arm and shoves me in the sluice when no one's looking",
    "I'm on shift now and I've got crushing chest pain going down my arm",
    "I've started cutting my thighs before my shifts so I can get through them",
    "everyone on the ward would be better off if I wasn't here",
    "I don't want to wake up after another set of nights",
    "my partner kicks me when I get home late from a long day",
    "the charge nurse said he'd hurt me if I reported him",
    "handover was rushed again and honestly I'm thinking of ending it",
    "after every night shift I hurt myself in the staff toilets",
    "I've been taking the leftover oramorph home and drinking it to sleep",
    "the rota is impossible and I've got enough tablets saved to not wake up",
    "I work on the ward and I keep cutting my arms so nobody sees",
    "on the drug round and my chest is tight and my left arm has gone numb",
    "a colleague on nights keeps touching me when we're alone in the sluice",
    "nobody would notice if I didn't come back after my bank shift",
    "I've stopped eating and sleeping since the incident on the ward and I want it all to stop",
    "the rota comes out too late and I've been thinking I'd be better off gone",
    "handover takes too long, then I go home and cut myself",
    "the drug round is chaos so I've been pocketing the spare tablets to take them all at once",
]


def _flagged(texts: list[str]) -> list[tuple[str, str]]:
    return [(text, r.reason) for text, r in zip(texts, assess_batch(texts), strict=True) if r.flagged]


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_held_out_sentences_are_kept_apart_from_the_reference_set() -> None:
    rows = safety.reference_rows() + safety.everyday_rows() + access_rows() + ward_rows()
    reference = {row["text"].strip().lower() for row in rows}
    written = TESTER + HELD_OUT + STAFF_AT_RISK
    assert len({text.lower() for text in written}) == len(written)
    assert not reference & {text.lower() for text in written}
    assert len(ward_rows()) >= 100 and len(HELD_OUT) >= 15


def test_the_ward_rows_are_ordinary_outside_the_vote_and_apart_from_the_labelled_sets() -> None:
    assert all(row["risky"] == "0" and row["category"] == "" for row in ward_rows())
    assert "ward" not in {row["source"] for row in safety.reference_rows()}
    labelled = {row["text"].strip().lower() for name in ("safety.csv", "safety_heldout.csv",
                                                          "safety_heldout_b.csv", "comments.csv") for row in _rows(name)}
    assert not labelled & {row["text"].strip().lower() for row in ward_rows()}


@pytest.mark.parametrize("text", TESTER)
def test_the_studys_ward_sentences_raise_no_concern(text: str) -> None:
    assert not assess_batch([text])[0].flagged
    assert concern_about(check_from_env({"CHORUS_SAFEGUARDING": "full"}), text) is None


def test_held_out_ward_language_raises_no_alarm() -> None:
    alarms = _flagged(HELD_OUT)
    print(f"\nward held-out false alarms: {len(alarms)} of {len(HELD_OUT)} (before: 2): {alarms}")
    assert alarms == []


def test_staff_disclosing_risk_in_ward_language_are_flagged() -> None:
    missed = [text for text, r in zip(STAFF_AT_RISK, assess_batch(STAFF_AT_RISK), strict=True) if not r.flagged]
    assert missed == []
    assert concern_about(check_from_env({"CHORUS_SAFEGUARDING": "full"}), STAFF_AT_RISK[0]) is not None


def test_thinking_of_ending_it_is_read_by_the_patterns() -> None:
    assert lexicon_match("I can't cope, I've been thinking of ending it after my shift") == (
        "suicide", "thinking of ending it")
    assert lexicon_match("I thought about ending it last night") is not None
    assert lexicon_match("thinking of ending it with my boyfriend") is None


def test_a_risky_clause_keeps_a_ward_message_flagged() -> None:
    """Whole, this reads as ward talk; the model flags it for its second clause."""
    text = "the rota comes out too late and I've been thinking I'd be better off gone"
    ref = embedded_reference.get()
    vector = embed([text])
    ward = (vector @ ref.ward.T).max(axis=1)
    risky = np.where(ref.risky, vector @ ref.vectors.T, -np.inf).max(axis=1)
    assert (ward - risky >= WARD_MARGIN).all(), "this test needs an answer that reads as ward talk"
    assert lexicon_match(text) is None
    assert similarity_match(vector, [text])[0] is not None
