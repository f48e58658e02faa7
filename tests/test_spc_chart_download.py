"""A control chart downloaded from the API (bot/api/figures.py) marks no point as special cause
when there are too few points or answers to judge, as the desk says, and its title says why."""

from __future__ import annotations

from typing import Any

from bot.api.figures import spc_chart


def _measure(too_few: str | None) -> dict[str, Any]:
    return {"flow": "wk2", "step": "score", "measure": "mean", "period": "week", "periods": ["2030-01-07", "2030-01-14"],
            "values": [3.0, 9.0], "mean": 6.0, "upper": 10.0, "lower": 0.0, "direction": ["", "high"], "too_few": too_few}


def test_a_thin_chart_marks_no_special_cause_and_says_why() -> None:
    chart = spc_chart(_measure("only 2 points (fewer than 8)"))
    assert chart.direction == [] and chart.title.endswith("(too few answers to judge: only 2 points (fewer than 8))")


def test_a_chart_with_enough_answers_keeps_its_signals() -> None:
    chart = spc_chart(_measure(None))
    assert chart.direction == ["", "high"] and chart.title == "wk2 / score: mean per week"
