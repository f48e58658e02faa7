"""The checks of one flow that the models cannot make on their own: ``next`` rules that go
nowhere, steps nobody reaches, loops with no way out, missing translations (texts written
in one language only: :mod:`flows.translation_checks`), template
names that will be blank at run time (unknown, or read before the step that gives them
is asked: :mod:`flows.template_order`), ``save_to`` outside ``participant.``, and a step that
saves a field a later condition reads (the group, say) left to be skipped after its tries.
"""

from __future__ import annotations

import difflib
import re
from collections import deque
from collections.abc import Iterable
from functools import lru_cache

from jinja2 import Environment, TemplateError, nodes
from jinja2.defaults import DEFAULT_FILTERS, DEFAULT_NAMESPACE, DEFAULT_TESTS

from flows.consent_checks import asked_before_consent
from flows.loader import LoadedFlow, Marks, Problem, YamlPath, field_path, step_path
from flows.message_checks import blank_options, message_warnings
from flows.model import Flow, StepBase, Study, Text, TimeWindow
from flows.pydantic_errors import did_you_mean, key_name
from flows.reply_checks import reachable_by_sms, unread_yes_no_words, voice_offered_on_sms
from flows.steps.choice import ChoiceStep
from flows.steps.consent import ConsentStep
from flows.steps.delphi import DelphiStep
from flows.steps.end import EndStep
from flows.steps.yesno import YesNoStep
from flows.template_names import misread_name
from flows.templating import TEMPLATE_ROOTS, syntax_error, variables
from flows.translation_checks import items_from_file, untranslated_flow_texts
from flows.unit_checks import durations_without_unit
from flows.words import OTHER_LANGUAGE_CODES, Words

EXIT = "\0end"
"""The pseudo-step a conversation reaches when it ends."""
ALLOWED_ROOTS = set(TEMPLATE_ROOTS)
JINJA_NAMES = set(DEFAULT_NAMESPACE) | {"loop", "true", "false", "none", "True", "False", "None"}
_PARSER = Environment(autoescape=False)
"""Only parses conditions, never renders them."""
SAVE_TO = re.compile(r"participant\.[A-Za-z_][A-Za-z0-9_]*")


# ----------------------------------------------------------------------------- paths


def _targets(flow: Flow, marks: Marks) -> list[Problem]:
    ids = flow.step_ids()
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        for number, rule in enumerate(step.next_rules()):
            if rule.goto not in ids:
                where = marks.value(step_path(index, "next", str(number), "goto"))
                problems.append(
                    marks.problem(
                        where,
                        f"step '{step.id}' goes to '{rule.goto}', which is not a step of this flow",
                        did_you_mean(rule.goto, ids),
                    )
                )
        if step.on_timeout and step.on_timeout not in ids:
            where = marks.value(step_path(index, "on_timeout"))
            problems.append(
                marks.problem(
                    where,
                    f"on_timeout of step '{step.id}' names '{step.on_timeout}', which is not a step of this flow",
                    did_you_mean(step.on_timeout, ids),
                )
            )
        if step.on_timeout and step.timeout is None:
            problems.append(
                marks.problem(
                    marks.key(step_path(index, "on_timeout")),
                    "on_timeout has no effect without a timeout",
                    "add e.g. 'timeout: 2d'",
                    "warning",
                )
            )
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
        if (isinstance(step, ConsentStep) and not rules) or (
            step.waits_for_input and step.on_max_tries == "end"
        ):
            targets.append(EXIT)
        graph[step.id] = [t for t in targets if t in ids or t == EXIT]
    return graph


def _delphi_ends(flow: Flow, marks: Marks) -> list[Problem]:
    """A Delphi whose bands leave the scale's lowest or highest point out: a score there
    would be in no band, and the participant is told bands that do not cover the scale."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if not isinstance(step, DelphiStep):
            continue
        scale = step.scale
        for name, (first, last), point in (("low", scale.low, scale.min), ("high", scale.high, scale.max)):
            if not first <= point <= last:
                problems.append(marks.problem(
                    marks.value(step_path(index, "scale", name)),
                    f"step '{step.id}' scores {scale.min}-{scale.max}, but its {name} band {first}-{last} "
                    f"leaves {point} in no band",
                    f"write '{name}: {point}-{last}'" if name == "low" else f"write '{name}: {first}-{point}'",
                    "warning",
                ))
    return problems


def _unused_settings(flow: Flow, marks: Marks) -> list[Problem]:
    """Settings a step is given that do nothing as it stands."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if isinstance(step, ChoiceStep) and not step.multiple:
            for name in ("min_picks", "max_picks"):
                if name in step.model_fields_set:
                    problems.append(
                        marks.problem(
                            marks.key(step_path(index, name)),
                            f"{name} has no effect without 'multiple: true': step '{step.id}' takes one option",
                            "add 'multiple: true' to let people pick several options, or remove it",
                            "warning",
                        )
                    )
    return problems


def _reach(start: Iterable[str], graph: dict[str, list[str]]) -> set[str]:
    seen, queue = set(start), deque(start)
    while queue:
        for target in graph.get(queue.popleft(), []):
            if target not in seen:
                seen.add(target)
                queue.append(target)
    return seen


def _known_edges(flow: Flow) -> dict[str, list[str]]:
    """:func:`edges`, where a step whose ``next`` or ``on_timeout`` names no step (already
    reported by :func:`_targets`) may lead anywhere: the step it was meant to name is not
    known, so neither are the loops and unreached steps the missing edge would make."""
    ids = flow.step_ids()
    graph = edges(flow)
    for step in flow.steps:
        named = [rule.goto for rule in step.next_rules()] + ([step.on_timeout] if step.on_timeout else [])
        if any(target not in ids for target in named):
            graph[step.id] = [*ids, EXIT]
    return graph


def _flow_graph(flow: Flow, marks: Marks) -> list[Problem]:
    graph = _known_edges(flow)
    reached = _reach([flow.steps[0].id], graph)
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if step.id not in reached:
            problems.append(
                marks.problem(
                    marks.value(step_path(index, "id")),
                    f"step '{step.id}' can never be reached",
                    _unreached_hint(flow, index),
                )
            )
    backwards: dict[str, list[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            backwards.setdefault(target, []).append(source)
    finishing = _reach([EXIT], backwards)
    trapped = [s for s in flow.steps if s.id in reached and s.id not in finishing]
    if trapped:
        names = ", ".join(f"'{s.id}'" for s in trapped)
        place = _loop_place(flow, trapped, marks)
        problems.append(
            marks.problem(
                place,
                f"steps {names} loop with no way out: none of them leads to an end step or past the last step",
                "add a next rule that leaves the loop, or make one of its rules conditional with 'if'",
            )
        )
    return problems


def _unreached_hint(flow: Flow, index: int) -> str:
    if index > 0:
        before = flow.steps[index - 1]
        if isinstance(before, EndStep):
            return f"'{before.id}' before it is an end step; point a next rule at '{flow.steps[index].id}' or remove it"
        if any(rule.when is None for rule in before.next_rules()):
            return f"'{before.id}' before it always jumps elsewhere; point a next rule at '{flow.steps[index].id}' or remove it"
    return f"no step leads here; point a next rule at '{flow.steps[index].id}' or remove it"


def _loop_place(flow: Flow, trapped: list[StepBase], marks: Marks) -> tuple[int, int]:
    """The ``goto`` that jumps back into the loop, else the first trapped step."""
    order = {step.id: i for i, step in enumerate(flow.steps)}
    names = {s.id for s in trapped}
    for step in reversed(trapped):
        index = order[step.id]
        rules = list(enumerate(step.next_rules()))
        for number, rule in reversed(rules):
            if rule.goto in names and order[rule.goto] <= index:
                return marks.value(step_path(index, "next", str(number), "goto"))
    return marks.value(step_path(order[trapped[0].id], "id"))


# ----------------------------------------------------------------------------- texts


def translation_problems(
    text: Text, path: YamlPath, languages: list[str], marks: Marks, what: str
) -> list[Problem]:
    if not isinstance(text, dict) or not languages:
        return []
    problems = [
        marks.problem(
            marks.value(path),
            f"{what} has no '{code}' translation",
            f"add '{code}: ...'; the languages are {', '.join(languages)}",
        )
        for code in languages
        if code not in text
    ]
    problems += [
        marks.problem(
            marks.value((*path, code)),
            f"{what} is empty in '{code}'",
            "write the text, or leave this language out to use the study's default language",
        )
        for code, value in text.items()
        if code in languages and not str(value).strip()
    ]
    for code in text:
        if code not in languages:
            listed_as = [name for name in languages if OTHER_LANGUAGE_CODES.get(name.lower()) == code]
            hint = (
                f"the study lists it as '{listed_as[0]}': write '{code}' in the study's languages instead"
                if listed_as
                else did_you_mean(code, languages, listing=False)
                or f"add '{code}' to the study's languages, or remove this text"
            )
            problems.append(
                marks.problem(
                    marks.key((*path, code)),
                    f"'{code}' is not one of the languages ({', '.join(languages)})",
                    hint,
                    "warning",
                )
            )
    return problems


def template_problems(
    source: str, path: YamlPath, marks: Marks, ids: list[str], expression: bool = False
) -> list[Problem]:
    """Jinja syntax errors and names a template reads that will not exist at run time."""
    error = _syntax_error(source, expression)
    if error:
        return [_syntax_problem(source, path, marks, error, expression)]
    problems: list[Problem] = []
    for name in sorted(_variables(source, expression)):
        root, _, rest = name.partition(".")
        if root in JINJA_NAMES:
            continue
        if root not in ALLOWED_ROOTS:
            if not rest:  # a bare name is undeclared; a dotted one may read a loop variable
                problems.append(
                    marks.problem(
                        marks.find(path, root),
                        f"unknown name '{root}' in a template",
                        did_you_mean(root, ALLOWED_ROOTS),
                    )
                )
            continue
        misread = misread_name(name, ids)
        if misread is not None:
            problems.append(marks.problem(marks.find(path, name), *misread))
            continue
        if root in ("answers", "values") and rest and rest not in ids:
            problems.append(
                marks.problem(
                    marks.find(path, name) if name in source else marks.find(path, rest),
                    f"'{name}' names no step of this flow",
                    did_you_mean(rest, ids),
                )
            )
    return problems


def _syntax_problem(source: str, path: YamlPath, marks: Marks, error: str, expression: bool) -> Problem:
    """A template or condition Jinja cannot read: a misspelt filter (``| lowr``) is named,
    with the filter it may have meant."""
    kind = "condition" if expression else "template"
    unknown = re.match(r"No (filter|test) named '([^']*)'", error)
    if unknown:
        known = DEFAULT_FILTERS if unknown[1] == "filter" else DEFAULT_TESTS
        return marks.problem(
            marks.find(path, unknown[2]),
            f"{kind}: there is no {unknown[1]} called '{unknown[2]}'",
            did_you_mean(unknown[2], known),
        )
    return marks.problem(
        marks.find(path, "{{" if not expression else source[:10]),
        f"{kind} syntax: {error}",
        'templates look like {{ participant.name }}; conditions like answer == "yes"',
    )


def possible_answers(step: StepBase) -> list[str] | None:
    """The values ``answer`` can take after this step, when they are a known few."""
    if isinstance(step, ChoiceStep):
        return [option.value for option in step.options]
    if isinstance(step, YesNoStep):
        return ["yes", "no"]
    return None


def _answer_values(step: StepBase, condition: str, path: YamlPath, marks: Marks) -> list[Problem]:
    """A condition comparing ``answer`` with a value the step never gives is never true."""
    values = possible_answers(step)
    if values is None:
        return []
    problems: list[Problem] = []
    for literal in _compared_literals(condition, True, "answer"):
        if literal not in values:
            problems.append(
                marks.problem(
                    _find_literal(marks, path, literal),
                    f"step '{step.id}' never answers '{literal}', so this condition is never true",
                    did_you_mean(literal, values),
                )
            )
    return problems


def _group_values(
    source: str, path: YamlPath, marks: Marks, groups: list[str], expression: bool
) -> list[Problem]:
    """A condition or template comparing ``participant.group`` with a group the study does
    not have: ``== "patients"`` is never true, ``!= "patients"`` always."""
    if not groups:
        return []
    return [
        marks.problem(
            _find_literal(marks, path, literal),
            f"participant.group is compared with '{literal}', which is not one of the study's "
            f"groups ({', '.join(groups)})",
            did_you_mean(literal, groups, listing=False)
            or f"compare with one of the groups, or add '{literal}' to the study's groups",
            "warning",
        )
        for literal in _compared_literals(source, expression, "participant.group")
        if literal not in groups
    ]


def _find_literal(marks: Marks, path: YamlPath, literal: str) -> tuple[int, int]:
    """Where a string literal of a condition is written, its quotes first."""
    for needle in (f'"{literal}"', f"'{literal}'"):
        found = marks.find(path, needle)
        if found != marks.value(path):
            return found[0], found[1] + 1
    return marks.find(path, literal)


def _is_subject(node: nodes.Node, subject: str) -> bool:
    """Whether ``node`` reads ``answer`` or ``participant.group`` (or ``participant["group"]``)."""
    root, _, attribute = subject.partition(".")
    if not attribute:
        return isinstance(node, nodes.Name) and node.name == root
    if isinstance(node, nodes.Getattr):
        named = node.attr
    elif isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        named = node.arg.value
    else:
        return False
    return named == attribute and isinstance(node.node, nodes.Name) and node.node.name == root


def _strings(node: nodes.Node, listed: bool) -> list[str]:
    if isinstance(node, nodes.Const) and isinstance(node.value, str) and not listed:
        return [node.value]
    if isinstance(node, nodes.List | nodes.Tuple) and listed:
        return [i.value for i in node.items if isinstance(i, nodes.Const) and isinstance(i.value, str)]
    return []


@lru_cache(maxsize=4096)
def _compared_literals(source: str, expression: bool, subject: str) -> tuple[str, ...]:
    """Strings ``subject`` is compared with: ``answer == "staff"``, ``answer != 'x'``,
    ``answer in ["a", "b"]`` and, for ``answer`` (a list when several are picked),
    ``"day" in answer``; ``participant.group`` is text, so there ``in`` is a substring."""
    try:
        tree = _PARSER.parse("{{ " + source + " }}" if expression else source)
    except TemplateError:
        return ()
    found: list[str] = []
    for compare in tree.find_all(nodes.Compare):
        left = compare.expr
        for operand in compare.ops:
            right = operand.expr
            if operand.op in ("eq", "ne"):
                if _is_subject(left, subject):
                    found += _strings(right, False)
                elif _is_subject(right, subject):
                    found += _strings(left, False)
            elif operand.op in ("in", "notin"):
                if _is_subject(left, subject):
                    found += _strings(right, True)
                elif _is_subject(right, subject) and subject == "answer":
                    found += _strings(left, False)
            left = right
    return tuple(dict.fromkeys(found))


@lru_cache(maxsize=4096)
def _syntax_error(source: str, expression: bool) -> str | None:
    return syntax_error(source, expression)


@lru_cache(maxsize=4096)
def _variables(source: str, expression: bool) -> frozenset[str]:
    return frozenset(variables(source, expression))


def _variants(text: Text, path: YamlPath) -> list[tuple[str, YamlPath]]:
    if isinstance(text, str):
        return [(text, path)]
    return [(value, (*path, code)) for code, value in text.items()]


def _step_texts(
    flow: Flow, marks: Marks, languages: list[str], groups: list[str]
) -> list[Problem]:
    ids = flow.step_ids()
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        file_items = items_from_file(step, index, marks)  # their translations: flows.translation_checks
        for name, text in step.texts():
            path = step_path(index, *field_path(name))
            if not (file_items and name.startswith("items[")):
                problems += translation_problems(
                    text, path, languages, marks, f"'{name}' of step '{step.id}'"
                )
            for source, where in _variants(text, path):
                found = template_problems(source, where, marks, ids)
                problems += found or _group_values(source, where, marks, groups, False)
        for number, rule in enumerate(step.next_rules()):
            if rule.when is not None:
                where = step_path(index, "next", str(number), "if")
                found = template_problems(rule.when, where, marks, ids, expression=True)
                problems += found or (
                    _answer_values(step, rule.when, where, marks)
                    + _group_values(rule.when, where, marks, groups, True)
                )
        if step.save_to is not None and not SAVE_TO.fullmatch(step.save_to):
            field = step.save_to.split(".")[-1] or "group"
            hint = (
                f"write 'save_to: participant.{field}'"
                if re.fullmatch(r"[A-Za-z_]\w*", field)
                else "write e.g. 'save_to: participant.group'"
            )
            problems.append(
                marks.problem(
                    marks.value(step_path(index, "save_to")),
                    f"save_to must be participant.<name>, not '{step.save_to}'",
                    hint,
                )
            )
    if flow.title is not None:
        problems += translation_problems(
            flow.title, ("title",), languages, marks, "the flow's title"
        )
    return problems


# ----------------------------------------------------------------------------- fields and durations


WINDOW_FIELDS = ("participant.contact_hours",)
"""Participant fields the clock reads as a daily window ('08:00-18:00')."""


def _window_fields(flow: Flow, marks: Marks) -> list[Problem]:
    """A step saving to ``contact_hours`` must give a window the clock can read: a choice whose
    values are windows. Free text ('8am to 6pm') would be stored and then ignored."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if getattr(step, "save_to", None) not in WINDOW_FIELDS:
            continue
        if not isinstance(step, ChoiceStep) or step.multiple:
            problems.append(marks.problem(
                marks.value(step_path(index, "save_to")),
                f"step '{step.id}' saves to {step.save_to}, which the clock reads as a window like 08:00-18:00; "
                f"its {step.type} answer cannot be read so and would be ignored",
                "use a choice whose option values are windows, e.g. value: \"08:00-18:00\", label: 8am to 6pm",
            ))
            continue
        for number, option in enumerate(step.options):
            try:
                TimeWindow.parse(option.value)
            except ValueError as error:
                problems.append(marks.problem(
                    marks.value(step_path(index, "options", str(number), "value")),
                    f"step '{step.id}' saves to {step.save_to}, but the option value '{option.value}' is not a window: {error}",
                    "write the value like \"08:00-18:00\" and put the words in its label",
                ))
    return problems


BUILT_IN_FIELDS = ("group", "language", "name", "contact_hours", "timezone")
"""Participant fields Chorus itself reads: a field saved under a name close to one of them
is almost always a slip, and Chorus never sees the answer where it looks."""


def _near_built_in_fields(flow: Flow, marks: Marks, groups: list[str]) -> list[Problem]:
    """``save_to: participant.grp``: a field named nearly as a built-in one, or a choice
    whose options are the study's group ids saved anywhere but ``participant.group``."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        field = (step.save_to or "").partition("participant.")[2]
        if not field or field in BUILT_IN_FIELDS:
            continue
        values = [option.value for option in step.options] if isinstance(step, ChoiceStep) else []
        grouping = bool(groups) and bool(values) and set(values) <= set(groups)
        close = [name for name in BUILT_IN_FIELDS if name == field.lower()]
        close = close or difflib.get_close_matches(field.lower(), BUILT_IN_FIELDS, n=1, cutoff=0.75)
        if grouping:
            close = ["group"]
        if not close:
            continue
        said = (
            f"step '{step.id}' saves to participant.{field}, but its options are the study's group ids: "
            "only participant.group puts a participant in a group"
            if grouping
            else f"step '{step.id}' saves to participant.{field}, close to participant.{close[0]}, which Chorus "
            f"itself reads; participant.{field} is kept only as a field of its own"
        )
        problems.append(marks.problem(
            marks.value(step_path(index, "save_to")), said, f"did you mean 'save_to: participant.{close[0]}'?", "warning"
        ))
    return problems


def _skipped_deciders(flow: Flow, marks: Marks) -> list[Problem]:
    """A step that saves a participant field (the group, say) that a condition of a step after
    it reads, left to the default ``on_max_tries: skip``: after ``max_tries`` unclear replies (a
    story typed at "Are you a mother or a midwife?" uses them up) it is left with "Let's leave
    that one and move on", the field is never set, and whatever is worded or routed by it takes
    the branch for no answer. ``flag`` tells the team, who can set it; an ``on_max_tries``
    written out is taken as meant. Only this flow's conditions are known here."""
    read, graph = _fields_in_conditions(flow), edges(flow)
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        field = step.save_to or ""
        if not field or not step.waits_for_input or isinstance(step, ConsentStep) or "on_max_tries" in step.model_fields_set:
            continue
        after = _reach(graph.get(step.id, []), graph)
        readers = [reader for reader in read.get(field, []) if reader in after]
        if not readers:
            continue
        problems.append(marks.problem(
            marks.value(step_path(index, "save_to")),
            f"step '{step.id}' saves {field}, but after {step.max_tries} unclear replies (a story typed instead of "
            f"an option uses them up) it is skipped, as on_max_tries is 'skip' by default: {field} is never set, "
            f"and the conditions that read it later (step {', '.join(repr(r) for r in readers[:3])}) take the "
            "branch for no answer",
            "add 'on_max_tries: flag': the team is told, and can set it with chorus participant set; "
            "or write 'on_max_tries: skip' if going on without it is meant",
            "warning",
        ))
    return problems


def _fields_in_conditions(flow: Flow) -> dict[str, list[str]]:
    """The participant fields each step reads in a condition (a ``next`` rule's ``if``, or an
    ``{% if %}`` or ``... if ... else ...`` in one of its texts): field to step ids."""
    found: dict[str, list[str]] = {}
    for step in flow.steps:
        names: set[str] = set()
        for rule in step.next_rules():
            names |= _variables(rule.when, True) if rule.when is not None else set()
        for _, text in step.texts():
            for source, _ in _variants(text, ()):
                names |= _tested_names(source)
        for name in sorted(n for n in names if n.startswith("participant.")):
            found.setdefault(name, []).append(step.id)
    return found


@lru_cache(maxsize=4096)
def _tested_names(source: str) -> frozenset[str]:
    """``participant.<field>`` names a text's ``{% if %}`` tests and inline ``if``s read."""
    if "participant" not in source or "if" not in source:
        return frozenset()
    try:
        tree = _PARSER.parse(source)
    except TemplateError:
        return frozenset()
    names: set[str] = set()
    tests = [branch.test for branch in tree.find_all(nodes.If)] + [inline.test for inline in tree.find_all(nodes.CondExpr)]
    for test in tests:
        for part in [test, *test.find_all((nodes.Getattr, nodes.Getitem))]:
            if isinstance(part, nodes.Getattr) and isinstance(part.node, nodes.Name) and part.node.name == "participant":
                names.add(f"participant.{part.attr}")
            elif (isinstance(part, nodes.Getitem) and isinstance(part.node, nodes.Name) and part.node.name == "participant"
                  and isinstance(part.arg, nodes.Const)):
                names.add(f"participant.{part.arg.value}")
    return frozenset(names)


DURATION_KEYS = frozenset({"after", "every", "grace", "reminders", "closes", "timeout", "retention", "until"})
"""Keys whose values are durations (under ``reminders`` and ``retention``, their items are)."""


def bare_durations(marks: Marks) -> list[Problem]:
    """A duration given as a bare number (``after: 24``): seconds, as the schema says, but
    almost never what was meant. A warning, not an error: studies published with one still load."""
    problems = []
    for path, node in marks.values.items():
        named = [part for part in path if not part.isdigit()]
        duration = bool(named) and (named[-1] in DURATION_KEYS or (len(named) > 1 and named[-2] == "retention"))
        if not duration or not getattr(node, "tag", "").endswith((":int", ":float")):
            continue
        number = str(node.value)
        problems.append(marks.problem(
            marks.value(path),
            f"{key_name(path, within_step=False)}: {number} has no unit, so it is read as {number} seconds",
            f"write '{number}h' for {number} hours or '{number}d' for {number} days ('{number}s' if seconds are meant)",
            "warning",
        ))
    return problems


def check_flow(
    loaded: LoadedFlow,
    languages: list[str] | None = None,
    study: Study | None = None,
    saved_elsewhere: set[str] | None = None,
) -> list[Problem]:
    """Every semantic problem and warning of one loaded flow (``saved_elsewhere``: the
    participant fields the study's other flows save)."""
    from flows.choice_experiment_checks import level_labels, several_costs
    from flows.exclusive_checks import exclusive_options
    from flows.template_names import units_said_twice, unsaved_fields
    from flows.template_order import read_before_asked, saved_fields  # it builds on edges() above

    flow, marks = loaded.flow, loaded.marks or Marks(loaded.path)
    codes = list(languages if languages is not None else (flow.languages or []))
    groups = study.group_ids() if study is not None else []
    problems = _targets(flow, marks) + _flow_graph(flow, marks) + _unused_settings(flow, marks) + bare_durations(marks)
    problems += _delphi_ends(flow, marks) + asked_before_consent(flow, marks, edges(flow))
    problems += _window_fields(flow, marks) + blank_options(loaded, marks, codes) + _near_built_in_fields(flow, marks, groups)
    problems += _skipped_deciders(flow, marks) + durations_without_unit(flow, marks)
    problems += _step_texts(flow, marks, codes, groups) + untranslated_flow_texts(loaded, marks, codes)
    problems += read_before_asked(flow, marks, saved_elsewhere or set()) + voice_offered_on_sms(flow, marks, study)
    problems += units_said_twice(flow, marks) + level_labels(flow, marks) + several_costs(flow, marks)
    problems += exclusive_options(flow, marks)
    if study is not None and saved_elsewhere is not None:  # (a flow alone: other flows may save the field)
        problems += unsaved_fields(flow, marks, saved_elsewhere | saved_fields(flow))
    words, used = Words(study), codes or _languages_used(flow)
    sms = study is None or reachable_by_sms(study)  # (a flow alone: any channel may send it)
    return problems + message_warnings(flow, marks, used, words, sms) + unread_yes_no_words(flow, marks, used, words)


def _languages_used(flow: Flow) -> list[str]:
    """The language codes a flow's texts are written in, in order of first use; ['en'] if
    none is named. For warnings about a flow checked on its own, without a study."""
    found: dict[str, None] = {}
    for step in flow.steps:
        for _, text in step.texts():
            if isinstance(text, dict):
                found.update(dict.fromkeys(text))
    return list(found) or ["en"]
