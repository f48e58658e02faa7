"""Features a conditional logit cannot estimate, because the choices separate on them.

A feature separates the choices when, in every choice set, the option chosen has at least
as much of it as every other option shown (or at most as much), and strictly more (or
less) somewhere: nobody chose "Neither", a level was never picked over an option without
it, the shortest wait always won. The log-likelihood then keeps rising as the coefficient
grows: there is no estimate, and Newton's method stops somewhere arbitrary (-29, with a
standard error of 200,000). Several features can separate the choices together too
(``a - b`` always favours the option chosen); a linear programme finds such a direction.

:func:`find_separation` names those features and the options the model, in the limit,
gives no chance of being chosen; :mod:`flows.analysis.mnl` leaves both out and estimates
the rest, which is the limit of the maximum-likelihood fit (as Stata and R's ``brglm``
report separation: the coefficient is infinite, the other estimates finite and right).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

OPT_OUT_FEATURES = frozenset({"opt_out", "optout"})
"""The opt-out constant as `chorus report` (opt_out) and the desk (optout) name it."""
_LEVEL = re.compile(r"^(?P<attribute>.+)\[(?P<level>.*)\]$")
_TOLERANCE = 1e-9
"""Differences smaller than this (relative to a feature's largest) are rounding, not data."""


@dataclass(frozen=True)
class Unidentified:
    """A feature whose coefficient cannot be estimated from the choices: it runs to plus
    (``direction`` 1) or minus (-1) infinity, on its own or ``together`` with others."""

    feature: str
    direction: int
    """1 or -1; 0 when nothing is left to estimate it from (see ``after``)."""
    binary: bool = True
    """A 0/1 feature (an opt-out, a level); otherwise a number (a wait, a cost)."""
    together: tuple[str, ...] = ()
    """The other features that separate the choices with it; empty when it does so alone."""
    after: tuple[str, ...] = ()
    """With direction 0: the separated features that took every choice telling this one's effect."""

    @property
    def reason(self) -> str:
        """Why, in words a coordinator can act on."""
        if self.after:
            return (f"the choices not already decided by {_names(self.after)} never differ in {_described(self.feature)}: "
                    "its coefficient cannot be estimated")
        if self.together:
            return (f"the choices are predicted perfectly by {_names((self.feature, *self.together))} together: "
                    "their coefficients cannot be estimated")
        never = self.direction < 0
        if self.feature in OPT_OUT_FEATURES:
            said = "nobody chose Neither" if never else "everyone chose Neither whenever it was offered"
            return f"{said}: its constant cannot be estimated"
        if not self.binary:
            side = "lowest" if never else "highest"
            return f"the option with the {side} {self.feature} was always chosen: its coefficient cannot be estimated"
        how = "never" if never else "always"
        return f"an option with {_described(self.feature)} was {how} chosen over one without it: its coefficient cannot be estimated"

    def as_dict(self) -> dict[str, object]:
        runs_to = {-1: "minus infinity", 1: "plus infinity"}.get(self.direction)
        return {"feature": self.feature, "runs_to": runs_to, "together": list(self.together), "reason": self.reason}


def _described(feature: str) -> str:
    """A level's column as words ("who 'own nurse'" for who[own nurse]); any other feature as it is."""
    level = _LEVEL.match(feature)
    return f"{level['attribute']} '{level['level']}'" if level else feature


def _names(names: Sequence[str]) -> str:
    """'a', 'a and b', 'a, b and c', in alphabetical order."""
    ordered = [_described(name) for name in sorted(names)]
    return ordered[0] if len(ordered) == 1 else f"{', '.join(ordered[:-1])} and {ordered[-1]}"


@dataclass(frozen=True)
class Separation:
    unidentified: tuple[Unidentified, ...]
    keep_features: np.ndarray
    """Per feature: True when it can be estimated."""
    keep_rows: np.ndarray
    """Per row: False for an option the limit gives no chance (dominated in a separating direction)."""
    constant: tuple[str, ...] = ()
    """Features that never differ between the options of any choice set: nothing can estimate
    them, whatever was chosen (a mistake in the data, not something the answers did)."""


def find_separation(x: np.ndarray, chosen: np.ndarray, sizes: np.ndarray, features: Sequence[str]) -> Separation:
    """The separated features of choice data whose sets are contiguous blocks of ``sizes`` rows,
    each with one ``chosen`` row; features one at a time first, then together."""
    n_rows, k = x.shape
    chosen_row = np.repeat(np.flatnonzero(chosen), sizes)
    others = np.flatnonzero(~chosen)
    gaps = x[chosen_row[others]] - x[others]  # per other option: chosen minus it, per feature
    binary = np.all((x == 0) | (x == 1), axis=0)
    constant = tuple(features[int(j)] for j in np.flatnonzero(~(np.abs(_scaled(gaps)) > _TOLERANCE).any(axis=0)))
    if constant:
        return Separation((), np.ones(k, dtype=bool), np.ones(n_rows, dtype=bool), constant)
    keep_features, keep_rows = np.ones(k, dtype=bool), np.ones(n_rows, dtype=bool)
    found: list[Unidentified] = []
    while keep_features.any():
        live = keep_rows[others]
        active = np.flatnonzero(keep_features)
        scaled = _scaled(gaps[live][:, active])
        direction, joint = _direction(scaled)
        if direction is None:
            break
        separated = active[direction != 0]
        for j, sign in zip(separated, np.sign(direction[direction != 0]), strict=True):
            together = tuple(features[o] for o in separated if o != j) if joint else ()
            found.append(Unidentified(features[j], int(sign), bool(binary[j]), together))
        dominated = scaled @ direction > _TOLERANCE
        keep_rows[others[live][dominated]] = False
        keep_features[separated] = False
    if found:
        found += _nothing_left(gaps[keep_rows[others]], keep_features, features, binary, tuple(u.feature for u in found))
        keep_features &= ~np.isin(np.asarray(features, dtype=object), [u.feature for u in found])
    return Separation(tuple(found), keep_features, keep_rows)


def _nothing_left(gaps: np.ndarray, keep: np.ndarray, features: Sequence[str], binary: np.ndarray,
                  separated: tuple[str, ...]) -> list[Unidentified]:
    """The features that no longer differ between the options left once the separated ones have
    decided the choices they decide: nothing remains to estimate them from."""
    quiet = ~(np.abs(_scaled(gaps)) > _TOLERANCE).any(axis=0) if len(gaps) else np.ones(len(features), dtype=bool)
    return [Unidentified(features[int(j)], 0, bool(binary[j]), after=separated) for j in np.flatnonzero(keep & quiet)]


def _scaled(gaps: np.ndarray) -> np.ndarray:
    """Each feature's gaps over its largest, so a cost in pounds and a 0/1 level weigh alike."""
    scale = np.abs(gaps).max(axis=0, initial=0.0)
    return np.divide(gaps, scale, out=np.zeros_like(gaps), where=scale > 0)


def _direction(scaled: np.ndarray) -> tuple[np.ndarray | None, bool]:
    """A direction (in scaled units) in which the chosen option never falls behind the others
    shown and gets ahead somewhere, and whether it combines features; None when there is none."""
    if scaled.size == 0:
        return None, False
    ahead, behind = (scaled > _TOLERANCE).any(axis=0), (scaled < -_TOLERANCE).any(axis=0)
    alone = np.where(ahead & ~behind, 1.0, np.where(behind & ~ahead, -1.0, 0.0))
    if alone.any():
        return alone, False
    together = _joint_direction(scaled)
    return (together, True) if together is not None else (None, False)


def _joint_direction(scaled: np.ndarray) -> np.ndarray | None:
    """Solve: maximise the total lead of the chosen options, keeping every lead at least 0,
    each coordinate within [-1, 1]. A positive optimum is a separating direction."""
    from scipy.optimize import linprog

    k = scaled.shape[1]
    solved = linprog(-scaled.sum(axis=0), A_ub=-scaled, b_ub=np.zeros(len(scaled)), bounds=[(-1.0, 1.0)] * k,
                     method="highs")
    if solved.status != 0:
        return None
    direction = np.where(np.abs(solved.x) > 1e-7, solved.x, 0.0)
    leads = scaled @ direction
    if leads.min() < -1e-9 or leads.max() <= 1e-6:
        return None
    return np.asarray(direction)
