"""Which pair of ideas to show next: pure Python, so drawing a pair (each pairwise prompt, and
``chorus validate`` composing one) loads none of the scoring's numerical libraries."""

from __future__ import annotations

import random
from collections.abc import Collection, Mapping, Sequence


def choose_pair(
    pool: Sequence[str],
    counts: Mapping[str, int],
    rng: random.Random,
    seen: Collection[frozenset[str]] = (),
) -> tuple[str, str]:
    """The next pair to show: least-compared items first, not a pair already seen.

    Items are ordered by how often they have been compared, ties broken by
    ``rng``; the first pair in that order that the participant has not seen is
    chosen. When every pair has been seen, the least-compared pair is shown
    again. The two are returned in random order, so neither side is favoured.
    """
    items = list(dict.fromkeys(pool))
    if len(items) < 2:
        raise ValueError("a pair needs at least two different items")
    rng.shuffle(items)
    items.sort(key=lambda item: counts.get(item, 0))
    pair = (items[0], items[1])
    for i, first in enumerate(items):
        second = next((o for o in items[i + 1:] if frozenset((first, o)) not in seen), None)
        if second is not None:
            pair = (first, second)
            break
    return pair if rng.random() < 0.5 else (pair[1], pair[0])
