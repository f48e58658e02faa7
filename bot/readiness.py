"""``GET /ready``: may this instance take traffic? The database must answer, and so must the
message broker when ``CHORUS_QUEUE_URL`` names one. ``GET /health`` stays the liveness check.
While inbound messages wait on local disk for the database (bot/spool.py), either says how many (``spooled``).
A process that started while the database was unreachable (bot/degraded.py) is not ready until it has finished starting.

The broker is asked the way its own clients open a conversation (Redis ``PING``, the AMQP
protocol header), on a plain socket with a short timeout, so no broker library is needed
and a port that accepts connections but speaks something else does not count as ready.
"""

from __future__ import annotations

import socket
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from sqlalchemy import text
from starlette.concurrency import run_in_threadpool

router = APIRouter(tags=["operations"])
TIMEOUT = 2.0
PORTS = {"redis": 6379, "rediss": 6379, "amqp": 5672, "amqps": 5671}


def check_database(database: object) -> str | None:
    try:
        with database.reading() as session:  # type: ignore[attr-defined]
            session.exec(text("SELECT 1"))
    except Exception as error:
        return f"database: {type(error).__name__}"
    return None


def check_broker(url: str, timeout: float = TIMEOUT) -> str | None:
    """None when the broker answers; otherwise why not (never the URL, which may hold a password)."""
    try:
        parts = urlsplit(url)
        scheme = parts.scheme.lower()
        host, port = parts.hostname or "localhost", parts.port or PORTS.get(scheme)
    except ValueError:
        return "broker: CHORUS_QUEUE_URL cannot be read"
    if port is None:
        return f"broker: no port for scheme {scheme!r}"
    try:
        with socket.create_connection((host, port), timeout=timeout) as connection:
            connection.settimeout(timeout)
            if scheme == "redis":
                connection.sendall(b"PING\r\n")
                answer = connection.recv(64)
                if not answer.startswith((b"+PONG", b"-NOAUTH", b"-ERR")):  # NOAUTH: it is Redis, and up
                    return "broker: not a Redis server"
            elif scheme == "amqp":
                connection.sendall(b"AMQP\x00\x00\x09\x01")
                if connection.recv(1) != b"\x01":  # a method frame: connection.start
                    return "broker: not an AMQP 0-9-1 server"
    except OSError as error:
        return f"broker: {type(error).__name__}"
    return None


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """200 when the database (and the broker, if configured) answer; 503 with the reasons otherwise."""
    chorus = request.app.state.chorus
    start_up = getattr(request.app.state, "start_up", None)  # started without the database (bot/degraded.py)
    waiting = start_up.reason() if start_up is not None else None
    reasons = [waiting or await run_in_threadpool(check_database, chorus.database)]
    if chorus.settings.queue_url:
        reasons.append(await run_in_threadpool(check_broker, chorus.settings.queue_url))
    problems = [reason for reason in reasons if reason]
    spool = getattr(request.app.state, "spool", None)  # messages kept while the database was away (bot/spool.py)
    spooled = {"spooled": depth} if spool is not None and (depth := spool.depth()) else {}
    if problems:
        return JSONResponse({"status": "not ready", "reasons": problems, **spooled}, status_code=503)
    return JSONResponse({"status": "ready", **spooled})
