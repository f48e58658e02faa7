"""Chart descriptions (bot.charts) built from the desk's reports, for pages and downloads."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException

from bot.charts import Bars, Chart, Control, Intervals

KINDS = ("funnel", "results", "delphi", "ranking", "pairwise", "choice", "spc")


@dataclass(frozen=True)
class ChartQuery:
    kind: str
    flow: str | None = None
    step: str | None = None
    item: str | None = None
    round: int | None = None
    group: str = "all"


def funnel_chart(entry: dict[str, Any]) -> Bars:
    steps = entry["steps"]
    return Bars(f"Completion funnel: {entry['flow']}", [s["step"] for s in steps],
                [("reached", [float(s["reached"]) for s in steps])])


def results_chart(entry: dict[str, Any]) -> Bars:
    values = entry.get("values", [])
    groups = ["all", *entry.get("groups", [])] if len(entry.get("groups", [])) > 1 else ["all"]
    series = [(g, [float(v["counts"].get(g, 0)) for v in values]) for g in groups]
    return Bars(f"{entry['flow']} / {entry['step']}", [str(v["label"]) for v in values], series)


def delphi_chart(items: list[dict[str, Any]], item: str, round: int) -> Bars:
    rows = [r for r in items if r["item"] == item and r["round"] == round]
    if not rows:
        raise HTTPException(404, f"no Delphi results for item '{item}' in round {round}")
    everyone = next((r for r in rows if r["group"] == "all"), rows[0])
    points = [str(p) for p in range(1, len(everyone["counts"]) + 1)]
    series = [(r["group"], [float(c) for c in r["counts"]]) for r in rows if r["n"] > 0]
    high = everyone["pct_high"]
    median = everyone["median"]
    title = (f"{item}, round {round}: median {median:g}, {high:.0f}% scored 7-9" if high is not None and median is not None
             else f"{item}, round {round}: no scores")
    return Bars(title, points, series, horizontal=False, axis="people scoring each point (1-9)")


def ranking_chart(options: list[dict[str, Any]], group: str = "all") -> Intervals:
    rows = [(o["option"], o["score"], o["low"], o["high"]) for o in options if o["group"] == group and o["score"] is not None]
    return Intervals(f"Ranking ({group}): Plackett-Luce score with 95% interval", _rows(rows),
                     axis="log-strength (centred)", reference=0.0)


def pairwise_chart(groups: dict[str, list[dict[str, Any]]], group: str = "all") -> Intervals:
    rows = [(s["item"], s["score"], s["low"], s["high"]) for s in groups.get(group, [])]
    return Intervals(f"Pairwise ({group}): chance to beat a random other idea", _rows(rows),
                     axis="score (0-100)", reference=50.0)


def choice_chart(coefficients: list[dict[str, Any]]) -> Intervals:
    rows = [(c["feature"], c["estimate"], c["low"], c["high"]) for c in coefficients]
    return Intervals("Choice experiment: conditional logit estimates (95% interval)", _rows(rows),
                     axis="utility", reference=0.0)


def spc_chart(measure: dict[str, Any]) -> Control:
    return Control(f"{measure['flow']} / {measure['step']}: {measure['measure']} per {measure['period']}",
                   measure["periods"], [float(v) for v in measure["values"]], measure["mean"], measure["upper"],
                   measure["lower"], measure["direction"], axis=measure["measure"])


def _rows(rows: list[tuple[Any, Any, Any, Any]]) -> list[tuple[str, float, float, float]]:
    """Rows with an estimate; a missing interval end shows as the estimate itself."""
    return [_finite(r) for r in rows if r[1] is not None]


def _finite(row: tuple[Any, Any, Any, Any]) -> tuple[str, float, float, float]:
    label, estimate, low, high = row
    estimate = float(estimate)
    return (str(label), estimate, float(low) if low is not None else estimate, float(high) if high is not None else estimate)


def pick(rows: list[dict[str, Any]], what: str, **keys: Any) -> dict[str, Any]:
    found = next((r for r in rows if all(r.get(k) == v for k, v in keys.items())), None)
    if found is None:
        raise HTTPException(404, f"no {what} for {', '.join(f'{k}={v}' for k, v in keys.items())}")
    return found


def build(query: ChartQuery, report: Any) -> Chart:
    """The chart ``query`` names, from the report of its kind (see bot.api.reports)."""
    if query.kind == "funnel":
        return funnel_chart(pick(report, "flow", flow=query.flow))
    if query.kind == "results":
        return results_chart(pick(report, "step", flow=query.flow, step=query.step))
    if query.kind == "delphi":
        return delphi_chart(report["items"], str(query.item), int(query.round or 1))
    if query.kind == "ranking":
        return ranking_chart(report["options"], query.group)
    if query.kind == "pairwise":
        return pairwise_chart(report["groups"], query.group)
    if query.kind == "choice":
        return choice_chart(report["coefficients"])
    return spc_chart(pick(report, "measure", flow=query.flow, step=query.step))
