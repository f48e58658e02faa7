"""`chorus design`: a coordinator sees the choice experiment's design before launch."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli

PRIORITIES = Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities"


def test_it_reports_a_design_that_beats_random_ones_with_level_balance() -> None:
    outcome = CliRunner().invoke(cli, ["design", str(PRIORITIES), "--format", "json", "--random-designs", "10"])
    assert outcome.exit_code == 0, outcome.output
    [report] = json.loads(outcome.output)["designs"]
    assert report["d_error"] < report["random_median_d_error"]
    assert report["dominated_tasks"] == []
    for counts in report["level_counts"].values():
        assert len(set(counts.values())) == 1, f"levels unbalanced: {counts}"
    assert len(report["rows"]) == report["tasks"] and {r["block"] for r in report["rows"]} == set(range(report["blocks"]))


def test_it_says_so_when_there_is_no_choice_experiment() -> None:
    outcome = CliRunner().invoke(cli, ["design", str(PRIORITIES.parent / "ae-waiting")])
    assert outcome.exit_code != 0 and "no choice_experiment steps" in outcome.output
