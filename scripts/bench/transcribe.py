"""Benchmark local transcription with the packaged tiny.en model.

    .venv/bin/python scripts/bench/transcribe.py [--rounds 3] [--workers 1]

Prints, each against its goal:
* real-time factor (processing seconds / audio seconds) over jfk.flac and generated
  voice notes (goal <= 0.1 on 2 cores), for the tuned settings (nlp/transcribe.py) and the
  baseline (faster-whisper's defaults, as Chorus had them: beam 5, conditioning on previous
  text, a 30 s encoder window) on the
  same model, interleaved; by wall clock and by this process's CPU seconds (all threads),
  the latter divided by the cores as what an idle machine would take at best;
* the overhead of Chorus's pipeline (size checks, decoding from memory, loudness check,
  assembling the transcript) against calling faster-whisper directly on the same files
  with the same model object and options, interleaved in the same run (goal <= 10%);
* peak memory (resident set, and Python allocations during one pass);
* time to clear 20 voice notes that arrive at once through the pool, baseline and tuned.
Other processes on the machine inflate the times: the load average is printed too.
"""

from __future__ import annotations

import argparse
import functools
import os
import resource
import statistics
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from nlp.transcribe import Transcript, WhisperSettings, WhisperTranscriber  # noqa: E402
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
    baseline = replace(settings, beam_size=5, timestamps=True, condition_on_previous_text=True, fit_window=False)
    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    print(
        f"model: {settings.model}, {settings.compute_type}, {settings.threads_per_worker} threads x {settings.workers} worker(s);"
        f" tuned: {_options(settings)}; baseline (faster-whisper's defaults, as before): {_options(baseline)}"
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
        before = WhisperTranscriber(baseline)
        before._model = transcriber.model  # the same weights, decoded with the old options
        _speed({"baseline": before, "tuned": transcriber}, files, args.rounds)
        _python_peak(transcriber, files)
        for name, each in (("baseline", before), ("tuned", transcriber)):
            _pool(name, each, files[1:], args.workers or settings.workers)
    print(f"peak RSS overall: {_rss_mb():.0f} MB; load average now {os.getloadavg()[0]:.2f}")


def _options(settings: WhisperSettings) -> str:
    options = settings.decoding()
    return (f"beam {options['beam_size']}, timestamps {not options['without_timestamps']},"
            f" previous text {options['condition_on_previous_text']}, fitted window {options['fit_window']}")


def _timed(call: Callable[[], object]) -> tuple[float, float, object]:
    """(wall seconds, CPU seconds of this process, result): the CPU time counts every thread of
    CTranslate2 and ONNX Runtime, and not the time other processes on a shared machine take."""
    wall, cpu = time.perf_counter(), time.process_time()
    result = call()
    return time.perf_counter() - wall, time.process_time() - cpu, result


def _direct(model: Any, path: Path, options: dict[str, Any]) -> list[Any]:
    """faster-whisper itself on the file, with the same decoding options."""
    return list(model.transcribe(str(path), **options)[0])


def _speed(transcribers: dict[str, WhisperTranscriber], files: list[Path], rounds: int) -> None:
    """Interleave the settings, and Chorus with direct faster-whisper calls, so machine noise hits all."""
    totals = {name: {"chorus": [0.0, 0.0], "direct": [0.0, 0.0]} for name in transcribers}
    ratios: dict[str, list[float]] = {name: [] for name in transcribers}
    per_file = {path.name: [0.0, 0.0] for path in files}
    audio_seconds = 0.0
    for transcriber in transcribers.values():
        transcriber.transcribe(files[0])  # warm-up: first calls allocate buffers
    for _ in range(rounds):
        for path in files:
            data = path.read_bytes()
            for name, transcriber in transcribers.items():
                wall, cpu, transcript = _timed(functools.partial(transcriber.transcribe, data))
                assert isinstance(transcript, Transcript)
                totals[name]["chorus"][0] += wall
                totals[name]["chorus"][1] += cpu
                if name == "tuned":
                    audio_seconds += transcript.duration
                    per_file[path.name][0] += wall
                    per_file[path.name][1] += transcript.duration
                options = transcriber.settings.decoding()
                direct_wall, direct_cpu, _ = _timed(functools.partial(_direct, transcriber.model, path, options))
                totals[name]["direct"][0] += direct_wall
                totals[name]["direct"][1] += direct_cpu
                ratios[name].append(cpu / direct_cpu if direct_cpu else 1.0)
    print(f"audio: {len(files)} files x {rounds} rounds = {audio_seconds:.1f} s of speech")
    for name, total in totals.items():
        (wall, cpu), (direct_wall, direct_cpu) = total["chorus"], total["direct"]
        print(f"  {name}: real-time factor (Chorus) wall {wall / audio_seconds:.3f}, CPU {cpu / audio_seconds:.3f}"
              f" (CPU / {os.cpu_count()} cores {cpu / audio_seconds / (os.cpu_count() or 1):.3f});"
              f" faster-whisper direct wall {direct_wall / audio_seconds:.3f}, CPU {direct_cpu / audio_seconds:.3f}")
        print(f"    pipeline overhead vs direct: wall {wall / direct_wall - 1:+.1%}, CPU {cpu / direct_cpu - 1:+.1%},"
              f" median per file (CPU) {statistics.median(ratios[name]) - 1:+.1%}  goal <= 10%  {_verdict(cpu / direct_cpu - 1 <= 0.10)}")
    (wall, cpu), (old_wall, old_cpu) = totals["tuned"]["chorus"], totals["baseline"]["chorus"]
    cores = os.cpu_count() or 1
    print(f"tuned against baseline: wall x{old_wall / wall:.2f} faster, CPU x{old_cpu / cpu:.2f} faster")
    print(f"real-time factor (Chorus, tuned): wall {wall / audio_seconds:.3f}, CPU-seconds/{cores} cores {cpu / audio_seconds / cores:.3f}"
          f"  goal <= 0.1  wall {_verdict(wall / audio_seconds <= 0.1)}, CPU {_verdict(cpu / audio_seconds / cores <= 0.1)}")
    print("  per file (the encoder reads at least a 15 s window, so short notes cost more per second):")
    for name, (seconds, duration) in per_file.items():
        print(f"    {name}: {duration / rounds:.1f} s audio, RTF wall {seconds / duration:.3f}")


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


def _pool(name: str, transcriber: WhisperTranscriber, notes: list[Path], workers: int) -> None:
    payloads = [notes[i % len(notes)].read_bytes() for i in range(20)]
    started = time.perf_counter()
    with ThreadPoolTranscriptionQueue(transcriber, workers=workers) as queue:
        jobs = [queue.submit(f"note-{i}", data) for i, data in enumerate(payloads)]
        results = [job.result() for job in jobs]
        first_done = min(r.seconds for r in results)
    elapsed = time.perf_counter() - started
    failed = sum(not r.ok for r in results)
    print(
        f"{name}: 20 notes at once through the pool ({workers} worker(s)): cleared in {elapsed:.1f} s "
        f"({elapsed / 20:.2f} s per note, fastest job {first_done:.2f} s, {failed} failed)"
    )


def _rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _verdict(ok: bool) -> str:
    return "OK" if ok else "MISSED"


if __name__ == "__main__":
    main()
