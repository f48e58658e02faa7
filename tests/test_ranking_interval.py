"""A ranking's interval holds its own estimate: in a small group the bootstrap's resamples are
mostly the group itself, refitted a rounding error away from the estimate, and a percentile
alone once put the lower end above the score it bounds. A group too small to resample (fewer
than MIN_RANKINGS_FOR_INTERVAL) gets no interval at all, and says why, rather than one of no
width: one person's ranking once showed as "3.12 (3.12 to 3.12)", a certainty it cannot give."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.analysis.ranking import analyse_rankings

OPTIONS = ["x", "y", "z", "w"]


def _rankings(orders: dict[str, tuple[str, list[str]]]) -> pd.DataFrame:
    return pd.DataFrame([(person, group, option, place) for person, (group, order) in orders.items()
                         for place, option in enumerate(order, start=1)],
                        columns=["participant", "group", "option", "position"])


def _outside(result: pd.DataFrame) -> pd.DataFrame:
    return result[(result["low"] > result["score"]) | (result["high"] < result["score"])]


def test_tiny_groups_get_no_interval_and_everyone_one_that_holds_the_estimate() -> None:
    table = _rankings({
        "p1": ("patient", ["x", "y", "z"]), "p2": ("patient", ["y", "x", "z"]),  # z last for both: half the resamples
        "m1": ("midwife", ["z", "y"]),                                               # one person: every resample the same
        "s1": ("staff", ["w", "x", "y", "z"]), "s2": ("staff", ["w", "y"]), "s3": ("staff", ["x"]),
    })
    result = analyse_rankings(table, OPTIONS, n_boot=100)
    assert _outside(result).empty, _outside(result)[["group", "option", "score", "low", "high"]].to_string()
    tiny = result[result["group"] != "all"]
    assert tiny[["low", "high"]].isna().all().all() and (tiny["interval_note"] == "few").all(), "too few to resample"
    assert tiny["score"].notna().all(), "the estimate itself is still given"
    everyone = result[result["group"] == "all"]
    assert everyone["interval_note"].isna().all() and everyone[["low", "high"]].notna().all().all()


@pytest.mark.parametrize("seed", range(12))
def test_any_small_panel_gets_intervals_that_hold_their_estimate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    people = {f"p{n}": (str(rng.choice(["a", "b"])), list(rng.permutation(OPTIONS)[: rng.integers(1, 5)]))
              for n in range(int(rng.integers(5, 12)))}
    result = analyse_rankings(_rankings(people), OPTIONS, n_boot=60, seed=seed)
    assert _outside(result).empty
    shown = result[result["low"].notna()]
    assert (shown["low"] <= shown["high"]).all()
    assert result.loc[result["low"].isna(), "interval_note"].isin(["few", "alike"]).all(), "no interval without a reason"
    assert not result[result["group"] == "all"]["low"].isna().any(), "five or more people, not all alike: an interval"


def test_a_larger_panel_keeps_its_bootstrap_percentiles() -> None:
    rng = np.random.default_rng(1)
    people = {f"p{n}": ("all", list(rng.permutation(OPTIONS))) for n in range(40)}
    result = analyse_rankings(_rankings(people), OPTIONS, n_boot=100, per_group=False)
    assert (result["low"] < result["score"]).all() and (result["score"] < result["high"]).all(), "strictly inside"
