"""Tagging answers with a coordinator's codebook, and learning from corrections."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from nlp.codebook import (
    Codebook,
    CodebookError,
    CodebookTheme,
    Tagger,
    load_codebook,
    parse_codebook,
)
from nlp.embed import encode

DATA = Path(__file__).parent / "data"
EXAMPLES = 5
STEPS = (0, 20, 50, 100)
SPLITS = 3


@pytest.fixture(scope="module")
def comments() -> list[dict[str, str]]:
    with (DATA / "comments.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def codebook(comments) -> Codebook:
    """The test codebook, with each theme's first five comments as examples."""
    base = load_codebook(DATA / "codebook.yaml")
    themes = []
    for theme in base.themes:
        examples = [c["text"] for c in comments if c["theme"] == theme.id][:EXAMPLES]
        themes.append(CodebookTheme(theme.id, theme.label, theme.description, tuple(examples)))
    return Codebook(tuple(themes))


@pytest.fixture(scope="module")
def encoder(comments, codebook):
    """Embeds every text the tests use once, then answers from the cache."""
    texts = [c["text"] for c in comments] + [t for th in codebook.themes for t in th.seed_texts()]
    texts = list(dict.fromkeys(texts))
    encoded = encode(texts)
    row = {t: i for i, t in enumerate(texts)}

    def lookup(batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
        index = [row[t] for t in batch]
        return encoded.sentence[index], encoded.topic[index]

    return lookup


@pytest.fixture(scope="module")
def held_out(comments, codebook):
    examples = {t for th in codebook.themes for t in th.examples}
    return [c for c in comments if c["text"] not in examples]


def accuracy(tagger: Tagger, answers: list[dict[str, str]]) -> float:
    tagging = tagger.tag([(c["id"], c["text"]) for c in answers])
    return float(np.mean([tagging.top(c["id"]) == c["theme"] for c in answers]))


def test_tagging_from_descriptions_and_five_examples_reaches_seventy_percent(
    codebook, encoder, held_out
):
    score = accuracy(Tagger(codebook, encoder=encoder), held_out)
    print(f"\ncodebook top-1 accuracy on {len(held_out)} held-out comments: {score:.3f}")
    assert score >= 0.7


def correction_curve(codebook, encoder, held_out, seed: int) -> list[float]:
    """Accuracy on a fixed evaluation set as the coordinator corrects answers
    from a separate pool, least confident first (the review queue)."""
    order = np.random.default_rng(seed).permutation(len(held_out))
    pool = [held_out[i] for i in order[:150]]
    evaluation = [held_out[i] for i in order[150:]]
    by_id = {c["id"]: c for c in pool}
    tagger = Tagger(codebook, encoder=encoder)
    curve = []
    for step in STEPS:
        while len(tagger.corrections) < step:
            left = [c for c in pool if c["id"] not in tagger.corrections]
            queue = tagger.tag([(c["id"], c["text"]) for c in left]).review_queue()
            for answer_id in queue[: step - len(tagger.corrections)]:
                tagger.correct(answer_id, by_id[answer_id]["text"], [by_id[answer_id]["theme"]])
        curve.append(accuracy(tagger, evaluation))
    return curve


def test_accuracy_rises_as_corrections_are_fed_back(codebook, encoder, held_out):
    curves = np.array([correction_curve(codebook, encoder, held_out, s) for s in range(SPLITS)])
    mean = curves.mean(axis=0)
    print(f"\ncorrections -> accuracy (mean of {SPLITS} splits): "
          + ", ".join(f"{n}: {a:.3f}" for n, a in zip(STEPS, mean, strict=True)))
    assert mean[-1] > mean[0]


def test_an_answer_may_carry_several_themes_and_misfits_go_to_review(codebook, encoder):
    tagger = Tagger(codebook, encoder=encoder)
    answers = [
        ("both", "Parking cost a fortune and then the food in the cafe was cold and overpriced"),
        ("football", "What time does the football start on Saturday?"),
        ("ok", "ok"),
    ]
    texts = [t for _, t in answers]
    extra = encode(texts)

    def with_extra(batch: list[str]) -> tuple[np.ndarray, np.ndarray]:
        known = [t for t in batch if t not in texts]
        s, t = encoder(known)
        return np.vstack([s, extra.sentence]), np.vstack([t, extra.topic])

    tagger.encoder = with_extra
    tagging = tagger.tag(answers)
    print(f"\n{tagging.tags}")
    assert {"access", "food"} <= {theme for theme, _ in tagging.tags["both"]}
    assert {"football", "ok"} <= set(tagging.unmatched)
    assert tagging.review_queue()[-1] == "both"


def test_a_correction_changes_the_tag_of_that_kind_of_answer(codebook, encoder, comments):
    tagger = Tagger(codebook, encoder=encoder)
    answer = next(c for c in comments if c["theme"] == "discharge" and "physio" in c["text"])
    tagger.correct(answer["id"], answer["text"], ["pain", "discharge"])
    tagging = tagger.tag([(answer["id"], answer["text"])])
    assert {"pain", "discharge"} <= {t for t, _ in tagging.tags[answer["id"]]}


def test_corrections_must_name_known_themes(codebook):
    with pytest.raises(CodebookError, match="unknown theme"):
        Tagger(codebook).correct("a1", "text", ["nonsense"])


def test_a_broken_codebook_says_what_to_fix(tmp_path):
    with pytest.raises(CodebookError, match=r"themes\[1\]: each theme needs an 'id'"):
        parse_codebook({"themes": [{"id": "a"}, {"label": "no id"}]})
    path = tmp_path / "cb.yaml"
    path.write_text(yaml.safe_dump({"themes": [{"id": "a", "examples": ["x"]}, {"id": "b"}]}))
    assert load_codebook(path).ids == ["a", "b"]


def test_the_codebook_command_tags_each_answer_and_lists_the_unmatched(tmp_path, comments):
    answers = tmp_path / "answers.csv"
    rows = [("p1", "Parking was a nightmare, drove round for ages"),
            ("f1", "the sandwiches were stale and there was no hot food"),
            ("x1", "What time does the football start on Saturday?")]
    answers.write_text("id,text\n" + "".join(f'{i},"{t}"\n' for i, t in rows), encoding="utf-8")
    corrections = tmp_path / "fixes.csv"
    corrections.write_text("id,themes\nf1,food;environment\n", encoding="utf-8")
    book = DATA / "codebook.yaml"
    result = CliRunner().invoke(cli, ["analyse", "codebook", "--input", str(answers),
                                      "--codebook", str(book), "--corrections", str(corrections),
                                      "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["tags"]["p1"][0]["theme"] == "access"
    assert {"food", "environment"} <= {t["theme"] for t in payload["tags"]["f1"]}
    assert payload["unmatched"] == ["x1"]


def test_the_codebook_command_rejects_an_unknown_theme_in_corrections(tmp_path):
    answers = tmp_path / "answers.csv"
    answers.write_text("id,text\na,hello there\n", encoding="utf-8")
    fixes = tmp_path / "fixes.csv"
    fixes.write_text("id,themes\na,weather\n", encoding="utf-8")
    result = CliRunner().invoke(cli, ["analyse", "codebook", "--input", str(answers), "--codebook",
                                      str(DATA / "codebook.yaml"), "--corrections", str(fixes)])
    assert result.exit_code != 0 and "unknown theme(s) ['weather']" in result.output
