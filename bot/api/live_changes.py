"""What a new version of a live study's flows means for the answers already given.

Running sessions stay on the version they started, and every answer keeps the value it was
stored with, under the step id it was given at. So a new version can split or mix answers
already given, and the coordinator is told so when validating and publishing, with how many
answers each change touches:

- a choice or rank option whose value answers hold but the new version no longer offers
  (renamed, or removed) is counted apart from the options offered now, in results, charts and
  exports (a rename made to change only the wording, which the label does, splits the results);
- a scale whose range changed (1-5 to 0-10) while answers on the old range stand: results put
  both ranges on one axis and average them together, so a 5 that meant "completely" is read as
  the middle of the new range;
- a step that answers hold and the new version has not got (removed, or its id renamed): its
  answers stay in results under the earlier question, and a step with a new id is counted apart.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any

from pydantic import ValidationError
from sqlalchemy import select

from flows.loader import LoadedFlow, LoadedStudy, Problem, step_path
from flows.steps.scale import ScaleStep
from storage.database import Database
from storage.tables import ANSWERS, FLOW_VERSIONS

OPTION_STEPS = ("choice", "rank")


@dataclass(frozen=True)
class Change:
    """One way a version splits or mixes answers already given: ``what`` names it apart from how
    many answers it touches (``"story gone"``), ``problem`` warns of it."""

    what: str
    problem: Problem


class _Held:
    """The standing answers of one flow: each step's stored values, and how many answers each
    published version of it holds."""

    def __init__(self, database: Database, study_id: str, flow_id: str) -> None:
        a = ANSWERS.c
        query = select(a.step_id, a.flow_version_id, a.value, a.item, a.skipped).where(
            a.study_id == study_id, a.flow_id == flow_id, a.withdrawn_at.is_(None))
        self.values: dict[str, Counter[str]] = defaultdict(Counter)
        self.by_version: dict[str, Counter[int]] = defaultdict(Counter)
        with database.read_transaction() as connection:
            rows = connection.execute(query).all()
            versions = {version for _, version, *_ in rows}
            contents = dict(connection.execute(select(FLOW_VERSIONS.c.id, FLOW_VERSIONS.c.content)
                                               .where(FLOW_VERSIONS.c.id.in_(versions))).all()) if versions else {}
        self.contents: dict[int, dict[str, Any]] = {int(k): v or {} for k, v in contents.items()}
        for step_id, version, value, item, skipped in rows:
            self.by_version[step_id][int(version)] += 1
            if item is None and not skipped:
                for one in value if isinstance(value, list) else [value]:
                    if isinstance(one, str):
                        self.values[step_id][one] += 1

    def raw_step(self, version: int, step_id: str) -> dict[str, Any] | None:
        steps = self.contents.get(version, {}).get("steps") or []
        return next((s for s in steps if isinstance(s, dict) and s.get("id") == step_id), None)


def _answers(count: int) -> str:
    return f"{count} answer{'' if count == 1 else 's'}"


def _them(count: int) -> str:
    return "it" if count == 1 else "them"


def _option_warnings(held: _Held, loaded: LoadedFlow, index: int, step: Any) -> list[Change]:
    offered = {option.value for option in step.options}
    line, column = loaded.marks.value(step_path(index, "options")) if loaded.marks else (1, 1)
    problems = []
    for value, count in sorted(held.values[step.id].items()):
        if value in offered:
            continue
        holds = "holds" if count == 1 else "hold"
        problems.append(Change(f"{step.id} offers no {value}", Problem(
            loaded.path, line, column,
            f"step '{step.id}': {_answers(count)} {holds} the value '{value}', which this version no longer offers: results and "
            f"charts count {_them(count)} apart from the options offered now",
            f"to change only the words people see, keep value: {value} and change its label; the export's "
            "flow_version column says which version each answer came from",
            "warning")))
    return problems


def _scale_range(raw: dict[str, Any] | None) -> tuple[int, int] | None:
    if raw is None or raw.get("type") != "scale":
        return None
    try:
        step = ScaleStep.model_validate(raw)
    except (ValidationError, ValueError):
        return None
    return step.low, step.high


def _range_warnings(held: _Held, loaded: LoadedFlow, index: int, step: ScaleStep) -> list[Change]:
    """A scale asked on another range by an earlier version that answers still hold."""
    now = (step.low, step.high)
    other: Counter[tuple[int, int]] = Counter()
    for version, count in held.by_version[step.id].items():
        was = _scale_range(held.raw_step(version, step.id))
        if was is not None and was != now:
            other[was] += count
    if not other:
        return []
    line, column = loaded.marks.key(step_path(index, "max")) if loaded.marks else (1, 1)
    ranges = sorted(other)
    before = " and ".join(f"{_answers(other[r])} on {r[0]}-{r[1]}" for r in ranges)
    total = sum(other.values())
    stand = "stands" if total == 1 else "stand"
    return [Change(f"{step.id} asks {now} not {ranges}", Problem(
        loaded.path, line, column,
        f"step '{step.id}': this version asks {now[0]}-{now[1]}, but {before} {stand} from an earlier version: results and "
        f"charts would put {_them(total)} on the new range and average both ranges together",
        f"keep {' or '.join(f'{low}-{high}' for low, high in ranges)} to keep one scale, or give the step a new id "
        "so that answers on the new range are counted apart",
        "warning"))]


def _gone_warnings(held: _Held, loaded: LoadedFlow) -> list[Change]:
    """Steps that answers hold and this version has not got (removed, or their id renamed)."""
    kept = {step.id for step in loaded.flow.steps}
    line, column = loaded.marks.key(("steps",)) if loaded.marks else (1, 1)
    problems = []
    for step_id, versions in sorted(held.by_version.items()):
        count = sum(versions.values())
        if step_id in kept or not count:
            continue
        problems.append(Change(f"{step_id} gone", Problem(
            loaded.path, line, column,
            f"step '{step_id}': {_answers(count)} {'stands' if count == 1 else 'stand'} at this step, which this version no longer has (removed, or its "
            f"id renamed): results keep {_them(count)} under the earlier question, and a step with a new id is counted apart",
            f"to change only its wording or place, keep id: {step_id}",
            "warning")))
    return problems


def _flow_changes(database: Database, study_id: str, loaded: LoadedFlow) -> list[Change]:
    held = _Held(database, study_id, loaded.flow.flow)
    problems: list[Change] = []
    for index, step in enumerate(loaded.flow.steps):
        if step.type in OPTION_STEPS and getattr(step, "options", None):
            problems += _option_warnings(held, loaded, index, step)
        if isinstance(step, ScaleStep):
            problems += _range_warnings(held, loaded, index, step)
    return [Change(f"{loaded.flow.flow}: {c.what}", c.problem) for c in problems + _gone_warnings(held, loaded)]


def changes(database: Database, loaded: LoadedStudy, only_flow: str | None = None) -> list[Change]:
    """What the study's flows (or ``only_flow``) split or mix among the answers already given
    (the module docstring), each with its warning."""
    return [change for flow_id, flow in loaded.flows.items() if only_flow in (None, flow_id)
            for change in _flow_changes(database, loaded.study.study, flow)]


def kept_apart(database: Database, loaded: LoadedStudy, only_flow: str | None = None) -> list[Problem]:
    """The warnings of :func:`changes`; each names the file of the flow, as ``chorus validate`` does."""
    return [change.problem for change in changes(database, loaded, only_flow)]


def new_changes(database: Database, candidate: LoadedStudy, live: LoadedStudy, only_flow: str | None = None) -> list[Problem]:
    """The warnings of what ``candidate`` would split or mix that the ``live`` study does not
    already: those a coordinator has not yet published knowingly (however many answers they
    hold now)."""
    already = {c.what for c in changes(database, live, only_flow)}
    return [c.problem for c in changes(database, candidate, only_flow) if c.what not in already]
