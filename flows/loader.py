"""Reading study and flow files. Every problem is a :class:`Problem` with a position."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import ValidationError

from flows.model import Flow, Study


@dataclass(frozen=True)
class Problem:
    file: str
    line: int
    column: int
    message: str
    hint: str = ""
    severity: str = "error"

    def __str__(self) -> str:
        hint = f" ({self.hint})" if self.hint else ""
        return f"{self.file}:{self.line}:{self.column}: {self.severity}: {self.message}{hint}"


class LoadError(Exception):
    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class LoadedFlow:
    flow: Flow
    path: str
    version: str
    raw: dict[str, Any]


@dataclass
class LoadedStudy:
    study: Study
    path: str
    flows: dict[str, LoadedFlow] = field(default_factory=dict)

    def start_flow(self) -> LoadedFlow:
        return self.flows[self.study.join.start_flow]


def version_of(raw: dict[str, Any]) -> str:
    """A short content hash: the same flow text always has the same version."""
    canonical = json.dumps(raw, sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _read_yaml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise LoadError([Problem(str(path), 1, 1, f"cannot read the file: {error.strerror or error}")]) from None
    try:
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark
        line, column = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        raise LoadError([Problem(str(path), line, column, f"YAML syntax: {error.problem}")]) from None
    if not isinstance(data, dict):
        raise LoadError([Problem(str(path), 1, 1, "expected a mapping with 'study:' or 'flow:' at the top")])
    return data


def _validation_problems(path: Path, error: ValidationError) -> list[Problem]:
    return [Problem(str(path), 1, 1, f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}") for e in error.errors()]


def load_flow(path: str | Path, raw: dict[str, Any] | None = None) -> LoadedFlow:
    path = Path(path)
    data = raw if raw is not None else _read_yaml(path)
    try:
        flow = Flow.model_validate(data)
    except ValidationError as error:
        raise LoadError(_validation_problems(path, error)) from None
    except ValueError as error:
        raise LoadError([Problem(str(path), 1, 1, str(error))]) from None
    return LoadedFlow(flow, str(path), version_of(data), data)


def study_flow_paths(study_path: Path, study: Study) -> list[Path]:
    folder = study_path.parent
    if study.flows:
        return [folder / name for name in study.flows]
    return sorted(p for p in folder.glob("*.y*ml") if p != study_path)


def load_study(path: str | Path) -> LoadedStudy:
    path = Path(path)
    if path.is_dir():
        path = next((p for p in (path / "study.yaml", path / "study.yml") if p.exists()), path / "study.yaml")
    data = _read_yaml(path)
    try:
        study = Study.model_validate(data)
    except ValidationError as error:
        raise LoadError(_validation_problems(path, error)) from None
    loaded = LoadedStudy(study, str(path))
    for flow_path in study_flow_paths(path, study):
        flow = load_flow(flow_path)
        loaded.flows[flow.flow.flow] = flow
    return loaded
