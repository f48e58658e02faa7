"""Replies whose words could be misread as the opposite answer, through the real step types.

A wrong answer stored is worse than asking again: each row pairs a reply with what the step
should record, and ``None`` means the participant is asked again with a hint. The near misses
beside each fix ('very good', '2', 'not sure') check that the fix did not cost a clear reading.
"""

from __future__ import annotations

from typing import Any

import pytest

from flows.model import resolve_text
from flows.parsing import match_option, parse_number, parse_yes_no, scale_point
from flows.steps.base import Answer, InputStep, Reply, StepContext, Unclear
from flows.steps.choice import ChoiceStep
from flows.steps.number import NumberStep
from flows.steps.scale import ScaleStep
from flows.steps.yesno import YesNoStep
from flows.words import Words

FFT = ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"]
STEPS: dict[str, InputStep] = {
    "fft": ChoiceStep(
        id="q", type="choice", text="How was it?",
        options=[{"value": v, "label": label} for v, label in zip(
            ["very_good", "good", "neither", "poor", "very_poor", "dont_know"], FFT, strict=True)],
    ),
    "likert": ScaleStep(id="q", type="scale", text="How was this week?", labels=["Very bad", "Bad", "OK", "Good", "Very good"]),
    "five": ScaleStep(id="q", type="scale", text="How much, 1-5?", min=1, max=5),
    "ten": ScaleStep(id="q", type="scale", text="How much, 1-10?", min=1, max=10),
    "five_unsure": ScaleStep(id="q", type="scale", text="How much, 1-5?", min=1, max=5, unsure=True),
    "role": ChoiceStep(id="q", type="choice", text="Which are you?", options=["Patient", "Carer", "Staff"]),
    "amount": ChoiceStep(id="q", type="choice", text="How much?", options=["Not at all", "A little", "A lot"]),
    "visits": NumberStep(id="q", type="number", text="How many visits?", min=0, max=100),
    "yesno": YesNoStep(id="q", type="yesno", text="Can we message you again?"),
}


def _context() -> StepContext:
    words = Words()
    return StepContext(
        language="en",
        default_language="en",
        render=lambda text: resolve_text(text, "en", "en"),
        words=lambda key: words.text(key, "en"),
    )


def understood(kind: str, text: str) -> Any:
    outcome = STEPS[kind].interpret(Reply(text), _context())
    assert isinstance(outcome, Answer | Unclear)
    return outcome.value if isinstance(outcome, Answer) else "unclear"


def check(rows: list[tuple[str, str, Any]]) -> None:
    wrong = [(kind, text, understood(kind, text), expected) for kind, text, expected in rows if understood(kind, text) != expected]
    assert not wrong, wrong


# 1. A negated option is never that option; 'v' is 'very'.
NEGATION = [
    ("fft", "not very good", "unclear"), ("fft", "not very poor", "unclear"), ("fft", "Not good", "unclear"),
    ("fft", "wasn't very good", "unclear"), ("fft", "it wasn't good", "unclear"), ("fft", "not poor", "unclear"),
    ("fft", "v good", "very_good"), ("fft", "V. poor", "very_poor"), ("fft", "really good", "unclear"),
    ("fft", "very good", "very_good"), ("fft", "It was very good", "very_good"), ("fft", "verry good", "very_good"),
    ("fft", "good", "good"), ("fft", "poor i think", "poor"), ("fft", "don't know", "dont_know"),
    ("fft", "dont know", "dont_know"), ("fft", "neither good nor poor", "neither"), ("fft", "2", "good"),
    ("likert", "not very good", "unclear"), ("likert", "not bad", "unclear"), ("likert", "v bad", 1),
    ("likert", "very good", 5), ("likert", "good", 4), ("likert", "OK", 3),
    ("amount", "not at all", "Not at all"), ("amount", "Not at all really", "Not at all"), ("amount", "a lot", "A lot"),
    ("amount", "not a lot", "unclear"),
]

# 2. 'one' after a determiner names a thing, not the number 1; a scale's places by name.
PRONOUN_ONE = [
    ("five", "the last one", 5), ("five", "the highest", 5), ("five", "the lowest", 1), ("five", "the middle one", 3),
    ("ten", "the middle one", "unclear"), ("ten", "the last one", 10), ("likert", "the last one", 5),
    ("five", "not that one", "unclear"), ("five", "no one", "unclear"), ("five", "that one", "unclear"),
    ("five", "which one", "unclear"), ("five", "the other one", "unclear"),
    ("five", "one", 1), ("five", "the first one", 1), ("five", "the second one", 2), ("five", "I'd say one", 1),
    ("five", "number one", 1), ("visits", "no one", "unclear"),
]

# 3. Counts: 'not once' is none; bounds and fractions are not the number asked for.
COUNTS = [
    ("visits", "not once", 0), ("visits", "Not once!", 0), ("visits", "never once", 0), ("visits", "dim un waith", 0),
    ("visits", "unwaith", 1), ("visits", "dwywaith", 2), ("visits", "dim", 0),
    ("visits", "once", 1), ("visits", "twice", 2), ("visits", "none", 0), ("visits", "three times", 3),
    ("visits", "less than 5", "unclear"), ("visits", "under 10", "unclear"), ("visits", "more than 5", "unclear"),
    ("visits", "at least 3", "unclear"), ("visits", "10+", "unclear"), ("visits", "over 20", "unclear"),
    ("visits", "not 5", "unclear"), ("visits", "about 12 times", 12), ("visits", "5", 5),
    ("five", "5/10", "unclear"), ("five", "4 out of 10", "unclear"), ("five", "4/5", 4), ("five", "4 out of 5", 4),
    ("ten", "7/10", 7), ("five", "less than 3", "unclear"),
]

# 4. 'No problem' agrees.
YES_NO = [
    ("yesno", "no problem", "yes"), ("yesno", "No worries!", "yes"), ("yesno", "no probs", "yes"),
    ("yesno", "no bother", "yes"), ("yesno", "not a problem", "yes"), ("yesno", "yeah no problem", "yes"),
    ("yesno", "yes", "yes"), ("yesno", "no", "no"), ("yesno", "nope", "no"), ("yesno", "no thanks", "no"),
    ("yesno", "yeah no", "unclear"), ("yesno", "no idea", "unclear"), ("yesno", "no problem, but no", "unclear"),
]

# 5. A frequency word is not an option's number.
FREQUENCY = [
    ("role", "twice i think", "unclear"), ("role", "twice", "unclear"), ("role", "once", "unclear"),
    ("role", "2", "Carer"), ("role", "two", "Carer"), ("role", "the second one", "Carer"), ("role", "the last one", "Staff"),
]

# 6. 'dunno' is unsure wherever unsure is allowed; never where it is not.
UNSURE = [
    ("five_unsure", "dunno", None), ("five_unsure", "idk", None), ("five_unsure", "not sure", None),
    ("five_unsure", "don't know", None), ("five_unsure", "3", 3), ("five", "dunno", "unclear"),
]


@pytest.mark.parametrize(
    "rows", [NEGATION, PRONOUN_ONE, COUNTS, YES_NO, FREQUENCY, UNSURE],
    ids=["negation", "pronoun-one", "counts", "yes-no", "frequency", "unsure"],
)
def test_a_reply_is_read_as_meant_or_asked_again(rows: list[tuple[str, str, Any]]) -> None:
    check(rows)


def test_an_unclear_bound_gets_the_number_hint() -> None:
    assert STEPS["visits"].interpret(Reply("less than 5"), _context()) == Unclear("Please reply with a number from 0 to 100.")


def test_a_negated_option_name_is_refused_whatever_the_options() -> None:
    options = [["Always"], ["Usually"], ["Sometimes"], ["Never"]]
    assert match_option("not always", options) is None
    assert match_option("not usually", options) is None
    assert match_option("never", options) == 3
    assert match_option("usually", options) == 1


def test_parse_number_checks_a_fraction_against_the_scale_top() -> None:
    assert parse_number("5/10", out_of=5) is None
    assert parse_number("5/5", out_of=5) == 5
    assert parse_number("the last one") is None
    assert parse_number("the middle one") is None


def test_scale_point_names_the_ends_and_the_middle() -> None:
    assert scale_point("the top one", 0, 10) == 10
    assert scale_point("bottom", 0, 10) == 0
    assert scale_point("the middle", 0, 10) == 5
    assert scale_point("the middle one", 1, 4) is None
    assert scale_point("the nice one", 1, 5) is None


def test_parse_yes_no_keeps_a_real_refusal_after_no_problem() -> None:
    assert parse_yes_no("no problem at all") is True
    assert parse_yes_no("no, no problem") is None
    assert parse_yes_no("no") is False
