"""Logging for ``chorus serve`` and the worker commands.

``CHORUS_LOG_FORMAT=json`` writes one JSON object a line (time, level, logger, message, the
request id, and any ``extra=`` fields of the call: ``log.info("...", extra={"event":
"outbox.sent", "outbox_id": 3})``); ``text`` (the default) stays readable on a laptop.

Personal data stays out by discipline: log calls name participants by their pseudonymous
``p-...`` id and never pass a number, a name or what someone wrote. As a safety net, both
formats mask anything shaped like a phone number (nlp.redact's patterns) in the message, the
fields and tracebacks, so a provider's error that quotes a number does not leak it.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

from bot.log_safety import CHATTY, scrub
from bot.middleware import request_id

_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime", "request_id"}


QUIET = (*CHATTY, "urllib3", "alembic.runtime.plugins", "pika", "dramatiq", "faster_whisper")
"""Libraries that log at WARNING and above only once logging is configured, unless
``CHORUS_LOG_LIBRARIES=debug``: those whose DEBUG output carries personal data or credentials
(``log_safety.CHATTY``: httpx's INFO request lines name Telegram's URL, which holds the bot's
token; python-telegram-bot's DEBUG records quote messages and names), and those that only
chatter (the broker's clients: pika writes some 40 lines each time it connects, dramatiq one
per task; faster-whisper two or three per voice note: its length, the language it detected)."""
BROKER_CLIENTS = ("pika",)
"""Silenced while a process closes its broker connections (:func:`quiet_while`): RabbitMQ drops a
connection that stayed idle past its heartbeat (dramatiq keeps one per thread that ever declared a
queue or published), and closing it at a normal stop would log some ten ERROR lines."""


class RequestIdFilter(logging.Filter):
    """Puts the current request's id (or None) on every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = request_id.get()
        return True


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": scrub(record.getMessage()),
            "request_id": getattr(record, "request_id", None) or request_id.get(),
        }
        for key, value in vars(record).items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = scrub(value) if isinstance(value, str) else _plain(value)
        if record.exc_info:
            entry["exception"] = scrub(self.formatException(record.exc_info))
        return json.dumps(entry, ensure_ascii=False, default=str)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        return scrub(super().format(record))


def _plain(value: Any) -> Any:
    if isinstance(value, int | float | bool) or value is None:
        return value
    return scrub(str(value))


def configure(level: str = "INFO", form: str = "text", libraries: str | None = None) -> logging.Handler:
    """One handler on the root logger (replacing any this function added before).

    ``libraries`` (default ``CHORUS_LOG_LIBRARIES``): ``debug`` lets the :data:`QUIET`
    libraries log at the root's level too; anything else holds them at WARNING."""
    if form not in ("text", "json"):
        raise ValueError(f"CHORUS_LOG_FORMAT must be text or json, not {form!r}")
    handler = logging.StreamHandler()
    handler.set_name("chorus")
    handler.setFormatter(JsonFormatter() if form == "json" else TextFormatter())
    handler.addFilter(RequestIdFilter())
    root = logging.getLogger()
    for old in [h for h in root.handlers if h.get_name() == "chorus"]:
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level.upper())
    if libraries is None:
        libraries = os.environ.get("CHORUS_LOG_LIBRARIES", "")
    loud = libraries.strip().lower() == "debug"
    for name in QUIET:  # (log_safety.install, which runs later, then leaves them as they are)
        logging.getLogger(name).setLevel(logging.NOTSET if loud else max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):  # one format for the whole process
        logger = logging.getLogger(name)
        logger.handlers.clear()
        logger.propagate = True
    return handler


@contextmanager
def quiet_while(names: tuple[str, ...] = BROKER_CLIENTS) -> Iterator[None]:
    """Hold the ``names`` loggers at CRITICAL inside the block, then put them back as they were:
    for a normal stop's teardown, so what only says "closing" does not trip log-based alerts (the
    same libraries' errors while the process runs are logged as ever). ``CHORUS_LOG_LIBRARIES=debug``
    lets them through here too."""
    if os.environ.get("CHORUS_LOG_LIBRARIES", "").strip().lower() == "debug":
        yield
        return
    loggers = [logging.getLogger(name) for name in names]
    levels = [logger.level for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        for logger, level in zip(loggers, levels, strict=True):
            logger.setLevel(level)
