"""After LATER, a reply that only says the participant is back ('ok im free now', 'ready', 'hi')
gets the question put off again (flows/ready_phrases.py): on a free-text question it was stored
as the answer. A reply that answers the question answers it, and outside a snooze nothing changes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.engine import Engine, Sprint, TextInput
from flows.events import RecordAnswer
from flows.model import Flow
from flows.ready_phrases import says_ready

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
STORY = {"id": "story", "type": "open", "text": "What was the wait like?"}
SEEN = {"id": "seen", "type": "yesno", "text": "Were you seen within 4 hours?"}
ROLE = {"id": "role", "type": "choice", "text": "Which best describes you?", "max_tries": 2,
        "options": [{"value": "patient", "label": "Patient"}, {"value": "staff", "label": "Staff"}]}
THANKS = {"id": "thanks", "type": "end", "text": "Thank you."}


class Chat:
    def __init__(self, *steps: dict[str, Any]) -> None:
        self.engine = Engine(Flow.model_validate({"flow": "f", "steps": [*steps, THANKS]}))
        first = self.engine.start(NOW)
        self.state = first.state
        self.minutes = 0

    def send(self, text: str) -> Sprint:
        self.minutes += 1
        sprint = self.engine.handle(self.state, TextInput(text), NOW + timedelta(minutes=self.minutes))
        self.state = sprint.state
        return sprint


def answered(sprint: Sprint) -> list[tuple[str, Any]]:
    return [(e.step_id, e.value) for e in sprint.events if isinstance(e, RecordAnswer)]


@pytest.mark.parametrize("back", ["ok im free now", "Ready", "go ahead", "hi", "Hello!", "I'm back", "I can talk now",
                                  "ok I am free now to chat", "sorry im back", "dw i'n barod nawr", "barod", "ymlaen 👍"])
def test_being_back_after_later_gets_the_free_text_question_again(back: str) -> None:
    chat = Chat(STORY)
    assert chat.send("later").state.status == "snoozed"
    again = chat.send(back)
    assert answered(again) == [] and [m.text for m in again.messages()] == ["What was the wait like?"]
    assert chat.state.status == "waiting" and chat.state.tries == 0
    assert answered(chat.send("Four hours on a trolley")) == [("story", "Four hours on a trolley")]


@pytest.mark.parametrize("story", ["im free on tuesdays so getting there was hard", "back pain all night", "ok it was fine",
                                   "Ready for it to end after 6 hours"])
def test_a_real_answer_after_later_is_the_answer(story: str) -> None:
    chat = Chat(STORY)
    chat.send("later")
    assert answered(chat.send(story)) == [("story", story)]


def test_a_reply_that_answers_the_question_put_off_answers_it() -> None:
    chat = Chat({"id": "call", "type": "yesno", "text": "Can we call you next week?"})
    chat.send("later")
    assert answered(chat.send("ok")) == [("call", "yes")], "'ok' answers a YES or NO question that asks something of them"
    chat = Chat(SEEN)
    chat.send("later")
    assert answered(chat.send("ok")) == [], "but says nothing of a fact (tests/test_parsing_ok_to_a_fact.py)"
    assert answered(chat.send("yes")) == [("seen", "yes")]


def test_being_back_on_a_choice_question_uses_no_try() -> None:
    chat = Chat(ROLE)
    chat.send("later")
    again = chat.send("im back now")
    assert answered(again) == [] and chat.state.tries == 0
    assert "Which best describes you?" in [m.text.split("\n")[0] for m in again.messages()]
    assert answered(chat.send("staff")) == [("role", "staff")]


def test_outside_a_snooze_a_greeting_is_read_as_usual() -> None:
    chat = Chat(STORY)
    assert answered(chat.send("hi")) == [("story", "hi")], "only a snoozed question is asked again"


@pytest.mark.parametrize("text", ["yes", "no", "later", "busy", "4", "the wait was awful", "here is my answer", "back pain"])
def test_these_are_not_being_back(text: str) -> None:
    assert not says_ready(text)
