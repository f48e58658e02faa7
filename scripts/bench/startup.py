"""Startup benchmark: how long ``chorus serve`` takes to answer ``/health``, and to import ``bot.app``.

Each figure is CPU time (user + system, of the child process) and wall time, the median of
--runs, printed with its ratio against a baseline measured in the same run: a one-route
FastAPI app served by uvicorn (the least any FastAPI server can take). CPU time is the steadier
figure on a shared machine; wall time there includes waiting for the cores.

* **import**: ``python -c "import bot.app"``;
* **serve**: ``python -m bot.cli serve`` on a fresh SQLite database until ``/health`` answers 200
  (CPU read from /proc at that moment).

Also prints which heavy libraries the served process has imported by then (none, we hope).
Not a test.

    .venv/bin/python scripts/bench/startup.py [--runs 3]
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
HEAVY = ("scipy", "pandas", "sklearn", "matplotlib", "torch", "transformers", "faster_whisper")
TICK = os.sysconf("SC_CLK_TCK")

BASELINE_APP = """
import sys, uvicorn
from fastapi import FastAPI
app = FastAPI()
@app.get("/health")
def health() -> dict[str, str]:
    return {"status": "ok"}
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning")
"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def cpu_of(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICK  # utime, stime


def run_import(code: str) -> tuple[float, float]:
    start = time.perf_counter()
    process = subprocess.Popen([sys.executable, "-c", code], cwd=ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if status != 0:
        raise SystemExit(f"{code!r} failed")
    return usage.ru_utime + usage.ru_stime, wall


def serve_until_healthy(argv: list[str], port: int, env: dict[str, str]) -> tuple[float, float]:
    start = time.perf_counter()
    process = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while True:
            if process.poll() is not None:
                raise SystemExit(f"{argv} exited with {process.returncode}")
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
                    if response.status == 200:
                        break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                time.sleep(0.02)
        return cpu_of(process.pid), time.perf_counter() - start
    finally:
        process.terminate()
        process.wait(timeout=30)


def heavy_in_served_app(folder: Path) -> list[str]:
    """The heavy libraries a created app's lifespan has imported by its first /health."""
    code = ("import sys\nfrom fastapi.testclient import TestClient\nfrom bot.app import create_app\n"
            "from bot.settings import Settings\n"
            "with TestClient(create_app(Settings.from_env())) as client:\n"
            "    assert client.get('/health').status_code == 200\n"
            f"print(' '.join(m for m in {HEAVY!r} if m in sys.modules))\n")
    env = environment(folder, "heavy")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, check=True)
    return out.stdout.split()


def environment(folder: Path, name: str) -> dict[str, str]:
    env = dict(os.environ, CHORUS_DATABASE_URL=f"sqlite:///{folder / name}.db", CHORUS_LOG_LEVEL="warning")
    env["CHORUS_KEY_FILE"] = str(folder / name / "chorus.key")
    env["CHORUS_DATA_KEY_FILE"] = str(folder / name / "chorus-data.keys")
    env["PYTHONPATH"] = str(ROOT)
    return env


def report(name: str, samples: list[tuple[float, float]], baseline: tuple[float, float] | None) -> tuple[float, float]:
    cpu = statistics.median(s[0] for s in samples)
    wall = statistics.median(s[1] for s in samples)
    ratio = f"   ({cpu / baseline[0]:.1f}x / {wall / baseline[1]:.1f}x the baseline)" if baseline else ""
    print(f"{name:<34} CPU {cpu:6.2f} s   wall {wall:6.2f} s{ratio}")
    return cpu, wall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        base_serve, chorus_serve, base_import, chorus_import = [], [], [], []
        for n in range(args.runs):
            port = free_port()
            base_serve.append(serve_until_healthy([sys.executable, "-c", BASELINE_APP, str(port)], port, dict(os.environ)))
            port = free_port()
            chorus_serve.append(serve_until_healthy(
                [sys.executable, "-m", "bot.cli", "serve", "--port", str(port)], port, environment(folder, f"serve{n}")))
            base_import.append(run_import("import fastapi, uvicorn"))
            chorus_import.append(run_import("import bot.app"))
        print(f"median of {args.runs} runs; the machine may be shared, so wall times are pessimistic")
        baseline = report("baseline: FastAPI app to /health", base_serve, None)
        report("chorus serve to /health", chorus_serve, baseline)
        baseline_import = report("baseline: import fastapi, uvicorn", base_import, None)
        report("import bot.app", chorus_import, baseline_import)
        heavy = heavy_in_served_app(folder)
        print("heavy libraries imported by a serving app:", " ".join(heavy) or "none")


if __name__ == "__main__":
    main()
