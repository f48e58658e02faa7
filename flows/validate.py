"""``chorus validate``: everything the models cannot see on their own.

The loader already reports what is malformed (syntax, unknown keys, wrong types); this
module checks what is well-formed but wrong: ``next`` rules that go nowhere, steps
nobody reaches, loops with no way out, missing translations, template names that will
be blank at run time, studies naming flows or groups that do not exist. Warnings about
how a message will look (SMS segments, buttons, reading level) live in
:mod:`flows.message_checks`.
"""

from __future__ import annotations

import re
from collections import deque
from collections.abc import Iterable
from pathlib import Path

from jinja2.defaults import DEFAULT_NAMESPACE

from flows.loader import (
    LoadedFlow,
    LoadedStudy,
    Marks,
    Problem,
    YamlPath,
    field_path,
    read_flow,
    read_study,
    read_yaml,
    step_path,
    study_file,
)
from flows.message_checks import message_warnings
from flows.model import Flow, Study, Text
from flows.pydantic_errors import did_you_mean
from flows.steps.consent import ConsentStep
from flows.steps.end import EndStep
from flows.templating import TEMPLATE_ROOTS, syntax_error, variables
from flows.words import Words

EXIT = "\0end"
"""The pseudo-step a conversation reaches when it ends."""
ALLOWED_ROOTS = set(TEMPLATE_ROOTS)
JINJA_NAMES = set(DEFAULT_NAMESPACE) | {"loop", "true", "false", "none", "True", "False", "None"}
SAVE_TO = re.compile(r"participant\.[A-Za-z_][A-Za-z0-9_]*")


# ----------------------------------------------------------------------------- paths


def _targets(flow: Flow, marks: Marks) -> list[Problem]:
    ids = flow.step_ids()
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        for number, rule in enumerate(step.next_rules()):
            if rule.goto not in ids:
                where = marks.value(step_path(index, "next", str(number), "goto"))
                problems.append(marks.problem(where, f"step '{step.id}' goes to '{rule.goto}', which is not a step of this flow", did_you_mean(rule.goto, ids)))
        if step.on_timeout and step.on_timeout not in ids:
            where = marks.value(step_path(index, "on_timeout"))
            problems.append(marks.problem(where, f"on_timeout of step '{step.id}' names '{step.on_timeout}', which is not a step of this flow", did_you_mean(step.on_timeout, ids)))
        if step.on_timeout and step.timeout is None:
            problems.append(marks.problem(marks.key(step_path(index, "on_timeout")), "on_timeout has no effect without a timeout", "add e.g. 'timeout: 2d'", "warning"))
    return problems


def edges(flow: Flow) -> dict[str, list[str]]:
    """Where each step may lead; :data:`EXIT` for the end of the conversation. A rule
    without ``if`` always applies, so the rules after it and the fall-through never do."""
    ids = flow.step_ids()
    graph: dict[str, list[str]] = {}
    for index, step in enumerate(flow.steps):
        if isinstance(step, EndStep):
            graph[step.id] = [EXIT]
            continue
        rules = step.next_rules()
        targets: list[str] = []
        for rule in rules:
            targets.append(rule.goto)
            if rule.when is None:
                break
        else:
            targets.append(ids[index + 1] if index + 1 < len(ids) else EXIT)
        if step.on_timeout and step.timeout is not None:
            targets.append(step.on_timeout)
        if (isinstance(step, ConsentStep) and not rules) or (step.waits_for_input and step.on_max_tries == "end"):
            targets.append(EXIT)
        graph[step.id] = [t for t in targets if t in ids or t == EXIT]
    return graph


def _reach(start: Iterable[str], graph: dict[str, list[str]]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for target in graph.get(queue.popleft(), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _flow_graph(flow: Flow, marks: Marks) -> list[Problem]:
    graph = edges(flow)
    reached = _reach([flow.steps[0].id], graph)
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if step.id not in reached:
            problems.append(marks.problem(marks.value(step_path(index, "id")), f"step '{step.id}' can never be reached", _unreached_hint(flow, index)))
    backwards: dict[str, list[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            backwards.setdefault(target, []).append(source)
    finishing = _reach([EXIT], backwards)
    trapped = [s for s in flow.steps if s.id in reached and s.id not in finishing]
    if trapped:
        names = ", ".join(f"'{s.id}'" for s in trapped)
        place = _loop_place(flow, trapped, graph, marks)
        problems.append(marks.problem(place, f"steps {names} loop with no way out: none of them leads to an end step or past the last step", "add a next rule that leaves the loop, or make one of its rules conditional with 'if'"))
    return problems


def _unreached_hint(flow: Flow, index: int) -> str:
    if index > 0:
        before = flow.steps[index - 1]
        if isinstance(before, EndStep):
            return f"'{before.id}' before it is an end step; point a next rule at '{flow.steps[index].id}' or remove it"
        if any(rule.when is None for rule in before.next_rules()):
            return f"'{before.id}' before it always jumps elsewhere; point a next rule at '{flow.steps[index].id}' or remove it"
    return f"no step leads here; point a next rule at '{flow.steps[index].id}' or remove it"


def _loop_place(flow: Flow, trapped: list, graph: dict[str, list[str]], marks: Marks) -> tuple[int, int]:
    """The ``next`` that jumps back into the loop, else the first trapped step."""
    order = {step.id: i for i, step in enumerate(flow.steps)}
    names = {s.id for s in trapped}
    for step in reversed(trapped):
        if any(t in names and order[t] <= order[step.id] for t in graph[step.id]):
            return marks.value(step_path(order[step.id], "next"))
    return marks.value(step_path(order[trapped[0].id], "id"))


# ----------------------------------------------------------------------------- texts


def translation_problems(text: Text, path: YamlPath, languages: list[str], marks: Marks, what: str) -> list[Problem]:
    if not isinstance(text, dict) or not languages:
        return []
    problems = [
        marks.problem(marks.value(path), f"{what} has no '{code}' translation", f"add '{code}: ...'; the languages are {', '.join(languages)}")
        for code in languages
        if code not in text
    ]
    for code in text:
        if code not in languages:
            hint = did_you_mean(code, languages)
            problems.append(marks.problem(marks.key((*path, code)), f"'{code}' is not one of the languages ({', '.join(languages)})", hint, "warning"))
    return problems


def template_problems(source: str, path: YamlPath, marks: Marks, ids: list[str], expression: bool = False) -> list[Problem]:
    """Jinja syntax errors and names a template reads that will not exist at run time."""
    error = syntax_error(source, expression)
    if error:
        kind = "condition" if expression else "template"
        return [marks.problem(marks.find(path, "{{" if not expression else source[:10]), f"{kind} syntax: {error}", "templates look like {{ participant.name }}; conditions like answer == \"yes\"")]
    problems: list[Problem] = []
    for name in sorted(variables(source, expression)):
        root, _, rest = name.partition(".")
        if root in JINJA_NAMES:
            continue
        if root not in ALLOWED_ROOTS:
            if not rest or f"{root}." not in source:
                problems.append(marks.problem(marks.find(path, root), f"unknown name '{root}' in a template", did_you_mean(root, ALLOWED_ROOTS)))
            continue
        if root in ("answers", "values") and rest and rest not in ids:
            problems.append(marks.problem(marks.find(path, name) if name in source else marks.find(path, rest), f"'{name}' names no step of this flow", did_you_mean(rest, ids)))
    return problems


def _variants(text: Text, path: YamlPath) -> list[tuple[str, YamlPath]]:
    if isinstance(text, str):
        return [(text, path)]
    return [(value, (*path, code)) for code, value in text.items()]


def _step_texts(flow: Flow, marks: Marks, languages: list[str]) -> list[Problem]:
    ids = flow.step_ids()
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        for name, text in step.texts():
            path = step_path(index, *field_path(name))
            problems += translation_problems(text, path, languages, marks, f"'{name}' of step '{step.id}'")
            for source, where in _variants(text, path):
                problems += template_problems(source, where, marks, ids)
        for number, rule in enumerate(step.next_rules()):
            if rule.when is not None:
                problems += template_problems(rule.when, step_path(index, "next", str(number), "if"), marks, ids, expression=True)
        if step.save_to is not None and not SAVE_TO.fullmatch(step.save_to):
            field = step.save_to.split(".")[-1] or "group"
            hint = f"write 'save_to: participant.{field}'" if re.fullmatch(r"[A-Za-z_]\w*", field) else "write e.g. 'save_to: participant.group'"
            problems.append(marks.problem(marks.value(step_path(index, "save_to")), f"save_to must be participant.<name>, not '{step.save_to}'", hint))
    if flow.title is not None:
        problems += translation_problems(flow.title, ("title",), languages, marks, "the flow's title")
    return problems


def check_flow(loaded: LoadedFlow, languages: list[str] | None = None, study: Study | None = None) -> list[Problem]:
    """Every semantic problem and warning of one loaded flow."""
    flow, marks = loaded.flow, loaded.marks or Marks(loaded.path)
    codes = list(languages if languages is not None else (flow.languages or []))
    problems = _targets(flow, marks) + _flow_graph(flow, marks) + _step_texts(flow, marks, codes)
    words = Words(study)
    default = codes[0] if codes else "en"
    return problems + message_warnings(flow, marks, codes or [default], words)


# ----------------------------------------------------------------------------- studies


def _names(study: Study, known: set[str], marks: Marks) -> list[Problem]:
    problems: list[Problem] = []

    def need_flow(name: str | None, path: YamlPath, what: str) -> None:
        if name is not None and name not in known:
            problems.append(marks.problem(marks.value(path), f"{what} '{name}' is not a flow of this study", did_you_mean(name, known)))

    groups = study.group_ids()

    def need_group(name: str | None, path: YamlPath) -> None:
        if name is not None and name not in groups:
            hint = did_you_mean(name, groups) if groups else f"add 'groups: [{name}]' to the study"
            problems.append(marks.problem(marks.value(path), f"group '{name}' is not one of the study's groups", hint))

    need_flow(study.join.start_flow, ("join", "start_flow"), "start_flow")
    need_group(study.join.group, ("join", "group"))
    for index, route in enumerate(study.join.routes):
        need_flow(route.flow, ("join", "routes", str(index), "flow"), "the route's flow")
        need_group(route.group, ("join", "routes", str(index), "group"))
    for index, entry in enumerate(study.schedule):
        need_flow(entry.flow, ("schedule", str(index), "flow"), "the scheduled flow")
        for number, group in enumerate(entry.groups or []):
            need_group(group, ("schedule", str(index), "groups", str(number)))
    return problems


def _ways_in(study: Study, marks: Marks) -> list[Problem]:
    """Keywords and Telegram parameters must be distinct and not clash with global words."""
    places: list[tuple[str, str | None, YamlPath]] = [("keyword", study.join.keyword, ("join", "keyword")), ("telegram", study.join.telegram, ("join", "telegram"))]
    for index, route in enumerate(study.join.routes):
        places += [("keyword", route.keyword, ("join", "routes", str(index), "keyword")), ("telegram", route.telegram, ("join", "routes", str(index), "telegram"))]
    problems: list[Problem] = []
    seen: dict[tuple[str, str], YamlPath] = {}
    words = Words(study)
    for kind, value, path in places:
        if value is None:
            continue
        key = (kind, value.strip().lower() if kind == "keyword" else value)
        if key in seen:
            line = marks.value(seen[key])[0]
            problems.append(marks.problem(marks.value(path), f"the {kind} '{value}' is used twice (first on line {line})", "each way in needs its own keyword or parameter"))
        seen.setdefault(key, path)
        if kind == "keyword" and words.command(value):
            problems.append(marks.problem(marks.value(path), f"the keyword '{value}' is also the global word {words.command(value)!r}", "choose another keyword"))
    return problems


def check_study(loaded: LoadedStudy, intended: dict[str, str]) -> list[Problem]:
    """Every semantic problem of a study file (its flows are checked by :func:`check_flow`)."""
    study, marks = loaded.study, loaded.marks or Marks(loaded.path)
    known = set(loaded.flows) | set(intended.values())
    problems = _names(study, known, marks) + _ways_in(study, marks)
    languages = study.languages
    problems += translation_problems(study.title, ("title",), languages, marks, "the study's title")
    if study.signposting is not None:
        problems += translation_problems(study.signposting, ("signposting",), languages, marks, "signposting")
    for key, text in study.texts.items():
        problems += translation_problems(text, ("texts", key), languages, marks, f"the text '{key}'")
    for index, group in enumerate(study.groups):
        if group.label is not None:
            problems += translation_problems(group.label, ("groups", str(index), "label"), languages, marks, f"the label of group '{group.id}'")
    return problems


# ----------------------------------------------------------------------------- entry point


def _check_study_path(path: Path) -> tuple[list[Problem], list[str]]:
    loaded, problems, intended = read_study(path)
    checked = [str(study_file(path).resolve())] + [str(Path(p).resolve()) for p in intended]
    if loaded is None:
        return problems, checked
    problems += check_study(loaded, intended)
    for flow in loaded.flows.values():
        problems += check_flow(flow, loaded.study.languages, loaded.study)
    return problems, checked


def _check_flow_path(path: Path) -> list[Problem]:
    loaded, problems = read_flow(path)
    return problems + (check_flow(loaded) if loaded is not None else [])


def _is_study(path: Path) -> bool:
    data, _, _ = read_yaml(path)
    return isinstance(data, dict) and "study" in data and "flow" not in data


def _files(path: Path) -> list[Path]:
    if path.is_dir():
        if (path / "study.yaml").exists() or (path / "study.yml").exists():
            return [study_file(path)]
        return sorted(p for p in path.glob("*.y*ml") if p.is_file())
    return [path]


def validate_paths(paths: Iterable[str | Path]) -> tuple[list[Problem], int]:
    """Check study files, flow files and folders of either; every problem and the number
    of files checked. Never raises: an unexpected failure becomes a problem of its file."""
    problems: list[Problem] = []
    checked: set[str] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            siblings = [p.name for p in path.parent.iterdir()] if path.parent.is_dir() else []
            problems.append(Problem(str(path), 1, 1, "no such file or folder", did_you_mean(path.name, siblings, listing=False)))
            continue
        files = _files(path)
        if not files:
            problems.append(Problem(str(path), 1, 1, "no study or flow files (*.yaml) in this folder"))
        for file in files:
            if str(file.resolve()) in checked:
                continue
            try:
                if _is_study(file):
                    found, covered = _check_study_path(file)
                    checked.update(covered)
                else:
                    found = _check_flow_path(file)
                    checked.add(str(file.resolve()))
            except Exception as error:  # never a traceback for a coordinator
                found = [Problem(str(file), 1, 1, f"internal error while checking this file: {type(error).__name__}: {error}", "this is a bug in chorus; please report it")]
            problems += found
    return _ordered(problems), len(checked)


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Distinct problems, files in the order met, each file's problems by position."""
    files = list(dict.fromkeys(p.file for p in problems))
    unique = list(dict.fromkeys(problems))
    return sorted(unique, key=lambda p: (files.index(p.file), p.line, p.column))
