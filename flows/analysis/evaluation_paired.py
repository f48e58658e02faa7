"""Before and after, and who answered: what a coordinator needs to act on follow-ups.

- **Paired change**: the same people's starting answer and their later (say 2- or 6-week)
  answer to the same measure. For each pair the change is after - before; we give the number
  paired, the mean change with a 95% t interval (fine for the 0-100 SUS score) and, because a
  0-10 or 1-5 answer is ordinal, the Wilcoxon signed-rank test (scipy's, zero differences
  dropped as Wilcoxon did) and the median change. People who answered only once are not in it.
- **Occasions**: which follow-up is "before" is worked out from the answers, not the flow
  names: flows are put in order by the median days from joining to answering, and the first
  is the baseline every later one is compared with (each person's first answer to it against
  their latest to the later one). A follow-up sent again and again (a weekly pulse) is also
  compared with itself: each person's first answer against their latest, "pulse (first)" to
  "pulse (latest)"; without this a repeating flow would never pair.
- **Response rate**: counted per send, not per person: each session of a follow-up started
  is one time it was asked, answered when that session holds any answer; the unanswered are
  split by how that session stands. (Per person, a weekly pulse answered once and ignored
  ever after would stay at 100%.)"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from statistics import median

import numpy as np
from scipy import stats

from flows.session_state import LIVE

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


FIRST, LATEST = "first", "latest"


def paired_rows(answers: Sequence[MeasureAnswer], later: Container[str] | None = None) -> list[dict[str, object]]:
    """Per measure, comparison and group (and everyone, 'all'): the baseline occasion's answers
    (each person's first) paired with a later one's (their latest); then, for a flow some
    people answered more than once, their first answer to it against their latest. ``later``
    (if given) holds the flows that may be the later side: the follow-ups."""
    order = occasion_order(answers)
    mine: dict[tuple[str, str, str], list[MeasureAnswer]] = defaultdict(list)
    for answer in sorted(answers, key=lambda a: a.answered_at):
        mine[(answer.measure, answer.flow, answer.participant)].append(answer)
    rows: list[dict[str, object]] = []
    for measure, flows in sorted(order.items()):
        baseline = flows[0]
        for after in flows[1:]:
            if later is not None and after not in later:
                continue
            pairs = [(before[0], answered[-1]) for (m, flow, who), answered in mine.items()
                     if m == measure and flow == after and (before := mine.get((measure, baseline, who)))]
            rows += _paired(measure, (baseline, baseline), (after, after), pairs)
        for flow in flows:
            repeated = [(answered[0], answered[-1]) for (m, f, _), answered in mine.items()
                        if m == measure and f == flow and len(answered) > 1]
            if repeated and (later is None or flow in later):
                rows += _paired(measure, (f"{flow} ({FIRST})", flow), (f"{flow} ({LATEST})", flow), repeated)
    return rows


def _paired(measure: str, before: tuple[str, str], after: tuple[str, str],
            pairs: Sequence[tuple[MeasureAnswer, MeasureAnswer]]) -> list[dict[str, object]]:
    """One comparison's rows, per group and everyone: ``before``/``after`` are (shown as, flow)."""
    by_group: dict[str, list[tuple[float, float]]] = defaultdict(list)
    for first, last in pairs:
        for group in (last.group, ALL):
            by_group[group].append((first.value, last.value))
    rows: list[dict[str, object]] = []
    for group in sorted(by_group, key=lambda g: (g == ALL, g)):
        found = paired_change([p[0] for p in by_group[group]], [p[1] for p in by_group[group]])
        rows.append({"measure": measure, "before": before[0], "after": after[0], "group": group,
                     "n_paired": found.n, "mean_before": found.mean_before, "mean_after": found.mean_after,
                     "mean_change": found.mean_change, "ci_low": found.ci_low, "ci_high": found.ci_high,
                     "median_change": found.median_change, "wilcoxon_p": found.wilcoxon_p,
                     "before_flow": before[1], "after_flow": after[1], "repeated": before[1] == after[1]})
    return rows


@dataclass(frozen=True)
class Asked:
    """One time a follow-up was sent (a session of it started), and whether it was answered."""

    participant: str
    group: str
    flow: str
    status: str
    answered: bool
    """Any answer given in this session (not in another send of the same flow)."""
    outcome: str | None = None
    """How an ended session ended ('closed': its schedule closed it unanswered)."""
    started_at: datetime | None = None
    """When it was sent (the session started)."""


NOT_ANSWERED = ("open", "closed", "replaced", "stopped", "ended")
"""How a session nobody answered stands: still waiting (or snoozed), closed by its schedule,
taken over by a later follow-up, stopped (STOP), or ended another way."""


def _standing(status: str, outcome: str | None) -> str:
    if status in LIVE:
        return "open"
    if status in ("replaced", "stopped"):
        return status
    return "closed" if outcome == "closed" else "ended"


NOT_SENT = ("to_come", "stopped", "missed", "closed", "closed_before_due")
"""How a follow-up planned for someone but not sent stands: still to come (not due yet, or
waiting for its window), dropped because they had opted out (STOP) when it fell due (or
skipped, a weekly one, while they had), missed (past its ``grace``: Chorus was down, or they
joined too late for it), closed before it could go, or never planned for them because its
fixed close (or end) date came before it was due (bot/planning_not_sent.py). Sends dropped for other reasons (a changed schedule, another group) were never
theirs to answer and are not counted, nor are any planned for someone who declined consent
(bot/evaluation_consent.py)."""


@dataclass(frozen=True)
class NotSent:
    """One follow-up planned for a participant that was not sent (or not yet): see :data:`NOT_SENT`."""

    participant: str
    group: str
    flow: str
    standing: str
    due_at: datetime | None = None
    """When it fell (or falls) due."""


def response_rows(asked: Iterable[Asked], not_sent: Iterable[NotSent] = ()) -> list[dict[str, object]]:
    """Per flow and group (and 'all'): ``asked`` (the times it was sent), ``people`` (how many
    it was sent to), ``answered`` (the sends answered), the response rate (% of sends), the
    unanswered sends by how each stands, and beside them the sends planned but not made
    (``to_come``, ``not_sent_stopped``, ``not_sent_missed``, ``not_sent_closed``,
    ``not_sent_closed_before_due``), which the
    rate leaves out: a coordinator sees whom it does not count."""
    counts: dict[tuple[str, str], dict[str, int]] = defaultdict(
        lambda: dict.fromkeys(("asked", "answered", *NOT_ANSWERED, *(f"not_sent_{k}" for k in NOT_SENT)), 0))
    people: dict[tuple[str, str], set[str]] = defaultdict(set)
    for one in asked:
        for group in (one.group, ALL):
            row = counts[(one.flow, group)]
            people[(one.flow, group)].add(one.participant)
            row["asked"] += 1
            if one.answered:
                row["answered"] += 1
            else:
                row[_standing(one.status, one.outcome)] += 1
    for missing in not_sent:
        for group in (missing.group, ALL):
            counts[(missing.flow, group)][f"not_sent_{missing.standing}"] += 1
    return [{"flow": flow, "group": group, "asked": c["asked"], "people": len(people[(flow, group)]), "answered": c["answered"],
             "response_rate": 100 * c["answered"] / c["asked"] if c["asked"] else None,
             **{f"not_answered_{k}": c[k] for k in NOT_ANSWERED}, "to_come": c["not_sent_to_come"],
             **{f"not_sent_{k}": c[f"not_sent_{k}"] for k in NOT_SENT[1:]}}
            for (flow, group), c in sorted(counts.items(), key=lambda kv: (kv[0][0], kv[0][1] == ALL, kv[0][1]))]
