"""What a coordinator reads for a text written for participants, and for a choice model's codes.

Texts are sandboxed Jinja2 templates (flows.templating), sent differently to each participant.
The desk, reports and exports show one reading of a text, in the study's default language:

- words outside any ``{% if %}`` as written;
- words only some participants get (inside ``{% if %}``, or ``{{ 'a' if ... else 'b' }}``) in
  square brackets, each branch given and split by " / ":
  ``What was waiting like? [Type, or send a voice note.]``;
- a value filled in per participant as its name in brackets: ``Hello [participant.name].``;
  ``{{ study.title }}`` as the study's title, when it is known;
- a text Jinja cannot read has its tags stripped (a ``{{ x }}`` still shows as ``[x]``).

Nothing is ever rendered with anyone's values, so this never raises and never shows data.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

from jinja2 import nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

from flows.model import resolve_text

_PARSER = ImmutableSandboxedEnvironment(autoescape=False, keep_trailing_newline=True)
_TAGS = re.compile(r"\{\{(.*?)(?:\}\}|\Z)|\{%.*?(?:%\}|\Z)|\{#.*?(?:#\}|\Z)", re.DOTALL)
"""A tag, or one never closed (to the end of the text)."""
_NAME = re.compile(r"[A-Za-z_][\w.]*")
_SPACES = re.compile(r"[ \t]+")
_BEFORE_PUNCTUATION = re.compile(r"[ \t]+([,.!?;:])")


def display_text(text: Any, language: str, study_title: str = "") -> str:
    """``text`` (one text, or one per language) as a coordinator should read it, in
    ``language`` (the study's default): see the module docstring. Never raises."""
    if not isinstance(text, str | dict):
        return "" if text is None else str(text)
    try:
        source = resolve_text(text, language)  # type: ignore[arg-type]
    except Exception:
        return ""
    if not isinstance(source, str):
        return str(source)
    if "{{" not in source and "{%" not in source and "{#" not in source:
        return source
    return _readable(source, study_title)


@lru_cache(maxsize=2048)
def _readable(source: str, study_title: str) -> str:
    try:
        shown = "".join(_statement(node, study_title) for node in _PARSER.parse(source).body)
    except Exception:  # a syntax error, or a tree deeper than we read: strip the tags
        shown = _TAGS.sub(lambda m: _placeholder(_NAME.search(m[1]) if m[1] else None), source)
    return _tidy(shown)


def _placeholder(name: re.Match[str] | None) -> str:
    return f"[{name[0]}]" if name else ""


def _tidy(text: str) -> str:
    lines = [_BEFORE_PUNCTUATION.sub(r"\1", _SPACES.sub(" ", line)).strip() for line in text.split("\n")]
    return "\n".join(lines).strip()


def _statements(body: list[nodes.Node], title: str) -> str:
    return "".join(_statement(node, title) for node in body)


def _statement(node: nodes.Node, title: str) -> str:
    if isinstance(node, nodes.Output):
        return "".join(n.data if isinstance(n, nodes.TemplateData) else _expression(n, title) for n in node.nodes)
    if isinstance(node, nodes.If):
        branches = [node.body, *(e.body for e in node.elif_), node.else_]
        return _alternatives([_statements(b, title) for b in branches])
    if isinstance(node, nodes.For):  # what it goes through, once, and the space its body ends with
        return _expression(node.iter, title) + (" " if _statements(node.body, title)[-1:].isspace() else "")
    if isinstance(node, nodes.With | nodes.Scope | nodes.ScopedEvalContextModifier):
        return _statements(node.body, title)
    return ""  # {% set %}, macros and the like show nothing


def _alternatives(pieces: list[str]) -> str:
    """The branches some participants get, in brackets (the spaces around them kept outside)."""
    shown = [p.strip() for p in pieces if p.strip()]
    if not shown:
        return ""
    before = " " if any(p[:1].isspace() for p in pieces if p.strip()) else ""
    after = " " if any(p[-1:].isspace() for p in pieces if p.strip()) else ""
    return f"{before}[{' / '.join(shown)}]{after}"


def _expression(node: nodes.Node, title: str) -> str:
    if isinstance(node, nodes.Const):
        return "" if node.value is None else str(node.value)
    dotted = _dotted(node)
    if dotted is not None:
        return title if dotted == "study.title" and title else f"[{dotted}]"
    if isinstance(node, nodes.Filter):
        return _expression(node.node, title) if node.node is not None else ""
    if isinstance(node, nodes.Or | nodes.And):
        return _expression(node.left, title) or _expression(node.right, title)
    if isinstance(node, nodes.CondExpr):
        return _alternatives([_expression(node.expr1, title), *([_expression(node.expr2, title)] if node.expr2 else [])])
    if isinstance(node, nodes.Concat):
        return "".join(_expression(n, title) for n in node.nodes)
    read = next((d for n in node.find_all((nodes.Getattr, nodes.Getitem, nodes.Name)) if (d := _dotted(n))), None)
    return f"[{read}]" if read else ""


def _dotted(node: nodes.Node) -> str | None:
    """``participant.name`` for ``participant.name`` or ``participant['name']``; None for anything else."""
    if isinstance(node, nodes.Name):
        return node.name
    if isinstance(node, nodes.Getattr):
        inner = _dotted(node.node)
        return f"{inner}.{node.attr}" if inner else None
    if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const):
        inner = _dotted(node.node)
        return f"{inner}.{node.arg.value}" if inner else None
    return None


# ----------------------------------------------------------------------------- choice experiments

_LEVEL = re.compile(r"^(?P<attribute>.+)\[(?P<level>.*)\]$")
OPT_OUT_CODES = frozenset({"optout", "opt_out"})
"""How the desk's model (``optout``) and ``chorus report``'s (``opt_out``) name choosing Neither."""


@dataclass
class ChoiceWords:
    """How a choice experiment's model codes read: ``who[any nurse]`` as "Who: any nurse",
    ``wait`` as "Wait, per week", the wait's unit as "weeks of wait". An attribute reads as its
    name ("travel_time": "Travel time") and a number's unit comes from its levels' labels
    ("2 weeks"); an attribute's own ``label`` and ``unit`` win, should a flow give them."""

    attributes: dict[str, str] = field(default_factory=dict)
    """Attribute name -> its label ("Who")."""
    levels: dict[str, dict[str, str]] = field(default_factory=dict)
    """Attribute name -> level -> how the level reads."""
    units: dict[str, tuple[str, str]] = field(default_factory=dict)
    """A numeric attribute -> its unit (plural, one), from its levels' labels ("weeks", "week")."""
    after_number: set[str] = field(default_factory=set)
    """Numeric attributes whose unit is a symbol written after the number ("10%"), not before it ("£10")."""
    neither: str = "Neither"
    language: str = "en"

    @classmethod
    def of(cls, steps: Iterable[Mapping[str, Any]], language: str) -> ChoiceWords:
        """From choice-experiment steps as their flows have them (the latest last: it wins)."""
        words = cls(language=language)
        for raw in steps:
            attributes = raw.get("attributes")
            for name, spec in (attributes.items() if isinstance(attributes, Mapping) else ()):
                words._add(str(name), spec if isinstance(spec, Mapping) else {"levels": spec}, language)
            if raw.get("neither_label") is not None:
                words.neither = display_text(raw["neither_label"], language) or words.neither
        return words

    def _add(self, name: str, spec: Mapping[str, Any], language: str) -> None:
        label = display_text(spec.get("label"), language).strip()  # 'who you see', written to go mid-sentence
        self.attributes[name] = label[:1].upper() + label[1:] if label else name.replace("_", " ").strip().capitalize()
        given = spec.get("labels")
        labels: Mapping[Any, Any] = given if isinstance(given, Mapping) else {}
        levels = [level for level in spec.get("levels") or [] if not isinstance(level, bool)]
        self.levels[name] = {str(level): display_text(labels.get(str(level), labels.get(level)), language) or str(level)
                             for level in levels}
        unit = _unit(levels, self.levels[name], language)
        if isinstance(spec.get("unit"), str | dict):
            plural = display_text(spec["unit"], language)
            unit = (plural, _singular(plural, language))
        if unit:
            unit = (unit[0].split()[0], unit[1].split()[0]) if _has_letters(unit[0]) else unit  # "miles away": "miles"
            self.units[name] = unit
            if not _has_letters(unit[0]) and _symbol_after(levels, self.levels[name], unit[0]):
                self.after_number.add(name)
            if not display_text(spec.get("label"), language):
                self.attributes[name] = _name_without_unit(name, unit)

    def attribute(self, name: str) -> str:
        return self.attributes.get(name, name)

    def level(self, attribute: str, level: Any) -> str:
        return self.levels.get(attribute, {}).get(str(level), str(level))

    def feature(self, code: str) -> str:
        """A model feature in words: "Who: any nurse", "Wait, per week", "Neither"; an unknown code as it is."""
        if code in OPT_OUT_CODES:
            return self.neither
        level = _LEVEL.match(code)
        if level and level["attribute"] in self.attributes:
            return f"{self.attribute(level['attribute'])}: {self.level(level['attribute'], level['level'])}"
        if code not in self.attributes:
            return code
        unit = self.units.get(code)
        if unit is None:
            return self.attribute(code)
        return f"{self.attribute(code)}, per {unit[1] if _has_letters(unit[1]) else self.one(code, unit[1])}"

    def one(self, name: str, symbol: str) -> str:
        """One of a symbol's unit: "£1", or "1%" where the labels write it after the number."""
        return f"1{symbol}" if name in self.after_number else f"{symbol}1"

    def amount(self, name: str) -> str:
        """What a numeric attribute counts in: "weeks of wait", "cost (£)" (in a study in
        another language, "wait (wythnos)"); without a unit, its label."""
        unit = self.units.get(name)
        label = _in_sentence(self.attribute(name))
        if unit is None:
            return label
        in_english = self.language.startswith("en") and _has_letters(unit[0])
        return f"{unit[0]} of {label}" if in_english else f"{label} ({unit[0]})"


def trade_in_words(words: ChoiceWords, against: str, estimate: float, low: float | None, high: float | None) -> str:
    """A willingness-to-trade row as a coordinator can act on it: the change in ``against`` (a
    wait, a cost) that evens out the feature, "evened out by 2.0 weeks less wait", and whether
    its 95% interval leaves the direction open ("either way")."""
    unit = words.units.get(against)
    name = _in_sentence(words.attribute(against))
    amount = f"{abs(estimate):.1f}"
    if unit is None:
        amount = f"{amount} of {name}"
    elif _has_letters(unit[0]):
        amount = f"{amount} {unit[1] if amount == '1.0' else unit[0]}"
    elif against in words.after_number:
        amount = f"{amount}{unit[0]}"
    else:
        amount = f"{unit[0]}{amount}"
    direction = "less" if estimate < 0 else "more"
    said = f"evened out by {amount} {direction} {name}" if unit is not None else f"evened out by {amount} {direction}"
    if low is not None and high is not None and low < 0 < high:
        said += " (the interval runs either way: not yet clear)"
    return said


def _name_without_unit(name: str, unit: tuple[str, str]) -> str:
    """An attribute's name read without the unit its levels already give: "wait_weeks" (levels
    "2 weeks") as "Wait", not "Wait weeks, per week"; "distance_in_miles" as "Distance". A name
    that is only the unit stays as it is."""
    words = name.replace("_", " ").split()
    said = {word.lower() for part in unit for word in part.split()[:1]}
    kept = [word for word in words if word.lower() not in said]
    while len(kept) > 1 and kept[-1].lower() in ("in", "per", "of"):
        kept.pop()
    return " ".join(kept).capitalize() if kept and len(kept) < len(words) else name.replace("_", " ").strip().capitalize()


def _has_letters(text: str) -> bool:
    return any(c.isalpha() for c in text)


def _in_sentence(label: str) -> str:
    """"Wait" as it reads mid-sentence ("wait"); "NHS cost" kept."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _unit(levels: list[Any], labels: Mapping[str, str], language: str) -> tuple[str, str] | None:
    """(plural, singular) of the unit a numeric attribute's labels give: "2 weeks" -> "weeks"
    (and "week" from "1 week", else by dropping an English "s"); None without one."""
    if not levels or not all(isinstance(level, int | float) for level in levels):
        return None
    found: dict[bool, str] = {}
    for level in levels:
        number = f"{level:g}"
        label = labels.get(str(level), "")
        if label == str(level) or not re.search(rf"(?<![\d.]){re.escape(number)}(?![\d.])", label):
            continue
        unit = _SPACES.sub(" ", re.sub(rf"(?<![\d.]){re.escape(number)}(?![\d.])", "", label, count=1)).strip()
        if unit:
            found.setdefault(level == 1, unit)
    plural = found.get(False) or found.get(True)
    if plural is None:
        return None
    return plural, found.get(True) or _singular(plural, language)


def _symbol_after(levels: list[Any], labels: Mapping[str, str], symbol: str) -> bool:
    """Whether a numeric attribute's labels write its unit's ``symbol`` right after the number
    ("10% enhancement", "20 %"), so one of it reads "1%", not "%1" as a currency's "£1" does."""
    return any(re.search(rf"(?<![\d.]){re.escape(f'{level:g}')} ?{re.escape(symbol)}", labels.get(str(level), ""))
               for level in levels)


def _singular(unit: str, language: str) -> str:
    """"week" for "weeks" in English; any other unit as it is."""
    return unit[:-1] if language.startswith("en") and unit.endswith("s") and not unit.endswith("ss") else unit
