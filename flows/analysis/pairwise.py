"""Bradley-Terry scores for pairwise comparisons, and the wiki-survey's next pair.

Each item has a log-strength ``theta``; item i beats item j with chance
``sigmoid(theta_i - theta_j)``. We take the posterior mode under an
isotropic Gaussian prior of precision ``prior_precision`` (the estimate of
``choix.opt_pairwise(alpha=prior_precision / 2)``, whose penalty is
``alpha * |theta|^2``), found by Newton's method, so an item never compared
stays at 0 and an undefeated item stays finite.

An item's score, as in All Our Ideas, is 100 times the chance it beats an
item drawn at random from the others. Its interval is a Laplace
approximation: the posterior covariance of ``theta`` is the inverse negative
Hessian at the mode, carried to the score by the delta method on the logit
scale, so it stays inside 0..100 and always contains the score.

"Can't decide" answers are ties: counted and reported per item, but not used
in the fit. Counting them as half a win each would pull every tied pair
together although the participant told us nothing about their order, and a
tie often means "both bad" or "both good", which Bradley-Terry cannot express.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit
from scipy.stats import norm

from flows.analysis.pair_choice import choose_pair as choose_pair  # drawn by the step without scipy

DEFAULT_PRIOR_PRECISION = 0.1
"""Prior sd of about 3 on the log-odds scale: weak, but enough to keep estimates finite."""


@dataclass(frozen=True)
class Comparison:
    winner: str
    loser: str
    tie: bool = False
    """"Can't decide": ``winner`` and ``loser`` are then just the two items shown."""


@dataclass(frozen=True)
class ItemScore:
    item: str
    score: float
    low: float
    high: float
    comparisons: int
    """Decisive comparisons the item took part in (``wins + losses``, the same as ``decisive``;
    kept under this name for existing readers): "Can't decide" answers are not among them."""
    wins: int
    losses: int
    ties: int
    """"Can't decide" answers the item was in (not in the model's fit)."""
    decisive: int
    """Comparisons the item won or lost (``wins + losses``); ``decisive + ties`` is every answer it was in."""


def fit_bradley_terry(
    n_items: int, wins: np.ndarray, prior_precision: float = DEFAULT_PRIOR_PRECISION
) -> tuple[np.ndarray, np.ndarray]:
    """Posterior mode of ``theta`` and its Laplace covariance.

    ``wins[i, j]`` is how many times item i beat item j.
    """
    if prior_precision <= 0:
        raise ValueError("prior_precision must be positive")
    games = wins + wins.T
    theta = np.zeros(n_items)

    def objective(t: np.ndarray) -> float:
        log_p = -np.logaddexp(0.0, -(t[:, None] - t[None, :]))
        return float((wins * log_p).sum() - prior_precision / 2 * t @ t)

    value = objective(theta)
    for _ in range(100):
        p = expit(theta[:, None] - theta[None, :])
        gradient = (wins - games * p).sum(axis=1) - prior_precision * theta
        weight = games * p * (1 - p)
        neg_hessian = np.diag(weight.sum(axis=1) + prior_precision) - weight
        step = np.linalg.solve(neg_hessian, gradient)
        t = 1.0
        while objective(theta + t * step) < value - 1e-12 and t > 1e-8:
            t /= 2
        theta = theta + t * step
        value = objective(theta)
        if float(gradient @ step) < 1e-12:
            break
    p = expit(theta[:, None] - theta[None, :])
    weight = games * p * (1 - p)
    neg_hessian = np.diag(weight.sum(axis=1) + prior_precision) - weight
    return theta, np.linalg.inv(neg_hessian)


def _win_chance(theta: np.ndarray, covariance: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Chance each item beats a random other one, and its delta-method standard error."""
    n = len(theta)
    p = expit(theta[:, None] - theta[None, :])
    np.fill_diagonal(p, 0.0)
    score = p.sum(axis=1) / (n - 1)
    slope = p * (1 - p)
    jac = -slope / (n - 1)
    np.fill_diagonal(jac, slope.sum(axis=1) / (n - 1))
    se = np.sqrt(np.einsum("ik,kl,il->i", jac, covariance, jac))
    return score, se


def score_items(
    comparisons: Iterable[Comparison],
    items: Sequence[str] = (),
    *,
    prior_precision: float = DEFAULT_PRIOR_PRECISION,
    level: float = 0.95,
) -> list[ItemScore]:
    """Scores (0-100) for ``items`` plus every item compared, best first."""
    records = list(comparisons)
    names = list(dict.fromkeys([*items, *(n for c in records for n in (c.winner, c.loser))]))
    if len(names) < 2:
        raise ValueError("scoring needs at least two items")
    index = {name: i for i, name in enumerate(names)}
    wins = np.zeros((len(names), len(names)))
    ties: Counter[str] = Counter()
    for c in records:
        if c.winner == c.loser:
            raise ValueError(f"an item was compared with itself: {c.winner!r}")
        if c.tie:
            ties.update((c.winner, c.loser))
        else:
            wins[index[c.winner], index[c.loser]] += 1
    theta, covariance = fit_bradley_terry(len(names), wins, prior_precision)
    score, se = _win_chance(theta, covariance)
    z = float(norm.ppf(0.5 + level / 2))
    centre = logit(score)
    half = z * se / (score * (1 - score))
    low, high = expit(centre - half), expit(centre + half)
    result = [
        ItemScore(
            item=name,
            score=100 * float(score[i]),
            low=100 * float(low[i]),
            high=100 * float(high[i]),
            comparisons=int(wins[i].sum() + wins[:, i].sum()),
            wins=int(wins[i].sum()),
            losses=int(wins[:, i].sum()),
            ties=ties[name],
            decisive=int(wins[i].sum() + wins[:, i].sum()),
        )
        for name, i in index.items()
    ]
    return sorted(result, key=lambda s: (-s.score, s.item))


def score_by_group(
    comparisons: Mapping[str, Iterable[Comparison]],
    items: Sequence[str] = (),
    *,
    prior_precision: float = DEFAULT_PRIOR_PRECISION,
) -> dict[str, list[ItemScore]]:
    """Separate scores per group (patients, carers, staff...) over the same items."""
    return {
        group: score_items(records, items, prior_precision=prior_precision)
        for group, records in sorted(comparisons.items())
    }


def comparison_counts(comparisons: Iterable[Comparison]) -> Counter[str]:
    """How many times each item has been shown (ties included)."""
    counts: Counter[str] = Counter()
    for c in comparisons:
        counts.update((c.winner, c.loser))
    return counts


