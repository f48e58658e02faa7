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

A patient-safety incident told (:mod:`nlp.safety_incidents`, read by the patterns) is read apart
from risk: it never stops the model reading the message for risk, and a message that tells both
raises both flags, the risk's with its signposting (:func:`concerns_about`); the model reads what
the message says beside the incident (:func:`_risks`), and raises no incident flag itself.

In ``full`` mode a server loads the model in that background thread a moment after it starts
serving (``CHORUS_SAFEGUARDING_WARM_UP`` seconds, default 1; ``off``: with the first message
instead), so the first free-text message never waits for it; the model runs on
``CHORUS_SAFEGUARDING_THREADS`` torch threads (default 1), leaving the other cores to requests.
"""

from __future__ import annotations

import contextlib
import logging
import os
import queue
import threading
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

log = logging.getLogger("chorus.safeguarding")
MIN_WORDS = 2
WARM_UP_AFTER = 1.0
"""Seconds from a server's start to loading the model, unless CHORUS_SAFEGUARDING_WARM_UP says."""


@dataclass(frozen=True)
class Concern:
    category: str
    reason: str

    @property
    def signposted(self) -> bool:
        """Whether the participant is sent the crisis signposting: for a risk to someone now, never
        for a patient-safety incident told (:mod:`nlp.safety_incidents`), which is for the coordinator."""
        return self.category != PATIENT_SAFETY


PATIENT_SAFETY = "patient_safety"


Check = Callable[[str], Concern | None]
BatchCheck = Callable[[list[str]], list["Concern | None"]]


def _full(text: str) -> Concern | None:
    return _risks([text])[0] or _incident(text)


def _patterns(text: str) -> Concern | None:
    return _lexicon(text) or _incident(text)


def _lexicon(text: str) -> Concern | None:
    from nlp.safety import lexicon_match

    found = lexicon_match(text)
    return Concern(found[0], f"matched '{found[1]}'") if found else None


def _risks(texts: list[str]) -> list[Concern | None]:
    """The risk each message suggests, to the patterns or the model. The model reads what a message
    says beside a patient-safety incident it tells (:func:`nlp.safety_incidents.beside_incident`),
    the patterns all of it: the incident's words neither hide a risk told with them nor read as one."""
    from nlp.safety import assess_batch
    from nlp.safety_incidents import beside_incident

    read = [beside_incident(text) for text in texts]
    to_read = [n for n, said in enumerate(read) if said]
    found: list[Concern | None] = [None] * len(texts)
    for n, result in zip(to_read, assess_batch([read[n] for n in to_read]), strict=True):
        found[n] = Concern(result.category or "risk", result.reason) if result.flagged else None
    return [concern or (_lexicon(text) if said != text else None) for concern, said, text in zip(found, read, texts, strict=True)]


def _incident(text: str) -> Concern | None:
    """A patient-safety incident told ('left on the floor for an hour'), where no risk was seen."""
    from nlp.safety_incidents import incident_match

    words = incident_match(text)
    return Concern(PATIENT_SAFETY, f"matched '{words}'") if words else None


@dataclass(frozen=True)
class SafetyChecks:
    quick: Check | None = None
    """On the request path: phrase patterns."""
    thorough: Check | None = None
    """Off the request path, for what ``quick`` did not flag: the embedding model."""
    thorough_batch: BatchCheck | None = None
    """The same check on many messages at once (what the background thread uses)."""
    warm_up: Callable[[], None] | None = None
    """Loads what ``thorough_batch`` needs; the background thread calls it before its first batch."""
    warm_up_after: float | None = None
    """Seconds after a server starts to warm up; ``None``: not before the first message."""


def check_from_env(environ: dict[str, str] | None = None) -> Check | None:
    """The single most thorough check the setting allows (for analysis and tests)."""
    checks = checks_from_env(environ)
    return checks.thorough or checks.quick


def checks_from_env(environ: Mapping[str, str] | None = None) -> SafetyChecks:
    env = environ if environ is not None else os.environ
    mode = env.get("CHORUS_SAFEGUARDING", "full").lower()
    if mode in ("off", "0", "false", "no"):
        return SafetyChecks()
    if mode == "patterns":
        return SafetyChecks(quick=_patterns)
    threads = _threads(env.get("CHORUS_SAFEGUARDING_THREADS", ""))
    return SafetyChecks(quick=_patterns, thorough=_full, thorough_batch=partial(_full_batch, threads=threads),
                        warm_up=partial(_warm_up, threads=threads), warm_up_after=_warm_up_after(env.get("CHORUS_SAFEGUARDING_WARM_UP", "")))


def _threads(value: str) -> int | None:
    """Torch threads for the background check: 1 unless set; ``0`` or ``all``: torch's default."""
    value = value.strip().lower()
    if value in ("0", "all"):
        return None
    try:
        return max(1, int(value)) if value else 1
    except ValueError:
        log.warning("CHORUS_SAFEGUARDING_THREADS should be a number; using 1")
        return 1


def _warm_up_after(value: str) -> float | None:
    value = value.strip().lower()
    if value in ("off", "no", "false", "never"):
        return None
    try:
        return max(0.0, float(value)) if value else WARM_UP_AFTER
    except ValueError:
        log.warning("CHORUS_SAFEGUARDING_WARM_UP should be seconds or off; using %s", WARM_UP_AFTER)
        return WARM_UP_AFTER


BUILT_IN_ADD_WORDS = frozenset({"add", "ychwanegu"})
"""The words that propose a statement or an idea where a step keeps its default (``statements.add_word``)."""


def own_words(text: str, add_words: Iterable[str] = ()) -> str:
    """What the model should read of a message: an idea or statement proposed with its step's
    word ('ADD a whiteboard by each bay') without that word, which is ours, not the participant's.
    Left in, it sways the model: it read that idea as an overdose and 'ADD Handover sheet should
    list who is nil by mouth' as a threat of violence. Anything else is read as it is."""
    first, _, rest = text.strip().partition(" ")
    words = BUILT_IN_ADD_WORDS | {w.casefold() for w in add_words}
    if rest.strip() and first.strip(":,.-").casefold() in words:
        return rest.strip(" :,-")
    return text


def may_name_a_risk(text: str) -> bool:
    """Worth the quick check: a few words, or one long enough to name a risk ('overdose')."""
    return worth_checking(text) or _a_word_to_read(text)


def _a_word_to_read(text: str) -> bool:
    """A one-word reply long enough to name a risk: not a number, a letter or YES."""
    word = text.strip()
    return len(word) >= 5 and any(character.isalpha() for character in word)


def worth_checking(text: str) -> bool:
    """Free text of a few words; not a tapped button, a number or a one-word reply."""
    return len(text.split()) >= MIN_WORDS


def concerns_about(check: Check | None, text: str) -> list[Concern]:
    """What :func:`concern_about` finds, and a patient-safety incident told with a risk, which the
    single concern leaves out (a risk comes first): each kind at most once, the risk first."""
    found = concern_about(check, text)
    if found is None or not found.signposted:
        return [found] if found is not None else []
    incident = _incident(text)
    return [found, incident] if incident is not None else [found]


def concern_about(check: Check | None, text: str) -> Concern | None:
    if check is None:
        return None
    if not worth_checking(text):  # one word: the phrase patterns still read it ('overdose', 'suicidal')
        return _patterns(text) if _a_word_to_read(text) else None
    try:
        return check(text)
    except Exception:  # the safety net must never break a conversation
        log.exception("the safeguarding check failed; falling back to patterns")
        return _patterns(text)


UNHEARD = ("in the transcript of a voice note in a language the speech model cannot transcribe: the words may be "
           "made up from other speech, so ask the participant")


def concern_in_unheard(check: Check | None, text: str) -> Concern | None:
    """The phrase patterns on the transcript of a voice note the model could not hear (a Welsh
    speaker and the English-only tiny.en), which is not taken as an answer. Its words may be
    made up from other speech, but words said in English ("overdose", "my tablets") come
    through, and a risk must still reach the coordinator (who may not have the audio: it is kept
    only when the study keeps audio). Only the patterns (``check``: the quick check, None when
    safeguarding is off): the embedding model would find made-up sentences near anything."""
    found = concern_about(check, text) if text.strip() else None
    return Concern(found.category, f"{found.reason}; {UNHEARD}") if found else None


def _full_batch(texts: list[str], threads: int | None = None) -> list[Concern | None]:
    """The risks only (:func:`_risks`): the incidents were read on the request path, by the patterns."""
    from nlp.embed import limited_threads

    with limited_threads(threads):
        return _risks(texts)


def _warm_up(threads: int | None = None) -> None:
    from nlp.embed import limited_threads
    from nlp.safety import warm_up

    started = time.monotonic()
    with limited_threads(threads):
        warm_up()
    log.info("safeguarding model ready in %.1f s", time.monotonic() - started)



class BackgroundChecks:
    """The thorough check off the request path: one daemon thread embeds waiting messages in
    batches (far cheaper than one at a time). The backlog is bounded: past it, messages keep
    only the pattern check, and a warning says so. Nothing here blocks shutdown.

    ``warm_up`` (loading the model) runs in that thread before its first batch: ``start(after)``
    has it run ``after`` seconds from now, or as soon as a message arrives if one comes first,
    unless :meth:`cancel_warm_up` was called by then."""

    def __init__(self, check: BatchCheck, act: Callable[[Any, Concern], None], max_batch: int = 64,
                 max_backlog: int = 10_000, warm_up: Callable[[], None] | None = None) -> None:
        self._check, self._act, self._max_batch = check, act, max_batch
        self._queue: queue.Queue[tuple[Any, str]] = queue.Queue(maxsize=max_backlog)
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()
        self._warm_up = warm_up
        self._warm_up_after: float | None = None
        self._cancelled = threading.Event()
        self.warmed = threading.Event()
        """Set once ``warm_up`` has run (or failed, or was cancelled)."""

    def start(self, warm_up_after: float | None = None) -> None:
        """Start the thread now (``submit`` otherwise starts it with the first message)."""
        with self._lock:
            if self._thread is None:
                self._warm_up_after = warm_up_after
                self._thread = threading.Thread(target=self._run, name="chorus-safeguarding", daemon=True)
                self._thread.start()

    def cancel_warm_up(self) -> None:
        """No warm-up unless it has begun or a message arrives (the server is stopping)."""
        self._cancelled.set()

    def submit(self, key: Any, text: str) -> bool:
        self.start()
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

    def _warm(self) -> list[tuple[Any, str]]:
        """Wait for the warm-up time or the first message, then warm up; the message, if any."""
        first: list[tuple[Any, str]] = []
        if self._warm_up_after is not None:
            with contextlib.suppress(queue.Empty):
                first.append(self._queue.get(timeout=self._warm_up_after))
        # (cancelled with nothing to check: the first batch loads the model, as it always did)
        if self._warm_up is not None and (first or not self._cancelled.is_set()):
            try:
                self._warm_up()
            except Exception:  # the batches will fall back and say so; the thread must live on
                log.exception("could not warm up the safeguarding check")
        self.warmed.set()
        return first

    def _run(self) -> None:
        first = self._warm()
        while True:
            batch = first or [self._queue.get()]
            first = []
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
