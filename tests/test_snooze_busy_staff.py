"""Busy staff putting a question off. A snooze was moved out of the quiet hours only: a 9-to-5
nurse who said "later" was asked again at 18:16 and 20:17, and a night worker saying
"tomorrow" at 09:00. Busy replies with no LATER word ("on shift til 8", "ask me later", "Im
busy rn", "yn y gwaith") used up tries, or were stored as the answer to a free-text question.
A snooze past the follow-up's closing was promised ("on Monday at 09:00"), then dropped as if
the participant had "carried on". Now a snooze lands in the contact hours and the window, a
busy reply snoozes, and a closing brings the snooze forward or is said honestly."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import RecordAnswer, ScheduleTask
from flows.loader import LoadedStudy, load_study
from flows.model import TimeWindow
from flows.schedule_timing import place_snooze
from flows.snooze import parse_snooze
from storage import due_tasks
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

LONDON = ZoneInfo("Europe/London")
STUDY = """study: shifts
title: Ward staff
languages: [en, cy]
timezone: Europe/London
quiet_hours: "21:00-08:00"
join: {start_flow: join, keyword: SHIFT}
flows: [join.yaml, pulse.yaml, check.yaml, where.yaml]
schedule:
  - flow: pulse
    after: 7d
    window: "09:00-19:00"
    closes: 3d
  - flow: check
    after: 7d
    window: "09:00-19:00"
    closes: 3d
  - flow: check
    after: 30d
    window: "09:00-19:00"
"""
JOIN = """flow: join
steps:
  - id: hours
    type: choice
    text: {en: When are you happy to get messages?, cy: Pryd ydych chi'n hapus i gael negeseuon?}
    options:
      - {value: "09:00-17:00", label: {en: 9am to 5pm, cy: 9yb i 5yh}}
      - {value: "19:00-07:00", label: {en: 7pm to 7am, cy: 7yh i 7yb}}
      - {value: "08:00-22:00", label: {en: Any time in the day, cy: Unrhyw bryd yn ystod y dydd}}
    save_to: participant.contact_hours
  - id: why
    type: open
    text: {en: What would make work better?, cy: Beth fyddai'n gwella gwaith?}
  - id: thanks
    type: end
    text: {en: Thank you., cy: Diolch.}
"""
PULSE = """flow: pulse
steps:
  - id: how
    type: scale
    text: {en: How was this week?, cy: Sut oedd yr wythnos hon?}
    min: 1
    max: 5
  - id: done
    type: end
    text: {en: Thanks., cy: Diolch.}
"""
CHECK = PULSE.replace("flow: pulse", "flow: check")
WHERE = """flow: where
steps:
  - id: where
    type: choice
    text: Where were you when it happened?
    options:
      - {value: work, label: Working}
      - {value: car, label: Driving to work}
      - {value: home, label: At home}
"""
JOINED = datetime(2026, 3, 10, 14, 10, tzinfo=UTC)  # Tuesday 14:10 GMT
DAY, NIGHT = "09:00-17:00", "19:00-07:00"


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("busy") / "shifts"
    root.mkdir()
    for name, text in (("study.yaml", STUDY), ("join.yaml", JOIN), ("pulse.yaml", PULSE), ("check.yaml", CHECK), ("where.yaml", WHERE)):
        (root / name).write_text(text, encoding="utf-8")
    return root


@pytest.fixture(scope="module")
def loaded(folder: Path) -> LoadedStudy:
    return load_study(folder)


def local(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%a %H:%M}"


# ----------------------------------------------------------------------------- the engine alone


def engine_of(loaded: LoadedStudy, flow: str) -> Engine:
    return Engine(loaded.flows[flow].flow, loaded.study, loaded.flows[flow].version)


def at(loaded: LoadedStudy, flow: str, step: str, hours: str | None = None, now: datetime = JOINED) -> tuple[Engine, SessionState]:
    engine = engine_of(loaded, flow)
    fields = {"contact_hours": hours} if hours else {}
    return engine, engine.start(now, fields=fields, at_step=step).state


def snoozed(sprint: Sprint) -> str | None:
    tasks = [e for e in sprint.events if isinstance(e, ScheduleTask) and e.kind == "snooze"]
    return local(tasks[0].at) if tasks else None


def said(sprint: Sprint) -> list[str]:
    return [m.text for m in sprint.messages()]


BUSY = ["on shift til 8", "after my shift", "after work", "ask me later", "I'm at work", "Im busy rn", "in a meeting",
        "driving", "at work", "on shift", "yn y gwaith", "ar shifft", "gofynnwch wedyn", "not now, driving",
        "in a meeting for another hour", "text me later"]


@pytest.mark.parametrize("text", BUSY)
def test_a_busy_reply_to_a_choice_question_snoozes_and_uses_no_try(loaded: LoadedStudy, text: str) -> None:
    engine, state = at(loaded, "join", "hours")
    sprint = engine.handle(state, TextInput(text), JOINED)
    assert snoozed(sprint) is not None, text
    assert sprint.state.status == "snoozed" and sprint.state.tries == 0
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer)]


@pytest.mark.parametrize(("text", "expected"), [
    ("on shift til 8", "Tue 20:00"),
    ("on shift till 8pm", "Tue 20:00"),
    ("ask me later", "Tue 16:10"),
    ("Im busy rn", "Tue 16:10"),
    ("after my shift", "Tue 18:00"),
    ("gofynnwch wedyn", "Tue 16:10"),
    ("ar shifft tan 6", "Tue 18:00"),
    ("on shift, ask me later", "Tue 16:10"),
])
def test_a_whole_busy_reply_to_a_free_text_question_snoozes_and_is_not_the_answer(
    loaded: LoadedStudy, text: str, expected: str,
) -> None:
    engine, state = at(loaded, "join", "why")
    sprint = engine.handle(state, TextInput(text), JOINED)
    assert snoozed(sprint) == expected
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer)], "not stored as the answer"


@pytest.mark.parametrize("text", [
    "at work", "driving", "yn y gwaith", "on shift", "in a meeting", "ar shifft",
    "I'm at work most days and the breaks are too short", "on shift til 8 with no break, every week",
])
def test_on_a_free_text_question_a_story_about_work_or_a_bare_place_is_the_answer(loaded: LoadedStudy, text: str) -> None:
    engine, state = at(loaded, "join", "why")
    sprint = engine.handle(state, TextInput(text), JOINED)
    assert snoozed(sprint) is None
    assert [e.value for e in sprint.events if isinstance(e, RecordAnswer)] == [text]


@pytest.mark.parametrize(("text", "value"), [("working", "work"), ("Working", "work"), ("at home", "home")])
def test_a_busy_word_that_is_an_option_answers_the_question(loaded: LoadedStudy, text: str, value: str) -> None:
    engine, state = at(loaded, "where", "where")
    sprint = engine.handle(state, TextInput(text), JOINED)
    assert snoozed(sprint) is None
    assert [e.value for e in sprint.events if isinstance(e, RecordAnswer)] == [value]


def test_til_eight_means_the_eight_inside_the_contact_hours() -> None:
    five_am = datetime(2026, 3, 10, 5, 0, tzinfo=UTC)
    plain = parse_snooze("on shift til 8", five_am, LONDON)
    nights = parse_snooze("on shift til 8", five_am, LONDON, contact=TimeWindow.parse(NIGHT))
    assert plain is not None and local(plain.until) == "Tue 08:00"
    assert nights is not None and local(nights.until) == "Tue 20:00"


def test_til_eight_is_read_on_the_participants_own_clock(loaded: LoadedStudy) -> None:
    engine = engine_of(loaded, "join")
    state = engine.start(JOINED, fields={"timezone": "America/New_York"}, at_step="hours").state  # 10:10 in New York
    sprint = engine.handle(state, TextInput("on shift til 8"), JOINED)
    task = [e for e in sprint.events if isinstance(e, ScheduleTask)][0]
    assert task.at == datetime(2026, 3, 11, 0, 0, tzinfo=UTC), "20:00 in New York (EDT)"
    assert said(sprint) == ["No problem. We'll ask again at 20:00. Reply any time to carry on."]


@pytest.mark.parametrize(("hours", "text", "expected", "reply"), [
    (DAY, "later", "Wed 09:00", "tomorrow at 09:00"),
    (DAY, "in 3 hours", "Wed 09:00", "tomorrow at 09:00"),
    (DAY, "on shift til 8", "Wed 09:00", "tomorrow at 09:00"),
    (NIGHT, "tomorrow", "Wed 19:00", "tomorrow at 19:00"),
    (NIGHT, "later", "Tue 19:00", "at 19:00"),
    (None, "later", "Tue 18:16", "at 18:16"),
])
def test_a_snooze_moves_into_the_contact_hours_and_the_window_and_says_when(
    loaded: LoadedStudy, hours: str | None, text: str, expected: str, reply: str,
) -> None:
    now = JOINED.replace(hour=16, minute=16)
    engine, state = at(loaded, "pulse", "how", hours, now)
    sprint = engine.handle(state, TextInput(text), now)
    assert snoozed(sprint) == expected
    assert said(sprint) == [f"No problem. We'll ask again {reply}. Reply any time to carry on."]


def test_a_welsh_busy_reply_gets_the_real_time_in_welsh(loaded: LoadedStudy) -> None:
    engine = engine_of(loaded, "pulse")
    state = engine.start(JOINED, language="cy", fields={"contact_hours": NIGHT}).state
    sprint = engine.handle(state, TextInput("dwi yn y gwaith"), JOINED)
    assert snoozed(sprint) == "Tue 19:00"
    assert said(sprint) == ["Dim problem. Fe ofynnwn ni eto am 19:00. Atebwch unrhyw bryd i barhau."]


def test_a_snooze_past_the_closing_comes_before_it_and_says_so(loaded: LoadedStudy) -> None:
    engine, state = at(loaded, "pulse", "how")  # sent Tue 14:10; closes Fri 14:10
    thursday = JOINED + timedelta(days=2, hours=3)
    sprint = engine.handle(state, TextInput("remind me monday"), thursday)
    assert snoozed(sprint) == "Fri 13:00"
    assert said(sprint) == ["No problem. This question closes tomorrow at 14:10, so we'll ask again tomorrow at 13:00. "
                            "Reply any time to carry on."]


def test_with_no_time_left_before_the_closing_it_says_so_and_leaves_the_question_open(loaded: LoadedStudy) -> None:
    engine, state = at(loaded, "pulse", "how")
    friday = JOINED + timedelta(days=3, hours=-1)  # 13:10, an hour before it closes
    sprint = engine.handle(state, TextInput("tomorrow"), friday)
    assert snoozed(sprint) is None
    assert sprint.state.status == "waiting"
    assert said(sprint) == ["Sorry, this question closes at 14:10, before we could ask again. You can reply now if you have a moment."]
    answered = engine.handle(sprint.state, TextInput("4"), friday)
    assert [e.value for e in answered.events if isinstance(e, RecordAnswer)] == [4]


def test_placing_a_snooze_keeps_an_hour_to_answer_and_half_an_hour_from_now() -> None:
    closes = datetime(2026, 3, 13, 10, 0, tzinfo=UTC)
    window = TimeWindow.parse("09:00-19:00")
    quiet = TimeWindow.parse("21:00-08:00")
    wanted = datetime(2026, 3, 16, 9, 0, tzinfo=UTC)
    early = place_snooze(wanted, datetime(2026, 3, 12, 17, 0, tzinfo=UTC), LONDON, window, quiet, None, closes)
    assert (early.at, early.closes) == (datetime(2026, 3, 13, 9, 0, tzinfo=UTC), closes)
    tight = place_snooze(wanted, datetime(2026, 3, 13, 8, 45, tzinfo=UTC), LONDON, window, quiet, None, closes)
    assert (tight.at, tight.closes) == (None, closes)
    free = place_snooze(wanted, datetime(2026, 3, 12, 17, 0, tzinfo=UTC), LONDON, window, quiet, None, None)
    assert (free.at, free.closes) == (wanted, None)


# ----------------------------------------------------------------------------- through the scheduler


class Ward:
    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.clock = database, FakeClock(JOINED)
        registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, registry, self.clock)
        self._ids = itertools.count(1)

    def say(self, text: str, address: str = "+447700900601") -> str:
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def run_until(self, moment: datetime, step: timedelta = timedelta(minutes=30)) -> None:
        while self.clock.now < moment:
            self.clock.now = min(moment, self.clock.now + step)
            self.scheduler.tick()

    def asked(self, pid: str, text: str) -> list[str]:
        """When (local) each message with ``text`` in it was queued."""
        return [local(m.created_at) for m in self.service.outbox_for(pid) if text in m.text]

    def tasks(self, pid: str, kind: str) -> list[due_tasks.TaskRow]:
        with self.database.transaction() as connection:
            return [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == kind]


def test_a_nine_to_five_nurse_saying_later_is_asked_again_only_in_her_hours(database: Database, folder: Path) -> None:
    ward = Ward(database, folder)
    pid = ward.say("SHIFT")
    ward.say("1")  # 9am to 5pm
    ward.say("Less paperwork")
    sent = JOINED + timedelta(days=7)
    ward.run_until(sent + timedelta(minutes=30))
    assert len(ward.asked(pid, "How was this week?")) == 1
    ward.clock.now = sent.replace(hour=16, minute=16)
    ward.say("later")
    ward.run_until(sent + timedelta(hours=19), step=timedelta(minutes=15))  # to Wednesday 09:10
    assert [local(t.due_at) for t in ward.tasks(pid, "snooze")] == ["Wed 09:00"]
    again = ward.asked(pid, "How was this week?")[1:]
    assert len(again) == 1 and again[0].startswith("Wed 09:"), f"not at 18:16 or 20:17: {again}"


def test_a_busy_reply_to_the_hours_question_keeps_it_for_later_not_skipped(database: Database, folder: Path) -> None:
    ward = Ward(database, folder)
    pid = ward.say("SHIFT", "+447700900602")
    for text in ("on shift til 8", "after work", "Im busy rn"):
        ward.say(text, "+447700900602")
    assert ward.service.session_status(pid) == "snoozed"
    assert not ward.asked(pid, "Let's leave that one")
    ward.clock.now = JOINED + timedelta(hours=6)
    ward.say("2", "+447700900602")  # 7pm to 7am
    ward.say("More staff", "+447700900602")
    ward.scheduler.tick()
    pulse = [t for t in ward.tasks(pid, "follow_up") if t.flow_id == "pulse"]
    assert [local(t.due_at) for t in pulse] == ["Tue 19:00"], "the contact hours were saved after all"


def test_a_snooze_past_a_closing_nobody_could_foresee_is_dropped_with_the_true_reason(database: Database, folder: Path) -> None:
    """'check' is sent by two schedules, one of which never closes: a snooze is not brought
    forward, and when the 7-day send closes first, the snooze says it closed."""
    ward = Ward(database, folder)
    address = "+447700900603"
    pid = ward.say("SHIFT", address)
    ward.say("3", address)
    ward.say("Nothing", address)
    ward.run_until(JOINED + timedelta(days=7, minutes=30))
    ward.say("4", address)  # the pulse or the check, whichever came first
    ward.run_until(JOINED + timedelta(days=7, hours=2))
    assert len(ward.asked(pid, "How was this week?")) == 2, "then the other"
    ward.clock.now = JOINED + timedelta(days=9, hours=3)  # Thursday 17:10
    ward.say("remind me monday", address)
    ward.run_until(JOINED + timedelta(days=13, hours=-4))  # Monday 10:10
    [snooze] = ward.tasks(pid, "snooze")
    assert snooze.error == "dropped: the follow-up closed before the snooze was due: its question was not asked again"
