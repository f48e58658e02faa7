"""Benchmark the consensus analyses against their goals.

    .venv/bin/python scripts/bench/consensus.py

Delphi: 10,000 participants x 50 items x 2 groups, 1 round (goal 10 s).
Statement voting: 5,000 participants x 200 statements, each seeing ~60% (goal 10 s).
Prints each time and its ratio to the goal (below 1 meets it).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flows.analysis.delphi import ConsensusRule, summarise  # noqa: E402
from flows.analysis.statements import analyse_statements  # noqa: E402

GOAL_SECONDS = 10.0


def delphi_ratings(participants: int = 10_000, items: int = 50, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    who = np.repeat(np.arange(participants), items)
    item = np.tile(np.arange(items), participants)
    centre = rng.uniform(2, 8, items)[item]
    score = np.clip(np.rint(centre + rng.normal(0, 1.5, len(who))), 1, 9)
    score[rng.random(len(who)) < 0.03] = np.nan  # "unsure"
    return pd.DataFrame(
        {
            "participant": who,
            "group": np.where(who % 2 == 0, "patient", "staff"),
            "round": 1,
            "item": [f"item{i}" for i in item],
            "score": score,
        }
    )


def statement_votes(
    participants: int = 5_000, statements: int = 200, seed: int = 0
) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    camp = rng.integers(0, 3, participants)
    lean = rng.choice([-1, 0, 1], size=(3, statements))
    probability = np.where(lean[camp] == 1, 0.8, np.where(lean[camp] == -1, 0.2, 0.5))
    vote = np.where(rng.random((participants, statements)) < probability, 1, -1)
    vote[rng.random(vote.shape) < 0.1] = 0
    seen = rng.random(vote.shape) < 0.6
    who, what = np.nonzero(seen)
    return pd.DataFrame({"participant": who, "statement": what, "vote": vote[who, what]})


def timed(label: str, run: object) -> float:
    start = time.perf_counter()
    run()  # type: ignore[operator]
    seconds = time.perf_counter() - start
    print(
        f"{label:<48} {seconds:7.2f} s   goal {GOAL_SECONDS:.0f} s   ratio {seconds / GOAL_SECONDS:.3f}"
    )
    return seconds


def main() -> None:
    ratings = delphi_ratings()
    votes = statement_votes()
    print(f"delphi: {len(ratings):,} ratings; statements: {len(votes):,} votes")
    timed("delphi summary (10k x 50 x 2 groups)", lambda: summarise(ratings))
    timed(
        "delphi summary, per-group rule", lambda: summarise(ratings, ConsensusRule(per_group=True))
    )
    timed("statement voting (5k x 200)", lambda: analyse_statements(votes))


if __name__ == "__main__":
    main()
