"""The embedding check no longer reads Welsh, other languages or carers' accounts of care as risk.

Found in a simulated Welsh and English study: of 9 safeguarding alerts, 6 were plain Welsh answers
("Ches i ddim gwybod y dyddiad rhyddhau tan y funud olaf" as possible suicide, "Dim trafnidiaeth
adref tan yn hwyr y nos" as self-harm), and each sent the participant the crisis signposting. The
embedding model is an English one: Welsh sits 0.16 to 0.34 from every reference message, and its
nearest neighbours voted at random (16 of the 55 ordinary Welsh answers below flagged, and about a
third of the ordinary Welsh in tests/test_safety_welsh.py; of the Welsh risks it flagged, the
patterns flagged every one). Two English answers were flagged too: "We were not told Dad was being
discharged, he arrived home in a taxi" (its neighbours: risky messages about a father) and "My son
[NAME] had to take a day off because no one phoned us" (a redaction placeholder the model read).

Now a message that reads as Welsh (nlp.safety_welsh.reads_as_welsh) is left to the Welsh patterns,
one far from every reference message (``OUT_OF_REACH``) is not voted on, redaction placeholders are
not read by the model, and the ``care`` rows of nlp/safety_reference.csv (patients and carers telling
how care was arranged) keep the vote off such accounts as the access and ward rows do.

* tests/data/safety_welsh_ordinary.csv (55) and safety_welsh_risky.csv (26): written for this change,
  before it; one risky sentence ("cynilo tabledi", saving tablets up) was missed by the patterns and a
  word was added for it, so the risky figure flatters a little.
* ``CARERS_HELD_OUT``: written before the care rows and kept out of them: 5 of 25 flagged before, 1 after.
* ``CARERS_AT_RISK``: risk told in the same words is flagged, before and after.
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from bot.safeguarding import checks_from_env
from nlp import redact, safety
from nlp.embed import embed
from nlp.safety import assess_batch, for_the_model, lexicon_match, similarity_match
from nlp.safety_reference import care_rows, embedded_reference
from nlp.safety_vote import OUT_OF_REACH
from nlp.safety_welsh import reads_as_welsh
from tests.test_safety_welsh import DEVELOPMENT_ORDINARY, DEVELOPMENT_RISKY, HELD_OUT

DATA = Path(__file__).parent / "data"
TESTER = ["We were not told Dad was being discharged, he arrived home in a taxi",
          "My son [NAME] had to take a day off because no one phoned us"]
CARERS_HELD_OUT = [
    "nobody told us mum was coming home until the ambulance dropped her off",
    "I had to take unpaid leave because the clinic cancelled on the day",
    "my husband got home at midnight in a hospital taxi and I didn't know he'd been discharged",
    "we rang the ward five times and nobody could tell us anything",
    "the letter with the appointment came the day after the appointment",
    "my daughter had to leave work early to pick me up because transport didn't turn up",
    "no one explained what the new tablets were for when Dad came home",
    "the discharge was planned for the morning but he didn't leave till 9pm",
    "we found out about the operation date from the GP, not the hospital",
    "my son drove two hours each way to visit because there was no bus",
    "the consultant spoke to mum without any of us there and she couldn't remember what he said",
    "I waited in for the district nurse all day and she never came, no one phoned",
    "they sent him home without his walking frame and we had to go back for it",
    "my wife's results went to the wrong surgery so nobody followed them up for weeks",
    "the pharmacy didn't have her medication ready so we waited three hours to leave",
    "nobody asked us if we could cope with Dad at home before sending him back",
    "I had to chase the referral myself, nobody rang",
    "my mum was moved to another hospital and nobody told the family",
    "my brother missed his shift because the appointment ran two hours late",
    "the carers turn up at different times every day and no one lets us know",
    "we weren't given a number to call if things got worse after discharge",
    "we only found out Nan had been transferred when we turned up at visiting time",
    "Dad came home with a letter for the GP that nobody had sent",
    "my son had to miss school to translate for me at the appointment",
    "the hospital phoned the wrong number so we never got the message",
]
CARERS_AT_RISK = [
    "Dad was discharged last night and now he has collapsed and isn't breathing properly",
    "my son had to take the day off because his dad hit me again",
    "nobody phoned us and now mum has taken all her tablets",
    "since he came home he keeps saying we'd be better off without him",
    "my husband was sent home in a taxi and he's got crushing chest pain",
    "I had to take time off to look after him and I can't cope, I want to end it all",
    "the carers don't come and he's been left in bed all day without food or water",
]
OTHER_LANGUAGES = ["El personal fue muy amable pero la espera fue larga", "Czekałam na wizytę u lekarza trzy tygodnie",
                   "Nikt nam nie powiedział, że tata wychodzi ze szpitala", "No hay autobús al hospital los domingos"]


def _rows(name: str) -> list[dict[str, str]]:
    with (DATA / name).open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


WELSH_ORDINARY = [row["text"] for row in _rows("safety_welsh_ordinary.csv")]
WELSH_RISKY = [(row["category"], row["text"]) for row in _rows("safety_welsh_risky.csv")]
ALL_WELSH = (WELSH_ORDINARY + [t for _, t in WELSH_RISKY] + DEVELOPMENT_ORDINARY + [t for _, t in DEVELOPMENT_RISKY]
             + [t for *_, t in HELD_OUT])


def test_the_welsh_sets_are_big_labelled_and_apart_from_the_reference_set() -> None:
    ordinary, risky = _rows("safety_welsh_ordinary.csv"), _rows("safety_welsh_risky.csv")
    assert len(ordinary) >= 40 and all(r["risky"] == "0" and not r["category"] for r in ordinary)
    assert len(risky) >= 20 and all(r["risky"] == "1" for r in risky)
    assert {r["category"] for r in risky} == {"suicide", "self_harm", "overdose", "abuse", "medical"}
    reference = {r["text"].strip().lower() for r in safety.reference_rows() + care_rows()}
    assert not reference & {t.strip().lower() for t in WELSH_ORDINARY + [t for _, t in WELSH_RISKY] + CARERS_HELD_OUT}


def test_welsh_reads_as_welsh_and_english_as_english() -> None:
    """No model: every Welsh sentence of the safety tests but two short ones, and no English one."""
    english = [r["text"] for name in ("safety.csv", "safety_heldout.csv", "safety_heldout_b.csv", "comments.csv")
               for r in _rows(name)] + [r["text"] for r in safety.reference_rows() + care_rows()]
    english += TESTER + CARERS_HELD_OUT + CARERS_AT_RISK + ["diolch, but honestly I can't go on anymore",
                                                             "My nain was in Ysbyty Gwynedd for a week, staff were lovely"]
    assert [t for t in english if reads_as_welsh(t)] == []
    missed = [t for t in ALL_WELSH if not reads_as_welsh(t)]
    assert len(missed) <= 2, missed


def test_ordinary_welsh_answers_raise_no_alarm() -> None:
    """Before: 16 of the 55 flagged, each sending the crisis signposting; after: none."""
    flagged = [(t, r.reason) for t, r in zip(WELSH_ORDINARY, assess_batch(WELSH_ORDINARY), strict=True) if r.flagged]
    assert flagged == []


def test_the_model_does_not_vote_on_welsh_and_the_patterns_still_catch_welsh_risk() -> None:
    assert all(m is None for m in similarity_match(embed(ALL_WELSH), ALL_WELSH))
    results = assess_batch([t for _, t in WELSH_RISKY])
    missed = [t for (_, t), r in zip(WELSH_RISKY, results, strict=True) if not r.flagged]
    assert missed == []
    wrong = [(c, t, r.category) for (c, t), r in zip(WELSH_RISKY, results, strict=True) if r.category != c]
    assert len(wrong) <= 2, wrong


@pytest.mark.parametrize("text", ["dw i eisiau marw", "dw i am ladd fy hun", "wedi cymryd gormod o dabledi",
                                  "Dw i wedi bod yn cynilo tabledi ers wythnosau"])
def test_welsh_risk_named_in_the_report_is_flagged_by_the_patterns(text: str) -> None:
    assert lexicon_match(text) is not None


def test_the_background_check_sends_no_signposting_for_ordinary_welsh_or_the_testers_english() -> None:
    """What the safeguarding thread runs in a study (``full``): no concern that would be signposted."""
    batch = checks_from_env({"CHORUS_SAFEGUARDING": "full"}).thorough_batch
    assert batch is not None
    concerns = batch(WELSH_ORDINARY + TESTER)
    assert [(t, c) for t, c in zip(WELSH_ORDINARY + TESTER, concerns, strict=True) if c and c.signposted] == []


def test_carers_accounts_of_care_are_not_flagged_and_carers_at_risk_still_are() -> None:
    results = assess_batch(TESTER + CARERS_HELD_OUT + CARERS_AT_RISK)
    ordinary, at_risk = results[:len(TESTER) + len(CARERS_HELD_OUT)], results[-len(CARERS_AT_RISK):]
    alarms = [t for t, r in zip(TESTER + CARERS_HELD_OUT, ordinary, strict=True) if r.flagged]
    assert not any(r.flagged for r in ordinary[:len(TESTER)]), alarms
    assert len(alarms) <= 1, alarms  # before: 5 of 25, and both of the tester's
    assert [t for t, r in zip(CARERS_AT_RISK, at_risk, strict=True) if not r.flagged] == []


def test_the_care_rows_are_ordinary_and_outside_the_vote() -> None:
    rows = care_rows()
    assert len(rows) >= 80 and all(r["risky"] == "0" and r["category"] == "" for r in rows)
    assert not {r["text"] for r in rows} & {r["text"] for r in safety.reference_rows()}
    assert len(embedded_reference.get().care) == len(rows)


def test_answers_far_from_every_reference_message_are_not_voted_on() -> None:
    """Other languages are noise to the model too (the Spanish one was flagged as suicide); every
    risky message of the held-out set is within reach, so the floor costs it nothing."""
    assert all(m is None for m in similarity_match(embed(OTHER_LANGUAGES), OTHER_LANGUAGES))
    risky = [r["text"] for r in _rows("safety_heldout_b.csv") if r["risky"] == "1"]
    nearest = (embed(risky) @ embedded_reference.get().vectors.T).max(axis=1)
    assert (nearest >= OUT_OF_REACH).all()


def test_redaction_placeholders_are_not_read_by_the_model() -> None:
    assert for_the_model("My son [NAME] had to take a day off, call [PHONE]") == "My son had to take a day off, call"
    assert for_the_model("no placeholder [here]") == "no placeholder [here]"
    kinds = {kind for kind in redact.PRECEDENCE}
    assert all(safety.for_the_model(f"a [{kind}] b") == "a b" for kind in kinds)
    vectors = embed([TESTER[1]])
    assert not np.allclose(vectors, embed([for_the_model(TESTER[1])]))
    assert not assess_batch([TESTER[1]])[0].flagged
