"""Starting a Delphi round after the first draws one throwaway feedback chart first, outside the
transaction that starts the round (bot/starting.py, bot/population.py): the round's first real
chart, drawn cold (pandas, matplotlib and its font cache), held the database for seconds. Serving
alone loads none of it (tests/test_startup.py)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot import population, starting
from bot.population import shows_delphi_feedback
from bot.studies import StudyRegistry

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "flows" / "examples"


def test_only_a_flow_with_a_later_delphi_round_shows_feedback() -> None:
    priorities = StudyRegistry.from_folder(EXAMPLES / "priorities")
    assert shows_delphi_feedback(priorities) and shows_delphi_feedback(priorities, "round2")
    assert not shows_delphi_feedback(priorities, "round1")
    assert not shows_delphi_feedback(StudyRegistry.from_folder(EXAMPLES / "ae-waiting"))


def test_starting_a_later_round_warms_up_before_taking_the_lock_and_an_earlier_one_does_not(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    monkeypatch.setattr(starting, "warm_up_charts", lambda: calls.append("warm up"))
    def start_chunk(*args: object) -> list[object]:
        calls.append("transaction")
        return []

    monkeypatch.setattr(starting, "_start_chunk", start_chunk)

    class Task:
        def __init__(self, flow_id: str) -> None:
            self.participant_id, self.study_id, self.flow_id, self.due_at, self.id = "p-1", "priorities", flow_id, 0, 1

    class Request:
        def __init__(self, flow_id: str) -> None:
            self.task = Task(flow_id)

    class Service:
        studies = StudyRegistry.from_folder(EXAMPLES / "priorities")

    service: Any = Service()
    starting.start_follow_ups(service, [Request("round1")], None, lambda *args: None)  # type: ignore[arg-type, list-item]
    assert calls == ["transaction"]
    calls.clear()
    starting.start_follow_ups(service, [Request("round2")], None, lambda *args: None)  # type: ignore[arg-type, list-item]
    assert calls == ["warm up", "transaction"]


def test_a_cold_machine_builds_matplotlibs_font_cache_in_the_warm_up_once(tmp_path: Path) -> None:
    """On a new machine (no font cache yet) the warm-up is what builds it, once a process."""
    code = ("import time\nfrom bot.population import warm_up_charts\nwarm_up_charts()\nstarted = time.monotonic()\n"
            "warm_up_charts()\nimport matplotlib\nprint(matplotlib.get_cachedir(), time.monotonic() - started)")
    env = {"MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    folder, again = printed.stdout.split()
    assert Path(folder) == tmp_path / "mpl" and list((tmp_path / "mpl").glob("fontlist-*.json")), "no font cache was built"
    assert float(again) < 0.01, "the second call draws nothing"
    assert "could not warm up" not in printed.stderr


def test_a_failed_warm_up_is_logged_and_harmless(monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    monkeypatch.setattr(population, "_warmed", population.threading.Event())

    def broken() -> None:
        raise RuntimeError("no fonts")

    monkeypatch.setattr(population, "_draw_a_throwaway_chart", broken)
    population.warm_up_charts()
    assert "could not warm up the Delphi feedback charts" in caplog.text
