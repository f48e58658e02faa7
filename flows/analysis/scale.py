"""A Delphi rating scale and consensus rule: plain values, kept apart from the analysis in
:mod:`flows.analysis.delphi` so that loading a flow (which checks its scale) does not load
numpy and pandas. :mod:`flows.analysis.delphi` re-exports both."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

MIN_SCORES = 5
"""The fewest scores an item needs (in a round, group or everyone) before it can be called
consensus in or out; below it the status is "few" (too few scores)."""


@dataclass(frozen=True)
class Scale:
    """A rating scale and its two bands, e.g. GRADE 1-9 with 1-3 low and 7-9 high."""

    low: int = 1
    high: int = 9
    low_band: tuple[int, int] = (1, 3)
    high_band: tuple[int, int] = (7, 9)

    def __post_init__(self) -> None:
        if self.high <= self.low:
            raise ValueError(f"the scale {self.low}-{self.high} must go upwards")
        for name, (a, b) in (("low", self.low_band), ("high", self.high_band)):
            if not self.low <= a <= b <= self.high:
                raise ValueError(f"the {name} band {a}-{b} must lie within {self.low}-{self.high}")
        if self.low_band[1] >= self.high_band[0]:
            raise ValueError("the low band must end below the start of the high band")

    @property
    def points(self) -> np.ndarray:
        import numpy as np

        return np.arange(self.low, self.high + 1)


@dataclass(frozen=True)
class ConsensusRule:
    """When an item counts as agreed.

    "in": at least ``agree_pct`` percent score in the high band and fewer than
    ``max_opposite_pct`` percent in the low band; "out" is the mirror image.
    With ``per_group`` the overall ("all") status holds only if every stakeholder
    group with at least ``min_group_n`` scores reaches the same status on its own
    (and "none" when no group is that large).

    Fewer than ``min_scores`` scores (unsure answers are no score) decide nothing: the
    status is "few" (too few scores), neither in nor out, so ``drop_consensus`` keeps the
    item; with ``per_group``, so is everyone's when a group counted has too few.
    """

    scale: Scale = field(default_factory=Scale)
    agree_pct: float = 70.0
    max_opposite_pct: float = 15.0
    per_group: bool = False
    min_group_n: int = 1
    min_scores: int = MIN_SCORES

    def __post_init__(self) -> None:
        if self.min_scores < 1:
            raise ValueError(f"min_scores must be at least 1, not {self.min_scores}")

    def describe(self) -> str:
        """The rule in words, as the desk, the API's Delphi report and ``chorus report`` state it."""
        high, low = self.scale.high_band, self.scale.low_band
        every = f", in every group of {self.min_group_n} or more" if self.per_group else ""
        return (f"in when at least {self.agree_pct:g}% of those who scored gave {high[0]}-{high[1]} and under "
                f"{self.max_opposite_pct:g}% gave {low[0]}-{low[1]}{every}; out is the mirror image; called only on at least "
                f"{self.min_scores} scores: with fewer, consensus is 'few' (too few scores), neither in nor out, and "
                "drop_consensus keeps the item")
