"""From recorded item answers (:class:`flows.population.ItemRecord`) to the tables the
analyses read: rankings, statement votes, pairwise comparisons and choice-experiment
long format. Delphi ratings: :func:`flows.population.delphi_ratings`.

Each function takes the records of one step (the caller filters by step) in the order
they were recorded; where a participant answered the same item twice, the last counts.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pandas as pd

from flows.analysis.dce_design import OPT_OUT
from flows.analysis.mnl import level_column
from flows.analysis.pairwise import Comparison
from flows.population import SUBMISSION_ITEM, ItemRecord


def _latest(records: Iterable[ItemRecord]) -> list[ItemRecord]:
    latest: dict[tuple[str, str], ItemRecord] = {}
    for record in records:
        if record.item != SUBMISSION_ITEM:
            latest.pop((record.participant, record.item), None)
            latest[(record.participant, record.item)] = record
    return list(latest.values())


def rankings_table(records: Iterable[ItemRecord]) -> pd.DataFrame:
    """participant, group, option, position: from a rank step's per-place answers."""
    rows = [
        {"participant": r.participant, "group": r.group or "unspecified", "option": str(r.value), "position": int(r.item)}
        for r in _latest(records)
        if r.item.isdigit() and isinstance(r.value, str)
    ]
    return pd.DataFrame(rows, columns=["participant", "group", "option", "position"])


def votes_table(records: Iterable[ItemRecord]) -> pd.DataFrame:
    """participant, group, statement, vote (1 / -1 / 0): from a statements step."""
    rows = [
        {"participant": r.participant, "group": r.group or "unspecified", "statement": r.item, "vote": int(r.value)}
        for r in _latest(records)
        if isinstance(r.value, int) and not isinstance(r.value, bool) and r.value in (-1, 0, 1)
    ]
    return pd.DataFrame(rows, columns=["participant", "group", "statement", "vote"])


def comparisons(records: Iterable[ItemRecord]) -> list[tuple[str, Comparison]]:
    """(group, comparison) for every answer of a pairwise step, ties included."""
    found = []
    for r in records:
        if isinstance(r.value, dict) and "winner" in r.value and "loser" in r.value:
            found.append((r.group or "unspecified", Comparison(str(r.value["winner"]), str(r.value["loser"]), bool(r.value.get("tie")))))
    return found


def choice_long_format(records: Iterable[ItemRecord], attributes: Sequence[tuple[str, Sequence[Any]]]) -> tuple[pd.DataFrame, list[str]]:
    """One row per alternative shown per answered task, coded for
    :func:`flows.analysis.mnl.fit_mnl`, and the feature columns.

    ``attributes`` are (name, levels) as in the step: numeric levels become one linear
    column, others dummy columns against their first level; with an opt-out, the
    "neither" row has ``opt_out`` = 1 and zero elsewhere. Columns: participant, group,
    choice_set, alternative (0 = neither), chosen, then the features.
    """
    features: list[str] = []
    numeric = {name: all(isinstance(v, int | float) and not isinstance(v, bool) for v in levels) for name, levels in attributes}
    for name, levels in attributes:
        features += [name] if numeric[name] else [level_column(name, lv) for lv in levels[1:]]
    rows: list[dict[str, Any]] = []
    answered = [r for r in _latest(records) if isinstance(r.value, dict) and "alternatives" in r.value]
    if any(r.value.get("opt_out") for r in answered):
        features.append(OPT_OUT)
    for number, r in enumerate(answered):
        chosen = int(r.value["chosen"])
        base = {"participant": r.participant, "group": r.group or "unspecified", "choice_set": number}
        for j, profile in enumerate(r.value["alternatives"], start=1):
            row = {**base, "alternative": j, "chosen": int(chosen == j), **dict.fromkeys(features, 0.0)}
            for name, levels in attributes:
                level = profile.get(name)
                if numeric[name]:
                    row[name] = float(level)
                elif level != levels[0]:
                    row[level_column(name, level)] = 1.0
            rows.append(row)
        if r.value.get("opt_out"):
            rows.append({**base, "alternative": 0, "chosen": int(chosen == 0), **dict.fromkeys(features, 0.0), OPT_OUT: 1.0})
    columns = ["participant", "group", "choice_set", "alternative", "chosen", *features]
    return pd.DataFrame(rows, columns=columns), features
