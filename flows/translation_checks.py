"""Texts a participant sees that have no version in one of the study's languages.

A text written once (``text: Thank you.``) is sent as written in every language; so is an
option written as a word (``options: [Days, Nights]``), a choice experiment's level with no
label and attribute with no ``label`` (its name is said when a participant is told what the
choices differ in: 'wait, who'), and a Delphi item read from a ``.txt`` file. In a study that
offers Welsh, a Welsh participant would get Chorus's own Welsh around that English, and
nothing says so before launch. These are warnings, one per file (with a count and the first
few places), never one per text. A map of languages that leaves one out (``{en: ...}`` alone)
is an error of its own (:func:`flows.flow_checks.translation_problems`); Delphi items from a
file are grouped here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from flows.loader import LoadedFlow, Marks, Problem, YamlPath, field_path, step_path
from flows.model import Option, StepBase, Study, Text
from flows.steps.choice_experiment import ChoiceExperimentStep
from flows.steps.delphi import DelphiScale, DelphiStep
from flows.words import BUILT_IN_TEXTS, LANGUAGE_NAMES

PLACES_SHOWN = 4
"""How many places a warning names before 'and N more'."""
LINES_SHOWN = 6
_TEMPLATE = re.compile(r"\{\{.*?\}\}|\{%.*?%\}|\{#.*?#\}", re.DOTALL)


@dataclass(frozen=True)
class Place:
    """One text written in one language only: what it is and where."""

    what: str
    position: tuple[int, int]
    kind: str = "text"
    """text, option, level, attribute or override: chooses the example in the hint."""


def has_words(text: str) -> bool:
    """Whether a text says something in some language: not only a number, a sign, an emoji
    or a template part, which read the same in every language."""
    return any(char.isalpha() for char in _TEMPLATE.sub("", text))


def written_once(text: Text | None) -> bool:
    """A plain string with words: shown as written whatever the participant's language."""
    return isinstance(text, str) and has_words(text)


def language_names(codes: list[str]) -> str:
    """"Welsh ('cy')", or "Welsh ('cy') or 'pl'"."""
    named = [f"{LANGUAGE_NAMES[code]['en']} ('{code}')" if code in LANGUAGE_NAMES else f"'{code}'" for code in codes]
    return named[0] if len(named) == 1 else ", ".join(named[:-1]) + " or " + named[-1]


def items_from_file(step: StepBase, index: int, marks: Marks) -> bool:
    """Whether the step's items were read from its ``items_file`` (not written in the flow):
    their places are in that file, not in this one."""
    return isinstance(step, DelphiStep) and bool(step.items_file) and step_path(index, "items") not in marks.values


# ----------------------------------------------------------------------------- flows


def _built_in_band(step: StepBase, name: str, text: Text) -> bool:
    """A Delphi band label left as it was (Chorus says its own, translated, one)."""
    label = name.removeprefix("scale.")
    return name.startswith("scale.") and label in DelphiScale.model_fields and text == DelphiScale.model_fields[label].default


def _step_places(step: StepBase, index: int, marks: Marks, written_as_map: list[bool]) -> list[Place]:
    """The step's texts written once, its options shown by their value, and its levels and
    attributes with no label."""
    places: list[Place] = []
    file_items = items_from_file(step, index, marks)
    texts = list(step.texts()) + [(name, getattr(step, name)) for name in ("yes_label", "no_label") if getattr(step, name, None)]
    for name, text in texts:
        if not written_once(text) or _built_in_band(step, name, text) or (file_items and name.startswith("items[")):
            continue
        places.append(Place(f"'{name}' of step '{step.id}'", marks.value(step_path(index, *field_path(name)))))
    for number, option in enumerate(getattr(step, "options", None) or []):
        as_map = number < len(written_as_map) and written_as_map[number]
        if isinstance(option, Option) and option.label is None and not as_map and has_words(option.value):
            where = marks.value(step_path(index, "options", str(number)))
            places.append(Place(f"option '{option.value}' of step '{step.id}'", where, "option"))
    if isinstance(step, ChoiceExperimentStep):
        for attribute, spec in step.attributes.items():
            if spec.label is None:
                where = marks.key(step_path(index, "attributes", attribute))
                places.append(Place(f"the name of attribute '{attribute}' of step '{step.id}'", where, "attribute"))
            for number, level in enumerate(spec.levels):
                if isinstance(level, str) and has_words(level) and level not in (spec.labels or {}):
                    where = marks.value(step_path(index, "attributes", attribute, "levels", str(number)))
                    places.append(Place(f"level '{level}' of step '{step.id}'", where, "level"))
    return places


def _options_as_maps(raw: dict[str, object], index: int) -> list[bool]:
    """For each option as written, whether it is a map (``{value: ..}``), not a bare word."""
    steps = raw.get("steps")
    step = steps[index] if isinstance(steps, list) and index < len(steps) else None
    options = step.get("options") if isinstance(step, dict) else None
    return [isinstance(option, dict) for option in options] if isinstance(options, list) else []


def _hint(kinds: set[str], languages: list[str]) -> str:
    """How to give the missing versions, with an example for each kind of text found."""
    versions = ", ".join(f"{code}: ..." for code in languages[1:])
    first = languages[0]
    hints = []
    if kinds & {"text", "override"}:
        hints.append(f"write each as a map of languages, e.g. 'text: {{{first}: Thank you., {versions}}}'")
    if "option" in kinds:
        hints.append(f"an option as '{{value: days, label: {{{first}: Days, {versions}}}}}'")
    if "level" in kinds:
        hints.append(f"a level's words under its attribute's labels, e.g. 'labels: {{4 hours: {{{first}: 4 hours, {versions}}}}}'")
    if "attribute" in kinds:
        hints.append(f"an attribute's name under its 'label', e.g. 'wait: {{levels: [...], label: {{{first}: waiting time, {versions}}}}}'")
    if "override" in kinds:
        hints.append("a text under 'texts:' written once replaces Chorus's own version in every language")
    return "; ".join(hints)


def grouped_warning(places: list[Place], languages: list[str], marks: Marks) -> Problem:
    """One warning, at the first place, for every text of a file written in the first of
    ``languages`` only (so lacking the others)."""
    places = sorted(places, key=lambda place: place.position)
    count = len(places)
    shown = ", ".join(f"{place.what} (line {place.position[0]})" for place in places[:PLACES_SHOWN])
    if count > PLACES_SHOWN:
        shown += f" and {count - PLACES_SHOWN} more"
    texts = "a text participants see has" if count == 1 else f"{count} texts participants see have"
    message = (f"{texts} no {language_names(languages[1:])} version, so those participants would get "
               f"{'it' if count == 1 else 'them'} as written: {shown}")
    hint = _hint({place.kind for place in places}, languages)
    return marks.problem(places[0].position, message, hint, "warning")


def untranslated_flow_texts(loaded: LoadedFlow, marks: Marks, languages: list[str]) -> list[Problem]:
    """The flow's texts written in one language only, and its Delphi items files that lack a
    language: nothing when the study has one language."""
    if len(languages) < 2:
        return []
    places: list[Place] = []
    for index, step in enumerate(loaded.flow.steps):
        places += _step_places(step, index, marks, _options_as_maps(loaded.raw, index))
    problems = [grouped_warning(places, languages, marks)] if places else []
    return problems + _item_files(loaded, marks, languages)


# ----------------------------------------------------------------------------- items files


def _item_lines(path: Path) -> list[int]:
    """The line each item of an items file starts on (as :func:`flows.loader._read_items`
    reads them); empty when the file cannot be read again."""
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix.lower() not in (".yaml", ".yml"):
            return [n for n, line in enumerate(text.splitlines(), 1) if line.strip() and not line.lstrip().startswith("#")]
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except (OSError, UnicodeDecodeError, yaml.YAMLError):
        return []
    return [item.start_mark.line + 1 for item in node.value] if isinstance(node, yaml.SequenceNode) else []


def _missing_items(items: list[Text], languages: list[str]) -> dict[tuple[str, tuple[int, ...]], list[str]]:
    """Which items lack each language, grouped: (how they are written, item numbers) ->
    the languages they lack. 'once' for plain text, 'map' for a map leaving a language out."""
    groups: dict[tuple[str, tuple[int, ...]], list[str]] = {}
    for code in languages[1:]:
        once = tuple(n for n, text in enumerate(items) if written_once(text))
        left_out = tuple(n for n, text in enumerate(items) if isinstance(text, dict) and not str(text.get(code, "")).strip())
        for kind, numbers in (("once", once), ("map", left_out)):
            if numbers:
                groups.setdefault((kind, numbers), []).append(code)
    return groups


def _lines(numbers: tuple[int, ...], lines: list[int]) -> str:
    found = [str(lines[n]) for n in numbers if n < len(lines)]
    if not found:
        return ""
    more = ", ..." if len(found) > LINES_SHOWN else ""
    return f" (line{'s' if len(found) > 1 else ''} {', '.join(found[:LINES_SHOWN])}{more})"


def _flow_scalar(text: str) -> str:
    """``text`` as it may stand inside ``{ }`` in YAML: in quotes when a comma, colon or
    bracket would otherwise end it."""
    return json.dumps(text, ensure_ascii=False) if re.search(r"[,:\[\]{}#&*!|>'\"%@`]", text) else text


def _item_file_hint(name: str, kind: str, languages: list[str], missing: list[str], example: str) -> str:
    versions = ", ".join(f"{code}: ..." for code in missing)
    if kind == "map":
        return f"add {' and '.join(repr(code + ': ...') for code in missing)} to each item's text in {name}"
    words = _flow_scalar(example)
    entry = f"- {{id: {words}, text: {{{languages[0]}: {words}, {versions}}}}}"
    keep = "and its present words as its id, which answers already given are matched by"
    if Path(name).suffix.lower() in (".yaml", ".yml"):
        return f"write each item of {name} with its text in every language {keep}, e.g. '{entry}'"
    return (f"a text file holds one language: list the items in a YAML file instead, each with its text in every "
            f"language {keep}, e.g. '{entry}'; then name that file in items_file")


def _item_files(loaded: LoadedFlow, marks: Marks, languages: list[str]) -> list[Problem]:
    """One problem for each items file (and set of languages) it lacks: which file, which items."""
    problems: list[Problem] = []
    for index, step in enumerate(loaded.flow.steps):
        if not isinstance(step, DelphiStep) or not items_from_file(step, index, marks):
            continue
        name = str(step.items_file)
        items = [item.text for item in step.items]
        lines = _item_lines(Path(loaded.path).parent / name)
        for (kind, numbers), missing in _missing_items(items, languages).items():
            count = "the item" if len(items) == 1 else (f"all {len(items)} items" if len(numbers) == len(items) else f"{len(numbers)} of the {len(items)} items")
            message = (f"{count} in {name}{_lines(numbers, lines)} {'has' if len(numbers) == 1 else 'have'} no {language_names(missing)} "
                       f"version, so those participants would get {'it' if len(numbers) == 1 else 'them'} as written")
            first = items[numbers[0]]
            example = first if isinstance(first, str) else next(iter(first.values()), "")
            hint = _item_file_hint(name, kind, languages, missing, example)
            problems.append(marks.problem(marks.value(step_path(index, "items_file")), message, hint, "error" if kind == "map" else "warning"))
    return problems


# ----------------------------------------------------------------------------- studies


def untranslated_study_texts(study: Study, marks: Marks) -> list[Problem]:
    """The study file's own texts participants see (its title, in the join invitation and
    "hello again"; signposting, texts under 'texts:', group labels in Delphi feedback) written
    in one language only."""
    if len(study.languages) < 2:
        return []
    found: list[tuple[str, YamlPath, Text | None, str]] = [("the study's title", ("title",), study.title, "text"),
                                                           ("signposting", ("signposting",), study.signposting, "text")]
    found += [(f"the text '{key}'", ("texts", key), text, "override" if key in BUILT_IN_TEXTS else "text") for key, text in study.texts.items()]
    found += [(f"the label of group '{group.id}'", ("groups", str(n), "label"), group.label, "text") for n, group in enumerate(study.groups)]
    places = [Place(what, marks.value(path), kind) for what, path, text, kind in found if written_once(text)]
    return [grouped_warning(places, study.languages, marks)] if places else []
