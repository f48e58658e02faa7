"""D-efficient designs: better than random, balanced, valid, and estimable."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from flows.analysis.dce_design import (
    Attribute,
    Design,
    DesignError,
    DesignSpec,
    d_error,
    generate_design,
    random_design,
)
from flows.analysis.mnl import fit_mnl

CLINIC = (
    Attribute("wait_weeks", (1, 4, 8), better="lower"),
    Attribute("distance_km", (2, 10, 25), better="lower"),
    Attribute("staff", ("nurse", "doctor", "pharmacist")),
    Attribute("mode", ("in person", "video")),
)
CLINIC_PRIORS = {"wait_weeks": -0.1, "distance_km": -0.03, "staff[doctor]": 0.3}


def level_counts(levels: np.ndarray, attribute: int, n_levels: int) -> np.ndarray:
    return np.bincount(levels[..., attribute].ravel(), minlength=n_levels)


def test_design_beats_the_median_random_design_and_is_level_balanced() -> None:
    spec = DesignSpec(CLINIC, tasks=12, priors=CLINIC_PRIORS)
    design = generate_design(spec, seed=7, starts=2)
    random_errors = [random_design(spec, seed=s).d_error for s in range(20)]
    assert design.d_error < np.median(random_errors)
    assert design.d_error == pytest.approx(d_error(spec, design.levels))
    for a, attr in enumerate(CLINIC):
        counts = level_counts(design.levels, a, len(attr.levels))
        assert counts.max() - counts.min() <= 1, (attr.name, counts)


def test_it_never_shows_a_dominated_or_duplicated_alternative() -> None:
    spec = DesignSpec(
        (Attribute("wait_weeks", (1, 4, 8), better="lower"), Attribute("cost", (0, 10, 20), better="lower"),
         Attribute("success", (60, 80, 95), better="higher")),
        tasks=9, alternatives=3,
    )
    assert any(random_design(spec, seed=s).dominated_tasks() for s in range(5))
    design = generate_design(spec, seed=1, starts=2)
    assert design.dominated_tasks() == []
    for task in design.levels:
        for i in range(3):
            for j in range(i + 1, 3):
                worse = (task[i] - task[j]) * np.array([-1, -1, 1])  # >0 where i is better
                assert (worse > 0).any() and (worse < 0).any()


def test_dominance_uses_the_sign_of_the_prior_when_no_direction_is_given() -> None:
    spec = DesignSpec((Attribute("wait", (1, 2)), Attribute("price", (1, 2))), tasks=2,
                      priors={"wait": -0.5, "price": -0.5})
    dominated = np.array([[[0, 0], [1, 1]], [[0, 1], [1, 0]]])  # task 1: cheaper and shorter wins
    blocks = np.zeros(2, dtype=int)
    assert Design(spec, dominated, blocks, 0.0).dominated_tasks() == [0]
    neutral = DesignSpec(spec.attributes, tasks=2)
    assert Design(neutral, dominated, blocks, 0.0).dominated_tasks() == []
    with pytest.raises(DesignError, match="identifies"):  # one valid task, repeated: singular
        generate_design(spec, seed=0, starts=1)


def test_the_same_seed_gives_the_same_design() -> None:
    spec = DesignSpec(CLINIC, tasks=8, alternatives=3, blocks=2)
    first, second = generate_design(spec, seed=3, starts=1), generate_design(spec, seed=3, starts=1)
    assert np.array_equal(first.levels, second.levels)
    assert np.array_equal(first.blocks, second.blocks)
    assert sorted(np.bincount(first.blocks).tolist()) == [4, 4]


def test_opt_out_adds_a_constant_alternative_to_every_task() -> None:
    spec = DesignSpec(CLINIC, tasks=6, opt_out=True, priors={"opt_out": -1.0})
    design = generate_design(spec, seed=2, starts=1)
    frame = design.model_frame()
    assert len(frame) == 6 * 3
    assert frame.groupby("task")["opt_out"].sum().eq(1).all()
    assert frame.loc[frame.opt_out == 1, list(spec.parameters[:-1])].eq(0).all().all()
    shown = design.to_frame()
    assert set(shown.columns) >= {"task", "block", "alternative", "staff", "mode"}
    assert set(shown["staff"]) == {"nurse", "doctor", "pharmacist"}


def test_it_refuses_a_spec_it_cannot_estimate() -> None:
    with pytest.raises(DesignError, match="too few tasks"):
        DesignSpec(CLINIC, tasks=2)
    with pytest.raises(DesignError, match="unknown parameters"):
        DesignSpec(CLINIC, tasks=12, priors={"staff[surgeon]": 1.0})
    with pytest.raises(DesignError, match="2 or 3"):
        DesignSpec(CLINIC, tasks=12, alternatives=4)


def test_simulated_respondents_on_a_design_recover_the_true_coefficients() -> None:
    truth = {"wait_weeks": -0.15, "distance_km": -0.04, "staff[doctor]": 0.6, "staff[pharmacist]": -0.3,
             "mode[video]": -0.4, "opt_out": -1.0}
    spec = DesignSpec(CLINIC, tasks=12, opt_out=True, priors=truth)
    design = generate_design(spec, seed=11, starts=1)
    frame = design.model_frame()
    respondents = 500
    rng = np.random.default_rng(2024)
    data = pd.concat([frame] * respondents, ignore_index=True)
    data["choice_set"] = np.repeat(np.arange(respondents * spec.tasks), len(frame) // spec.tasks)
    utility = data[list(truth)].to_numpy() @ np.array(list(truth.values())) + rng.gumbel(size=len(data))
    data["chosen"] = (utility == pd.Series(utility).groupby(data.choice_set).transform("max")).astype(int)
    result = fit_mnl(data, choice_set="choice_set", chosen="chosen", features=list(truth))
    assert result.n_choice_sets == 6000
    # 3 standard errors rather than 1.96: with six parameters the chance that
    # some 95% interval misses is about 26% for a random seed; at 3 SE it is
    # under 2%, so the check stays meaningful if the seed or design changes.
    for name, b in truth.items():
        assert abs(result.coefficient(name) - b) < 3 * result.se(name), name
