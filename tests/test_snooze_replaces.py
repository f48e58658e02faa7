"""Busy staff snoozing and answering at odd hours: a new snooze replaces the last one, a
question held overnight is not sent once it has been answered, polite global words still
work, and a bare LATER says when it will ask again. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.dispatch_rules import NO_LONGER_ASKED
from bot.scheduler import Scheduler
from bot.service import ConversationService
from flows.engine import Engine, Resume, TextInput
from flows.loader import load_study
from flows.words import Words
from storage import due_tasks, outbox, repository
from storage.tables import OUTBOUND
from tests.db_fixtures import FakeClock
from tests.test_dispatcher import Recorder, dispatcher

EVALUATION = Path(__file__).resolve().parent.parent / "flows" / "examples" / "evaluation"
ROLE = "Which best describes you?"
VISITS = "How many times have you been to A&E in the last year?"


def scheduler(service: ConversationService, clock: FakeClock) -> Scheduler:
    return Scheduler(service.database, service, service.studies, clock)


def snoozes(service: ConversationService, pid: str) -> list[due_tasks.TaskRow]:
    with service.database.transaction() as connection:
        return [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "snooze"]


def sent(service: ConversationService, pid: str, kind: str | None = None) -> list[str]:
    return [m.text.splitlines()[0] for m in service.outbox_for(pid) if kind is None or m.kind == kind]


def session_id(service: ConversationService, pid: str) -> int:
    with service.database.transaction() as connection:
        session = repository.latest_session(connection, pid)
    assert session is not None
    return session.id


def tick_at(service: ConversationService, clock: FakeClock, moment: datetime) -> None:
    clock.now = moment
    ticking = scheduler(service, clock)
    ticking.tick()
    ticking.tick()


# ----------------------------------------------------------------------------- a new snooze replaces the last


def test_a_new_snooze_replaces_the_last_so_only_the_time_last_told_is_kept(
    service: ConversationService, say: Callable[..., Any], clock: FakeClock,
) -> None:
    pid = say("WAIT").participant_id
    say("YES")
    say("in 2 hours")
    say("tomorrow")
    assert sent(service, pid)[-1] == "No problem. We'll ask again tomorrow at 09:00. Reply any time to carry on."
    tick_at(service, clock, datetime(2025, 3, 1, 12, 0, 30, tzinfo=UTC))
    assert sent(service, pid, "reminder") == [], "the replaced 2-hour snooze asked anyway"
    tick_at(service, clock, datetime(2025, 3, 2, 9, 0, 30, tzinfo=UTC))
    assert sent(service, pid, "reminder") == [ROLE]
    first, last = snoozes(service, pid)
    assert first.done and first.error == due_tasks.REPLACED_SNOOZE
    assert last.done and last.error is None


def test_saying_later_again_and_again_leaves_one_snooze_pending(service: ConversationService, say: Callable[..., Any]) -> None:
    pid = say("WAIT").participant_id
    say("YES")
    for _ in range(5):
        say("LATER")
    pending = [t for t in snoozes(service, pid) if not t.done]
    assert len(pending) == 1 and len(snoozes(service, pid)) == 5


def test_an_earlier_snooze_left_pending_by_an_older_version_does_not_fire(
    service: ConversationService, say: Callable[..., Any], clock: FakeClock,
) -> None:
    """Tasks written before snoozes replaced each other: the older one is dropped when due."""
    pid = say("WAIT").participant_id
    say("YES")
    say("in 2 hours")
    earlier = snoozes(service, pid)[0]
    later = {"kind": "snooze", "participant_id": pid, "study_id": earlier.study_id, "flow_id": earlier.flow_id,
             "session_id": earlier.session_id, "payload": {"step": "role"}, "due_at": datetime(2025, 3, 2, 9, 0, tzinfo=UTC),
             "attempts": 0, "done": False, "created_at": clock.now}
    with service.database.transaction() as connection:
        repository.add_due_tasks(connection, [later])  # as the old code did: no cancelling
    tick_at(service, clock, earlier.due_at + timedelta(seconds=30))
    assert sent(service, pid, "reminder") == []
    assert snoozes(service, pid)[0].error == "dropped: replaced by a later snooze"


def test_a_snooze_made_at_an_earlier_question_does_not_fire(
    service: ConversationService, say: Callable[..., Any], clock: FakeClock,
) -> None:
    pid = say("WAIT").participant_id
    say("YES")
    say("1")
    say("tomorrow")  # snoozed at 'visits'
    stale = {"kind": "snooze", "participant_id": pid, "study_id": "ae-waiting", "flow_id": "understand",
             "session_id": session_id(service, pid), "payload": {"step": "role"},
             "due_at": clock.now + timedelta(hours=2), "attempts": 0, "done": False, "created_at": clock.now}
    with service.database.transaction() as connection:
        repository.add_due_tasks(connection, [stale])
    tick_at(service, clock, clock.now + timedelta(hours=2, seconds=30))
    assert sent(service, pid, "reminder") == [], "a snooze for the role question re-asked the visits question early"
    role = next(task for task in snoozes(service, pid) if task.payload["step"] == "role")
    assert role.error == "dropped: the session moved on since the snooze was made"


# ----------------------------------------------------------------------------- quiet hours


def statuses(service: ConversationService, pid: str) -> list[tuple[str, str, str | None]]:
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        query = select(o.kind, o.status, o.error).where(o.participant_id == pid).order_by(o.id)
        return [(r[0], r[1], r[2]) for r in connection.execute(query)]


def queue_info(service: ConversationService, pid: str, text: str, now: datetime) -> None:
    """An information message for the session's current question (as a help reply would be)."""
    o, session = OUTBOUND.c, session_id(service, pid)
    with service.database.transaction() as connection:
        contact_id = connection.execute(select(o.contact_id).where(o.participant_id == pid).limit(1)).scalar_one()
        outbox.queue(connection, [{"participant_id": pid, "contact_id": contact_id, "channel": "sms", "study_id": "ae-waiting",
                                   "session_id": session, "text": text, "buttons": [], "multiple": False, "kind": "info",
                                   "step_id": "role",
                                   "created_at": now}])


def test_a_question_held_overnight_and_answered_meanwhile_is_cancelled_not_sent(
    service: ConversationService, say: Callable[..., Any], clock: FakeClock,
) -> None:
    sms = Recorder("sms")
    pid = say("WAIT").participant_id
    say("YES")
    asyncio.run(dispatcher(service, clock, sms).drain())
    clock.now = datetime(2025, 3, 1, 22, 30, tzinfo=UTC)  # quiet in London
    service.resume(session_id(service, pid), Resume("snooze"))
    queue_info(service, pid, "Some news about the study.", clock.now)
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert [s for _, s, _ in statuses(service, pid)][-2:] == ["held", "held"]
    clock.now = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)
    say("1")  # answers the held question anyway: the next one goes at once
    asyncio.run(dispatcher(service, clock, sms).drain())
    clock.now = datetime(2025, 3, 2, 8, 0, 5, tzinfo=UTC)
    asyncio.run(dispatcher(service, clock, sms).drain())
    texts = [m.text.splitlines()[0] for m, _ in sms.sent]
    assert texts.count(ROLE) == 1 and VISITS in texts, texts
    # information held overnight still goes, once: at 07:00 with the next question, since writing
    # shows the participant is awake (quiet hours keep people from being woken, not from replies)
    assert texts.count("Some news about the study.") == 1, texts
    reminder = next(row for row in statuses(service, pid) if row[0] == "reminder")
    assert reminder[1:] == ("cancelled", NO_LONGER_ASKED)


def test_a_question_held_overnight_and_snoozed_meanwhile_is_cancelled(
    service: ConversationService, say: Callable[..., Any], clock: FakeClock,
) -> None:
    sms = Recorder("sms")
    pid = say("WAIT").participant_id
    say("YES")
    asyncio.run(dispatcher(service, clock, sms).drain())
    clock.now = datetime(2025, 3, 1, 22, 30, tzinfo=UTC)
    service.resume(session_id(service, pid), Resume("reminder"))
    asyncio.run(dispatcher(service, clock, sms).drain())
    clock.now = datetime(2025, 3, 2, 7, 0, tzinfo=UTC)
    say("in 3 hours")
    clock.now = datetime(2025, 3, 2, 8, 0, 5, tzinfo=UTC)
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert [m.text.splitlines()[0] for m, _ in sms.sent].count(ROLE) == 1
    assert statuses(service, pid)[-2][:2] == ("reminder", "cancelled")


# ----------------------------------------------------------------------------- polite global words


@pytest.mark.parametrize(("said", "meaning"), [
    ("please delete my data", "erase"), ("delete my data please", "erase"), ("Delete my data, please.", "erase"),
    ("forget me please", "erase"), ("please forget me", "erase"), ("go back please", "back"), ("please go back", "back"),
    ("remind me later please", "later"), ("not now thanks", "later"), ("dileu fy nata os gwelwch yn dda", "erase"),
    ("yn ôl plis", "back"), ("Stop please", "stop"), ("stop it", "stop"),
])
def test_polite_words_around_a_global_phrase_keep_its_meaning(said: str, meaning: str) -> None:
    assert Words().command(said) == meaning


@pytest.mark.parametrize("said", [
    "stop making us wait", "please stop the noise at night", "back pain please", "please delete nothing", "thank you",
    "Just me", "please go back to the start of the queue", "forget it",
])
def test_sentences_with_global_words_in_them_are_not_commands(said: str) -> None:
    assert Words().command(said) is None


@pytest.mark.parametrize(("said", "language"), [
    ("English please", "en"), ("Welsh please", "cy"), ("Cymraeg plis", "cy"), ("please, cymraeg", "cy"),
    ("language cy please", "cy"), ("language please", True), ("Cymraeg os gwelwch yn dda", "cy"),
])
def test_polite_words_around_a_language_switch_keep_it(said: str, language: str | bool) -> None:
    assert Words().language_switch(said) == language


def test_polite_global_phrases_are_not_stored_as_answers(service: ConversationService, say: Callable[..., Any]) -> None:
    pid = say("WAIT").participant_id
    say("YES")
    say("Cymraeg plis")
    assert sent(service, pid)[-2] == "Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen."
    say("please delete my data")
    assert service.outbox_for(pid)[-1].kind == "erase_confirm"


# ----------------------------------------------------------------------------- a bare LATER says when


def test_a_bare_later_says_when_it_will_ask_again(service: ConversationService, say: Callable[..., Any]) -> None:
    pid = say("WAIT").participant_id
    say("YES")
    say("later")  # 10:00 GMT: the default two hours
    assert sent(service, pid)[-1] == "No problem. We'll ask again at 12:00. Reply any time to carry on."
    say("Cymraeg")
    say("wedyn")
    assert sent(service, pid)[-1] == "Dim problem. Fe ofynnwn ni eto am 12:00. Atebwch unrhyw bryd i barhau."


def test_a_study_that_words_its_own_later_reply_keeps_it() -> None:
    loaded = load_study(EVALUATION)
    texts = {**loaded.study.texts, "later": {"en": "Righto, we'll be in touch."}}
    engine = Engine(loaded.flows["welcome"].flow, loaded.study.model_copy(update={"texts": texts}))
    now = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)
    state = engine.handle(engine.start(now).state, TextInput("yes"), now).state
    assert [m.text for m in engine.handle(state, TextInput("later"), now).messages()] == ["Righto, we'll be in touch."]
