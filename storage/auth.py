"""Coordinator access: API tokens and dashboard sessions.

A token is shown once, when it is made, and stored only as its SHA-256 hash (tokens
are 256 random bits, so a fast hash is enough: there is nothing to brute-force). Each
token has a role (admin, coordinator, analyst), the studies it may see ('*' for all),
an optional expiry and a revocation time. A dashboard session is a random id, also
stored only as a hash, that points at the token that logged in; it ends when it
expires, when its token is revoked or expires, or at log-out.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Index, UniqueConstraint, select, update
from sqlmodel import Field, SQLModel

from storage.database import Database
from storage.tables import UTCDateTime, table

ROLES = ("admin", "coordinator", "analyst")
ALL_STUDIES = "*"
TOKEN_PREFIX = "chorus_"


def _when(nullable: bool = False) -> Any:
    return Field(default=None, sa_type=UTCDateTime, nullable=nullable)


class CoordinatorToken(SQLModel, table=True):
    __tablename__ = "coordinator_tokens"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_coordinator_tokens_token_hash"),)

    id: int | None = Field(default=None, primary_key=True)
    name: str
    """Who holds it, e.g. 'Dr Rhys (ae-waiting)'. Shown in the audit log."""
    role: str
    studies: list[str] = Field(default_factory=list, sa_type=JSON, nullable=False)
    token_hash: str = Field(max_length=64)
    hint: str = Field(max_length=16)
    """The token's first characters, to tell tokens apart in a list."""
    created_at: datetime = _when()
    expires_at: datetime | None = _when(nullable=True)
    revoked_at: datetime | None = _when(nullable=True)
    last_used_at: datetime | None = _when(nullable=True)


class DashboardSession(SQLModel, table=True):
    __tablename__ = "dashboard_sessions"
    __table_args__ = (
        UniqueConstraint("session_hash", name="uq_dashboard_sessions_session_hash"),
        Index("ix_dashboard_sessions_token_id", "token_id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    session_hash: str = Field(max_length=64)
    token_id: int = Field(foreign_key="coordinator_tokens.id")
    created_at: datetime = _when()
    expires_at: datetime = _when()
    ended_at: datetime | None = _when(nullable=True)


AUTH_TABLES = [CoordinatorToken, DashboardSession]
TOKENS = table(CoordinatorToken)
SESSIONS = table(DashboardSession)


@dataclass(frozen=True)
class Principal:
    """Who is asking: the token's holder, role and the studies they may see."""

    token_id: int
    name: str
    role: str
    studies: tuple[str, ...]

    @property
    def actor(self) -> str:
        return f"token:{self.token_id}:{self.name}"

    @property
    def is_admin(self) -> bool:
        return self.role == "admin"

    @property
    def can_change(self) -> bool:
        """Analysts read; coordinators and admins also publish, acknowledge and export."""
        return self.role in ("admin", "coordinator")

    def can_see(self, study_id: str) -> bool:
        return self.is_admin or ALL_STUDIES in self.studies or study_id in self.studies

    def visible(self, study_ids: list[str]) -> list[str]:
        return [s for s in study_ids if self.can_see(s)]


@dataclass(frozen=True)
class TokenInfo:
    id: int
    name: str
    role: str
    studies: tuple[str, ...]
    hint: str
    created_at: datetime
    expires_at: datetime | None
    revoked_at: datetime | None
    last_used_at: datetime | None

    def active(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def _info(row: CoordinatorToken) -> TokenInfo:
    assert row.id is not None
    return TokenInfo(row.id, row.name, row.role, tuple(row.studies), row.hint, row.created_at,
                     row.expires_at, row.revoked_at, row.last_used_at)


def _principal(row: CoordinatorToken) -> Principal:
    assert row.id is not None
    return Principal(row.id, row.name, row.role, tuple(row.studies))


def _usable(row: CoordinatorToken | None, now: datetime) -> bool:
    return row is not None and row.revoked_at is None and (row.expires_at is None or row.expires_at > now)


def create_token(database: Database, name: str, role: str, studies: list[str], now: datetime,
                 expires_at: datetime | None = None) -> tuple[str, TokenInfo]:
    """A new token: its secret (show it once, it is not stored) and its record."""
    if role not in ROLES:
        raise ValueError(f"unknown role '{role}'; use one of {', '.join(ROLES)}")
    if role != "admin" and not studies:
        raise ValueError("a coordinator or analyst token needs at least one study (or '*')")
    secret = TOKEN_PREFIX + secrets.token_urlsafe(32)
    row = CoordinatorToken(name=name, role=role, studies=sorted(set(studies)) if role != "admin" else [ALL_STUDIES],
                           token_hash=digest(secret), hint=secret[: len(TOKEN_PREFIX) + 4], created_at=now,
                           expires_at=expires_at)
    with database.session() as session:
        session.add(row)
        session.flush()
        return secret, _info(row)


def authenticate(database: Database, secret: str, now: datetime) -> Principal | None:
    """The principal a token speaks for, or None if unknown, expired or revoked."""
    if not secret.startswith(TOKEN_PREFIX):
        return None
    with database.session() as session:
        token_id = session.execute(select(TOKENS.c.id).where(TOKENS.c.token_hash == digest(secret))).scalar()
        row = session.get(CoordinatorToken, token_id) if token_id is not None else None
        if row is None or not _usable(row, now):
            return None
        row.last_used_at = now
        return _principal(row)


def revoke_token(database: Database, token_id: int, now: datetime) -> bool:
    """Revoke a token and end its dashboard sessions; False if there is no such live token."""
    with database.session() as session:
        row = session.get(CoordinatorToken, token_id)
        if row is None or row.revoked_at is not None:
            return False
        row.revoked_at = now
        session.execute(update(SESSIONS).where(SESSIONS.c.token_id == token_id, SESSIONS.c.ended_at.is_(None))
                        .values(ended_at=now))
        return True


def list_tokens(database: Database) -> list[TokenInfo]:
    with database.reading() as session:
        rows = session.execute(select(CoordinatorToken).order_by(TOKENS.c.id)).scalars().all()
        return [_info(row) for row in rows]


def count_tokens(database: Database) -> int:
    return len(list_tokens(database))


def start_session(database: Database, principal: Principal, now: datetime, expires_at: datetime) -> str:
    """A dashboard session for a logged-in token; returns the session id (keep it in a cookie)."""
    session_id = secrets.token_urlsafe(32)
    with database.session() as session:
        session.add(DashboardSession(session_hash=digest(session_id), token_id=principal.token_id,
                                     created_at=now, expires_at=expires_at))
    return session_id


def session_principal(database: Database, session_id: str, now: datetime) -> Principal | None:
    """Whoever a live session belongs to; None once it or its token has ended."""
    with database.reading() as session:
        found = session.execute(select(SESSIONS.c.token_id, SESSIONS.c.expires_at, SESSIONS.c.ended_at)
                                .where(SESSIONS.c.session_hash == digest(session_id))).first()
        token = session.get(CoordinatorToken, found.token_id) if found is not None else None
    if found is None or token is None:
        return None
    if found.ended_at is not None or found.expires_at <= now or not _usable(token, now):
        return None
    return _principal(token)


def end_session(database: Database, session_id: str, now: datetime) -> None:
    with database.session() as session:
        session.execute(update(SESSIONS).where(SESSIONS.c.session_hash == digest(session_id)).values(ended_at=now))
