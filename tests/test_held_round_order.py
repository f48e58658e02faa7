"""A Delphi round held for the round before keeps the order the coordinator wrote
(bot/firing.py, bot/planning_holds.order_hold), on SQLite and PostgreSQL. With round 2 due a
minute after joining, co-design at two and a choice experiment at three, a participant still
answering round 1 had round 2 put back by a fixed 30 minutes, while co-design and the DCE,
held only by "the conversation", went as soon as round 1 ended: some got the DCE first, or
co-design before round 2. Now round 2 looks again as often as a follow-up held for a
conversation, so it goes within minutes of round 1's end, and the follow-ups that fell due
after it wait behind it and go after it, in the order they fell due."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select

from bot.planning_holds import (
    CONVERSATION_CHECK,
    ORDER_STEP,
    ROUND_CHECK,
    Queued,
    RoundSent,
    order_hold,
    round_look_again,
)
from storage import due_tasks
from storage.database import Database
from storage.due_tasks import moment
from storage.tables import SESSIONS
from tests.test_schedule_rounds import JOINED, ClockedStudy

STUDY = """study: maternity
title: Maternity methods
languages: [en]
timezone: Europe/London
join: {{start_flow: round1, keyword: MUM}}
flows: [round1.yaml, round2.yaml, codesign.yaml, dce.yaml]
schedule:
{schedule}"""
SCHEDULE = ("  - flow: round2\n    after: 1m\n"
            "  - flow: codesign\n    after: 2m\n"
            "  - flow: dce\n    after: 3m\n")
ROUND = """flow: round{n}
steps:
  - id: rate
    type: delphi
    delphi: mat
    round: {n}
    items: [Same midwife, Feeding support]
  - id: done
    type: end
    text: Thank you for round {n}.
"""
CODESIGN = """flow: codesign
steps:
  - id: idea
    type: yesno
    text: Would a named midwife help?
  - id: done
    type: end
    text: Thank you for the co-design.
"""
DCE = """flow: dce
steps:
  - id: pick
    type: choice
    text: Which would you choose?
    options: [Clinic A, Clinic B]
  - id: done
    type: end
    text: Thank you for choosing.
"""
TICK = timedelta(seconds=30)
FOLLOW_UPS = ("round2", "codesign", "dce")


class Maternity(ClockedStudy):
    """The tester's methods study on one database, with a hand-moved clock."""

    def say(self, address: str, *texts: str) -> str:
        pid = ""
        for text in texts:
            pid = self.receive(address, text)
        return pid

    def later(self, delta: timedelta = TICK) -> None:
        super().later(delta)

    def until(self, done: Callable[[], bool], limit: timedelta) -> datetime:
        """Tick every ``TICK`` until ``done``; when it became so (fails after ``limit``)."""
        start = self.clock.now
        while not done():
            assert self.clock.now - start <= limit, f"not within {limit}"
            self.later()
        return self.clock.now

    def sessions(self, pid: str) -> list[tuple[str, str, datetime]]:
        """(flow, status, started at) of each session of the participant, in the order they started."""
        s = SESSIONS.c
        with self.database.transaction() as connection:
            rows = connection.execute(select(s.flow_id, s.status, s.started_at).where(s.participant_id == pid).order_by(s.id)).all()
        return [(str(flow), str(status), moment(started)) for flow, status, started in rows]

    def flows(self, pid: str) -> list[str]:
        return [flow for flow, _, _ in self.sessions(pid)]

    def enrolled_at(self, pid: str) -> datetime:
        with self.database.transaction() as connection:
            return due_tasks.people(connection, {(pid, "maternity")})[(pid, "maternity")].enrolled_at


def _study(database: Database, tmp_path: Path) -> Maternity:
    folder = tmp_path / "maternity"
    folder.mkdir()
    files = {"study.yaml": STUDY.format(schedule=SCHEDULE), "round1.yaml": ROUND.format(n=1), "round2.yaml": ROUND.format(n=2),
             "codesign.yaml": CODESIGN, "dce.yaml": DCE}
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return Maternity(database, folder)


# ----------------------------------------------------------------------------- the tester's case


def test_someone_still_in_round_one_gets_round_two_then_codesign_then_dce(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path)
    slow = "+447700900102"
    pid = study.say(slow, "MUM")
    study.until(lambda: study.clock.now - JOINED > timedelta(minutes=3, seconds=30), timedelta(minutes=4))
    assert study.flows(pid) == ["round1"], "nothing cut into round 1"
    held = {flow: study.follow_up(pid, flow) for flow in FOLLOW_UPS}
    assert not any(task.done for task in held.values())
    assert "waits for round 1 of Delphi 'mat' to be finished" in held["round2"].payload["waits_for"]
    assert held["codesign"].payload["waits_for"] == "waits for round2, due before it, to go first"
    assert held["dce"].payload["waits_for"] == "waits for round2, due before it, to go first"
    assert held["round2"].due_at - study.clock.now <= CONVERSATION_CHECK, "it looks again within minutes, not half an hour"

    study.say(slow, "7", "8")  # round 1 ends, late
    ended = study.clock.now
    assert study.sessions(pid)[0][:2] == ("round1", "ended")
    sent = study.until(lambda: "round2" in study.flows(pid), CONVERSATION_CHECK + TICK)
    assert sent - ended <= CONVERSATION_CHECK + TICK, "round 2 goes within minutes of round 1's end"
    assert study.flows(pid) == ["round1", "round2"], "round 2 first: co-design and the DCE did not overtake it"

    study.later(CONVERSATION_CHECK * 2)
    assert study.flows(pid) == ["round1", "round2"], "nothing cuts into round 2 either"
    study.say(slow, "7", "7")
    study.until(lambda: "codesign" in study.flows(pid), CONVERSATION_CHECK + TICK)
    assert study.flows(pid) == ["round1", "round2", "codesign"], "co-design (due at 2m) before the DCE (due at 3m)"
    study.say(slow, "yes")
    study.until(lambda: "dce" in study.flows(pid), CONVERSATION_CHECK + TICK)
    assert [(flow, status) for flow, status, _ in study.sessions(pid)] == [
        ("round1", "ended"), ("round2", "ended"), ("codesign", "ended"), ("dce", "waiting")], "one after the other, none replaced"
    assert all(study.follow_up(pid, flow).done and study.follow_up(pid, flow).error is None for flow in FOLLOW_UPS)


def test_someone_who_finished_round_one_in_time_gets_each_at_its_time(database: Database, tmp_path: Path) -> None:
    study = _study(database, tmp_path)
    prompt = "+447700900103"
    pid = study.say(prompt, "MUM", "7", "8")
    joined = study.enrolled_at(pid)
    answers = {"round2": ("7", "7"), "codesign": ("yes",), "dce": ("Clinic B",)}
    for minutes, flow in enumerate(FOLLOW_UPS, start=1):
        study.until(lambda flow=flow: flow in study.flows(pid), timedelta(minutes=1) + TICK)  # type: ignore[misc]
        started = study.sessions(pid)[-1][2]
        assert timedelta(0) <= started - (joined + timedelta(minutes=minutes)) <= TICK + timedelta(seconds=5), flow
        assert "waits_for" not in study.follow_up(pid, flow).payload, f"{flow} was never held"
        study.say(prompt, *answers[flow])
    assert [(flow, status) for flow, status, _ in study.sessions(pid)] == [
        ("round1", "ended"), ("round2", "ended"), ("codesign", "ended"), ("dce", "ended")]


def test_both_at_once_keep_their_own_order(database: Database, tmp_path: Path) -> None:
    """A late participant's held round does not hold anyone else's follow-ups."""
    study = _study(database, tmp_path)
    slow, prompt = "+447700900105", "+447700900106"
    late, quick = study.say(slow, "MUM"), study.say(prompt, "MUM", "7", "8")
    study.until(lambda: "round2" in study.flows(quick), timedelta(minutes=1, seconds=30))
    study.say(prompt, "7", "7")
    study.until(lambda: "codesign" in study.flows(quick), timedelta(minutes=1, seconds=30))
    assert study.flows(late) == ["round1"]
    study.say(slow, "7", "8")
    study.until(lambda: "round2" in study.flows(late), CONVERSATION_CHECK + TICK)
    assert study.flows(late) == ["round1", "round2"]


def test_a_round_one_left_unfinished_still_lets_round_two_go_first_after_the_wait(database: Database, tmp_path: Path) -> None:
    """The safety net: round 1 never ends; round 2 goes after its two days, then the others in order."""
    study = _study(database, tmp_path)
    slow = "+447700900107"
    pid = study.say(slow, "MUM")
    for _ in range(47):  # the scheduler ticks on through the two days (a jump of a day would miss the grace)
        study.later(timedelta(hours=1))
    assert study.flows(pid) == ["round1"]
    study.later(timedelta(hours=1))
    study.until(lambda: "round2" in study.flows(pid), CONVERSATION_CHECK + TICK)
    assert study.flows(pid) == ["round1", "round2"], "round 2 first, though round 1 was left"
    study.say(slow, "5", "5")
    study.until(lambda: "codesign" in study.flows(pid), CONVERSATION_CHECK + TICK)
    study.say(slow, "no")
    study.until(lambda: "dce" in study.flows(pid), CONVERSATION_CHECK + TICK)
    assert [(flow, status) for flow, status, _ in study.sessions(pid)] == [
        ("round1", "replaced"), ("round2", "ended"), ("codesign", "ended"), ("dce", "waiting")]


# ----------------------------------------------------------------------------- the rule, on its own


NOW = datetime(2026, 5, 1, 12, 0, tzinfo=UTC)


def _queued(task_id: int, minutes: int, looks_again: datetime, in_order: bool = True) -> Queued:
    return Queued(task_id, f"flow{task_id}", NOW + timedelta(minutes=minutes), looks_again, in_order)


def test_a_follow_up_waits_behind_held_ones_that_fell_due_before_it() -> None:
    soon, later = NOW + timedelta(minutes=4), NOW + timedelta(minutes=5)
    queue = [_queued(1, 1, soon), _queued(2, 2, later), _queued(3, 3, NOW)]
    assert order_hold(3, NOW + timedelta(minutes=3), queue, NOW) == (later, queue[0]), "until the last of them looks again"
    assert order_hold(2, NOW + timedelta(minutes=2), queue, NOW) == (soon, queue[0])
    assert order_hold(1, NOW + timedelta(minutes=1), queue, NOW) is None, "the first goes"


def test_only_held_follow_ups_that_fell_due_before_hold_one() -> None:
    assert order_hold(9, NOW, [_queued(1, 1, NOW)], NOW) is None, "fell due after it"
    assert order_hold(9, NOW + timedelta(minutes=5), [_queued(1, 1, NOW, in_order=False)], NOW) is None, "not held in order"
    assert order_hold(9, NOW + timedelta(minutes=5), [_queued(9, 1, NOW)], NOW) is None, "not itself"
    going = [_queued(1, 1, NOW - timedelta(minutes=1))]
    assert order_hold(9, NOW + timedelta(minutes=5), going, NOW) == (NOW + ORDER_STEP, going[0]), "behind one going now: next tick"


def test_two_that_fell_due_together_never_wait_for_each_other() -> None:
    both = [_queued(1, 1, NOW), _queued(2, 1, NOW)]
    assert order_hold(1, NOW + timedelta(minutes=1), both, NOW) is None
    assert order_hold(2, NOW + timedelta(minutes=1), both, NOW) is not None


def test_a_held_round_looks_again_as_often_as_a_follow_up_held_for_a_conversation() -> None:
    answering = RoundSent("round1", NOW - timedelta(hours=1), live=True)
    safety_net = NOW + ROUND_CHECK
    assert round_look_again(safety_net, answering, NOW) == NOW + CONVERSATION_CHECK < safety_net
    assert round_look_again(NOW + timedelta(minutes=2), answering, NOW) == NOW + timedelta(minutes=2), "its wait ends sooner"
    assert round_look_again(safety_net, None, NOW) == safety_net, "the round before is still to be sent"
