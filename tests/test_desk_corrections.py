"""The desk corrects a participant's field (bot/dashboard/participants.py): a coordinator opens
a participant from the study's list (or from a planning alert), chooses a field the study
declares, types the new value and sees what was re-planned; a bad date or a field the study has
not got is said beside the form and changes nothing; the change is audited as the API's is;
the pages need a login, a CSRF token and a token that may change things, and show participants
by their pseudonymous id only."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, date, datetime, time, timedelta
from html.parser import HTMLParser
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from bot.scheduler import Scheduler
from channels.base import InboundMessage
from storage import due_tasks
from storage.tables import AUDIT_EVENTS
from tests.desk_helpers import Desk, desk_app

STUDY_ID = "recovery"
STUDY = """study: recovery
title: Recovery after surgery
languages: [en]
timezone: Europe/London
groups: [patient, carer]
join: {start_flow: welcome, keyword: HEAL}
flows: [welcome.yaml, twoweeks.yaml, sixweeks.yaml]
schedule:
  - flow: twoweeks
    after: 14d
    relative_to: participant.surgery_date
  - flow: sixweeks
    after: 6w
    relative_to: participant.surgery_date
"""
FLOWS = {
    "welcome.yaml": """flow: welcome
steps:
  - id: surgery_date
    type: open
    text: What date was your operation?
    save_to: participant.surgery_date
  - id: thanks
    type: end
    text: Thank you.
""",
    "twoweeks.yaml": "flow: twoweeks\nsteps:\n  - id: pain\n    type: scale\n    text: How is the pain?\n    min: 0\n    max: 10\n",
    "sixweeks.yaml": "flow: sixweeks\nsteps:\n  - id: walking\n    type: yesno\n    text: Are you walking again?\n",
}
PHONE = "+447700900555"
LONDON = ZoneInfo("Europe/London")


def write_study(root: Path) -> Path:
    folder = root / "studies" / STUDY_ID
    folder.mkdir(parents=True)
    for name, text in {"study.yaml": STUDY, **FLOWS}.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder.parent


def days_ago(days: int) -> date:
    return datetime.now(UTC).astimezone(LONDON).date() - timedelta(days=days)


def due_after(surgery: date, days: int) -> str:
    """When a follow-up is due, as the desk shows it: 09:00 on the wall clock, days after the operation."""
    moment = datetime.combine(surgery + timedelta(days=days), time(9, 0), LONDON)
    return f"{moment:%a %Y-%m-%d %H:%M %Z}"


def join(app: object, said: str, phone: str = PHONE) -> str:
    """A patient texts HEAL, gives their operation's date, and the scheduler plans their follow-ups."""
    chorus = app.state.chorus  # type: ignore[attr-defined]
    chorus.service.receive(InboundMessage("sms", phone, f"{phone}-1", "HEAL"))
    result = chorus.service.receive(InboundMessage("sms", phone, f"{phone}-2", said))
    assert result.participant_id is not None
    Scheduler(chorus.database, chorus.service, chorus.studies).tick()
    return str(result.participant_id)


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("CHORUS_SCHEDULER", "off")  # the test ticks the scheduler itself
    with desk_app(tmp_path, studies=write_study(tmp_path)) as made:
        yield made


def login(desk: Desk, role: str = "coordinator") -> str:
    """Log in with a new token of ``role``; the page's CSRF token."""
    response = desk.client.post("/login", data={"token": desk.token(role, (STUDY_ID,), name=f"a {role}")},
                                follow_redirects=False)
    assert response.status_code == 303, response.text
    found = re.search(r'name="csrf-token" content="([^"]+)"', desk.client.get("/dashboard").text)
    assert found and found.group(1)
    return found.group(1)


def pending(desk: Desk, pid: str) -> list[tuple[str | None, datetime]]:
    with desk.database.transaction() as connection:
        return [(t.flow_id, t.due_at) for t in due_tasks.pending_follow_ups(connection, pid, STUDY_ID)]


def audited(desk: Desk, action: str) -> list[tuple[str, dict[str, object]]]:
    with desk.database.transaction() as connection:
        rows = connection.execute(select(AUDIT_EVENTS.c.actor, AUDIT_EVENTS.c.detail).where(AUDIT_EVENTS.c.action == action)).all()
    return [(str(actor), dict(detail)) for actor, detail in rows]


class _Element(HTMLParser):
    """The text inside the element with a given id (its nested tags followed)."""

    VOID = {"input", "br", "meta", "link", "img", "hr"}

    def __init__(self, element_id: str) -> None:
        super().__init__()
        self.element_id, self.depth, self.found, self.parts = element_id, 0, False, []  # type: ignore[var-annotated]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.VOID:
            return
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("id") == self.element_id:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag: str) -> None:
        if self.depth and tag not in self.VOID:
            self.depth -= 1

    def handle_data(self, data: str) -> None:
        if self.depth:
            self.parts.append(data)


def by_id(html: str, element_id: str) -> str:
    """The text of the element with ``element_id``, its whitespace squeezed."""
    parser = _Element(element_id)
    parser.feed(html)
    assert parser.found, f"no #{element_id} in the page"
    return " ".join(" ".join(parser.parts).split())


def fields_url(pid: str) -> str:
    return f"/dashboard/studies/{STUDY_ID}/participants/{pid}/fields"


def test_a_coordinator_corrects_a_surgery_date_and_is_told_which_follow_ups_moved(desk: Desk) -> None:
    given, right = days_ago(5), days_ago(2)
    pid = join(desk.app, f"{given:%d/%m/%Y}")
    assert [flow for flow, _ in pending(desk, pid)] == ["twoweeks", "sixweeks"]
    csrf = login(desk)

    listing = desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants")
    assert listing.status_code == 200 and f'href="/dashboard/studies/{STUDY_ID}/participants/{pid}"' in listing.text
    page = desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants/{pid}")
    assert page.status_code == 200
    options = re.findall(r'<option value="([^"]+)"', page.text)
    assert options == ["surgery_date", "group", "contact_hours", "timezone"], "the fields the study declares, dates first"
    assert due_after(given, 14) in by_id(page.text, "follow-ups")

    saved = desk.client.post(fields_url(pid), data={"csrf": csrf, "field": "surgery_date", "value": right.isoformat()})
    assert saved.status_code == 200, saved.text
    said = by_id(saved.text, "saved")
    assert f"Set surgery_date of {pid} to {right.isoformat()}." in said
    assert f"2 follow-ups moved: twoweeks: {due_after(right, 14)}; sixweeks: {due_after(right, 42)}." in said
    assert [flow for flow, _ in pending(desk, pid)] == ["twoweeks", "sixweeks"], "moved, not sent twice"
    assert due_after(right, 42) in by_id(saved.text, "follow-ups"), "the page shows the new plan"
    [(actor, detail)] = audited(desk, "participant_field_set")
    assert actor.startswith("token:") and detail["participant"] == pid and detail["field"] == "surgery_date"
    assert detail["moved"] == 2 and right.isoformat() not in str(detail), "which field, never its value"
    assert PHONE not in saved.text + page.text + listing.text
    assert [d.get("participant") for _, d in audited(desk, "viewed_participant")] == [pid, pid]
    assert [d["rows"] for _, d in audited(desk, "viewed_participants")] == [1]


def test_a_date_nobody_could_read_is_corrected_from_its_alert(desk: Desk) -> None:
    pid = join(desk.app, "when the snow came")
    assert pending(desk, pid) == []
    csrf = login(desk)
    alerts = desk.client.get(f"/dashboard/studies/{STUDY_ID}/alerts").text
    assert f'href="/dashboard/studies/{STUDY_ID}/participants/{pid}#field-form" class="correct">Correct a field' in alerts
    page = desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants/{pid}").text
    assert "is not a date" in by_id(page, "open-alerts")
    assert '<option value="surgery_date" selected>' in page, "the field the alert names is chosen already"

    surgery = days_ago(3)
    saved = desk.client.post(fields_url(pid), data={"csrf": csrf, "field": "surgery_date", "value": f"{surgery:%d %B %Y}"})
    said = by_id(saved.text, "saved")
    assert saved.status_code == 200 and "2 follow-ups planned: twoweeks: " in said and "Closed 2 planning alerts." in said
    assert by_id(saved.text, "open-alerts") == "None.", "both schedules' alerts are closed"
    assert [flow for flow, _ in pending(desk, pid)] == ["twoweeks", "sixweeks"]
    assert 'class="correct"' not in desk.client.get(f"/dashboard/studies/{STUDY_ID}/alerts").text


@pytest.mark.parametrize(("field", "value", "where", "said"), [
    ("surgery_date", "next spring sometime", "value-error", "'next spring sometime' is not a date, and a schedule counts from surgery_date"),
    ("group", "surgeon", "value-error", "'surgeon' is not a group of recovery: patient, carer"),
    ("contact_hours", "mornings", "value-error", "'mornings' is not a time window"),
    ("timezone", "Mars/Olympus", "value-error", "'Mars/Olympus' is not a time zone"),
    ("surgery_date", "  ", "value-error", "give a value for surgery_date"),
    ("nickname", "Bob", "field-error", "'nickname' is not a field of this study: choose one of surgery_date, group, contact_hours, timezone"),
    ("", "2026-01-01", "field-error", "choose a field"),
])
def test_a_value_or_field_the_desk_cannot_use_is_said_beside_the_form_and_changes_nothing(
        desk: Desk, field: str, value: str, where: str, said: str) -> None:
    pid = join(desk.app, f"{days_ago(5):%d/%m/%Y}")
    before = pending(desk, pid)
    csrf = login(desk)
    refused = desk.client.post(fields_url(pid), data={"csrf": csrf, "field": field, "value": value})
    assert refused.status_code == 422
    assert said in by_id(refused.text, where)
    assert f'aria-describedby="{where}"' in refused.text and 'id="saved"' not in refused.text
    if value.strip():
        assert f'value="{value}"' in refused.text, "what was typed stays in the box to be put right"
    assert pending(desk, pid) == before and audited(desk, "participant_field_set") == []


def test_correcting_a_field_needs_a_login_a_csrf_token_and_a_token_that_may_change_things(desk: Desk) -> None:
    pid = join(desk.app, f"{days_ago(5):%d/%m/%Y}")
    before = pending(desk, pid)
    body = {"field": "surgery_date", "value": days_ago(1).isoformat()}
    anonymous = desk.client.post(fields_url(pid), data=body, follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    assert desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants", follow_redirects=False).status_code == 303

    analyst_csrf = login(desk, "analyst")
    read_only = desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants/{pid}").text
    assert 'id="field-form"' not in read_only and "cannot change a participant's fields" in read_only
    assert desk.client.post(fields_url(pid), data={**body, "csrf": analyst_csrf}).status_code == 403

    csrf = login(desk)
    assert desk.client.post(fields_url(pid), data=body).status_code == 403, "no CSRF token"
    assert desk.client.post(fields_url(pid), data={**body, "csrf": "0" * 32}).status_code == 403, "a wrong one"
    assert desk.client.post(fields_url("p-00000000"), data={**body, "csrf": csrf}).status_code == 404
    assert desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants/p-00000000").status_code == 404
    assert pending(desk, pid) == before and audited(desk, "participant_field_set") == []
    assert desk.client.post(fields_url(pid), data={**body, "csrf": csrf}).status_code == 200
    assert len(audited(desk, "participant_field_set")) == 1


def test_the_participants_list_shows_pseudonymous_ids_only(desk: Desk) -> None:
    first = join(desk.app, f"{days_ago(5):%d/%m/%Y}")
    second = join(desk.app, "yesterday", phone="+447700900556")
    login(desk)
    listing = desk.client.get(f"/dashboard/studies/{STUDY_ID}/participants").text
    rows = by_id(listing, "participants")
    assert first in rows and second in rows
    assert "+4477" not in listing and "7700900" not in listing
    assert 'href="/dashboard/studies/recovery/participants"' in listing, "a Participants tab in the study's menu"
