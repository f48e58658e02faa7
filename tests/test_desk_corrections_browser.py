"""Correcting a participant's field on the desk in a real browser (Debian's Chromium through
Playwright) with JavaScript switched off: from the study's Participants tab to one
participant, a date the clock cannot read is refused beside the box, and a right one moves
both follow-ups and says so."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

import tests.browser
from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from storage.auth import create_token
from tests.browser import chromium_page, log_in, running_server, screenshot
from tests.test_desk_corrections import PHONE, STUDY_ID, days_ago, due_after, join, write_study

pytestmark = pytest.mark.browser
PORTS = range(8170, 8180)
"""This test's own ports (others' servers use theirs)."""


@pytest.fixture
def desk_url(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, Any]]:
    monkeypatch.setenv("CHORUS_SCHEDULER", "off")  # the test ticks the scheduler itself
    monkeypatch.setattr(tests.browser, "free_port", lambda: tests.browser.free_port_in(PORTS))
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=write_study(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        yield base, app


def test_a_coordinator_corrects_a_surgery_date_without_javascript(desk_url: tuple[str, Any]) -> None:
    base, app = desk_url
    given, right = days_ago(5), days_ago(2)
    pid = join(app, f"{given:%d/%m/%Y}")
    secret, _ = create_token(app.state.chorus.database, "Sister Jones", "coordinator", [STUDY_ID], datetime.now(UTC))
    with chromium_page() as first:
        context = first.context.browser.new_context(java_script_enabled=False)
        page = context.new_page()
        page.set_default_timeout(15_000)
        log_in(page, base, secret)
        page.goto(base + f"/dashboard/studies/{STUDY_ID}")
        page.click("nav.tabs >> text=Participants")
        page.click(f"#participants >> text={pid}")
        assert page.inner_text("h1") == f"Participant {pid}"
        assert due_after(given, 14) in page.inner_text("#follow-ups")

        page.select_option("#field", "surgery_date")
        page.fill("#value", "next spring sometime")
        page.click("#save-field")
        error = page.locator("#value-error")
        assert "'next spring sometime' is not a date" in error.inner_text()
        assert page.get_attribute("#value", "aria-invalid") == "true"
        assert page.input_value("#value") == "next spring sometime", "what was typed stays to be put right"
        screenshot(page, "desk-correction-refused")

        page.fill("#value", right.isoformat())
        page.click("#save-field")
        saved = page.inner_text("#saved")
        assert f"2 follow-ups moved: twoweeks: {due_after(right, 14)}; sixweeks: {due_after(right, 42)}." in saved
        assert page.locator("#value-error").count() == 0
        assert due_after(right, 42) in page.inner_text("#follow-ups")
        assert PHONE not in page.content()
        screenshot(page, "desk-correction-saved")
        context.close()
