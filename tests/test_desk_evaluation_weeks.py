"""The desk's Evaluation tab shows a repeating (``every:``) follow-up week by week, as `chorus
report` writes it (evaluation-weeks): per flow and group, each week's sends, answers, response
rate and the sends not made (skipped, missed, closed), in a captioned table whose weeks are row
headers. On a phone it stays a table that scrolls sideways inside its own region (a count read
down its weeks), so the page itself never does."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi import FastAPI

from bot.app import create_app
from bot.dashboard import install
from bot.evaluation import followups
from bot.settings import Settings
from storage.auth import create_token
from storage.database import Database
from storage.tables import ConversationSession, DueTask
from tests.browser import chromium_page, log_in, running_server, screenshot
from tests.desk_helpers import Desk, add_answers, study_desk
from tests.test_accessibility import OVERFLOW, PHONE, WCAG_22_AA

STUDY = "pulse-check"
FILES = {
    "study.yaml": """\
study: pulse-check
title: Weekly pulse
languages: [en]
timezone: Europe/London
groups:
  - id: staff
    label: Ward staff
  - id: patient
    label: Patients
join:
  start_flow: welcome
  keyword: PULSE
flows: [welcome.yaml, pulse.yaml]
schedule:
  - flow: pulse
    every: 7d
    times: 20
""",
    "welcome.yaml": "flow: welcome\nsteps:\n  - {id: bye, type: end, text: Thanks.}\n",
    "pulse.yaml": """\
flow: pulse
title: How was your week?
steps:
  - {id: score, type: scale, text: "How was your week? 0 to 10", min: 0, max: 10}
  - {id: bye, type: end, text: Thanks.}
""",
}
FIRST = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
"""A Monday (London is on UTC in January): week n of the pulse is sent n weeks on."""
WEEKS = 16


def _fill(app: FastAPI) -> None:
    """A patient sent the pulse for 16 weeks who answers every other one; a member of staff sent
    it for 12 weeks, answering all but the first, who then missed one (Chorus was down) and
    opted out for the rest (three skipped)."""
    chorus = app.state.chorus
    database: Database = chorus.database
    version = chorus.studies.current(STUDY, "pulse").id
    patient = chorus.service.join("web", "sim-pulse-patient", STUDY, group="patient").participant_id
    staff = chorus.service.join("web", "sim-pulse-staff", STUDY, group="staff").participant_id
    sent = [(patient, n, n % 2 == 0) for n in range(WEEKS)] + [(staff, n, n > 0) for n in range(12)]
    with database.session() as session:
        rows = [ConversationSession(participant_id=who, study_id=STUDY, flow_id="pulse", flow_version_id=version, state={},
                                    status="ended", started_at=FIRST + timedelta(weeks=n),
                                    updated_at=FIRST + timedelta(weeks=n, hours=2)) for who, n, _ in sent]
        session.add_all(rows)
        session.flush()
        answered = [(row.id, who, n) for row, (who, n, yes) in zip(rows, sent, strict=True) if yes]
        not_sent = [(12, "dropped: missed: due 2026-03-30 10:00 UTC, past the grace of 1d")] + [
            (n, "dropped: skipped: the participant had opted out") for n in (13, 14, 15)]
        session.add_all([DueTask(kind="follow_up", participant_id=staff, study_id=STUDY, flow_id="pulse", done=True, error=why,
                                 due_at=FIRST + timedelta(weeks=n), created_at=FIRST, done_at=FIRST + timedelta(weeks=n),
                                 payload={"schedule": 0, "occurrence": n + 1})
                         for n, why in not_sent])
    add_answers(database, [{"participant_id": who, "study_id": STUDY, "flow_id": "pulse", "flow_version_id": version,
                            "flow_version": "v", "step_id": "score", "value": 7, "session_id": session_id,
                            "answered_at": FIRST + timedelta(weeks=n, hours=1)} for session_id, who, n in answered])


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY, FILES) as made:
        yield made


def _table(page: str, caption: str) -> str:
    found = re.search(r'<div class="scrolls" tabindex="0" role="region" aria-labelledby="([^"]+)">\s*<table class="data compact weeks">'
                      rf'<caption id="\1">{re.escape(caption)}</caption>.*?</table>', page, re.S)
    assert found, f"no table captioned {caption!r}"
    return found.group(0)


def _weeks(table: str) -> dict[str, list[str]]:
    return {week: re.findall(r'<td class="num">([^<]*)</td>', cells)
            for week, cells in re.findall(r'<tr><th scope="row">([\d-]+)</th>(.*?)</tr>', table, re.S)}


def test_the_evaluation_tab_shows_each_week_per_group_as_the_report_counts_it(desk: Desk) -> None:
    _fill(desk.app)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    assert '<h2 id="weeks">Week by week</h2>' in page and "<h3>How was your week? <small><code>pulse</code></small></h3>" in page
    captions = re.findall(r'<caption id="[^"]+">How was your week\?, ([^:<]+): week by week</caption>', page)
    assert captions == ["Everyone", "Ward staff", "Patients"], "Everyone first, then the study's groups in its order"
    headers = re.findall(r'<th scope="col">([^<]+)</th>', _table(page, "How was your week?, Everyone: week by week"))
    assert headers == ["Week of", "Sent", "Answered", "Response rate", "Skipped", "Missed", "Closed"]
    everyone = _weeks(_table(page, "How was your week?, Everyone: week by week"))
    assert list(everyone) == [(FIRST + timedelta(weeks=n)).date().isoformat() for n in range(WEEKS)]
    assert everyone["2026-01-05"] == ["2", "1", "50%", "0", "0", "0"], "the patient answered week 1, the member of staff did not"
    assert everyone["2026-01-12"] == ["2", "1", "50%", "0", "0", "0"]
    assert everyone["2026-03-30"] == ["1", "1", "100%", "0", "1", "0"], "week 13: the staff member's missed"
    assert everyone["2026-04-06"] == ["1", "0", "0%", "1", "0", "0"]
    staff = _weeks(_table(page, "How was your week?, Ward staff: week by week"))
    assert staff["2026-04-13"] == ["0", "0", "-", "1", "0", "0"], "a week of no sends has no rate"
    assert staff["2026-03-30"] == ["0", "0", "-", "0", "1", "0"]
    report = {(r["group"], r["week"]): r for r in followups(desk.database, STUDY).weeks}
    for week, cells in everyone.items():
        row = report[("all", week)]
        assert [int(cells[0]), int(cells[1]), int(cells[3]), int(cells[4]), int(cells[5])] == [
            row["asked"], row["answered"], row["skipped"], row["missed"], row["closed"]], week


# ----------------------------------------------------------------------------- in Chromium, on a phone


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, str]]:
    folder = tmp_path / "studies" / STUDY
    folder.mkdir(parents=True)
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=tmp_path / "studies",
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        _fill(app)
        secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", [STUDY], datetime.now(UTC))
        yield base, secret


@pytest.mark.browser
def test_many_weeks_stay_a_table_that_scrolls_inside_its_region_on_a_phone(served: tuple[str, str]) -> None:
    base, secret = served
    with chromium_page() as page:
        page.set_viewport_size(PHONE)
        log_in(page, base, secret)
        page.goto(base + f"/dashboard/studies/{STUDY}/evaluation")
        seen: dict[str, Any] = page.evaluate(OVERFLOW)
        assert seen["page"] <= PHONE["width"] and not seen["out"], seen
        region = page.locator("div.scrolls").first
        assert region.get_attribute("tabindex") == "0"
        table = region.locator("table.weeks")
        assert table.get_attribute("role") is None and "stacks" not in (table.get_attribute("class") or ""), "not made into cards"
        week = table.locator("tbody tr").nth(WEEKS - 1).locator("th")
        assert week.evaluate("e => getComputedStyle(e).display") == "table-cell"
        assert week.inner_text() == (FIRST + timedelta(weeks=WEEKS - 1)).date().isoformat()
        box = region.bounding_box()
        assert box is not None and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
        assert region.evaluate("e => e.scrollWidth > e.clientWidth"), "wider than the phone: it scrolls, its words unbroken"
        region.evaluate("e => { e.scrollLeft = e.scrollWidth; }")
        shown = week.bounding_box()
        assert shown is not None and shown["x"] >= box["x"] - 1, "the week stays in view as the table scrolls"
        heading = table.locator("thead th").first.bounding_box()
        assert heading is not None and heading["x"] >= box["x"] - 1, "with its column's name"
        caption = table.locator("caption").bounding_box()
        assert caption is not None and box["x"] - 1 <= caption["x"] and caption["x"] + caption["width"] <= box["x"] + box["width"] + 1, \
            "and so does the caption"
        found = Axe().run(page, options=WCAG_22_AA).response["violations"]
        serious = [f"{v['id']}: {v['help']}" for v in found if v["impact"] in ("serious", "critical")]
        assert not serious, serious
        screenshot(page, "desk-evaluation-weeks-phone")
