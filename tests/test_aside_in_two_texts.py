"""A story told at a question that cannot read it, sent as two texts (an SMS split in two, or
the rest typed straight after), is kept whole and thanked once. Both parts used to be thanked
and the question asked twice over ("Thank you, we've noted that." twice)."""

from __future__ import annotations

from datetime import timedelta

from flows.events import RecordComment
from flows.inputs import TextInput
from tests.engine_chat import RecordingChat

SEEN = {"id": "seen", "type": "yesno", "text": "Were you seen within 4 hours?"}
FIRST = "well the nurse was lovely when she came but we sat in the corridor"
REST = "for most of the night and nobody told us what was happening with my dad"
NOTED = "Thank you, we've noted that."


def comments(chat: RecordingChat, text: str) -> tuple[list[str], list[str]]:
    sprint = chat.engine.handle(chat.state, TextInput(text), chat.now)
    chat.state = sprint.state
    return [m.text for m in sprint.messages()], [e.text for e in sprint.events if isinstance(e, RecordComment)]


def test_the_rest_of_a_story_is_kept_and_not_thanked_again() -> None:
    chat = RecordingChat(SEEN)
    assert comments(chat, FIRST) == ([NOTED, "Were you seen within 4 hours?"], [FIRST])
    chat.now += timedelta(seconds=20)
    assert comments(chat, REST) == ([], [REST]), "kept, and nothing said: the thanks and the question are just above"
    assert chat.state.tries == 0
    assert chat.send("yes") == ["Bye."], "the question still answers"


def test_a_second_story_minutes_later_is_thanked_as_the_first() -> None:
    chat = RecordingChat(SEEN)
    comments(chat, FIRST)
    chat.now += timedelta(minutes=5)
    assert comments(chat, REST) == ([NOTED, "Were you seen within 4 hours?"], [REST])
