"""Pydantic validation errors as coordinator-facing problems, positioned in the YAML.

Pydantic names a location like ``('next', 'list[NextRule]', 0, 'goto')``: union tags
are dropped by :meth:`flows.loader.Marks.real_path`, the alternatives of a union are
merged into one message ("'text' should be text or a map of language to text, not a
list"), and unknown keys get a did-you-mean from the fields of the model at that place.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any, get_args

import yaml
from pydantic import BaseModel

from flows.yaml_colons import quoted
from flows.yaml_text_commas import comma_split_problem, comma_split_text

if TYPE_CHECKING:
    from flows.loader import Marks, Problem, YamlPath

TYPE_WORDS = {
    "string_type": "text",
    "dict_type": "a mapping",
    "list_type": "a list",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "float_type": "a number",
    "float_parsing": "a number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "datetime_type": "a date and time (2025-03-01 09:00)",
    "datetime_parsing": "a date and time (2025-03-01 09:00)",
    "datetime_from_date_parsing": "a date and time (2025-03-01 09:00)",
    "time_delta_type": "a duration such as 30m, 2h or 28d",
    "time_delta_parsing": "a duration such as 30m, 2h or 28d",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
FIELD_SHAPES = {
    "quiet_hours": 'a time window in quotes, like "21:00-08:00"',
    "window": 'a time window in quotes, like "09:00-19:00"',
}
_STRING_EXPECTED = {"string_type", "literal_error"}
YAML_QUOTES = "YAML reads yes, no, on, off, true and false as true/false and bare numbers as numbers; put the value in quotes"


def did_you_mean(
    word: str, choices: Iterable[str], listing: bool = True, limit: int | None = 12
) -> str:
    """ "did you mean 'choice'?", else (with ``listing``) the choices themselves: the first
    ``limit`` of them, or every one when ``limit`` is None."""
    ordered = sorted(set(choices))
    close = difflib.get_close_matches(word, ordered, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in ordered}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    if close:
        return f"did you mean '{close[0]}'?"
    if listing and ordered:
        cut = len(ordered) if limit is None else limit
        shown = ", ".join(ordered[:cut]) + (", ..." if len(ordered) > cut else "")
        return f"choose from: {shown}"
    return ""


_UK_PLACES = frozenset({
    "cardiff", "swansea", "newport", "wrexham", "bangor", "aberystwyth", "carmarthen", "wales", "cymru",
    "edinburgh", "glasgow", "aberdeen", "dundee", "inverness", "scotland", "belfast", "derry", "londonderry",
    "manchester", "birmingham", "leeds", "liverpool", "bristol", "sheffield", "newcastle", "nottingham",
    "leicester", "cambridge", "oxford", "brighton", "plymouth", "southampton", "york", "england", "uk", "gb",
    "britain", "united_kingdom", "great_britain", "bst",
})
"""Places (and names of the country) on UK time, which has one IANA zone: Europe/London."""
_IRISH_PLACES = frozenset({"dublin", "cork", "galway", "limerick", "waterford", "ireland", "eire"})
"""Places on Irish time: Europe/Dublin."""


def time_zone_hint(value: str) -> str:
    """The IANA name a study most likely meant: UK and Irish places (and 'BST') by their
    country's zone, since they have no zone of their own; else a zone whose place is spelt
    nearly alike (Europe/Londn), never one that only shares the region (Europe/Cardiff is
    not Europe/Paris)."""
    from zoneinfo import available_timezones

    place = re.split(r"[/\\]", value.strip())[-1].strip().lower().replace(" ", "_").replace("-", "_")
    if place in _UK_PLACES:
        return f"{value.split('/')[-1].strip()} is on UK time: write Europe/London"
    if place in _IRISH_PLACES:
        return f"{value.split('/')[-1].strip()} is on Irish time: write Europe/Dublin"
    zones = {zone.split("/")[-1].lower(): zone for zone in available_timezones()}
    close = difflib.get_close_matches(place, zones, n=3, cutoff=0.75)
    region = value.split("/")[0].lower() if "/" in value else ""
    close.sort(key=lambda name: not zones[name].lower().startswith(region))  # (the region written, first)
    return f"did you mean '{zones[close[0]]}'?" if close else ""


def describe_value(value: Any) -> str:
    if value is None:
        return "nothing"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, str):
        return f"'{value}'" if len(value) <= 40 else f"'{value[:37]}...'"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    return type(value).__name__


def key_name(path: YamlPath, within_step: bool = True) -> str:
    """A path as a coordinator reads it, relative to its step (unless not ``within_step``):
    options[2].label, join.routes[0], schedule[0].after."""
    if within_step and len(path) >= 2 and path[0] == "steps" and path[1].isdigit():
        path = path[2:]
    text = ""
    for item in path:
        text += f"[{item}]" if item.isdigit() else (f".{item}" if text else item)
    return text


def _models_in(annotation: Any) -> list[type[BaseModel]]:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [model for arg in get_args(annotation) for model in _models_in(arg)]


def allowed_keys(root: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the model at ``loc`` (a location inside ``root``) accepts."""
    models = [root]
    for item in loc:
        if not isinstance(item, str):
            continue
        fields = [
            f for m in models for name, f in m.model_fields.items() if item in (name, f.alias)
        ]
        inner = [m for f in fields for m in _models_in(f.annotation)]
        if inner:
            models = inner
    return sorted(
        {f.alias or name for m in models for name, f in m.model_fields.items() if not f.exclude}
    )


def _mistake(error: dict[str, Any]) -> tuple[str, YamlPath] | None:
    """The hint and the place below ``loc`` of a :class:`flows.model.Invalid` raised by a
    validator; None for any other error."""
    raised = error.get("ctx", {}).get("error") if error["type"] == "value_error" else None
    hint, at = getattr(raised, "hint", None), getattr(raised, "at", None)
    if not isinstance(hint, str) or not isinstance(at, tuple):
        return None
    return hint, tuple(str(part) for part in at)


def _is_type_error(error: dict[str, Any]) -> bool:
    return error["type"] not in ("extra_forbidden", "missing", "value_error", "assertion_error")


KEY_HINTS = {
    "labels": "a scale's labels are a list with one label per point, a map from points ('{1: Not at all, 5: Very}'), "
              "or in several languages a list for each language ('labels: {en: [Poor, Good], cy: [Gwael, Da]}'); "
              "points and languages cannot be mixed in one map",
}
"""How to write the keys of a mapping, by the field's name, when a key is of the wrong kind."""


def _is_key_error(error: dict[str, Any]) -> bool:
    return bool(error["loc"]) and error["loc"][-1] == "[key]"


def describe_errors(
    errors: list[Any], root: type[BaseModel], marks: Marks, prefix: YamlPath = ()
) -> list[Problem]:
    """One problem per place, in the order pydantic found them. A key of the wrong kind
    ('en' where a map's keys are points) is said as such, not as its value's type."""
    placed = []
    for error in errors:
        below = (_mistake(error) or ("", ()))[1]
        loc = error["loc"][:-1] if _is_key_error(error) else error["loc"]
        placed.append((marks.real_path((*prefix, *loc, *below)), error))
    shapes = {item for path, _ in placed if (item := _language_map_item(path, marks) or _language_level_attribute(path, marks))}
    placed = [(path, error) for path, error in placed if not any(path[: len(item)] == item for item in shapes)]
    deeper = [path for path, _ in placed]
    bad_keys = {path for path, error in placed if _is_key_error(error)}
    groups: dict[YamlPath, list[dict[str, Any]]] = {}
    for path, error in placed:
        if _is_type_error(error) and any(
            len(p) > len(path) and p[: len(path)] == path for p in deeper
        ):
            continue
        if path in bad_keys and not _is_key_error(error):
            continue  # its value's type means little while the key is wrong
        groups.setdefault(path, []).append(error)
    problems: list[Problem] = [
        _language_level_problem(item, marks) if item[-2] == "attributes" else _language_map_problem(item, marks)
        for item in sorted(shapes)
    ]
    for path, found in groups.items():
        if path in bad_keys:
            problems.append(_key_problem(path, found[0], marks))
            continue
        typed = [e for e in found if _is_type_error(e)]
        if len(typed) > 1:
            problems.append(_type_problem(path, typed, marks))
        elif typed:
            problems.append(_one_problem(path, typed[0], root, marks))
        problems += [_one_problem(path, e, root, marks) for e in found if not _is_type_error(e)]
    return problems


_LISTED = {"ideas": "idea", "items": "item", "statements": "statement"}
"""The lists of ``{id, text}`` items, and what one of each is called."""
_LANGUAGE_CODE = re.compile(r"[a-z]{2,3}(?:[-_][A-Za-z0-9]+)?")


def _language_map_item(path: YamlPath, marks: Marks) -> YamlPath | None:
    """The place of the listed item ``path`` is in, if it is written as a text per language
    (``- {en: ..., cy: ...}``) where an item is ``{id, text}``."""
    import yaml

    for at in range(len(path) - 1):
        if path[at] in _LISTED and path[at + 1].isdigit():
            item = path[: at + 2]
            node = marks.values.get(item)
            if not isinstance(node, yaml.MappingNode) or not node.value:
                return None
            keys = [str(key.value) for key, _ in node.value]
            shaped = all(_LANGUAGE_CODE.fullmatch(key) for key in keys) and not {"id", "text"} & set(keys)
            return item if shaped else None
    return None


def _text_per_language(node: Any) -> bool:
    """``{en: ..., cy: ...}``: a non-empty map whose keys are all language codes."""
    import yaml

    if not isinstance(node, yaml.MappingNode) or not node.value:
        return False
    return all(_LANGUAGE_CODE.fullmatch(str(key.value)) for key, _ in node.value)


def _language_level_attribute(path: YamlPath, marks: Marks) -> YamlPath | None:
    """The choice-experiment attribute ``path`` is in, if a level of it is written as a text
    per language (``where: [{en: clinic, cy: clinig}, ...]``), where a level is a short name
    or a number and its words per language go under ``labels``."""
    for at in range(len(path) - 2):
        if path[at] == "attributes":
            rest = path[at + 2 :]
            rest = rest[1:] if rest[:1] == ("levels",) else rest
            if not rest or not rest[0].isdigit():
                return None
            level = path[: len(path) - len(rest) + 1]
            return path[: at + 2] if _text_per_language(marks.values.get(level)) else None
    return None


def _language_level_problem(attribute: YamlPath, marks: Marks) -> Problem:
    """One problem for an attribute whose levels are texts per language, with the shape to use:
    short names as the levels, their words under ``labels``."""
    import yaml

    node = marks.values.get((*attribute, "levels"), marks.values.get(attribute))
    levels = node.value if isinstance(node, yaml.SequenceNode) else []
    names: list[str] = []
    first = ""
    for level in levels:
        texts = [(str(k.value), str(v.value)) for k, v in level.value] if _text_per_language(level) else []
        name = re.sub(r"[^a-z0-9]+", "_", (texts[0][1] if texts else str(getattr(level, "value", ""))).lower()).strip("_")
        names.append(name or f"level{len(names) + 1}")
        if texts and not first:
            first = f"{names[-1]}: {{{', '.join(f'{code}: {text}' for code, text in texts)}}}"
    name = attribute[-1]
    return marks.problem(
        marks.value(attribute),
        f"the levels of attribute '{name}' are written as texts per language, but a level is a short name or a number",
        f"write {name}: {{levels: [{', '.join(names)}], labels: {{{first}, ...}}}}: the levels are stored, "
        "their labels shown in each language",
    )


def _language_map_problem(item: YamlPath, marks: Marks) -> Problem:
    """One problem for a listed item written as a text per language, with the shape to use."""
    import yaml

    node = marks.values[item]
    codes = [str(key.value) for key, _ in node.value] if isinstance(node, yaml.MappingNode) else []
    what, number = _LISTED[item[-2]], int(item[-1]) + 1
    texts = ", ".join(f"{code}: ..." for code in codes)
    return marks.problem(
        marks.value(item),
        f"{what} {number} is written as a text per language, but each {what} needs an id and a text",
        f"write it as {{id: {what}{number}, text: {{{texts}}}}}, the id a short name of your choosing",
    )


def _key_problem(path: YamlPath, error: dict[str, Any], marks: Marks) -> Problem:
    """A key of the wrong kind: ``en:`` in a map whose keys are whole numbers."""
    parent = key_name(path[:-1]) or "this mapping"
    wanted = TYPE_WORDS.get(error["type"], error["type"].replace("_", " "))
    hint = KEY_HINTS.get(path[-2] if len(path) > 1 else "", "")
    return marks.problem(
        marks.key(path), f"each key of '{parent}' should be {wanted}, not {describe_value(error['input'])}", hint
    )


def _type_problem(path: YamlPath, errors: list[dict[str, Any]], marks: Marks) -> Problem:
    """One message for the alternatives of a union (or a single wrong type)."""
    kinds = {e["type"] for e in errors}
    value, literals = errors[0]["input"], _literals(errors)
    halves = comma_split_text(path, marks) if value is None else None
    if halves is not None:
        return comma_split_problem(path, marks, halves)
    name = key_name(path) or "this"
    if name.split(".")[-1].split("[")[0] in FIELD_SHAPES:
        wanted = FIELD_SHAPES[name.split(".")[-1].split("[")[0]]
    elif kinds == {"string_type", "dict_type"}:
        wanted = "text, or a map of language code to text (en: ..., cy: ...)"
    else:
        words = [TYPE_WORDS.get(k, k.replace("_", " ")) for k in sorted(kinds - {"literal_error"})]
        words += [f"'{literal}'" for literal in literals]
        wanted = " or ".join(dict.fromkeys(words))
    hint = YAML_QUOTES if isinstance(value, bool | int | float) and kinds & _STRING_EXPECTED else ""
    if isinstance(value, str) and literals:
        hint = did_you_mean(value, literals, listing=False)
    if "list_type" in kinds and isinstance(value, dict):
        hint = _list_not_map_hint(path, marks)
    elif "list_type" in kinds and isinstance(value, str) and "," in value:  # options: Yes, No
        items = [_as_yaml_text(item.strip()) for item in value.split(",") if item.strip()]
        hint = f"a list is written in [ ]: {path[-1]}: [{', '.join(items)}], or as lines that start with '- '"
    return marks.problem(
        marks.value(path), f"'{name}' should be {wanted}, not {describe_value(value)}", hint
    )


def _as_yaml_text(item: str) -> str:
    """``item`` as a list item YAML reads as text: quoted if bare it would be true, false or a number."""
    try:
        read = yaml.safe_load(f"[{item}]")
    except yaml.YAMLError:
        read = None
    return item if isinstance(read, list) and len(read) == 1 and isinstance(read[0], str) else quoted(item)


def _literals(errors: list[dict[str, Any]]) -> list[str]:
    """The values a ``Literal`` allows, from its errors' "expected" ('extreme', or 'a' or 'b')."""
    found: list[str] = []
    for error in errors:
        if error["type"] == "literal_error":
            found += re.findall(r"'([^']*)'", str(error.get("ctx", {}).get("expected", "")))
    return list(dict.fromkeys(found))


def _list_not_map_hint(path: YamlPath, marks: Marks) -> str:
    """How to write as a list what was written as a map in { }: options as value and
    label pairs, anything else as items."""
    node = marks.values.get(path)
    pairs = [
        (str(key.value), str(value.value))
        for key, value in getattr(node, "value", [])
        if isinstance(getattr(key, "value", None), str) and isinstance(getattr(value, "value", None), str)
    ]
    made = "{ } makes a map" if getattr(node, "flow_style", False) else "lines of 'key: value' make a map"
    if path[-1:] == ("options",) and pairs:
        shown = ", ".join(f'{{value: {key}, label: "{label}"}}' for key, label in pairs[:3])
        more = ", ..." if len(pairs) > 3 else ""
        return f"{made}; options are a list in [ ]: options: [{shown}{more}]"
    return f"{made}; a list is written in [ ], e.g. [a, b], or as lines that start with '- '"


def _one_problem(
    path: YamlPath, error: dict[str, Any], root: type[BaseModel], marks: Marks
) -> Problem:
    kind, loc, value = error["type"], error["loc"], error.get("input")
    name = key_name(path)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        return marks.problem(
            marks.key(path), f"unknown key '{key}'", did_you_mean(key, allowed_keys(root, loc))
        )
    if kind == "missing":
        field = str(loc[-1])
        where = f" in '{name}'" if name else ""
        return marks.problem(
            marks.value(path), f"missing required key '{field}'{where}", f"add '{field}: ...'"
        )
    if kind in ("value_error", "assertion_error"):
        message = re.sub(r"^(Value|Assertion) error, ", "", error["msg"])
        mistake = _mistake(error)
        hint = mistake[0] if mistake else ""
        if path[-1:] == ("timezone",) and isinstance(value, str):
            hint = time_zone_hint(value)
        named = bool(name) and not path[-1].isdigit()
        if mistake is not None:  # written to stand alone where it names its key or place
            named = named and not mistake[1] and path[-1] not in message
        described = f"{name}: {message}" if named else message
        return marks.problem(marks.value(path), described, hint)
    if kind in ("too_short", "too_long"):
        context = error.get("ctx", {})
        least = kind == "too_short"
        limit = context.get("min_length" if least else "max_length")
        actual = context.get("actual_length")
        items = "item" if limit == 1 else "items"
        return marks.problem(
            marks.value(path),
            f"'{name or 'value'}' needs at {'least' if least else 'most'} {limit} {items}, not {actual}",
            "add more" if least else "remove some",
        )
    if kind == "literal_error":
        hint = did_you_mean(str(value), _literals([error]))
        return marks.problem(marks.value(path), f"'{name}' cannot be {describe_value(value)}", hint)
    if kind in TYPE_WORDS:
        return _type_problem(path, [error], marks)
    message = error["msg"][:1].lower() + error["msg"][1:]
    return marks.problem(
        marks.value(path), f"'{name or 'value'}': {message} (found {describe_value(value)})"
    )
