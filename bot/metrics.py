"""Prometheus metrics at ``GET /metrics``.

Counters and histograms live in the process's default registry and are bumped where things
happen (webhooks, dispatcher, voice pipeline, the request middleware). Queue depths are read
from the database when Prometheus scrapes, by a collector that belongs to one app, so every
instance reports its own database's backlog. No label ever carries a participant's number,
name, id or words: labels are channels, statuses, error kinds, HTTP methods and route
templates (``/api/v1/studies/{study_id}``, never the filled-in path).

With several serving processes (``chorus serve --processes N``) each keeps its counters in a
file of a folder they share (``PROMETHEUS_MULTIPROC_DIR``, which serve makes and clears), and
a scrape, whichever process takes it, sums every process's: prometheus_client's multiprocess
mode.

A ``chorus worker`` counts what it does (messages sent, send failures, transcription time) in
its own process, which serves no app: ``--metrics-port`` (``CHORUS_WORKER_METRICS_PORT``) gives
it a listener of its own (:class:`MetricsListener`), on loopback unless
``--metrics-host`` (``CHORUS_WORKER_METRICS_HOST``) says otherwise, that Prometheus scrapes like
any other target, one per worker. It reports the worker's counters only: queue depths come from
the database, and ``chorus serve``'s ``/metrics`` reports them.

``CHORUS_METRICS_TOKEN``: when set, ``/metrics`` (serve's and the workers') needs
``Authorization: Bearer <token>``; when unset, it answers only clients on loopback that came
directly (no ``X-Forwarded-For``), so a reverse proxy on the same host does not publish it by
accident.
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, HTTPException, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from sqlalchemy import Select, func, select

from storage.database_clock import database_time
from storage.tables import DUE_TASKS, INBOUND, OUTBOUND

if TYPE_CHECKING:
    from storage.database import Database

MESSAGES_IN = Counter("chorus_messages_received", "Messages received from participants, by channel.", ["channel"])
MESSAGES_OUT = Counter("chorus_messages_sent", "Messages the providers accepted for sending, by channel.", ["channel"])
ERRORS = Counter("chorus_errors", "Errors by kind: signature, malformed, oversized, send_failed, template, voice, "
                 "outbox_recovery, broker.", ["kind"])
TRANSCRIPTION = Histogram("chorus_transcription_seconds", "Fetching and transcribing one voice note.",
                          buckets=(0.5, 1, 2, 3, 5, 8, 13, 20, 30, 60, 120, 300))
TRANSCRIPTION_WAIT = Histogram("chorus_transcription_wait_seconds", "How long a voice note waited for a free transcriber "
                               "(CHORUS_WHISPER_WORKERS), behind other notes, before it was transcribed.",
                               buckets=(0.1, 0.5, 1, 2, 5, 10, 20, 30, 60, 120, 300))
HTTP_LATENCY = Histogram("chorus_http_request_duration_seconds", "HTTP requests, by method, route template and status.",
                         ["method", "route", "status"])
ERROR_KINDS = ("signature", "malformed", "oversized", "send_failed", "template", "voice", "outbox_recovery", "broker")
for _kind in ERROR_KINDS:  # every kind reports 0 from the start, so rate() works on the first error
    ERRORS.labels(_kind)

PENDING_INBOUND = ("received", "awaiting_transcript", "transcribing")
GAUGED_OUTBOX = ("queued", "sending", "held", "failed")
"""The outbox statuses ``chorus_outbox_messages`` counts: those a message waits or sticks in.
'sent', 'delivered' and 'cancelled' rows only accumulate (a million in a year of a large study)
and are never counted at scrape time: ``chorus_messages_sent_total`` counts sends as they happen."""
OLDEST_SENDING = select(func.min(OUTBOUND.c.sent_at)).where(OUTBOUND.c.status == "sending")
"""When the outbox row longest 'sending' was claimed (or last stamped: ``sent_at``, where the
dispatcher's lease runs from). Only the few rows 'sending' are read, found by an index led by
status (``ix_outbound_status`` or ``ix_outbound_channel_queue``), never by reading the table.
The stamp is the database's time (storage/database_clock.py), so a scrape reads the database's
time with it and measures the age by that clock, not by the scraping machine's."""


def backlog_queries(now: datetime) -> dict[str, Select[Any]]:
    """What a scrape asks the database, by name. Each searches an index led by the column it
    filters on and reads only the rows that wait, so its cost follows the backlog, not the
    history: never the sent outbox, the handled inbox or the fired due tasks, which only grow
    (tests/test_metrics_scale.py checks the plans; scripts/bench/metrics_scrape.py the time)."""
    o, i, d = OUTBOUND.c, INBOUND.c, DUE_TASKS.c
    return {
        "outbox": select(o.status, func.count()).where(o.status.in_(GAUGED_OUTBOX)).group_by(o.status),  # an index led by status
        "oldest_queued": select(func.min(o.created_at)).where(o.status == "queued"),
        "oldest_sending": OLDEST_SENDING,
        "inbox": select(i.status, func.count()).where(i.status.in_(PENDING_INBOUND)).group_by(i.status),  # ix_inbound_status
        "due": select(func.count(), func.min(d.due_at)).where(d.done.is_(False), d.due_at <= now),  # ix_due_tasks_pending
    }


def error(kind: str) -> None:
    ERRORS.labels(kind).inc()


def count_flags(flags: Iterable[Mapping[str, Any]]) -> None:
    """Template errors reach the service as flags raised by the engine."""
    for flag in flags:
        if flag.get("kind") == "template_error":
            ERRORS.labels("template").inc()


class BacklogCollector(Collector):
    """Queue depths and ages, read from one app's database at scrape time."""

    def __init__(self, database: Database, clock: Any = None) -> None:
        self.database = database
        self.clock = clock or (lambda: datetime.now(UTC))

    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("chorus_database_up", "1 when the database answered this scrape.")
        try:
            families = list(self._read())
        except Exception:
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families

    def _read(self) -> Iterator[GaugeMetricFamily]:
        now = self.clock()
        queries = backlog_queries(now)
        with self.database.read_transaction() as connection:  # on SQLite, a reader: a scrape never holds up a writer
            outbox: dict[str, int] = dict(connection.execute(queries["outbox"]).all())
            oldest_queued = connection.execute(queries["oldest_queued"]).scalar()
            oldest_sending, database_now = connection.execute(queries["oldest_sending"].add_columns(database_time(connection))).one()
            inbox: dict[str, int] = dict(connection.execute(queries["inbox"]).all())
            due = connection.execute(queries["due"]).one()
        outbox_family = GaugeMetricFamily("chorus_outbox_messages", "Outbox rows waiting or stuck, by status (queued, sending, "
                                          "held, failed); chorus_messages_sent_total counts what was sent.", labels=["status"])
        for status in GAUGED_OUTBOX:
            outbox_family.add_metric([status], outbox.get(status, 0))
        yield outbox_family
        yield GaugeMetricFamily("chorus_outbox_oldest_queued_seconds", "Age of the oldest queued outbox message (0: none).",
                                value=_age(now, oldest_queued))
        yield GaugeMetricFamily("chorus_outbox_oldest_sending_seconds", "How long the outbox message longest 'sending' has been "
                                "held since it was claimed (0: none); one a dead process held is sent again after CHORUS_OUTBOX_LEASE.",
                                value=_age(database_now, oldest_sending))
        inbox_family = GaugeMetricFamily("chorus_inbox_pending", "Inbound messages not yet dealt with, by status.",
                                         labels=["status"])
        for status in PENDING_INBOUND:
            inbox_family.add_metric([status], inbox.get(status, 0))
        yield inbox_family
        yield GaugeMetricFamily("chorus_due_tasks_backlog", "Due tasks whose time has come but have not fired.", value=due[0])
        yield GaugeMetricFamily("chorus_due_tasks_oldest_seconds", "How late the oldest unfired due task is (0: none).",
                                value=_age(now, due[1]))


class SpoolCollector(Collector):
    """Inbound messages waiting in the spool (bot/spool.py): read from local disk, so it answers while the database does not."""

    def __init__(self, state: Any) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        spool = getattr(self.state, "spool", None)
        yield GaugeMetricFamily("chorus_spool_depth", "Inbound messages kept on local disk while the database was unreachable, "
                                "not yet stored.", value=spool.depth() if spool is not None else 0)


def _age(now: datetime, then: datetime | None) -> float:
    if then is None:
        return 0.0
    if then.tzinfo is None:
        then = then.replace(tzinfo=UTC)
    return max(0.0, (now - then).total_seconds())


# ----------------------------------------------------------------------------- the endpoint

router = APIRouter(tags=["operations"])


REFUSED = "metrics need CHORUS_METRICS_TOKEN as a bearer token, or a direct loopback client"


def scrape_allowed(authorization: str | None, proxied: bool, client_host: str, token: str | None) -> bool:
    """With a token, only a request bearing it; without one, only a direct client on loopback."""
    if token:
        return hmac.compare_digest((authorization or "").encode(), f"Bearer {token}".encode())
    if proxied:
        return False
    try:
        return ipaddress.ip_address(client_host).is_loopback
    except ValueError:
        return False


def _proxied(headers: Any) -> bool:
    return headers.get("x-forwarded-for") is not None or headers.get("forwarded") is not None


@router.get("/metrics", include_in_schema=False)
def metrics(request: Request) -> Response:
    token = request.app.state.chorus.settings.metrics_token
    if not scrape_allowed(request.headers.get("authorization"), _proxied(request.headers),
                          request.client.host if request.client else "", token.get_secret_value() if token is not None else None):
        raise HTTPException(403, REFUSED)
    registry: CollectorRegistry | None = getattr(request.app.state, "metrics_registry", None)
    if registry is None:
        registry = CollectorRegistry(auto_describe=False)
        registry.register(BacklogCollector(request.app.state.chorus.database))
        registry.register(SpoolCollector(request.app.state))
        request.app.state.metrics_registry = registry
    body = _counters() + generate_latest(registry)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _counters() -> bytes:
    """This process's counters and histograms; with several serving processes, all of theirs summed."""
    shared = os.environ.get(MULTIPROCESS_FOLDER)
    if not shared:
        return generate_latest()
    registry = CollectorRegistry()
    multiprocess.MultiProcessCollector(registry, path=shared)
    return generate_latest(registry)


MULTIPROCESS_FOLDER = "PROMETHEUS_MULTIPROC_DIR"
"""prometheus_client reads it when first imported: set before the serving processes start."""


class Timer:
    """Measures a span for a histogram: ``with Timer(TRANSCRIPTION): ...``."""

    def __init__(self, histogram: Histogram) -> None:
        self.histogram = histogram

    def __enter__(self) -> Timer:
        self.started = time.perf_counter()
        return self

    def __exit__(self, *exc: object) -> None:
        self.histogram.observe(time.perf_counter() - self.started)


# ----------------------------------------------------------------------------- a worker's listener


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class MetricsListener:
    """``GET /metrics`` on a port of its own, for a process without an app (``chorus worker``):
    this process's counters and histograms, with serve's access rules. Requests are not logged."""

    def __init__(self, host: str, port: int, token: str | None = None) -> None:
        self.host, self.token = host, token
        server = _IPv6Server if ":" in host else ThreadingHTTPServer
        try:
            self._server = server((host, port), self._handler())
        except OSError as error:
            raise ValueError(f"cannot serve the worker's metrics on {host}:{port} (--metrics-port, CHORUS_WORKER_METRICS_PORT): "
                             f"{error.strerror or error}") from None
        self._server.daemon_threads = True
        self.port = int(self._server.server_address[1])
        self._thread = threading.Thread(target=self._server.serve_forever, name="chorus-metrics", daemon=True)

    def start(self) -> None:
        self._thread.start()
        logging.getLogger("chorus.metrics").info("metrics at http://%s:%d/metrics", self.host, self.port,
                                                 extra={"event": "metrics.listening", "port": self.port})

    def stop(self) -> None:
        if self._thread.is_alive():
            self._server.shutdown()
        self._server.server_close()

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        token = self.token

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 (http.server's name)
                if self.path.split("?", 1)[0] != "/metrics":
                    self._answer(404, b"not found: this port serves /metrics only\n", "text/plain; charset=utf-8")
                elif not scrape_allowed(self.headers.get("authorization"), _proxied(self.headers), self.client_address[0], token):
                    self._answer(403, REFUSED.encode() + b"\n", "text/plain; charset=utf-8")
                else:
                    self._answer(200, _counters(), CONTENT_TYPE_LATEST)

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 (http.server's name)
                pass

        return Handler
