"""The coordinator's desk in a real browser (Debian's Chromium through Playwright): log in,
open a study, read a Delphi round's chart, download an export, and chat in the simulator."""

from __future__ import annotations

import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from storage.auth import create_token
from tests.browser import chromium_page, running_server, screenshot
from tests.desk_helpers import add_answers, delphi_rows, two_studies

pytestmark = pytest.mark.browser
STUDY = "ae-waiting"


@pytest.fixture
def desk_url(tmp_path: Path) -> Iterator[tuple[str, Any]]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        yield base, app


def _token(app: Any) -> str:
    from datetime import UTC, datetime

    secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", [STUDY], datetime.now(UTC))
    return secret


def _delphi_round_two(app: Any) -> None:
    chorus = app.state.chorus
    version = chorus.studies.current(STUDY, "understand").id
    for n in range(8):
        group = "patient" if n < 4 else "staff"
        joined = chorus.service.join("web", f"sim-delphi-{n}", STUDY, group=group)
        pid = joined.participant_id
        add_answers(chorus.database, delphi_rows(pid, group, STUDY, version, 1, {"Clear updates": 5 + n % 4, "Pain relief": 6}))
        add_answers(chorus.database, delphi_rows(pid, group, STUDY, version, 2, {"Clear updates": 8, "Pain relief": 2 + n % 2}))


def _log_in(page: Any, base: str, token: str) -> None:
    page.goto(base + "/dashboard")
    page.wait_for_url("**/login?next=/dashboard")
    page.fill("#token", token)
    page.click("#login")
    page.wait_for_url(base + "/dashboard")


def test_a_coordinator_logs_in_reads_a_delphi_round_and_downloads_an_export(desk_url: tuple[str, Any], tmp_path: Path) -> None:
    base, app = desk_url
    token = _token(app)
    _delphi_round_two(app)
    with chromium_page() as page:
        page.goto(base + "/dashboard/studies/ae-waiting/delphi")
        assert "/login" in page.url, "no page without logging in"
        page.fill("#token", "chorus_not-a-real-token")
        page.click("#login")
        page.wait_for_selector("text=That token is not valid")
        _log_in(page, base, token)
        assert page.locator(".study-link").all_inner_texts() == ["Waiting in A&E"], "only the coordinator's own study"
        page.click("text=Waiting in A&E")
        page.wait_for_selector("text=Completion funnel")
        assert "8 participants" in page.inner_text(".lead")
        screenshot(page, "desk-study-overview")

        page.click("nav.tabs >> text=Delphi")
        page.wait_for_selector("#round")
        assert page.input_value("#round") == "2", "the latest round first"
        title = page.locator("#item-Clear\\ updates svg.chart > title").text_content()
        assert title == "Clear updates, round 2: median 8, 100% of 8 scored 7-9"
        assert page.locator("#item-Clear\\ updates .consensus").first.inner_text() == "consensus in"
        assert page.locator("#item-Pain\\ relief .consensus").first.inner_text() == "consensus out"
        assert page.locator("#item-Pain\\ relief svg rect[fill='#0072B2']").count() >= 2, "bars drawn"
        screenshot(page, "desk-delphi-round-2")
        page.select_option("#round", "1")
        page.click("#show-round")
        page.wait_for_url("**/delphi?round=1")
        assert "no consensus" in page.inner_text("#item-Clear\\ updates")

        page.click("nav.tabs >> text=Exports")
        page.click("#export-both")
        link = page.wait_for_selector("#export-out-download")
        assert "100%" in page.inner_text("#export-out-message")
        with page.expect_download() as download_info:
            link.click()
        download = download_info.value
        assert download.suggested_filename == "ae-waiting-export.zip"
        saved = tmp_path / download.suggested_filename
        download.save_as(saved)
        names = zipfile.ZipFile(saved).namelist()
        assert "ae-waiting-answers.parquet" in names and "ae-waiting-data-dictionary.md" in names
        screenshot(page, "desk-export-ready")


def test_a_coordinator_chats_in_the_simulator_and_sees_the_session_on_its_flow_version(desk_url: tuple[str, Any]) -> None:
    base, app = desk_url
    token = _token(app)
    with chromium_page() as page:
        _log_in(page, base, token)
        page.goto(base + "/dashboard/studies/ae-waiting/flows")
        assert page.locator("#sessions").inner_text().count("No running sessions") == 1
        assert page.locator("a[href='/']", has_text="simulator").count() >= 2, "the desk links to the simulator"
        page.goto(base + "/")
        page.wait_for_selector("#study option", state="attached")
        page.select_option("#study", STUDY)
        page.click("#start")
        page.wait_for_selector(".msg.bot")
        page.click(".choices button[data-value='yes']")
        page.wait_for_selector("text=Which best describes you?")
        page.click(".choices button[data-value='patient']")
        page.wait_for_selector("text=How many times have you been")
        screenshot(page, "desk-simulator-chat")

        page.goto(base + "/dashboard/studies/ae-waiting/flows")
        version = app.state.chorus.studies.get(STUDY).flows["understand"].version
        sessions = page.inner_text("#sessions")
        assert "understand" in sessions and version in sessions and "waiting" in sessions
        page.fill("#yaml_text", "flow: understand\nsteps:\n  - id: a\n    type: choise\n    text: Hi\n")
        page.click("#validate")
        page.wait_for_selector("#problems")
        assert "understand.yaml:4:11" in page.inner_text("#problems")
        screenshot(page, "desk-flows-validate")
