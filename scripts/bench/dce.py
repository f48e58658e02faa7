"""Benchmark: conditional logit on 50,000 choice sets, and a D-efficient design.

Run: .venv/bin/python scripts/bench/dce.py
Goals: estimation within 5 s, a design (5 attributes x 3 levels, 12 tasks) within 10 s.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from flows.analysis.dce_design import Attribute, DesignSpec, generate_design, random_design  # noqa: E402
from flows.analysis.mnl import fit_mnl_arrays  # noqa: E402

ESTIMATION_GOAL_S = 5.0
DESIGN_GOAL_S = 10.0


def simulated_choices(n_sets: int, n_alts: int, beta: np.ndarray, seed: int) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_sets * n_alts, len(beta)))
    utility = (x @ beta + rng.gumbel(size=len(x))).reshape(n_sets, n_alts)
    chosen = np.zeros((n_sets, n_alts), dtype=bool)
    chosen[np.arange(n_sets), utility.argmax(axis=1)] = True
    return x, chosen.ravel(), np.repeat(np.arange(n_sets), n_alts)


def bench_estimation() -> None:
    beta = np.array([-0.8, 0.5, 0.3, -0.2, 1.0, 0.1])
    x, chosen, sets = simulated_choices(50_000, 3, beta, seed=1)
    names = [f"x{i}" for i in range(len(beta))]
    start = time.perf_counter()
    result = fit_mnl_arrays(x, chosen, sets, names)
    elapsed = time.perf_counter() - start
    worst = float(np.max(np.abs(result.estimates - beta) / result.standard_errors))
    print(f"estimation: 50,000 choice sets x 3 alternatives x {len(beta)} features: {elapsed:.3f} s"
          f" ({result.iterations} Newton iterations), {elapsed / ESTIMATION_GOAL_S:.3f} of the {ESTIMATION_GOAL_S:.0f} s goal;"
          f" largest error {worst:.2f} SE")


def bench_design() -> None:
    spec = DesignSpec(tuple(Attribute(f"a{i}", (1, 2, 3)) for i in range(5)), tasks=12,
                      priors={f"a{i}": -0.2 * (i + 1) for i in range(5)})
    start = time.perf_counter()
    design = generate_design(spec, seed=1)
    elapsed = time.perf_counter() - start
    baseline = float(np.median([random_design(spec, seed=s).d_error for s in range(20)]))
    print(f"design: 5 attributes x 3 levels, 12 tasks, 2 alternatives: {elapsed:.3f} s,"
          f" {elapsed / DESIGN_GOAL_S:.3f} of the {DESIGN_GOAL_S:.0f} s goal;"
          f" D-error {design.d_error:.4f} vs {baseline:.4f} for the median random design"
          f" (ratio {design.d_error / baseline:.3f})")


if __name__ == "__main__":
    bench_estimation()
    bench_design()
