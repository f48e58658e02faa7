"""The desk in a real browser (Debian's Chromium through Playwright): the completion funnel
says who may still answer and how the ended conversations ended, and a Delphi round shows
how many were unsure beside percentages that leave them out."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from channels.base import InboundMessage
from storage.auth import create_token
from tests.browser import chromium_page, log_in, running_server, screenshot
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


def _seed(app: Any) -> None:
    """Four joined: one still asked to consent, one said no, one said STOP, one went on to role;
    and a Delphi round where two of six were unsure."""
    service = app.state.chorus.service
    for n, reply in enumerate([None, "no", "STOP", "yes"]):
        service.join("web", f"sim-funnel-{n}", STUDY)
        if reply:
            service.receive(InboundMessage("web", f"sim-funnel-{n}", uuid.uuid4().hex, reply))
    version = app.state.chorus.studies.current(STUDY, "understand").id
    for n, score in enumerate([8, 9, 7, 3, None, None]):
        pid = service.join("web", f"sim-delphi-{n}", STUDY, group="patient").participant_id
        add_answers(app.state.chorus.database, delphi_rows(pid, "patient", STUDY, version, 1, {"Clear updates": score}))


def test_the_funnel_and_a_delphi_round_say_what_they_count(desk_url: tuple[str, Any]) -> None:
    base, app = desk_url
    secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", [STUDY], datetime.now(UTC))
    _seed(app)
    with chromium_page() as page:
        log_in(page, base, secret)
        page.goto(base + f"/dashboard/studies/{STUDY}")
        standing = page.inner_text("#standing-understand")
        assert "8 still open (may yet answer)" in standing, standing
        assert "1 stopped (STOP, or another flow took over)" in standing
        assert "ended: 1 declined (said no)" in standing
        table = page.locator("#funnel-understand table")
        assert "Of whom still open" in table.locator("thead").inner_text()
        consent = table.locator("tbody tr", has_text="consent").first.locator("td").all_inner_texts()
        assert consent[2:] == ["10", "9", "7"], "reached by ten (two answered); nine left or wait there, seven of them still open"
        screenshot(page, "desk-funnel-standing")

        page.goto(base + f"/dashboard/studies/{STUDY}/delphi")
        item = page.locator("#item-Clear\\ updates")
        headers = item.locator("thead th").all_inner_texts()
        assert headers[4:7] == ["% 7-9 of scored", "% 1-3 of scored", "Unsure (not in the %)"], headers
        everyone = item.locator("tbody tr").first.locator("td").all_inner_texts()
        assert everyone[0] == "Everyone" and everyone[1] == "4" and everyone[4:7] == ["75%", "25%", "2"], everyone
        assert "left out of them" in page.inner_text("#unsure-note")
        screenshot(page, "desk-delphi-unsure")
