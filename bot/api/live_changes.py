"""What a new version of a live study's flows means for the answers already given.

Running sessions stay on the version they started, and every answer keeps the value it was
stored with. A choice option whose value answers hold but that the study's current flows no
longer offer (renamed, or removed) is therefore counted apart from the options offered now,
in results, charts and exports. The coordinator is told so when validating and publishing,
with how many answers hold the value, so a rename made to change only the wording (which the
label does) is caught before the results split.
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select

from flows.loader import LoadedFlow, LoadedStudy, Problem, step_path
from storage.database import Database
from storage.tables import ANSWERS


def _stored_values(database: Database, study_id: str, flow_id: str, step_id: str) -> Counter[str]:
    """How many standing answers hold each value of one step (a multiple choice counts each pick)."""
    a = ANSWERS.c
    query = select(a.value).where(a.study_id == study_id, a.flow_id == flow_id, a.step_id == step_id,
                                  a.item.is_(None), a.withdrawn_at.is_(None), a.skipped.is_(False))
    counts: Counter[str] = Counter()
    with database.read_transaction() as connection:
        for (value,) in connection.execute(query):
            for one in value if isinstance(value, list) else [value]:
                if isinstance(one, str):
                    counts[one] += 1
    return counts


def _flow_warnings(database: Database, study_id: str, loaded: LoadedFlow) -> list[Problem]:
    problems = []
    for index, step in enumerate(loaded.flow.steps):
        options = getattr(step, "options", None)
        if step.type != "choice" or not options:
            continue
        offered = {option.value for option in options}
        line, column = loaded.marks.value(step_path(index, "options")) if loaded.marks else (1, 1)
        for value, count in sorted(_stored_values(database, study_id, loaded.flow.flow, step.id).items()):
            if value in offered:
                continue
            answers = f"{count} answer{'' if count == 1 else 's'} hold{'s' if count == 1 else ''}"
            problems.append(Problem(
                loaded.path, line, column,
                f"step '{step.id}': {answers} the value '{value}', which this version no longer offers: results and "
                f"charts count {'it' if count == 1 else 'them'} apart from the options offered now",
                f"to change only the words people see, keep value: {value} and change its label; the export's "
                "flow_version column says which version each answer came from",
                "warning"))
    return problems


def kept_apart(database: Database, loaded: LoadedStudy, only_flow: str | None = None) -> list[Problem]:
    """Warnings of choice values that answers hold and the study's flows (or ``only_flow``) no
    longer offer; each names the file of the flow, as ``chorus validate`` does."""
    return [problem for flow_id, flow in loaded.flows.items() if only_flow in (None, flow_id)
            for problem in _flow_warnings(database, loaded.study.study, flow)]
