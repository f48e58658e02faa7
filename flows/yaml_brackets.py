"""YAML mistakes with commas and brackets, explained: a comma missing or doubled, or a
bracket not closed, in ``[a, b]`` or ``{a: 1, b: 2}``; a text with ': ' inside brackets; a
comma or bracket after a value has ended. Used by :mod:`flows.yaml_errors`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from flows.yaml_errors import Explanation

BRACKETS = {"[": "]", "{": "}"}
BRACKETED = {"[": "list in [ ]", "{": "map in { }"}


def explain_brackets(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
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

