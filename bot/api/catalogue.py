"""What a study has (flows, steps by type, as every published version defines them), and the
desk's checks that a request names things that exist.

A check that fails raises the API's usual error (``{"detail": "..."}``): 404 naming what was
asked and what the study has instead, or 400 when something needed was not named at all.
Read without pandas, so the answers list can check its filters cheaply.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from fastapi import HTTPException
from sqlalchemy import select

from flows.display_text import display_text
from flows.loader import LoadedStudy
from flows.model import resolve_text
from storage.database import Database
from storage.tables import FLOW_VERSIONS

MAX_NAMES = 20
"""At most this many names in an error message; the rest are counted."""


@dataclass(frozen=True)
class StepInfo:
    flow: str
    step: str
    type: str
    question: str
    raw: dict[str, Any]


@dataclass(frozen=True)
class StepKind:
    """The steps a report or chart kind reads, by name ("pairwise step 'x'")."""

    name: str
    accepts: Callable[[StepInfo], bool]


def _is_delphi(info: StepInfo) -> bool:
    """A Delphi step, or a 1-9 scale (which the Delphi report also counts)."""
    return info.type == "delphi" or (info.type == "scale" and info.raw.get("min") == 1 and info.raw.get("max") == 9)


def _of_type(*types: str) -> Callable[[StepInfo], bool]:
    return lambda info: info.type in types


def _is_measured(info: StepInfo) -> bool:
    """A step charted over time: a number, a scale, a yes/no, or an FFT question (its % positive)."""
    from flows.analysis.instruments import fft_codes

    return info.type in ("scale", "number", "yesno") or (info.type == "choice" and fft_codes(info.raw.get("options")) is not None)


ANY_STEP = StepKind("", lambda info: True)
KINDS: dict[str, StepKind] = {
    "delphi": StepKind("Delphi", _is_delphi),
    "ranking": StepKind("rank", _of_type("rank")),
    "pairwise": StepKind("pairwise", _of_type("pairwise")),
    "choice": StepKind("choice experiment", _of_type("choice_experiment")),
    "statements": StepKind("statements", _of_type("statements")),
    "results": StepKind("question", lambda info: info.type not in ("message", "end")),
    "spc": StepKind("numeric or yes/no", _is_measured),
}
"""The kinds of report and chart that read particular steps; the others read whole flows."""


def step_catalogue(database: Database, loaded: LoadedStudy) -> dict[tuple[int, str], StepInfo]:
    """(flow version id, step id) -> what that step was, for every published version; its
    ``question`` as a coordinator reads it (flows.display_text), not the template."""
    language = loaded.study.default_language
    title = resolve_text(loaded.study.title, language)
    with database.reading() as session:
        versions = session.execute(select(FLOW_VERSIONS.c.id, FLOW_VERSIONS.c.flow_id, FLOW_VERSIONS.c.content)
                                   .where(FLOW_VERSIONS.c.study_id == loaded.study.study)).all()
    found = {}
    for version_id, flow_id, content in versions:
        for raw in (content or {}).get("steps", []) or []:
            if isinstance(raw, dict) and isinstance(raw.get("id"), str):
                question = display_text(raw.get("text"), language, title) if isinstance(raw.get("text"), str | dict) else ""
                found[(version_id, raw["id"])] = StepInfo(flow_id, raw["id"], str(raw.get("type", "")), question, raw)
    return found


def latest_steps(steps: Mapping[tuple[int, str], StepInfo]) -> list[StepInfo]:
    """Each (flow, step) once, as its newest published version has it, in the order first published."""
    latest: dict[tuple[str, str], StepInfo] = {}
    for _, info in sorted(steps.items(), key=lambda kv: kv[0][0]):
        latest[(info.flow, info.step)] = info
    return list(latest.values())


def names(values: Iterable[Any], limit: int = MAX_NAMES) -> str:
    """'a, b, c' (each once, in order), 'a, b and 3 more' past ``limit``, or 'none'."""
    unique = [str(v) for v in dict.fromkeys(values)]
    if not unique:
        return "none"
    shown = ", ".join(unique[:limit])
    return shown if len(unique) <= limit else f"{shown} and {len(unique) - limit} more"


@dataclass(frozen=True)
class StudySteps:
    """A study's flows and steps, for checking what a request names."""

    study_id: str
    flows: list[str]
    steps: list[StepInfo]

    def require_flow(self, flow: str) -> str:
        if flow not in self.flows:
            raise HTTPException(404, f"no flow '{flow}' in study '{self.study_id}'; its flows: {names(self.flows)}")
        return flow

    def require_step(self, step: str, flow: str | None = None, kind: StepKind = ANY_STEP) -> list[StepInfo]:
        """The steps (one per flow that has it) called ``step`` of ``kind``, in ``flow`` if named; 404 if none."""
        if flow is not None:
            self.require_flow(flow)
        candidates = [s for s in self.steps if kind.accepts(s) and (flow is None or s.flow == flow)]
        found = [s for s in candidates if s.step == step]
        if not found:
            raise HTTPException(404, self._no_step(step, flow, kind, candidates))
        return found

    def require_one_step(self, step: str | None, flow: str | None, kind: StepKind = ANY_STEP) -> StepInfo:
        """The one step ``step`` names (with ``flow`` when two flows share the id); 400 if it is ambiguous or missing."""
        if step is None:
            known = [s.step for s in self.steps if kind.accepts(s) and (flow is None or s.flow == flow)]
            raise HTTPException(400, f"name a {_kind(kind)}step with step=...; the study's {_kind(kind)}steps: {names(known)}")
        found = self.require_step(step, flow, kind)
        if len(found) > 1:
            raise HTTPException(400, f"step '{step}' is in several flows ({names(s.flow for s in found)}): "
                                     "name one with flow=...")
        return found[0]

    def _no_step(self, step: str, flow: str | None, kind: StepKind, candidates: Sequence[StepInfo]) -> str:
        where = f"flow '{flow}'" if flow is not None else f"study '{self.study_id}'"
        message = f"no {_kind(kind)}step '{step}' in {where}"
        if not candidates:
            return f"{message}; it has no {_kind(kind)}steps"
        other = next((s for s in self.steps if s.step == step and (flow is None or s.flow == flow)), None)
        if other is not None:
            message += f" (it is a {other.type} step)"
        return f"{message}; its {_kind(kind)}steps: {names(s.step for s in candidates)}"


def _kind(kind: StepKind) -> str:
    return f"{kind.name} " if kind.name else ""


def study_steps(database: Database, loaded: LoadedStudy) -> StudySteps:
    """The study's flows (loaded and published) and the steps every published version defines."""
    steps = latest_steps(step_catalogue(database, loaded))
    flows = list(dict.fromkeys([*loaded.flows, *(s.flow for s in steps)]))
    return StudySteps(loaded.study.study, flows, steps)
