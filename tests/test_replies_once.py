"""Each message is matched against the global words once (flows/words.py Words.command), and
what was found is passed along: to erasure, to the global words, to the safeguarding check.
Through the conversation service, one by one, in a webhook batch and as a transcript."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage, Media
from flows.words import Words

Say = Callable[..., ReceiveResult]


@pytest.fixture
def matched(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every reply matched against the global words, in order."""
    seen: list[str] = []
    command = Words.command

    def counted(self: Words, text: str) -> str | None:
        seen.append(text)
        return command(self, text)

    monkeypatch.setattr(Words, "command", counted)
    return seen


@pytest.mark.parametrize("replies", [
    ["hello", "STOP", "START", "WAIT", "yes", "HELP", "1", "3", "It was a long wait", "later", "stop", "start"],
    ["WAIT", "delete my data", "no", "yes", "forget me please", "yes"],
    ["WAIT", "LANGUAGE", "cy", "back", "stopio"],
], ids=["stranger-then-conversation", "erasure", "language"])
def test_each_typed_message_is_matched_once(service: ConversationService, say: Say, matched: list[str], replies: list[str]) -> None:
    for reply in replies:
        matched.clear()
        say(reply)
        assert matched == [reply], f"{reply!r} was matched {len(matched)} times"


def test_a_tap_is_not_matched(service: ConversationService, say: Say, matched: list[str]) -> None:
    say("WAIT", channel="telegram", address="7070")
    matched.clear()
    say("", channel="telegram", address="7070", button="yes")
    assert matched == []


def test_a_batch_of_webhooks_matches_each_message_once(service: ConversationService, matched: list[str]) -> None:
    messages = [InboundMessage("whatsapp", f"+4477009002{n:02d}", f"wa-{n}", text) for n, text in enumerate(["WAIT", "hi", "STOP"])]
    service.accept_many(messages, process=True)
    assert sorted(matched) == ["STOP", "WAIT", "hi"]
    matched.clear()
    service.accept_many([InboundMessage("whatsapp", "+447700900200", "wa-next", "yes")], process=True)
    assert matched == ["yes"]


@pytest.mark.parametrize("heard", ["Stop.", "We waited six hours with no news"])
def test_a_transcript_is_matched_once(service: ConversationService, say: Say, matched: list[str], heard: str) -> None:
    for reply in ("WAIT", "yes", "1", "3"):
        say(reply, channel="whatsapp")
    note = say("", channel="whatsapp", media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    assert note.inbound_id is not None
    matched.clear()
    assert service.receive_transcript(note.inbound_id, heard, confidence=0.9).status == "processed"
    assert matched == [heard]
    assert service.session_status(note.participant_id or "") == ("stopped" if heard == "Stop." else "waiting")
