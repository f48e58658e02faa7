"""A tap on a button answers only the question it was offered with, in the conversation it was
offered in: never the question of another study, another flow, or another run of the same
flow whose question has the same id at the same depth (every study opens with 'consent')."""

from __future__ import annotations

import itertools
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.engine import Engine, SessionState, TextInput, position
from flows.events import RecordAnswer, SendMessage, tap_data
from flows.model import Flow
from storage.database import Database
from storage.tables import ANSWERS, OUTBOUND
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
CONSENT = {"id": "consent", "type": "consent", "text": "Reply YES to take part."}
MOOD = {"id": "mood", "type": "scale", "text": "How are you today?", "min": 1, "max": 5}


def engine_for(flow_id: str, *steps: dict[str, Any]) -> Engine:
    ending = {"id": "bye", "type": "end", "text": "Thank you."}
    return Engine(Flow.model_validate({"flow": flow_id, "steps": [*steps, ending]}))


def tap(state: SessionState, message: SendMessage, value: str) -> TextInput:
    """A tap on ``message``'s button ``value``, as a channel hands it back (place and value)."""
    button = next(b for b in message.buttons if b.value == value)
    return TextInput.received(button.label, tap_data(button))


def recorded(engine: Engine, state: SessionState, given: TextInput) -> list[RecordAnswer]:
    return [e for e in engine.handle(state, given, NOW).events if isinstance(e, RecordAnswer)]


def test_a_tap_on_another_studys_consent_answers_nothing() -> None:
    first, second = engine_for("understand", CONSENT), engine_for("intake", CONSENT)
    asked_first, asked_second = first.start(NOW, seed=11), second.start(NOW, seed=12)
    old_consent = asked_first.messages()[0]
    assert recorded(second, asked_second.state, tap(asked_first.state, old_consent, "yes")) == []
    current = asked_second.messages()[0]
    assert [r.value for r in recorded(second, asked_second.state, tap(asked_second.state, current, "yes"))] == ["yes"]


def test_a_tap_on_another_flows_question_of_the_same_id_answers_nothing() -> None:
    """Two follow-ups of one study that both open with a 'mood' scale."""
    weekly, monthly = engine_for("weekly", MOOD), engine_for("monthly", MOOD)
    old, new = weekly.start(NOW, seed=5), monthly.start(NOW, seed=5)
    assert recorded(monthly, new.state, tap(old.state, old.messages()[0], "4")) == []
    assert [r.value for r in recorded(monthly, new.state, tap(new.state, new.messages()[0], "2"))] == [2]


def test_a_tap_on_an_earlier_run_of_the_same_flow_answers_nothing() -> None:
    """A weekly pulse sent again: each run has its own seed, so its own places."""
    pulse = engine_for("pulse", MOOD)
    last_week, this_week = pulse.start(NOW, seed=101), pulse.start(NOW, seed=202)
    assert position(last_week.state) != position(this_week.state)
    assert recorded(pulse, this_week.state, tap(last_week.state, last_week.messages()[0], "1")) == []


def test_a_stale_tap_is_passed_over_in_silence_and_the_question_stays() -> None:
    """The usual treatment of a tap on an earlier message: nothing said, nothing changed."""
    first, second = engine_for("understand", CONSENT), engine_for("intake", CONSENT, MOOD)
    old = first.start(NOW, seed=1)
    new = second.start(NOW, seed=2)
    sprint = second.handle(new.state, tap(old.state, old.messages()[0], "no"), NOW)
    assert sprint.events == [] and sprint.state == new.state


def test_a_tap_on_the_question_asked_now_still_answers_it_after_help() -> None:
    engine = engine_for("intake", CONSENT, MOOD)
    started = engine.start(NOW, seed=3)
    helped = engine.handle(started.state, TextInput("HELP"), NOW)
    assert position(helped.state) == position(started.state), "asking again keeps the place: its buttons still answer"
    assert [r.value for r in recorded(engine, helped.state, tap(started.state, started.messages()[0], "yes"))] == ["yes"]


# ----------------------------------------------------------------------------- through the service

CLINIC_INTAKE = {
    "flow": "intake",
    "steps": [
        {"id": "consent", "type": "consent", "text": "Diabetes clinic study. Reply YES to join."},
        {"id": "role", "type": "choice", "text": "Who are you?", "options": ["Patient", "Carer", "Staff"]},
        {"id": "bye", "type": "end", "text": "Thank you."},
    ],
}


def _clinic(folder: Path) -> Path:
    folder.mkdir(parents=True)
    (folder / "intake.yaml").write_text(yaml.safe_dump(CLINIC_INTAKE), encoding="utf-8")
    study = {"study": "clinic", "title": {"en": "Diabetes clinic"}, "languages": ["en"],
             "join": {"start_flow": "intake", "keyword": "SUGAR", "routes": [{"telegram": "sugar"}]}, "flows": ["intake.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    return folder


def _studies(tmp_path: Path, example_study_path: Path) -> Path:
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "ae-waiting").symlink_to(example_study_path, target_is_directory=True)
    _clinic(folder / "clinic")
    return folder


def _buttons_of_last(database: Database, text_start: str) -> list[dict[str, str]]:
    with database.read_transaction() as connection:
        rows = connection.execute(select(OUTBOUND.c.text, OUTBOUND.c.buttons).order_by(OUTBOUND.c.id)).all()
    buttons: list[dict[str, str]] = next(b for t, b in reversed(rows) if t.startswith(text_start))
    return buttons


def test_on_telegram_a_yes_tapped_on_one_studys_consent_does_not_consent_to_another(
    database: Database, clock: FakeClock, tmp_path: Path, example_study_path: Path,
) -> None:
    service = ConversationService(database, StudyRegistry.from_folder(_studies(tmp_path, example_study_path)), clock,
                                  address_key=TEST_ADDRESS_KEY, safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    ids = itertools.count(1)
    send: Callable[..., ReceiveResult] = lambda text, **extra: service.receive(  # noqa: E731
        InboundMessage("telegram", "9100", f"tg-{next(ids)}", text, **extra))
    send("/start wait", start_param="wait")
    ae_consent = _buttons_of_last(database, "Hello")
    send("/start sugar", start_param="sugar")
    clinic_consent = _buttons_of_last(database, "Diabetes clinic study")
    assert ae_consent[0]["value"] == clinic_consent[0]["value"] == "yes"
    assert ae_consent[0]["at"] != clinic_consent[0]["at"], "the same question in two studies has two places"

    send("Yes", button=f"{ae_consent[0]['at']}~yes")  # the A&E message, still on the phone
    with database.read_transaction() as connection:
        assert connection.execute(select(ANSWERS.c.step_id)).all() == [], "no consent recorded from another study's button"
    send("Yes", button=f"{clinic_consent[0]['at']}~yes")
    with database.read_transaction() as connection:
        assert connection.execute(select(ANSWERS.c.study_id, ANSWERS.c.step_id)).all() == [("clinic", "consent")]
    assert _buttons_of_last(database, "Who are you?")
