"""A voice note cannot be sent by SMS, so SMS prompts do not offer one. The service gives each
conversation ``participant.channel`` (sms, whatsapp, telegram, web), and the example study's
open questions offer "Type, or send a voice note." only where it is not ``sms``. On SQLite
and PostgreSQL, through the conversation service."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage

Say = Callable[..., ReceiveResult]


def story_prompt(service: ConversationService, say: Say, channel: str, address: str) -> str:
    """The open question's text, once a patient has answered up to it."""
    for reply in ("WAIT", "yes", "1"):
        say(reply, address=address, channel=channel)
    result = say("3", address=address, channel=channel)
    assert result.participant_id is not None
    [text] = [m.text for m in service.outbox_for(result.participant_id) if m.id in result.outbox_ids]
    return text


def test_an_sms_prompt_does_not_offer_a_voice_note(service: ConversationService, say: Say) -> None:
    assert story_prompt(service, say, "sms", "+447700900501") == "What was waiting like?"


@pytest.mark.parametrize(("channel", "address"), [("whatsapp", "+447700900502"), ("telegram", "5550502")])
def test_channels_that_take_voice_notes_still_offer_one(service: ConversationService, say: Say, channel: str, address: str) -> None:
    assert story_prompt(service, say, channel, address) == "What was waiting like? Type, or send a voice note."


def test_the_simulator_offers_a_voice_note(service: ConversationService) -> None:
    joined = service.join("web", "sim-voice", "ae-waiting", language="cy")
    for number, reply in enumerate(("ydw", "1", "3")):
        last = service.receive(InboundMessage("web", "sim-voice", f"web-{number}", reply))
    assert joined.participant_id is not None
    assert [m.text for m in service.outbox_for(joined.participant_id) if m.id in last.outbox_ids] == [
        "Sut brofiad oedd aros? Teipiwch, neu anfonwch neges llais."]


def test_a_welsh_sms_prompt_and_a_scheduled_flow_do_not_offer_one_either(service: ConversationService, say: Say) -> None:
    joined = service.join("sms", "+447700900503", "ae-waiting", language="cy")
    pid = joined.participant_id
    assert pid is not None
    for reply in ("ydw", "1", "3"):
        last = say(reply, address="+447700900503")
    assert [m.text for m in service.outbox_for(pid) if m.id in last.outbox_ids] == ["Sut brofiad oedd aros?"]
    started = service.start_flow(pid, "ae-waiting", "codesign")
    assert started is not None
    [idea] = [m.text for m in service.outbox_for(pid) if m.step_id == "idea"]
    assert idea == "Pa un newid fyddai'n gwneud aros yn well?\n(Atebwch HEPGOR i hepgor hwn.)"
