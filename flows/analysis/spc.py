"""Statistical process control: the XmR chart, as NHS England's "Making Data Count" uses it.

For a series x1..xn (a measure per week, say):

* the moving ranges are mR_i = |x_i - x_(i-1)| and the centre line is the mean of x;
* the natural process limits are mean ± 2.66 × (mean moving range) (2.66 = 3 / d2,
  d2 = 1.128 for ranges of two), so one sigma is (mean moving range) / 1.128;
* special-cause variation is signalled by (the Making Data Count rules):
  - ``outside``: a point above the upper or below the lower process limit;
  - ``shift``: a run of 7 or more points in a row on the same side of the mean
    (a point exactly on the mean neither extends nor breaks the run's side, as in
    Making Data Count's tool: it ends the run);
  - ``trend``: 6 or more points in a row each higher (or each lower) than the one
    before (an equal value ends the trend);
  - ``two_of_three``: 2 out of 3 points in a row beyond two sigma from the mean, on
    the same side (both marked, and any of the three beyond the limit too).

``baseline`` fixes the mean and limits on the first points (say the weeks before a
change) and judges the rest against them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

SCALING = 2.66
D2 = 1.128
SHIFT_RUN = 7
TREND_RUN = 6


@dataclass(frozen=True)
class XmR:
    values: tuple[float, ...]
    mean: float
    mean_moving_range: float
    upper: float
    lower: float
    moving_ranges: tuple[float | None, ...]
    signals: dict[str, tuple[int, ...]] = field(default_factory=dict)
    """Rule name -> indices of the points that rule marks."""
    direction: tuple[str, ...] = ()
    """Per point: 'high', 'low' or '' (is its special cause above or below the mean?)."""

    @property
    def sigma(self) -> float:
        return self.mean_moving_range / D2

    def special(self) -> list[int]:
        """Every point some rule marks, in order."""
        return sorted({i for marked in self.signals.values() for i in marked})


def _runs_same_side(x: np.ndarray, mean: float, length: int) -> set[int]:
    side = np.sign(x - mean)
    marked: set[int] = set()
    start = 0
    for i in range(1, len(x) + 1):
        if i == len(x) or side[i] != side[start] or side[i] == 0:
            if side[start] != 0 and i - start >= length:
                marked.update(range(start, i))
            start = i
    return marked


def _trends(x: np.ndarray, length: int) -> set[int]:
    """Runs of ``length`` points each strictly above (or below) the previous one."""
    marked: set[int] = set()
    if len(x) < 2:
        return marked
    step = np.sign(np.diff(x))
    start = 0  # index into step
    for i in range(1, len(step) + 1):
        if i == len(step) or step[i] != step[start] or step[i] == 0:
            points = i - start + 1
            if step[start] != 0 and points >= length:
                marked.update(range(start, i + 1))
            start = i
    return marked


def _two_of_three(x: np.ndarray, mean: float, sigma: float) -> set[int]:
    marked: set[int] = set()
    if sigma <= 0:
        return marked
    for sign in (1, -1):
        beyond = sign * (x - mean) > 2 * sigma
        for i in range(len(x) - 2):
            if beyond[i:i + 3].sum() >= 2:
                marked.update(j for j in range(i, i + 3) if beyond[j])
    return marked


def xmr(values: Sequence[float], baseline: int | None = None) -> XmR:
    """The XmR chart of ``values`` (limits from the first ``baseline`` points, default all)."""
    x = np.asarray(values, dtype=float)
    if len(x) == 0:
        raise ValueError("an XmR chart needs at least one value")
    if not np.all(np.isfinite(x)):
        raise ValueError("values must be finite numbers (drop missing periods first)")
    base = x[: baseline or len(x)]
    if len(base) == 0:
        raise ValueError("the baseline must hold at least one point")
    mean = float(base.mean())
    mr = np.abs(np.diff(base))
    mrbar = float(mr.mean()) if len(mr) else 0.0
    upper, lower = mean + SCALING * mrbar, mean - SCALING * mrbar
    sigma = mrbar / D2
    eps = 1e-12
    outside = {i for i, v in enumerate(x) if v > upper + eps or v < lower - eps}
    signals = {
        "outside": outside,
        "shift": _runs_same_side(x, mean, SHIFT_RUN),
        "trend": _trends(x, TREND_RUN),
        "two_of_three": _two_of_three(x, mean, sigma),
    }
    marked = set().union(*signals.values())
    direction = tuple(("high" if v > mean else "low") if i in marked else "" for i, v in enumerate(x))
    all_mr = np.abs(np.diff(x))
    return XmR(
        values=tuple(float(v) for v in x),
        mean=mean,
        mean_moving_range=mrbar,
        upper=upper,
        lower=lower,
        moving_ranges=(None, *(float(v) for v in all_mr)),
        signals={name: tuple(sorted(found)) for name, found in signals.items()},
        direction=direction,
    )


# ----------------------------------------------------------------------------- enough to judge?

MIN_POINTS = 8
"""Fewer points than this and the chart is shown without a judgement. Sources disagree on how
many an XmR chart needs: Wheeler (Understanding Variation, p60) finds "useful limits" from five
or six values; Practical Performance Measurement (p258) wants five to set a baseline and "at
least another three ... often more than eight" to see a change; the Health Care Data Guide
(p155) wants 20-30, and NHS-R's NHSRplotthedots calls limits from fewer than 12 "trial"
limits (nhs-r-community.github.io/NHSRplotthedots/articles/number-of-points-required.html).
Eight is the least any of them would read a signal from."""
MIN_PER_POINT = 5
"""Fewer answers than this behind a typical point and the chart is not judged: with four
answers one person moves a percentage by 25 points or a 0-10 mean by up to 2.5, so the
points are noise from who happened to answer, not the process."""


def too_few(n_per_point: Sequence[int]) -> str | None:
    """Why a chart with these answers per point is too thin to judge; None when it is not."""
    if len(n_per_point) < MIN_POINTS:
        return f"only {len(n_per_point)} point{'s' if len(n_per_point) != 1 else ''} (fewer than {MIN_POINTS})"
    typical = float(np.median(np.asarray(n_per_point, dtype=float)))
    if typical < MIN_PER_POINT:
        return f"a typical point has {typical:g} answer{'' if typical == 1 else 's'} (fewer than {MIN_PER_POINT})"
    return None


def clip(value: float, bounds: tuple[float | None, float | None]) -> float:
    """A process limit kept inside the measure's own range: a percentage cannot pass 0 or 100,
    a 0-10 answer's mean cannot pass 0 or 10 (XmR limits are symmetric and would)."""
    low, high = bounds
    if low is not None:
        value = max(value, low)
    if high is not None:
        value = min(value, high)
    return value
