"""YAML mistakes with quotes, explained: a text in quotes that ends before the writer meant
it to, at an apostrophe (``'Dw i'n hapus'``, ``'Don't know'``) or a quote inside it
(``"Reply "YES""``), or a quote that is never closed. PyYAML blames what it finds after the
early end ("expected <block end>", "a comma is missing"), which sends a coordinator looking at
the indentation or the commas. Used by :mod:`flows.yaml_errors`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from flows.yaml_errors import Explanation

_FOUND_AFTER = re.compile(r"expected (?:<block end>|',' or '[\]}]'), but (?:found|got) '<scalar>'")
"""What PyYAML says when more words follow the end of a value."""
_QUOTE_NAMES = {"'": "single quotes", '"': "double quotes"}


def explain_quotes(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
    """A quoted text ended early by a quote inside it, or a quote never closed."""
    problem, mark, opened = error.problem or "", error.problem_mark, error.context_mark
    if mark is None:
        return None
    if problem == "found unexpected end of stream" and (error.context or "").startswith("while scanning a quoted scalar"):
        return _never_closed(text, opened.index) if opened is not None else None
    if not _FOUND_AFTER.fullmatch(problem):
        return None
    quoted = _quoted_text_before(text, mark.index)
    if quoted is None:
        return None
    start, end = quoted
    if _place(text, start)[0] != _place(text, end)[0]:
        return _not_closed_on_its_line(text, start, end)
    if problem.startswith("expected ','") and text[end + 1 : end + 2].isspace():
        return None  # ("Yes" "No": two texts with no comma between them, which flows.yaml_brackets explains)
    return _ended_early(text, start, end)


def _quoted_text_before(text: str, index: int) -> tuple[int, int] | None:
    """Where the quoted text that ends just before ``index`` (spaces apart, on the same line)
    opens and closes (the indexes of its two quotes), if one does."""
    try:
        for token in yaml.scan(text):
            if token.start_mark.index >= index:
                return None
            closes = token.end_mark.index - 1
            if (isinstance(token, yaml.ScalarToken) and token.style in _QUOTE_NAMES
                    and text[closes] == token.style and text[closes + 1 : index].strip(" \t") == ""):
                return token.start_mark.index, closes
    except yaml.YAMLError:
        return None
    return None


def _place(text: str, index: int) -> tuple[int, int]:
    """Line and column (1-based) of a character of ``text``."""
    return text.count("\n", 0, index) + 1, index - (text.rfind("\n", 0, index) + 1) + 1


def _ended_early(text: str, start: int, end: int) -> Explanation:
    """``'Dw i'n hapus'``: the text ends at the apostrophe in "i'n"; ``"Reply "YES""`` at the
    quote before YES; ``'Thank you' for your time`` at the quote after 'you'."""
    quote, line = text[start], _place(text, start)[0]
    before = re.search(r"\S*$", text[start + 1 : end])
    after = re.match(r"[^\s,\]}]*", text[end + 1 :])
    left, right = before[0] if before else "", after[0] if after else ""
    quotes = _QUOTE_NAMES[quote]
    if not right:
        return (
            _place(text, end),
            f"the text in {quotes} that starts on line {line} ends at the {quote} after '{left}', and more words follow it",
            f"put the whole text inside the {quotes}",
        )
    if quote == "'":
        where = f'the apostrophe in "{left}\'{right}"' if left else f"the ' before '{right.strip(chr(39))}'"
        hint = f"inside single quotes write an apostrophe twice, {left}''{right}, or put the whole text in double quotes instead"
    else:
        where = f"the \" before '{right.strip(chr(34))}'"
        hint = 'inside double quotes write \\" for each " in the text, or put the whole text in single quotes instead'
    message = f"the text in {quotes} that starts on line {line} ends at {where}, so YAML cannot read the words after it"
    return _place(text, end), message, hint


def _not_closed_on_its_line(text: str, start: int, end: int) -> Explanation:
    """A quote not closed on the line it opens: YAML reads on to the next quote, lines below."""
    quote = text[start]
    opened, closed = _place(text, start), _place(text, end)
    return (
        opened,
        f"the {quote} that opens the text on line {opened[0]} is not closed on that line, so YAML reads on "
        f"to the {quote} on line {closed[0]} and cannot read what follows it",
        f"close the text with {quote} at the end of line {opened[0]}",
    )


def _never_closed(text: str, start: int) -> Explanation | None:
    """A quote that opens a text and is never closed, to the end of the file."""
    quote = text[start : start + 1]
    if quote not in _QUOTE_NAMES:
        return None
    opened = _place(text, start)
    return (
        opened,
        f"the {quote} that opens the text on line {opened[0]} is never closed",
        f"close the text with {quote} at the end of line {opened[0]}",
    )
