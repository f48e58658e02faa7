"""A WhatsApp message held because the 24-hour window had closed (no approved template) goes out
once the participant writes again, which opens the window; what they wrote answers no question
they have seen, so it is not taken as an answer (before, the held question stayed held for ever
and the participant's "Hi, anything else?" got "Please reply with a number" for a question they
never received, and was counted as a try)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from sqlalchemy import select

from bot.dispatch_rules import NO_TEMPLATE
from storage.tables import ANSWERS, OUTBOUND
from tests.test_dispatcher import STUDY, Recorder, dispatcher


def _outbox(service: Any, pid: str) -> list[tuple[int, str, str | None, str]]:
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        return [(int(r[0]), str(r[1]), r[2], str(r[3]))
                for r in connection.execute(select(o.id, o.status, o.error, o.text).where(o.participant_id == pid).order_by(o.id))]


def _answers(service: Any, pid: str) -> list[tuple[str, str]]:
    a = ANSWERS.c
    with service.database.transaction() as connection:
        return [(str(r[0]), str(r[1])) for r in connection.execute(select(a.step_id, a.raw).where(a.participant_id == pid))]


def test_a_message_held_by_the_closed_window_goes_once_the_participant_writes(
        service: Any, say: Callable[..., Any], clock: Any) -> None:
    whatsapp = Recorder("whatsapp")
    pid = say("WAIT", channel="whatsapp").participant_id
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    clock.advance(timedelta(hours=30))
    service.start_flow(pid, STUDY, "vision")
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    held = [row for row in _outbox(service, pid) if row[1] == "held"]
    assert held and all((row[2] or "").startswith(NO_TEMPLATE) for row in held)
    answers_before, sent_before = _answers(service, pid), len(whatsapp.sent)

    say("Hi, did you want anything else from me?", channel="whatsapp")
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    assert [m.text for m, _ in whatsapp.sent[sent_before:]] == [row[3] for row in held], "the held messages, in order"
    assert all(status == "sent" for _, status, _, _ in _outbox(service, pid)), "nothing left held, no hint sent"
    assert _answers(service, pid) == answers_before, "what they wrote answered no question they had seen"


def test_stop_while_messages_are_held_still_stops(service: Any, say: Callable[..., Any], clock: Any) -> None:
    whatsapp = Recorder("whatsapp")
    pid = say("WAIT", channel="whatsapp").participant_id
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    clock.advance(timedelta(hours=30))
    service.start_flow(pid, STUDY, "vision")
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    sent_before = len(whatsapp.sent)
    say("STOP", channel="whatsapp")
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        kinds = [str(r[0]) for r in connection.execute(select(o.kind).where(o.participant_id == pid, o.status == "sent")
                                                         .order_by(o.id))]
    assert len(whatsapp.sent) == sent_before + 1 and kinds[-1] == "stopped", "only the STOP confirmation goes"
    assert not any(status == "queued" for _, status, _, _ in _outbox(service, pid))
    assert any(status == "held" for _, status, _, _ in _outbox(service, pid)), "the held question stays held"
