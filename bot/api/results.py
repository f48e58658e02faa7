"""Results per step with per-group splits, and measures over time as XmR charts.

Every answer a step offers is listed by the words participants saw, chosen or not ("No",
"1 (Not at all)"). Measures over time count days, ISO weeks (Monday to Sunday, named by their
Monday) or months on the study's clock, as ``chorus analyse evaluation`` does
(:mod:`flows.analysis.periods`); an FFT question (:func:`flows.analysis.instruments.fft_codes`)
is charted as its percentage positive."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import pandas as pd

from bot.api.catalogue import StepInfo, latest_steps
from bot.api.methods import plain
from flows.analysis.instruments import FFT_POSITIVE, fft_codes
from flows.analysis.periods import period_label, period_starts
from flows.analysis.spc import xmr
from flows.model import resolve_text
from flows.steps.scale import stored_labels
from flows.words import Words

COUNTED = {"choice", "yesno", "consent", "scale"}
NUMERIC = {"scale", "number"}
Period = Literal["day", "week", "month"]
FFT_MEASURE = "% positive (FFT)"


def _labels(info: StepInfo | None, language: str) -> dict[str, str]:
    """Coded values to the words participants saw, from a step's raw YAML: options, yes and no
    (the step's own labels, else the built-in words), and a scale's points with their labels."""
    if info is None:
        return {}
    raw = info.raw
    if info.type in ("yesno", "consent"):
        return {answer: _text(raw.get(f"{answer}_label"), language) or Words().text(answer, language)
                for answer in ("yes", "no")}
    if info.type == "scale":
        return _scale_labels(raw, language)
    found: dict[str, str] = {}
    for option in raw.get("options", []) or []:
        if isinstance(option, dict) and "value" in option:
            found[str(option["value"])] = _text(option.get("label"), language) or str(option["value"])
    return found


def _text(text: Any, language: str) -> str:
    """A label as written in the flow (one text, or one per language) in ``language``."""
    return resolve_text(text, language) if isinstance(text, str | dict) else "" if text is None else str(text)


def _scale_labels(raw: dict[str, Any], language: str) -> dict[str, str]:
    """'1 (Not at all)' for a labelled point, as a chosen point is shown; the number alone otherwise."""
    labels = stored_labels(raw.get("labels"))
    low = raw.get("min", 1)
    named = dict(enumerate(labels, start=low)) if isinstance(labels, list) and isinstance(low, int) else labels
    if not isinstance(named, dict):
        return {}
    return {str(point): f"{point} ({_text(label, language)})" for point, label in named.items()}


def _latest_steps(steps: dict[tuple[int, str], StepInfo]) -> dict[tuple[str, str], StepInfo]:
    return {(info.flow, info.step): info for info in latest_steps(steps)}


def step_results(frame: pd.DataFrame, steps: dict[tuple[int, str], StepInfo], language: str = "en") -> list[dict[str, Any]]:
    """Per flow and step: how many answered, the count of each answer per group (labelled in
    the study's ``language``), means. A Delphi step's ``n`` counts who scored (or was unsure
    of) any item, as the Delphi tab counts responders, and ``finished`` who went through it."""
    latest = _latest_steps(steps)
    results = []
    # a many-item step's item answers are in the methods' reports; a Delphi's only say who took part
    own = frame[frame["item"].isna() | (frame["type"] == "delphi")]
    for (flow, step), rows in own.groupby(["flow", "step"], sort=False):
        part = rows[rows["item"].isna()]
        info = latest.get((str(flow), str(step)))
        kind = info.type if info else (rows["type"].iloc[0] or "")
        answered = part[~part["skipped"].astype(bool)]
        entry: dict[str, Any] = {"flow": flow, "step": step, "type": kind, "question": info.question if info else "",
                                 "n": int(answered["participant"].nunique()), "skipped": int(part["skipped"].astype(bool).sum()),
                                 "groups": sorted(answered["group"].unique().tolist())}
        if kind == "delphi":  # as the Delphi tab counts responders: a score (or unsure) for any item
            took_part = rows[~rows["skipped"].astype(bool)]
            entry.update(finished=entry["n"], n=int(took_part["participant"].nunique()),
                         groups=sorted(took_part["group"].unique().tolist()))
        if kind in COUNTED:
            entry["values"] = _counts(answered, _labels(info, language), _points(info, kind))
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
        labels = stored_labels(raw.get("labels"))
        low = raw.get("min", 1 if isinstance(labels, list) else None)
        high = raw.get("max", low + len(labels) - 1 if isinstance(labels, list) and isinstance(low, int) else None)
        return [str(point) for point in range(low, high + 1)] if isinstance(low, int) and isinstance(high, int) else []
    options = raw.get("options", []) or []
    return [str(option["value"]) if isinstance(option, dict) and "value" in option else str(option) for option in options]


def measures(frame: pd.DataFrame, steps: dict[tuple[int, str], StepInfo], period: Period = "week",
             zone: str = "Europe/London") -> list[dict[str, Any]]:
    """Each numeric step's mean (yes/no: % yes; an FFT question: % positive, Don't know
    counted) per period on ``zone``'s clock, with its XmR chart."""
    latest = _latest_steps(steps)
    found = []
    answered = frame[~frame["skipped"].astype(bool) & frame["item"].isna()]
    for (flow, step), part in answered.groupby(["flow", "step"], sort=False):
        info = latest.get((str(flow), str(step)))
        measured = _measured(part, info)
        if measured is None:
            continue
        numbers, unit = measured
        kept = numbers.notna()
        if not kept.any():
            continue
        starts = period_starts(part["answered_at"][kept], period, zone)
        grouped = pd.Series(numbers[kept].to_numpy(), index=starts.to_numpy()).groupby(level=0, sort=True)
        means, sizes = grouped.mean(), grouped.size()
        chart = xmr(means.to_list())
        found.append({
            "flow": flow, "step": step, "question": info.question if info else "", "measure": unit, "period": period,
            "periods": [period_label(start, period) for start in means.index], "values": plain(means.to_list()),
            "n": [int(n) for n in sizes], "mean": plain(chart.mean), "upper": plain(chart.upper),
            "lower": plain(chart.lower), "signals": {k: list(v) for k, v in chart.signals.items()},
            "direction": list(chart.direction),
        })
    return found


def _measured(part: pd.DataFrame, info: StepInfo | None) -> tuple[pd.Series, str] | None:
    """A step's answers as numbers to chart, and what they are; None for a step that has none."""
    kind = info.type if info else ""
    if kind in NUMERIC:
        return pd.to_numeric(part["value"], errors="coerce"), "mean"
    if kind == "yesno":
        return part["value"].map(lambda v: 100.0 if v in (True, "yes") else 0.0), "% yes"
    codes = fft_codes(info.raw.get("options")) if info is not None and kind == "choice" else None
    if codes is None:
        return None
    positive = part["value"].map(lambda v: codes.get(str(v)))
    return positive.map(lambda code: float("nan") if code is None else 100.0 if code in FFT_POSITIVE else 0.0), FFT_MEASURE
