"""Risk said indirectly, in English and Welsh (nlp/safety_indirect.py, nlp/safety_welsh_indirect.py).

The phrase patterns missed "I can't go on like this", "I went to the bridge again last night",
"I've been giving my things away", "llond bol ar fyw", "dw i wedi cael digon ar fywyd", "does dim
pwynt i ddim byd"; the embedding model caught most of the English but, being English, none of
the Welsh, and in ``patterns`` mode (CHORUS_SAFEGUARDING) nothing read them at all.

Method. tests/data/safety_indirect_heldout.csv (47 risky: 30 English, 17 Welsh; 48 ordinary
health-service messages sharing their words) was written and committed (sha256 below) before any
pattern. The patterns were written against tests/data/safety_indirect_dev.csv only, then measured
on the held-out set once, and nothing was changed after:

===================  ============  ============  ==================
held-out             before        after         ordinary flagged
===================  ============  ============  ==================
patterns, English    2 of 30       18 of 30      0 of 34 (0 before)
patterns, Welsh      0 of 17       15 of 17      0 of 14 (0 before)
whole net, English   27 of 30      29 of 30 *    5 of 34 (5 before)
whole net, Welsh     0 of 17       15 of 17      0 of 14 (0 before)
===================  ============  ============  ==================

The whole net's five English false alarms are the model's, as before. (*) One held-out message,
"I've had enough of life", is by chance also one of the model's examples (nlp/safety_reference.csv):
without it, 28 of 29. These figures flatter: one
person wrote the held-out set and, straight after, the patterns, and some held-out phrasings are
in the patterns from memory rather than from the development set ("cope better without me",
"platform edge", "weight around", "know when I'll do it", "won't be around for the next one";
"sylwi taswn i", "hen ddigon", "ar ymyl y clogwyn"). Counting those eight as misses: English
13 of 30, Welsh 12 of 17. Missed: "there's no way out of this for me", "I don't see the point in
anything anymore", "I gave away my guitar and my books this week", "does dim byd ar ol i fi",
"dw i'n barod i adael y byd 'ma", hints of a plan ("sat in the car in the garage with the engine
running") and more: oblique risk is still the model's to catch, and in Welsh nothing's.
"""

from __future__ import annotations

import csv
import hashlib
import re
from functools import cache
from pathlib import Path

import numpy as np
import pytest

from nlp import safety
from nlp.safety import assess_batch, lexicon_match

DATA = Path(__file__).parent / "data"
HELD_OUT = DATA / "safety_indirect_heldout.csv"
DEVELOPMENT = DATA / "safety_indirect_dev.csv"
HELD_OUT_SHA256 = "c789a697fd6261331354b9a0e295f4dc1ebff0d36b6890ff40bc93371cb727c1"
LEFT_TO_THE_MODEL = {"dr12"}
"""Development messages the patterns do not read: "sorting out my affairs so nobody has to deal
with it" is what hospice patients say of their wills too."""

Row = dict[str, str]


@cache
def rows(path: Path) -> list[Row]:
    with path.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def development(risky: str) -> list[Row]:
    return [row for row in rows(DEVELOPMENT) if row["risky"] == risky and row["id"] not in LEFT_TO_THE_MODEL]


def test_the_held_out_set_is_the_one_written_before_the_patterns() -> None:
    assert hashlib.sha256(HELD_OUT.read_bytes()).hexdigest() == HELD_OUT_SHA256


def test_the_sets_are_big_enough_and_kept_apart() -> None:
    held_out = rows(HELD_OUT)
    counts = {(row["lang"], row["risky"]) for row in held_out}
    assert counts == {("en", "1"), ("cy", "1"), ("en", "0"), ("cy", "0")}
    assert sum(row["risky"] == "1" and row["lang"] == "en" for row in held_out) >= 25
    assert sum(row["risky"] == "1" and row["lang"] == "cy" for row in held_out) >= 15
    assert sum(row["risky"] == "0" for row in held_out) >= 40
    texts = {row["text"].strip().lower() for row in held_out}
    assert not texts & {row["text"].strip().lower() for row in rows(DEVELOPMENT)}
    assert texts & reference_texts() == {"i've had enough of life"}  # by chance: left out of the whole net's figures


@cache
def reference_texts() -> frozenset[str]:
    """The messages the model's vote reads as its examples (nlp/safety_reference.csv and the rest)."""
    return frozenset(row["text"].strip().lower() for row in safety.reference_rows())


def test_the_development_set_is_read_as_labelled() -> None:
    """Every risky message as risk of its category, every ordinary one left alone."""
    misread = [(row["text"], found) for row in development("1")
               if (found := lexicon_match(row["text"])) is None or found[0] != row["category"]]
    alarms = [row["text"] for row in development("0") if lexicon_match(row["text"]) is not None]
    assert (misread, alarms) == ([], [])


def test_risk_is_read_as_typed_in_a_hurry_or_transcribed() -> None:
    """Without apostrophes, without punctuation (a voice note's transcript), shouted, curly."""
    missed = [variant for row in development("1") for text in [row["text"]]
              for variant in (text.replace("'", ""), re.sub(r"[^\w\s']", "", text), text.upper(), text.replace("'", "\u2019"))
              if lexicon_match(variant) is None]
    assert missed == []


@pytest.mark.parametrize(("risk", "complaint"), [
    ("I can't go on like this", "I can't go on waiting like this for an appointment"),
    ("I went to the bridge again last night", "the bridge roadworks made me late"),
    ("I went to the bridge again last night", "I went to the bridge club again last night"),
    ("I've been giving my things away", "I've been giving my things away to charity since the clear-out"),
    ("I'm fed up of living", "fed up of the car park"),
    ("llond bol ar fyw", "llond bol ar aros"),
    ("llond bol ar fyw", "llond bol ar fyw mewn ciw"),
    ("dw i wedi cael digon ar fywyd", "dw i wedi cael digon ar aros am y meddyg"),
    ("does dim pwynt i ddim byd", "does dim pwynt i ddim byd ar y wefan"),
])
def test_the_phrases_that_were_missed_are_read_and_the_same_words_in_a_complaint_are_not(risk: str, complaint: str) -> None:
    found = lexicon_match(risk)
    assert found is not None and found[0] == "suicide", found
    assert lexicon_match(complaint) is None


@pytest.fixture(scope="module")
def measured() -> tuple[list[Row], np.ndarray, np.ndarray]:
    """The held-out rows, and which the patterns and the whole net (patterns and model) flag."""
    held_out = rows(HELD_OUT)
    texts = [row["text"] for row in held_out]
    patterns = np.array([lexicon_match(text) is not None for text in texts])
    whole = np.array([result.flagged for result in assess_batch(texts)])
    return held_out, patterns, whole


def _share(flags: np.ndarray, held_out: list[Row], lang: str, risky: str, unseen: bool = False) -> float:
    """The share flagged of the held-out rows of a language and label (``unseen``: not those the
    model's vote has as its own examples)."""
    chosen = np.array([row["lang"] == lang and row["risky"] == risky
                       and not (unseen and row["text"].strip().lower() in reference_texts()) for row in held_out])
    return float(flags[chosen].mean())


def test_the_patterns_read_most_indirect_risk_they_were_not_written_on(measured: tuple[list[Row], np.ndarray, np.ndarray]) -> None:
    """Measured once: English 18 of 30 (0.60), Welsh 15 of 17 (0.88), no ordinary message
    flagged (0 of 48). Flattering figures: see the module's docstring."""
    held_out, patterns, _ = measured
    assert _share(patterns, held_out, "en", "1") >= 0.6
    assert _share(patterns, held_out, "cy", "1") >= 0.85
    assert _share(patterns, held_out, "en", "0") == 0.0
    assert _share(patterns, held_out, "cy", "0") == 0.0


def test_the_whole_net_reads_them_in_both_languages(measured: tuple[list[Row], np.ndarray, np.ndarray]) -> None:
    """Measured once: English 29 of 30 risky (28 of the 29 the model has not seen as an example:
    0.97) and 5 of 34 ordinary (0.15, the model's, as before the patterns); Welsh as the patterns
    (the model does not read Welsh)."""
    held_out, patterns, whole = measured
    assert (whole >= patterns).all()
    assert _share(whole, held_out, "en", "1", unseen=True) >= 0.95
    assert _share(whole, held_out, "cy", "1") >= 0.85
    assert _share(whole, held_out, "en", "0") <= 0.15
    assert _share(whole, held_out, "cy", "0") == 0.0
