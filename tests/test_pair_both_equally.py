"""'both tbh', 'both equally', 'the same', 'both are important' at a pair ("Which would help
more?") were not read as a tie: the participant was told "Please reply A, B or 'Can't decide'."
after saying exactly that. The pair's own words for a tie ('both', 'the same', 'y ddau') now
count as the general 'can't decide' ones do, with 'tbh', 'really' or 'I' around them."""

from __future__ import annotations

import pytest

from tests.engine_chat import RecordingChat

PAIR = {"id": "compare", "type": "pairwise", "text": {"en": "Which would help more?", "cy": "Pa un fyddai'n helpu mwy?"},
        "ideas": [{"id": "text", "text": {"en": "A text line to your midwife", "cy": "Llinell decstio i'ch bydwraig"}},
                  {"id": "home", "text": {"en": "More home visits", "cy": "Mwy o ymweliadau cartref"}}],
        "pairs": 1}


@pytest.mark.parametrize(("said", "language"), [
    ("both tbh", "en"), ("both equally", "en"), ("the same", "en"), ("both are important", "en"),
    ("honestly both", "en"), ("50/50", "en"), ("equally", "en"), ("both really", "en"), ("they're the same", "en"),
    ("y ddau yn bwysig", "cy"), ("y ddau yr un fath", "cy"),
])
def test_saying_both_is_a_tie(said: str, language: str) -> None:
    chat = RecordingChat(PAIR, language=language)
    chat.send(said)
    ties = [answer.value for answer in chat.recorded if answer.item is not None]
    assert ties and ties[0]["tie"] is True


@pytest.mark.parametrize("said", ["both of them are rubbish, we need more midwives", "the same midwife please"])
def test_a_sentence_that_goes_on_is_no_tie(said: str) -> None:
    chat = RecordingChat(PAIR)
    chat.send(said)
    assert not any(answer.value and answer.value.get("tie") for answer in chat.recorded if answer.item is not None)
