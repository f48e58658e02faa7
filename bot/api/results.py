"""Results per step with per-group splits, and measures over time as XmR charts.

Every answer a step offers is listed by the words participants saw, chosen or not ("No",
"1 (Not at all)"). Measures over time count days, ISO weeks (Monday to Sunday, named by their
Monday) or months on the study's clock, as ``chorus analyse evaluation`` does
(:mod:`flows.analysis.periods`); an FFT question (:func:`flows.analysis.instruments.fft_codes`)
is charted as its percentage positive, a flow with the ten SUS items as one SUS score. Limits are
kept inside the measure's range, and a chart with too few points or answers is not judged
(:func:`flows.analysis.spc.too_few`)."""

from __future__ import annotations

from collections import Counter
from typing import Any, Literal

import pandas as pd

from bot.api.catalogue import StepInfo, latest_steps
from bot.api.methods import plain
from flows.analysis.instruments import FFT_POSITIVE, SUS_ITEMS, fft_codes, sus_score
from flows.analysis.instruments import _sus_number as sus_number
from flows.analysis.periods import period_label, period_starts
from flows.analysis.spc import clip, too_few, xmr
from flows.model import resolve_text
from flows.steps.scale import stored_labels
from flows.words import Words

COUNTED = {"choice", "yesno", "consent", "scale"}
NUMERIC = {"scale", "number"}
Period = Literal["day", "week", "month"]
FFT_MEASURE = "% positive (FFT)"
SUS_MEASURE = "SUS score (0-100)"
SUS_QUESTION = "System Usability Scale: the ten items scored 0-100 (Brooke, 1996)"
SUS_STEPS = frozenset(f"sus_{n}" for n in range(1, SUS_ITEMS + 1))


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
    the study's ``language``), means, each over ``mean_n`` (who gave a number, per group: an
    unsure answer is answered but has none; ``not_numbers`` counts those). A Delphi step's ``n`` counts who scored (or was unsure
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
            given = numbers.dropna()
            by_group = numbers.groupby(answered["group"]).mean()
            entry["mean"] = plain({"all": numbers.mean(), **by_group.to_dict()})
            # whom each mean counts: those who gave a number ("not sure" is answered, but no number)
            entry["mean_n"] = {"all": len(given), **{str(g): int(n) for g, n in given.groupby(answered["group"]).size().items()}}
            entry["not_numbers"] = int(numbers.isna().sum())
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
    counted; a flow with the ten SUS items: one SUS score 0-100, as ``chorus analyse evaluation``
    scores it) per period on ``zone``'s clock, with its XmR chart, the answers behind each point
    and each group's own points."""
    latest = _latest_steps(steps)
    found = []
    answered = frame[~frame["skipped"].astype(bool) & frame["item"].isna()]
    sus_flows = {str(flow) for flow in answered["flow"].unique() if {s for f, s in latest if f == flow} >= SUS_STEPS}
    for (flow, step), part in answered.groupby(["flow", "step"], sort=False):
        if flow in sus_flows and step in SUS_STEPS:
            continue
        info = latest.get((str(flow), str(step)))
        measured = _measured(part, info)
        if measured is None:
            continue
        numbers, unit = measured
        bounds = _bounds(info) if unit == "mean" else (0.0, 100.0)
        found += _measure(str(flow), str(step), info.question if info else "", unit, part, numbers, period, zone, bounds)
    for flow in sorted(sus_flows):
        scores = sus_responses(answered[answered["flow"] == flow])
        found += _measure(flow, "sus", SUS_QUESTION, SUS_MEASURE, scores, scores["value"], period, zone, (0.0, 100.0))
    return found


def _measure(flow: str, step: str, question: str, unit: str, part: pd.DataFrame, numbers: pd.Series, period: Period,
             zone: str, bounds: tuple[float | None, float | None]) -> list[dict[str, Any]]:
    """One measure's chart: means per period, the n behind each, limits kept inside ``bounds``,
    each group's means and n by period, and the XmR signals with ``too_few`` saying why there are
    too few points or answers to judge them (:func:`flows.analysis.spc.too_few`; None: enough).
    The desk then shows the points without a judgement."""
    kept = numbers.notna()
    if not kept.any():
        return []
    starts = pd.Series(period_starts(part["answered_at"][kept], period, zone).to_numpy())
    values = pd.Series(numbers[kept].to_numpy(dtype=float))
    groups = pd.Series(part["group"][kept].to_numpy())
    grouped = values.groupby(starts, sort=True)
    means, sizes = grouped.mean(), grouped.size()
    chart = xmr(means.to_list())
    n = [int(size) for size in sizes]
    reason = too_few(n)
    by_group = {}
    for group in sorted(groups.unique()):
        mine = values[groups == group].groupby(starts[groups == group]).agg(["mean", "size"])
        by_group[str(group)] = {"values": [plain(mine["mean"].get(start)) for start in means.index],
                                "n": [int(mine["size"].get(start, 0)) for start in means.index]}
    return [{
        "flow": flow, "step": step, "question": question, "measure": unit, "period": period,
        "periods": [period_label(start, period) for start in means.index], "values": plain(means.to_list()),
        "n": n, "mean": plain(chart.mean), "upper": plain(clip(chart.upper, bounds)),
        "lower": plain(clip(chart.lower, bounds)), "bounds": list(bounds), "too_few": reason,
        "signals": {k: list(v) for k, v in chart.signals.items()}, "direction": list(chart.direction), "groups": by_group,
    }]


def _bounds(info: StepInfo | None) -> tuple[float | None, float | None]:
    """A scale's lowest and highest points (its mean cannot pass them); a number's: none."""
    points = _points(info, info.type) if info is not None and info.type == "scale" else []
    return (float(points[0]), float(points[-1])) if points else (None, None)


def sus_responses(part: pd.DataFrame) -> pd.DataFrame:
    """One SUS flow's answers as complete responses: participant, group, answered_at (the last
    item's) and value (the 0-100 score, :func:`flows.analysis.instruments.sus_score`). A
    participant who took the flow k times has k answers to each item (the standing ones, one
    per session): the j-th of each item make the j-th response. Incomplete responses are left out."""
    rows = []
    for (participant, group), mine in part[part["step"].isin(SUS_STEPS)].groupby(["participant", "group"]):
        items = {step: list(answers.sort_values("answered_at").itertuples()) for step, answers in mine.groupby("step")}
        if set(items) != SUS_STEPS:
            continue
        taken = {len(answers) for answers in items.values()}
        rounds = taken.pop() if len(taken) == 1 else 1
        for j in range(rounds):
            picked = [items[f"sus_{n}"][j if rounds > 1 else -1] for n in range(1, SUS_ITEMS + 1)]
            numbers = [sus_number(answer.value) for answer in picked]
            if any(number is None or not 1 <= number <= 5 for number in numbers):
                continue
            rows.append({"participant": participant, "group": group, "answered_at": max(a.answered_at for a in picked),
                         "value": sus_score([int(number) for number in numbers if number is not None])})
    return pd.DataFrame(rows, columns=["participant", "group", "answered_at", "value"])


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
