"""Benchmark local transcription with the packaged tiny.en model.

    .venv/bin/python scripts/bench/transcribe.py [--rounds 3] [--workers 1]

Prints, each against its goal:
* real-time factor (processing seconds / audio seconds) over jfk.flac and generated
  voice notes (goal <= 0.1 on 2 cores);
* the overhead of Chorus's pipeline (size checks, decoding from memory, loudness check,
  assembling the transcript) against calling faster-whisper directly on the same files
  with the same model object and options, interleaved in the same run (goal <= 10%);
* peak memory (resident set, and Python allocations during one pass);
* time to clear 20 voice notes that arrive at once through the pool.
Other processes on the machine inflate the times: the load average is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlp.transcribe import WhisperSettings, WhisperTranscriber  # noqa: E402
from nlp.voice_worker import ThreadPoolTranscriptionQueue  # noqa: E402
from tests import voice_helpers  # noqa: E402

JFK = ROOT.parent / "shared" / "reference" / "voice" / "jfk.flac"
NOTE_KEYS = ["waiting", "parking", "nurse", "second", "yes"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3, help="passes over the files")
    parser.add_argument("--workers", type=int, default=0, help="pool workers (default: settings)")
    args = parser.parse_args()
    settings = WhisperSettings.from_env()
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(
        f"model: {settings.model}, {settings.compute_type}, beam {settings.beam_size}, "
        f"{settings.threads_per_worker} threads x {settings.workers} worker(s)"
    )
    with tempfile.TemporaryDirectory() as folder:
        files = [
            JFK,
            *(voice_helpers.speak(voice_helpers.PHRASES[k], Path(folder) / k) for k in NOTE_KEYS),
        ]
        transcriber = WhisperTranscriber(settings)
        started = time.perf_counter()
        transcriber.model  # noqa: B018 (load it now, outside the timings)
        print(f"model load: {time.perf_counter() - started:.2f} s, peak RSS {_rss_mb():.0f} MB")
        _speed(transcriber, files, args.rounds)
        _python_peak(transcriber, files)
        _pool(transcriber, files[1:], args.workers or settings.workers)
    print(f"peak RSS overall: {_rss_mb():.0f} MB; load average now {os.getloadavg()[0]:.2f}")


def _speed(transcriber: WhisperTranscriber, files: list[Path], rounds: int) -> None:
    """Interleave Chorus and direct faster-whisper calls so machine noise hits both."""
    settings = transcriber.settings
    audio_seconds = 0.0
    per_file: dict[str, list[float]] = {path.name: [0.0, 0.0] for path in files}
    chorus: list[float] = []
    direct: list[float] = []
    transcriber.transcribe(files[0])  # warm-up: first calls allocate buffers
    for _ in range(rounds):
        for path in files:
            data = path.read_bytes()
            started = time.perf_counter()
            transcript = transcriber.transcribe(data)
            chorus.append(time.perf_counter() - started)
            audio_seconds += transcript.duration
            per_file[path.name][0] += chorus[-1]
            per_file[path.name][1] += transcript.duration
            started = time.perf_counter()
            segments, _info = transcriber.model.transcribe(
                str(path),
                beam_size=settings.beam_size,
                vad_filter=True,
                no_speech_threshold=settings.no_speech_threshold,
            )
            list(segments)
            direct.append(time.perf_counter() - started)
    rtf = sum(chorus) / audio_seconds
    overhead = sum(chorus) / sum(direct) - 1
    paired = statistics.median(c / d for c, d in zip(chorus, direct, strict=True)) - 1
    print(f"audio: {len(files)} files x {rounds} rounds = {audio_seconds:.1f} s of speech")
    print(f"real-time factor (Chorus): {rtf:.3f}  goal <= 0.1  {_verdict(rtf <= 0.1)}")
    print(f"real-time factor (faster-whisper direct): {sum(direct) / audio_seconds:.3f}")
    print("  per file (Whisper encodes a fixed 30 s window, so short notes cost more per second):")
    for name, (seconds, duration) in per_file.items():
        print(f"    {name}: {duration / rounds:.1f} s audio, RTF {seconds / duration:.3f}")
    print(
        f"pipeline overhead vs direct: total {overhead:+.1%}, median per file {paired:+.1%}"
        f"  goal <= 10%  {_verdict(overhead <= 0.10)}"
    )


def _python_peak(transcriber: WhisperTranscriber, files: list[Path]) -> None:
    tracemalloc.start()
    for path in files:
        transcriber.transcribe(path.read_bytes())
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    print(
        f"peak Python allocations during one pass: {peak / 2**20:.1f} MB "
        f"(decoded audio and buffers; the model's weights live outside Python)"
    )


def _pool(transcriber: WhisperTranscriber, notes: list[Path], workers: int) -> None:
    payloads = [notes[i % len(notes)].read_bytes() for i in range(20)]
    started = time.perf_counter()
    with ThreadPoolTranscriptionQueue(transcriber, workers=workers) as queue:
        jobs = [queue.submit(f"note-{i}", data) for i, data in enumerate(payloads)]
        results = [job.result() for job in jobs]
        first_done = min(r.seconds for r in results)
    elapsed = time.perf_counter() - started
    failed = sum(not r.ok for r in results)
    print(
        f"20 notes at once through the pool ({workers} worker(s)): cleared in {elapsed:.1f} s "
        f"({elapsed / 20:.2f} s per note, fastest job {first_done:.2f} s, {failed} failed)"
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


if __name__ == "__main__":
    main()
