"""Transcribe voice notes off the request path.

:class:`TranscriptionQueue` is the interface the conversation service uses: ``submit``
returns a :class:`TranscriptionJob` at once, and the caller decides how long to wait
before telling the participant "got it, listening..." (see :meth:`TranscriptionJob.wait`
and :func:`wait_with_acknowledgement`).

:class:`ThreadPoolTranscriptionQueue` is the embedded default: a thread pool in this
process sharing one model. A distributed queue (Celery, Dramatiq) can implement the
same interface: its job's future is completed when the worker's
:class:`TranscriptionResult` (plain, serialisable fields) comes back.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
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


class ThreadPoolTranscriptionQueue:
    """In-process pool; all workers share one transcriber and so one loaded model."""

    def __init__(
        self,
        transcriber: Transcriber | None = None,
        *,
        settings: WhisperSettings | None = None,
        workers: int | None = None,
    ) -> None:
        settings = settings or WhisperSettings.from_env()
        self.transcriber = transcriber or shared_transcriber(settings)
        self.workers = workers or settings.workers
        self._executor = ThreadPoolExecutor(self.workers, thread_name_prefix="transcribe")
        self._pending = 0
        self._lock = threading.Lock()

    @property
    def pending(self) -> int:
        """Jobs submitted and not yet finished (queued or running)."""
        return self._pending

    def submit(
        self, job_id: str, audio: AudioInput, metadata: Metadata | None = None
    ) -> TranscriptionJob:
        meta = dict(metadata or {})
        with self._lock:
            self._pending += 1
        language = meta.get("language")
        future = self._executor.submit(self._run, job_id, audio, meta, language, time.perf_counter())
        future.add_done_callback(self._finished)  # also runs for jobs cancelled at shutdown
        return TranscriptionJob(job_id, meta, future)

    def shutdown(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    def __enter__(self) -> ThreadPoolTranscriptionQueue:
        return self

    def __exit__(self, *exc: object) -> None:
        self.shutdown()

    def _run(
        self, job_id: str, audio: AudioInput, meta: Metadata, language: str | None, submitted: float
    ) -> TranscriptionResult:
        started = time.perf_counter()
        waited = started - submitted
        try:
            transcript = self.transcriber.transcribe(audio, language=language)
            return TranscriptionResult(job_id, meta, time.perf_counter() - started, transcript, waited=waited)
        except TranscriptionError as error:
            return TranscriptionResult(job_id, meta, time.perf_counter() - started, error=error, waited=waited)

    def _finished(self, _future: Future[TranscriptionResult]) -> None:
        with self._lock:
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
