"""'idk' (or 'no', 'nothing', 'dim byd') said to two free-text questions in a row: the second was
taken for the first sent twice (flows/sent_twice.py), so the participant was told "We already
have that as your answer to the last question." and asked again, as if they had not answered,
and had to say it a third time. Someone with nothing to say says so at each question; only a
copy of an answer given to a question of another kind ('1', 'YES'), or of a story, is a double
press."""

from __future__ import annotations

import pytest

from flows.session_state import SessionState
from tests.engine_chat import RecordingChat

STORY = {"id": "story", "type": "open", "text": {"en": "Tell us about your care so far.",
                                                  "cy": "Dywedwch wrthym am eich gofal hyd yma."}}
WORRY = {"id": "worry", "type": "open", "text": {"en": "Was there a time you felt nobody listened?",
                                                  "cy": "Oedd adeg pan nad oedd neb yn gwrando?"}}
ROLE = {"id": "role", "type": "choice", "text": {"en": "Which best describes you?", "cy": "Pa un sy'n eich disgrifio?"},
        "options": [{"value": "pregnant", "label": {"en": "Pregnant", "cy": "Beichiog"}},
                    {"value": "midwife", "label": {"en": "Midwife", "cy": "Bydwraig"}}]}


@pytest.mark.parametrize(("said", "language"), [
    ("idk", "en"), ("no", "en"), ("Nope.", "en"), ("nothing really", "en"), ("N/A", "en"), ("not really", "en"),
    ("dunno tbh", "en"), ("dim byd", "cy"), ("dwn i ddim", "cy"), ("na", "cy"),
])
def test_nothing_to_say_at_two_free_text_questions_is_each_ones_answer(said: str, language: str) -> None:
    chat = RecordingChat(STORY, WORRY, language=language)
    chat.send(said)
    chat.state = SessionState.model_validate_json(chat.state.model_dump_json())  # stored between messages, as the service does
    replies = chat.send(said)
    assert [(answer.step_id, answer.raw) for answer in chat.recorded] == [("story", said), ("worry", said)]
    assert replies == ["Bye." if language == "en" else "Hwyl."]


def test_a_story_sent_twice_is_still_caught() -> None:
    story = "The midwives were lovely but I saw a different one every time."
    chat = RecordingChat(STORY, WORRY)
    chat.send(story)
    replies = chat.send(story)
    assert [answer.step_id for answer in chat.recorded] == ["story"]
    assert replies[0] == "We already have that as your answer to the last question."


def test_an_option_sent_twice_is_still_caught_even_when_it_says_no() -> None:
    chat = RecordingChat({**ROLE, "options": ["No", "Yes"]}, WORRY)
    chat.send("no")
    replies = chat.send("no")
    assert [answer.step_id for answer in chat.recorded] == ["role"]
    assert replies[0] == "We already have that as your answer to the last question."
