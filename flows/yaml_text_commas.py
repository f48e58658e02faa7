"""A comma inside a text written in ``{ }``: ``text: {en: Put these in order, worst first.}``
reads 'worst first.' as a key of its own with no value, which pydantic reports as "should be
text, not nothing". Said instead as what happened, with the text to quote. Used by
:mod:`flows.pydantic_errors`."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

import yaml

if TYPE_CHECKING:
    from flows.loader import Marks, Problem, YamlPath

_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]+)?")


def comma_split_text(path: YamlPath, marks: Marks) -> tuple[str, str] | None:
    """For a key with no value in a ``{ }`` map of texts per language (``{en: ..., cy: ...}``)
    that is no language code itself: the text before it and the key, the two halves of a text
    a comma cut in two. None for anything else."""
    if len(path) < 2:
        return None
    parent = marks.values.get(path[:-1])
    if not isinstance(parent, yaml.MappingNode) or not parent.flow_style:
        return None
    keys = [str(key.value) for key, _ in parent.value]
    if path[-1] not in keys or _LANGUAGE_CODE.fullmatch(path[-1]):
        return None
    at = keys.index(path[-1])
    before = parent.value[at - 1] if at else None
    value = parent.value[at][1]
    if before is None or not _LANGUAGE_CODE.fullmatch(str(before[0].value)) or value.tag != "tag:yaml.org,2002:null":
        return None
    return str(before[1].value), path[-1]


def comma_split_problem(path: YamlPath, marks: Marks, halves: tuple[str, str]) -> Problem:
    """The error for a text a comma cut in two, at the half read as a key."""
    first, rest = halves
    return marks.problem(
        marks.key(path),
        f"the comma in '{first}, {rest}' ends the text inside {{ }}, so '{rest}' was read as a key of its own",
        f"put the whole text in quotes: \"{first}, {rest}\"",
    )
