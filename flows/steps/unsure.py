"""Reading "not sure" on the steps that allow it (a scale with ``unsure``, a Delphi item).

Not a step type itself (it registers nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

from flows.parsing import match_option, normalise

_NOTHING: list[str] = []
"""A stand-in option with no words, listed beside the unsure words to tell a reply that names
them from one that names a place in a list."""


def says_unsure(text: str, names: Sequence[str]) -> bool:
    """Whether a reply says one of ``names`` ('not sure', 'dunno', the unsure button's label) or
    a close misspelling of one ('not sur'). Never a number, a lone letter or a place: 'the
    first one', 'the last one', 'number one', 'y cyntaf' and 'b' each name a place in a list,
    and :func:`match_option`, given the unsure words alone, reads any place as them. Read with
    the words listed first and then second, only a reply that names them picks them both times."""
    said = normalise(text)
    if not said or any(c.isdigit() for c in said):
        return False
    if said in {normalise(name) for name in names}:
        return True
    words = list(names)
    return match_option(text, [words, _NOTHING]) == 0 and match_option(text, [_NOTHING, words]) == 1


def says_only_unsure(text: str, names: Sequence[str]) -> bool:
    """Whether a reply is, word for word, one of ``names`` ('dim syniad', 'not sure'): read
    before any number in it, as 'dim' (nothing) in 'dim syniad' is not a score of 0."""
    said = normalise(text)
    return bool(said) and said in {normalise(name) for name in names}
