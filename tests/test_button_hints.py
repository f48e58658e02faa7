"""Hints after an unclear reply say what the participant saw: buttons to tap where their channel
showed the options as buttons (Telegram, the web simulator, WhatsApp's quick replies and list
pickers), numbers only where the options went out numbered (SMS, WhatsApp without templates).
Typed replies are read on every channel."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.dispatch_rules import WEB_KEYBOARD, Candidate, WhatsAppConfig, _interactive, keyboards_on
from bot.settings import Settings
from channels.telegram import KEYBOARD as TELEGRAM
from flows.engine import Engine, TextInput
from flows.events import Button
from flows.inputs import Keyboard, shows_buttons
from flows.model import Flow
from tests.desk_helpers import two_studies
from tests.engine_chat import NOW

ROLE = {"id": "role", "type": "choice", "text": {"en": "Which best describes you?", "cy": "Pa un sy'n eich disgrifio orau?"},
        "options": [{"value": "patient", "label": {"en": "Patient", "cy": "Claf"}},
                    {"value": "carer", "label": {"en": "Family carer", "cy": "Gofalwr teulu"}},
                    {"value": "staff", "label": {"en": "NHS staff", "cy": "Staff y GIG"}}]}
LONG = {"id": "why", "type": "choice", "text": "What mattered most?",
        "options": ["Being kept informed about how long the wait would be", "Somewhere comfortable to sit while waiting",
                    "Pain relief while waiting to be seen"]}
DAYS = {"id": "days", "type": "choice", "text": "Which days suit you?", "multiple": True, "max_picks": 2,
        "options": ["Monday mornings", "Tuesday evenings", "Weekend afternoons"]}
SCALE = {"id": "wait", "type": "scale", "text": "How was the wait?", "min": 1, "max": 5}
LIKERT = {"id": "kept", "type": "scale", "text": "I was kept informed.", "min": 1, "max": 5,
          "labels": ["Strongly disagree", "Disagree", "Neither", "Agree", "Strongly agree"]}
QUICK = WhatsAppConfig.from_dict({"quick_reply": {"content_sid": "HX" + "a" * 32}})


def reply(step: dict[str, Any], text: str, keyboards: tuple[Keyboard, ...] = (), language: str = "en") -> tuple[list[str], Any]:
    """The messages and the answer (or None) after ``text``, sent to ``step`` from a channel with ``keyboards``."""
    engine = Engine(Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [step]}))
    state = engine.start(NOW, language=language).state
    sprint = engine.handle(state, TextInput(text, keyboards=keyboards), NOW)
    return [m.text for m in sprint.messages()], sprint.state.values.get(step["id"])


def test_a_choice_on_telegram_asks_for_a_tap_or_the_options_words_not_the_numbers_it_never_showed() -> None:
    assert reply(ROLE, "purple", (TELEGRAM,))[0] == ["Please tap one of the buttons, or reply Patient, Family carer or NHS staff."]
    assert reply(ROLE, "porffor", (TELEGRAM,), "cy")[0] == ["Pwyswch un o'r botymau, neu atebwch Claf, Gofalwr teulu neu Staff y GIG."]
    assert reply(ROLE, "purple")[0] == ["Please reply with a number from 1 to 3."]  # SMS: numbered lines
    assert reply(ROLE, "porffor", language="cy")[0] == ["Atebwch gyda rhif o 1 i 3."]


def test_typed_numbers_and_words_are_still_read_where_buttons_were_shown() -> None:
    assert reply(ROLE, "2", (TELEGRAM,))[1] == "carer"
    assert reply(ROLE, "nhs staff", (TELEGRAM,))[1] == "staff"
    assert reply(SCALE, "4", (TELEGRAM,))[1] == 4
    assert reply(DAYS, "1 3", (TELEGRAM,))[1] == ["Monday mornings", "Weekend afternoons"]


def test_options_too_long_to_list_are_left_to_the_buttons() -> None:
    assert reply(LONG, "purple", (TELEGRAM,))[0] == ["Please tap one of the buttons, or type your answer."]
    assert reply(LONG, "purple", (TELEGRAM,), "cy")[0] == ["Pwyswch un o'r botymau, neu teipiwch eich ateb."]


def test_a_choice_answered_by_what_is_not_wanted_names_the_buttons_left() -> None:
    assert reply(ROLE, "not a patient", (TELEGRAM,))[0] == [
        "OK, not Patient. Which one, then? Please reply Family carer or NHS staff."]
    assert reply(ROLE, "not a patient")[0] == ["OK, not Patient. Which one, then? Please reply 2 or 3."]


def test_a_multiple_choice_on_telegram_is_ticked_then_sent_with_done() -> None:
    assert reply(DAYS, "1 2 3", (TELEGRAM,))[0] == ["Please tick up to 2 of the options, then tap Done."]
    assert reply(DAYS, "1 2 3", (TELEGRAM,), "cy")[0] == ["Ticiwch hyd at 2 o'r opsiynau, yna pwyswch Wedi gorffen."]
    assert reply(DAYS, "anything but weekend afternoons", (TELEGRAM,))[0] == [
        "OK, not Weekend afternoons. Which ones, then? Please tick them, then tap Done."]
    assert reply(DAYS, "1 2 3")[0] == ["Please reply with up to 2 numbers from 1 to 3, e.g. 1 3."]
    assert reply(DAYS, "1 2 3", (WEB_KEYBOARD,))[0] == ["Please reply with up to 2 numbers from 1 to 3, e.g. 1 3."]


def test_a_scale_shown_as_buttons_asks_for_a_tap_and_names_words_where_the_buttons_are_words() -> None:
    assert reply(SCALE, "purple", (TELEGRAM,))[0] == ["Please tap one of the buttons, or reply with a number from 1 to 5."]
    assert reply(SCALE, "purple", (TELEGRAM,), "cy")[0] == ["Pwyswch un o'r botymau, neu atebwch gyda rhif o 1 i 5."]
    assert reply(LIKERT, "purple", (TELEGRAM,))[0] == [
        "Please tap one of the buttons, or reply with words such as 'Strongly disagree' or 'Strongly agree'."]
    assert reply(LIKERT, "purple")[0] == [
        "Please reply with a number from 1 to 5, or words such as 'Strongly disagree' or 'Strongly agree'."]
    unsure = {**SCALE, "unsure": True}
    assert reply(unsure, "purple", (TELEGRAM,))[0] == [
        "Please tap one of the buttons, or reply with a number from 1 to 5 or 'Not sure'."]


def test_whatsapp_hints_follow_the_studys_quick_reply_and_list_picker_templates() -> None:
    """Quick replies for up to 3 options (titles up to 20 characters), list pickers up to 10
    (24): those questions get the tap hint, any other the numbers it was sent with."""
    on_whatsapp = keyboards_on("whatsapp", QUICK)
    assert reply(ROLE, "purple", on_whatsapp)[0] == ["Please tap one of the buttons, or reply Patient, Family carer or NHS staff."]
    four = {**ROLE, "options": [*ROLE["options"], {"value": "other", "label": "Someone else"}]}
    assert reply(four, "purple", on_whatsapp)[0] == ["Please reply with a number from 1 to 4."]
    assert reply(DAYS, "1 2 3", on_whatsapp)[0] == ["Please reply with up to 2 numbers from 1 to 3, e.g. 1 3."]
    assert reply(ROLE, "purple", keyboards_on("whatsapp", WhatsAppConfig()))[0] == ["Please reply with a number from 1 to 3."]
    assert keyboards_on("sms", QUICK) == ()


@pytest.mark.parametrize("labels", [["Yes", "No"], ["Patient", "Family carer", "NHS staff"], ["A much longer label than twenty", "B"],
                                    [f"Option {n}" for n in range(1, 8)], [f"Option {n}" for n in range(1, 12)],
                                    ["A label of more than twenty four", "B", "C", "D"]])
@pytest.mark.parametrize("multiple", [False, True])
@pytest.mark.parametrize("config", [
    QUICK, WhatsAppConfig(), WhatsAppConfig.from_dict({"list_picker": [{"content_sid": "HX" + "b" * 32, "options": 7}]}),
    WhatsAppConfig.from_dict({"quick_reply": {"content_sid": "HX" + "a" * 32, "options": 2},
                              "list_picker": {"content_sid": "HX" + "b" * 32}}),
])
def test_the_hints_keyboards_are_exactly_the_questions_the_dispatcher_sends_as_buttons(
        labels: list[str], multiple: bool, config: WhatsAppConfig) -> None:
    buttons = tuple(Button(label, str(n)) for n, label in enumerate(labels, start=1))
    row = Candidate(1, "p", "whatsapp", "+447700900123", "Which?", buttons, multiple, "prompt", "q", "s", NOW, False, NOW, NOW)
    assert shows_buttons(config.keyboards(), buttons, multiple) == (_interactive(row, config) is not None)


def test_the_web_simulator_shows_buttons_and_hints_as_telegram_does_and_a_multiple_choice_numbered(tmp_path: Path) -> None:
    """The simulator's page shows a question's options as buttons (the hint asks for a tap), but
    a multiple choice as numbered text, as SMS does: a button there would send one option alone."""
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    with TestClient(create_app(settings)) as client:
        session = client.post("/api/simulator/sessions", json={"study": "ae-waiting"}).json()["session"]

        def send(text: str, button: str | None = None) -> list[dict[str, Any]]:
            sent = client.post(f"/api/simulator/sessions/{session}/messages", json={"text": text, "button": button})
            assert sent.status_code == 200, sent.text
            return list(sent.json()["messages"])

        role = send("yes")[-1]
        assert [b["label"] for b in role["buttons"]] == ["Patient", "Carer or family", "Staff"]
        assert [m["text"] for m in send("purple")] == ["Please tap one of the buttons, or reply Patient, Carer or family or Staff."]
        shift = send("Staff", f"{role['buttons'][2]['at']}~staff")[-1]
        assert shift["buttons"] == [] and "\n1) " in shift["text"] and "(You can pick more than one, e.g. 1 3)" in shift["text"]
        assert [m["text"] for m in send("1 2 3 4 5 6 7 8 9")][0].startswith("Please reply with")
