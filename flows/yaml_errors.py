"""YAML mistakes explained in plain words, where they are: a comma or bracket out of place,
a key or list item indented too little or too much, a key with no space after its ':', and
a step's key written at the left edge, which YAML reads as a key of the flow.

PyYAML says what it expected ("expected ',' or ']', but got '<scalar>'"); a coordinator
needs to know what to change. :func:`yaml_problem` turns the error of the parser that read
the file (libyaml) into a :class:`~flows.loader.Problem` with such an explanation when it
recognises the mistake, else with the parser's own words.
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
    from flows.loader import Marks, Problem


def _position(mark: Any) -> tuple[int, int]:
    """Line and column (1-based) of a PyYAML mark; the file's start if there is none."""
    return (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)


Explanation = tuple[tuple[int, int], str, str]
"""Where a YAML mistake is, what it is and how to fix it, in plain words."""


def yaml_problem(error: yaml.YAMLError, marks: Marks) -> Problem:
    """The mistake the fast parser (libyaml) stopped at, explained.

    PyYAML's own parser words its complaints in a way :func:`_syntax_problem` can explain, so
    the text is parsed again with it. But it ends a plain text at a '?' inside ``[ ]`` or
    ``{ }`` (``{en: Which best describes you?, cy: ...}``), where libyaml, which read the file,
    reads on: such a '?' would be blamed instead of the real slip further down. So each '?'
    PyYAML stops at before libyaml's place is masked and the text parsed again, and PyYAML's
    complaint is taken only when it is about the place libyaml stopped at."""
    clearer = _clearer_error(marks.text, error)
    if not isinstance(clearer, yaml.MarkedYAMLError):
        return marks.problem((1, 1), f"YAML syntax: {clearer}")
    return _syntax_problem(clearer, marks)


def _clearer_error(text: str, fast: yaml.YAMLError) -> yaml.YAMLError:
    """PyYAML's error at the place of libyaml's ``fast``, else ``fast`` itself."""
    stopped = _index(fast)
    for _ in range(text.count("?") + 1):
        pure = _pure_python_error(text)
        if pure is None:
            return fast
        at = _index(pure)
        if stopped is None or at == stopped:
            return pure
        if at is None or at > stopped or text[at] != "?":
            return fast
        text = f"{text[:at]}Q{text[at + 1 :]}"  # a letter: the same length, so every place stays
    return fast


def _pure_python_error(text: str) -> yaml.YAMLError | None:
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        if node is not None:
            loader.construct_document(node)
    except yaml.YAMLError as error:
        return error
    finally:
        loader.dispose()
    return None


def _index(error: yaml.YAMLError) -> int | None:
    """Where in the text an error is (its problem, else its context), if it says."""
    if not isinstance(error, yaml.MarkedYAMLError):
        return None
    mark = error.problem_mark or error.context_mark
    return mark.index if mark is not None else None


def _syntax_problem(error: yaml.MarkedYAMLError, marks: Marks) -> Problem:
    """The parser's complaint, explained where it is one a coordinator often meets (a comma
    or bracket out of place, a key indented too little or too much); else as the parser puts it."""
    explained = (
        _explain_brackets(error, marks.text)
        or _explain_indentation(error, marks.text)
        or _explain_no_space(error, marks.text)
        or _key_read_as_text(error, marks.text)
    )
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


def _key_read_as_text(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
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


def _explain_no_space(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
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
