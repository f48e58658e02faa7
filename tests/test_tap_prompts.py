"""Built-in prompts that say how to carry on (a Delphi pause, nothing left to rate, every
statement seen) say 'Tap Next' where the participant's channel shows that button (Telegram,
the web simulator, WhatsApp's quick replies), and 'Reply NEXT' on SMS, which shows none. A
study that words such a prompt its own way keeps its words on every channel. Also: the
statuses of a live conversation are named once (:data:`flows.session_state.LIVE`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.dispatch_rules import WEB_KEYBOARD
from channels.telegram import KEYBOARD as TELEGRAM
from flows.inputs import Keyboard
from flows.model import Flow
from flows.steps.base import InputStep, StepContext
from flows.words import built_in
from tests.test_button_hints_steps import DELPHI, QUICK, Chat

ROOT = Path(__file__).resolve().parent.parent
PAUSED = {**DELPHI, "batch": 1}


@pytest.mark.parametrize("keyboards", [(TELEGRAM,), (WEB_KEYBOARD,), QUICK], ids=["telegram", "simulator", "whatsapp"])
def test_a_delphi_pause_says_tap_next_where_next_is_a_button(keyboards: tuple[Keyboard, ...]) -> None:
    chat = Chat(PAUSED, keyboards)
    assert chat.send("5") == ["That's 1 of 2. Tap Next for 1 more, or reply LATER to carry on another time."]


def test_a_delphi_pause_on_sms_still_says_reply_next() -> None:
    chat = Chat(PAUSED)
    assert chat.send("5") == ["That's 1 of 2. Reply NEXT for 1 more, or LATER to carry on another time."]


def test_a_delphi_pause_in_welsh_says_pwyswch_nesaf() -> None:
    chat = Chat(PAUSED, (TELEGRAM,), "cy")
    assert chat.send("5") == ["Dyna 1 o 2. Pwyswch Nesaf am 1 arall, neu atebwch WEDYN i barhau rywbryd eto."]


def _prompt(step: dict[str, Any], data: dict[str, Any], keyboards: tuple[Keyboard, ...], language: str = "en",
            texts: dict[str, Any] | None = None) -> str:
    flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [step]})
    worded = set(texts or {})
    ctx = StepContext(language=language, default_language="en", render=lambda text: str(text),
                      words=lambda key: (texts or {}).get(key) or built_in(key, language), data=data, keyboards=keyboards,
                      worded_by_study=lambda key: key in worded)
    asked = flow.steps[0]
    assert isinstance(asked, InputStep)
    return asked.prompt(ctx).text


@pytest.mark.parametrize(("keyboards", "language", "said"), [
    ((TELEGRAM,), "en", "There is nothing left to rate in this round. Tap OK to carry on."),
    ((WEB_KEYBOARD,), "cy", "Does dim byd ar ôl i'w sgorio yn y rownd hon. Pwyswch Iawn i barhau."),
    ((), "en", "There is nothing left to rate in this round. Reply OK to carry on."),
], ids=["telegram", "simulator-welsh", "sms"])
def test_nothing_left_to_rate_says_tap_ok_where_ok_is_a_button(keyboards: tuple[Keyboard, ...], language: str, said: str) -> None:
    assert _prompt(DELPHI, {"queue": []}, keyboards, language) == said


@pytest.mark.parametrize(("keyboards", "submissions", "said"), [
    ((TELEGRAM,), False, "You have seen every statement for now. Tap OK to carry on."),
    ((TELEGRAM,), True, "You have seen every statement for now. Tap OK to carry on, or reply ADD and your own statement."),
    ((), True, "You have seen every statement for now. Reply OK to carry on or ADD and your own statement."),
], ids=["telegram", "telegram-add", "sms-add"])
def test_every_statement_seen_says_tap_ok_where_ok_is_a_button(keyboards: tuple[Keyboard, ...], submissions: bool, said: str) -> None:
    step = {"id": "votes", "type": "statements", "statements": ["Parking should be free."], "submissions": submissions}
    assert _prompt(step, {"current": None}, keyboards) == said  # (none left to show)


def test_a_study_that_words_the_pause_its_own_way_keeps_its_words_on_telegram() -> None:
    own = {"delphi.nothing_left": "All done for this round: OK to go on."}
    assert _prompt(DELPHI, {"queue": []}, (TELEGRAM,), texts=own) == "All done for this round: OK to go on."
    own_tap = {**own, "delphi.nothing_left_tap": "All done: tap {ok}."}
    assert _prompt(DELPHI, {"queue": []}, (TELEGRAM,), texts=own_tap) == "All done: tap OK."
    assert _prompt(DELPHI, {"queue": []}, (), texts=own_tap) == "All done for this round: OK to go on."


def test_the_live_statuses_are_named_once() -> None:
    """``("waiting", "snoozed")`` is :data:`flows.session_state.LIVE` everywhere but storage/
    (which may import nothing of flows/: its SQL spells the statuses out)."""
    found = [str(path.relative_to(ROOT)) for folder in ("bot", "channels", "flows", "nlp") for path in (ROOT / folder).rglob("*.py")
             if '"waiting", "snoozed")' in path.read_text(encoding="utf-8")]
    assert found == ["flows/session_state.py"]
