"""Tag answers with the themes of a coordinator's codebook, and learn from
corrections.

A codebook is YAML::

    themes:
      - id: waiting
        label: Waiting times
        description: How long people waited ...
        examples: ["Waited 7 hours in A&E", ...]

The tagger is a one-vs-rest logistic regression on sentence embeddings,
topic embeddings (:mod:`nlp.embed`) and TF-IDF word features. It starts from
each theme's label, description (whole and phrase by phrase) and examples,
and is retrained with every batch of corrections (answer -> the themes it
should have). :meth:`Tagging.review_queue` puts the answers it is least sure
of first, so a coordinator's corrections teach it the most. Several themes
may fit one answer; an answer with no theme scoring at least ``threshold`` is listed
as unmatched, for review.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import yaml
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

CORRECTION_WEIGHT = 1.0
REGULARISATION = 10.0
_PHRASE_BREAK = re.compile(r"[,;:.]| or | and ")
Encoder = Callable[[list[str]], tuple[np.ndarray, np.ndarray]]
"""Texts -> (sentence vectors, topic vectors); see :func:`nlp.embed.encode`."""
DEFAULT_THRESHOLD = 0.35


@dataclass(frozen=True)
class CodebookTheme:
    id: str
    label: str
    description: str = ""
    examples: tuple[str, ...] = ()

    def seed_texts(self) -> list[str]:
        """What the tagger learns a theme from before any correction: the
        label with the description, each phrase of the description on its own
        (a short phrase such as "parking charges" is a strong word-level cue;
        measured: +8 points of accuracy), and the examples."""
        first = f"{self.label}. {self.description}".strip()
        phrases = [p.strip() for p in _PHRASE_BREAK.split(self.description)]
        return [first, *[p for p in phrases if len(p) > 2], *self.examples]


@dataclass(frozen=True)
class Codebook:
    themes: tuple[CodebookTheme, ...]

    @property
    def ids(self) -> list[str]:
        return [t.id for t in self.themes]


class CodebookError(ValueError):
    """A codebook file that cannot be used; the message says what to fix."""


def parse_codebook(data: object, source: str = "codebook") -> Codebook:
    """A :class:`Codebook` from parsed YAML (a mapping with ``themes``)."""
    if not isinstance(data, Mapping) or not isinstance(data.get("themes"), list):
        raise CodebookError(f"{source}: expected a mapping with a list under 'themes'")
    themes = []
    for n, item in enumerate(data["themes"]):
        if not isinstance(item, Mapping) or not item.get("id"):
            raise CodebookError(f"{source}: themes[{n}]: each theme needs an 'id'")
        examples = item.get("examples") or []
        if not isinstance(examples, list):
            raise CodebookError(f"{source}: themes[{n}].examples: expected a list of strings")
        themes.append(
            CodebookTheme(
                id=str(item["id"]),
                label=str(item.get("label") or item["id"]),
                description=str(item.get("description") or ""),
                examples=tuple(str(e) for e in examples),
            )
        )
    ids = [t.id for t in themes]
    if len(set(ids)) != len(ids):
        raise CodebookError(f"{source}: theme ids must be unique")
    if len(themes) < 2:
        raise CodebookError(f"{source}: a codebook needs at least two themes")
    return Codebook(tuple(themes))


def load_codebook(path: str | Path) -> Codebook:
    text = Path(path).read_text(encoding="utf-8")
    return parse_codebook(yaml.safe_load(text), str(path))


@dataclass(frozen=True)
class Tagging:
    """Per answer id: (theme id, score) pairs at or above the threshold, best
    first; ``scores`` holds every theme's score; ``unmatched`` the ids with none."""

    tags: dict[str, list[tuple[str, float]]]
    scores: dict[str, dict[str, float]]
    unmatched: list[str] = field(default_factory=list)

    def top(self, answer_id: str) -> str:
        row = self.scores[answer_id]
        return max(row, key=lambda k: row[k])

    def review_queue(self) -> list[str]:
        """Answer ids, least confident first: what a coordinator should check
        (and correct) first, because those corrections teach the tagger most."""
        return sorted(self.scores, key=lambda a: max(self.scores[a].values()))


class Tagger:
    """Tags answers with a codebook's themes; :meth:`correct` teaches it."""

    def __init__(
        self,
        codebook: Codebook,
        threshold: float = DEFAULT_THRESHOLD,
        encoder: Encoder | None = None,
    ) -> None:
        self.codebook = codebook
        self.threshold = threshold
        self.encoder = encoder or default_encoder
        self.corrections: dict[str, tuple[str, list[str]]] = {}

    def correct(self, answer_id: str, text: str, themes: Sequence[str]) -> None:
        """Record that ``answer_id`` (with ``text``) belongs to ``themes``
        (possibly none); the next :meth:`tag` call learns from it."""
        unknown = set(themes) - set(self.codebook.ids)
        if unknown:
            raise CodebookError(f"unknown theme(s) {sorted(unknown)}: use {self.codebook.ids}")
        self.corrections[answer_id] = (text, list(themes))

    def _training(self) -> tuple[list[str], np.ndarray, np.ndarray]:
        texts: list[str] = []
        rows: list[list[int]] = []
        weights: list[float] = []
        ids = self.codebook.ids
        for n, theme in enumerate(self.codebook.themes):
            for text in theme.seed_texts():
                texts.append(text)
                rows.append([int(i == n) for i in range(len(ids))])
                weights.append(1.0)
        for text, themes in self.corrections.values():
            texts.append(text)
            rows.append([int(t in themes) for t in ids])
            weights.append(CORRECTION_WEIGHT)
        return texts, np.array(rows), np.array(weights)

    def tag(self, answers: Sequence[tuple[str, str]]) -> Tagging:
        """Tag (id, text) answers with the themes that fit, and their scores."""
        train_texts, labels, weights = self._training()
        texts = [t for _, t in answers]
        features = features_for(train_texts + texts, self.encoder)
        train, test = features[: len(train_texts)], features[len(train_texts) :]
        probabilities = np.zeros((len(texts), len(self.codebook.ids)))
        for j in range(len(self.codebook.ids)):
            column = labels[:, j]
            if column.min() == column.max():
                probabilities[:, j] = float(column[0])
                continue
            model = LogisticRegression(C=REGULARISATION, max_iter=3000, class_weight="balanced")
            model.fit(train, column, sample_weight=weights)
            probabilities[:, j] = model.predict_proba(test)[:, 1]
        return self._tagging([a for a, _ in answers], probabilities)

    def _tagging(self, ids: list[str], probabilities: np.ndarray) -> Tagging:
        tags: dict[str, list[tuple[str, float]]] = {}
        scores: dict[str, dict[str, float]] = {}
        unmatched = []
        for answer_id, row in zip(ids, probabilities, strict=True):
            scores[answer_id] = {
                t: round(float(p), 4) for t, p in zip(self.codebook.ids, row, strict=True)
            }
            chosen = [(t, s) for t, s in scores[answer_id].items() if s >= self.threshold]
            tags[answer_id] = sorted(chosen, key=lambda pair: -pair[1])
            if not chosen:
                unmatched.append(answer_id)
        return Tagging(tags, scores, unmatched)


def default_encoder(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    from nlp.embed import encode

    encoded = encode(texts)
    return encoded.sentence, encoded.topic


def features_for(texts: Sequence[str], encoder: Encoder = default_encoder) -> sparse.csr_matrix:
    """Sentence and topic embeddings beside TF-IDF word features, one row per text."""
    vectors = encoder(list(texts))
    words = TfidfVectorizer(sublinear_tf=True, stop_words="english", min_df=1)
    try:
        word_features = words.fit_transform(texts) * 0.5
    except ValueError:  # no usable words at all
        word_features = sparse.csr_matrix((len(texts), 0))
    dense = sparse.csr_matrix(np.hstack(vectors))
    return sparse.hstack([dense, word_features]).tocsr()
