"""YAML mistakes explained in plain words, where they are: a comma or bracket out of place,
a key or list item indented too little or too much, a key with no space after its ':', and
a step's key written at the left edge, which YAML reads as a key of the flow.

PyYAML says what it expected ("expected ',' or ']', but got '<scalar>'"); a coordinator
needs to know what to change. :func:`yaml_problem` turns the error of the parser that read
the file (libyaml) into a :class:`~flows.loader.Problem` with such an explanation when it
recognises the mistake, else with the parser's own words.

The explanations themselves are in :mod:`flows.yaml_quotes` (a quoted text ended early, or
never closed), :mod:`flows.yaml_brackets` (commas and brackets) and :mod:`flows.yaml_layout`
(indentation, and a key with no space after its ':'); this module
tries them in turn, and finds a step's key written at the left edge.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import yaml

from flows.model import Flow
from flows.steps import known_types, step_model
from flows.yaml_brackets import explain_brackets
from flows.yaml_colons import explain_colon_in_text
from flows.yaml_layout import explain_indentation, explain_no_space, key_read_as_text
from flows.yaml_quotes import explain_quotes

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


_INDENT_FIX = re.compile(r"^indent it (\d+) (more|fewer) spaces?\b")
"""The start of an indentation hint: how far the line should move."""
_LINE = re.compile(r"^(?P<indent> *)(?P<dash>- +)?(?:[^\s#'\"{\[][^:#]*?\s*:(?:\s+(?P<value>.*))?$)?")


def repaired_layout(problem: Problem, text: str) -> str | None:
    """``text`` with the indentation slip of ``problem`` mended as its hint says, so the rest
    of the file can be checked in the same run; None when the slip is not one of indentation.
    The lines written under the slipped line move with it when they were lined up with it (a
    key's block, a list item's keys); a key's inline value has none."""
    found = _INDENT_FIX.match(problem.hint)
    lines = text.split("\n")
    if found is None or not 1 <= problem.line <= len(lines):
        return None
    shift = int(found[1]) * (1 if found[2] == "more" else -1)
    start = problem.line - 1
    here = _LINE.match(lines[start])
    assert here is not None  # every group is optional
    indent = len(here["indent"])
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or len(lines[end]) - len(lines[end].lstrip(" ")) > indent):
        end += 1
    under = [line for line in lines[start + 1 : end] if line.strip()]
    inner = indent + len(here["dash"] or "")
    value = (here["value"] or "").strip()
    if not under or (here["dash"] and len(under[0]) - len(under[0].lstrip(" ")) != inner) or (
        value and not here["dash"] and value[:1] not in "|>"
    ):
        end = start + 1  # (nothing under it belongs to it as written)
    block = lines[start:end]
    if shift < 0 and any(line[:-shift].strip() for line in block):
        return None  # (not that many spaces to take away)
    moved = [(" " * shift + line if shift > 0 else line[-shift:]) if line.strip() else line for line in block]
    return "\n".join(lines[:start] + moved + lines[end:])


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
        explain_quotes(error, marks.text)
        or explain_colon_in_text(error, marks.text)
        or explain_brackets(error, marks.text)
        or explain_indentation(error, marks.text)
        or explain_no_space(error, marks.text)
        or key_read_as_text(error, marks.text)
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
