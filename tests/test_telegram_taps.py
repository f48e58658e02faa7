"""Telegram taps told why at once (bot/tap_checks.py), end to end: python-telegram-bot talks HTTP
to a local Bot API server, and Chorus runs under uvicorn. A tick past a multiple choice's
``max_picks`` is refused with a pop-up and the keyboard left as it is; a tap on the buttons of
a question answered already is told so, its keyboard removed and its inbox row marked, and no
stored answer changes. In English and in Welsh."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from storage.tables import INBOUND
from tests.channel_helpers import Running, provider_env, running_chorus
from tests.fake_telegram import FakeTelegram, LocalServer, wait_for
from tests.test_telegram import CHAT, post, say

STUDY = """study: shift-ticks
title: {en: Shifts, cy: Shifftiau}
languages: [en, cy]
join:
  start_flow: shifts
  routes:
    - telegram: shifts
    - telegram: shifftiau
      language: cy
"""
FLOW = """flow: shifts
steps:
  - id: shifts
    type: choice
    multiple: true
    max_picks: 3
    text: {en: Which shifts suit you? Pick up to 3., cy: Pa shifftiau sy'n addas i chi? Dewiswch hyd at 3.}
    options:
      - {value: early, label: {en: Early, cy: Cynnar}}
      - {value: late, label: {en: Late, cy: Hwyr}}
      - {value: night, label: {en: Night, cy: Nos}}
      - {value: weekend, label: {en: Weekend, cy: Penwythnos}}
      - {value: on_call, label: {en: On call, cy: Ar alwad}}
  - id: role
    type: choice
    text: {en: What is your role?, cy: Beth yw eich rôl?}
    options:
      - {value: nurse, label: {en: Nurse, cy: Nyrs}}
      - {value: doctor, label: {en: Doctor, cy: Meddyg}}
  - {id: bye, type: end, text: {en: Thank you., cy: Diolch.}}
"""
JOIN = {"en": "/start shifts", "cy": "/start shifftiau"}
TOO_MANY = {"en": "You can pick up to 3. Untick one to pick another.",
            "cy": "Gallwch ddewis hyd at 3. Dad-diciwch un i ddewis un arall."}
ANSWERED = {"en": "That question has already been answered.", "cy": "Mae'r cwestiwn hwnnw wedi'i ateb yn barod."}
WELSH_TAP = {"early": "Cynnar", "late": "Hwyr", "night": "Nos", "weekend": "Penwythnos"}


@pytest.fixture
def fake_telegram() -> Any:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    folder = tmp_path / "studies" / "shift-ticks"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "shifts.yaml").write_text(FLOW, encoding="utf-8")
    return folder.parent


def tap(running: Running, fake: FakeTelegram, data: str, message: dict[str, Any]) -> dict[str, Any]:
    """Tap a button of ``message`` (as the phone shows it); once the tap's query is answered,
    what it was answered with."""
    answered = len(fake.calls_to("answerCallbackQuery"))
    update = fake.callback_update(CHAT, data, message)
    post(running, update)
    wait_for(lambda: len(fake.calls_to("answerCallbackQuery")) > answered, what="the tap's query answered")
    answer = fake.calls_to("answerCallbackQuery")[answered]
    assert answer["callback_query_id"] == update["callback_query"]["id"]
    return answer


def tick(running: Running, fake: FakeTelegram, data: str, message: dict[str, Any]) -> None:
    """Tick (or untick) an option and wait for the keyboard to show it."""
    edits = len(fake.calls_to("editMessageReplyMarkup"))
    assert not tap(running, fake, data, message).get("text"), "an allowed tick is answered without words"
    wait_for(lambda: len(fake.calls_to("editMessageReplyMarkup")) > edits, what="the tick shown")


def labels(message: dict[str, Any]) -> list[str]:
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def tap_statuses(running: Running) -> list[tuple[str, str]]:
    """(value tapped, status) of every stored tap, in order (the place before the value dropped)."""
    with running.chorus.database.transaction() as connection:
        rows = connection.execute(select(INBOUND.c.button, INBOUND.c.status).where(INBOUND.c.button.is_not(None))
                                  .order_by(INBOUND.c.id)).all()
    return [("|".join(part.split("~")[-1] for part in button.split("|")), status) for button, status in rows]


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_tick_past_max_picks_is_refused_at_once_and_the_keyboard_stays(
        language: str, studies: Path, database_url: str, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, JOIN[language]))
        question = fake.last_to(CHAT)
        assert labels(question)[-1] == ("Done" if language == "en" else "Wedi gorffen")
        for value in ("early", "late", "night"):
            tick(running, fake, value, question)
        ticked = copy.deepcopy(question["reply_markup"])
        sent, edits = len(fake.sent), len(fake.calls_to("editMessageReplyMarkup"))

        refused = tap(running, fake, "weekend", question)  # a fourth
        assert refused["text"] == TOO_MANY[language]
        assert str(refused.get("show_alert")).lower() == "true", "a pop-up to dismiss, not a passing note"
        tick(running, fake, "early", question)  # untick one: the next edit is this one's, none came between
        assert len(fake.calls_to("editMessageReplyMarkup")) == edits + 1, "the refused tap left the keyboard alone"
        assert not any(b["text"].endswith(WELSH_TAP["weekend"] if language == "cy" else "Weekend") and b["text"].startswith("\u2713")
                       for row in ticked["inline_keyboard"] for b in row)
        assert sum(b.startswith("\u2713") for b in labels(question)) == 2

        tick(running, fake, "weekend", question)  # now it may be ticked
        assert tap(running, fake, "on_call", question)["text"] == TOO_MANY[language]
        done = "done" if language == "en" else "wedi gorffen"  # typed: the ticks as the keyboard still shows them
        assert say(running, fake, fake.message_update(CHAT, done)) == ["What is your role?" if language == "en" else "Beth yw eich rôl?"]
        running.settle()
        assert len(fake.sent) == sent + 1, "the refused ticks sent no message, and done no hint"
        assert running.answers() == [("shifts", ["late", "night", "weekend"])]
        assert tap_statuses(running) == [("late|night|weekend", "processed")], "ticks are no messages; done is one"


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_tap_on_a_question_answered_already_is_told_so_and_changes_nothing(
        language: str, studies: Path, database_url: str, fake_telegram: Any) -> None:
    """The participant typed their answers, and taps the old keyboards afterwards: a multiple
    choice's Done after a tick, then a single choice's button once the conversation has ended."""
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, JOIN[language]))
        shifts = copy.deepcopy(fake.last_to(CHAT))  # as the participant's phone still shows it
        say(running, fake, fake.message_update(CHAT, "early, late"))
        role = copy.deepcopy(fake.last_to(CHAT))
        tick(running, fake, "night", shifts)  # a tick on the old keyboard: no answer yet, nothing to tell
        shifts = copy.deepcopy(next(m for m in fake.sent if m["message_id"] == shifts["message_id"]))
        sent, edits = len(fake.sent), len(fake.calls_to("editMessageReplyMarkup"))

        told = tap(running, fake, "\u2713done", shifts)
        assert told["text"] == ANSWERED[language] and str(told.get("show_alert", "false")).lower() != "true"
        wait_for(lambda: len(fake.calls_to("editMessageReplyMarkup")) > edits, what="the stale keyboard removed")
        removed = fake.calls_to("editMessageReplyMarkup")[-1]
        assert int(removed["message_id"]) == shifts["message_id"] and not removed.get("reply_markup")

        assert say(running, fake, fake.message_update(CHAT, "nurse")) == ["Thank you." if language == "en" else "Diolch."]
        told = tap(running, fake, "doctor", role)  # after the end
        assert told["text"] == ANSWERED[language]
        wait_for(lambda: any(int(e["message_id"]) == role["message_id"] for e in fake.calls_to("editMessageReplyMarkup")),
                 what="the old role keyboard removed")
        running.settle()
        assert len(fake.sent) == sent + 1, "a stale tap sends no message"
        assert running.answers() == [("shifts", ["early", "late"]), ("role", "nurse")]
        assert tap_statuses(running) == [("night", "stale_tap"), ("doctor", "stale_tap")]
