"""Accessibility (WCAG 2.2 AA) of the desk and the web chat simulator, in Debian's Chromium.

axe-core (the copy the axe-playwright-python package ships, so nothing is fetched at test
time) finds no serious or critical violation on any desk page or the simulator, with the
three example studies' golden conversations answered; forms that come back with problems say
so to assistive technology and take the focus there; and a coordinator or a participant can do
everything with Tab and Enter alone, seeing where the focus is at every stop."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from axe_playwright_python.sync_playwright import Axe

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from channels.base import InboundMessage
from storage.auth import create_token
from tests.browser import chromium_page, log_in, running_server, screenshot

pytestmark = pytest.mark.browser
ROOT = Path(__file__).resolve().parent.parent
STUDIES = ("ae-waiting", "priorities", "evaluation")
TABS = ("", "/results", "/delphi", "/ranking", "/pairwise", "/statements", "/choice", "/evaluation", "/themes",
        "/participants", "/alerts", "/held", "/flows", "/exports")
WCAG_22_AA = {"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]},
              "resultTypes": ["violations"]}
FOCUS_SEEN = """() => { const e = document.activeElement; if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  const ring = s.outlineStyle !== 'none' && s.outlineStyle !== 'auto' && parseFloat(s.outlineWidth) >= 2;
  return {name: (e.id || e.textContent || '').trim().slice(0, 40), seen: ring || s.boxShadow !== 'none'}; }"""


def _answer_golden_conversations(app: Any, study_id: str) -> None:
    """Six people answer every flow of an example study as its golden conversations do
    (tests/golden/<study>/): the start flow first, then the later flows started for them."""
    service = app.state.chorus.service
    loaded = next(s for s in app.state.chorus.studies if s.study.study == study_id)
    start = loaded.study.join.start_flow
    groups = loaded.study.group_ids()
    addresses = [f"sim-a11y-{study_id}-{n}" for n in range(6)]
    for n, address in enumerate(addresses):
        service.join("web", address, study_id, group=groups[n % len(groups)] if groups else None)
    for flow in [start, *(f for f in loaded.flows if f != start)]:
        golden = ROOT / "tests" / "golden" / study_id / f"{flow}.yaml"
        conversations = [c["inputs"] for c in yaml.safe_load(golden.read_text(encoding="utf-8"))["conversations"]]
        for n, address in enumerate(addresses):
            if flow != start:
                service.start_flow(service.participant_for("web", address), study_id, flow)
            for text in conversations[n % len(conversations)]:
                service.receive(InboundMessage("web", address, uuid.uuid4().hex, text))


def _tell_a_story_at_a_choice(app: Any) -> None:
    """Someone tells a story at ae-waiting's first choice question, so the desk shows a comment
    beside its results and offers themes with comments (bot/comments.py)."""
    service, address = app.state.chorus.service, "sim-a11y-story"
    service.join("web", address, "ae-waiting", group="carer")
    for text in ("yes", "well the nurse was lovely but we waited six hours and my dad was in pain the whole time"):
        service.receive(InboundMessage("web", address, uuid.uuid4().hex, text))


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """``chorus serve`` on SQLite with the three example studies answered: (base URL, a
    coordinator's token for all three)."""
    root = tmp_path_factory.mktemp("a11y")
    for study_id in STUDIES:
        shutil.copytree(ROOT / "flows" / "examples" / study_id, root / "studies" / study_id)
    settings = Settings(database_url=f"sqlite:///{root / 'chorus.db'}", studies_dir=root / "studies",
                        key_file=root / "chorus.key", data_key_file=root / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        for study_id in STUDIES:
            _answer_golden_conversations(app, study_id)
        _tell_a_story_at_a_choice(app)
        secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", list(STUDIES), datetime.now(UTC))
        yield base, secret


def _serious(page: Any, axe: Axe, where: str) -> list[str]:
    """axe's serious and critical violations on the page as it stands, one line each."""
    found = axe.run(page, options=WCAG_22_AA).response["violations"]
    return [f"{where}: {v['id']} ({v['impact']}) {v['help']}: {[n['target'] for n in v['nodes'][:3]]}"
            for v in found if v["impact"] in ("serious", "critical")]


def _start_simulator(page: Any, base: str) -> None:
    page.goto(base + "/")
    page.wait_for_selector("#study option", state="attached")
    page.select_option("#study", "ae-waiting")
    page.click("#start")
    page.wait_for_selector(".msg.bot")


def _expect_focus(page: Any, element_id: str, why: str) -> None:
    """Wait for the focus to land on `element_id`; fail, saying `why`, if it never does.

    Chromium applies `autofocus` and a script's `focus()` at a rendering step that can come a
    moment after the page or selector a test waited for, so reading the focus at once races it.
    """
    try:
        page.wait_for_function(
            "id => document.activeElement && document.activeElement.id === id", arg=element_id, timeout=10_000
        )
    except Exception as error:  # playwright's TimeoutError
        seen = page.evaluate("document.activeElement ? document.activeElement.id : null")
        raise AssertionError(f"{why}: the focus is on {seen!r}, not {element_id!r}") from error


def test_axe_finds_no_serious_violation_on_any_desk_page_or_the_simulator(desk: tuple[str, str]) -> None:
    base, secret = desk
    axe, problems, pages = Axe(), [], 0
    with chromium_page() as page:
        page.goto(base + "/login")
        problems += _serious(page, axe, "login")
        _start_simulator(page, base)
        page.fill("#text", "yes")
        page.press("#text", "Enter")
        page.wait_for_selector(".choices button")
        problems += _serious(page, axe, "simulator")
        log_in(page, base, secret)
        problems += _serious(page, axe, "studies")
        pages = 3
        for study_id in STUDIES:
            for tab in TABS:
                page.goto(base + f"/dashboard/studies/{study_id}{tab}")
                assert page.locator("h1").count() == 1, f"{study_id}{tab}: one h1"
                problems += _serious(page, axe, f"{study_id}{tab or '/'}")
                pages += 1
            page.goto(base + f"/dashboard/studies/{study_id}/participants")
            page.locator("#participants tbody a").first.click()
            page.wait_for_selector("#field-form")
            problems += _serious(page, axe, f"{study_id}/a participant")
            pages += 1
        page.goto(base + "/dashboard/studies/priorities/delphi")
        charts = page.locator("svg.chart")
        assert charts.count() >= 2 and charts.count() == page.locator("section.delphi-item").count(), "a chart per item"
        for n in range(charts.count()):
            chart = charts.nth(n)
            assert chart.get_attribute("role") == "img" and chart.locator(":scope > title").text_content(), "each chart is named"
    assert pages == 3 + len(STUDIES) * (len(TABS) + 1)
    assert not problems, "\n".join(problems)


def test_forms_sent_back_with_problems_say_so_and_take_the_focus(desk: tuple[str, str]) -> None:
    base, secret = desk
    axe = Axe()
    with chromium_page() as page:
        page.goto(base + "/login")
        page.fill("#token", "not-a-token")
        page.click("#login")
        page.wait_for_selector("#token-error")
        assert page.get_attribute("#token", "aria-invalid") == "true"
        assert page.get_attribute("#token", "aria-describedby") == "token-error"
        assert page.get_attribute("#token-error", "role") == "alert"
        _expect_focus(page, "token", "back in the token field, its error read out")
        problems = _serious(page, axe, "login refused")

        log_in(page, base, secret)
        page.goto(base + "/dashboard/studies/ae-waiting/flows")
        page.fill("#yaml_text", "flow: understand\nsteps:\n  - id: story\n    type: nonsense\n")
        page.click("#validate")
        page.wait_for_selector("#problems li")
        assert page.get_attribute("#problems", "aria-live") == "polite"
        _expect_focus(page, "problems", "the problems found take the focus")
        problems += _serious(page, axe, "flows: problems")

        page.goto(base + "/dashboard/studies/ae-waiting/participants")
        page.locator("#participants tbody a").first.click()
        page.select_option("#field", "timezone")
        page.fill("#value", "Mars/Olympus")
        page.click("#save-field")
        page.wait_for_selector("#value-error")
        assert page.get_attribute("#value", "aria-describedby") == "value-error"
        assert page.get_attribute("#value-error", "role") == "alert"
        _expect_focus(page, "value", "the field in error takes the focus")
        problems += _serious(page, axe, "participant: field refused")
        screenshot(page, "a11y-field-refused")
    assert not problems, "\n".join(problems)


def _tab_to(page: Any, is_there: str, stops: list[dict[str, Any]], backwards: bool = False, limit: int = 60) -> None:
    """Press Tab (or Shift+Tab) until the focused element satisfies ``is_there`` (a JS
    expression of ``e``), noting each stop and whether its focus can be seen."""
    for _ in range(limit):
        page.keyboard.press("Shift+Tab" if backwards else "Tab")
        stop = page.evaluate(FOCUS_SEEN)
        assert stop is not None, "Tab left the page's controls"
        stops.append(stop)
        if page.evaluate(f"() => {{ const e = document.activeElement; return !!({is_there}); }}"):
            return
    raise AssertionError(f"Tab never reached {is_there}: {[s['name'] for s in stops[-limit:]]}")


def test_the_desk_and_the_simulator_work_with_the_keyboard_alone(desk: tuple[str, str]) -> None:
    base, secret = desk
    stops: list[dict[str, Any]] = []
    with chromium_page() as page:
        page.goto(base + "/login")
        _expect_focus(page, "token", "the token field takes the focus")
        page.keyboard.type(secret)
        page.keyboard.press("Enter")
        page.wait_for_url(base + "/dashboard")

        _tab_to(page, "e.classList.contains('skip')", stops)
        page.keyboard.press("Enter")
        assert page.evaluate("location.hash") == "#main", "the skip link goes to the content"
        _tab_to(page, "e.textContent.trim() === 'Waiting in A&E'", stops)
        page.keyboard.press("Enter")
        page.wait_for_url("**/studies/ae-waiting")

        _tab_to(page, "e.closest('nav.tabs') && e.textContent.trim() === 'Themes'", stops)
        page.keyboard.press("Enter")
        page.wait_for_url("**/ae-waiting/themes")
        _tab_to(page, "e.id === 'find-themes'", stops)
        page.keyboard.press("Enter")
        page.wait_for_selector("#themes-out section.theme h3", timeout=120_000)
        assert page.get_attribute("#themes-out-message", "aria-live") == "polite"
        assert page.inner_text("#themes-out-message").startswith("100%")

        _tab_to(page, "e.closest('nav.tabs') && e.textContent.trim() === 'Flows'", stops, backwards=True)
        page.keyboard.press("Enter")
        page.wait_for_url("**/ae-waiting/flows")
        _tab_to(page, "e.id === 'publish'", stops)
        page.keyboard.press("Enter")
        page.wait_for_selector("#published")
        _expect_focus(page, "published", "what was published takes the focus")
        stops.append(page.evaluate(FOCUS_SEEN))

        page.goto(base + "/")
        page.wait_for_selector("#study option", state="attached")
        _tab_to(page, "e.id === 'start'", stops)
        page.keyboard.press("Enter")
        page.wait_for_selector(".msg.bot")
        _expect_focus(page, "text", "the reply box is ready to type in")
        page.keyboard.type("yes")
        page.keyboard.press("Enter")
        # the consent question's own Yes/No buttons stay until the answer comes back: wait for the next question's
        page.wait_for_function("[...document.querySelectorAll('.choices button')].some((b) => b.textContent === 'Staff')")
        _tab_to(page, "e.closest('.choices') && e.textContent === 'Staff'", stops, backwards=True)
        screenshot(page, "a11y-simulator-choice-focused")
        page.keyboard.press("Enter")
        page.wait_for_function("document.querySelectorAll('.msg.me').length === 2")
        assert page.locator(".msg.me").all_inner_texts() == ["yes", "Staff"]
        page.wait_for_function("document.activeElement && document.activeElement.id === 'text'")
    unseen = [s["name"] for s in stops if not s["seen"]]
    assert len(stops) > 30 and not unseen, f"focus not visible at: {unseen}"


PHONE = {"width": 360, "height": 740}
OVERFLOW = """() => { const w = document.documentElement.clientWidth; const out = [];
  for (const e of document.querySelectorAll('main *')) { const r = e.getBoundingClientRect();
    if (r.width && r.right > w + 1 && !e.closest('.scrolls')) out.push((e.tagName + '#' + (e.id || '') + '.' + e.className).slice(0, 60)); }
  return {page: document.documentElement.scrollWidth, out: out.slice(0, 5)}; }"""


def test_every_desk_page_fits_a_phone_without_scrolling_sideways(desk: tuple[str, str]) -> None:
    """At 360 px no page, nor anything on it, is wider than the screen: tables' rows become
    cards whose cells carry their column's name, and stay a table to assistive technology."""
    base, secret = desk
    axe, wide, problems = Axe(), [], []
    with chromium_page() as page:
        page.set_viewport_size(PHONE)
        log_in(page, base, secret)
        for study_id in STUDIES:
            for tab in TABS:
                page.goto(base + f"/dashboard/studies/{study_id}{tab}")
                seen = page.evaluate(OVERFLOW)
                if seen["page"] > PHONE["width"] or seen["out"]:
                    wide.append(f"{study_id}{tab or '/'}: {seen}")
        page.goto(base + "/dashboard/studies/priorities/delphi")
        first = page.locator("section.delphi-item table.data.stacks tbody tr").first
        assert first.get_attribute("role") == "row"
        cells = first.locator("td")
        assert cells.nth(1).get_attribute("data-label") == "Scored", "a cell says its column"
        label = cells.nth(1).evaluate("e => getComputedStyle(e, '::before').content")
        assert label == '"Scored"', label
        box, row = cells.nth(1).bounding_box(), cells.nth(2).bounding_box()
        assert box and row and row["y"] > box["y"], "a row's cells stand one above the other"
        problems += _serious(page, axe, "delphi at 360 px")
        screenshot(page, "desk-delphi-phone")
        page.goto(base + "/dashboard/studies/ae-waiting/participants")
        problems += _serious(page, axe, "participants at 360 px")
        page.set_viewport_size({"width": 1200, "height": 800})
        assert page.locator("#participants td").first.evaluate("e => getComputedStyle(e).display") == "table-cell"
    assert not wide, "\n".join(wide)
    assert not problems, "\n".join(problems)
