"""Starting Chorus stays light: the heavy numeric and model libraries load only when a route or
task needs them, so `chorus serve` and `chorus worker` start in about a second (crash recovery,
more workers, and the many tests that start servers all wait for it).

Each check runs in a fresh interpreter, since this test process has imported everything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.conftest import ROOT

HEAVY = ("scipy", "pandas", "sklearn", "matplotlib", "torch", "transformers", "faster_whisper", "pyarrow", "av")

SERVE = """
import json, sys
from fastapi.testclient import TestClient
from bot.app import create_app
from bot.settings import Settings

with TestClient(create_app(Settings.from_env())) as client:
    health = client.get("/health").json()
    started = client.post("/api/simulator/sessions", json={"study": "ae-waiting"}).json()
    replied = client.post(f"/api/simulator/sessions/{started['session']}/messages",
                          json={"text": "The wait was long and nobody told us anything"}).json()
    print(json.dumps({"studies": health["studies"], "replied": bool(replied["messages"]),
                      "loaded": [m for m in HEAVY if m in sys.modules]}))
"""


def run_fresh(code: str, tmp_path: Path, **env: str) -> dict[str, object]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    environment.update(CHORUS_DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.db'}", CHORUS_KEY_FILE=str(tmp_path / "chorus.key"),
                       CHORUS_DATA_KEY_FILE=str(tmp_path / "chorus-data.keys"), PYTHONPATH=str(ROOT), **env)
    done = subprocess.run([sys.executable, "-c", f"HEAVY = {HEAVY!r}\n{code}"], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result: dict[str, object] = json.loads(done.stdout.strip().splitlines()[-1])
    return result


def test_serving_the_example_studies_loads_no_heavy_library(tmp_path: Path) -> None:
    """create_app with the example studies (a Delphi and a choice experiment among them), its
    lifespan, /health and a typed answer: none of them needs pandas, scipy, sklearn, matplotlib,
    torch, transformers, faster-whisper, pyarrow or PyAV."""
    result = run_fresh(SERVE, tmp_path, CHORUS_SAFEGUARDING="patterns")
    studies = result["studies"]
    assert isinstance(studies, list) and set(studies) >= {"ae-waiting", "priorities", "evaluation"}
    assert result["replied"] is True
    assert result["loaded"] == []


def test_the_command_line_and_the_worker_load_no_heavy_library(tmp_path: Path) -> None:
    code = ("import json, sys\nimport bot.cli, bot.worker\n"
            "print(json.dumps({'loaded': [m for m in HEAVY if m in sys.modules]}))")
    assert run_fresh(code, tmp_path)["loaded"] == []


def test_a_report_still_loads_what_it_needs(tmp_path: Path) -> None:
    """The other side: the libraries arrive with the first route that uses them (so the check
    above would see them if they were imported at startup)."""
    code = ("import json, sys\nfrom bot.api import reports\nbefore = 'pandas' in sys.modules\n"
            "from bot.api import methods\n"
            "print(json.dumps({'before': before, 'after': 'pandas' in sys.modules and 'scipy' in sys.modules}))")
    assert run_fresh(code, tmp_path) == {"before": False, "after": True}
