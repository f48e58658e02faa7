"""YAML mistakes of layout, explained: a key (or a list item) indented too little or too
much, a key indented so far that YAML reads it as part of the text above, and a key with
no space after its ':'. Used by :mod:`flows.yaml_errors`.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any, get_args

import yaml
from pydantic import BaseModel

from flows.model import Flow
from flows.steps import known_types, step_model

if TYPE_CHECKING:
    from flows.yaml_errors import Explanation

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


def explain_indentation(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
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
    """A key indented between the levels above it (or beyond them all): the nearer of the
    nearest key further in and the nearest one further out to line up with, the one further
    in when they are as near, unless only the one further out is a key of its kind (``min:``
    one space short of the ``cy:`` of a text above belongs with the step's keys)."""
    deeper = [line for line in chain if line.key and line.inner > here.indent]
    shallower = [line for line in chain if line.key and line.inner < here.indent]
    if not deeper and not shallower:
        return None
    inner = min(deeper, key=lambda line: (line.inner, -line.number)) if deeper else None
    outer = shallower[0] if shallower else None
    target = inner or outer
    if inner is not None and outer is not None:
        fits = [line for line in (inner, outer) if _same_kind(here.key, line.key)]
        nearer = inner if inner.inner - here.indent <= here.indent - outer.inner else outer
        target = fits[0] if len(fits) == 1 else nearer
    assert target is not None
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


def key_read_as_text(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
    """A key (or a list item) indented further than the key above it whose value is plain
    text (``max: 5`` then ``   unsure: true``): YAML reads the line as more of that text,
    then stops at the ':' it cannot have there."""
    problem, mark = error.problem or "", error.problem_mark
    if mark is None or not problem.startswith("mapping values are not allowed"):
        return None
    lines = text.splitlines()
    here = _outline(mark.line + 1, lines[mark.line]) if mark.line < len(lines) else None
    if here is None or here.key is None or lines[here.number - 1].find(":", here.inner) != mark.column:
        return None
    chain = _enclosing(lines, here.number)
    owner = _text_taking_in(here, chain)
    if owner is None or owner.key is None:
        return None
    if here.item:
        return _item_inside_text(here, owner, chain)
    return _key_inside_text(here, owner, (mark.line + 1, mark.column + 1))


def _key_inside_text(here: _Line, owner: _Line, colon: tuple[int, int]) -> Explanation:
    """``here``'s key taken in by the text of ``owner``'s: a key indented too far, or, if it
    is no key Chorus knows, words with ': ' in a text that needs quotes."""
    assert here.key is not None and owner.key is not None
    change = f"indent it {_spaces(owner.inner - here.indent)}, to line up with '{owner.key}:' on line {owner.number}"
    if _is_a_key(here.key, owner.key):
        return (
            (here.number, here.indent + 1),
            f"'{here.key}:' is indented {_spaces(here.indent - owner.inner, more=False)} more than '{owner.key}:' "
            f"on line {owner.number}, so YAML reads it as part of the value of '{owner.key}:'",
            change,
        )
    return (
        colon,
        f"'{here.key}:' is read as part of the text of '{owner.key}:' on line {owner.number}, "
        "and a text containing ': ' must be in quotes",
        f"put the whole text in quotes; or, if '{here.key}:' is a key, {change}",
    )


def _item_inside_text(here: _Line, owner: _Line, chain: list[_Line]) -> Explanation | None:
    """A '-' indented further than ``owner``'s key, whose text takes it in: it belongs in
    line with the '-' of the item above."""
    item = next((line for line in chain if line.item and line.indent < here.indent), None)
    if item is None:
        return None
    return (
        (here.number, here.indent + 1),
        f"this '-' is indented {_spaces(here.indent - owner.inner, more=False)} more than '{owner.key}:' on line "
        f"{owner.number}, so YAML reads it as part of the value of '{owner.key}:'",
        f"indent it {_spaces(item.indent - here.indent)}, to line up with the '-' on line {item.number}",
    )


def _text_taking_in(here: _Line, chain: list[_Line]) -> _Line | None:
    """The key above ``here``, less indented than it, whose plain text goes on over ``here``
    (None if there is none: a line below a key with no text is a key of its own)."""
    above = [line for line in chain if line.inner < here.indent]
    owner = next((line for line in above if line.key), None)
    if owner is None or not (owner.value or above[0] is not owner):
        return None
    return None if owner.value[:1] in ("'", '"', "[", "{", "|", ">") else owner


_KEY_SHAPES = (re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]+)?"), re.compile(r"\d+\+?"))
"""Keys a file chooses itself: language codes (``en: ...``) and numbers (a scale's labels)."""


def _is_a_key(name: str, above: str) -> bool:
    """Whether ``name`` is a key of a study or flow file, or of the shape of the key above it
    (``en: ...`` then ``cy: ...``; ``1: ...`` then ``5: ...``), rather than words of a text."""
    return name in _file_keys() or any(shape.fullmatch(name) and shape.fullmatch(above) for shape in _KEY_SHAPES)


def _same_kind(name: str | None, other: str | None) -> bool:
    """Whether two keys are both keys of a study or flow file (``min``, ``text``), or both keys
    a file chooses itself (language codes, a scale's numbers)."""
    return name is not None and other is not None and (name in _file_keys()) == (other in _file_keys())


@cache
def _file_keys() -> frozenset[str]:
    """Every key a study or flow file may have, at any depth."""
    from flows.model import Study

    models: list[type[BaseModel]] = [Flow, Study, *(step_model(kind) for kind in known_types())]
    found: set[str] = set()
    seen: set[type[BaseModel]] = set()
    while models:
        model = models.pop()
        if model in seen:
            continue
        seen.add(model)
        for name, field in model.model_fields.items():
            found.add(field.alias or name)
            models += _models_in(field.annotation)
    return frozenset(found)


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    """The pydantic models a field's type names, inside lists, unions and the like."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for argument in get_args(annotation) for model in _models_in(argument)]


# ----------------------------------------------------------------------------- no space after ':'

_SQUEEZED = re.compile(r"^(?P<lead> *(?:- +)?)(?P<key>\w[\w+.-]*):(?P<value>\"[^\"]*\"|'[^']*'|[^\s:'\"][^:]*)$")
"""``id:fft``: a key with no space after its ':', which YAML reads as a plain text."""
_SQUEEZED_BRACKET = re.compile(r"^ *(?:- +)?(?P<key>\w[\w+.-]*):(?P<bracket>[\[{])")
"""``label:{en: ...}``: a key with no space before the brackets of its value."""


def explain_no_space(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
    """A key with no space after its ':' (``type:open``), which YAML reads as text: it then
    misses the ':' of the key, or reads the line below as more of the text and stops at that
    line's ':', or cannot read the brackets that follow (``label:{en: ...}``)."""
    problem, mark = error.problem or "", error.problem_mark
    lines = text.splitlines()
    if problem == "could not find expected ':'" and error.context_mark is not None:
        return _squeezed_key(lines, error.context_mark.line + 1, None)
    if mark is None or mark.line >= len(lines) or not problem.startswith("mapping values are not allowed"):
        return None
    bracket = _SQUEEZED_BRACKET.match(lines[mark.line])
    if bracket is not None:
        return (
            (mark.line + 1, bracket.end()),
            f"'{bracket['key']}:' has no space after the ':', so YAML cannot read the '{bracket['bracket']}' after it",
            f"put a space after the ':': '{bracket['key']}: {bracket['bracket']}...'",
        )
    above = next((number for number in range(mark.line, 0, -1) if _outline(number, lines[number - 1])), None)
    return _squeezed_key(lines, above, mark.line + 1) if above is not None else None


def _squeezed_key(lines: list[str], number: int, taken: int | None) -> Explanation | None:
    """Line ``number`` as a key with no space after its ':', if it is one (``taken``: the
    line below that YAML read as more of its text)."""
    found = _SQUEEZED.match(lines[number - 1].rstrip()) if number <= len(lines) else None
    if found is None:
        return None
    key, value = found["key"], found["value"].strip()
    shown = value if len(value) <= 20 else f"{value[:17]}..."
    more = f", and line {taken} as more of that text" if taken is not None else ""
    return (
        (number, len(found["lead"]) + len(key) + 1),
        f"'{key}:{shown}' has no space after the ':', so YAML reads it as text, not as the key '{key}'{more}",
        f"put a space after the ':': '{key}: {shown}'",
    )

