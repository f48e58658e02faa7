"""The web chat simulator in a real browser: a whole conversation through the example study."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.app import create_app
from bot.settings import Settings
from tests.browser import chromium_page, running_server, screenshot

pytestmark = pytest.mark.browser


@pytest.fixture
def chorus_url(tmp_path: Path, example_study_path: Path) -> object:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=example_study_path,
                        key_file=tmp_path / "chorus.key")
    with running_server(create_app(settings)) as base:
        yield base


def _bot_messages(page: object) -> list[str]:
    return page.locator(".msg.bot").all_inner_texts()  # type: ignore[attr-defined, no-any-return]


def test_a_participant_completes_the_example_study_in_the_simulator(chorus_url: str) -> None:
    with chromium_page() as page:
        page.goto(chorus_url + "/")
        page.wait_for_selector("#study option", state="attached")
        assert page.locator("#study").input_value() == "ae-waiting"
        page.click("#start")
        page.wait_for_selector(".msg.bot")
        assert "Reply YES to take part" in _bot_messages(page)[0]

        page.click(".choices button[data-value='yes']")  # tap a button
        page.wait_for_selector("text=Which best describes you?")
        page.click(".choices button[data-value='carer']")
        page.wait_for_selector("text=How many times have you been")
        page.fill("#text", "three")
        page.press("#text", "Enter")
        page.wait_for_selector("text=What was waiting like?")
        page.fill("#text", "Long and cold, nobody told us anything")
        page.click("#send")
        page.wait_for_selector("text=How well were you kept informed")
        assert page.locator(".choices button").count() == 5
        page.fill("#text", "banana")  # an unclear answer gets a specific retry
        page.press("#text", "Enter")
        page.wait_for_selector("text=Please tap one of the buttons, or reply with words such as 'Very poorly'")
        page.click(".choices button[data-value='2']")
        page.wait_for_selector("text=What you told us goes straight to the team")
        page.wait_for_selector("text=The conversation has ended")

        sent = page.locator(".msg.me").all_inner_texts()
        assert sent == ["Yes", "Carer or family", "three", "Long and cold, nobody told us anything", "banana", "Poorly"]
        assert "Thank you for your time." in _bot_messages(page)[-1]
        screenshot(page, "simulator-conversation")


def test_the_simulator_speaks_welsh_and_honours_stop(chorus_url: str) -> None:
    with chromium_page() as page:
        page.goto(chorus_url + "/")
        page.wait_for_selector("#study option", state="attached")
        page.select_option("#language", "cy")
        page.select_option("#flow", "evaluate")
        page.click("#start")
        page.wait_for_selector("text=Yn gyffredinol, sut oedd eich profiad")
        page.fill("#text", "STOP")
        page.press("#text", "Enter")
        page.wait_for_selector("text=Chewch chi ddim rhagor o negeseuon")
        page.fill("#text", "2")
        page.press("#text", "Enter")
        page.wait_for_timeout(500)
        assert _bot_messages(page)[-1].startswith("Chewch chi ddim rhagor"), "nothing is sent after STOP"
