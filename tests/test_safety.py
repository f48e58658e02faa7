"""The safeguarding net: recall on risky messages, false alarms on ordinary ones.

tests/data/safety.csv is the development set: the patterns were written against it and it is
part of the embedding check's reference set, so its figures flatter. The honest figures come
from tests/data/safety_heldout_b.csv, which nothing was tuned on (see scripts/bench/safety.py).
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from bot.cli import cli
from nlp import safety
from nlp.embed import embed
from nlp.safety import SafetyResult, assess, assess_batch, lexicon_match, similarity_match

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="module")
def labelled() -> list[dict[str, str]]:
    with (DATA / "safety.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


@pytest.fixture(scope="module")
def results(labelled) -> list[SafetyResult]:
    texts = [row["text"] for row in labelled]
    return assess_batch(texts, embed(texts))


def test_the_labelled_set_is_big_and_varied_enough(labelled):
    risky = [r for r in labelled if r["risky"] == "1"]
    assert len(risky) >= 60
    assert len(labelled) - len(risky) >= 150
    assert {r["category"] for r in risky} == {"suicide", "self_harm", "overdose", "abuse", "medical"}


def test_recall_is_at_least_95_percent_with_few_false_alarms(labelled, results):
    risky = np.array([r["risky"] == "1" for r in labelled])
    flagged = np.array([r.flagged for r in results])
    recall = flagged[risky].mean()
    false_alarms = flagged[~risky].mean()
    missed = [r["text"] for r, f in zip(labelled, flagged, strict=True) if r["risky"] == "1" and not f]
    alarms = [r["text"] for r, f in zip(labelled, flagged, strict=True) if r["risky"] == "0" and f]
    print(f"\nsafety: recall {recall:.3f} ({risky.sum()} risky), false-alarm rate "
          f"{false_alarms:.3f} ({(~risky).sum()} ordinary)\n  missed: {missed}\n  false alarms: {alarms}")
    assert recall >= 0.95
    assert false_alarms <= 0.2


def test_the_embedding_check_catches_what_the_lexicon_misses(labelled, results):
    caught = [
        r for r, res in zip(labelled, results, strict=True)
        if r["risky"] == "1" and res.flagged and lexicon_match(r["text"]) is None
    ]
    assert any("do it myself" in r["text"] for r in caught)


def test_flags_name_the_right_category_most_of_the_time(labelled, results):
    pairs = [(r["category"], res.category) for r, res in zip(labelled, results, strict=True)
             if r["risky"] == "1" and res.flagged]
    agreement = np.mean([a == b for a, b in pairs])
    print(f"\ncategory agreement on flagged risky messages: {agreement:.3f}")
    assert agreement >= 0.8


def test_ordinary_feedback_rarely_raises_an_alarm():
    with (DATA / "comments.csv").open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    rate = np.mean([r.flagged for r in assess_batch(texts)])
    print(f"\nfalse-alarm rate on {len(texts)} feedback comments: {rate:.3f}")
    assert rate <= 0.1


@pytest.mark.parametrize(
    "text",
    ["the wait was killing me", "I could murder a cup of tea", "my chest of drawers is in the hall",
     "dying for a cuppa", "the food was to die for"],
)
def test_idioms_are_not_flagged(text):
    assert not assess(text).flagged


def test_a_flag_says_why():
    result = assess("everyone would be better off without me")
    assert result.flagged and result.category == "suicide"
    assert "better off without me" in result.reason
    assert result.score == 1.0


@pytest.fixture(scope="module")
def held_out() -> list[dict[str, str]]:
    with (DATA / "safety_heldout_b.csv").open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def test_the_held_out_set_is_kept_apart_from_everything_the_check_learns_from(held_out):
    reference = {r["text"].strip().lower() for r in safety.reference_rows()}
    assert not reference & {r["text"].strip().lower() for r in held_out}
    risky = [r for r in held_out if r["risky"] == "1"]
    assert len(risky) >= 60 and len(held_out) - len(risky) >= 60
    assert {r["category"] for r in risky} == {"suicide", "self_harm", "overdose", "abuse", "medical"}


def test_recall_on_unseen_messages_is_at_least_95_percent(held_out):
    """Measured once, before any change after it was written: patterns 0.214 recall / 0.100
    false alarms, the embedding check 0.957 / 0.200, both 0.957 / 0.243 (67 of 70 risky).
    Since the indirect patterns (tests/test_safety_indirect.py, not written on this set) the
    patterns read 0.400 at the same 0.100, and the model still reads 40 of the 42 risky messages
    they miss: the model is what catches what the patterns cannot."""
    texts = [r["text"] for r in held_out]
    risky = np.array([r["risky"] == "1" for r in held_out])
    patterns = np.array([lexicon_match(t) is not None for t in texts])
    model = np.array([m is not None for m in similarity_match(embed(texts))])
    combined = np.array([r.flagged for r in assess_batch(texts)])
    assert (combined == (patterns | model)).all()
    for name, flags in (("patterns", patterns), ("model", model), ("combined", combined)):
        print(f"\nheld-out {name}: recall {flags[risky].mean():.3f}, false alarms {flags[~risky].mean():.3f}")
    assert combined[risky].mean() >= 0.95
    assert combined[~risky].mean() <= 0.3  # hard negatives, chosen to be confusable
    assert model[risky & ~patterns].mean() >= 0.95


def test_the_threshold_is_the_one_cross_validation_chooses_on_the_reference_set():
    rows = safety.reference_rows()
    vectors = embed([r["text"] for r in rows])
    chosen = safety.choose_threshold(vectors, np.array([r["risky"] == "1" for r in rows]))
    assert chosen == pytest.approx(safety.THRESHOLD, abs=0.01)


def test_the_safety_command_lists_flagged_ids_with_reasons(tmp_path):
    path = tmp_path / "answers.csv"
    path.write_text(
        'id,text\na1,"The wait was killing me, 6 hours"\n'
        'a2,"I took all my tablets an hour ago"\na3,"Lovely staff"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(cli, ["analyse", "safety", "--input", str(path), "--format", "json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert [f["id"] for f in payload["flagged"]] == ["a2"]
    assert payload["flagged"][0]["category"] == "overdose"
    assert payload["flagged"][0]["reason"]
