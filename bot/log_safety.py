"""Keeping secrets and personal data out of the logs, whatever the log level.

Our own log lines name participants only by pseudonymous id and never repeat what anyone
wrote. Libraries are another matter: at DEBUG, python-telegram-bot logs each Bot API call's
parameters (chat ids, message texts), Twilio's client logs each request's form (phone
numbers, bodies), httpcore logs headers; and even at INFO, httpx logs every URL, and the
Telegram Bot API puts the bot's token in its URLs. So:

* those libraries' loggers are held at INFO (``httpcore`` and ``hpack`` at WARNING) even
  when the root logger is at DEBUG; ``CHORUS_LOG_LIBRARIES=debug`` lifts that for a
  debugging session, with a warning;
* every log record is scrubbed as it is made (a record factory, so it covers every logger
  and handler): registered secrets (bot token, Twilio auth token, webhook secret, keys), the
  token in ``/bot<token>/`` URLs and bare bot tokens become ``[TOKEN]``, and anything shaped like a
  phone number (nlp.redact's patterns, as exports use) becomes ``[PHONE]``. The formatters of
  bot/logging_setup.py apply the same :func:`scrub` to fields and tracebacks.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Iterable
from typing import Any

from nlp.redact import INTERNATIONAL_PHONE, UK_PHONE

MIN_SECRET = 6
CHATTY = {"telegram": logging.INFO, "twilio": logging.INFO, "httpx": logging.INFO, "httpcore": logging.WARNING,
          "hpack": logging.WARNING, "apscheduler": logging.INFO}
"""Libraries whose DEBUG output carries message bodies, addresses or credentials."""
_TOKENS = (
    re.compile(r"(?<=/bot)[0-9]+:[A-Za-z0-9_-]+"),  # Telegram Bot API URLs carry the token
    re.compile(r"(?<!\d)\d{5,}:[A-Za-z0-9_-]{30,}"),  # a bare Telegram bot token
)
_PHONES = (UK_PHONE, INTERNATIONAL_PHONE, re.compile(r"\+[0-9][0-9 ]{6,17}[0-9]"))
_secrets: set[str] = set()
_guard = threading.Lock()
_installed = False


def protect(*values: str | None) -> None:
    """Never log these values (tokens, keys, secrets). Too-short values are ignored."""
    with _guard:
        _secrets.update(v for v in values if v and len(v) >= MIN_SECRET)


def scrub(text: str) -> str:
    """``text`` without registered secrets, bot tokens or phone numbers."""
    for secret in sorted(_secrets, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, "***")
    for pattern in _TOKENS:
        text = pattern.sub("[TOKEN]", text)
    for pattern in _PHONES:
        text = pattern.sub("[PHONE]", text)
    return text


def install(environ: dict[str, str] | None = None, secrets: Iterable[str | None] = ()) -> None:
    """Quieten the chatty libraries and scrub every record from now on (idempotent)."""
    global _installed
    env = dict(os.environ) if environ is None else environ
    protect(*secrets, *(env.get(name) for name in ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TWILIO_AUTH_TOKEN",
                                                    "CHORUS_HASH_KEY")))
    protect(*env.get("CHORUS_DATA_KEYS", "").replace(",", " ").split())
    if env.get("CHORUS_LOG_LIBRARIES", "").lower() == "debug":
        logging.getLogger("chorus").warning("CHORUS_LOG_LIBRARIES=debug: library logs may show message texts and addresses")
    else:
        for name, level in CHATTY.items():
            logger = logging.getLogger(name)
            if logger.level == logging.NOTSET or logger.level < level:
                logger.setLevel(level)
    with _guard:
        if _installed:
            return
        _installed = True
        previous = logging.getLogRecordFactory()

        def scrubbed(*args: Any, **kwargs: Any) -> logging.LogRecord:
            record = previous(*args, **kwargs)
            _scrub_record(record)
            return record

        logging.setLogRecordFactory(scrubbed)


def _scrub_record(record: logging.LogRecord) -> None:
    try:
        message = record.getMessage()
    except Exception:  # a malformed call: leave it for logging's own error handling
        return
    cleaned = scrub(message)
    if cleaned != message:
        record.msg, record.args = cleaned, None
    if record.exc_info and record.exc_info[1] is not None:
        record.exc_text = scrub(logging.Formatter().formatException(record.exc_info))
