"""The safeguarding safety net inside conversations: signposting at once, a flag for the
coordinator, and the answer kept as it was."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.safeguarding import (
    WARM_UP_AFTER,
    BackgroundChecks,
    Concern,
    SafetyChecks,
    _threads,
    check_from_env,
    checks_from_env,
    concern_about,
)
from bot.service import ConversationService, ReceiveResult
from nlp.embed import limited_threads
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
    assert [k for k, _ in sent] == ["signposting", "prompt"], "who to call comes first, then the conversation carries on"
    flags = [f for f in _flags(database) if f.kind == "safeguarding"]
    assert len(flags) == 1 and flags[0].participant_id == result.participant_id
    assert "suicide" in flags[0].message and "+44" not in flags[0].message
    with database.transaction() as connection:
        stored = connection.execute(select(ANSWERS.c.value).where(ANSWERS.c.step_id == "story")).scalar_one()
    assert stored == STORY, "the answer is stored exactly as given"


def test_an_option_the_question_offered_is_never_taken_for_a_risk(service: ConversationService, say: Say, database: Database) -> None:
    """'Can't decide' or 'Carer or family', typed, answer the question: a model once read
    "can't decide" as "there's no reason to go on"."""
    service.safety = SafetyChecks(quick=lambda text: Concern("suicide", "a check that flags everything"))
    say("WAIT")
    say("yes")
    result = say("Carer or family")
    assert [kind for kind, _ in _texts(service, result)] == ["prompt"]
    assert not [f for f in _flags(database) if f.kind == "safeguarding"]
    result = say("I cannot cope with any of this")  # not an option: still read
    assert "signposting" in [kind for kind, _ in _texts(service, result)]


def test_in_a_quick_batch_the_signposting_is_committed_with_and_before_the_reply(
    patterns_only: ConversationService, database: Database,
) -> None:
    from channels.base import InboundMessage

    def batch(text: str, n: int) -> ReceiveResult:
        return patterns_only.accept_many([InboundMessage("sms", "+447700900001", f"b-{n}", text)], process=True)[0]

    for n, text in enumerate(("WAIT", "yes", "1", "2")):
        batch(text, n)
    result = batch(STORY, 9)
    assert [k for k, _ in _texts(patterns_only, result)] == ["signposting", "prompt"]
    assert [f.kind for f in _flags(database)].count("safeguarding") == 1, "flagged once, not again after the commit"


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


def test_global_words_are_never_taken_for_a_risk(service: ConversationService, say: Say, database: Database) -> None:
    """A check that sees risk everywhere (as a model may in 'forget me' or 'STOP STOP') is not
    asked about STOP, DELETE MY DATA and the like: no crisis text, no flag."""
    service.safety = SafetyChecks(quick=lambda text: Concern("suicide", "a check that flags everything"))
    _reach_the_story(say)
    for text in ("Stop please", "START", "remind me later", "DELETE MY DATA", "no"):
        result = say(text)
        assert "signposting" not in [kind for kind, _ in _texts(service, result)], text
    assert not [f for f in _flags(database) if f.kind == "safeguarding"]
    result = say("I have nothing left to live for")
    assert "signposting" in [kind for kind, _ in _texts(service, result)], "anything else is still checked"


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


# ----------------------------------------------------------------------------- warming up


def _recording_checks() -> tuple[list[str], BackgroundChecks]:
    """A background check whose warm-up and checks only write down what they did, and where."""
    events: list[str] = []

    def warm_up() -> None:
        events.append(f"warm up in {threading.current_thread().name}")

    def check(texts: list[str]) -> list[Concern | None]:
        events.append(f"check {texts}")
        return [None for _ in texts]

    return events, BackgroundChecks(check, lambda key, concern: None, warm_up=warm_up)


def test_a_started_background_check_warms_up_in_its_thread_before_any_message() -> None:
    events, background = _recording_checks()
    background.start(warm_up_after=0.01)
    assert background.warmed.wait(10)
    background.submit("k", "the first message")
    background.wait(10)
    assert events == ["warm up in chorus-safeguarding", "check ['the first message']"]


def test_a_message_before_the_warm_up_time_warms_up_at_once_then_is_checked() -> None:
    events, background = _recording_checks()
    background.start(warm_up_after=600)
    background.submit("k", "an early message")
    background.wait(10)
    assert events == ["warm up in chorus-safeguarding", "check ['an early message']"]


def test_a_stopping_server_does_not_start_the_warm_up() -> None:
    events, background = _recording_checks()
    background.cancel_warm_up()  # (before the start, so that no slow machine can race it)
    background.start(warm_up_after=0)
    assert background.warmed.wait(10)
    background.submit("k", "a late message")
    background.wait(10)
    assert events == ["check ['a late message']"], "the first check loads what it needs itself"


def test_without_a_start_the_first_message_warms_up_as_before() -> None:
    events, background = _recording_checks()
    background.submit("k", "hello there")
    background.wait(10)
    assert events == ["warm up in chorus-safeguarding", "check ['hello there']"]


def test_the_warm_up_and_thread_settings() -> None:
    full = checks_from_env({})
    assert full.warm_up is not None and full.warm_up_after == WARM_UP_AFTER
    assert checks_from_env({"CHORUS_SAFEGUARDING_WARM_UP": "off"}).warm_up_after is None
    assert checks_from_env({"CHORUS_SAFEGUARDING_WARM_UP": "2.5"}).warm_up_after == 2.5
    assert checks_from_env({"CHORUS_SAFEGUARDING_WARM_UP": "soon"}).warm_up_after == WARM_UP_AFTER
    assert checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}).warm_up is None
    assert _threads("") == 1 and _threads("3") == 3 and _threads("all") is None and _threads("many") == 1


def test_torch_threads_are_limited_inside_the_block_only() -> None:
    import torch

    before = torch.get_num_threads()
    with limited_threads(1):
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with limited_threads(None):
        assert torch.get_num_threads() == before


def test_a_server_in_full_mode_loads_the_model_in_the_background_and_patterns_answer_meanwhile(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The app's lifespan starts the warm-up; the real model loads in the safeguarding thread
    while the server answers, and a risky message gets its signposting from the patterns."""
    from fastapi.testclient import TestClient

    from bot.app import create_app
    from bot.settings import Settings
    from nlp import embed

    monkeypatch.setenv("CHORUS_SAFEGUARDING", "full")
    monkeypatch.setenv("CHORUS_SAFEGUARDING_WARM_UP", "0")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", key_file=tmp_path / "chorus.key",
                        data_key_file=tmp_path / "chorus-data.keys")
    with TestClient(create_app(settings)) as client:
        assert client.get("/health").status_code == 200
        service = client.app.state.chorus.service  # type: ignore[attr-defined]
        background = service._background
        assert background is not None and background._thread is not None, "the warm-up started with the server"
        session = client.post("/api/simulator/sessions", json={"study": "ae-waiting"}).json()["session"]
        for text in ("yes", "1", "2"):
            client.post(f"/api/simulator/sessions/{session}/messages", json={"text": text})
        reply = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": STORY}).json()
        assert any(m["kind"] == "signposting" for m in reply["messages"]), reply
        assert background.warmed.wait(300)
        assert embed._loaded is not None, "the model was loaded by the warm-up"


@pytest.mark.parametrize("word", ["overdose", "Suicidal.", "overdosed"])
def test_a_risk_said_in_one_word_is_read_by_the_patterns(
    patterns_only: ConversationService, say: Say, database: Database, word: str,
) -> None:
    """A one-word reply was never checked (the check wanted two words or more)."""
    _reach_the_story(say)
    result = say(word)
    assert [k for k, _ in _texts(patterns_only, result)][0] == "signposting"
    assert len([f for f in _flags(database) if f.kind == "safeguarding"]) == 1
