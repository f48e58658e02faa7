"""Access to the desk: every route needs a login, a coordinator sees only their study,
tokens expire and can be revoked, cookies are signed and CSRF-checked, rates are limited."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import fastapi.routing
import pytest
from click.testing import CliRunner
from fastapi import FastAPI

from bot.auth import COOKIE, ensure_admin_token
from bot.cli import cli
from storage.auth import authenticate, list_tokens, revoke_token
from tests.desk_helpers import OTHER, Desk, add_answers, add_flag, add_held, delphi_rows, desk_app

PUBLIC = {"/", "/health", "/ready", "/login", "/desk-static", "/docs-static", "/metrics"}  # /metrics: its own guard (tests/test_operations.py); the static: public libraries
PUBLIC_PREFIXES = ("/api/simulator/", "/webhooks/", "/media/")  # participants' and providers' doors (/media: signed links Twilio fetches), not the desk
SECRET_WORDS = ("other-secret-story", "other-flag-message", "other-held-reason")


def routes(app: FastAPI) -> list[tuple[str, str]]:
    """Every (method, path template) the app serves, included routers flattened."""
    found = []
    for context in fastapi.routing.iter_route_contexts(app.routes):
        for method in sorted(context.methods or {"GET"}):
            found.append((method, context.path or ""))
    return found


def desk_routes(app: FastAPI) -> list[tuple[str, str]]:
    return [(m, p) for m, p in routes(app) if p not in PUBLIC and not p.startswith(PUBLIC_PREFIXES)]


def fill(path: str, study: str, values: dict[str, str]) -> str:
    return re.sub(r"{(\w+)}", lambda m: study if m.group(1) == "study_id" else values.get(m.group(1), "1"), path)


PARAMS = {"kind": "funnel", "name": "answers.csv"}
QUERY = {"/charts/": "?flow=understand"}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        yield made


def _seed_other_study(desk: Desk) -> dict[str, Any]:
    pid, version = desk.join(OTHER, "carer")
    add_answers(desk.database, delphi_rows(pid, "carer", OTHER, version, 1, {"other-secret-story": 8}))
    add_answers(desk.database, [{"participant_id": pid, "study_id": OTHER, "flow_id": "understand", "flow_version_id": version,
                                 "flow_version": "v", "step_id": "story", "value": "other-secret-story", "display": "other-secret-story"}])
    flag = add_flag(desk.database, OTHER, pid, message="other-flag-message")
    add_held(desk.database, OTHER, pid, "other-held-reason")
    admin = desk.token("admin", (), name="admin")
    job = desk.client.post(f"/api/v1/studies/{OTHER}/exports", json={"format": "csv"},
                           headers={"Authorization": f"Bearer {admin}"}).json()["id"]
    return {"participant": pid, "flag_id": str(flag), "job_id": job}


def _login(desk: Desk, token: str) -> str:
    response = desk.client.post("/login", data={"token": token, "next": "/dashboard"}, follow_redirects=False)
    assert response.status_code == 303, response.text
    page = desk.client.get("/dashboard")
    found = re.search(r'name="csrf-token" content="([^"]+)"', page.text)
    assert found
    return found.group(1)


def test_no_desk_page_or_api_route_works_without_login(desk: Desk) -> None:
    checked = desk_routes(desk.app)
    assert len(checked) >= 35, "the route list should cover the whole desk"
    for method, template in checked:
        url = fill(template, "ae-waiting", PARAMS)
        response = desk.client.request(method, url, follow_redirects=False)
        if template.startswith("/api/") or template == "/openapi.json":
            assert response.status_code == 401, (method, url, response.status_code)
        else:
            assert response.status_code == 303, (method, url, response.status_code)
            assert response.headers["location"].startswith("/login")


def test_a_page_asked_for_without_login_leads_back_to_it_after_login(desk: Desk) -> None:
    token = desk.token()
    response = desk.client.get("/dashboard/studies/ae-waiting/delphi", follow_redirects=True)
    assert response.url.path == "/login" and "Log in" in response.text
    after = desk.client.post("/login", data={"token": token, "next": "/dashboard/studies/ae-waiting/delphi"})
    assert after.url.path == "/dashboard/studies/ae-waiting/delphi" and "Delphi" in after.text


def test_a_coordinator_of_one_study_cannot_see_another_through_any_route(desk: Desk) -> None:
    seeded = _seed_other_study(desk)
    own_pid, own_version = desk.join("ae-waiting")
    own_flag = add_flag(desk.database, "ae-waiting", own_pid)
    token = desk.token("coordinator", ("ae-waiting",))
    csrf = _login(desk, token)
    bearer = {"Authorization": f"Bearer {token}"}
    values = {**PARAMS, "flag_id": seeded["flag_id"], "job_id": seeded["job_id"]}
    for method, template in desk_routes(desk.app):
        if template in ("/logout",):
            continue
        url = fill(template, OTHER, values) + next((q for k, q in QUERY.items() if k in template), "")
        api = template.startswith("/api/") or template == "/openapi.json"
        headers = bearer if api else {}
        data = None if api or method == "GET" else {"csrf": csrf}
        body = {"format": "csv"} if api and method == "POST" else None
        response = desk.client.request(method, url, headers=headers, data=data, json=body, follow_redirects=False)
        if "{study_id}" in template or "{job_id}" in template:
            assert response.status_code == 404, (method, url, response.status_code, response.text[:200])
        text = response.text
        assert not any(word in text for word in SECRET_WORDS), (method, url)
        assert seeded["participant"] not in text, (method, url)
        if "{study_id}" not in template and "{job_id}" not in template:
            assert OTHER not in text, (method, url)
    # the same requests against the coordinator's own study work (the test's requests are well-formed)
    for template in ("/api/v1/studies/{study_id}/participants", "/dashboard/studies/{study_id}/alerts"):
        response = desk.client.get(fill(template, "ae-waiting", values), headers=bearer)
        assert response.status_code == 200 and own_pid in response.text
    # an alert of the other study cannot be acknowledged through the coordinator's own study
    response = desk.client.post(f"/api/v1/studies/ae-waiting/flags/{seeded['flag_id']}/acknowledge", headers=bearer)
    assert response.status_code == 404
    assert desk.client.post(f"/api/v1/studies/ae-waiting/flags/{own_flag}/acknowledge", headers=bearer).status_code == 200
    assert own_version > 0


def test_a_token_for_every_study_sees_both(desk: Desk) -> None:
    token = desk.token("analyst", ("*",))
    studies = desk.client.get("/api/v1/studies", headers={"Authorization": f"Bearer {token}"}).json()["items"]
    assert sorted(s["id"] for s in studies) == ["ae-waiting", OTHER]


def test_tokens_expire_for_the_api_and_the_dashboard(desk: Desk) -> None:
    token = desk.token(lifetime=timedelta(hours=1))
    headers = {"Authorization": f"Bearer {token}"}
    assert desk.client.get("/api/v1/me", headers=headers).status_code == 200
    _login(desk, token)
    assert desk.client.get("/dashboard", follow_redirects=False).status_code == 200
    desk.clock.advance(timedelta(minutes=61))
    assert desk.client.get("/api/v1/me", headers=headers).status_code == 401
    response = desk.client.get("/dashboard", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    assert desk.client.post("/login", data={"token": token}).status_code == 401


def test_a_dashboard_session_ends_after_its_lifetime_even_with_a_live_token(desk: Desk) -> None:
    _login(desk, desk.token())
    desk.clock.advance(timedelta(hours=11))
    assert desk.client.get("/dashboard", follow_redirects=False).status_code == 200
    desk.clock.advance(timedelta(hours=2))
    assert desk.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_a_revoked_token_stops_working_and_ends_its_sessions(desk: Desk) -> None:
    token = desk.token()
    _login(desk, token)
    token_id = authenticate(desk.database, token, desk.clock.now).token_id  # type: ignore[union-attr]
    assert revoke_token(desk.database, token_id, desk.clock.now)
    assert desk.client.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"}).status_code == 401
    assert desk.client.get("/dashboard", follow_redirects=False).status_code == 303
    assert not revoke_token(desk.database, token_id, desk.clock.now), "revoking twice says so"


def test_log_out_ends_the_session(desk: Desk) -> None:
    csrf = _login(desk, desk.token())
    cookie = desk.client.cookies.get(COOKIE)
    assert desk.client.post("/logout", data={"csrf": csrf}, follow_redirects=False).status_code == 303
    desk.client.cookies.clear()
    desk.client.cookies.set(COOKIE, cookie or "")
    assert desk.client.get("/dashboard", follow_redirects=False).status_code == 303


def test_the_session_cookie_is_secure_httponly_strict_and_signed(desk: Desk) -> None:
    token = desk.token()
    response = desk.client.post("/login", data={"token": token}, follow_redirects=False)
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "Secure" in cookie and "samesite=strict" in cookie.lower()
    assert token not in cookie
    value = desk.client.cookies.get(COOKIE) or ""
    session_id, _, mac = value.rpartition(".")
    for forged in (f"{session_id}.{'0' * len(mac)}", "forged.cookie", session_id):
        desk.client.cookies.clear()
        desk.client.cookies.set(COOKIE, forged)
        assert desk.client.get("/dashboard", follow_redirects=False).status_code == 303, forged
    desk.client.cookies.clear()
    desk.client.cookies.set(COOKIE, value)
    assert desk.client.get("/dashboard", follow_redirects=False).status_code == 200, "the genuine cookie still works"


def test_cookie_writes_need_the_csrf_token(desk: Desk) -> None:
    pid, _ = desk.join("ae-waiting")
    flag = add_flag(desk.database, "ae-waiting", pid)
    csrf = _login(desk, desk.token())
    url = f"/dashboard/studies/ae-waiting/alerts/{flag}/acknowledge"
    assert desk.client.post(url, data={"csrf": "wrong"}, follow_redirects=False).status_code == 403
    assert desk.client.post(f"/api/v1/studies/ae-waiting/flags/{flag}/acknowledge").status_code == 403
    assert desk.client.post(url, data={"csrf": csrf}, follow_redirects=False).status_code == 303


def test_login_goes_only_to_local_pages(desk: Desk) -> None:
    token = desk.token()
    for target in ("https://evil.example/", "//evil.example/x", "/\\evil"):
        response = desk.client.post("/login", data={"token": token, "next": target}, follow_redirects=False)
        assert response.headers["location"] == "/dashboard"


def test_an_analyst_reads_but_cannot_publish_or_acknowledge(desk: Desk) -> None:
    pid, _ = desk.join("ae-waiting")
    flag = add_flag(desk.database, "ae-waiting", pid)
    headers = {"Authorization": f"Bearer {desk.token('analyst')}"}
    assert desk.client.get("/api/v1/studies/ae-waiting/flags", headers=headers).status_code == 200
    assert desk.client.post(f"/api/v1/studies/ae-waiting/flags/{flag}/acknowledge", headers=headers).status_code == 403
    assert desk.client.post("/api/v1/studies/ae-waiting/flows/publish", headers=headers, json={}).status_code == 403


def test_too_many_requests_get_429_with_retry_after(tmp_path: Path) -> None:
    with desk_app(tmp_path, rate=0.5, burst=3) as desk:
        headers = {"Authorization": f"Bearer {desk.token()}"}
        codes = [desk.client.get("/api/v1/me", headers=headers).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        limited = desk.client.get("/api/v1/me", headers=headers)
        assert limited.status_code == 429 and int(limited.headers["retry-after"]) >= 1
        desk.clock.advance(timedelta(seconds=2))
        assert desk.client.get("/api/v1/me", headers=headers).status_code == 200
        anonymous = [desk.client.get("/api/v1/me", headers={"Authorization": "Bearer nonsense"}).status_code for _ in range(5)]
        assert anonymous[-1] == 429, "failed logins are limited too"


def test_the_first_run_makes_one_admin_token_readable_only_by_its_owner(desk: Desk, tmp_path: Path) -> None:
    path = tmp_path / "var" / "admin-token"
    assert ensure_admin_token(desk.database, path, desk.clock.now) == path
    assert os.stat(path).st_mode & 0o777 == 0o600
    principal = authenticate(desk.database, path.read_text().strip(), desk.clock.now)
    assert principal is not None and principal.is_admin
    assert ensure_admin_token(desk.database, path, desk.clock.now) is None, "only when there are no tokens"


def test_chorus_token_create_list_and_revoke(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    runner = CliRunner()
    made = runner.invoke(cli, ["token", "create", "--study", "ae-waiting", "--name", "Rhys", "--expires", "30d", "--database", url])
    assert made.exit_code == 0, made.output
    secret = made.stdout.strip().splitlines()[-1]
    assert secret.startswith("chorus_")
    listed = runner.invoke(cli, ["token", "list", "--database", url])
    assert "Rhys" in listed.output and "live" in listed.output and secret not in listed.output
    assert runner.invoke(cli, ["token", "create", "--database", url]).exit_code != 0, "a study (or admin) is required"
    assert runner.invoke(cli, ["token", "create", "--study", "x", "--expires", "soon", "--database", url]).exit_code != 0
    revoked = runner.invoke(cli, ["token", "revoke", "1", "--database", url])
    assert revoked.exit_code == 0 and "revoked" in revoked.output
    assert "revoked" in runner.invoke(cli, ["token", "list", "--database", url]).output
    user = runner.invoke(cli, ["user", "create", "Ana", "--role", "analyst", "--study", "ae-waiting", "--database", url])
    assert user.exit_code == 0
    from storage.database import Database

    database = Database(url)
    assert [(t.name, t.role) for t in list_tokens(database)] == [("Rhys", "coordinator"), ("Ana", "analyst")]
    database.dispose()
