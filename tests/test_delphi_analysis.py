from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.cli import cli
from flows.analysis.delphi import (
    ConsensusRule,
    Scale,
    feedback_chart,
    feedback_for,
    feedback_text,
    items_for_next_round,
    movement,
    own_score,
    participation,
    summarise,
)

COLUMNS = ["participant", "group", "round", "item", "score"]


def _rows(
    item: str, scores: list[float | None], group: str = "patient", round: int = 1, prefix: str = "p"
) -> list[tuple[object, ...]]:
    return [(f"{prefix}{i}", group, round, item, s) for i, s in enumerate(scores)]


def _frame(*parts: list[tuple[object, ...]]) -> pd.DataFrame:
    return pd.DataFrame([row for part in parts for row in part], columns=COLUMNS)


def _status(summary: pd.DataFrame, item: str, group: str = "all", round: int = 1) -> str:
    row = summary[
        (summary["item"] == item) & (summary["group"] == group) & (summary["round"] == round)
    ]
    assert len(row) == 1
    return str(row["consensus"].iloc[0])


def test_eight_of_ten_high_and_one_low_is_consensus_in() -> None:
    summary = summarise(_frame(_rows("A", [7, 8, 9, 9, 8, 7, 8, 9, 2, 5])))
    row = summary[summary["group"] == "all"].iloc[0]
    assert (row["n"], row["pct_high"], row["pct_low"]) == (10, 80.0, 10.0)
    assert _status(summary, "A") == "in"
    assert _status(summary, "A", "patient") == "in"


def test_seven_high_but_two_low_is_no_consensus() -> None:
    summary = summarise(_frame(_rows("A", [7, 8, 9, 9, 8, 7, 8, 2, 1, 5])))
    assert _status(summary, "A") == "none"


def test_exactly_seventy_percent_high_with_no_lows_is_in() -> None:
    summary = summarise(_frame(_rows("A", [7, 7, 7, 7, 7, 7, 7, 4, 5, 6])))
    assert _status(summary, "A") == "in"


def test_seventy_percent_low_with_few_highs_is_consensus_out() -> None:
    summary = summarise(_frame(_rows("A", [1, 2, 3, 1, 2, 3, 1, 5, 6, 9])))
    assert _status(summary, "A") == "out"
    summary = summarise(_frame(_rows("A", [1, 2, 3, 1, 2, 3, 1, 9, 8, 5])))
    assert _status(summary, "A") == "none"


def test_per_group_rule_turns_overall_in_to_none_when_staff_disagree() -> None:
    ratings = _frame(_rows("A", [8] * 20), _rows("A", [9, 9, 5, 5, 5], "staff", prefix="s"))
    assert _status(summarise(ratings), "A") == "in"
    per_group = summarise(ratings, ConsensusRule(per_group=True))
    assert _status(per_group, "A") == "none"
    assert _status(per_group, "A", "patient") == "in"
    assert _status(per_group, "A", "staff") == "none"
    small_groups_ignored = summarise(ratings, ConsensusRule(per_group=True, min_group_n=6))
    assert _status(small_groups_ignored, "A") == "in"


def test_per_group_rule_keeps_in_when_every_group_agrees() -> None:
    ratings = _frame(_rows("A", [8] * 10), _rows("A", [9, 9, 9, 7, 5], "staff", prefix="s"))
    assert _status(summarise(ratings, ConsensusRule(per_group=True)), "A") == "in"


def test_thresholds_are_configurable() -> None:
    ratings = _frame(_rows("A", [7, 8, 9, 9, 8, 7, 5, 5, 5, 5]))
    assert _status(summarise(ratings), "A") == "none"
    assert _status(summarise(ratings, ConsensusRule(agree_pct=60)), "A") == "in"


def test_unsure_answers_are_left_out_of_percentages() -> None:
    summary = summarise(_frame(_rows("A", [8, 8, 8, 8, 8, 8, 2, None, None, None])))
    row = summary[summary["group"] == "all"].iloc[0]
    assert (row["n"], row["n_unsure"]) == (7, 3)
    assert row["pct_high"] == pytest.approx(600 / 7)
    assert row["pct_low"] == pytest.approx(100 / 7)
    assert row["consensus"] == "in"  # 6 of 7 high, 1 of 7 (14.3%) low
    assert row["counts"] == (0, 1, 0, 0, 0, 0, 0, 6, 0)


def test_median_and_quartiles_match_numpy_per_group_and_overall() -> None:
    rng = np.random.default_rng(3)
    patients, staff = rng.integers(1, 10, 37).tolist(), rng.integers(1, 10, 12).tolist()
    summary = summarise(_frame(_rows("A", patients), _rows("A", staff, "staff", prefix="s")))
    for group, scores in (("all", patients + staff), ("patient", patients), ("staff", staff)):
        row = summary[summary["group"] == group].iloc[0]
        q1, median, q3 = np.percentile(scores, [25, 50, 75])
        assert (row["q1"], row["median"], row["q3"]) == pytest.approx((q1, median, q3))
        assert row["iqr"] == pytest.approx(q3 - q1)
        assert row["counts"] == tuple(np.bincount(scores, minlength=10)[1:])


def test_a_five_point_scale_uses_its_own_bands() -> None:
    rule = ConsensusRule(Scale(1, 5, low_band=(1, 2), high_band=(4, 5)))
    summary = summarise(_frame(_rows("A", [4, 5, 5, 4, 4, 5, 4, 3, 3, 1])), rule)
    row = summary[summary["group"] == "all"].iloc[0]
    assert (row["pct_high"], row["pct_low"], row["consensus"]) == (70.0, 10.0, "in")
    assert len(row["counts"]) == 5


def test_scores_outside_the_scale_are_rejected() -> None:
    with pytest.raises(ValueError, match="whole number in 1-9"):
        summarise(_frame(_rows("A", [8, 10])))
    with pytest.raises(ValueError, match="band"):
        Scale(1, 5, high_band=(4, 6))


def test_items_that_reach_consensus_leave_the_next_round() -> None:
    ratings = _frame(_rows("in", [8] * 10), _rows("out", [1] * 10), _rows("open", [5] * 10))
    summary = summarise(ratings)
    assert items_for_next_round(summary, 1) == ["out", "open"]
    assert items_for_next_round(summary, 1, drop=("in", "out")) == ["open"]
    assert items_for_next_round(summary, 1, drop=()) == ["in", "out", "open"]
    assert items_for_next_round(summary, 1, items=["open", "in", "new"]) == ["open", "new"]


def test_attrition_counts_those_who_rated_last_round_but_not_this_one() -> None:
    ratings = _frame(
        _rows("A", [8, 8, 8, 8], round=1),
        _rows("A", [5, 5], "staff", round=1, prefix="s"),
        _rows("A", [8, 8, None], round=2),
        _rows("A", [5], "staff", round=2, prefix="s"),
    )
    table = participation(ratings).set_index(["round", "group"])
    assert table.loc[(1, "all"), "responded"] == 6
    assert table.loc[(2, "all"), ["responded", "previous", "dropped"]].tolist() == [4, 6, 2]
    assert table.loc[(2, "patient"), "attrition_pct"] == pytest.approx(25.0)
    assert table.loc[(2, "staff"), "attrition_pct"] == pytest.approx(50.0)


def test_movement_counts_changed_scores_between_rounds() -> None:
    ratings = _frame(_rows("A", [5, 5, 5, 9], round=1), _rows("A", [7, 5, 8, 9], round=2))
    row = movement(ratings).set_index("group").loc["all"]
    assert (row["round"], row["n_paired"], row["n_changed"]) == (2, 4, 2)
    assert row["mean_abs_change"] == pytest.approx(5 / 4)
    assert row["median_shift"] == pytest.approx(7.5 - 5)


def _feedback_study() -> pd.DataFrame:
    return _frame(
        _rows("A", [7, 8, 8, 9, 9, 8, 7, 8, 8, 3]), _rows("A", [5, 7, 6, 4, 8], "staff", prefix="s")
    )


def test_feedback_text_gives_own_score_and_each_group() -> None:
    ratings = _feedback_study()
    summary = summarise(ratings)
    labels = {"patient": "Patients & carers", "staff": "Staff"}
    fb = feedback_for(summary, "A", 1, own_score(ratings, "p0", "A", 1), labels)
    assert feedback_text(fb) == (
        "Last time you said 7. Everyone: 73% said 7-9 (median 8). "
        "Patients & carers: 90% said 7-9 (median 8). Staff: 40% said 7-9 (median 6)."
    )
    unsure = feedback_for(summary, "A", 1, None, labels)
    assert feedback_text(unsure).startswith("Last time you did not give a score. Everyone:")


def _orange_pixels(png: bytes) -> int:
    import matplotlib.image as mpimg

    image = mpimg.imread(io.BytesIO(png), format="png")[:, :, :3]
    orange = np.array([0xD9, 0x5F, 0x02]) / 255
    return int((np.abs(image - orange).sum(axis=2) < 0.05).sum())


def test_feedback_chart_is_a_png_marking_the_participants_score() -> None:
    summary = summarise(_feedback_study())
    marked = feedback_chart(feedback_for(summary, "A", 1, 7))
    assert marked.startswith(b"\x89PNG")
    assert _orange_pixels(marked) > 100
    unmarked = feedback_chart(feedback_for(summary, "A", 1, None))
    assert _orange_pixels(unmarked) == 0


def test_cli_prints_items_as_json(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    _frame(
        _rows("A", [8] * 20),
        _rows("A", [9, 9, 5, 5, 5], "staff", prefix="s"),
        _rows("B", [2, None, 3], "staff", prefix="s"),
    ).to_csv(path, index=False)
    runner = CliRunner()
    result = runner.invoke(cli, ["analyse", "delphi", "--ratings", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    items = {(i["item"], i["group"]): i for i in json.loads(result.output)["items"]}
    assert items[("A", "all")]["consensus"] == "in"
    assert items[("A", "all")]["pct_high"] == pytest.approx(88.0)
    assert items[("B", "all")]["n"] == 2 and items[("B", "all")]["consensus"] == "few", "2 scores: too few to call out"
    assert set(items[("A", "staff")]) >= {
        "item",
        "round",
        "group",
        "n",
        "median",
        "pct_high",
        "pct_low",
        "consensus",
    }
    strict = runner.invoke(
        cli, ["analyse", "delphi", "--ratings", str(path), "--per-group", "--format", "json"]
    )
    strict_items = {(i["item"], i["group"]): i for i in json.loads(strict.output)["items"]}
    assert strict_items[("A", "all")]["consensus"] == "none"
    table = runner.invoke(cli, ["analyse", "delphi", "--ratings", str(path)])
    assert table.exit_code == 0 and "consensus" in table.output.splitlines()[0]


def test_cli_reports_a_bad_score_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "ratings.csv"
    _frame(_rows("A", [8, 12])).to_csv(path, index=False)
    result = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(path)])
    assert result.exit_code != 0
    assert "whole number in 1-9" in result.output


def test_feedback_rounds_a_half_up_as_the_desk_does() -> None:
    """5 of 8 scored 7-9: 62.5%, shown as 63% (Python's formats would say 62, beside 87.5 as 88)."""
    ratings = _frame(_rows("A", [7, 8, 9, 7, 8, 2, 3, 4]))
    fb = feedback_for(summarise(ratings), "A", 1, own_score(ratings, "p0", "A", 1), {})
    assert "Everyone: 63% said 7-9" in feedback_text(fb)
