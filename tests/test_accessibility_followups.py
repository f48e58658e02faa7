"""Follow-ups from the WCAG 2.2 AA audit of the desk and the web chat simulator, in Debian's Chromium.

* Changing the Delphi "Round" or the Evaluation "Per" select loads nothing (3.2.2 On Input: on
  Windows one arrow key on a closed select changes it); the "Show" button beside it does, with
  or without JavaScript.
* Each Alerts "Acknowledge" button has a name of its own (which alert, about whom, where).
* The simulator marks each message with its conversation's language (Welsh read as Welsh) and
  tells screen readers who said it ("Chorus:" / "You:") without changing the words shown."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from axe_playwright_python.sync_playwright import Axe
from fastapi.testclient import TestClient
from sqlmodel import select

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from channels.base import InboundMessage
from storage.auth import create_token
from storage.tables import FlagRow
from tests.browser import chromium_page, log_in, running_server
from tests.desk_helpers import add_answers, add_flag, delphi_rows, two_studies
from tests.test_accessibility import WCAG_22_AA

pytestmark = pytest.mark.browser
STUDY = "ae-waiting"
SETTLE_MS = 600
"""How long a change is given to load a page it should not load."""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[tuple[str, Any, str]]:
    """``chorus serve`` (desk and simulator) on SQLite with the example study and a copy:
    (base URL, app, a coordinator's token for the example study)."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", [STUDY], datetime.now(UTC))
        yield base, app, secret


def _two_delphi_rounds(app: Any) -> None:
    chorus = app.state.chorus
    version = chorus.studies.current(STUDY, "understand").id
    for n in range(6):
        group = "patient" if n < 3 else "staff"
        pid = chorus.service.join("web", f"sim-a11y2-delphi-{n}", STUDY, group=group).participant_id
        add_answers(chorus.database, delphi_rows(pid, group, STUDY, version, 1, {"Clear updates": 3 + n % 4}))
        add_answers(chorus.database, delphi_rows(pid, group, STUDY, version, 2, {"Clear updates": 8}))


def _friends_and_family_answers(app: Any) -> None:
    service = app.state.chorus.service
    for n, answer in enumerate(["Good", "Very good", "Poor"]):
        address = f"sim-a11y2-fft-{n}"
        service.join("web", address, STUDY, flow_id="evaluate", group="patient")
        service.receive(InboundMessage("web", address, uuid.uuid4().hex, answer))


def _stays(page: Any, url: str) -> None:
    page.wait_for_timeout(SETTLE_MS)
    assert page.url == url, f"a change alone loaded {page.url}"


def test_the_round_and_period_selects_load_a_page_only_when_show_is_pressed(desk: tuple[str, Any, str]) -> None:
    base, app, secret = desk
    _two_delphi_rounds(app)
    _friends_and_family_answers(app)
    with chromium_page() as page:
        log_in(page, base, secret)
        delphi = base + f"/dashboard/studies/{STUDY}/delphi"
        page.goto(delphi)
        assert page.input_value("#round") == "2", "the latest round first"
        page.focus("#round")
        page.keyboard.press("ArrowUp")  # a closed select's arrow key changes it, as on Windows
        assert page.input_value("#round") == "1", "the arrow key changed the round"
        _stays(page, delphi)
        assert page.locator("h2", has_text="Round 2: response").count() == 1, "still round 2 on show"
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "show-round", "Show is the next stop"
        page.keyboard.press("Enter")
        page.wait_for_url("**/delphi?round=1")
        assert page.input_value("#round") == "1"
        assert page.locator("h2", has_text="Round 1: response").count() == 1

        evaluation = base + f"/dashboard/studies/{STUDY}/evaluation"
        page.goto(evaluation)
        assert page.input_value("#period") == "week"
        assert "per week" in page.inner_text("section.spc h2 small")
        page.select_option("#period", "day")
        _stays(page, evaluation)
        page.click("#show-period")
        page.wait_for_url("**/evaluation?period=day")
        assert page.input_value("#period") == "day"
        assert "per day" in page.inner_text("section.spc h2 small")


def test_show_works_without_javascript(desk: tuple[str, Any, str]) -> None:
    base, app, secret = desk
    _two_delphi_rounds(app)
    with chromium_page() as page:
        context = page.context.browser.new_context(java_script_enabled=False)
        try:
            plain = context.new_page()
            log_in(plain, base, secret)
            plain.goto(base + f"/dashboard/studies/{STUDY}/delphi")
            plain.select_option("#round", "1")
            plain.click("#show-round")
            plain.wait_for_url("**/delphi?round=1")
            assert plain.locator("h2", has_text="Round 1: response").count() == 1
            plain.goto(base + f"/dashboard/studies/{STUDY}/evaluation")
            plain.select_option("#period", "month")
            plain.click("#show-period")
            plain.wait_for_url("**/evaluation?period=month")
            assert plain.input_value("#period") == "month"
        finally:
            context.close()


def test_each_acknowledge_button_names_its_alert(desk: tuple[str, Any, str]) -> None:
    base, app, secret = desk
    database = app.state.chorus.database
    first = app.state.chorus.service.join("web", "sim-a11y2-alerts-1", STUDY, group="patient").participant_id
    second = app.state.chorus.service.join("web", "sim-a11y2-alerts-2", STUDY, group="staff").participant_id
    twins = [add_flag(database, STUDY, first), add_flag(database, STUDY, first)]  # same kind, person and step
    other = add_flag(database, STUDY, second, kind="after_end", message="a message after the end")
    with chromium_page() as page:
        log_in(page, base, secret)
        page.goto(base + f"/dashboard/studies/{STUDY}/alerts")
        buttons = page.locator("#alerts button", has_text="Acknowledge")
        assert buttons.count() == 3
        names = [buttons.nth(n).get_attribute("aria-label") or "" for n in range(3)]
        assert len(set(names)) == 3, names
        assert all(name.startswith("Acknowledge alert ") for name in names), "the visible word starts the name (2.5.3)"
        assert sum(first in name and "understand / story" in name for name in names) == 2
        assert sum(second in name and "after end" in name for name in names) == 1
        assert not _serious(page, "alerts")

        chosen = next(name for name in names if f"alert {twins[1]}:" in name)
        page.get_by_role("button", name=chosen, exact=True).click()
        page.wait_for_selector("#alerts tr.done")
        assert "acknowledged by" in page.inner_text("#alerts tr.done") and "Dr Rhys" in page.inner_text("#alerts tr.done")
        assert page.locator("#alerts button", has_text="Acknowledge").count() == 2
    with database.session() as session:
        acknowledged = {row.id: row.acknowledged for row in session.exec(select(FlagRow)).all()}
    assert acknowledged == {twins[0]: False, twins[1]: True, other: False}, "the button named acknowledges that alert"


def _serious(page: Any, where: str) -> list[str]:
    found = Axe().run(page, options=WCAG_22_AA).response["violations"]
    return [f"{where}: {v['id']} ({v['impact']}) {v['help']}" for v in found if v["impact"] in ("serious", "critical")]


def _speakers(page: Any, kind: str) -> list[str]:
    """The visually hidden words just before each message of ``kind`` (bot, me)."""
    return page.eval_on_selector_all(  # type: ignore[no-any-return]
        f".msg.{kind}", "ms => ms.map(m => m.previousElementSibling && m.previousElementSibling.matches('.visually-hidden')"
                       " ? m.previousElementSibling.textContent : null)")


def test_the_simulator_marks_welsh_as_welsh_and_says_who_spoke(desk: tuple[str, Any, str]) -> None:
    base, _, _ = desk
    with chromium_page() as page:
        page.goto(base + "/")
        page.wait_for_selector("#study option", state="attached")
        page.select_option("#study", STUDY)
        page.select_option("#language", "cy")
        page.select_option("#flow", "evaluate")
        page.click("#start")
        page.wait_for_selector("text=Yn gyffredinol, sut oedd eich profiad")
        assert page.eval_on_selector_all(".msg.bot", "ms => ms.map(m => m.lang)") == ["cy"]
        assert page.eval_on_selector_all(".choices button", "bs => bs.map(b => b.lang)") == ["cy"] * 6
        page.click(".choices button[data-value='good']")
        page.wait_for_selector("text=A allwch ddweud wrthym pam")
        assert page.locator(".msg.me").all_inner_texts() == ["Da"], "the words shown are only what was said"
        assert page.eval_on_selector_all(".msg.me", "ms => ms.map(m => m.lang)") == ["cy"]
        assert _speakers(page, "bot") == ["Chorus: "] * page.locator(".msg.bot").count()
        assert _speakers(page, "me") == ["You: "]
        hidden = page.locator(".speaker").first.bounding_box()
        assert hidden is not None and hidden["width"] <= 1 and hidden["height"] <= 1, "the speaker is not seen"
        read_out = page.locator("#log").aria_snapshot()
        assert "Chorus: Yn gyffredinol" in read_out and "You: Da Chorus: A allwch" in read_out, read_out

        page.fill("#text", "ENGLISH")
        page.press("#text", "Enter")
        page.wait_for_selector("text=We'll write in English from now on.")
        langs = page.eval_on_selector_all(".msg.bot", "ms => ms.map(m => m.lang)")
        assert langs[:2] == ["cy", "cy"] and langs[-2:] == ["en", "en"], langs
        assert page.eval_on_selector_all(".msg.me", "ms => ms.map(m => m.lang)") == ["cy", "cy"], "ENGLISH was said in Welsh"
        assert not _serious(page, "simulator in Welsh")


def test_the_simulator_api_says_each_message_language(tmp_path: Path, example_study_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=example_study_path,
                        key_file=tmp_path / "chorus.key")
    with TestClient(create_app(settings)) as client:
        started = client.post("/api/simulator/sessions", json={"study": STUDY, "language": "cy", "flow": "evaluate"}).json()
        assert [m["language"] for m in started["messages"]] == ["cy"]
        session = started["session"]
        said = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": "ENGLISH"}).json()["messages"]
        assert [m["language"] for m in said] == ["en", "en"] and said[1]["text"].startswith("Overall")
        said = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": "CYMRAEG"}).json()["messages"]
        assert {m["language"] for m in said} == {"cy"}
        english = client.post("/api/simulator/sessions", json={"study": STUDY}).json()
        assert {m["language"] for m in english["messages"]} == {"en"}
