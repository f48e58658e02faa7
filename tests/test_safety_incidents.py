"""Patient-safety incidents told in free text ('she was left on the floor for an hour', 'nobody
came when he pressed the buzzer all night', 'they gave him the wrong medication'), in English and
Welsh: a ``patient_safety`` safeguarding flag for the coordinator, and no crisis signposting for
the participant; never for a complaint about waiting ('I waited an hour to be seen'). A message of
risk is still flagged, and signposted, as that risk.

False alarms are measured on every text corpus in tests/data (and the safety reference set): the
only messages flagged are the incidents listed in :data:`INCIDENTS_IN_THE_CORPORA`, read one by one."""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.concerns import flag_text
from bot.safeguarding import PATIENT_SAFETY, Concern, check_from_env, checks_from_env
from bot.service import ConversationService, ReceiveResult
from nlp.safety import lexicon_match
from nlp.safety_incidents import incident_match
from storage.database import Database
from storage.tables import FLAGS

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"
Say = Callable[..., ReceiveResult]

INCIDENTS = [
    "she was left on the floor for an hour", "nobody came when he pressed the buzzer all night",
    "they gave him the wrong medication", "Mum was left lying on the floor", "He pressed his call bell and no one came",
    "the call bell was out of her reach all night", "they took away her buzzer", "the nurse gave me the wrong dose",
    "They gave dad someone else's tablets", "they operated on the wrong leg",
    "they gave her penicillin even though she is allergic to it", "he wasn't given his insulin for two days",
    "Dad went without his Parkinson's medication", "he wasn't fed for two days", "left in his own urine",
    "the carers dropped my mum", "We were never told mum had a fall on the ward",
    "she lay on the floor for three hours before anyone found her", "no one checked on her all night",
    "she fell out of the hoist because only one carer was there",
    # Welsh
    "cafodd ei gadael ar y llawr am awr", "ddaeth neb pan wasgodd e'r gloch drwy'r nos",
    "rhoddon nhw'r feddyginiaeth anghywir iddo", "roedd hi ar y llawr am ddwy awr", "heb fwyd am ddau ddiwrnod",
    "cafodd y dos anghywir", "gollyngodd y gofalwyr fy mam", "roedd mam yn cael tabledi rhywun arall",
]
COMPLAINTS = [
    "I waited an hour to be seen", "we waited 4 hours in A&E", "the buzzer rang for 20 minutes before anyone came",
    "I pressed the buzzer and a nurse came straight away", "nobody came to see us for an hour", "my prescription was late",
    "my daughter fell asleep on the floor", "the floor was wet in the toilets", "I dropped my prescription off at the pharmacy",
    "the nurse dropped me a text", "they dropped me home", "I went to the wrong clinic", "they sent the letter to the wrong address",
    "my prescription was wrong twice", "the call bells are too loud at night", "the ward manager should be on the floor more",
    "I had to wait days for my tablets", "we were on the floor for ages doing the jigsaw with the kids",
    "nobody answered the phone for an hour", "the pharmacist gave me the right medication quickly",
    "I had a fall last year and the team was great", "I am allergic to penicillin and they checked it twice",
    "pressure sores were spotted early and treated", "I was given the wrong appointment time",
    "they gave me the wrong information about parking", "no food options for vegans all day",
    # Welsh: 'waited an hour to see a doctor', 'no answer on the phone for an hour', 'nobody answered the phone', 'drop me home'
    "aros am awr i weld meddyg", "dim ateb ar y ffon am awr", "wnaeth neb ateb y ffon", "gollwng fi adre plis",
]

INCIDENTS_IN_THE_CORPORA = {
    "My mum was left in soiled sheets for hours",
    "My nan waited 11 hours for an ambulance after she fell in the kitchen. She was on the floor the whole time.",
    "Dad had a pressure sore by day four because no one was turning him. It was so painful for him.",
    "the pharmacy gave her the wrong strength of her main medicine",
    "We were never told mum had a fall on the ward, we only found out from the bruises.",
    "in agony, no painkillers for hours",
    "Discharge letter had the wrong medication on it and my GP didnt know what I was supposed to be taking.",
    "the pharmacy gave me the wrong strength of sertraline",
}
"""Every message in tests/data and nlp/safety_reference.csv the incident patterns flag, each read
and judged an incident (a long lie after a fall, a pressure sore from no turning, a dispensing
error, a fall not told of, pain relief withheld, a wrong discharge medication), matched by a part."""


@pytest.mark.parametrize("text", INCIDENTS)
def test_an_incident_is_read(text: str) -> None:
    assert incident_match(text), text


@pytest.mark.parametrize("text", COMPLAINTS)
def test_a_complaint_about_waiting_or_an_ordinary_mistake_is_no_incident(text: str) -> None:
    assert incident_match(text) is None, text


def _corpus() -> list[str]:
    texts: list[str] = []
    for path in [*sorted(DATA.glob("*.csv")), ROOT / "nlp" / "safety_reference.csv"]:
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)]
    for path in sorted([*DATA.glob("*.txt"), *DATA.glob("*/*.yaml")]):
        texts += path.read_text(encoding="utf-8").splitlines()
    return texts


def test_no_false_alarm_in_any_corpus_in_tests_data() -> None:
    texts = _corpus()
    assert len(texts) > 2000
    flagged = [text for text in texts if incident_match(text)]
    unexpected = [text for text in flagged if not any(known in text for known in INCIDENTS_IN_THE_CORPORA)]
    assert unexpected == []
    assert all(any(known in text for text in flagged) for known in INCIDENTS_IN_THE_CORPORA), "each listed one is still read"


def test_a_risk_is_flagged_as_that_risk_first() -> None:
    check = check_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    assert check is not None
    risk = check("nobody came when he pressed the buzzer and now he is not breathing")
    assert risk is not None and risk.category == "medical" and risk.signposted
    incident = check("nobody came when he pressed the buzzer all night")
    assert incident is not None and incident.category == PATIENT_SAFETY and not incident.signposted
    assert lexicon_match("nobody came when he pressed the buzzer all night") is None  # not a crisis


def test_the_alert_names_the_incident() -> None:
    said = flag_text(Concern(PATIENT_SAFETY, "matched 'left on the floor'"), 7, "she was left on the floor for an hour")
    assert said.startswith("possible patient-safety incident (inbound 7): matched 'left on the floor'")


# ----------------------------------------------------------------------------- through the service


def _flags(database: Database) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "safeguarding").order_by(FLAGS.c.id)).scalars())


def _signposted(service: ConversationService, result: ReceiveResult) -> int:
    return sum(row.kind == "signposting" for row in service.outbox_for(result.participant_id or ""))


def test_an_incident_told_flags_for_the_coordinator_without_signposting(service: ConversationService, say: Say, database: Database) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    for text in ("WAIT", "yes", "1", "2"):
        say(text)
    told = say("My dad was left on the floor for an hour and nobody came when he pressed the buzzer")
    assert _signposted(service, told) == 0
    flags = _flags(database)
    assert len(flags) == 1 and flags[0].startswith("possible patient-safety incident")
    risk = say("and now I just want to end my life")
    assert _signposted(service, risk) == 1, "a risk after an incident is signposted, not taken as sent already"
    assert len(_flags(database)) == 2
