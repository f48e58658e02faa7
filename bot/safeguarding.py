"""The safeguarding safety net inside conversations (not a clinical tool).

Every free-text message a participant sends, typed or transcribed from a voice note, is
checked by :mod:`nlp.safety`. When it suggests a risk of harm or a medical emergency, the
participant gets the study's signposting text at once (NHS 111, 999, Samaritans) and the
coordinator gets a ``safeguarding`` flag to acknowledge on the dashboard. The check runs after
the message's own transaction, so a slow model never holds the participant's lock, and it
never changes the answer that was stored.

Two checks: phrase patterns run at once, on the request path (microseconds); the embedding
model, which catches indirect phrasing the patterns miss, runs in the background a moment
later, so it never slows a conversation down. ``CHORUS_SAFEGUARDING`` chooses: ``full`` (both,
the default), ``patterns`` (patterns only: no model, for small machines) or ``off``.
"""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("chorus.safeguarding")
MIN_WORDS = 2


@dataclass(frozen=True)
class Concern:
    category: str
    reason: str


Check = Callable[[str], Concern | None]
BatchCheck = Callable[[list[str]], list["Concern | None"]]


def _full(text: str) -> Concern | None:
    from nlp.safety import assess

    result = assess(text)
    return Concern(result.category or "risk", result.reason) if result.flagged else None


def _patterns(text: str) -> Concern | None:
    from nlp.safety import lexicon_match

    found = lexicon_match(text)
    return Concern(found[0], f"matched '{found[1]}'") if found else None


@dataclass(frozen=True)
class SafetyChecks:
    quick: Check | None = None
    """On the request path: phrase patterns."""
    thorough: Check | None = None
    """Off the request path, for what ``quick`` did not flag: the embedding model."""
    thorough_batch: BatchCheck | None = None
    """The same check on many messages at once (what the background thread uses)."""


def check_from_env(environ: dict[str, str] | None = None) -> Check | None:
    """The single most thorough check the setting allows (for analysis and tests)."""
    checks = checks_from_env(environ)
    return checks.thorough or checks.quick


def checks_from_env(environ: dict[str, str] | None = None) -> SafetyChecks:
    mode = (environ if environ is not None else os.environ).get("CHORUS_SAFEGUARDING", "full").lower()
    if mode in ("off", "0", "false", "no"):
        return SafetyChecks()
    if mode == "patterns":
        return SafetyChecks(quick=_patterns)
    return SafetyChecks(quick=_patterns, thorough=_full, thorough_batch=_full_batch)


def worth_checking(text: str) -> bool:
    """Free text of a few words; not a tapped button, a number or a one-word reply."""
    return len(text.split()) >= MIN_WORDS


def concern_about(check: Check | None, text: str) -> Concern | None:
    if check is None or not worth_checking(text):
        return None
    try:
        return check(text)
    except Exception:  # the safety net must never break a conversation
        log.exception("the safeguarding check failed; falling back to patterns")
        return _patterns(text)


def _full_batch(texts: list[str]) -> list[Concern | None]:
    from nlp.safety import assess_batch

    return [Concern(r.category or "risk", r.reason) if r.flagged else None for r in assess_batch(texts)]



class BackgroundChecks:
    """The thorough check off the request path: one daemon thread embeds waiting messages in
    batches (far cheaper than one at a time). The backlog is bounded: past it, messages keep
    only the pattern check, and a warning says so. Nothing here blocks shutdown."""

    def __init__(self, check: BatchCheck, act: Callable[[Any, Concern], None], max_batch: int = 64,
                 max_backlog: int = 10_000) -> None:
        self._check, self._act, self._max_batch = check, act, max_batch
        self._queue: queue.Queue[tuple[Any, str]] = queue.Queue(maxsize=max_backlog)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def submit(self, key: Any, text: str) -> bool:
        with self._lock:
            if self._thread is None:
                self._thread = threading.Thread(target=self._run, name="chorus-safeguarding", daemon=True)
                self._thread.start()
        try:
            self._queue.put_nowait((key, text))
        except queue.Full:
            log.warning("safeguarding backlog full: this message had the pattern check only")
            return False
        return True

    def wait(self, timeout: float = 60) -> None:
        """Until every submitted message has been checked (for tests)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.02)
        if self._queue.unfinished_tasks:
            raise TimeoutError("safeguarding checks still running")

    def _run(self) -> None:
        while True:
            batch = [self._queue.get()]
            while len(batch) < self._max_batch:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            try:
                concerns = self._check([text for _, text in batch])
                for (key, _), concern in zip(batch, concerns, strict=True):
                    if concern is not None:
                        self._act(key, concern)
            except Exception:
                log.exception("background safeguarding check failed for %d messages", len(batch))
            finally:
                for _ in batch:
                    self._queue.task_done()
