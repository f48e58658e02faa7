from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.optimize import minimize
from scipy.special import logsumexp

from bot.cli import cli
from flows.analysis.ranking import analyse_rankings, borda, choice_data, fit_plackett_luce

COLUMNS = ["participant", "group", "option", "position"]


def _frame(rankings: dict[str, list[str]], group: str = "patient") -> pd.DataFrame:
    rows = [
        (who, group, option, place + 1)
        for who, order in rankings.items()
        for place, option in enumerate(order)
    ]
    return pd.DataFrame(rows, columns=COLUMNS)


def _overall(result: pd.DataFrame) -> pd.DataFrame:
    return result[result["group"] == "all"].set_index("option")


def test_borda_counts_match_a_hand_calculation_with_a_partial_ranking() -> None:
    # 3 options, so places score 2, 1, 0. p3 ranks only A: B and C share
    # the unspent 1 + 0 points, 0.5 each. A = 2+1+2, B = 1+2+0.5, C = 0+0+0.5.
    df = _frame({"p1": ["A", "B", "C"], "p2": ["B", "A", "C"], "p3": ["A"]})
    table = borda(df, ["A", "B", "C"]).set_index("option")
    assert table["borda"].to_dict() == {"A": 5.0, "B": 3.5, "C": 0.5}
    assert table["borda"].sum() == 3 * 3  # every participant hands out N(N-1)/2 = 3


def test_plackett_luce_for_two_options_is_the_log_odds_of_winning() -> None:
    df = _frame({"p1": ["A", "B"], "p2": ["A", "B"], "p3": ["A", "B"], "p4": ["B", "A"]})
    theta = fit_plackett_luce(choice_data(df, ["A", "B"]), alpha=0.0)
    assert theta[0] - theta[1] == pytest.approx(np.log(3), abs=1e-8)


def test_top_one_choices_give_log_shares_because_unranked_options_stay_in_the_set() -> None:
    winners = ["A"] * 5 + ["B"] * 3 + ["C"] * 2
    df = _frame({f"p{i}": [w] for i, w in enumerate(winners)})
    theta = fit_plackett_luce(choice_data(df, ["A", "B", "C"]), alpha=0.0)
    expected = np.log([5, 3, 2]) - np.log([5, 3, 2]).mean()
    assert theta == pytest.approx(expected, abs=1e-8)


def _direct_mle(rankings: dict[str, list[str]], options: list[str]) -> np.ndarray:
    """Maximise the Plackett-Luce likelihood written out ranking by ranking."""
    index = {o: i for i, o in enumerate(options)}

    def negative_loglik(free: np.ndarray) -> float:
        theta = np.concatenate([[0.0], free])
        total = 0.0
        for order in rankings.values():
            left = list(range(len(options)))
            for option in order:
                total += theta[index[option]] - logsumexp(theta[left])
                left.remove(index[option])
        return -total

    free = minimize(negative_loglik, np.zeros(len(options) - 1), method="BFGS", tol=1e-12).x
    theta = np.concatenate([[0.0], free])
    return theta - theta.mean()


def test_plackett_luce_matches_a_direct_likelihood_maximisation() -> None:
    rankings = {
        "p1": ["A", "B", "C"],
        "p2": ["B", "C", "A"],
        "p3": ["C", "A", "B"],
        "p4": ["A"],
        "p5": ["A", "C"],
    }
    options = ["A", "B", "C"]
    theta = fit_plackett_luce(choice_data(_frame(rankings), options), alpha=0.0)
    assert theta == pytest.approx(_direct_mle(rankings, options), abs=1e-5)
    assert np.argmax(theta) == 0


def _simulate(n: int, utilities: np.ndarray, seed: int, top: int | None = None) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    rows = []
    for p in range(n):
        order = np.argsort(-(utilities + rng.gumbel(size=len(utilities))))
        for place, o in enumerate(order[: top or len(order)]):
            rows.append((p, "staff" if p % 3 == 0 else "patient", f"o{o}", place + 1))
    return pd.DataFrame(rows, columns=COLUMNS)


def test_a_known_ordering_is_recovered_from_simulated_rankings() -> None:
    utilities = np.array([1.2, 0.6, 0.0, -0.6, -1.2])
    result = analyse_rankings(_simulate(300, utilities, seed=7, top=3), n_boot=100, seed=1)
    overall = _overall(result)
    assert list(overall.index) == ["o0", "o1", "o2", "o3", "o4"]
    truth = pd.Series(utilities - utilities.mean(), index=[f"o{i}" for i in range(5)])
    assert (overall["score"] - truth).abs().max() < 0.3
    assert ((overall["low"] <= truth) & (truth <= overall["high"])).sum() >= 4
    assert (overall["low"] < overall["score"]).all() and (overall["score"] < overall["high"]).all()
    assert overall["p_first"].sum() == pytest.approx(1.0)


def test_results_are_given_per_group_and_reproducible_with_a_seed() -> None:
    df = _simulate(60, np.array([1.0, 0.0, -1.0]), seed=3)
    first = analyse_rankings(df, n_boot=30, seed=5)
    again = analyse_rankings(df, n_boot=30, seed=5)
    pd.testing.assert_frame_equal(first, again)
    assert set(first["group"]) == {"all", "patient", "staff"}
    staff = first[first["group"] == "staff"].set_index("option")
    assert staff.loc["o0", "n_ranked"] == 20
    other_seed = analyse_rankings(df, n_boot=30, seed=6)
    assert not np.allclose(first["low"], other_seed["low"])


def test_a_participant_who_uses_a_position_twice_is_rejected() -> None:
    df = pd.DataFrame([("p1", "g", "A", 1), ("p1", "g", "B", 1)], columns=COLUMNS)
    with pytest.raises(ValueError, match="same position twice"):
        analyse_rankings(df, n_boot=0)


def test_cli_prints_options_with_borda_scores_and_intervals(tmp_path: Path) -> None:
    path = tmp_path / "rankings.csv"
    _simulate(40, np.array([1.5, 0.0, -1.5]), seed=2).to_csv(path, index=False)
    result = CliRunner().invoke(
        cli,
        ["analyse", "ranking", "--rankings", str(path), "--bootstrap", "40", "--format", "json"],
    )
    assert result.exit_code == 0, result.output
    options = json.loads(result.output)["options"]
    assert [o["option"] for o in options] == ["o0", "o1", "o2"]
    assert sum(o["borda"] for o in options) == 40 * 3
    for o in options:
        assert o["low"] <= o["score"] <= o["high"]
    table = CliRunner().invoke(
        cli, ["analyse", "ranking", "--rankings", str(path), "--bootstrap", "10", "--per-group"]
    )
    assert table.exit_code == 0 and "group staff" in table.output


def test_the_desk_ranking_report_keeps_each_rank_step_apart_with_all_its_options() -> None:
    """An option nobody ranked comes last (not left out), and two rank steps are not pooled."""
    from types import SimpleNamespace

    from bot.api.methods import ranking_report

    rows = []
    for n in range(12):
        top = ["meds", "info", "letter"] if n % 3 else ["info", "meds", "letter"]
        rows.append({"type": "rank", "step": "fix", "participant": f"p{n}", "group": "patient", "value": top,
                     "skipped": False, "item": None})
        rows.append({"type": "rank", "step": "other", "participant": f"p{n}", "group": "patient", "value": ["x", "y"],
                     "skipped": False, "item": None})
    steps = {(1, "fix"): SimpleNamespace(type="rank", raw={"options": ["meds", "info", "letter", {"value": "transport"}]}),
             (1, "other"): SimpleNamespace(type="rank", raw={"options": ["x", "y"]})}
    found = ranking_report(pd.DataFrame(rows), steps, n_boot=20)["options"]
    fix = [r for r in found if r["step"] == "fix" and r["group"] == "all"]
    assert [r["option"] for r in fix] == ["meds", "info", "letter", "transport"]
    assert fix[-1]["borda"] == 0
    assert {r["option"] for r in found if r["step"] == "other"} == {"x", "y"}
