"""Reading study and flow files. Every problem is a :class:`Problem` with a position.

YAML is composed into nodes first, so every key and value keeps its line and column
(:class:`Marks`); pydantic's error locations are then mapped back onto them, and each
step is validated by its own type's model so an error inside a step points inside it.
YAML syntax mistakes are put in plain words by :mod:`flows.yaml_errors`.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError

from flows.model import Flow, StepBase, Study
from flows.pydantic_errors import describe_errors, did_you_mean
from flows.step_synonyms import type_hint
from flows.steps import UnknownStepType, known_types, step_model
from flows.yaml_errors import _position, _step_keys_at_the_left_edge, repaired_layout, yaml_problem

YamlPath = tuple[str, ...]


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
class Marks:
    """Where each key and value of one YAML file sits. Paths are tuples of strings:
    ``('steps', '3', 'options')``; list indexes are written as strings too."""

    file: str
    text: str = ""
    values: dict[YamlPath, yaml.Node] = field(default_factory=dict)
    keys: dict[YamlPath, yaml.Node] = field(default_factory=dict)

    def real_path(self, loc: tuple[Any, ...]) -> YamlPath:
        """The part of a pydantic location that exists in the file: union tags such as
        'str' or 'list[NextRule]', and keys a validator added, are passed over."""
        path: YamlPath = ()
        for item in loc:
            if (*path, str(item)) in self.values:
                path = (*path, str(item))
        return path

    def _node(self, path: YamlPath) -> yaml.Node | None:
        return self.values.get(path) or self.values.get(self.real_path(path))

    def value(self, path: YamlPath) -> tuple[int, int]:
        """Line and column (1-based) of the value at ``path``; parts of the path that are
        not in the file are passed over, so the nearest existing place is given."""
        node = self._node(path)
        return _position(node.start_mark) if node is not None else (1, 1)

    def key(self, path: YamlPath) -> tuple[int, int]:
        """Line and column of the key that introduces ``path`` (the value if it has none)."""
        node = self.keys.get(path)
        return _position(node.start_mark) if node is not None else self.value(path)

    def find(self, path: YamlPath, needle: str) -> tuple[int, int]:
        """Where ``needle`` appears inside the value at ``path``; the value's start if nowhere."""
        node = self._node(path)
        if node is None or not needle or not self.text:
            return self.value(path)
        start, end = node.start_mark.index, node.end_mark.index
        found = self.text.find(needle, start, max(end, start))
        if found < 0:
            return self.value(path)
        line = self.text.count("\n", 0, found) + 1
        return line, found - (self.text.rfind("\n", 0, found) + 1) + 1

    def problem(
        self, position: tuple[int, int], message: str, hint: str = "", severity: str = "error"
    ) -> Problem:
        return Problem(self.file, position[0], position[1], message, hint, severity)


def step_path(index: int, *rest: str) -> YamlPath:
    return ("steps", str(index), *rest)


def field_path(name: str) -> YamlPath:
    """A field name from ``texts()`` as a path: 'options[2].label' -> ('options', '2', 'label')."""
    return tuple(part for part in re.split(r"[.\[\]]+", name) if part)


@dataclass
class LoadedFlow:
    flow: Flow
    path: str
    version: str
    raw: dict[str, Any]
    marks: Marks | None = None


@dataclass
class LoadedStudy:
    study: Study
    path: str
    flows: dict[str, LoadedFlow] = field(default_factory=dict)
    marks: Marks | None = None

    def start_flow(self) -> LoadedFlow:
        return self.flows[self.study.join.start_flow]


def version_of(raw: dict[str, Any]) -> str:
    """A short content hash: the same flow text always has the same version."""
    canonical = json.dumps(_text_keys(raw), sort_keys=True, default=str, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:12]


def _text_keys(value: Any) -> Any:
    """The value with every mapping's keys as text, as JSON writes them: YAML may mix number and
    text keys in one mapping (a level's labels ``{1: one week, 4+: a month or more}``), which
    cannot be sorted together."""
    if isinstance(value, dict):
        return {str(key): _text_keys(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_text_keys(item) for item in value]
    return value


# ----------------------------------------------------------------------------- YAML


def _walk(node: yaml.Node, path: YamlPath, marks: Marks, problems: list[Problem]) -> None:
    marks.values[path] = node
    if isinstance(node, yaml.MappingNode):
        seen: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value) if isinstance(key_node, yaml.ScalarNode) else "?"
            if name in seen and name != "<<":
                first = _position(seen[name].start_mark)[0]
                problems.append(
                    marks.problem(
                        _position(key_node.start_mark),
                        f"the key '{name}' appears twice in this mapping (first on line {first})",
                        "YAML keeps only the last one; remove or rename one of them",
                    )
                )
            seen[name] = key_node
            marks.keys[(*path, name)] = key_node
            _walk(value_node, (*path, name), marks, problems)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*path, str(index)), marks, problems)


FAST_LOADER: type = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
"""libyaml when installed: ten times faster, with the same node marks."""


def _compose(text: str, loader_class: type) -> tuple[yaml.Node | None, Any]:
    loader = loader_class(text)
    try:
        node = loader.get_single_node()
        return node, (loader.construct_document(node) if node is not None else None)
    finally:
        loader.dispose()


def _read_past_slip(error: yaml.YAMLError, marks: Marks) -> tuple[yaml.Node | None, Any, list[Problem]]:
    """The file's YAML slip and, when it is one of indentation, the node and data of the file
    with it mended as its hint says, so the rest of the file's checks (its steps' keys and
    types, its ``goto``...) are reported in the same run; ``marks.text`` becomes the mended
    text, whose lines are the file's. None if the slip cannot be mended, or if the mended
    file has another (reported on the next run, where it will be the first)."""
    slip = yaml_problem(error, marks)
    mended = repaired_layout(slip, marks.text)
    if mended is None:
        return None, None, [slip]
    try:
        node, data = _compose(mended, FAST_LOADER)
    except yaml.YAMLError:
        return None, None, [slip]
    marks.text = mended
    return node, data, [slip]


def read_yaml(path: Path) -> tuple[Any, Marks, list[Problem]]:
    """The file's data and marks; problems if it cannot be read, parsed or is empty."""
    marks = Marks(str(path))
    try:
        raw = path.read_bytes()
        marks.text = raw.decode("utf-8")
    except FileNotFoundError:
        hint = (
            did_you_mean(path.name, [p.name for p in path.parent.glob("*.y*ml")], listing=False)
            if path.parent.is_dir()
            else ""
        )
        return None, marks, [marks.problem((1, 1), "no such file", hint)]
    except IsADirectoryError:
        return None, marks, [marks.problem((1, 1), "this is a folder, not a YAML file")]
    except UnicodeDecodeError as error:
        before = raw[: error.start]
        place = (before.count(b"\n") + 1, len(before) - before.rfind(b"\n"))
        return (
            None,
            marks,
            [
                marks.problem(
                    place,
                    f"not UTF-8 text: byte 0x{raw[error.start]:02x} here",
                    "save the file as UTF-8",
                )
            ],
        )
    except OSError as error:
        return (
            None,
            marks,
            [marks.problem((1, 1), f"cannot read the file: {error.strerror or error}")],
        )
    try:
        node, data = _compose(marks.text, FAST_LOADER)
    except yaml.YAMLError as error:
        node, data, slips = _read_past_slip(error, marks)
        if node is None:
            return None, marks, slips
        problems = slips
    else:
        problems = []
    if node is None or data is None:
        return (
            None,
            marks,
            [
                marks.problem(
                    (1, 1),
                    "the file is empty",
                    "a flow starts with 'flow: <name>', a study with 'study: <name>'",
                )
            ],
        )
    _walk(node, (), marks, problems)
    if not isinstance(data, dict):
        problems.append(
            marks.problem(
                marks.value(()),
                "expected a mapping of keys at the top of the file",
                "a flow starts with 'flow: <name>', a study with 'study: <name>'",
            )
        )
    return data, marks, problems


# ----------------------------------------------------------------------------- flows


def _errors(
    error: ValidationError,
    model: type[BaseModel],
    marks: Marks,
    prefix: YamlPath = (),
    skip: str = "",
) -> list[Problem]:
    errors = [e for e in error.errors() if not (skip and e["loc"][:1] == (skip,))]
    return describe_errors(errors, model, marks, prefix)


def _check_step(raw: Any, at: YamlPath, marks: Marks) -> tuple[StepBase | None, list[Problem]]:
    """Validate one step by its own type's model, with positions inside the step."""
    if not isinstance(raw, dict):
        return None, [
            marks.problem(
                marks.value(at),
                f"step {int(at[-1]) + 1} should be a mapping with id, type and text",
                "start each step with '- id: <name>' and indent its other keys under it",
            )
        ]
    kind = raw.get("type")
    name = f"step '{raw['id']}'" if isinstance(raw.get("id"), str) else f"step {int(at[-1]) + 1}"
    if kind is None:
        return None, [
            marks.problem(
                marks.value(at),
                f"{name} has no type",
                f"add 'type:' with one of: {', '.join(known_types())}",
            )
        ]
    if not isinstance(kind, str):
        return None, [
            marks.problem(
                marks.value((*at, "type")),
                f"{name}: 'type' should be a word such as choice or open",
            )
        ]
    try:
        model = step_model(kind)
    except UnknownStepType as unknown:
        return None, [
            marks.problem(
                marks.value((*at, "type")),
                f"unknown step type '{kind}'",
                type_hint(kind, unknown.known),
            )
        ]
    try:
        return model.model_validate(raw), []
    except ValidationError as error:
        return None, _errors(error, model, marks, at)


def _duplicate_ids(raw_steps: list[Any], marks: Marks) -> list[Problem]:
    problems: list[Problem] = []
    first: dict[str, int] = {}
    for index, raw in enumerate(raw_steps):
        step_id = raw.get("id") if isinstance(raw, dict) else None
        if not isinstance(step_id, str):
            continue
        if step_id in first:
            line = marks.value(("steps", str(first[step_id]), "id"))[0]
            problems.append(
                marks.problem(
                    marks.value(("steps", str(index), "id")),
                    f"two steps share the id '{step_id}' (first on line {line})",
                    "give each step its own id",
                )
            )
        else:
            first[step_id] = index
    return problems


def check_flow_data(data: dict[str, Any], marks: Marks) -> tuple[Flow | None, list[Problem]]:
    """A flow from parsed YAML, or every problem with it."""
    stray = _step_keys_at_the_left_edge(data, marks)
    problems = list(stray.values())
    data = {key: value for key, value in data.items() if key not in stray}  # not unknown to the flow too
    raw_steps = data.get("steps")
    if isinstance(raw_steps, list):
        steps: list[StepBase] = []
        for index, raw in enumerate(raw_steps):
            step, found = _check_step(raw, ("steps", str(index)), marks)
            problems += found
            if step is not None and step.id not in {s.id for s in steps}:
                steps.append(step)
        problems += _duplicate_ids(raw_steps, marks)
        data = {**data, "steps": steps or raw_steps}
    try:
        flow = Flow.model_validate(data)
    except ValidationError as error:
        problems += _errors(error, Flow, marks, skip="steps" if problems else "")
        return None, problems
    return (None if problems else flow), problems


def read_flow(path: str | Path) -> tuple[LoadedFlow | None, list[Problem]]:
    """Load a flow file, returning its problems instead of raising."""
    path = Path(path)
    data, marks, problems = read_yaml(path)
    if not isinstance(data, dict):  # (YAML slips mended: the file's other problems are found too)
        return None, problems
    if "study" in data and "flow" not in data:
        return None, problems + [
            marks.problem(
                marks.key(("study",)), "this is a study file, where a flow file was expected"
            )
        ]
    problems += inline_item_files(data, path, marks)
    flow, found = check_flow_data(data, marks)
    problems += found
    if flow is None:
        return None, problems
    return LoadedFlow(flow, str(path), version_of(data), data, marks), problems


@dataclass
class PartialFlow:
    """The parts of a flow file that are right, to check while others are wrong: each step
    that is not stands in as a message step with its id (and its ``next``, if that reads), so
    the steps keep their places and the others' ``goto`` still find it."""

    loaded: LoadedFlow
    broken: list[str]
    """The ids of the steps standing in (a made-up one for a step with no id)."""
    lines: list[tuple[int, int]]
    """The first and last line of each of them."""


def partial_flow(path: str | Path) -> PartialFlow | None:
    """A flow file whose steps have errors, as far as it can be read (None if its steps or
    its own keys cannot be): the checks of a flow can then report the well-formed steps'
    mistakes in the same run as the broken steps' errors."""
    path = Path(path)
    data, marks, _ = read_yaml(path)
    raw_steps = data.get("steps") if isinstance(data, dict) else None
    if not isinstance(data, dict) or not isinstance(raw_steps, list):
        return None
    inline_item_files(data, path, marks)
    steps: list[StepBase] = []
    broken: list[str] = []
    lines: list[tuple[int, int]] = []
    for index, raw in enumerate(raw_steps):
        step, _found = _check_step(raw, ("steps", str(index)), marks)
        if step is None:
            step = _stand_in(raw, index)
            node = marks.values[("steps", str(index))]
            broken.append(step.id)
            end = node.end_mark.line + (1 if node.end_mark.column else 0)  # (a block ends where the next begins)
            lines.append((node.start_mark.line + 1, max(end, node.start_mark.line + 1)))
        steps.append(step)
    try:
        flow = Flow.model_validate({**{k: v for k, v in data.items() if k in Flow.model_fields}, "steps": steps})
    except ValidationError:
        return None
    return PartialFlow(LoadedFlow(flow, str(path), version_of(data), data, marks), broken, lines)


def _stand_in(raw: Any, index: int) -> StepBase:
    """A message step in the place of a broken one: its id and ``next`` if they read."""
    from flows.steps.message import MessageStep

    step_id = raw.get("id") if isinstance(raw, dict) else None
    for shape in ({"id": step_id, "next": raw.get("next") if isinstance(raw, dict) else None}, {"id": step_id}):
        try:
            return MessageStep.model_validate({**shape, "type": "message"})
        except ValidationError:
            continue
    return MessageStep.model_construct(id=f"step {index + 1}", type="message")


def _read_items(path: Path) -> list[Any]:
    """Items from a YAML list (strings or ``{id, text}``) or a text file with one item a line."""
    text = path.read_text(encoding="utf-8")
    if path.suffix.lower() in (".yaml", ".yml"):
        items = yaml.safe_load(text)
        if not isinstance(items, list):
            raise ValueError("the file should be a YAML list of items")
        return items
    return [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def inline_item_files(data: dict[str, Any], path: Path, marks: Marks) -> list[Problem]:
    """Read each step's ``items_file`` (relative to the flow file) into its ``items``, so the
    flow's content, version and published copy carry the items themselves."""
    problems: list[Problem] = []
    steps = data.get("steps")
    for index, raw in enumerate(steps if isinstance(steps, list) else []):
        name = raw.get("items_file") if isinstance(raw, dict) else None
        if not isinstance(name, str) or raw.get("items"):
            continue
        where = marks.value(("steps", str(index), "items_file"))
        try:
            raw["items"] = _read_items(path.parent / name)
        except FileNotFoundError:
            problems.append(marks.problem(where, f"items_file '{name}' not found next to the flow file"))
        except (OSError, UnicodeDecodeError, ValueError, yaml.YAMLError) as error:
            problems.append(marks.problem(where, f"items_file '{name}' cannot be read: {error}".splitlines()[0]))
    return problems


def load_flow(path: str | Path, raw: dict[str, Any] | None = None) -> LoadedFlow:
    """Load a flow (or validate ``raw`` as one); raise :class:`LoadError` with every problem."""
    if raw is None:
        loaded, problems = read_flow(path)
        if loaded is None or any(p.severity == "error" for p in problems):
            raise LoadError(problems)
        return loaded
    marks = Marks(str(path))
    flow, problems = check_flow_data(raw, marks)
    if flow is None:
        raise LoadError(problems)
    return LoadedFlow(flow, str(path), version_of(raw), raw, marks)


# ----------------------------------------------------------------------------- studies


def study_flow_paths(study_path: Path, study: Study) -> list[Path]:
    folder = study_path.parent
    if study.flows:
        return [folder / name for name in study.flows]
    return sorted(p for p in folder.glob("*.y*ml") if p != study_path)


def study_file(path: Path) -> Path:
    """The study file of a study folder (or the path itself when it is a file)."""
    if path.is_dir():
        return next(
            (p for p in (path / "study.yaml", path / "study.yml") if p.exists()),
            path / "study.yaml",
        )
    return path


def read_study(path: str | Path) -> tuple[LoadedStudy | None, list[Problem], dict[str, str]]:
    """Load a study and all its flows without raising: the study (None if its own file is
    broken), every problem, and the name each flow file was meant to have (its ``flow:``
    key, else its file name), so references to a broken flow are not reported twice."""
    path = study_file(Path(path))
    data, marks, problems = read_yaml(path)
    if not isinstance(data, dict):
        return None, problems, {}
    try:
        study = Study.model_validate(data)
    except ValidationError as error:
        return None, problems + _errors(error, Study, marks), {}
    loaded = LoadedStudy(study, str(path), marks=marks)
    intended: dict[str, str] = {}
    for index, flow_path in enumerate(study_flow_paths(path, study)):
        if study.flows and not flow_path.exists():
            hint = did_you_mean(
                flow_path.name, [p.name for p in path.parent.glob("*.y*ml")], listing=False
            )
            problems.append(
                marks.problem(
                    marks.value(("flows", str(index))),
                    f"flow file '{flow_path.name}' not found next to the study file",
                    hint,
                )
            )
            continue
        flow, found = read_flow(flow_path)
        problems += found
        name = flow.flow.flow if flow else _flow_name(flow_path)
        if flow is not None and flow.marks is not None and name in intended.values():
            other = next(k for k, v in intended.items() if v == name)
            message = f"two flow files are both called '{name}' (the other is {other})"
            problems.append(
                flow.marks.problem(
                    flow.marks.value(("flow",)), message, "give each flow its own name"
                )
            )
        intended[str(flow_path)] = name
        if flow is not None:
            loaded.flows.setdefault(name, flow)
    return loaded, problems, intended


def _flow_name(path: Path) -> str:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return path.stem
    return (
        str(data["flow"])
        if isinstance(data, dict) and isinstance(data.get("flow"), str)
        else path.stem
    )


def load_study(path: str | Path) -> LoadedStudy:
    """Load a study and its flows; raise :class:`LoadError` with every problem found."""
    loaded, problems, _ = read_study(path)
    if loaded is None or any(p.severity == "error" for p in problems):
        raise LoadError(problems)
    return loaded
