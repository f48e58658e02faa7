"""Answers read back to be checked ("Just to check: 7?", "I heard: ...") go with Yes and No
buttons: where the channel shows them (Telegram, the web simulator, WhatsApp's quick replies)
they say 'Tap Yes or No', in Welsh too; SMS, which shows none, still says 'Reply YES or NO'.
A study that words a read-back its own way keeps its words on every channel."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dispatch_rules import WEB_KEYBOARD
from channels.telegram import KEYBOARD as TELEGRAM
from flows.engine import Engine, TextInput
from flows.events import SendMessage
from flows.inputs import Keyboard
from flows.model import Flow, Study
from tests.engine_chat import NOW
from tests.test_button_hints_steps import QUICK

SCALE = {"id": "wait", "type": "scale", "text": {"en": "How was the wait?", "cy": "Sut oedd yr aros?"}, "min": 1, "max": 9}
STORY = {"id": "story", "type": "open", "text": {"en": "Tell us about it.", "cy": "Dywedwch wrthym."}}
BUTTONS = [(TELEGRAM,), (WEB_KEYBOARD,), QUICK]


def _read_back(step: dict[str, Any], given: TextInput, language: str = "en", texts: dict[str, Any] | None = None) -> SendMessage:
    flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"],
                                "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]})
    study = Study.model_validate({"study": "s", "title": "S", "languages": ["en", "cy"], "groups": ["patient"],
                                  "join": {"start_flow": "f"}, "texts": texts or {}}) if texts else None
    engine = Engine(flow, study, voice_confirm="always")
    sprint = engine.handle(engine.start(NOW, language=language).state, given, NOW)
    return sprint.messages()[-1]


@pytest.mark.parametrize("keyboards", BUTTONS, ids=["telegram", "simulator", "whatsapp"])
def test_a_number_read_back_says_tap_where_yes_and_no_are_buttons(keyboards: tuple[Keyboard, ...]) -> None:
    asked = _read_back(SCALE, TextInput("7 but only at night", keyboards=keyboards))
    assert asked.text == "Just to check: 7? Tap Yes or No, or send the number."
    assert [button.value for button in asked.buttons] == ["yes", "no"]
    welsh = _read_back(SCALE, TextInput("7 yn y nos", keyboards=keyboards), "cy")
    assert welsh.text == "I wneud yn siŵr: 7? Pwyswch Ydw neu Nac ydw, neu anfonwch y rhif."


@pytest.mark.parametrize("keyboards", BUTTONS, ids=["telegram", "simulator", "whatsapp"])
def test_a_voice_read_back_says_tap_where_yes_and_no_are_buttons(keyboards: tuple[Keyboard, ...]) -> None:
    heard = TextInput("It was cold", source="voice", confidence=0.3, keyboards=keyboards)
    assert _read_back(STORY, heard).text == 'I heard: "It was cold". Is that right? Tap Yes or No.'
    assert _read_back(STORY, heard, "cy").text == "Clywais i: \"It was cold\". Ydy hynny'n iawn? Pwyswch Ydw neu Nac ydw."
    answer = _read_back(SCALE, TextInput("seven", source="voice", confidence=0.3, keyboards=keyboards))
    assert answer.text == 'I heard: "seven", so your answer is 7. Is that right? Tap Yes or No.'


def test_on_sms_read_backs_still_say_reply_yes_or_no() -> None:
    assert _read_back(SCALE, TextInput("7 but only at night")).text == "Just to check: 7? Reply YES or NO, or send the number."
    heard = TextInput("It was cold", source="voice", confidence=0.3)
    assert _read_back(STORY, heard).text == 'I heard: "It was cold". Is that right? Reply YES or NO.'
    assert _read_back(STORY, heard, "cy").text == "Clywais i: \"It was cold\". Ydy hynny'n iawn? Atebwch YDW neu NAC YDW."


def test_a_study_s_own_read_back_is_said_on_every_channel_unless_it_words_the_tap_form() -> None:
    own = {"confirm_number": "Did you mean {answer}? Y or N."}
    for keyboards in [(TELEGRAM,), ()]:
        assert _read_back(SCALE, TextInput("7 but only at night", keyboards=keyboards), texts=own).text == "Did you mean 7? Y or N."
    own_tap = {**own, "confirm_number_tap": "Did you mean {answer}? Tap {yes} or {no}."}
    assert _read_back(SCALE, TextInput("7 but only at night", keyboards=(TELEGRAM,)), texts=own_tap).text == (
        "Did you mean 7? Tap Yes or No.")
    assert _read_back(SCALE, TextInput("7 but only at night"), texts=own_tap).text == "Did you mean 7? Y or N."
