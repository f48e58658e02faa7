"""A choice task answered by describing the alternative: 'the cheaper one', 'sooner', 'the one
with more pay', 'the shorter shift', 'less travel', 'the one with break cover'. Each is read
against the levels of the task shown, and picks an alternative only when exactly one fits.

- a cost comparison ('cheaper', 'dearer', 'rhatach') compares the attribute that is a cost:
  one the flow declares (``cost: true``) or one whose name says so (cost, price, fee, fare,
  charge; never 'pay', 'salary' or 'income', which the participant receives);
- 'sooner', 'quicker' compare a wait (wait, delay); 'nearer', 'closer' a distance (distance,
  travel, journey, miles, km);
- 'more', 'less', 'higher', 'lower', 'shorter', 'longer' (Welsh 'mwy', 'llai', 'uwch',
  'byrrach', 'hirach') before a word of a numeric attribute's name or of every one of its
  labels ('more pay', 'the shorter shift' for ``shift_hours`` labelled '8-hour shift');
- 'with', 'has' (Welsh 'gyda', 'â') or 'without', 'no' (Welsh 'heb') before a word of a
  two-level attribute one of whose levels is its absence (0, 'no', a label 'No break cover').
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

_NAME_PARTS = re.compile(r"[^a-z0-9]+")
_COST_NAME = re.compile(r"costs?|prices?|fees?|fares?|charges?")
_WAIT_NAME = re.compile(r"waits?|waiting|delays?")
_DISTANCE_NAME = re.compile(r"distance|travel|travelling|journey|miles?|km")
_CHEAPER = re.compile(r"\b(?:cheap(?:er|est)?|less expensive|least expensive|costs? less|lower (?:cost|price)|rhatach|rhataf|rhad)\b")
_DEARER = re.compile(r"\b(?:dearer|dearest|pricier|more expensive|costs? more|higher (?:cost|price)|drutach|drutaf)\b")
_SOONER = re.compile(r"\b(?:quick(?:er|est)|soon(?:er|est)|fast(?:er|est)|earlier|earliest|shorter wait|less waiting"
                     r"|cynt|gynt|cynharach|gynharach|cyflymach|gyflymach)\b")
_NEARER = re.compile(r"\b(?:near(?:er|est)|closer|closest|less travel(?:ling)?|agosach|agosaf)\b")
_LOWER = r"less|lower|lowest|shorter|shortest|fewer|fewest|smaller|smallest|least|llai|lleiaf|byrrach|byrraf"
_HIGHER = r"more|higher|highest|longer|longest|bigger|biggest|larger|largest|greater|most|mwy|mwyaf|uwch|uchaf|hirach|hiraf"
_DIRECTION = re.compile(rf"\b(?:(?P<low>{_LOWER})|(?P<high>{_HIGHER}))\s+(?:o\s+|of\s+)?(?P<word>[a-z']+)")
_WITH = re.compile(r"\b(?:(?P<yes>with|has|have|having|gyda|gydag|efo|â|ag)|(?P<no>without|no|heb))\s+(?:a\s+|an\s+|the\s+)?(?P<rest>.+)")
_ABSENT_LEVELS = {"no", "none", "without", "false", "0", "dim", "na"}
_ABSENT_LABEL = re.compile(r"^(?:no|without|dim|heb)\b", re.IGNORECASE)
_LITTLE = {"the", "and", "per", "for", "with", "one", "yes", "a", "an", "of", "in", "at", "to", "yr", "y", "o", "am"}


@dataclass(frozen=True)
class Described:
    """An attribute as replies may describe it: its name, its levels, their labels in every
    language (level -> texts), and whether it is a cost."""

    name: str
    levels: tuple[Any, ...]
    labels: Mapping[str, tuple[str, ...]]
    cost: bool

    @property
    def numeric(self) -> bool:
        return all(isinstance(level, int | float) for level in self.levels)

    def name_words(self) -> list[str]:
        return [part for part in _NAME_PARTS.split(self.name.lower()) if part]

    def words(self) -> set[str]:
        """The words that name it: its name's, and those every level's label shares ('shift' in '8-hour shift')."""
        found = {_singular(word) for word in self.name_words() if len(word) > 2}
        texts = [self.labels.get(str(level), ()) for level in self.levels]
        if all(texts):
            shared = set.intersection(*({_singular(w) for text in said for w in re.findall(r"[a-z']+", text.lower())} for said in texts))
            found |= {word for word in shared if len(word) > 2 and word not in _LITTLE}
        return found

    def absent(self) -> Any:
        """The level that is the attribute's absence (0, 'no', labelled 'No break cover'); None if none is."""
        if len(self.levels) != 2:
            return None
        found = [level for level in self.levels if str(level).strip().lower() in _ABSENT_LEVELS
                 or any(_ABSENT_LABEL.match(text) for text in self.labels.get(str(level), ()))]
        return found[0] if len(found) == 1 else None


def is_cost(name: str, declared: bool | None) -> bool:
    """Whether an attribute is a cost: as the flow declares it (``cost: true`` or ``false``), else
    when a word of its name is cost, price, fee, fare or charge ('parking_fee'); never 'pay',
    'salary', 'income' or 'enhancement', which the participant is given, not charged."""
    if declared is not None:
        return declared
    return any(_COST_NAME.fullmatch(part) for part in _NAME_PARTS.split(name.lower()))


def _singular(word: str) -> str:
    return word[:-1] if len(word) > 3 and word.endswith("s") and not word.endswith("ss") else word


def asks_cost(text: str) -> bool:
    """'the cheaper one', 'dearer', 'rhatach': a reply that compares costs."""
    return bool(_CHEAPER.search(text) or _DEARER.search(text))


def _extreme(profiles: list[dict[str, Any]], attribute: str, lowest: bool) -> int | None:
    """The one alternative lowest (or highest) on ``attribute``; None when alternatives tie."""
    values = [float(profile[attribute]) for profile in profiles]
    best = min(values) if lowest else max(values)
    return values.index(best) if values.count(best) == 1 else None


def _one(attributes: Iterable[Described]) -> Described | None:
    found = [attribute for attribute in attributes if attribute.numeric]
    return found[0] if len(found) == 1 else None


class Compared(NamedTuple):
    """What a reply's descriptions pick (:func:`picks`)."""

    picked: set[int | None]
    """The alternative each description picks; None for one that fits no single alternative."""
    rest: str
    """The reply without its descriptions: their words ('more' in 'more travel') name no level."""
    tied: tuple[str, ...]
    """The attributes a description compared on which every alternative is the same ('the
    nearer one' with both 10 miles away): the participant is told why no one fits."""


def picks(clean: str, attributes: list[Described], profiles: list[dict[str, Any]]) -> Compared:
    """The alternatives a reply (normalised) picks by each description in it (None for one
    that fits no single alternative: no such attribute, several, or a tie), and the reply
    without those descriptions."""
    picked: set[int | None] = set()
    said: list[tuple[int, int]] = []
    tied: list[str] = []

    def by(attribute: Described | None, lowest: bool, span: tuple[int, int]) -> None:
        one = None if attribute is None else _extreme(profiles, attribute.name, lowest)
        if attribute is not None and len({str(profile[attribute.name]) for profile in profiles}) == 1:
            tied.append(attribute.name)
        picked.add(one)
        said.append(span)

    for pattern, lowest in ((_CHEAPER, True), (_DEARER, False)):
        for found in pattern.finditer(clean):
            by(_one(a for a in attributes if a.cost), lowest, found.span())
    for pattern, name in ((_SOONER, _WAIT_NAME), (_NEARER, _DISTANCE_NAME)):
        for found in pattern.finditer(clean):
            by(_one(a for a in attributes if any(name.fullmatch(part) for part in a.name_words())), True, found.span())
    for found in _DIRECTION.finditer(clean):
        word = _singular(found.group("word"))
        named = [a for a in attributes if a.numeric and word in a.words()]
        if named:
            by(_one(named), found.group("low") is not None, found.span())
    for found in _WITH.finditer(clean):
        words = found.group("rest").split()[:3]
        named = [a for a in attributes if a.absent() is not None and a.words() & {_singular(word) for word in words}]
        if named:
            picked.add(_present(named, profiles, found.group("no") is not None))
            said.append((found.start(), found.start("rest") + len(" ".join(words))))
    rest = "".join(" " if any(start <= i < end for start, end in said) else char for i, char in enumerate(clean))
    return Compared(picked, rest, tuple(dict.fromkeys(tied)))


def _present(named: list[Described], profiles: list[dict[str, Any]], absent: bool) -> int | None:
    """The one alternative with (or without) the attribute named; None when it is not one."""
    if len(named) != 1:
        return None
    attribute = named[0]
    shown = [(profile[attribute.name] == attribute.absent()) == absent for profile in profiles]
    return shown.index(True) if shown.count(True) == 1 else None


def without_absences(clean: str, attributes: list[Described]) -> str:
    """A reply (normalised) less the absences it names ('without break cover', 'no cover'), so
    that the negation left, if any, can be told from a wish for the attribute's absence."""
    for attribute in attributes:
        if attribute.absent() is None:
            continue
        for word in attribute.words():
            clean = re.sub(rf"\b(?:without|no|heb)\s+(?:a\s+|an\s+|the\s+)?{re.escape(word)}s?\b", " ", clean)
    return clean
