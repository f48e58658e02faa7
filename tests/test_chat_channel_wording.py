"""``chorus chat --channel sms`` showed a text worded per channel (``{% if participant.channel !=
'sms' %} Type, or send a voice note.{% endif %}``, as the ae-waiting example words its story
question) as another channel gets it: the coordinator previewing SMS saw an offer of voice notes
that SMS participants never get, and its segments counted with it. The preview now words each
text for the channel it shows, as the service does (bot/service.py sets ``participant.channel``)."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.chat import ChatSession, open_target
from bot.cli import cli

AE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
TO_THE_STORY = "yes\n1\n2\n"
"""Consent, Patient, two visits: the story question comes next."""
VOICE_OFFER = "Type, or send a voice note."


def _chat(*options: str) -> list[str]:
    outcome = CliRunner().invoke(cli, ["chat", str(AE), *options], input=TO_THE_STORY)
    assert outcome.exit_code == 0, outcome.output
    return [line for line in outcome.stdout.splitlines() if line.startswith("What was waiting like?")]


def test_an_sms_preview_words_texts_as_sms_participants_get_them() -> None:
    assert _chat("--channel", "sms") == ["What was waiting like?"]


@pytest.mark.parametrize("channel", ["whatsapp", "telegram"])
def test_a_preview_of_a_channel_that_takes_voice_notes_offers_them(channel: str) -> None:
    assert _chat("--channel", channel) == [f"What was waiting like? {VOICE_OFFER}"]


def test_the_session_knows_its_channel_for_conditions_too() -> None:
    session = ChatSession(open_target(AE), channel="sms")
    assert session.state.fields.get("channel") == "sms"
    assert "channel" not in ChatSession(open_target(AE)).state.fields, "no channel named, none assumed"


def test_the_start_flow_offers_the_other_languages_as_joining_does() -> None:
    """A study's start flow previewed with no ``--lang`` opens as joining by a keyword that names
    no language does (bot/service.py): each other language offered in itself. Before, the preview
    left it out, so the coordinator never saw the Welsh offer their participants get."""
    opening = [message.text for message in ChatSession(open_target(AE)).opening]
    assert opening[-1].endswith("Am Gymraeg, atebwch CYMRAEG.")
    assert not any("Am Gymraeg" in message.text for message in ChatSession(open_target(AE), language="cy").opening), \
        "a language chosen is a join route that names it: nothing offered"
    assert not any("Am Gymraeg" in message.text for message in ChatSession(open_target(AE, "evaluate")).opening), \
        "a later flow is no join"
