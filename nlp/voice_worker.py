"""Transcribe voice notes off the request path.

:class:`TranscriptionQueue` is the interface the conversation service uses: ``submit``
returns a :class:`TranscriptionJob` at once, and the caller decides how long to wait
before telling the participant "got it, listening..." (see :meth:`TranscriptionJob.wait`
and :func:`wait_with_acknowledgement`).

:class:`ThreadPoolTranscriptionQueue` is the embedded default: worker threads in this
process sharing one model, shortest expected transcription first. A distributed queue (Celery, Dramatiq) can implement the
same interface: its job's future is completed when the worker's
:class:`TranscriptionResult` (plain, serialisable fields) comes back.
"""

from __future__ import annotations

import asyncio
import functools
import heapq
import os
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any, Protocol

from nlp.audio import AudioInput, FailureKind, TranscriptionError
from nlp.transcribe import Transcriber, Transcript, WhisperSettings, shared_transcriber

Metadata = Mapping[str, Any]


@dataclass(frozen=True)
class TranscriptionResult:
    """The outcome of one job: a transcript, or the kind of failure (never both)."""

    job_id: str
    metadata: Metadata
    seconds: float
    """How long the transcription itself took, from when a worker took the job."""
    transcript: Transcript | None = None
    error: TranscriptionError | None = None
    waited: float = 0.0
    """How long the job waited in the queue for a free worker (behind other notes) before that."""

    @property
    def ok(self) -> bool:
        return self.transcript is not None

    @property
    def failure(self) -> FailureKind | None:
        return self.error.kind if self.error else None


@dataclass
class TranscriptionJob:
    """A handle on a submitted voice note.

    Failures of the note itself (too long, silence...) come back as a result with
    ``error`` set; anything else (a missing model, a bug) is raised by ``result()``.
    """

    job_id: str
    metadata: Metadata
    future: Future[TranscriptionResult] = field(repr=False)

    def done(self) -> bool:
        return self.future.done()

    def wait(self, timeout: float) -> TranscriptionResult | None:
        """The result if it arrives within ``timeout`` seconds, else None (still running)."""
        try:
            return self.future.result(timeout=timeout)
        except TimeoutError:
            return None

    def result(self, timeout: float | None = None) -> TranscriptionResult:
        return self.future.result(timeout=timeout)

    async def result_async(self) -> TranscriptionResult:
        """Await the result from asyncio code without blocking the event loop."""
        return await asyncio.wrap_future(self.future)

    def add_done_callback(self, callback: Callable[[TranscriptionResult], None]) -> None:
        """Call ``callback(result)`` when the job ends (in the worker's thread; if the
        job raised rather than returned a result, the callback is not called)."""

        def call(future: Future[TranscriptionResult]) -> None:
            if not future.cancelled() and future.exception() is None:
                callback(future.result())

        self.future.add_done_callback(call)


class TranscriptionQueue(Protocol):
    def submit(
        self, job_id: str, audio: AudioInput, metadata: Metadata | None = None
    ) -> TranscriptionJob:
        """Queue one voice note and return at once; ``metadata["language"]``, the speaker's
        language when known, is handed to the transcriber."""
        ...

    def shutdown(self, wait: bool = True) -> None: ...


AUDIO_BYTES_PER_SECOND = 3_000
"""A voice note's size for each second of speech: Opus at about 24 kbit/s, as Telegram and
WhatsApp send them (a note's real length is only read when it is transcribed)."""
WORK_PER_AUDIO_SECOND = 0.07
"""Seconds of transcription for each second of speech (tiny.en on two cores: a 150 s note
takes about 10 s). Only the order of the queue depends on it."""


def estimated_work(audio: AudioInput) -> float:
    """About how many seconds transcribing this note will take, from its size."""
    try:
        size = os.path.getsize(audio) if isinstance(audio, (str, os.PathLike)) else len(audio)
    except OSError:  # gone: it fails at once when its turn comes
        size = 0
    return size / AUDIO_BYTES_PER_SECOND * WORK_PER_AUDIO_SECOND


@dataclass(order=True)
class _Queued:
    turn: float
    order: int
    submitted: float = field(compare=False)
    run: Callable[[float], TranscriptionResult] = field(compare=False)
    future: Future[TranscriptionResult] = field(compare=False)


class ThreadPoolTranscriptionQueue:
    """In-process workers; all share one transcriber and so one loaded model.

    Shortest expected finish first: a note's turn is when it was submitted plus about how long
    it takes to transcribe (:func:`estimated_work`). So a five-second note does not wait
    behind a three-minute one submitted just before it (its sender would wait ten seconds for
    nothing), while a long note is overtaken only by notes submitted within its own expected
    transcription time: none waits for ever."""

    def __init__(
        self,
        transcriber: Transcriber | None = None,
        *,
        settings: WhisperSettings | None = None,
        workers: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        settings = settings or WhisperSettings.from_env()
        self.transcriber = transcriber or shared_transcriber(settings)
        self.workers = workers or settings.workers
        self._clock = clock
        self._queued: list[_Queued] = []
        self._changed = threading.Condition()
        self._threads: list[threading.Thread] = []
        self._closed = False
        self._submitted = 0
        self._pending = 0

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished (queued or running)."""
        return self._pending

    def submit(
        self, job_id: str, audio: AudioInput, metadata: Metadata | None = None
    ) -> TranscriptionJob:
        meta = dict(metadata or {})
        future: Future[TranscriptionResult] = Future()
        submitted = self._clock()
        with self._changed:
            if self._closed:
                raise RuntimeError("cannot queue a voice note after the queue was shut down")
            self._submitted += 1
            self._pending += 1
            run = functools.partial(self._run, job_id, audio, meta, meta.get("language"))
            heapq.heappush(self._queued, _Queued(submitted + estimated_work(audio), self._submitted, submitted, run, future))
            if len(self._threads) < self.workers:
                self._start_worker()
            self._changed.notify()
        future.add_done_callback(self._finished)  # also runs for jobs cancelled at shutdown
        return TranscriptionJob(job_id, meta, future)

    def shutdown(self, wait: bool = True) -> None:
        """Stop taking notes. With ``wait``, the queued notes are transcribed first and the
        workers joined; without, the queued notes are cancelled (one being transcribed ends)."""
        with self._changed:
            self._closed = True
            dropped = [] if wait else self._queued
            if not wait:
                self._queued = []
            self._changed.notify_all()
        for queued in dropped:
            queued.future.cancel()
        if wait:
            for thread in self._threads:
                if thread is not threading.current_thread():
                    thread.join()

    def __enter__(self) -> ThreadPoolTranscriptionQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _start_worker(self) -> None:
        thread = threading.Thread(target=self._work, name=f"transcribe_{len(self._threads)}", daemon=True)
        self._threads.append(thread)
        thread.start()

    def _work(self) -> None:
        while True:
            with self._changed:
                while not self._queued and not self._closed:
                    self._changed.wait()
                if not self._queued:
                    return
                queued = heapq.heappop(self._queued)
            if not queued.future.set_running_or_notify_cancel():
                continue
            try:
                queued.future.set_result(queued.run(self._clock() - queued.submitted))
            except BaseException as error:  # a missing model, a bug: raised by the job's result()
                queued.future.set_exception(error)

    def _run(
        self, job_id: str, audio: AudioInput, meta: Metadata, language: str | None, waited: float
    ) -> TranscriptionResult:
        started = time.perf_counter()
        try:
            transcript = self.transcriber.transcribe(audio, language=language)
            return TranscriptionResult(job_id, meta, time.perf_counter() - started, transcript, waited=waited)
        except TranscriptionError as error:
            return TranscriptionResult(job_id, meta, time.perf_counter() - started, error=error, waited=waited)

    def _finished(self, _future: Future[TranscriptionResult]) -> None:
        with self._changed:
            self._pending -= 1


def wait_with_acknowledgement(
    job: TranscriptionJob, acknowledge_after: float, acknowledge: Callable[[], None]
) -> TranscriptionResult:
    """Wait for ``job``; if it takes longer than ``acknowledge_after`` s, call
    ``acknowledge()`` once (e.g. send "Thanks, listening to your voice note...")."""
    result = job.wait(acknowledge_after)
    if result is not None:
        return result
    acknowledge()
    return job.result()
