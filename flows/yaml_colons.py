"""A text with ': ' in it, written without quotes (``text: Note: we keep this private``). YAML
reads the second ': ' as the start of another key and says "mapping values are not allowed
here", which sends a coordinator looking at the indentation. Explained with the line as it
should be written. Used by :mod:`flows.yaml_errors`.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from flows.yaml_errors import Explanation

_KEY_AND_TEXT = re.compile(r"^(?P<lead>\s*(?:-\s+)?)(?P<key>[A-Za-z_][\w-]*):\s+(?P<value>[^\s\"'\[{|>&*!#].*?)\s*$")
"""A key and the plain text after it, on one line (not quoted, not a list, map or block)."""


def explain_colon_in_text(error: yaml.MarkedYAMLError, text: str) -> Explanation | None:
    """A plain text holding ': ', at the line YAML stopped on: where, what, and the line quoted."""
    mark = error.problem_mark
    if mark is None or not (error.problem or "").startswith("mapping values are not allowed"):
        return None
    lines = text.splitlines()
    if mark.line >= len(lines):
        return None
    found = _KEY_AND_TEXT.match(lines[mark.line])
    if found is None or ": " not in found["value"] + " " or mark.column < found.start("value"):
        return None
    key, value = found["key"], found["value"]
    before = value[: value.index(":")]
    return (
        (mark.line + 1, mark.column + 1),
        f"the text of '{key}' has ': ' in it (after '{before}'), so YAML reads it as another key",
        f"put the whole text in quotes: {key}: {quoted(value)}",
    )


def quoted(value: str) -> str:
    """``value`` in double quotes as YAML reads them (a double quote or backslash escaped);
    in single quotes where it holds a double quote but no apostrophe."""
    if '"' in value and "'" not in value:
        return f"'{value}'"
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
