"""``chorus chat --population FILE``: earlier Delphi ratings to preview a later round's group feedback.

The file is the CSV ``chorus analyse delphi`` reads: participant, group, item, score (empty or
NA for unsure; "7.0" is 7, as pandas and R write a column with gaps), with round (default 1) and
delphi (default: every Delphi of the study) where wanted. An item is named by its id or its text
in any of the study's languages (an item given as bare text, as in an items file, is its own id). The rows of participant ``you`` are the chatting participant's own, shown as
"you said" beside the group's results. Nothing here is study data: the file is read into memory.
"""

from __future__ import annotations

import csv
from pathlib import Path

from bot.chat import ChatTarget
from bot.population import group_labels, group_names
from flows.model import resolve_text
from flows.population import ItemRecord, PopulationData, RecordedPopulation, delphi_value
from flows.steps.delphi import DelphiStep

YOU = "you"
"""The participant whose rows in the file are the chatting participant's own."""
NEEDED = ("participant", "item", "score")


class PopulationFileError(ValueError):
    """The file cannot be read as ratings; said plainly for the terminal."""


def delphi_steps(target: ChatTarget) -> list[DelphiStep]:
    return [step for loaded in target.flows.values() for step in loaded.flow.steps if isinstance(step, DelphiStep)]


def population_from_csv(path: str | Path, target: ChatTarget) -> RecordedPopulation:
    """The ratings in ``path`` as the population a Delphi step asks for its feedback, seen by
    participant :data:`YOU`. PopulationFileError for a missing column, an unknown item or a
    score or round that is not a whole number."""
    steps = delphi_steps(target)
    if not steps:
        raise PopulationFileError("the study has no Delphi step to show feedback on")
    default = target.study.default_language if target.study is not None else "en"
    languages = target.study.languages if target.study is not None else [default]
    items = {name: item.id for step in steps for item in step.items
             for name in (item.id, *(resolve_text(item.text, language, default) for language in languages))}
    delphis = sorted({step.delphi_id for step in steps})
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.DictReader(handle))
    columns = rows[0].keys() if rows else ()
    missing = [name for name in NEEDED if name not in columns]
    if missing:
        raise PopulationFileError(f"{path}: no column(s) {', '.join(missing)}; it needs participant, group, item, score")
    records = []
    for line, row in enumerate(rows, start=2):
        item = items.get((row["item"] or "").strip())
        if item is None:
            raise PopulationFileError(f"{path} line {line}: no Delphi item is '{row['item']}'")
        score, round_ = _whole(row["score"], path, line, "score"), _whole(row.get("round") or "1", path, line, "round")
        for delphi in [row["delphi"].strip()] if (row.get("delphi") or "").strip() else delphis:
            records.append(ItemRecord(row["participant"].strip(), (row.get("group") or "").strip() or None, "",
                                      item, delphi_value(delphi, round_ or 1, score)))
    study = target.study
    return PopulationData(records, group_labels=group_labels(study), group_names=group_names(study)).view(YOU)


NO_SCORE = {"", "na", "n/a", "nan", "null", "none", "#n/a"}
"""Written for a missing (unsure) score by pandas, R or a spreadsheet, as ``chorus analyse delphi`` reads them."""


def _whole(value: str, path: str | Path, line: int, column: str) -> int | None:
    """The whole number in a cell ('7', or '7.0' as pandas and R write a column with gaps); None
    for an empty or NA cell."""
    value = (value or "").strip()
    if value.lower() in NO_SCORE:
        return None
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not number.is_integer():
        raise PopulationFileError(f"{path} line {line}: {column} '{value}' is not a whole number")
    return int(number)
