"""Who may use the coordinator's desk (dashboard and API), and how often.

* The API takes ``Authorization: Bearer <token>``; the dashboard logs in with the same
  token and then keeps a server-side session, named by a random id in a signed,
  HttpOnly, Secure, SameSite=Strict cookie.
* Every route that shows a study checks the principal may see it; a study they may not
  see answers 404, exactly like a study that does not exist.
* Unsafe requests that rely on the cookie must carry a CSRF token (a form field or the
  ``X-CSRF-Token`` header) derived from the session id.
* Each token (and each client address that fails to authenticate) draws from a token
  bucket; an empty bucket answers 429 with ``Retry-After``.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from bot.api.jobs import JobRunner
from flows.loader import LoadedStudy
from storage import auth as tokens
from storage.auth import Principal
from storage.database import Database

COOKIE = "chorus_session"
CSRF_HEADER = "X-CSRF-Token"
Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


class LoginRequired(Exception):
    """A page was asked for without a live session: the handler redirects to /login."""

    def __init__(self, next_path: str) -> None:
        self.next_path = next_path


class TokenBucket:
    """Per-key token buckets: ``rate`` requests a second on average, bursts up to ``burst``."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate, self.burst = rate, burst
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def take(self, key: str, now: float) -> float | None:
        """Take one token; None if allowed, else the seconds until one is free."""
        with self._lock:
            level, then = self._buckets.get(key, (float(self.burst), now))
            level = min(float(self.burst), level + max(0.0, now - then) * self.rate)
            if level >= 1.0:
                self._buckets[key] = (level - 1.0, now)
                return None
            self._buckets[key] = (level, now)
            return (1.0 - level) / self.rate


@dataclass
class Desk:
    """The desk's shared state: clock, limits, jobs; the database and cookie secret are
    bound on first use (the app builds its database when it starts)."""

    database: Database = None  # type: ignore[assignment]
    secret: bytes = b""
    clock: Clock = utc_now
    session_ttl: timedelta = timedelta(hours=12)
    limiter: TokenBucket = field(default_factory=lambda: TokenBucket(rate=20.0, burst=120))
    jobs: JobRunner = field(default_factory=JobRunner)
    theme_finder: Callable[..., Any] | None = None
    """Finds themes in open answers (default: nlp.themes.find_themes, imported when first used)."""

    def sign(self, session_id: str) -> str:
        mac = hmac.new(self.secret, b"session:" + session_id.encode(), hashlib.sha256).hexdigest()
        return f"{session_id}.{mac}"

    def unsign(self, cookie: str) -> str | None:
        session_id, _, mac = cookie.rpartition(".")
        if not session_id or not hmac.compare_digest(self.sign(session_id), cookie):
            return None
        return session_id

    def csrf_for(self, session_id: str) -> str:
        return hmac.new(self.secret, b"csrf:" + session_id.encode(), hashlib.sha256).hexdigest()[:32]


_BIND = threading.Lock()


def desk_of(request: Request) -> Desk:
    desk: Desk = request.app.state.desk
    if desk.database is None:
        with _BIND:
            if desk.database is None:
                chorus = request.app.state.chorus
                desk.secret = hmac.new(chorus.settings.address_key(), b"chorus desk cookies", hashlib.sha256).digest()
                desk.database = chorus.database
    return desk


def _limit(desk: Desk, key: str) -> None:
    wait = desk.limiter.take(key, desk.clock().timestamp())
    if wait is not None:
        raise HTTPException(429, "too many requests; slow down", headers={"Retry-After": str(max(1, math.ceil(wait)))})


def _bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" and value.strip() else None


def _resolve(request: Request) -> tuple[Principal | None, str | None]:
    """The principal behind the request and, for a cookie login, its session id."""
    if hasattr(request.state, "principal"):
        return request.state.principal, request.state.session_id
    desk = desk_of(request)
    now = desk.clock()
    principal, session_id = None, None
    secret = _bearer(request)
    if secret is not None:
        principal = tokens.authenticate(desk.database, secret, now)
    elif (cookie := request.cookies.get(COOKIE)) and (session_id := desk.unsign(cookie)):
        principal = tokens.session_principal(desk.database, session_id, now)
    request.state.principal, request.state.session_id = principal, session_id if principal else None
    return principal, request.state.session_id


def _unauthenticated_limit(request: Request) -> None:
    client = request.client.host if request.client else "unknown"
    _limit(desk_of(request), f"anonymous:{client}")


async def _csrf(request: Request, session_id: str | None) -> None:
    """Cookie-authenticated writes need the session's CSRF token (bearer calls do not)."""
    if request.method in ("GET", "HEAD", "OPTIONS") or session_id is None:
        return
    expected = desk_of(request).csrf_for(session_id)
    given = request.headers.get(CSRF_HEADER)
    if given is None and "form" in request.headers.get("content-type", ""):
        value = (await request.form()).get("csrf")
        given = value if isinstance(value, str) else None
    if given is None or not hmac.compare_digest(given, expected):
        raise HTTPException(403, "missing or wrong CSRF token; reload the page and try again")


BEARER = HTTPBearer(auto_error=False, description="A token from `chorus token create`.")


async def api_principal(request: Request, _: HTTPAuthorizationCredentials | None = Depends(BEARER)) -> Principal:
    """FastAPI dependency for API routes: 401 without a live token or session."""
    principal, session_id = _resolve(request)
    if principal is None:
        _unauthenticated_limit(request)
        raise HTTPException(401, "a valid token is needed: Authorization: Bearer <token>",
                            headers={"WWW-Authenticate": "Bearer"})
    _limit(desk_of(request), f"token:{principal.token_id}")
    await _csrf(request, session_id)
    return principal


async def page_principal(request: Request) -> Principal:
    """FastAPI dependency for pages: without a live session, off to /login."""
    principal, session_id = _resolve(request)
    if principal is None:
        _unauthenticated_limit(request)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target if request.method == "GET" else "/dashboard")
    _limit(desk_of(request), f"token:{principal.token_id}")
    await _csrf(request, session_id)
    return principal


def csrf_token(request: Request) -> str:
    _, session_id = _resolve(request)
    return desk_of(request).csrf_for(session_id) if session_id else ""


def visible_study(request: Request, principal: Principal, study_id: str) -> LoadedStudy:
    """The study if this principal may see it; 404 otherwise (existence is not revealed)."""
    from bot.app import chorus_of

    studies = chorus_of(request).studies
    if study_id not in studies or not principal.can_see(study_id):
        raise HTTPException(404, f"no study '{study_id}'")
    return studies.get(study_id)


def require_change(principal: Principal) -> None:
    if not principal.can_change:
        raise HTTPException(403, "read-only (analyst) tokens cannot change anything")


def safe_next(target: str | None) -> str:
    """Only local paths: never redirect a login to another site."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/dashboard"
    return target


def ensure_admin_token(database: Database, path: Path, now: datetime | None = None) -> Path | None:
    """On a fresh deployment (no tokens at all), make one admin token and write it to
    ``path`` (mode 600). Returns the path when it made one."""
    if tokens.count_tokens(database) > 0:
        return None
    secret, _ = tokens.create_token(database, "first admin", "admin", [], now or utc_now())
    path.parent.mkdir(parents=True, exist_ok=True)
    path.unlink(missing_ok=True)
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w", encoding="utf-8") as handle:
        handle.write(secret + "\n")
    return path
