"""Results per step with per-group splits, and measures over time as XmR charts."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import pandas as pd

from bot.api.catalogue import StepInfo, latest_steps
from bot.api.methods import plain
from flows.analysis.spc import xmr

COUNTED = {"choice", "yesno", "consent", "scale"}
NUMERIC = {"scale", "number"}
Period = Literal["day", "week", "month"]
FREQUENCY = {"day": "D", "week": "W-MON", "month": "MS"}


def _labels(info: StepInfo | None) -> dict[str, str]:
    """Coded values to labels from a step's raw YAML (options and scale labels)."""
    if info is None:
        return {}
    found: dict[str, str] = {}
    for option in info.raw.get("options", []) or []:
        if isinstance(option, dict) and "value" in option:
            label = option.get("label", option["value"])
            if isinstance(label, dict):
                label = next(iter(label.values()), option["value"])
            found[str(option["value"])] = str(label)
    return found


def _latest_steps(steps: dict[tuple[int, str], StepInfo]) -> dict[tuple[str, str], StepInfo]:
    return {(info.flow, info.step): info for info in latest_steps(steps)}


def step_results(frame: pd.DataFrame, steps: dict[tuple[int, str], StepInfo]) -> list[dict[str, Any]]:
    """Per flow and step: how many answered, the count of each answer per group, means."""
    latest = _latest_steps(steps)
    results = []
    own = frame[frame["item"].isna()]  # a many-item step's item answers are in the methods' reports
    for (flow, step), part in own.groupby(["flow", "step"], sort=False):
        info = latest.get((str(flow), str(step)))
        kind = info.type if info else (part["type"].iloc[0] or "")
        answered = part[~part["skipped"].astype(bool)]
        entry: dict[str, Any] = {"flow": flow, "step": step, "type": kind, "question": info.question if info else "",
                                 "n": int(answered["participant"].nunique()), "skipped": int(part["skipped"].astype(bool).sum()),
                                 "groups": sorted(answered["group"].unique().tolist())}
        if kind in COUNTED:
            entry["values"] = _counts(answered, _labels(info), _points(info, kind))
        if kind in NUMERIC:
            numbers = pd.to_numeric(answered["value"], errors="coerce")
            by_group = numbers.groupby(answered["group"]).mean()
            entry["mean"] = plain({"all": numbers.mean(), **by_group.to_dict()})
        results.append(entry)
    return results


def _counts(answered: pd.DataFrame, labels: dict[str, str], points: list[str]) -> list[dict[str, Any]]:
    """Each answer's count per group, in the step's own order (its ``points``, every one of them,
    chosen or not; then any other value stored, as first seen)."""
    counts: dict[str, Counter[str]] = {point: Counter() for point in points}
    for value, display, group in zip(answered["value"], answered["display"], answered["group"], strict=True):
        for single in value if isinstance(value, list) else [value]:
            key = str(single).lower() if isinstance(single, bool) else str(single)
            labels.setdefault(key, display if not isinstance(value, list) else key)
            counts.setdefault(key, Counter()).update(["all", group])
    return [{"value": key, "label": labels.get(key, key), "counts": dict(c)} for key, c in counts.items()]


def _points(info: StepInfo | None, kind: str) -> list[str]:
    """The answers a step offers, in its order: a scale's points lowest first, a choice's
    options as listed, yes before no."""
    raw = info.raw if info is not None else {}
    if kind in ("yesno", "consent"):
        return ["yes", "no"]
    if kind == "scale":
        labels = raw.get("labels")
        low = raw.get("min", 1 if isinstance(labels, list) else None)
        high = raw.get("max", low + len(labels) - 1 if isinstance(labels, list) and isinstance(low, int) else None)
        return [str(point) for point in range(low, high + 1)] if isinstance(low, int) and isinstance(high, int) else []
    options = raw.get("options", []) or []
    return [str(option["value"]) if isinstance(option, dict) and "value" in option else str(option) for option in options]


def measures(frame: pd.DataFrame, steps: dict[tuple[int, str], StepInfo], period: Period = "week") -> list[dict[str, Any]]:
    """Each numeric step's mean (yes/no: % yes) per period, with its XmR chart."""
    latest = _latest_steps(steps)
    found = []
    answered = frame[~frame["skipped"].astype(bool) & frame["item"].isna()]
    for (flow, step), part in answered.groupby(["flow", "step"], sort=False):
        info = latest.get((str(flow), str(step)))
        kind = info.type if info else ""
        if kind in NUMERIC:
            numbers, unit = pd.to_numeric(part["value"], errors="coerce"), "mean"
        elif kind == "yesno":
            numbers, unit = part["value"].map(lambda v: 100.0 if v in (True, "yes") else 0.0), "% yes"
        else:
            continue
        series = pd.Series(numbers.to_numpy(), index=pd.to_datetime(part["answered_at"], utc=True)).dropna()
        if series.empty:
            continue
        grouped = series.tz_convert(None).resample(FREQUENCY[period])
        means, sizes = grouped.mean(), grouped.size()
        keep = sizes > 0
        means, sizes = means[keep], sizes[keep]
        chart = xmr(means.to_list())
        found.append({
            "flow": flow, "step": step, "question": info.question if info else "", "measure": unit, "period": period,
            "periods": [p.date().isoformat() for p in means.index], "values": plain(means.to_list()),
            "n": [int(n) for n in sizes], "mean": plain(chart.mean), "upper": plain(chart.upper),
            "lower": plain(chart.lower), "signals": {k: list(v) for k, v in chart.signals.items()},
            "direction": list(chart.direction),
        })
    return found
