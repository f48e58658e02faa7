"""The API's docs page (/docs) works with no internet and loads nothing from elsewhere. It used
FastAPI's default Swagger UI, whose script and styles come from a public CDN: on a health
board's network without one the page was blank, and elsewhere a third-party script ran beside
the coordinator's session. Now Chorus serves Swagger UI itself (fastapi-offline's copy of Swagger UI 5). In Debian's
Chromium through Playwright, every request that leaves loopback is refused and recorded."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import httpx
import pytest

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from storage.auth import create_token
from tests.browser import chromium_page, log_in, running_server

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    root = tmp_path_factory.mktemp("docs")
    shutil.copytree(ROOT / "flows" / "examples" / "ae-waiting", root / "studies" / "ae-waiting")
    settings = Settings(database_url=f"sqlite:///{root / 'chorus.db'}", studies_dir=root / "studies",
                        key_file=root / "chorus.key", data_key_file=root / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with running_server(app) as base:
        secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", ["ae-waiting"], datetime.now(UTC))
        yield base, secret


def test_the_docs_page_shows_every_operation_with_nothing_fetched_from_elsewhere(desk: tuple[str, str]) -> None:
    base, token = desk
    elsewhere: list[str] = []

    def only_loopback(route: Any) -> None:
        if urlparse(route.request.url).hostname in ("127.0.0.1", "localhost"):
            route.continue_()
        else:
            elsewhere.append(route.request.url)
            route.abort()

    with chromium_page() as page:
        page.route("**/*", only_loopback)
        log_in(page, base, token)
        page.goto(base + "/docs")
        page.wait_for_selector(".opblock", timeout=20_000)
        operations = page.locator(".opblock-summary-path").all_inner_texts()
        assert any(path.startswith("/api/v1/studies") for path in operations), operations
        assert page.locator(".information-container .title").inner_text().startswith("Chorus")
    assert elsewhere == [], "the docs page asked for something off this machine"


def test_the_docs_page_still_needs_a_login_and_its_script_is_served_here(desk: tuple[str, str]) -> None:
    base, _ = desk
    anonymous = httpx.get(base + "/docs", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"].startswith("/login")
    script = httpx.get(base + "/docs-static/swagger-ui-bundle.js")
    assert script.status_code == 200 and "SwaggerUIBundle" in script.text[:5000] + script.text[-5000:]
