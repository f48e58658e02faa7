"""A theme's quotes: each wording once, with how many answers said it, and still the most
representative answers. Topic vectors are given, so no model is loaded."""

from __future__ import annotations

import numpy as np

from nlp.themes import find_themes

SAME = [
    "The wait was far too long and nobody said why.",
    "the wait was far too long,  and nobody said why",
    "THE WAIT WAS FAR TOO LONG AND NOBODY SAID WHY!!",
]
NEWS = "Hours in the waiting room with no news at all"
SHORT = "Too long"
UPDATES = "We sat for six hours without any update"


def _unit(*values: float) -> np.ndarray:
    vector = np.array(values, dtype=float)
    return vector / np.linalg.norm(vector)


def _one_theme(texts: list[str], vectors: list[np.ndarray]) -> tuple[list[str], list[int]]:
    answers = [(f"a{n}", text, None) for n, text in enumerate(texts)]
    result = find_themes(answers, k=1, topic_vectors=np.stack(vectors))
    assert len(result.themes) == 1
    theme = result.themes[0]
    assert result.as_dict()["themes"][0]["quote_counts"] == theme.quote_counts  # type: ignore[index]
    return theme.quotes, theme.quote_counts


def test_answers_in_the_same_words_are_quoted_once_with_their_count() -> None:
    # The three identical answers sit on the centroid: they used to be all three quotes.
    texts = [*SAME, NEWS, SHORT, UPDATES]
    vectors = [_unit(1, 0, 0, 0)] * 3 + [_unit(1, 0.2, 0, 0), _unit(1, 0, 0, 0.3), _unit(1, 0, 0.5, 0)]
    quotes, counts = _one_theme(texts, vectors)
    assert quotes == [SAME[0], NEWS, UPDATES], "the next closest distinct answers; the two-word one left out"
    assert counts == [3, 1, 1]


def test_a_theme_where_everyone_wrote_the_same_has_one_quote() -> None:
    texts = ["More nurses please", "more nurses, please!", "More  nurses please."]
    quotes, counts = _one_theme(texts, [_unit(1, 0), _unit(1, 0.1), _unit(1, -0.1)])
    assert quotes == ["More nurses please"]
    assert counts == [3]


def test_different_words_stay_apart_and_short_answers_fill_in() -> None:
    texts = ["Too long", "Far too long", "Too long!", "Not long"]
    vectors = [_unit(1, 0), _unit(1, 0.1), _unit(1, 0), _unit(1, -0.3)]
    quotes, counts = _one_theme(texts, vectors)
    assert quotes == ["Too long", "Far too long", "Not long"]
    assert counts == [2, 1, 1]
