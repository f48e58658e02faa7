"""A follow-up never cuts into a conversation the participant is in (bot/starting.py,
bot/planning.conversation_hold), on SQLite and PostgreSQL. A follow-up already due when
someone joins (six weeks after a birth eight weeks ago; a Delphi round whose ``at:`` passed)
used to start within seconds, replacing the join flow: its remaining questions were never
asked and the participant's next reply was taken by the follow-up. Two follow-ups due
together both started, one left waiting forever. Now a follow-up waits until the
conversation ends, or goes three hours without a reply (the step's own ``timeout`` when
longer), and two due together go one after the other."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.planning import CONVERSATION_CHECK, CONVERSATION_IDLE, Conversation, conversation_hold
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import due_tasks
from storage.database import Database
from storage.tables import ANSWERS, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY = """study: postnatal
title: Postnatal check-in
languages: [en]
timezone: Europe/London
quiet_hours: "21:00-08:00"
join: {{start_flow: welcome, keyword: NEWBORN}}
flows: [welcome.yaml, sixweeks.yaml, feeding.yaml, round1.yaml]
schedule:
{schedule}"""
WELCOME = """flow: welcome
steps:
  - id: consent
    type: consent
    text: Hello. Reply YES to take part.
  - id: birth_date
    type: open
    text: What date was your baby born?
    save_to: participant.birth_date
  - id: feeding
    type: choice
    text: How are you feeding your baby?
    options: [Breast, Bottle, Both]
{timeout}  - id: support
    type: scale
    text: How well supported do you feel?
    min: 1
    max: 5
  - id: thanks
    type: end
    text: Thank you for joining.
"""
SIXWEEKS = """flow: sixweeks
steps:
  - id: check
    type: yesno
    text: Have you had your six-week check?
  - id: mood
    type: scale
    text: How has your mood been?
    min: 1
    max: 5
  - id: bye
    type: end
    text: Thank you for the six-week check.
"""
FEEDING = """flow: feeding
steps:
  - id: going
    type: yesno
    text: Is feeding going well?
  - id: bye
    type: end
    text: Thank you for the feeding check.
"""
ROUND1 = """flow: round1
steps:
  - id: rate
    type: delphi
    delphi: care
    round: 1
    items: [Continuity of carer]
  - id: done
    type: end
    text: Thank you for round 1.
"""
SIX_WEEKS = "  - flow: sixweeks\n    after: 6w\n    relative_to: participant.birth_date\n    grace: 28d\n"
NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # a Thursday morning; the baby is eight weeks old
ADDRESS = "+447700900301"


class Postnatal:
    """The tester's postnatal study on one database, with a hand-moved clock."""

    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.clock = database, FakeClock(NOW)
        self.registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, self.registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, self.registry, self.clock)
        self._ids = itertools.count(1)

    def say(self, text: str) -> str:
        result = self.service.receive(InboundMessage("sms", ADDRESS, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def later(self, delta: timedelta) -> None:
        self.clock.now += delta
        self.scheduler.tick()

    def sent(self, pid: str) -> list[str]:
        return [m.text.splitlines()[0] for m in self.service.outbox_for(pid)]

    def sessions(self, pid: str) -> list[tuple[str, str]]:
        with self.database.transaction() as connection:
            rows = connection.execute(select(SESSIONS.c.flow_id, SESSIONS.c.status)
                                      .where(SESSIONS.c.participant_id == pid).order_by(SESSIONS.c.id)).all()
        return [(str(flow), str(status)) for flow, status in rows]

    def answers(self, pid: str) -> dict[str, object]:
        with self.database.transaction() as connection:
            rows = connection.execute(select(ANSWERS.c.flow_id, ANSWERS.c.step_id, ANSWERS.c.value)
                                      .where(ANSWERS.c.participant_id == pid).order_by(ANSWERS.c.id)).all()
        return {f"{flow}/{step}": value for flow, step, value in rows}

    def follow_up(self, pid: str, flow: str) -> due_tasks.TaskRow:
        with self.database.transaction() as connection:
            found = [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "follow_up" and t.flow_id == flow]
        assert len(found) == 1, found
        return found[0]


def _study(database: Database, tmp_path: Path, schedule: str = SIX_WEEKS, timeout: str = "") -> Postnatal:
    folder = tmp_path / "postnatal"
    folder.mkdir()
    files = {"study.yaml": STUDY.format(schedule=schedule), "welcome.yaml": WELCOME.format(timeout=timeout),
             "sixweeks.yaml": SIXWEEKS, "feeding.yaml": FEEDING, "round1.yaml": ROUND1}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Postnatal(database, folder)


def _join(study: Postnatal, born: str = "1 October 2026") -> str:
    pid = study.say("NEWBORN")
    study.say("YES")
    study.say(born)
    study.later(timedelta(seconds=5))  # one tick: planned from the birth date, and already due
    return pid


# ----------------------------------------------------------------------------- the tester's case


def test_a_follow_up_already_due_waits_for_the_join_conversation_to_end(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path)
    pid = _join(study)
    task = study.follow_up(pid, "sixweeks")
    assert not task.done and "waits for the conversation in welcome to end" in task.payload["waits_for"]
    assert study.sent(pid)[-1] == "How are you feeding your baby?", "the six-week check did not cut in"
    study.say("Breast")
    study.later(CONVERSATION_CHECK)
    assert not study.follow_up(pid, "sixweeks").done, "still answering: the next question was just asked"
    study.say("4")
    assert study.sent(pid)[-1] == "Thank you for joining."
    study.later(CONVERSATION_CHECK)
    assert study.follow_up(pid, "sixweeks").done and study.follow_up(pid, "sixweeks").error is None
    study.say("yes")
    assert study.sent(pid)[-2:] == ["Have you had your six-week check?", "How has your mood been?"]
    answers = study.answers(pid)
    assert answers["welcome/feeding"] == "Breast" and answers["welcome/support"] == 4
    assert answers["sixweeks/check"] == "yes"
    assert study.sessions(pid) == [("welcome", "ended"), ("sixweeks", "waiting")], "nothing replaced"


def test_a_follow_up_goes_once_the_conversation_is_left_for_three_hours(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path)
    pid = _join(study)
    study.later(CONVERSATION_IDLE - timedelta(minutes=10))
    assert not study.follow_up(pid, "sixweeks").done
    study.later(timedelta(minutes=15))
    assert study.follow_up(pid, "sixweeks").done and study.follow_up(pid, "sixweeks").error is None
    assert study.sessions(pid) == [("welcome", "replaced"), ("sixweeks", "waiting")]
    assert study.sent(pid)[-1] == "Have you had your six-week check?"


def test_a_step_that_waits_longer_for_its_answer_keeps_the_follow_up_waiting_as_long(database: Database, tmp_path: Path) -> None:
    timeout = "    timeout: 12h\n    on_timeout: thanks\n"
    study = _study(database, tmp_path, timeout=timeout)
    pid = _join(study)
    study.later(timedelta(hours=6))
    task = study.follow_up(pid, "sixweeks")
    assert not task.done and "12 hours without a reply" in task.payload["waits_for"]
    study.say("Both")
    study.say("5")
    study.later(CONVERSATION_CHECK)
    assert study.follow_up(pid, "sixweeks").done
    assert study.sessions(pid) == [("welcome", "ended"), ("sixweeks", "waiting")]


def test_a_snoozed_conversation_keeps_the_follow_up_until_it_is_asked_again_and_answered(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path)
    pid = study.say("NEWBORN")
    study.say("YES")
    study.say("1 October 2026")
    study.say("tomorrow")  # the feeding question, snoozed to tomorrow morning
    study.later(timedelta(seconds=5))
    task = study.follow_up(pid, "sixweeks")
    assert not task.done and "snoozed until" in task.payload["waits_for"]
    study.later(timedelta(hours=5))
    assert not study.follow_up(pid, "sixweeks").done, "they asked to be asked tomorrow, not to be sent something else"
    study.clock.now = datetime(2026, 11, 27, 9, 0, tzinfo=UTC)
    study.later(timedelta(seconds=1))
    assert study.sent(pid)[-1].startswith("How are you feeding your baby?")
    assert not study.follow_up(pid, "sixweeks").done
    study.say("Bottle")
    study.say("3")
    study.later(CONVERSATION_CHECK)
    assert study.follow_up(pid, "sixweeks").done
    assert study.answers(pid)["welcome/feeding"] == "Bottle"
    assert study.sessions(pid) == [("welcome", "ended"), ("sixweeks", "waiting")]


def test_two_follow_ups_due_together_go_one_after_the_other(database: Database, tmp_path: Path) -> None:
    schedule = SIX_WEEKS + "  - flow: feeding\n    after: 6w\n    relative_to: participant.birth_date\n    grace: 28d\n"
    study = _study(database, tmp_path, schedule)
    pid = _join(study)
    study.say("Breast")
    study.say("4")
    study.later(CONVERSATION_CHECK)
    sixweeks, feeding = study.follow_up(pid, "sixweeks"), study.follow_up(pid, "feeding")
    assert sixweeks.done and not feeding.done
    assert "waits for sixweeks, sent at the same time, to end" in feeding.payload["waits_for"]
    assert [status for _, status in study.sessions(pid)].count("waiting") == 1
    study.later(CONVERSATION_CHECK)
    assert not study.follow_up(pid, "feeding").done, "the six-week check was only just sent"
    study.say("yes")
    study.say("4")
    study.later(CONVERSATION_CHECK)
    assert study.follow_up(pid, "feeding").done and study.follow_up(pid, "feeding").error is None
    study.say("no")
    assert study.sessions(pid) == [("welcome", "ended"), ("sixweeks", "ended"), ("feeding", "ended")]
    assert study.sent(pid)[-1] == "Thank you for the feeding check."


def test_a_delphi_round_whose_date_passed_waits_for_the_join_conversation(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path, "  - flow: round1\n    at: 2026-11-20T09:00\n")
    pid = study.say("NEWBORN")
    study.say("YES")
    study.later(timedelta(seconds=5))
    assert not study.follow_up(pid, "round1").done
    study.say("1 October 2026")
    study.say("Breast")
    study.later(CONVERSATION_CHECK)
    study.say("4")  # "How well supported do you feel?": not a Delphi score
    study.later(CONVERSATION_CHECK)
    assert study.follow_up(pid, "round1").done
    assert study.answers(pid)["welcome/support"] == 4 and "round1/rate" not in study.answers(pid)
    study.say("7")
    assert study.answers(pid)["round1/rate"] is not None
    assert study.sent(pid)[-1] == "Thank you for round 1."


def test_a_held_round_that_closes_meanwhile_is_dropped_with_the_reason(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path, "  - flow: round1\n    at: 2026-11-20T09:00\n    closes: 2026-11-26T11:00\n")
    pid = study.say("NEWBORN")
    study.say("YES")
    study.later(timedelta(seconds=5))
    for _ in range(4):  # answering now and then, so the conversation stays in progress past the close
        study.later(timedelta(minutes=20))
        study.say("What date?")
    study.later(CONVERSATION_CHECK)
    task = study.follow_up(pid, "round1")
    assert task.done and task.error is not None and "the round closed at 2026-11-26 11:00" in task.error
    assert [flow for flow, _ in study.sessions(pid)] == ["welcome"]


def test_quiet_hours_still_hold_a_follow_up_whose_conversation_ended_late(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path)
    study.clock.now = datetime(2026, 11, 26, 20, 50, tzinfo=UTC)
    pid = _join(study)
    study.say("Breast")
    study.later(timedelta(minutes=8))
    study.say("4")  # finished at 20:58
    study.later(CONVERSATION_CHECK)  # 21:03: quiet hours
    task = study.follow_up(pid, "sixweeks")
    assert not task.done and task.due_at == datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert "waits_for" not in task.payload, "it waits for the morning now, not for a conversation"
    study.clock.now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    study.later(timedelta(seconds=1))
    assert study.follow_up(pid, "sixweeks").done and study.sent(pid)[-1] == "Have you had your six-week check?"


def test_schedule_explain_says_why_a_follow_up_waits(database: Database, tmp_path: Path) -> None:
    from bot.commands.schedule import schedule

    study = _study(database, tmp_path)
    pid = _join(study)
    result = CliRunner().invoke(schedule, ["explain", pid, "--database", database.url])
    assert result.exit_code == 0, result.output
    assert "send sixweeks (waits for the conversation in welcome to end, or to go 3 hours without a reply)" in result.output


# ----------------------------------------------------------------------------- the rule, on its own


@pytest.mark.parametrize(("conversation", "expected"), [
    (Conversation("welcome", NOW - timedelta(minutes=1)), NOW + CONVERSATION_CHECK),
    (Conversation("welcome", NOW - CONVERSATION_IDLE + timedelta(minutes=2)), NOW + timedelta(minutes=2)),
    (Conversation("welcome", NOW - CONVERSATION_IDLE), None),
    (Conversation("welcome", NOW - timedelta(hours=5), step_timeout=timedelta(hours=6)), NOW + CONVERSATION_CHECK),
    (Conversation("welcome", NOW - timedelta(days=3), step_timeout=timedelta(days=7)), None),
    (Conversation("welcome", NOW - timedelta(hours=1), step_timeout=timedelta(minutes=10)), NOW + CONVERSATION_CHECK),
    (Conversation("welcome", NOW - timedelta(days=1), comes_back=NOW + timedelta(days=1)), NOW + CONVERSATION_CHECK),
    (Conversation("welcome", NOW - timedelta(days=1), comes_back=NOW - timedelta(hours=4)), None),
])
def test_a_conversation_holds_a_follow_up_until_it_goes_idle(conversation: Conversation, expected: datetime | None) -> None:
    held = conversation_hold([conversation], NOW)
    assert (held[0] if held else None) == expected


def test_no_conversation_holds_nothing() -> None:
    assert conversation_hold([], NOW) is None
