"""Who may use the web chat simulator (CHORUS_SIMULATOR): anyone on the local try-out, only
the desk's signed-in users once a messaging channel is configured, or nobody; and a too-long
message gets a short 422 that does not echo it."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.auth import COOKIE, CSRF_HEADER
from bot.settings import Settings
from bot.webhooks import ChannelHub
from channels.telegram import TelegramSettings
from storage.auth import create_token
from tests.desk_helpers import OTHER, two_studies

STUDY = "ae-waiting"
Client = Callable[..., Any]


@pytest.fixture
def simulator(tmp_path: Path) -> Client:
    """Opens a client on an app with the given settings (and channel hub), two studies in it."""
    studies = two_studies(tmp_path)

    @contextmanager
    def make(hub: ChannelHub | None = None, **settings: Any) -> Iterator[TestClient]:
        made = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=studies,
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys", **settings)
        app = create_app(made)
        if hub is not None:
            app.state.channels = hub
        with TestClient(app, base_url="https://testserver") as client:
            yield client

    return make


def token(client: TestClient, role: str = "coordinator", studies: tuple[str, ...] = (STUDY,)) -> str:
    secret, _ = create_token(client.app.state.chorus.database, "tester", role, list(studies), datetime.now(UTC))  # type: ignore[attr-defined]
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}


def chat(client: TestClient, study: str = STUDY, headers: dict[str, str] | None = None) -> str:
    started = client.post("/api/simulator/sessions", json={"study": study}, headers=headers or {})
    assert started.status_code == 200, started.text
    assert started.json()["messages"], "the study's first message comes back"
    session: str = started.json()["session"]
    replied = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": "yes"}, headers=headers or {})
    assert replied.status_code == 200, replied.text
    assert replied.json()["messages"]
    return session


def test_the_local_try_out_is_open_to_anyone(simulator: Client) -> None:
    with simulator() as client:  # no channel configured: scripts/run
        page = client.get("/")
        assert page.status_code == 200 and "chat simulator" in page.text
        assert '<meta name="csrf-token" content="">' in page.text
        studies = client.get("/api/simulator/studies").json()["studies"]
        assert {s["id"] for s in studies} == {STUDY, OTHER}
        chat(client, OTHER)


@pytest.mark.parametrize("channel", [
    {"telegram_token": "123:secret"},
    {"twilio_account_sid": "AC0123456789"},
    {"telegram_bot": "123:secret"},  # TELEGRAM_BOT_TOKEN, as compose.yaml sets it: the app's channels have Telegram
])
def test_with_a_messaging_channel_configured_the_simulator_is_for_coordinators(simulator: Client, channel: dict[str, Any]) -> None:
    if "telegram_bot" in channel:
        channel = {"hub": ChannelHub(telegram_settings=TelegramSettings(channel["telegram_bot"]))}
    with simulator(**channel) as client:
        assert client.get("/api/simulator/studies").status_code == 401
        assert client.post("/api/simulator/sessions", json={"study": STUDY}).status_code == 401
        assert client.get("/", follow_redirects=False).status_code == 303
        chat(client, headers=bearer(token(client)))


def test_an_explicit_setting_wins_over_the_default(simulator: Client) -> None:
    with simulator(telegram_token="123:secret", simulator="open") as client:
        chat(client)
    with simulator(simulator="coordinators") as client:
        assert client.get("/api/simulator/studies").status_code == 401


def test_coordinators_mode_needs_a_token_and_shows_only_their_studies(simulator: Client) -> None:
    with simulator(simulator="coordinators") as client:
        response = client.post("/api/simulator/sessions", json={"study": STUDY})
        assert response.status_code == 401 and response.headers["WWW-Authenticate"] == "Bearer"
        assert client.post("/api/simulator/sessions/sim-guess/messages", json={"text": "yes"}).status_code == 401
        assert client.get("/api/simulator/studies", headers=bearer("chorus_not-a-token")).status_code == 401

        page = client.get("/", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login?next=/"

        mine = bearer(token(client))
        listed = client.get("/api/simulator/studies", headers=mine).json()["studies"]
        assert [s["id"] for s in listed] == [STUDY]
        chat(client, STUDY, mine)
        refused = client.post("/api/simulator/sessions", json={"study": OTHER}, headers=mine)
        assert refused.status_code == 404 and refused.json()["detail"] == f"no study '{OTHER}'"
        missing = client.post("/api/simulator/sessions", json={"study": "no-such-study"}, headers=mine)
        assert missing.status_code == 404, "a study they may not see answers exactly like one that does not exist"

        admin = bearer(token(client, "admin", ()))
        assert {s["id"] for s in client.get("/api/simulator/studies", headers=admin).json()["studies"]} == {STUDY, OTHER}
        theirs = chat(client, OTHER, admin)
        sneaked = client.post(f"/api/simulator/sessions/{theirs}/messages", json={"text": "2"}, headers=mine)
        assert sneaked.status_code == 404, "no answers into a session of a study the token cannot see"


def test_a_dashboard_session_uses_the_page_and_its_csrf_token(simulator: Client) -> None:
    with simulator(simulator="coordinators") as client:
        login = client.post("/login", data={"token": token(client), "next": "/"}, follow_redirects=False)
        assert login.status_code == 303 and login.headers["location"] == "/", "back to the simulator after logging in"
        assert client.cookies.get(COOKIE)

        page = client.get("/")
        assert page.status_code == 200 and page.headers["cache-control"] == "no-store"
        found = re.search(r'<meta name="csrf-token" content="([0-9a-f]+)">', page.text)
        assert found, "the page carries the session's CSRF token"
        csrf = {CSRF_HEADER: found.group(1)}

        assert client.get("/api/simulator/studies").status_code == 200, "reading needs no CSRF token"
        forged = client.post("/api/simulator/sessions", json={"study": STUDY})
        assert forged.status_code == 403 and "CSRF" in forged.json()["detail"]
        wrong = client.post("/api/simulator/sessions", json={"study": STUDY}, headers={CSRF_HEADER: "0" * 32})
        assert wrong.status_code == 403
        session = chat(client, STUDY, csrf)
        assert client.post(f"/api/simulator/sessions/{session}/messages", json={"text": "2"}).status_code == 403


def test_off_hides_the_page_and_the_api(simulator: Client) -> None:
    with simulator(simulator="off") as client:
        admin = bearer(token(client, "admin", ()))
        assert client.get("/").status_code == 404
        assert client.get("/", headers=admin).status_code == 404
        assert client.get("/api/simulator/studies", headers=admin).status_code == 404
        assert client.post("/api/simulator/sessions", json={"study": STUDY}, headers=admin).status_code == 404
        assert client.post("/api/simulator/sessions/sim-x/messages", json={"text": "yes"}).status_code == 404


def test_a_too_long_message_gets_a_short_422_without_its_text(simulator: Client) -> None:
    with simulator() as client:
        session = client.post("/api/simulator/sessions", json={"study": STUDY}).json()["session"]
        text = "A" * 4096
        assert client.post(f"/api/simulator/sessions/{session}/messages", json={"text": text}).status_code == 200
        long_text = "A" * 4999 + "Z"
        response = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": long_text})
        assert response.status_code == 422
        assert response.json() == {"detail": "a message may be at most 4096 characters"}
        assert "AAAAAAAAAA" not in response.text and len(response.content) < 200
        button = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": "", "button": "B" * 300})
        assert button.status_code == 422 and "BBBBBBBBBB" not in button.text


def test_settings_read_chorus_simulator() -> None:
    assert Settings.from_env({"CHORUS_SIMULATOR": "off"}).simulator == "off"
    assert Settings.from_env({}).simulator is None
    with pytest.raises(ValueError, match="CHORUS_SIMULATOR"):
        Settings.from_env({"CHORUS_SIMULATOR": "everyone"})


@pytest.mark.browser
def test_a_coordinator_logs_in_from_the_simulator_and_chats_in_a_real_browser(tmp_path: Path) -> None:
    from tests.browser import chromium_page, running_server

    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys", simulator="coordinators")
    app = create_app(settings)
    with running_server(app) as base, chromium_page() as page:
        secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", [STUDY], datetime.now(UTC))
        page.goto(base + "/")
        page.wait_for_url("**/login?next=/")
        page.fill("#token", secret)
        page.click("#login")
        page.wait_for_url(base + "/")
        page.wait_for_selector("#study option", state="attached")
        assert page.locator("#study option").all_inner_texts() == ["Waiting in A&E"], "only the studies the token may see"
        page.click("#start")  # a POST with the page's CSRF token
        page.wait_for_selector(".msg.bot")
        page.click(".choices button[data-value='yes']")
        page.wait_for_selector("text=Which best describes you?")
        assert not page.locator(".msg.system").count(), page.locator(".msg.system").all_inner_texts()
