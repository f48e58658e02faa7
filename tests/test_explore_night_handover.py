"""Found playing busy hospital staff on a night-handover study over Telegram: after LATER,
'back now' means the participant is back (not BACK to the previous question), and 'ok im free
now' at a consent or YES/NO question is no YES (its 'ok' only leads into being back)."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest

from flows.ready_phrases import ready_without_yes
from tests.channel_helpers import TELEGRAM_SECRET, Running, provider_env, running_chorus
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.test_back_from_later import SEEN, STORY, Chat, answered

CHAT = 880011
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
CONSENT = {"id": "consent", "type": "consent", "text": "Reply YES to take part or NO to stop."}
STUDY = """\
study: night-handover
title: Night handover
languages: [en]
timezone: Australia/Sydney
groups: [nurse, doctor, porter]
join:
  start_flow: handover
  routes:
    - {telegram: nh-nurse, group: nurse}
    - {telegram: nh-porter, group: porter}
"""
FLOW = """\
flow: handover
steps:
  - {id: consent, type: consent, text: Hi. We are improving the night handover. Reply YES to take part or NO to stop.}
  - {id: shift, type: choice, text: Which shift do you work most?, options: [Days, Nights]}
  - {id: worst, type: open, text: What goes wrong at night handover?}
  - {id: done, type: end, text: Thank you.}
"""


@pytest.mark.parametrize("back", ["back now", "ok back now", "Back now!", "I'm back now"])
def test_back_now_after_later_asks_the_question_put_off_again(back: str) -> None:
    chat = Chat(SEEN, STORY)
    chat.send("yes")
    assert chat.send("after my shift").state.status == "snoozed"
    again = chat.send(back)
    assert answered(again) == [] and [m.text for m in again.messages()] == ["What was the wait like?"]
    assert answered(chat.send("Nobody had the drug chart")) == [("story", "Nobody had the drug chart")]


def test_back_alone_or_outside_a_snooze_still_goes_back() -> None:
    chat = Chat(SEEN, STORY)
    chat.send("yes")
    assert [m.text for m in chat.send("back now").messages()] == ["Were you seen within 4 hours?"], "not snoozed: BACK"
    chat.send("yes")
    chat.send("later")
    assert [m.text for m in chat.send("back").messages()] == ["Were you seen within 4 hours?"], "the bare word is BACK"


@pytest.mark.parametrize("step", [CONSENT, SEEN])
@pytest.mark.parametrize("back", ["ok im free now", "ok ready", "right, I'm back", "hi im here now"])
def test_being_back_is_no_yes_to_a_consent_or_yes_no_question(step: dict[str, Any], back: str) -> None:
    chat = Chat(step)
    assert chat.send("not now").state.status == "snoozed"
    again = chat.send(back)
    assert answered(again) == [] and [m.text for m in again.messages()] == [step["text"]]
    assert chat.state.tries == 0
    assert answered(chat.send("yes")) == [(step["id"], "yes")]


@pytest.mark.parametrize("reply", ["yes im free now", "yeah ready"])
def test_a_yes_after_later_still_answers(reply: str) -> None:
    chat = Chat(SEEN)
    chat.send("later")
    assert answered(chat.send(reply)) == [("seen", "yes")]


def test_a_bare_ok_after_later_answers_a_request_but_wakes_a_question_of_fact() -> None:
    """Since session 20 a bare "ok" to a question of what happened ("Were you seen within 4
    hours?") says the message was read, not YES (flows/parsing_fact_questions.py): after LATER it
    is being back, and the question is asked again with no try used."""
    chat = Chat(SEEN)
    chat.send("later")
    again = chat.send("ok")
    assert answered(again) == [] and chat.state.status == "waiting" and chat.state.tries == 0
    assert [e.text for e in again.events if hasattr(e, "text")] == ["Were you seen within 4 hours?"]
    call = Chat({"id": "call", "type": "yesno", "text": "Can we call you about this?"})
    call.send("later")
    assert answered(call.send("ok")) == [("call", "yes")]


def test_what_follows_the_ok() -> None:
    assert ready_without_yes("OK, I'm free now!") == "i'm free now"
    assert [ready_without_yes(t) for t in ("ok", "hi", "yes im free now", "sure, ready", "the wait was awful")] == [None] * 5


@pytest.fixture
def fake_telegram() -> Any:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url


def say(running: Running, fake: FakeTelegram, text: str) -> list[str]:
    before = len(fake.texts_to(CHAT))
    response = running.client.post("/webhooks/telegram", json=fake.message_update(CHAT, text), headers=HEADERS)
    assert response.status_code == 200, response.text
    wait_for(lambda: len(fake.texts_to(CHAT)) > before, what=f"a reply to {text!r}")
    running.settle()
    return fake.texts_to(CHAT)[before:]


def test_a_nurse_on_telegram_puts_questions_off_and_comes_back(tmp_path: Path, database_url: str, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    folder = tmp_path / "studies" / "night-handover"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "handover.yaml").write_text(FLOW, encoding="utf-8")
    with running_chorus(database_url, provider_env(fake, url), studies_dir=folder.parent) as running:
        assert "Reply YES" in say(running, fake, "/start nh-nurse")[0]
        assert "ask again" in say(running, fake, "after my shift")[0]
        assert "Reply YES" in say(running, fake, "ok im free now")[0], "being back is no consent"
        assert running.answers() == []
        assert say(running, fake, "yes") == ["Which shift do you work most?"]
        assert say(running, fake, "nights") == ["What goes wrong at night handover?"]
        assert "ask again" in say(running, fake, "not now, on shift")[0]
        assert say(running, fake, "back now") == ["What goes wrong at night handover?"], "not BACK to the shift question"
        assert say(running, fake, "The bleep never stops") == ["Thank you."]
        assert running.answers() == [("consent", "yes"), ("shift", "Nights"), ("worst", "The bleep never stops")]
    shutil.rmtree(folder.parent)
