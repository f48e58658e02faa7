"""Chart descriptions (bot.charts) built from the desk's reports, for pages and downloads.

A chart asked for by the API is checked first (:func:`check`): a flow, step, round, item or
group it names must exist, and the error says what does (404; 400 when one is missing). A
control chart of a flow with the ten SUS items may name ``step=sus``: its 0-100 score, as the
desk charts it.
Charts show the labels participants saw; the codes stay in each row's tooltip.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from fastapi import HTTPException

from bot.api.catalogue import KINDS as STEP_KINDS
from bot.api.catalogue import StudySteps, names
from bot.api.labels import EVERYONE
from bot.charts import Bars, Chart, Control, Intervals, shorten
from flows.analysis.instruments import SUS_ITEMS
from flows.analysis.rounding import whole

KINDS = ("funnel", "results", "delphi", "ranking", "pairwise", "choice", "spc")
ONE_STEP = ("results", "spc")
"""Kinds that chart one step: ``step`` is needed (``flow`` too, where two flows share the id)."""
BY_GROUP = ("ranking", "pairwise")
"""Kinds drawn for one group at a time; the others show every group at once (or none)."""
SUS_SCORE = "sus"
"""The step a SUS flow's score is charted as (bot.api.results.measures), not one of its items."""
SUS_STEPS = frozenset(f"sus_{n}" for n in range(1, SUS_ITEMS + 1))
TITLE_LIMIT = 72
"""Characters of a chart title that fit across the chart (14px bold, 640px wide) before it is cut short."""


@dataclass(frozen=True)
class ChartQuery:
    kind: str
    flow: str | None = None
    step: str | None = None
    item: str | None = None
    round: int | None = None
    group: str = "all"


def check(query: ChartQuery, study: StudySteps) -> ChartQuery:
    """The query, its flow filled in for a one-step chart; 404 for a flow or step the study has
    not got (or of another kind), 400 for a missing one or one the kind does not take."""
    _takes_what_is_named(query)
    if query.kind == "funnel":
        if query.flow is None:
            raise HTTPException(400, f"name a flow with flow=...; the study's flows: {names(study.flows)}")
        study.require_flow(query.flow)
        return query
    sus = _sus_flow(query, study)
    if sus is not None:
        return replace(query, flow=sus)
    if query.kind in ONE_STEP:
        found = study.require_one_step(query.step, query.flow, STEP_KINDS[query.kind])
        return replace(query, flow=found.flow)
    if query.flow is not None:
        study.require_flow(query.flow)
    if query.step is not None and query.kind in STEP_KINDS:
        study.require_step(query.step, query.flow, STEP_KINDS[query.kind])
    return query


def _sus_flow(query: ChartQuery, study: StudySteps) -> str | None:
    """The flow whose SUS score a control chart of ``step=sus`` names (None: not such a chart,
    or a flow has a step of its own called ``sus``); 400 when several flows ask the SUS and
    none is named."""
    if query.kind != "spc" or query.step != SUS_SCORE or any(s.step == SUS_SCORE for s in study.steps
                                                               if query.flow in (None, s.flow)):
        return None
    asking = [flow for flow in study.flows if {s.step for s in study.steps if s.flow == flow} >= SUS_STEPS]
    if query.flow is not None:
        return query.flow if query.flow in asking else None
    if len(asking) > 1:
        raise HTTPException(400, f"several flows ask the SUS ({names(asking)}): name one with flow=...")
    return asking[0] if asking else None


def _takes_what_is_named(query: ChartQuery) -> None:
    """400 for a step, item or group the chart kind would ignore (a funnel is a whole flow)."""
    if query.kind == "funnel" and query.step is not None:
        raise HTTPException(400, "a funnel chart shows a whole flow: name it with flow=..., without step=...")
    if query.kind != "delphi" and query.item is not None:
        raise HTTPException(400, f"only Delphi charts take item=...; a {query.kind} chart does not")
    if query.kind not in BY_GROUP and query.group != "all":
        raise HTTPException(400, f"only ranking and pairwise charts take group=...; a {query.kind} chart shows every group")


def funnel_chart(entry: dict[str, Any]) -> Bars:
    steps = entry["steps"]
    return Bars(f"Completion funnel: {entry['flow']}", [s["step"] for s in steps],
                [("reached", [float(s["reached"]) for s in steps])])


def results_chart(entry: dict[str, Any]) -> Bars:
    values = entry.get("values", [])
    groups = ["all", *entry.get("groups", [])] if len(entry.get("groups", [])) > 1 else ["all"]
    series = [(g, [float(v["counts"].get(g, 0)) for v in values]) for g in groups]
    return Bars(f"{entry['flow']} / {entry['step']}", [str(v["label"]) for v in values], series,
                codes=[str(v.get("value", v["label"])) for v in values])


def delphi_rows(report: dict[str, Any], item: str | None, round: int) -> list[dict[str, Any]]:
    """The report's rows for ``item`` in ``round``: 404 naming the rounds, or the round's items,
    when there are none; 400 when no item is named."""
    rounds = report.get("rounds", [])
    if round not in rounds:
        raise HTTPException(404, f"no Delphi round {round}; the rounds so far: {names(rounds)}")
    in_round = [r for r in report["items"] if r["round"] == round]
    items = names(r["item"] for r in in_round)
    if item is None:
        raise HTTPException(400, f"name an item with item=...; round {round}'s items: {items}")
    rows = [r for r in in_round if r["item"] == item]
    if not rows:
        elsewhere = sorted({r["round"] for r in report["items"] if r["item"] == item})
        rated = f" (it was rated in round {names(elsewhere)})" if elsewhere else ""
        raise HTTPException(404, f"no Delphi item '{item}' in round {round}{rated}; round {round}'s items: {items}")
    return rows


def delphi_chart(items: list[dict[str, Any]], item: str, round: int, labels: dict[str, str] | None = None) -> Bars:
    """The item's bars in ``round``, a series per group in the order ``items`` gives them, each
    named by ``labels`` (group code -> label; its ``group_label``, else its code, without)."""
    rows = [r for r in items if r["item"] == item and r["round"] == round]
    if not rows:
        raise HTTPException(404, f"no Delphi item '{item}' in round {round}")
    everyone = next((r for r in rows if r["group"] == "all"), rows[0])
    lowest, band = int(everyone.get("scale_low", 1)), everyone.get("high_band", "7-9")
    points = [str(p) for p in range(lowest, lowest + len(everyone["counts"]))]
    named = labels or {}
    series = [(named.get(r["group"]) or r.get("group_label") or r["group"], [float(c) for c in r["counts"]]) for r in rows if r["n"] > 0]
    high = everyone["pct_high"]
    median = everyone["median"]
    name = everyone.get("label") or item
    unsure = int(everyone.get("n_unsure") or 0)
    besides = f", {unsure} unsure" if unsure else ""
    title = (f"{name}, round {round}: median {median:g}, {whole(high)}% of {everyone['n']} scored {band}{besides}"
             if high is not None and median is not None else f"{name}, round {round}: no scores")
    return Bars(title, points, series, horizontal=False, axis=f"people scoring each point ({points[0]}-{points[-1]})")


def group_name(group: str, names: Mapping[str, str] | None = None, rows: Iterable[dict[str, Any]] = ()) -> str:
    """A group as the desk names it: its label in ``names`` (group code -> label), else a row's
    ``group_label``, else "Everyone" for everyone (bot.api.labels.EVERYONE), else its code."""
    found = (names or {}).get(group) or next((r["group_label"] for r in rows if r.get("group") == group and r.get("group_label")), None)
    return str(found or EVERYONE.get(group, group))


def ranking_chart(options: list[dict[str, Any]], group: str = "all", notes: dict[str, str] | None = None,
                  names: Mapping[str, str] | None = None) -> Intervals:
    """A group's scores (the group named by its label: :func:`group_name`); one with no interval
    (``interval_note``: all ranked alike, or too few) is drawn as points alone, its title and
    description saying why (from ``notes``). An option nobody in the group was shown has no score and no row."""
    rows = [(o.get("label") or o["option"], o["score"], o["low"], o["high"], o["option"])
            for o in options if o["group"] == group and o["score"] is not None]
    reason = next((o.get("interval_note") for o in options if o["group"] == group and o.get("interval_note")), None)
    name = group_name(group, names, options)
    if reason is None:
        return _intervals(f"Ranking ({name}): Plackett-Luce score with 95% interval", rows,
                          axis="log-strength (centred)", reference=0.0)
    note = (notes or {}).get(reason) or str(reason)
    chart = _intervals(f"Ranking ({name}): Plackett-Luce score, no interval", rows, axis="log-strength (centred)", reference=0.0)
    return replace(chart, rows=[(label, estimate, None, None) for label, estimate, _, _ in chart.rows], note=note)


def pairwise_chart(groups: dict[str, list[dict[str, Any]]], group: str = "all", names: Mapping[str, str] | None = None) -> Intervals:
    """A group's scores, the group named by its label (:func:`group_name`)."""
    rows = [(s.get("label") or s["item"], s["score"], s["low"], s["high"], s["item"]) for s in groups.get(group, [])]
    return _intervals(f"Pairwise ({group_name(group, names, groups.get(group, []))}): chance to beat a random other idea", rows,
                      axis="score (0-100)", reference=50.0)


def choice_chart(coefficients: list[dict[str, Any]]) -> Intervals:
    rows = [(c.get("label") or c["feature"], c["estimate"], c["low"], c["high"], c["feature"]) for c in coefficients]
    return _intervals("Choice experiment: conditional logit estimates (95% interval)", rows,
                      axis="utility", reference=0.0)


def require_group(groups: list[str], group: str, what: str) -> None:
    """404 for a group the results have not got (asking for everyone is always fine)."""
    if group != "all" and group not in groups:
        raise HTTPException(404, f"no group '{group}' in the {what} results; their groups: {names(groups)}")


def require_one_step(steps: list[Any], kind: str) -> None:
    """400 when the answers charted are of several steps: their options or ideas were never
    weighed against each other, so one chart of them all would compare them on nothing."""
    found = list(dict.fromkeys(str(s) for s in steps))
    if len(found) > 1:
        raise HTTPException(400, f"the study has several {kind} steps ({names(found)}): name one with step=...")


def spc_chart(measure: dict[str, Any], fit: bool = False) -> Control:
    """A measure's control chart; with too few points or answers to judge (``too_few``, as the
    desk says) no point is marked as special cause, and the title and description say why. A
    SUS flow's score is named by its flow alone ("sus", not "sus / sus"). ``fit``: a title that
    fits across the chart, the flow and step cut short and only "too few to judge" said (for a
    page whose text gives the reason)."""
    name = measure["flow"] if measure["step"] == SUS_SCORE else f"{measure['flow']} / {measure['step']}"
    too_few = measure.get("too_few")
    what = f"{measure['measure']} per {measure['period']}"
    if too_few:
        what += " (too few to judge)" if fit else f" (too few answers to judge: {too_few})"
    title = f"{shorten(name, max(12, TITLE_LIMIT - len(what) - 2)) if fit else name}: {what}"
    return Control(title, measure["periods"], [float(v) for v in measure["values"]], measure["mean"], measure["upper"],
                   measure["lower"], [] if too_few else measure["direction"], axis=measure["measure"], note=too_few or "")


def _intervals(title: str, rows: list[tuple[Any, Any, Any, Any, Any]], axis: str, reference: float) -> Intervals:
    """Rows (label, estimate, low, high, code) with an estimate; a missing interval end shows as the estimate itself
    (a chart with no interval at all says so: see :func:`ranking_chart`)."""
    kept = [r for r in rows if r[1] is not None]
    return Intervals(title, [_finite(r[:4]) for r in kept], axis=axis, reference=reference, codes=[str(r[4]) for r in kept])


def _finite(row: tuple[Any, ...]) -> tuple[str, float, float, float]:
    label, estimate, low, high = row
    estimate = float(estimate)
    return (str(label), estimate, float(low) if low is not None else estimate, float(high) if high is not None else estimate)


def pick(rows: list[dict[str, Any]], missing: str, **keys: Any) -> dict[str, Any]:
    """The first row with these keys; 404 saying ``missing`` if there is none."""
    found = next((r for r in rows if all(r.get(k) == v for k, v in keys.items())), None)
    if found is None:
        raise HTTPException(404, missing)
    return found


def build(query: ChartQuery, report: Any, groups: dict[str, str] | None = None) -> Chart:
    """The chart ``query`` names (see :func:`check`), from the report of its kind (see bot.api.reports).
    ``groups`` (group code -> label, in the study's order, Everyone first) names and orders a
    Delphi chart's groups as the desk's tables do, and names a ranking's or pairwise chart's group."""
    where = f"step '{query.step}' of flow '{query.flow}'"
    if query.kind == "funnel":
        return funnel_chart(pick(report, f"flow '{query.flow}' is not among the study's current flows", flow=query.flow))
    if query.kind == "results":
        return results_chart(pick(report, f"no answers yet to {where}", flow=query.flow, step=query.step))
    if query.kind == "delphi":
        rows = delphi_rows(report, query.item, int(query.round or 1))
        order = list(groups or {})
        rows = sorted(rows, key=lambda r: (order.index(r["group"]) if r["group"] in order else len(order), r["group"]))
        return delphi_chart(rows, rows[0]["item"], rows[0]["round"], groups)
    if query.kind == "ranking":
        require_one_step([o["step"] for o in report["options"]], "rank")
        require_group([o["group"] for o in report["options"]], query.group, "ranking")
        return ranking_chart(report["options"], query.group, report.get("notes"), groups)
    if query.kind == "pairwise":
        require_one_step([entry["step"] for entry in report.get("steps", [])], "pairwise")
        require_group(list(report["groups"]), query.group, "pairwise")
        return pairwise_chart(report["groups"], query.group, groups)
    if query.kind == "choice":
        return choice_chart(report["coefficients"])
    return spc_chart(pick(report, f"no answers yet to chart for {where}", flow=query.flow, step=query.step))
