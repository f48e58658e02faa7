"""The desk's Themes page in a real browser (Debian's Chromium through Playwright): a
coordinator picks an open question, finds its themes, and the themes shown carry no phone
number, e-mail or name from the answers."""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from storage.auth import create_token
from tests import browser
from tests.desk_helpers import add_answers, two_studies
from tests.test_themes_desk_privacy import IDEAS, IDENTIFIERS, STORIES, STUDY

pytestmark = pytest.mark.browser
PORTS = itertools.count(8300)
"""The ports this file's servers take (8300-8319)."""


@pytest.fixture
def desk(migrated_database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, str]]:
    """A served desk with answers to two open questions: (base URL, a coordinator's token)."""
    monkeypatch.setattr(browser, "free_port", lambda: next(PORTS))
    settings = Settings(database_url=migrated_database_url, studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with browser.running_server(app) as base:
        chorus = app.state.chorus
        for flow, step, texts in (("understand", "story", STORIES), ("codesign", "idea", IDEAS)):
            version = chorus.studies.current(STUDY, flow).id
            for n, text in enumerate(texts):
                pid = chorus.service.join("web", f"sim-{step}-{n}", STUDY, group="patient").participant_id
                add_answers(chorus.database, [{"participant_id": pid, "study_id": STUDY, "flow_id": flow, "flow_version_id": version,
                                               "flow_version": "v", "step_id": step, "value": text, "display": text}])
        secret, _ = create_token(chorus.database, "Dr Rhys", "coordinator", [STUDY], datetime.now(UTC))
        yield base, secret


def test_the_coordinator_finds_themes_for_the_question_picked_with_identifiers_masked(desk: tuple[str, str]) -> None:
    base, secret = desk
    with browser.chromium_page() as page:
        browser.log_in(page, base, secret)
        page.goto(base + f"/dashboard/studies/{STUDY}/themes")
        page.get_by_role("link", name=re.compile("What one change would make waiting better")).click()
        page.wait_for_selector('#themes-for[data-step="idea"]')
        page.click("#find-themes")
        page.wait_for_selector("#themes-out section.theme", timeout=120_000)
        shown = page.inner_text("main")
        browser.screenshot(page, "themes-idea")
    assert "Themes in the answers to: What one change would make waiting better?" in shown
    assert "[EMAIL]" in shown or "[NAME]" in shown or "[PHONE]" in shown, "masked answers are quoted"
    assert not IDENTIFIERS.findall(shown), shown
    assert not any(story[:30] in shown for story in STORIES), "only the answers to the question picked"
