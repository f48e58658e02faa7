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
  phone number (nlp.redact's patterns, as exports use, and a UK number written ``447700900123``)
  becomes ``[PHONE]``. The formatters of bot/logging_setup.py apply the same :func:`scrub` to
  fields and tracebacks.

Identifiers and numbers that only look like phone numbers stay as they are, so they can be
searched for across logs: digits inside a UUID (dramatiq's message ids) or a hex id
(``056712345678-e6``), digits touching a letter (``SM0770090012ab...``), and either side of a
decimal point (``deadline=1962.0712345678``). A number written with a plus is always masked.
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
_PHONES = (
    UK_PHONE,
    INTERNATIONAL_PHONE,
    re.compile(r"(?:\+|%2[Bb])[0-9][0-9 ]{6,17}[0-9]"),  # %2B: a plus in a URL's query
    re.compile(r"(?<![\w+])44(?:[ -]?[0-9]){9,10}(?![0-9])"),  # a UK number in international form without its plus
)
_UUID = re.compile(r"[0-9A-Fa-f]{8}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{4}-[0-9A-Fa-f]{12}")
_HEX_CHAIN = re.compile(r"(?<![0-9A-Za-z_])[0-9A-Fa-f]+(?:-[0-9A-Fa-f]+)+(?![0-9A-Za-z_])")
_LETTER_AND_DIGIT = re.compile(r"[0-9]+[A-Fa-f]|[A-Fa-f]+[0-9]")
_WORD_CHARACTER = re.compile(r"[0-9A-Za-z_]")
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
    return _mask_phones(text)


def _mask_phones(text: str) -> str:
    """``text`` with each phone number ``[PHONE]``, and ids and decimals that look like one left alone."""
    spans: list[tuple[int, int]] = []
    identifiers: list[tuple[int, int]] | None = None
    for pattern in _PHONES:
        for found in pattern.finditer(text):
            start, end = found.span()
            if text[start] not in "+%":  # written with a plus: a phone number wherever it is
                identifiers = _identifier_spans(text) if identifiers is None else identifiers
                if _part_of_something_else(text, start, end, identifiers):
                    continue
            if text[end - 1] == ")" and text.count(")", start, end) > text.count("(", start, end):
                end -= 1  # the bracket closes the words around the number, not part of it
            if text[start] == "(" and text.count("(", start, end) > text.count(")", start, end):
                start += 1  # and this one opens them
            spans.append((start, end))
    if not spans:
        return text
    pieces, done = [], 0
    for start, end in sorted(spans):
        if start < done:  # overlaps the number masked last (two patterns read it): one mask
            done = max(done, end)
            continue
        pieces += [text[done:start], "[PHONE]"]
        done = end
    return "".join(pieces) + text[done:]


def _identifier_spans(text: str) -> list[tuple[int, int]]:
    """UUIDs, and dash-joined hex groups one of which mixes letters and digits (``056712345678-e6``)."""
    found = [m.span() for m in _UUID.finditer(text)]
    found += [m.span() for m in _HEX_CHAIN.finditer(text) if _LETTER_AND_DIGIT.search(m.group())]
    return found


def _part_of_something_else(text: str, start: int, end: int, identifiers: list[tuple[int, int]]) -> bool:
    """Digits that belong to an identifier (touching a letter, or inside a UUID or hex id) or a decimal."""
    after = text[end:end + 2]
    if after[:1] and _WORD_CHARACTER.match(after[:1]):
        return True  # a hex or other id: SM0770090012ab...
    if len(after) == 2 and after[0] == "." and after[1].isdigit():
        return True  # the whole part of a decimal
    if start >= 2 and text[start - 1] == "." and text[start - 2].isdigit():
        return True  # the fraction of a decimal: 1962.0712345678
    return any(first <= start < last for first, last in identifiers)


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
