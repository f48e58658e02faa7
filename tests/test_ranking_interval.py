"""A ranking's interval holds its own estimate, however small the group: in a group of one or
two the bootstrap's resamples are mostly the group itself, refitted a rounding error away from
the estimate, and a percentile alone once put the lower end above the score it bounds."""

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


def test_tiny_groups_get_intervals_that_hold_their_estimate() -> None:
    table = _rankings({
        "p1": ("patient", ["x", "y", "z"]), "p2": ("patient", ["y", "x", "z"]),  # z last for both: half the resamples
        "m1": ("midwife", ["z", "y"]),                                               # one person: every resample the same
        "s1": ("staff", ["w", "x", "y", "z"]), "s2": ("staff", ["w", "y"]), "s3": ("staff", ["x"]),
    })
    result = analyse_rankings(table, OPTIONS, n_boot=100)
    assert _outside(result).empty, _outside(result)[["group", "option", "score", "low", "high"]].to_string()
    one = result[result["group"] == "midwife"]
    assert (one["low"] == one["score"]).all() and (one["high"] == one["score"]).all(), "one person: nothing to vary"


@pytest.mark.parametrize("seed", range(12))
def test_any_small_panel_gets_intervals_that_hold_their_estimate(seed: int) -> None:
    rng = np.random.default_rng(seed)
    people = {f"p{n}": (str(rng.choice(["a", "b"])), list(rng.permutation(OPTIONS)[: rng.integers(1, 5)]))
              for n in range(int(rng.integers(1, 6)))}
    result = analyse_rankings(_rankings(people), OPTIONS, n_boot=60, seed=seed)
    assert _outside(result).empty
    assert (result["low"] <= result["high"]).all()


def test_a_larger_panel_keeps_its_bootstrap_percentiles() -> None:
    rng = np.random.default_rng(1)
    people = {f"p{n}": ("all", list(rng.permutation(OPTIONS))) for n in range(40)}
    result = analyse_rankings(_rankings(people), OPTIONS, n_boot=100, per_group=False)
    assert (result["low"] < result["score"]).all() and (result["score"] < result["high"]).all(), "strictly inside"
