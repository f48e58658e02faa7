"""Merge near-identical suggestions (Delphi item lists, idea pools) so that a
coordinator approves one item with its count instead of reading the same idea
twelve times.

Two suggestions merge when their normalised text is equal (case, punctuation
and spacing ignored) or when their sentence embeddings are close: average-
linkage clustering with a cosine-similarity floor, which, unlike chaining
pairs together, does not let "more nurses" and "more parking" join through a
suggestion halfway between them. The groups are proposals: nothing is
merged until the coordinator approves.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sklearn.cluster import AgglomerativeClustering

DEFAULT_SIMILARITY = 0.7


@dataclass(frozen=True)
class DuplicateGroup:
    """One proposed merged item: the wording to keep, and who suggested it."""

    text: str
    count: int
    ids: list[str]
    variants: list[str]


def normalise(text: str) -> str:
    text = re.sub(r"[^\w\s]", " ", text.lower().replace("&", " and "))
    return re.sub(r"\s+", " ", text).strip()


def _groups_by_similarity(vectors: np.ndarray, similarity: float) -> np.ndarray:
    if len(vectors) < 2:
        return np.zeros(len(vectors), dtype=np.int64)
    model = AgglomerativeClustering(
        n_clusters=None, metric="cosine", linkage="average", distance_threshold=1 - similarity
    )
    return model.fit_predict(vectors)


def merge_duplicates(
    items: Sequence[tuple[str, str]],
    similarity: float = DEFAULT_SIMILARITY,
    vectors: np.ndarray | None = None,
) -> list[DuplicateGroup]:
    """Group (id, text) suggestions; biggest groups first.

    ``vectors`` may give the texts' sentence embeddings; otherwise they are
    computed. Identical normalised texts are embedded once.
    """
    if not items:
        return []
    keys = [normalise(text) for _, text in items]
    unique = list(dict.fromkeys(keys))
    if vectors is None:
        from nlp.embed import embed

        first = {k: text for k, (_, text) in zip(reversed(keys), reversed(items), strict=True)}
        unique_vectors = embed([first[k] for k in unique])
    else:
        row = {k: i for i, k in enumerate(keys)}
        unique_vectors = vectors[[row[k] for k in unique]]
    label_of = dict(zip(unique, _groups_by_similarity(unique_vectors, similarity), strict=True))
    members: dict[int, list[int]] = {}
    for n, key in enumerate(keys):
        members.setdefault(int(label_of[key]), []).append(n)
    groups = [_group(items, keys, idx) for idx in members.values()]
    return sorted(groups, key=lambda g: (-g.count, g.text))


def _group(items: Sequence[tuple[str, str]], keys: list[str], idx: list[int]) -> DuplicateGroup:
    """The wording kept is the most common one (the shortest on a tie)."""
    counts = Counter(keys[i] for i in idx)
    best_key = min(counts, key=lambda k: (-counts[k], len(k)))
    text = next(items[i][1].strip() for i in idx if keys[i] == best_key)
    variants = list(dict.fromkeys(items[i][1].strip() for i in idx))
    return DuplicateGroup(text=text, count=len(idx), ids=[items[i][0] for i in idx], variants=variants)
