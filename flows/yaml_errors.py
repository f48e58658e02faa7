"""YAML mistakes explained in plain words, where they are: a comma or bracket out of place,
a key or list item indented too little or too much, and a step's key written at the left
edge, which YAML reads as a key of the flow.

PyYAML says what it expected ("expected ',' or ']', but got '<scalar>'"); a coordinator
needs to know what to change. :func:`_syntax_problem` turns a parser error into a
:class:`~flows.loader.Problem` with such an explanation when it recognises the mistake,
else with the parser's own words.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import yaml

from flows.model import Flow
from flows.steps import known_types, step_model

if TYPE_CHECKING:
    from flows.loader import Marks, Problem


def _position(mark: Any) -> tuple[int, int]:
    """Line and column (1-based) of a PyYAML mark; the file's start if there is none."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


Explanation = tuple[tuple[int, int], str, str]
"""Where a YAML mistake is, what it is and how to fix it, in plain words."""


def _syntax_problem(error: yaml.MarkedYAMLError, marks: Marks) -> Problem:
    """The parser's complaint, explained where it is one a coordinator often meets (a comma
    or bracket out of place, a key indented too little); else as the parser puts it."""
    explained = _explain_brackets(error, marks.text) or _explain_indentation(error, marks.text)
    if explained is not None:
        place, message, hint = explained
        return marks.problem(place, f"YAML syntax: {message}", hint)
    mark = error.problem_mark or error.context_mark
    reason = error.problem or error.context or "unreadable YAML"
    return marks.problem(_position(mark), f"YAML syntax: {reason}", _yaml_hint(reason))


def _yaml_hint(reason: str) -> str:
    if "\\t" in reason or "tab" in reason:
        return "indent with spaces, not tabs"
    if "mapping values are not allowed" in reason:
        return "a text containing ': ' must be in quotes; otherwise check the indentation"
    if "expected <block end>" in reason or "expected <document start>" in reason:
        return "check the indentation of this line against the lines above"
    if "found character '%'" in reason or "cannot start any token" in reason:
        return "put the text in quotes"
    return ""


# ----------------------------------------------------------------------------- commas and brackets

BRACKETS = {"[": "]", "{": "}"}
BRACKETED = {"[": "list in [ ]", "{": "map in { }"}


def _explain_brackets(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
    """A comma missing or doubled, or a bracket not closed, in ``[a, b]`` or ``{a: 1, b: 2}``."""
    problem, mark, opened = error.problem or "", error.problem_mark, error.context_mark
    if mark is None:
        return None
    if problem == "expected the node content, but found ','":
        return _stray_comma(mark.index, text)
    unclosed = re.fullmatch(r"expected ',' or '[\]}]', but got '(.+)'", problem)
    if unclosed and opened is not None and text[opened.index : opened.index + 1] in BRACKETS:
        return _inside_brackets(opened.index, mark.index, unclosed[1], text)
    extra = re.fullmatch(r"expected <block end>, but found '([\]},])'", problem)
    if extra:
        return _after_the_value(mark.index, extra[1], text)
    return None


def _place(text: str, index: int) -> tuple[int, int]:
    """Line and column (1-based) of a character of ``text``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _stray_comma(index: int, text: str) -> Explanation:
    before = text[:index].rstrip()[-1:]
    if before in BRACKETS:
        what = f"a comma straight after '{before}' leaves the first item empty"
    else:
        what = "two commas in a row leave an empty item between them"
    return _place(text, index), what, "remove this comma"


def _inside_brackets(opened: int, index: int, got: str, text: str) -> Explanation:
    """The parser expected a comma or the closing bracket of the collection opened at
    ``opened``, and met ``got`` at ``index``."""
    bracket = text[opened]
    closing, kind = BRACKETS[bracket], BRACKETED[bracket]
    where = _place(text, opened)
    if got in ("]", "}") and got != closing:
        return (
            _place(text, index),
            f"the '{bracket}' on line {where[0]} is closed with '{got}'",
            f"close a {kind} with '{closing}'",
        )
    if got == "<stream end>" or _place(text, index)[0] != where[0]:
        return (
            where,
            f"this '{bracket}' is never closed with '{closing}'",
            f"add '{closing}' where the {kind.split()[0]} ends; if it goes on over several lines, end each line but the last with a comma",
        )
    if got == ":":
        return _colon_inside(opened, index, text)
    return (
        _place(text, index),
        f"a comma is missing before this item of the {kind} that starts on line {where[0]}",
        "separate the items with commas, e.g. [Yes, No] or {en: Hello, cy: Helo}",
    )


def _colon_inside(opened: int, index: int, text: str) -> Explanation:
    """``{a: Yes b: No}`` (a comma missing before 'b') or ``{en: Note: ...}`` (a text with
    ': ' in it, which must be quoted)."""
    start = max(text.rfind(separator, opened, index) for separator in ",[{") + 1
    entry = text[start:index]
    words = entry.rpartition(": ")[2].split()
    if ": " in entry and len(words) >= 2:
        key = words[-1]
        return (
            _place(text, text.rindex(key, start, index)),
            f"a comma is missing before '{key}'",
            f"separate the items with commas: ..., {key}: ...",
        )
    return (
        _place(text, index),
        "a text with ': ' in it, inside [ ] or { }, must be in quotes",
        'put the text in quotes, e.g. {en: "Note: we ask a few questions"}',
    )


def _after_the_value(index: int, found: str, text: str) -> Explanation:
    if found == ",":
        return (
            _place(text, index),
            "a comma after the value has ended",
            "remove it; to give several items, put them all inside [ ], e.g. [Yes, No]",
        )
    opening = "[" if found == "]" else "{"
    return (
        _place(text, index),
        f"this '{found}' closes nothing: there is no '{opening}' open before it",
        f"remove it, or add the '{opening}' it belongs to",
    )


# ----------------------------------------------------------------------------- indentation

_OUTLINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?:(?P<key>[^\s#'\"{\[][^:#]*?)\s*:(?:\s+(?P<value>.*))?$)?")


@dataclass(frozen=True)
class _Line:
    """A line of YAML as its indentation sees it."""

    number: int
    indent: int
    item: bool
    inner: int
    key: str | None
    value: str


def _outline(number: int, line: str) -> _Line | None:
    """None for a blank line or a comment."""
    if not line.strip() or line.lstrip().startswith("#"):
        return None
    match = _OUTLINE.match(line)
    assert match is not None  # every group is optional
    indent = len(match["indent"])
    inner = indent + len(match["dash"] or "")
    return _Line(number, indent, bool(match["dash"]), inner, match["key"], (match["value"] or "").strip())


def _enclosing(lines: list[str], before: int) -> list[_Line]:
    """The lines that hold line ``before`` (1-based), nearest first: the line just above,
    then each one above it that is less indented than the last."""
    chain: list[_Line] = []
    for number in range(before - 1, 0, -1):
        line = _outline(number, lines[number - 1])
        if line is not None and (not chain or line.indent < chain[-1].indent):
            chain.append(line)
    return chain


def _explain_indentation(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
    """A key (or a list item) indented less, or more, than the ones it belongs with."""
    problem, mark = error.problem or "", error.problem_mark
    if mark is None or not problem.startswith("expected <block end>, but found '"):
        return None
    lines = text.splitlines()
    here = _outline(mark.line + 1, lines[mark.line]) if mark.line < len(lines) else None
    if here is None or here.indent != mark.column or not (here.key or here.item):
        return None
    chain = _enclosing(lines, here.number)
    if here.item:
        return _misplaced_item(here, chain)
    item = next((line for line in chain if line.item and line.indent == here.indent), None)
    if item is not None:
        return _key_at_the_dash(here, item, chain)
    return _key_at_no_level(here, chain)


def _spaces(count: int, more: bool = True) -> str:
    """'2 more spaces', '1 fewer space'; without ``more``, '3 spaces'."""
    change = (" more" if count > 0 else " fewer") if more else ""
    return f"{abs(count)}{change} space{'s' if abs(count) != 1 else ''}"


def _key_at_the_dash(here: _Line, item: _Line, chain: list[_Line]) -> Explanation:
    """``options:`` written under ``- id: q`` at the column of its '-'."""
    sibling = next((line for line in chain if line.inner == item.inner and line.key), None)
    parent = next((line for line in chain if line.indent < item.indent and line.key), None)
    if parent is not None and parent.key == "steps" and item.key == "id":
        belongs = f"each step, so YAML cannot tell it belongs to step '{item.value}'"
    else:
        listed = f"of '{parent.key}'" if parent is not None else "of the list"
        belongs = f"each item {listed}, so YAML cannot tell it belongs to the item on line {item.number}"
    line_up = f", to line up with '{sibling.key}:' on line {sibling.number}" if sibling is not None else ""
    return (
        (here.number, here.indent + 1),
        f"'{here.key}:' is indented only as far as the '-' that starts {belongs}",
        f"indent it {_spaces(item.inner - here.indent)}{line_up}",
    )


def _key_at_no_level(here: _Line, chain: list[_Line]) -> Explanation | None:
    """A key indented between the levels above it (or beyond them all): the nearest key
    further in to line up with, else the nearest one further out."""
    deeper = [line for line in chain if line.key and line.inner > here.indent]
    shallower = [line for line in chain if line.key and line.inner < here.indent]
    if not deeper and not shallower:
        return None
    target = min(deeper, key=lambda line: (line.inner, -line.number)) if deeper else shallower[0]
    return (
        (here.number, here.indent + 1),
        f"'{here.key}:' is indented {_spaces(here.indent, more=False)}, in line with no key above it, "
        "so YAML cannot tell what it belongs to",
        f"indent it {_spaces(target.inner - here.indent)}, to line up with '{target.key}:' on line {target.number}",
    )


def _misplaced_item(here: _Line, chain: list[_Line]) -> Explanation | None:
    """A '-' not in line with the other items of its list, or less indented than the key
    it is listed under."""
    above = chain[0] if chain else None
    if above is not None and above.key and not above.value and here.indent < above.inner:
        return (
            (here.number, here.indent + 1),
            f"this '-' is indented less than '{above.key}:' on line {above.number}, the key it is listed under",
            f"indent it {_spaces(above.inner + 2 - here.indent)}",
        )
    other = next((line for line in chain if line.item and line.indent != here.indent), None)
    if other is None:
        return None
    return (
        (here.number, here.indent + 1),
        f"this '-' is indented {_spaces(here.indent, more=False)}, but the '-' on line {other.number} above it {other.indent}: "
        "the items of one list must line up",
        f"indent it {_spaces(other.indent - here.indent)}",
    )


# ----------------------------------------------------------------------------- keys at the left edge


def _step_keys_at_the_left_edge(data: dict[str, Any], marks: Marks) -> dict[str, Problem]:
    """A step's key written at the left edge after steps listed there too (``- id: bye``
    then ``text: ...``): YAML reads it as a key of the flow. The problem of each such key."""
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or not raw_steps:
        return {}
    step_keys = {name for kind in known_types() for name in step_model(kind).model_fields}
    starts = [marks.value(("steps", str(index))) for index in range(len(raw_steps))]
    problems: dict[str, Problem] = {}
    for key in data:
        line = marks.key((key,))[0]
        above = [index for index, start in enumerate(starts) if start[0] < line]
        if key in Flow.model_fields or key not in step_keys or not above:
            continue
        raw, start = raw_steps[above[-1]], starts[above[-1]]
        problems[key] = _left_edge_problem(key, raw, above[-1], start, marks)
    return problems


def _left_edge_problem(key: str, raw: Any, index: int, start: tuple[int, int], marks: Marks) -> Problem:
    """``key`` written at the left edge below step ``index`` (``raw``), whose keys start at ``start``."""
    if key == "id":
        return marks.problem(
            marks.key((key,)),
            "'id:' is not indented and has no '-' before it, so YAML reads it as a key of the flow, not as a new step",
            f"start the new step with '- id:' lined up with the '-' of the step on line {start[0]}",
        )
    name = f"step '{raw['id']}'" if isinstance(raw, dict) and isinstance(raw.get("id"), str) else f"step {index + 1}"
    first = f"'{next(iter(raw))}:'" if isinstance(raw, dict) and raw else "its first key"
    return marks.problem(
        marks.key((key,)),
        f"'{key}:' is not indented, so YAML reads it as a key of the flow, not of {name} above it",
        f"indent it {start[1] - 1} spaces, to line up with {first} on line {start[0]}",
    )
