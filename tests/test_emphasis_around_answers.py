"""How sure, a kiss or a reason around an answer (flows/parsing_emphasis.py), found playing the
community pharmacy study (tests/data/pharmacy-ltc): 'definitely A', 'B def', 'A 100%', 'b x', 'A 👍'
and 'A because i cant get to the shop' were asked again on a pairwise step and a choice
experiment; 'agree definitely' and 'disagree, they are always rushed' on a statement. Negations,
corrections and hedges are read (or asked again) as before. Also: a lone letter on a labelled
scale stored its first point (no letters are shown for a scale), and 'a dozen' was no number."""

from __future__ import annotations

from typing import Any

import pytest

from flows.parsing import answer_and_reason, match_option, normalise, parse_number, without_emphasis
from tests.engine_chat import RecordingChat

PAIRS = {"id": "pairs", "type": "pairwise", "pairs": 3, "text": "Which matters more?",
         "ideas": [{"id": "app", "text": "Order repeat prescriptions by text"}, {"id": "locker", "text": "24-hour collection locker"},
                   {"id": "clinic", "text": "Monthly long-term conditions clinic"}]}
DCE = {"id": "service", "type": "choice_experiment", "text": "Which would you choose?", "alternatives": 2, "opt_out": True, "tasks": 3,
       "attributes": {"wait": {"levels": [10, 30, 60], "better": "lower",
                               "labels": {10: "10 minutes", 30: "30 minutes", 60: "1 hour"}},
                      "place": {"levels": ["local", "online"], "labels": {"local": "local pharmacy", "online": "online pharmacy"}}}}
VOTES = {"id": "votes", "type": "statements", "per_session": 2, "text": "Do you agree?",
         "statements": [{"id": "s1", "text": "Pharmacists have enough time to talk to me"},
                        {"id": "s2", "text": "I would rather get my medicines by post"}]}
LIKERT = {"id": "overall", "type": "scale", "text": "How well does the pharmacy meet your needs?",
          "labels": ["Very poorly", "Poorly", "OK", "Well", "Very well"]}
MEDICINES = {"id": "medicines", "type": "number", "min": 0, "max": 40, "unit": "medicines",
             "text": "How many different medicines do you take each day?"}


def answered(step: dict[str, Any], said: str) -> tuple[list[Any], str]:
    chat = RecordingChat(step)
    reply = chat.send(said)
    return [answer.value for answer in chat.recorded], reply[0]


def first_pair_choice(said: str) -> str | None:
    """'A' or 'B' for the first pair's choice (compared with what a plain 'A' records), None if asked again."""
    chat = RecordingChat(PAIRS)
    chat.send(said)
    if not chat.recorded:
        return None
    value = chat.recorded[0].value
    reference = RecordingChat(PAIRS)
    reference.send("A")
    return "A" if value == reference.recorded[0].value else "B"


@pytest.mark.parametrize(("said", "choice"), [
    ("definitely A", "A"), ("A definitely", "A"), ("A for sure", "A"), ("A obviously", "A"), ("A 100%", "A"),
    ("deffo B", "B"), ("B def", "B"), ("b x", "B"), ("A 👍", "A"), ("A 👍🏽", "A"), ("b :)", "B"), ("A, definitely", "A"),
    ("A because i cant get to the shop", "A"), ("B cos I work nights", "B"), ("A because B needs a car", "A"),
    ("B, I work nine to five", "B"), ("yn bendant A", "A"), ("A achos dw i'n gweithio", "A"),
    # as before
    ("A please", "A"), ("I'd go with A", "A"), ("option A", "A"), ("not A", "B"), ("definitely not A", "B"),
])
def test_a_pair_is_chosen_however_surely_and_with_a_reason(said: str, choice: str) -> None:
    assert first_pair_choice(said) == choice


@pytest.mark.parametrize("said", ["A? no, B", "A, no B", "A, B is better", "A 👎", "A ❌", "A or B", "A, but B too", "A, kind of"])
def test_a_pair_is_asked_again_when_the_words_around_it_correct_or_doubt(said: str) -> None:
    values, reply = answered(PAIRS, said)
    assert values == [], said
    assert reply.startswith("Please reply A, B"), reply


@pytest.mark.parametrize("said", ["A definitely", "definitely A", "A 100%", "A obviously", "deffo A", "A x", "A because i like it"])
def test_a_choice_task_is_chosen_however_surely(said: str) -> None:
    values, _ = answered(DCE, said)
    assert [value["choice"] for value in values] == ["A"], said


@pytest.mark.parametrize("said", ["C definitely", "A, no B", "definitely not A"])
def test_a_choice_task_is_asked_again_when_the_reply_disagrees_with_itself(said: str) -> None:
    """'C' is no alternative of two, however sure; 'not A' leaves B and neither."""
    values, reply = answered(DCE, said)
    assert values == [] and reply.startswith("Please reply A, B or N"), said


def test_a_choice_task_with_its_reason_is_read_when_the_reason_agrees() -> None:
    """'<letter> because it's quicker' is that letter when it is the quicker one, and asked
    again when it is not (the letter and the reason pick different alternatives)."""
    quicker = answered(DCE, "the quicker one")[0][0]["choice"]
    slower = "B" if quicker == "A" else "A"
    assert [value["choice"] for value in answered(DCE, f"{quicker} because its quicker")[0]] == [quicker]
    assert answered(DCE, f"{slower} because its quicker")[0] == []


@pytest.mark.parametrize(("said", "vote", "display"), [
    ("agree definitely", 1, "agree (strongly)"), ("agree obviously", 1, "agree (strongly)"), ("definitely agree", 1, "agree (strongly)"),
    ("agree 👍", 1, "agree"), ("disagree for sure", -1, "disagree (strongly)"),
    ("disagree, they are always rushed", -1, "disagree"), ("strongly disagree, they are always rushed", -1, "disagree (strongly)"),
    ("agree because the queue is long", 1, "agree"), ("cytuno achos mae'r ciw yn hir", 1, "agree"),
    ("no, they are always rushed", -1, "disagree"), ("pass, i have never asked", 0, "pass"),
])
def test_a_statement_vote_is_read_with_how_sure_and_its_reason(said: str, vote: int, display: str) -> None:
    chat = RecordingChat(VOTES)
    chat.send(said)
    assert [(answer.value, answer.display) for answer in chat.recorded] == [(vote, display)]
    assert chat.recorded[0].raw == said, "the reason is kept with the vote, in the reply as sent"


@pytest.mark.parametrize("said", [
    "agree, but not about parking", "agree, they disagree with me", "agree, kind of", "agree 👎", "agree, no",
])
def test_a_statement_vote_whose_reason_contradicts_or_hedges_is_asked_again(said: str) -> None:
    chat = RecordingChat(VOTES)
    reply = chat.send(said)
    assert chat.recorded == [], said
    assert reply[0].startswith(("Please reply A (agree)", "In part?")), reply


@pytest.mark.parametrize("said", ["a", "A", "the one", "b", "a please", "c x"])
def test_a_letter_on_a_labelled_scale_is_asked_again(said: str) -> None:
    """No letters are shown for a scale (numbers on SMS, labels on buttons): 'a' was 'Very poorly'."""
    values, reply = answered(LIKERT, said)
    assert values == [], said
    assert reply.startswith("Please reply with a number from 1 to 5"), reply


@pytest.mark.parametrize(("said", "point"), [("1", 1), ("very well", 5), ("poorly", 2), ("the first one", 1), ("OK", 3)])
def test_a_labelled_scale_still_reads_numbers_places_and_labels(said: str, point: int) -> None:
    assert answered(LIKERT, said)[0] == [point]


@pytest.mark.parametrize(("said", "number"), [
    ("a dozen", 12), ("about a dozen", 12), ("around a dozen", 12), ("half a dozen", 6), ("about half a dozen", 6),
    ("a dozen or so", 12), ("two dozen", 24), ("tua dwsin", 12), ("hanner dwsin", 6), ("half a dozen i think", 6),
])
def test_a_dozen_is_a_number(said: str, number: int) -> None:
    assert answered(MEDICINES, said)[0] == [number]


def test_dozens_is_still_no_number() -> None:
    assert answered(MEDICINES, "dozens")[0] == []


@pytest.mark.parametrize(("said", "core"), [
    ("definitely a", "a"), ("b def", "b"), ("a 100%", "a"), ("b x", "b"), ("a 👍", "a"), ("deffo b xx", "b"),
    ("definitely not a", "definitely not a"), ("a 👎", "a 👎"), ("definitely", "definitely"), ("👍", "👍"),
])
def test_without_emphasis(said: str, core: str) -> None:
    assert without_emphasis(normalise(said)) == core


@pytest.mark.parametrize(("said", "split"), [
    ("a because i cant get to the shop", ("a", "i cant get to the shop", True)),
    ("disagree, they are always rushed", ("disagree", "they are always rushed", False)),
    ("a, no b", None), ("agree, but not here", None), ("a, b", None), ("because", None), ("a as well", None),
])
def test_answer_and_reason(said: str, split: tuple[str, str, bool] | None) -> None:
    assert answer_and_reason(said) == split


def test_match_option_without_letters() -> None:
    names = [["Very poorly"], ["Poorly"], ["OK"]]
    assert match_option("a", names) == 0
    assert match_option("a", names, letters=False) is None
    assert match_option("2", names, letters=False) == 1
    assert parse_number("half a dozen") == 6
