"""Before and after, and who answered: what a coordinator needs to act on follow-ups.

- **Paired change**: the same people's starting answer and their later (say 2- or 6-week)
  answer to the same measure. For each pair the change is after - before; we give the number
  paired, the mean change with a 95% t interval (fine for the 0-100 SUS score) and, because a
  0-10 or 1-5 answer is ordinal, the Wilcoxon signed-rank test (scipy's, zero differences
  dropped as Wilcoxon did) and the median change. People who answered only once are not in it.
- **Occasions**: which follow-up is "before" is worked out from the answers, not the flow
  names: flows are put in order by the median days from joining to answering, and the first
  is the baseline every later one is compared with.
- **Response rate**: of those asked (a session of the flow was started for them), how many
  gave any answer; those who did not are split by how their latest session of it stands.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

import numpy as np
from scipy import stats

ALL = "all"


@dataclass(frozen=True)
class PairedChange:
    n: int
    mean_before: float | None
    mean_after: float | None
    mean_change: float | None
    ci_low: float | None
    ci_high: float | None
    """95% t interval of the mean change; None with fewer than two pairs."""
    median_change: float | None
    wilcoxon_p: float | None
    """Two-sided Wilcoxon signed-rank p; None with no non-zero change."""


def paired_change(before: Sequence[float], after: Sequence[float]) -> PairedChange:
    """The change from ``before`` to ``after`` (the same people, in the same order)."""
    if len(before) != len(after):
        raise ValueError("before and after must pair the same people")
    b, a = np.asarray(before, dtype=float), np.asarray(after, dtype=float)
    d = a - b
    n = len(d)
    if n == 0:
        return PairedChange(0, None, None, None, None, None, None, None)
    mean = float(d.mean())
    low = high = None
    if n >= 2:
        half = float(stats.t.ppf(0.975, n - 1)) * float(d.std(ddof=1)) / math.sqrt(n)
        low, high = mean - half, mean + half
    p = float(stats.wilcoxon(d, zero_method="wilcox").pvalue) if np.any(d != 0) else None
    return PairedChange(n, float(b.mean()), float(a.mean()), mean, low, high, float(np.median(d)), p)


@dataclass(frozen=True)
class MeasureAnswer:
    """One participant's answer to a measure on one occasion (a flow)."""

    participant: str
    group: str
    measure: str
    flow: str
    value: float
    answered_at: datetime
    days_since_joining: float | None = None
    step: str = ""
    """The question's own step id (its measure may be named otherwise)."""


def occasion_order(answers: Iterable[MeasureAnswer]) -> dict[str, list[str]]:
    """Per measure: its flows, earliest first by the median days from joining to answering
    (the first answer's time when joining is unknown), ties by flow id."""
    days: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    first = min((a.answered_at for a in answers), default=None)
    for answer in answers:
        since = answer.days_since_joining
        if since is None and first is not None:
            since = (answer.answered_at - first).total_seconds() / 86400
        days[answer.measure][answer.flow].append(since or 0.0)
    return {measure: sorted(flows, key=lambda f: (median(flows[f]), f)) for measure, flows in days.items()}


def paired_rows(answers: Sequence[MeasureAnswer]) -> list[dict[str, object]]:
    """Per measure, later occasion and group (and everyone, 'all'): the baseline occasion's
    answers paired with the later one's, each participant's latest answer on each."""
    order = occasion_order(answers)
    latest: dict[tuple[str, str, str], MeasureAnswer] = {}
    for answer in sorted(answers, key=lambda a: a.answered_at):
        latest[(answer.measure, answer.flow, answer.participant)] = answer
    rows: list[dict[str, object]] = []
    for measure, flows in sorted(order.items()):
        baseline = flows[0]
        for later in flows[1:]:
            pairs: dict[str, list[tuple[float, float]]] = defaultdict(list)
            for (m, flow, who), after in latest.items():
                before = latest.get((measure, baseline, who))
                if m == measure and flow == later and before is not None:
                    for group in (after.group, ALL):
                        pairs[group].append((before.value, after.value))
            for group in sorted(pairs, key=lambda g: (g == ALL, g)):
                found = paired_change([p[0] for p in pairs[group]], [p[1] for p in pairs[group]])
                rows.append({"measure": measure, "before": baseline, "after": later, "group": group,
                             "n_paired": found.n, "mean_before": found.mean_before, "mean_after": found.mean_after,
                             "mean_change": found.mean_change, "ci_low": found.ci_low, "ci_high": found.ci_high,
                             "median_change": found.median_change, "wilcoxon_p": found.wilcoxon_p})
    return rows


@dataclass(frozen=True)
class Asked:
    """One participant's latest session of a flow, and whether they answered any of it."""

    participant: str
    group: str
    flow: str
    status: str
    answered: bool
    outcome: str | None = None
    """How an ended session ended ('closed': its schedule closed it unanswered)."""


NOT_ANSWERED = ("open", "closed", "replaced", "stopped", "ended")
"""How a session nobody answered stands: still waiting (or snoozed), closed by its schedule,
taken over by a later follow-up, stopped (STOP), or ended another way."""


def _standing(status: str, outcome: str | None) -> str:
    if status in ("waiting", "snoozed"):
        return "open"
    if status in ("replaced", "stopped"):
        return status
    return "closed" if outcome == "closed" else "ended"


def response_rows(asked: Iterable[Asked]) -> list[dict[str, object]]:
    """Per flow and group (and 'all'): asked, answered, response rate (%), and the unanswered
    by how their latest session of the flow stands."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(lambda: dict.fromkeys(("asked", "answered", *NOT_ANSWERED), 0))
    for one in asked:
        for group in (one.group, ALL):
            row = counts[(one.flow, group)]
            row["asked"] += 1
            if one.answered:
                row["answered"] += 1
            else:
                row[_standing(one.status, one.outcome)] += 1
    return [{"flow": flow, "group": group, "asked": c["asked"], "answered": c["answered"],
             "response_rate": 100 * c["answered"] / c["asked"] if c["asked"] else None,
             **{f"not_answered_{k}": c[k] for k in NOT_ANSWERED}}
            for (flow, group), c in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] == ALL, kv[0][1]))]
