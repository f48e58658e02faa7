"""The safeguarding safety net inside conversations: signposting at once, a flag for the
coordinator, and the answer kept as it was."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from bot.safeguarding import check_from_env, checks_from_env, concern_about
from bot.service import ConversationService, ReceiveResult
from storage.database import Database
from storage.tables import ANSWERS, FLAGS

Say = Callable[..., ReceiveResult]
STORY = "Honestly I can't go on like this, I just want to end my life"


def _reach_the_story(say: Say, address: str = "+447700900001") -> None:
    for text in ("WAIT", "yes", "1", "2"):
        say(text, address=address)


def _texts(service: ConversationService, result: ReceiveResult) -> list[tuple[str, str]]:
    rows = {row.id: row for row in service.outbox_for(result.participant_id or "")}
    return [(rows[i].kind, rows[i].text) for i in result.outbox_ids]


def _flags(database: Database) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(FLAGS.c.kind, FLAGS.c.message, FLAGS.c.participant_id)))


@pytest.fixture
def patterns_only(service: ConversationService) -> ConversationService:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    return service


def test_a_message_suggesting_risk_gets_signposting_at_once_and_a_flag(
    patterns_only: ConversationService, say: Say, database: Database,
) -> None:
    _reach_the_story(say)
    result = say(STORY)
    sent = _texts(patterns_only, result)
    assert ("signposting", next(t for k, t in sent if k == "signposting")) in sent
    signposting = next(t for k, t in sent if k == "signposting")
    assert "116 123" in signposting and "111" in signposting, "the study's own signposting text is sent"
    assert any(k == "prompt" for k, _ in sent), "the conversation carries on"
    flags = [f for f in _flags(database) if f.kind == "safeguarding"]
    assert len(flags) == 1 and flags[0].participant_id == result.participant_id
    assert "suicide" in flags[0].message and "+44" not in flags[0].message
    with database.transaction() as connection:
        stored = connection.execute(select(ANSWERS.c.value).where(ANSWERS.c.step_id == "story")).scalar_one()
    assert stored == STORY, "the answer is stored exactly as given"


def test_ordinary_answers_and_idioms_raise_nothing(patterns_only: ConversationService, say: Say, database: Database) -> None:
    _reach_the_story(say)
    result = say("The wait was killing me and I could murder a cup of tea")
    assert [k for k, _ in _texts(patterns_only, result)] == ["prompt"]
    assert not [f for f in _flags(database) if f.kind == "safeguarding"]


def test_after_stop_the_coordinator_is_still_told_but_nothing_is_sent(
    patterns_only: ConversationService, say: Say, database: Database,
) -> None:
    _reach_the_story(say)
    say("STOP")
    result = say("I took all my tablets an hour ago")
    assert result.outbox_ids == ()
    assert [f.kind for f in _flags(database)].count("safeguarding") == 1


def test_the_full_check_with_the_embedding_model_catches_indirect_phrasing() -> None:
    check = check_from_env({"CHORUS_SAFEGUARDING": "full"})
    concern = concern_about(check, "everyone would be better off without me")
    assert concern is not None and concern.category in ("suicide", "self_harm")
    assert concern_about(check, "The nurse was lovely and explained everything") is None
    assert concern_about(check_from_env({"CHORUS_SAFEGUARDING": "off"}), STORY) is None


def test_indirect_phrasing_the_patterns_miss_is_caught_in_the_background(
    service: ConversationService, say: Say, database: Database,
) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "full"})
    _reach_the_story(say)
    indirect = "Nobody would notice if I just disappeared for good"
    assert concern_about(service.safety.quick, indirect) is None, "this test needs a phrase the patterns miss"
    result = say(indirect)
    assert [k for k, _ in _texts(service, result)] == ["prompt"], "the conversation is not held up"
    service.wait_for_safeguarding()
    kinds = [row.kind for row in service.outbox_for(result.participant_id or "")]
    assert "signposting" in kinds, kinds
    assert [f.kind for f in _flags(database)].count("safeguarding") == 1
