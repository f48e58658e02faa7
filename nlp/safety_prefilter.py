"""Necessary literals of a regular expression: strings one of which every match contains.
:mod:`nlp.safety_patterns` searches a category only when the text holds one of its patterns'
literals, :mod:`nlp.safety_text` removes idioms only when it holds one of theirs: where none is,
nothing can match, so the result is the same, sooner. Worked out over :mod:`re._parser`'s tree,
per node: ``exact``, every string it can consume when few (``kill(ing)?``: "kill", "killing"),
and ``needed``. A sequence takes the most selective of its parts' sets and of its runs of exact
parts multiplied out; an alternation or a class, the union of its branches' (none if one has
none); a repeat of at least once, its body's; optional parts, lookarounds and ``\\b``, nothing;
IGNORECASE, back-references and the unknown give nothing, always safe: such a pattern always runs.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from itertools import product
from re import _constants as sre  # type: ignore[attr-defined]
from re import _parser as sre_parse  # type: ignore[attr-defined]
from typing import Any

Literals = frozenset[str]

MAX_STRINGS = 64
"""The most strings an ``exact`` set holds: past that, a run of exact parts is cut in two."""
_EMPTY: Literals = frozenset({""})
_STRING = "string"  # the op of a run of plain characters joined into one (_joined_literals)
_REPEATS = {sre.MAX_REPEAT, sre.MIN_REPEAT, sre.POSSESSIVE_REPEAT}
_CONSUME_NOTHING = {sre.AT, sre.ASSERT, sre.ASSERT_NOT}


def necessary_literals(pattern: re.Pattern[str]) -> Literals | None:
    """Strings one of which every match of ``pattern`` contains (none containing another), or None
    when no such set is known: the pattern must then always be run."""
    parsed = sre_parse.parse(pattern.pattern, pattern.flags)
    if (pattern.flags | parsed.state.flags) & re.IGNORECASE:
        return None
    needed = _sequence(list(parsed)).needed
    return None if needed is None else _shortest_only(needed)


def combined_literals(patterns: Iterable[re.Pattern[str]]) -> Literals | None:
    """The union of the patterns' necessary literals, one of them in any text that one of the
    patterns matches; None when a pattern has none."""
    union: set[str] = set()
    for pattern in patterns:
        literals = necessary_literals(pattern)
        if literals is None:
            return None
        union |= literals
    return frozenset(union)


def literal_search(literals: Iterable[str]) -> re.Pattern[str]:
    """Found in a text exactly when one of ``literals`` is: their trie, a few tests per position."""
    trie: dict[str, Any] = {}
    for literal in literals:
        node = trie
        for char in literal:
            node = node.setdefault(char, {})
        node[""] = {}
    return re.compile(_trie_pattern(trie) if trie else "(?!)")


def _trie_pattern(node: dict[str, Any]) -> str:
    if "" in node:  # a literal ends here: longer ones add nothing
        return ""
    branches = [re.escape(char) + _trie_pattern(child) for char, child in sorted(node.items())]
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


class Prefilter:
    """Which groups of patterns (in order) may match a text: a group is left out only when none of
    its literals is in the text. One search for all their literals first: most texts hold none."""

    def __init__(self, groups: Mapping[str, Iterable[re.Pattern[str]]]) -> None:
        literals = {name: combined_literals(patterns) for name, patterns in groups.items()}
        self._each = {name: None if found is None else literal_search(found) for name, found in literals.items()}
        known = [found for found in literals.values() if found is not None]
        self._any = literal_search(frozenset().union(*known)) if len(known) == len(literals) else None

    def candidates(self, text: str) -> Iterator[str]:
        """The names of the groups that may match ``text``, in their order."""
        if self._any is not None and self._any.search(text) is None:
            return
        for name, search in self._each.items():
            if search is None or search.search(text):
                yield name


@dataclass(frozen=True)
class _Facts:
    exact: Literals | None  # every string the node can consume (a superset will do), or None
    needed: Literals | None  # strings one of which every match of the node contains, or None


_NOTHING = _Facts(None, None)


def _shortest_only(strings: Iterable[str]) -> Literals:
    """``strings`` without those containing another of them: the same test, fewer strings."""
    kept: list[str] = []
    for string in sorted(set(strings), key=len):
        if not any(short in string for short in kept):
            kept.append(string)
    return frozenset(kept)


def _score(literals: Literals) -> float:
    """Higher is more selective: minus a text's rough chance of holding one, each character one of 6
    (a space counts half: texts have many), so that " of " loses to forty names of medicines."""
    return -sum(6.0 ** (string.count(" ") / 2 - len(string)) for string in literals)


def _best(*candidates: Literals | None) -> Literals | None:
    usable = [c for c in candidates if c and "" not in c]
    return max(usable, key=_score) if usable else None


def _join(left: Literals | None, right: Literals | None) -> Literals | None:
    if left is None or right is None or len(left) * len(right) > MAX_STRINGS:
        return None
    return frozenset(a + b for a, b in product(left, right))


def _sequence(items: list[tuple[Any, Any]]) -> _Facts:
    """A sequence: each part's needed set, and the runs of exact parts multiplied out."""
    parts = [_node(op, av) for op, av in _joined_literals(items)]
    candidates: list[Literals | None] = [part.needed for part in parts]
    run: Literals = _EMPTY
    whole: Literals | None = _EMPTY
    for part in parts:
        whole = _join(whole, part.exact)
        joined = _join(run, part.exact)
        if joined is None:
            candidates.append(run)
            joined = part.exact or _EMPTY
        run = joined
    return _Facts(whole, _best(*candidates, run))


def _joined_literals(items: list[tuple[Any, Any]]) -> Iterator[tuple[Any, Any]]:
    """``items`` with each run of plain characters as one item, a string (the common case)."""
    chars: list[str] = []
    for op, av in [*items, (None, None)]:
        if op is sre.LITERAL:
            chars.append(chr(av))
            continue
        if chars:
            yield _STRING, "".join(chars)
        chars = []
        if op is not None:
            yield op, av


def _branch(branches: list[Any]) -> _Facts:
    facts = [_sequence(list(branch)) for branch in branches]
    exact = None if any(f.exact is None for f in facts) else frozenset().union(*(f.exact or () for f in facts))
    needed = None if any(f.needed is None for f in facts) else frozenset().union(*(f.needed or () for f in facts))
    exact = exact if exact is not None and len(exact) <= MAX_STRINGS else None
    return _Facts(exact, _best(needed, exact))


def _char_class(items: list[tuple[Any, Any]]) -> _Facts:
    """``[abc]``, ``[a-e]``: the characters, when few; nothing for negated classes or ``\\w``."""
    chars: set[str] = set()
    for op, av in items:
        if op is sre.LITERAL:
            chars.add(chr(av))
        elif op is sre.RANGE and av[1] - av[0] < MAX_STRINGS:
            chars.update(chr(code) for code in range(av[0], av[1] + 1))
        else:
            return _NOTHING
    exact = frozenset(chars) if len(chars) <= MAX_STRINGS else None
    return _Facts(exact, exact)


def _repeat(low: int, high: int, body: _Facts) -> _Facts:
    """``x{low,high}``: its body's needed set if at least once; exact strings for ``x?`` and ``x{1}``."""
    exact = None if body.exact is None or high > 1 else body.exact | (_EMPTY if low == 0 else frozenset())
    return _Facts(exact, _best(body.needed if low >= 1 else None, exact))


def _node(op: Any, av: Any) -> _Facts:
    if op is _STRING:
        return _Facts(frozenset({av}), frozenset({av}))
    if op in _CONSUME_NOTHING:
        return _Facts(_EMPTY, None)
    if op is sre.IN:
        return _char_class(list(av))
    if op is sre.BRANCH:
        return _branch(list(av[1]))
    if op is sre.SUBPATTERN:  # (group, flags added, flags removed, body)
        return _NOTHING if av[1] & re.IGNORECASE else _sequence(list(av[3]))
    if op is sre.ATOMIC_GROUP:
        return _sequence(list(av))
    if op in _REPEATS:
        low, high, body = av
        return _repeat(low, high, _sequence(list(body)))
    return _NOTHING  # ANY, NOT_LITERAL, CATEGORY, GROUPREF, GROUPREF_EXISTS...
