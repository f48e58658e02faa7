"""A coordinator in Chromium changes a live study (tests/test_live_changes_answers.py's crisis-team
study) while participants are mid-conversation: the desk says, before publishing, that the new
version would mix or split the answers already given, takes the focus there, and publishes only
when "Publish anyway" is chosen, which the keyboard reaches; the Rankings tab still shows an
option the new version dropped. The page passes axe."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from axe_playwright_python.sync_playwright import Axe

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from channels.base import InboundMessage
from storage.auth import create_token
from tests.browser import chromium_page, log_in, running_server
from tests.test_accessibility import WCAG_22_AA
from tests.test_live_changes_answers import EXPERIENCE, STUDY, STUDY_ID, WIDER

pytestmark = pytest.mark.browser
WIDER_WITHOUT_CARERS = WIDER.replace("{value: carers,", "{value: family,")


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str, object]]:
    """``chorus serve`` on SQLite with the study answered by three people (one mid-way):
    (base URL, a coordinator's token, the app)."""
    root = tmp_path_factory.mktemp("live-changes")
    folder = root / "studies" / STUDY_ID
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "experience.yaml").write_text(EXPERIENCE, encoding="utf-8")
    settings = Settings(database_url=f"sqlite:///{root / 'chorus.db'}", studies_dir=root / "studies",
                        key_file=root / "chorus.key", data_key_file=root / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        service = app.state.chorus.service
        for phone, texts in (("+447700900510", ["CRISIS", "yes", "5", "A call back", "3 1"]),
                             ("+447700900520", ["CRISIS", "yes", "2", "A named worker", "1 2"]),
                             ("+447700900530", ["CRISIS", "yes", "4"])):
            for text in texts:
                service.receive(InboundMessage("sms", phone, uuid.uuid4().hex, text))
        secret, _ = create_token(app.state.chorus.database, "Dr Jones", "coordinator", [STUDY_ID], datetime.now(UTC))
        yield base, secret, app


def test_the_desk_asks_before_a_change_that_mixes_answers_and_the_keyboard_publishes_it(desk: tuple[str, str, object]) -> None:
    base, secret, app = desk
    registry = app.state.chorus.studies  # type: ignore[attr-defined]
    live = registry.current(STUDY_ID, "experience")
    with chromium_page() as page:
        log_in(page, base, secret)
        page.goto(base + f"/dashboard/studies/{STUDY_ID}/flows")
        page.fill("#yaml_text", WIDER_WITHOUT_CARERS)
        page.click("#publish")
        page.wait_for_selector("#not-published")
        page.wait_for_function("document.activeElement && document.activeElement.id === 'problems'")
        said = page.inner_text("#problems")
        assert "Not published yet" in said and "asks 0-10, but 3 answers on 1-5 stand" in said and "'carers'" in said
        assert registry.current(STUDY_ID, "experience") == live, "nothing published yet"
        assert page.input_value("#yaml_text").replace("\r\n", "\n") == WIDER_WITHOUT_CARERS, "the pasted text is kept"
        found = Axe().run(page, options=WCAG_22_AA).response["violations"]
        assert not [v["id"] for v in found if v["impact"] in ("serious", "critical")]

        for _ in range(10):  # from the problems, through the form, to "Publish anyway"
            page.keyboard.press("Tab")
            if page.evaluate("document.activeElement.id") == "publish-anyway":
                break
        assert page.evaluate("document.activeElement.id") == "publish-anyway"
        page.keyboard.press("Enter")
        page.wait_for_selector("#published")
        assert registry.current(STUDY_ID, "experience") != live

        page.goto(base + f"/dashboard/studies/{STUDY_ID}/ranking")
        assert "Support for carers" in page.inner_text("main"), "the dropped option's rankings are still shown"
