"""Several Delphi scores in one reply ('8 9 7', '6, 8 and 9'), as an exploratory tester sent
them in a round asked in batches: the participant is told to give one score at a time, for the
item shown (named), instead of the generic "Please reply with a number". The reply is never read
as scores for items not shown yet, and it uses no try: the participant is answering, and the
item is never skipped for it (other unclear replies still use the step's tries)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import RecordAnswer
from flows.model import Flow

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
LONG = "A named midwife to ask questions after going home with the baby"
ITEMS = [LONG, "Baby checks done on the ward", "Parking"]
GENERIC = "Please reply with a number from 1 to 9, or NOT SURE."
ONE_AT_A_TIME = 'One score at a time, please: your score for "A named midwife to ask questions after…", from 1 to 9.'


class Chat:
    def __init__(self, language: str = "en", **extra: Any) -> None:
        step = {"id": "rate", "type": "delphi", "delphi": "homecoming", "round": 1, "items": ITEMS, "batch": 3, **extra}
        flow = Flow.model_validate({"flow": "f", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]})
        self.engine = Engine(flow)
        self.last: Sprint = self.engine.start(NOW, seed=1, language=language)
        self.state: SessionState = self.last.state

    def send(self, text: str) -> Sprint:
        self.last = self.engine.handle(self.state, TextInput(text), NOW)
        self.state = self.last.state
        return self.last

    def texts(self) -> list[str]:
        return [m.text for m in self.last.messages()]


def _items(sprint: Sprint) -> list[tuple[str | None, Any]]:
    return [(e.item, e.value) for e in sprint.events if isinstance(e, RecordAnswer) and not e.skipped]


@pytest.mark.parametrize("reply", ["8 9 7", "7 7 7", "6, 8 and 9", "6,8,9.", "8 9 7 please", "8 & 9"])
def test_several_scores_get_a_hint_to_give_one_for_the_item_shown(reply: str) -> None:
    chat = Chat()
    sprint = chat.send(reply)
    assert chat.texts() == [ONE_AT_A_TIME], "the item named (cut short), and the scale"
    assert _items(sprint) == [], "no score stored, for this item or those not shown yet"
    chat.send("8")
    assert _items(chat.last) == [(LONG, {"delphi": "homecoming", "round": 1, "score": 8})]
    assert chat.texts()[-1].startswith("2/3: Baby checks done on the ward"), "the next item is asked, unscored"


@pytest.mark.parametrize("reply", ["7-9 maybe", "banana", "8 9 70"])
def test_a_reply_that_is_not_several_scores_keeps_the_usual_hint(reply: str) -> None:
    chat = Chat()
    chat.send(reply)
    assert chat.texts() == [GENERIC]


def test_two_scores_for_one_are_asked_which_is_nearer_not_one_at_a_time() -> None:
    chat = Chat()
    chat.send("7 or 8")
    assert chat.texts() == [f"Is it nearer 7 or 8? Your best guess is fine. {GENERIC}"]


def test_one_score_as_a_fraction_is_still_a_score() -> None:
    chat = Chat()
    chat.send("7/9")
    assert _items(chat.last)[0][1]["score"] == 7


def test_the_hint_is_in_welsh_for_a_welsh_speaker() -> None:
    chat = Chat(language="cy")
    chat.send("8 9 7")
    assert chat.texts() == ['Un sgôr ar y tro, os gwelwch yn dda: eich sgôr ar gyfer "A named midwife to ask questions after…", o 1 i 9.']


def test_several_scores_use_no_try_so_the_item_is_never_skipped_for_them() -> None:
    """The participant is answering, only several at once: told how each time, and the item
    waits for its score however often they do it."""
    chat = Chat()
    for reply in ("8 9 7", "7 7 7", "6, 8 and 9", "8 9 7"):
        sprint = chat.send(reply)
        assert chat.texts() == [ONE_AT_A_TIME]
        assert [e for e in sprint.events if isinstance(e, RecordAnswer)] == [], "nothing skipped, nothing scored"
    chat.send("banana")
    chat.send("pears")
    chat.send("plums")
    assert "Let's leave that one and move on." in chat.texts(), "unclear replies still use the tries"


def test_several_scores_at_the_pause_between_batches_ask_next_or_later_again() -> None:
    chat = Chat(batch=1)
    chat.send("5")
    assert "Reply NEXT" in chat.texts()[-1]
    sprint = chat.send("8 9")
    assert chat.texts() == ["Reply LATER to stop for now, or NEXT to carry on."]
    assert _items(sprint) == [], "not taken as NEXT and lost, nor as the next item's score"


def test_several_scores_in_reply_to_why_are_no_reason() -> None:
    chat = Chat(ask_reason=True)
    chat.send("9")
    chat.send("9 9")
    assert chat.texts() == ["Please tell us in words why you gave 9, or reply NO to skip."]
    assert _items(chat.last) == []
