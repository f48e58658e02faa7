"""A study that words a hint its own way under ``texts:`` (``hint_yesno``, ``hint_choice``,
``hint_scale``...) has its words said on every channel: on Telegram, the web simulator and
WhatsApp's buttons as on SMS, with its own placeholders, rather than the built-in tap form
('Please tap one of the buttons...') silently taking their place. A study may word the tap
form too (``hint_yesno_tap``), said where the options are buttons."""

from __future__ import annotations

from typing import Any

import pytest

from bot.dispatch_rules import WEB_KEYBOARD
from channels.telegram import KEYBOARD as TELEGRAM
from flows.engine import Engine, TextInput
from flows.inputs import Keyboard
from flows.model import Flow, Study
from tests.engine_chat import NOW
from tests.test_button_hints_steps import DELPHI, QUICK, VOTES, YESNO

CHOICE = {"id": "role", "type": "choice", "text": "Who are you?",
          "options": ["A patient at the hospital", "A carer or relative", "A member of staff"]}
SCALE = {"id": "wait", "type": "scale", "text": "How was the wait?", "min": 1, "max": 5}
UNSURE_SCALE = {**SCALE, "unsure": True}
BUTTONS = [(TELEGRAM,), (WEB_KEYBOARD,), QUICK]
CHANNELS = [*BUTTONS, ()]
IDS = ["telegram", "simulator", "whatsapp", "sms"]


def _hint(step: dict[str, Any], texts: dict[str, Any], keyboards: tuple[Keyboard, ...], language: str = "en") -> list[str]:
    """The reply to something unclear ('purple') to ``step``, in a study with ``texts``."""
    flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"],
                                "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]})
    study = Study.model_validate({"study": "s", "title": "S", "languages": ["en", "cy"], "groups": ["patient"],
                                  "join": {"start_flow": "f"}, "texts": texts})
    engine = Engine(flow, study)
    state = engine.start(NOW, language=language).state
    return [m.text for m in engine.handle(state, TextInput("purple", keyboards=keyboards), NOW).messages()]


@pytest.mark.parametrize("keyboards", CHANNELS, ids=IDS)
def test_a_study_s_own_yes_no_hint_is_said_on_every_channel(keyboards: tuple[Keyboard, ...]) -> None:
    texts = {"hint_yesno": {"en": "Just Y or N, please.", "cy": "Dim ond Y neu N, os gwelwch yn dda."}}
    assert _hint(YESNO, texts, keyboards) == ["Just Y or N, please."]
    assert _hint(YESNO, texts, keyboards, "cy") == ["Dim ond Y neu N, os gwelwch yn dda."]


@pytest.mark.parametrize("keyboards", CHANNELS, ids=IDS)
def test_a_study_s_own_choice_hint_keeps_its_placeholders_on_every_channel(keyboards: tuple[Keyboard, ...]) -> None:
    assert _hint(CHOICE, {"hint_choice": "Send a number from 1 to {n}."}, keyboards) == ["Send a number from 1 to 3."]
    named = {**CHOICE, "options": ["Patient", "Carer", "Staff"]}
    assert _hint(named, {"hint_choice_words": "Send one of: {choices}."}, keyboards) == ["Send one of: Patient, Carer or Staff."]


@pytest.mark.parametrize("keyboards", CHANNELS, ids=IDS)
def test_a_study_s_own_scale_hint_keeps_its_placeholders_on_every_channel(keyboards: tuple[Keyboard, ...]) -> None:
    assert _hint(SCALE, {"hint_scale": "A number, {low} (worst) to {high} (best)."}, keyboards) == [
        "A number, 1 (worst) to 5 (best)."]
    assert _hint(UNSURE_SCALE, {"hint_scale_unsure": "{low}-{high}, or {unsure}."}, keyboards) == ["1-5, or Not sure."]


@pytest.mark.parametrize("keyboards", BUTTONS, ids=IDS[:3])
def test_a_study_may_word_the_tap_form_said_only_where_there_are_buttons(keyboards: tuple[Keyboard, ...]) -> None:
    texts = {"hint_yesno": "Just Y or N, please.", "hint_yesno_tap": "Tap Yes or No, please."}
    assert _hint(YESNO, texts, keyboards) == ["Tap Yes or No, please."]
    assert _hint(YESNO, texts, ()) == ["Just Y or N, please."]
    assert _hint(SCALE, {"hint_scale_tap": "Tap a button ({low} to {high})."}, (TELEGRAM,)) == ["Tap a button (1 to 5)."]
    assert _hint(SCALE, {"hint_scale_tap": "Tap a button ({low} to {high})."}, ()) == [
        "Please reply with a number from 1 to 5."]


def test_without_an_override_the_built_in_tap_hint_is_unchanged() -> None:
    assert _hint(YESNO, {"hint_scale": "Other."}, (TELEGRAM,)) == ["Please tap one of the buttons, or reply YES or NO."]
    assert _hint(YESNO, {}, ()) == ["Please reply YES or NO."]


@pytest.mark.parametrize("keyboards", CHANNELS, ids=IDS)
def test_a_study_s_own_statement_and_delphi_hints_are_said_on_every_channel(keyboards: tuple[Keyboard, ...]) -> None:
    votes = {**VOTES, "submissions": False}
    assert _hint(votes, {"statements.hint": "Agree, disagree or pass?"}, keyboards) == ["Agree, disagree or pass?"]
    assert _hint(DELPHI, {"delphi.hint": "Score it {low} to {high}."}, keyboards)[0] == "Score it 1 to 9."
