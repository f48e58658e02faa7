"""A participant who writes while quiet hours hold a message to them (S19).

Before: a flow started at night (by the schedule, a Delphi round or a coordinator) had its
question held "quiet hours: held until 08:00", and the participant's "hi" at 23:00 was read as
the answer to that question they had never seen ("Please reply YES or NO."), the question still
held. Now writing shows they are awake: what was held goes at once, and what they wrote is not
read as the answer to a question not yet delivered. A held reminder of a question they were sent
before is different: their message answers the question they saw. STOP, LATER and HELP act at once.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.dispatch_rules import QUIET_PREFIX
from flows.engine import Resume
from storage import repository
from storage.quiet_holds import ASKED_IN_REPLY, NO_LONGER_ASKED
from storage.tables import ANSWERS, OUTBOUND
from tests.conftest import EXAMPLE_STUDY
from tests.test_dispatcher import STUDY, Recorder, dispatcher

NIGHT = datetime(2025, 3, 1, 22, 30, tzinfo=UTC)  # 22:30 in London: the example study's quiet hours (21:00-08:00)
ROUND = """\
flow: round
title: Round one
steps:
  - id: rate
    type: delphi
    text: Score each from 1 to 9
    delphi: care
    round: 1
    items:
      - {id: parking, text: Parking near the clinic}
      - {id: waiting, text: Short waits}
  - id: done
    type: end
    text: Thank you.
"""


@pytest.fixture
def example_study_path(tmp_path: Path) -> Path:
    """The example study (quiet hours 21:00-08:00) with a Delphi round besides its flows."""
    folder = tmp_path / "ae-waiting"
    shutil.copytree(EXAMPLE_STUDY, folder)
    (folder / "round.yaml").write_text(ROUND, encoding="utf-8")
    study = folder / "study.yaml"
    text = study.read_text(encoding="utf-8").replace("flows: [understand.yaml,", "flows: [round.yaml, understand.yaml,")
    study.write_text(text, encoding="utf-8")
    return folder


def _outbox(service: Any, pid: str) -> list[tuple[int, str, str | None, str, str | None, str]]:
    """(id, status, error, kind, step id, text) of the participant's messages, in order."""
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        return [(int(r[0]), str(r[1]), r[2], str(r[3]), r[4], str(r[5])) for r in connection.execute(
            select(o.id, o.status, o.error, o.kind, o.step_id, o.text).where(o.participant_id == pid).order_by(o.id))]


def _answers(service: Any, pid: str) -> list[tuple[str, str | None, str]]:
    a = ANSWERS.c
    with service.database.transaction() as connection:
        return [(str(r[0]), r[1], str(r[2])) for r in connection.execute(
            select(a.step_id, a.item, a.raw).where(a.participant_id == pid).order_by(a.id))]


def _held(service: Any, pid: str) -> list[tuple[int, str, str | None, str, str | None, str]]:
    return [row for row in _outbox(service, pid) if row[1] == "held" and (row[2] or "").startswith(QUIET_PREFIX)]


def _send(service: Any, clock: Any, channel: Recorder) -> None:
    asyncio.run(dispatcher(service, clock, channel).drain())


def _joined_then_started_at_night(service: Any, say: Callable[..., Any], clock: Any, channel: Recorder, flow: str) -> str:
    """Joined by day (the consent of 'understand' went out), then ``flow`` started at 22:30: its
    first question held by quiet hours."""
    pid: str = say("WAIT", channel=channel.name).participant_id
    _send(service, clock, channel)
    clock.now = NIGHT
    assert service.start_flow(pid, STUDY, flow)
    _send(service, clock, channel)
    assert any(row[3] == "prompt" for row in _held(service, pid)), "the question is held through quiet hours"
    clock.advance(timedelta(minutes=30))
    return pid


@pytest.mark.parametrize("on", ["sms", "whatsapp"])
def test_writing_at_night_brings_the_held_question_and_is_not_read_as_its_answer(
        service: Any, say: Callable[..., Any], clock: Any, on: str) -> None:
    channel = Recorder(on)
    pid = _joined_then_started_at_night(service, say, clock, channel, "understand")
    held = _held(service, pid)
    answers, sent = _answers(service, pid), len(channel.sent)

    result = say("hi", channel=on)
    _send(service, clock, channel)

    assert result.status == "processed"
    assert [m.text for m, _ in channel.sent[sent:]] == [row[5] for row in held], "the held messages, in order, and nothing else"
    assert not any(row[3] == "retry" for row in _outbox(service, pid)), "no 'Please reply YES or NO.'"
    assert _answers(service, pid) == answers, "'hi' answered no question they had seen"
    assert not _held(service, pid)

    say("YES", channel=on)  # now they have seen it, the answer counts
    assert ("consent", None, "YES") in _answers(service, pid)


def test_a_held_reminder_of_a_question_already_sent_does_not_swallow_the_answer(
        service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    clock.now = datetime(2025, 3, 1, 20, 0, tzinfo=UTC)
    pid = say("WAIT").participant_id
    _send(service, clock, sms)
    with service.database.transaction() as connection:
        session = repository.latest_session(connection, pid)
    assert session is not None and session.state["step"] == "consent"
    clock.now = NIGHT
    service.resume(session.id, Resume())  # the consent's reminder, held until 08:00
    _send(service, clock, sms)
    reminder = _held(service, pid)
    assert [row[3] for row in reminder] == ["reminder"]
    clock.advance(timedelta(minutes=30))
    sent = len(sms.sent)

    say("YES")
    _send(service, clock, sms)

    assert ("consent", None, "YES") in _answers(service, pid), "the answer to the question they were sent counts"
    rows = {row[0]: row for row in _outbox(service, pid)}
    assert rows[reminder[0][0]][1:3] == ("cancelled", NO_LONGER_ASKED), "the reminder of an answered question never goes"
    assert [m.text for m, _ in sms.sent[sent:]] and all("Reply YES" not in m.text for m, _ in sms.sent[sent:])
    assert any(row[4] == "role" and row[1] == "sent" for row in rows.values()), "the next question went at once"


def test_a_held_delphi_item_is_not_answered_by_a_message_about_the_one_before(
        service: Any, say: Callable[..., Any], clock: Any) -> None:
    """Each Delphi item is asked under its step's id: the first item having been sent does not
    mean the second, held, was seen. (The second is held here by a dispatcher that takes nothing
    as a reply, as when the reply to a voice note goes out long after it was sent.)"""
    sms = Recorder("sms")
    pid = _joined_then_started_at_night(service, say, clock, sms, "round")
    say("hello")  # brings the first item
    _send(service, clock, sms)
    clock.now = datetime(2025, 3, 1, 23, 30, tzinfo=UTC)
    say("7")
    asyncio.run(dispatcher(service, clock, sms, reply_window=timedelta(seconds=-1)).drain())
    second = _held(service, pid)
    assert [(row[3], row[4]) for row in second] == [("prompt", "rate")] and "Short waits" in second[0][5]
    clock.advance(timedelta(minutes=20))
    answers, sent = _answers(service, pid), len(sms.sent)

    say("8")
    _send(service, clock, sms)

    assert _answers(service, pid) == answers, "'8' was not the score of an item they had not seen"
    assert [m.text for m, _ in sms.sent[sent:]] == [second[0][5]]
    say("8")
    assert [(step, item) for step, item, raw in _answers(service, pid) if raw == "8" and item] == [("rate", "waiting")]


def test_stop_at_night_stops_and_the_held_question_never_goes(service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    pid = _joined_then_started_at_night(service, say, clock, sms, "understand")
    sent = len(sms.sent)
    say("STOP")
    _send(service, clock, sms)
    assert [row[3] for row in _outbox(service, pid) if row[1] == "sent"][-1] == "stopped"
    assert len(sms.sent) == sent + 1, "only the STOP confirmation goes"
    clock.now = datetime(2025, 3, 2, 8, 0, 5, tzinfo=UTC)
    _send(service, clock, sms)
    assert len(sms.sent) == sent + 1, "nor anything when the quiet hours end"
    assert not any(row[1] == "queued" for row in _outbox(service, pid))


def test_later_at_night_puts_the_unseen_question_off(service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    pid = _joined_then_started_at_night(service, say, clock, sms, "understand")
    held = _held(service, pid)
    answers, sent = _answers(service, pid), len(sms.sent)
    say("LATER")
    _send(service, clock, sms)
    rows = {row[0]: row for row in _outbox(service, pid)}
    assert rows[held[-1][0]][1:3] == ("cancelled", NO_LONGER_ASKED), "the put-off question waits for the snooze"
    assert sms.sent[sent:] and all(m.text != held[-1][5] for m, _ in sms.sent[sent:]), "the snooze's reply went at once"
    assert _answers(service, pid) == answers


def test_help_at_night_answers_and_asks_the_held_question_once(service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    pid = _joined_then_started_at_night(service, say, clock, sms, "understand")
    question = _held(service, pid)[-1]
    sent = len(sms.sent)
    say("HELP")
    _send(service, clock, sms)
    texts = [m.text for m, _ in sms.sent[sent:]]
    assert any("BACK" in text for text in texts), "the help reply went at once"
    assert sum(text == question[5] for text in texts) == 1, "the question went once, with the help"
    assert {row[0]: row for row in _outbox(service, pid)}[question[0]][1:3] == ("cancelled", ASKED_IN_REPLY)
