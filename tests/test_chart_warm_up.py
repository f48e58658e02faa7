"""A server with a Delphi round after the first draws one throwaway feedback chart in the
background soon after it starts (bot/population.py), so the round's first real chart is not
drawn cold (matplotlib's font cache, pandas) inside the transaction that starts the round."""

from __future__ import annotations

import logging
import subprocess
import sys
from pathlib import Path

import pytest

from bot.population import shows_delphi_feedback, warm_up_charts_soon
from bot.studies import StudyRegistry

EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"


def test_only_a_study_with_a_later_delphi_round_is_warmed_up() -> None:
    assert shows_delphi_feedback(StudyRegistry.from_folder(EXAMPLES / "priorities"))
    waiting = StudyRegistry.from_folder(EXAMPLES / "ae-waiting")
    assert not shows_delphi_feedback(waiting)
    assert warm_up_charts_soon(waiting) is None


def test_the_warm_up_draws_a_chart_in_its_own_thread(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="chorus.population")
    timer = warm_up_charts_soon(StudyRegistry.from_folder(EXAMPLES / "priorities"), after=0)
    assert timer is not None and timer.daemon
    timer.join(60)
    assert not timer.is_alive()
    assert any("warmed up" in record.getMessage() for record in caplog.records), caplog.text


def test_a_cold_machine_builds_matplotlibs_font_cache_in_the_warm_up(tmp_path: Path) -> None:
    """On a new machine (no font cache yet) the warm-up is what builds it."""
    code = ("from bot.population import warm_up_charts; warm_up_charts(); "
            "import matplotlib; print(matplotlib.get_cachedir())")
    env = {"MPLCONFIGDIR": str(tmp_path / "mpl"), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path),
           "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    printed = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=120, check=True)
    assert Path(printed.stdout.strip()) == tmp_path / "mpl"
    assert list((tmp_path / "mpl").glob("fontlist-*.json")), "no font cache was built"
