"""Bradley-Terry scores, wiki-survey pair selection, and ``chorus analyse pairwise``."""

from __future__ import annotations

import json
import random
from pathlib import Path

import choix
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.cli import cli
from flows.analysis.pairwise import (
    Comparison,
    choose_pair,
    comparison_counts,
    fit_bradley_terry,
    score_by_group,
    score_items,
)

IDEAS = ["shorter waits", "kept informed", "pain relief", "somewhere to sit", "free parking", "wifi"]


def simulate(strengths: dict[str, float], n: int, seed: int) -> list[Comparison]:
    rng = np.random.default_rng(seed)
    names = list(strengths)
    records = []
    for _ in range(n):
        a, b = rng.choice(names, 2, replace=False)
        p_a = 1 / (1 + np.exp(strengths[b] - strengths[a]))
        records.append(Comparison(a, b) if rng.random() < p_a else Comparison(b, a))
    return records


def test_it_recovers_a_known_ordering_from_simulated_comparisons() -> None:
    strengths = dict(zip(IDEAS, [2.0, 1.2, 0.4, -0.4, -1.2, -2.0], strict=True))
    scores = score_items(simulate(strengths, 1500, seed=1))
    assert [s.item for s in scores] == IDEAS
    assert sum(s.comparisons for s in scores) == 2 * 1500


def test_scores_are_percentages_with_intervals_around_them() -> None:
    records = simulate(dict(zip(IDEAS, [1.0, 0.5, 0.0, 0.0, -0.5, -1.0], strict=True)), 60, seed=2)
    records += [Comparison("undefeated", idea) for idea in IDEAS[:3]]
    records += [Comparison("wifi", "pain relief", tie=True)]
    scores = {s.item: s for s in score_items(records, items=["never shown"])}
    for s in scores.values():
        assert 0 <= s.low <= s.score <= s.high <= 100
        assert s.low < s.high
    assert scores["never shown"].comparisons == 0
    assert scores["never shown"].score == pytest.approx(50, abs=5)
    assert scores["undefeated"].score < 100 and scores["undefeated"].wins == 3
    assert scores["wifi"].ties == 1 and scores["pain relief"].ties == 1
    # ties are reported but not fitted: dropping them changes no score
    without_tie = {s.item: s.score for s in score_items(records[:-1], items=["never shown"])}
    assert without_tie == pytest.approx({k: s.score for k, s in scores.items()})


def test_an_item_compared_often_has_a_narrower_interval() -> None:
    strengths = {idea: 0.0 for idea in IDEAS}
    sparse = {s.item: s for s in score_items(simulate(strengths, 30, seed=3))}
    dense = {s.item: s for s in score_items(simulate(strengths, 3000, seed=3))}
    for idea in IDEAS:
        assert dense[idea].high - dense[idea].low < sparse[idea].high - sparse[idea].low


def test_the_fit_is_choix_map_estimate() -> None:
    records = simulate(dict(zip(IDEAS, [1.0, 0.5, 0.0, 0.0, -0.5, -1.0], strict=True)), 200, seed=4)
    index = {idea: i for i, idea in enumerate(IDEAS)}
    wins = np.zeros((6, 6))
    for c in records:
        wins[index[c.winner], index[c.loser]] += 1
    theta, _ = fit_bradley_terry(6, wins, prior_precision=0.5)
    # choix's penalty is alpha * |theta|^2, a Gaussian prior of precision 2 * alpha
    expected = choix.opt_pairwise(6, [(index[c.winner], index[c.loser]) for c in records], alpha=0.25, tol=1e-10)
    assert theta - theta.mean() == pytest.approx(expected - expected.mean(), abs=1e-4)


def test_groups_are_scored_separately() -> None:
    patients = simulate(dict(zip(IDEAS, [2, 1, 0, 0, -1, -2], strict=True)), 600, seed=5)
    staff = simulate(dict(zip(IDEAS, [-2, -1, 0, 0, 1, 2], strict=True)), 600, seed=6)
    groups = score_by_group({"staff": staff, "patient": patients})
    assert list(groups) == ["patient", "staff"]
    assert groups["patient"][0].item == "shorter waits"
    assert groups["staff"][0].item == "wifi"


def test_an_item_with_no_comparisons_is_picked_first() -> None:
    counts = comparison_counts([Comparison(a, b) for a in IDEAS for b in IDEAS if a != b])
    pool = [*IDEAS, "new idea"]
    for seed in range(20):
        pair = choose_pair(pool, counts, random.Random(seed))
        assert "new idea" in pair
        assert pair[0] != pair[1]


def test_pair_choice_avoids_pairs_already_seen_and_is_deterministic() -> None:
    pool = ["a", "b", "c"]
    counts = {"a": 0, "b": 0, "c": 5}
    seen = {frozenset(("a", "b"))}
    for seed in range(20):
        pair = choose_pair(pool, counts, random.Random(seed), seen)
        assert frozenset(pair) != frozenset(("a", "b"))
        assert choose_pair(pool, counts, random.Random(seed), seen) == pair
    every_pair = {frozenset(p) for p in [("a", "b"), ("a", "c"), ("b", "c")]}
    assert set(choose_pair(pool, counts, random.Random(0), every_pair)) == {"a", "b"}
    with pytest.raises(ValueError):
        choose_pair(["a", "a"], {}, random.Random(0))


def test_pair_choice_spreads_comparisons_evenly() -> None:
    rng = random.Random(9)
    counts: dict[str, int] = {}
    for _ in range(60):
        pair = choose_pair(IDEAS, counts, rng)
        for item in pair:
            counts[item] = counts.get(item, 0) + 1
    assert max(counts.values()) - min(counts.values()) <= 1


def test_cli_pairwise_prints_scores_per_group_as_json(tmp_path: Path) -> None:
    patients = simulate(dict(zip(IDEAS, [2, 1, 0, 0, -1, -2], strict=True)), 300, seed=7)
    staff = simulate(dict(zip(IDEAS, [-2, -1, 0, 0, 1, 2], strict=True)), 300, seed=8)
    rows = [{"winner": c.winner, "loser": c.loser, "group": g, "tie": 0}
            for g, records in [("patient", patients), ("staff", staff)] for c in records]
    rows.append({"winner": "wifi", "loser": "free parking", "group": "staff", "tie": 1})
    csv = tmp_path / "pairs.csv"
    pd.DataFrame(rows).to_csv(csv, index=False)
    run = CliRunner().invoke(cli, ["analyse", "pairwise", "--data", str(csv), "--format", "json"])
    assert run.exit_code == 0, run.output
    output = json.loads(run.output)
    assert output["comparisons"] == 600 and output["ties"] == 1
    assert {i["item"] for i in output["items"]} == set(IDEAS)
    for item in output["items"]:
        assert 0 <= item["low"] <= item["score"] <= item["high"] <= 100
    assert sum(i["comparisons"] for i in output["items"]) == 1200
    assert output["groups"]["patient"][0]["item"] == "shorter waits"
    assert output["groups"]["staff"][0]["item"] == "wifi"
    assert next(i for i in output["groups"]["staff"] if i["item"] == "wifi")["ties"] == 1


def test_cli_pairwise_prints_a_table(tmp_path: Path) -> None:
    csv = tmp_path / "pairs.csv"
    pd.DataFrame({"winner": ["a", "a", "b"], "loser": ["b", "c", "c"]}).to_csv(csv, index=False)
    run = CliRunner().invoke(cli, ["analyse", "pairwise", "--data", str(csv)])
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    assert lines[0] == "All"
    assert lines[2].startswith("a ") and lines[-1].startswith("c ")
