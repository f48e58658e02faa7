"""Numbers read as people mean them (flows/parsing.py): 'for' is a word, not four; a decimal comma
in a whole-number answer is asked again, not read as thousands; a fraction counts only over
the question's highest point. Through the real steps (scale, number, Delphi), and one rating
said aloud, heard by the packaged tiny.en."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import pytest

from flows.parsing import parse_number, words_to_number
from flows.steps.base import Answer, Continue, Reply, StepContext, Unclear
from flows.steps.delphi import DelphiStep
from flows.steps.number import NumberStep
from flows.steps.scale import ScaleStep
from flows.words import Words
from nlp.transcribe import WhisperSettings, shared_transcriber
from tests import voice_helpers


def _context() -> StepContext:
    words = Words()
    return StepContext(language="en", default_language="en", render=lambda text: str(text),
                       words=lambda key: words.text(key, "en"))


def rating(reply: str, low: int = 1, high: int = 5) -> int | str:
    """What a 1-5 rating makes of a reply: the number, or 'unclear'."""
    step = ScaleStep.model_validate({"id": "rate", "type": "scale", "text": "How was it?", "min": low, "max": high})
    outcome = step.interpret(Reply(reply), _context())
    return outcome.value if isinstance(outcome, Answer) else "unclear"


def count(reply: str, **fields: Any) -> float | str:
    step = NumberStep.model_validate({"id": "visits", "type": "number", "text": "How many?", **fields})
    outcome = step.interpret(Reply(reply), _context())
    return outcome.value if isinstance(outcome, Answer) else "unclear"


# ----------------------------------------------------------------------------- 'for' is not four


@pytest.mark.parametrize("reply", ["for the kids", "It's for the kids", "for", "For.", "just for", "a for", "for out of five"])
def test_for_is_a_word_of_its_own_never_a_rating_of_four(reply: str) -> None:
    assert rating(reply) == "unclear"


@pytest.mark.parametrize("reply", ["I'd give it a four", "I give it a four.", "four", "4.", "Four out of five", "fourr", "thre"])
def test_four_written_or_as_a_transcript_writes_it_is_still_read(reply: str) -> None:
    assert rating(reply) == (3 if reply == "thre" else 4)


def test_for_is_no_misspelling_of_four_but_real_misspellings_still_are() -> None:
    assert words_to_number("for") is None
    assert words_to_number("fourr") == 4 and words_to_number("sevn") == 7


# ----------------------------------------------------------------------------- commas in whole numbers


@pytest.mark.parametrize("reply", ["0,125", "0,125 please", "it was 0,125", "0,5", "3,4"])
def test_a_decimal_comma_in_a_whole_number_answer_asks_again(reply: str) -> None:
    assert count(reply, min=0, max=100000) == "unclear"
    assert parse_number(reply) is None


def test_the_same_decimal_comma_is_read_where_decimals_are_taken() -> None:
    assert count("0,125", integer=False, min=0, max=10) == 0.125


def test_thousands_grouped_with_commas_are_read_where_a_whole_number_is_wanted() -> None:
    """'1,250' can only be 1250 as a whole number; the step's range then decides."""
    assert count("1,250", min=0, max=5000) == 1250
    assert count("12,500 steps", min=0, max=50000) == 12500
    assert count("1,250", min=0, max=100) == "unclear"
    assert rating("1,250") == "unclear"


# ----------------------------------------------------------------------------- fractions


def test_a_fraction_counts_only_over_the_questions_highest_point() -> None:
    assert parse_number("5/10") is None, "no scale known: ask again rather than read the top"
    assert parse_number("7 out of 9") is None
    assert parse_number("5/10", out_of=5) is None and parse_number("5/10", out_of=10) == 5
    assert parse_number("4 out of 5", out_of=5) == 4
    assert parse_number("lots out of 10", out_of=10) is None, "never the bottom of a fraction"


@pytest.mark.parametrize(("reply", "expected"), [("5/10", "unclear"), ("8 out of 10", "unclear"), ("4/5", 4), ("5 out of 5", 5)])
def test_a_rating_reads_a_fraction_over_its_own_top_only(reply: str, expected: int | str) -> None:
    assert rating(reply) == expected


def test_a_number_step_reads_a_fraction_over_its_max_and_asks_again_otherwise() -> None:
    assert count("7/10", min=0, max=10) == 7
    assert count("5/10", min=0, max=100) == "unclear"
    assert count("1/2") == "unclear", "a half is no count of visits"


def test_a_delphi_score_reads_a_fraction_over_its_scale() -> None:
    step = DelphiStep.model_validate({"id": "rate", "type": "delphi", "delphi": "d", "round": 1, "items": ["Parking", "Visit times"]})
    scored = step.interpret(Reply("7/9"), _context())
    assert isinstance(scored, Continue) and [item.display for item in scored.items] == ["7"]
    assert isinstance(step.interpret(Reply("5/10"), _context()), Unclear), "5 out of 10 is no score on a 1-9 scale"


# ----------------------------------------------------------------------------- said aloud


def test_a_rating_said_aloud_is_read_from_what_tiny_en_hears(tmp_path: Path) -> None:
    wav = tmp_path / "four.wav"
    subprocess.run([voice_helpers.ESPEAK, "-v", "en-gb", "-s", "150", "-w", str(wav), "I'd give it a four"], check=True)
    note = voice_helpers.encode(wav, tmp_path / "four.ogg", "ogg")
    heard = shared_transcriber(WhisperSettings()).transcribe(str(note), language="en")
    assert "four" in heard.text.lower() or "4" in heard.text
    assert rating(heard.text) == 4
