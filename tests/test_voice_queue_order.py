"""The voice queue takes the note expected to finish first: a short note does not wait behind a
long one submitted just before it, and a long note is overtaken only for about its own
expected transcription time (nlp/voice_worker.py)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from nlp.audio import AudioInput
from nlp.transcribe import Transcript
from nlp.voice_worker import AUDIO_BYTES_PER_SECOND, ThreadPoolTranscriptionQueue, estimated_work


class RecordingTranscriber:
    """Stands in for Whisper: records the order notes are transcribed in; the first waits to be let go."""

    def __init__(self) -> None:
        self.order: list[int] = []
        self.first_started = threading.Event()
        self.release = threading.Event()

    def transcribe(self, audio: AudioInput, language: str | None = None) -> Transcript:
        size = len(audio) if isinstance(audio, (bytes, bytearray, memoryview)) else Path(audio).stat().st_size
        if not self.order:
            self.first_started.set()
            assert self.release.wait(10)
        self.order.append(size)
        return Transcript(text=f"{size} bytes", language="en", duration=1.0, avg_logprob=-0.1, no_speech_prob=0.0)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def minutes(n: float) -> bytes:
    """A note's worth of bytes for ``n`` minutes of speech (different sizes tell the notes apart)."""
    return b"\0" * int(n * 60 * AUDIO_BYTES_PER_SECOND)


def test_a_short_note_goes_before_a_long_one_submitted_just_before_it() -> None:
    transcriber, clock = RecordingTranscriber(), Clock()
    queue = ThreadPoolTranscriptionQueue(transcriber, workers=1, clock=clock)  # type: ignore[arg-type]
    busy = queue.submit("busy", minutes(0.1))
    assert transcriber.first_started.wait(10)
    long_note = queue.submit("long", minutes(3))
    clock.now += 1  # a second later, a five-second note
    short_note = queue.submit("short", minutes(5 / 60))
    transcriber.release.set()
    for job in (busy, long_note, short_note):
        assert job.result(10).ok
    queue.shutdown()
    assert transcriber.order == [len(minutes(0.1)), len(minutes(5 / 60)), len(minutes(3))]
    assert short_note.result().waited == pytest.approx(0, abs=1e-9)  # the clock stood still after it came
    assert long_note.result().waited == pytest.approx(1.0)


def test_a_long_note_is_not_overtaken_for_ever() -> None:
    transcriber, clock = RecordingTranscriber(), Clock()
    queue = ThreadPoolTranscriptionQueue(transcriber, workers=1, clock=clock)  # type: ignore[arg-type]
    queue.submit("busy", minutes(0.1))
    assert transcriber.first_started.wait(10)
    long_note = queue.submit("long", minutes(3))
    clock.now += estimated_work(minutes(3)) + 1  # longer than the long note's expected work
    late_short = queue.submit("late short", minutes(5 / 60))
    transcriber.release.set()
    assert long_note.result(10).ok and late_short.result(10).ok
    queue.shutdown()
    assert transcriber.order[1:] == [len(minutes(3)), len(minutes(5 / 60))]


def test_notes_on_disk_are_sized_by_their_file(tmp_path: Path) -> None:
    note = tmp_path / "note.ogg"
    note.write_bytes(minutes(2))
    assert estimated_work(note) == estimated_work(str(note)) == estimated_work(minutes(2)) > estimated_work(minutes(1)) > 0
    assert estimated_work(tmp_path / "gone.ogg") == 0  # it fails when its turn comes, not when queued


def test_shutting_down_without_waiting_cancels_what_is_queued() -> None:
    transcriber = RecordingTranscriber()
    queue = ThreadPoolTranscriptionQueue(transcriber, workers=1)  # type: ignore[arg-type]
    running = queue.submit("running", minutes(0.1))
    assert transcriber.first_started.wait(10)
    queued = queue.submit("queued", minutes(0.2))
    queue.shutdown(wait=False)
    assert queued.future.cancelled()
    transcriber.release.set()
    assert running.result(10).ok  # the note being transcribed ends
    with pytest.raises(RuntimeError, match="shut down"):
        queue.submit("after", minutes(0.1))
    assert queue.pending == 0


def test_shutting_down_and_waiting_transcribes_what_is_queued() -> None:
    transcriber = RecordingTranscriber()
    queue = ThreadPoolTranscriptionQueue(transcriber, workers=2)  # type: ignore[arg-type]
    transcriber.release.set()
    jobs = [queue.submit(str(n), minutes(0.1 * (n + 1))) for n in range(5)]
    queue.shutdown(wait=True)
    assert all(job.done() and job.result().ok for job in jobs)
    assert sorted(transcriber.order) == sorted(len(minutes(0.1 * (n + 1))) for n in range(5))
    assert queue.pending == 0
