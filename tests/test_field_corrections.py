"""Correcting a participant's field by hand (bot/corrections.py): the `planning` alert for a
date nobody could read used to say "no follow-up is planned until it is corrected" with no way
to correct it. Now ``chorus participant set`` and ``POST /api/v1/studies/{study}/participants/
{id}/fields`` set the field, re-plan the follow-ups that depend on it, close the alert and keep
an audit record. On SQLite and PostgreSQL (the API on SQLite, as the desk's tests are)."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import select

from bot.commands.participant import participant as participant_cli
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import due_tasks
from storage.database import Database
from storage.tables import AUDIT_EVENTS, FLAGS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.desk_helpers import Desk, desk_app

STUDY = """study: postnatal
title: Postnatal check-in
languages: [en]
timezone: Europe/London
quiet_hours: "21:00-08:00"
groups: [parent, partner]
join: {start_flow: welcome, keyword: NEWBORN}
flows: [welcome.yaml, sixweeks.yaml, partners.yaml]
schedule:
  - flow: sixweeks
    after: 6w
    relative_to: participant.birth_date
    grace: 28d
  - flow: partners
    after: 2d
    groups: [partner]
"""
WELCOME = """flow: welcome
steps:
  - id: birth_date
    type: open
    text: What date was your baby born?
    save_to: participant.birth_date
  - id: thanks
    type: end
    text: Thank you.
"""
SIXWEEKS = """flow: sixweeks
steps:
  - id: check
    type: yesno
    text: Have you had your six-week check?
"""
PARTNERS = """flow: partners
steps:
  - id: how
    type: scale
    text: How are you finding it?
    min: 1
    max: 5
"""
NOW = datetime.now(UTC).replace(second=0, microsecond=0)
"""The command reads the real clock, so the clinic's starts there too; dates count back from it."""
LONDON = ZoneInfo("Europe/London")


def days_ago(days: int) -> date:
    return NOW.astimezone(LONDON).date() - timedelta(days=days)


def six_weeks_after(born: date) -> datetime:
    """When the follow-up is due: 09:00 on the wall clock, six weeks after the birth."""
    return datetime.combine(born + timedelta(weeks=6), time(9, 0), LONDON).astimezone(UTC)


def local(moment: datetime) -> str:
    return f"{moment.astimezone(LONDON):%a %Y-%m-%d %H:%M %Z}"


def _folder(root: Path) -> Path:
    folder = root / "postnatal"
    folder.mkdir(parents=True)
    for name, text in (("study.yaml", STUDY), ("welcome.yaml", WELCOME), ("sixweeks.yaml", SIXWEEKS), ("partners.yaml", PARTNERS)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


class Clinic:
    def __init__(self, database: Database, folder: Path) -> None:
        self.database, self.clock = database, FakeClock(NOW)
        self.registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, self.registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, self.registry, self.clock)
        self._ids = itertools.count(1)

    def join(self, born: str, address: str = "+447700900401") -> str:
        pid = self.say("NEWBORN", address)
        self.say(born, address)
        self.scheduler.tick()
        return pid

    def say(self, text: str, address: str = "+447700900401") -> str:
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def follow_ups(self, pid: str, flow: str) -> list[due_tasks.TaskRow]:
        with self.database.transaction() as connection:
            return [t for t in due_tasks.listing(connection, None, pid, include_done=True) if t.kind == "follow_up" and t.flow_id == flow]

    def flags(self, pid: str) -> list[tuple[str, bool, str | None]]:
        with self.database.transaction() as connection:
            rows = connection.execute(select(FLAGS.c.message, FLAGS.c.acknowledged, FLAGS.c.acknowledged_by)
                                      .where(FLAGS.c.participant_id == pid, FLAGS.c.kind == "planning")).all()
        return [(str(m), bool(a), b) for m, a, b in rows]

    def fields(self, pid: str) -> dict[str, object]:
        from storage import repository

        with self.database.transaction() as connection:
            return repository.load_participant(connection, pid).fields

    def set(self, *args: str) -> Result:
        return CliRunner().invoke(participant_cli, ["set", *args, "--database", self.database.url, "--by", "midwife"])


@pytest.fixture
def clinic(database: Database, tmp_path: Path) -> Clinic:
    return Clinic(database, _folder(tmp_path))


def test_a_date_nobody_could_read_is_corrected_and_its_follow_up_planned_and_sent(clinic: Clinic) -> None:
    pid = clinic.join("after my operation")
    assert clinic.follow_ups(pid, "sixweeks") == []
    [(message, acknowledged, _)] = clinic.flags(pid)
    assert f"chorus participant set {pid} birth_date YYYY-MM-DD --study postnatal" in message and not acknowledged
    born = days_ago(30)
    result = clinic.set(pid, "birth_date", f"{born.day} {born:%B %Y}", "--study", "postnatal")
    assert result.exit_code == 0, result.output
    assert f"set birth_date of {pid} in postnatal to (withheld: the field identifies someone)" in result.output
    assert clinic.fields(pid)["birth_date"] == born.isoformat(), "a date in words is saved as the day it means"
    due = six_weeks_after(born)
    assert f"planned: sixweeks: {local(due)}" in result.output and "closed 1 planning alert" in result.output
    assert clinic.flags(pid) == [(message, True, "cli:midwife")]
    [task] = clinic.follow_ups(pid, "sixweeks")
    assert task.due_at == due
    clinic.clock.now = task.due_at
    clinic.scheduler.tick()
    assert clinic.follow_ups(pid, "sixweeks")[0].done and clinic.follow_ups(pid, "sixweeks")[0].error is None
    with clinic.database.transaction() as connection:
        audit = connection.execute(select(AUDIT_EVENTS.c.actor, AUDIT_EVENTS.c.detail)
                                   .where(AUDIT_EVENTS.c.action == "participant_field_set")).all()
    assert [(actor, detail["participant"], detail["field"]) for actor, detail in audit] == [("cli:midwife", pid, "birth_date")]
    assert born.isoformat() not in str(audit[0][1]), "the audit keeps which field, never its value"


def test_a_wrong_date_moves_the_follow_up_not_yet_sent_without_a_second_one(clinic: Clinic) -> None:
    given, right = days_ago(30), days_ago(20)
    pid = clinic.join(f"{given:%d/%m/%Y}")
    assert [t.due_at for t in clinic.follow_ups(pid, "sixweeks")] == [six_weeks_after(given)]
    result = clinic.set(pid, "birth_date", right.isoformat())  # the only study they are in: --study not needed
    assert result.exit_code == 0, result.output
    assert f"moved: sixweeks: {local(six_weeks_after(right))}" in result.output
    assert [(t.due_at, t.done) for t in clinic.follow_ups(pid, "sixweeks")] == [(six_weeks_after(right), False)]


def test_a_follow_up_already_sent_is_not_sent_again_when_the_date_changes(clinic: Clinic) -> None:
    pid = clinic.join(f"{days_ago(50):%d/%m/%Y}")  # six weeks were up 8 days ago: inside the grace, sent now
    if NOW.astimezone(LONDON).hour >= 21 or NOW.astimezone(LONDON).hour < 8:  # (the real clock is in quiet hours:
        clinic.clock.advance(timedelta(hours=11))                            # it goes once they end)
        clinic.scheduler.tick()
    [sent] = clinic.follow_ups(pid, "sixweeks")
    assert sent.done and sent.error is None
    result = clinic.set(pid, "birth_date", days_ago(46).isoformat())
    assert result.exit_code == 0, result.output
    assert "planned:" not in result.output and "moved:" not in result.output
    assert len(clinic.follow_ups(pid, "sixweeks")) == 1


def test_a_group_set_by_hand_plans_what_that_group_is_sent(clinic: Clinic) -> None:
    pid = clinic.join(f"{days_ago(10):%d/%m/%Y}")
    assert clinic.follow_ups(pid, "partners") == []
    result = clinic.set(pid, "group", "Partner")
    assert result.exit_code == 0, result.output
    [task] = clinic.follow_ups(pid, "partners")
    assert "to partner" in result.output and f"planned: partners: {local(task.due_at)}" in result.output
    assert task.due_at >= NOW + timedelta(days=2) and not task.done


@pytest.mark.parametrize(("name", "value", "said"), [
    ("birth_date", "after my operation", "'after my operation' is not a date, and a schedule counts from birth_date"),
    ("group", "grandparent", "'grandparent' is not a group of postnatal: parent, partner"),
    ("contact_hours", "mornings", "'mornings' is not a time window"),
    ("timezone", "Mars/Olympus", "'Mars/Olympus' is not a time zone"),
    ("Birth Date", "2026-10-01", "'Birth Date' is not a field name"),
])
def test_a_value_the_clock_cannot_use_is_refused_and_nothing_changes(clinic: Clinic, name: str, value: str, said: str) -> None:
    pid = clinic.join("after my operation")
    result = clinic.set(pid, name, value)
    assert result.exit_code != 0 and said in result.output
    assert not clinic.flags(pid)[0][1], "the alert stays open"
    with clinic.database.transaction() as connection:
        assert connection.execute(select(AUDIT_EVENTS.c.id).where(AUDIT_EVENTS.c.action == "participant_field_set")).all() == []


def test_an_unknown_participant_or_study_is_said_plainly(clinic: Clinic) -> None:
    pid = clinic.join(f"{days_ago(10):%d/%m/%Y}")
    assert "no participant 'p-0000'" in clinic.set("p-0000", "birth_date", "2026-10-01").output
    assert f"{pid} is not in elsewhere (they are in postnatal)" in clinic.set(pid, "birth_date", "2026-10-01", "--study", "elsewhere").output


# ----------------------------------------------------------------------------- the desk's API


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("CHORUS_SCHEDULER", "off")  # the test ticks the clock itself
    studies = tmp_path / "studies"
    _folder(studies)
    with desk_app(tmp_path, studies=studies) as made:
        yield made


def _joined_with_unreadable_date(desk: Desk) -> str:
    service = desk.app.state.chorus.service
    service.receive(InboundMessage("sms", "+447700900402", "in-1", "NEWBORN"))
    result = service.receive(InboundMessage("sms", "+447700900402", "in-2", "when the snow came"))
    assert result.participant_id is not None
    Scheduler(desk.database, service, desk.app.state.chorus.studies).tick()
    return result.participant_id


def test_the_api_corrects_a_field_for_a_coordinator_and_closes_the_alert(desk: Desk) -> None:
    pid = _joined_with_unreadable_date(desk)
    path = f"/api/v1/studies/postnatal/participants/{pid}/fields"
    body = {"field": "birth_date", "value": (datetime.now(UTC) - timedelta(days=30)).date().isoformat()}
    assert desk.client.post(path, json=body).status_code == 401
    analyst = {"Authorization": f"Bearer {desk.token('analyst', ('postnatal',))}"}
    assert desk.client.post(path, json=body, headers=analyst).status_code == 403
    coordinator = {"Authorization": f"Bearer {desk.token('coordinator', ('postnatal',))}"}
    refused = desk.client.post(path, json={"field": "birth_date", "value": "soon"}, headers=coordinator)
    assert refused.status_code == 422 and "is not a date" in refused.json()["detail"]
    missing = desk.client.post("/api/v1/studies/postnatal/participants/p-00000000/fields", json=body, headers=coordinator)
    assert missing.status_code == 404
    done = desk.client.post(path, json=body, headers=coordinator)
    assert done.status_code == 200, done.text
    assert done.json()["value"] == "(withheld: the field identifies someone)" and done.json()["alerts_closed"] == 1
    assert [line.split(":")[0] for line in done.json()["planned"]] == ["sixweeks"]
    flags = desk.client.get("/api/v1/studies/postnatal/flags", params={"open_only": True}, headers=coordinator).json()
    assert flags["items"] == []
    with desk.database.transaction() as connection:
        actors = connection.execute(select(AUDIT_EVENTS.c.actor).where(AUDIT_EVENTS.c.action == "participant_field_set")).scalars().all()
    assert len(actors) == 1 and actors[0].startswith("token:")
