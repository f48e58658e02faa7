"""A patient-safety incident and a risk told in one message: each is read on its own. The incident
flag never stops the risk check (the model in the background reads a message the patterns flagged
as an incident), and a message that is both gets both alerts, an incident alert and a risk alert,
and the crisis signposting the risk gives; never two alerts of one kind. The model reads what a
message says beside the incident (:func:`nlp.safety_incidents.beside_incident`): the story neither
hides a risk told with it nor reads as a crisis itself."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.safeguarding import (
    PATIENT_SAFETY,
    check_from_env,
    checks_from_env,
    concern_about,
    concerns_about,
)
from bot.service import ConversationService, ReceiveResult
from nlp.safety import lexicon_match
from nlp.safety_incidents import beside_incident, incident_match
from storage.database import Database
from storage.tables import FLAGS

Say = Callable[..., ReceiveResult]

HIDDEN_RISKS = [  # (the patterns read "had enough of being alive" since nlp/safety_indirect.py)
    "the nurse gave me the wrong tablets and I don't want to carry on living",
    "I was left in soiled sheets all night and I'm so tired of being on this earth",
    "nobody came when I pressed the buzzer all night and I lay there thinking it would be easier if I never woke up",
    "they gave me the wrong tablets last week and honestly nobody would notice if I just disappeared for good",
]
"""An incident the patterns flag, and a risk only the model reads (the patterns see no risk)."""
INCIDENTS_ALONE = [
    "Mum was left lying on the floor", "he wasn't fed for two days", "Dad went without his Parkinson's medication",
    "she was left on the floor for an hour and the ward was short staffed that night",
]
"""Incident stories with no risk in them, some of which the model, reading them whole, took for an emergency."""


def _reach_the_story(say: Say) -> None:
    for text in ("WAIT", "yes", "1", "2"):
        say(text)


def _flags(database: Database) -> list[str]:
    with database.transaction() as connection:
        query = select(FLAGS.c.message).where(FLAGS.c.kind == "safeguarding").order_by(FLAGS.c.id)
        return [str(message) for message in connection.execute(query).scalars()]


def _signposted(service: ConversationService, result: ReceiveResult) -> int:
    return sum(row.kind == "signposting" for row in service.outbox_for(result.participant_id or ""))


@pytest.mark.parametrize("text", HIDDEN_RISKS)
def test_the_examples_are_incidents_whose_risk_only_the_model_reads(text: str) -> None:
    assert incident_match(text) is not None and lexicon_match(text) is None
    concerns = concerns_about(checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}).quick, text)
    assert [concern.category for concern in concerns] == [PATIENT_SAFETY]


def test_an_incident_with_a_risk_only_the_model_reads_gets_both_alerts_and_the_signposting(
    service: ConversationService, say: Say, database: Database,
) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "full"})
    _reach_the_story(say)
    result = say(HIDDEN_RISKS[1])
    assert _signposted(service, result) == 0, "the patterns saw an incident, not a risk"
    service.wait_for_safeguarding(300)
    flags = _flags(database)
    assert len(flags) == 2, flags
    assert flags[0].startswith("possible patient-safety incident")
    assert flags[1].startswith(("possible suicide", "possible self harm")), flags[1]
    assert _signposted(service, result) == 1


def test_after_an_incident_alone_the_model_still_reads_the_next_one_for_risk(
    service: ConversationService, say: Say, database: Database,
) -> None:
    """An incident story with no risk in it: one alert and no signposting, once the model has read it
    too (whole, it took 'Mum was left lying on the floor' for an emergency); then one with a risk in it."""
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "full"})
    _reach_the_story(say)
    alone = say(INCIDENTS_ALONE[0])
    service.wait_for_safeguarding(300)
    assert len(_flags(database)) == 1 and _signposted(service, alone) == 0
    result = say(HIDDEN_RISKS[0])
    service.wait_for_safeguarding(300)
    flags = _flags(database)
    assert len(flags) == 3, flags
    assert all(flag.startswith("possible patient-safety incident") for flag in flags[:2])
    assert flags[2].startswith(("possible suicide", "possible self harm")), flags[2]
    assert _signposted(service, result) == 1


def test_the_risk_model_reads_what_is_said_beside_the_incident() -> None:
    check = check_from_env({"CHORUS_SAFEGUARDING": "full"})
    for text in HIDDEN_RISKS:
        concern = concern_about(check, text)
        assert concern is not None and concern.signposted, text
    for text in INCIDENTS_ALONE:
        concern = concern_about(check, text)
        assert concern is not None and concern.category == PATIENT_SAFETY, (text, concern)


def test_the_background_check_raises_no_incident_the_patterns_flagged_already() -> None:
    batch = checks_from_env({"CHORUS_SAFEGUARDING": "full"}).thorough_batch
    assert batch is not None
    found = batch([*INCIDENTS_ALONE, HIDDEN_RISKS[0]])
    assert found[:-1] == [None] * len(INCIDENTS_ALONE)
    last = found[-1]
    assert last is not None and last.signposted


def test_a_risk_the_patterns_read_in_an_incident_gets_both_alerts_at_once(
    service: ConversationService, say: Say, database: Database,
) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    _reach_the_story(say)
    text = "they gave him the wrong medication and now I just want to end my life"
    result = say(text)
    kinds = [row.kind for row in service.outbox_for(result.participant_id or "") if row.id in result.outbox_ids]
    assert kinds[0] == "signposting" and kinds.count("signposting") == 1, kinds
    flags = _flags(database)
    assert len(flags) == 2, flags
    assert flags[0].startswith("possible suicide") and flags[1].startswith("possible patient-safety incident")
    again = say("and they gave me the wrong dose, I just want to end my life")
    assert _signposted(service, again) == 1, "the signposting goes once in the hour"
    latest = _flags(database)[2:]
    assert len(latest) == 2 and "not sent the signposting again" in latest[0]
    assert "not sent the signposting again" not in latest[1], "an incident sends no signposting, so none was held back"


@pytest.mark.parametrize(("text", "beside"), [
    ("the nurse gave me the wrong tablets and I have had enough of being alive", "i have had enough of being alive"),
    ("Mum was left lying on the floor", ""),
    ("nobody came when he pressed the buzzer all night", ""),
    ("They gave dad someone else's tablets. We complained, but nobody listened", "we complained, nobody listened"),
    ("Cafodd y dos anghywir. Dw i wedi cael llond bol", "dw i wedi cael llond bol"),
    ("The nurse was lovely and explained everything", "The nurse was lovely and explained everything"),
])
def test_what_a_message_says_beside_an_incident(text: str, beside: str) -> None:
    assert beside_incident(text) == beside
