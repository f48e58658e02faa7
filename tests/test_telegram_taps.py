"""Telegram taps told why at once (bot/tap_checks.py), end to end: python-telegram-bot talks HTTP
to a local Bot API server, and Chorus runs under uvicorn. A tick past a multiple choice's
``max_picks`` is refused with a pop-up and the keyboard left as it is; a tap on the buttons of
a question answered already is told so, its keyboard removed and its inbox row marked, and no
stored answer changes. In English and in Welsh."""

from __future__ import annotations

import copy
from functools import partial
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
    """The participant ticked, typed their answers, and taps the old keyboards afterwards: a
    multiple choice's Done after a tick, then a single choice's button once the conversation has ended."""
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, JOIN[language]))
        shifts = fake.last_to(CHAT)
        tick(running, fake, "night", shifts)  # while it was asked
        shifts = copy.deepcopy(shifts)  # as the participant's phone still shows it
        say(running, fake, fake.message_update(CHAT, "early, late"))
        role = copy.deepcopy(fake.last_to(CHAT))
        sent, edits = len(fake.sent), len(fake.calls_to("editMessageReplyMarkup"))

        told = tap(running, fake, "\u2713done", shifts)
        assert told["text"] == ANSWERED[language] and str(told.get("show_alert", "false")).lower() != "true"
        wait_for(lambda: len(fake.calls_to("editMessageReplyMarkup")) > edits and not running.hub.tap_notices.telling(CHAT),
                 what="the stale keyboard removed")
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


def removals(fake: FakeTelegram, message: dict[str, Any], before: int) -> int:
    """How many of the edits since the first ``before`` removed ``message``'s keyboard."""
    return sum(int(e["message_id"]) == message["message_id"] and not e.get("reply_markup")
               for e in fake.calls_to("editMessageReplyMarkup")[before:])


def all_gone(running: Running, fake: FakeTelegram, message: dict[str, Any], before: int, count: int) -> bool:
    """Whether ``count`` edits since ``before`` removed ``message``'s keyboard, each stale tap's notice given."""
    return removals(fake, message, before) == count and not running.hub.tap_notices.telling(CHAT)


def queries_answered(fake: FakeTelegram, count: int) -> bool:
    return len(fake.calls_to("answerCallbackQuery")) == count


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_tick_on_a_question_answered_already_ticks_nothing_and_is_told_so(
        language: str, studies: Path, database_url: str, fake_telegram: Any) -> None:
    """Ticks and unticks on a multiple choice answered in words, and its Done with nothing
    ticked: each is told as a stale single-choice tap is, and the keyboard is removed, not ticked."""
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, JOIN[language]))
        shifts = fake.last_to(CHAT)
        tick(running, fake, "early", shifts)  # while it was asked
        phone = copy.deepcopy(shifts)  # the keyboard as the phone still shows it
        assert say(running, fake, fake.message_update(CHAT, "late, night")) == [
            "What is your role?" if language == "en" else "Beth yw eich rôl?"]
        sent, edits = len(fake.sent), len(fake.calls_to("editMessageReplyMarkup"))

        unticked = copy.deepcopy(phone)
        for row in unticked["reply_markup"]["inline_keyboard"]:
            for button in row:
                button["text"] = button["text"].removeprefix("\u2713 ")
        for number, (data, keyboard) in enumerate((("weekend", phone), ("early", phone), ("\u2713done", unticked)), 1):
            told = tap(running, fake, data, keyboard)  # a tick, an untick, Done: one after another, each seen to go
            assert told.get("text") == ANSWERED[language] and str(told.get("show_alert", "false")).lower() != "true"
            wait_for(partial(all_gone, running, fake, shifts, edits, number), what="the stale keyboard removed")
        assert all(int(e["message_id"]) != shifts["message_id"] or not e.get("reply_markup")
                   for e in fake.calls_to("editMessageReplyMarkup")[edits:]), "no tick shown on the old keyboard"

        assert say(running, fake, fake.message_update(CHAT, "done" if language == "en" else "wedi gorffen")), "read as typed"
        assert tap(running, fake, "nurse", fake.last_to(CHAT)).get("text") is None
        wait_for(lambda: running.answers()[-1:] == [("role", "nurse")], what="the role answered")
        running.settle()
        assert running.answers() == [("shifts", ["late", "night"]), ("role", "nurse")]
        assert tap_statuses(running) == [("nurse", "processed")], "no tick and no stale Done was stored"
        assert len(fake.sent) == sent + 2, "the stale taps sent no message"


@pytest.mark.parametrize("language", ["en", "cy"])
def test_done_typed_under_an_old_keyboard_with_ticks_is_read_as_typed_by_the_question_asked_now(
        language: str, studies: Path, database_url: str, fake_telegram: Any) -> None:
    """Ticks on the multiple choice, then its answer typed in words: 'done' (or the Done button's
    label) typed at the next question is words to it, not a tap on the old keyboard."""
    fake, url = fake_telegram
    role_asked = "What is your role?" if language == "en" else "Beth yw eich rôl?"
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, JOIN[language]))
        shifts = fake.last_to(CHAT)
        tick(running, fake, "night", shifts)
        tick(running, fake, "weekend", shifts)
        assert say(running, fake, fake.message_update(CHAT, "early, late")) == [role_asked]
        role = copy.deepcopy(fake.last_to(CHAT))

        for done in (["done", "Done"] if language == "en" else ["wedi gorffen", "Wedi gorffen"]):
            hint = say(running, fake, fake.message_update(CHAT, done))
            running.settle()
            assert len(hint) == 1 and hint[0] != role_asked, "the role question's hint, not silence"
            assert all(label in hint[0] for label in (["Nurse", "Doctor"] if language == "en" else ["Nyrs", "Meddyg"])), hint
        with running.chorus.database.transaction() as connection:
            typed = connection.execute(select(INBOUND.c.text, INBOUND.c.button, INBOUND.c.status)
                                       .where(INBOUND.c.text.ilike("%" + done[1:]))).all()
        assert typed == [(d, None, "processed") for d in ([done.lower(), done] if language == "en" else ["wedi gorffen", done])]
        assert "reply_markup" in next(m for m in fake.sent if m["message_id"] == shifts["message_id"]), "left as it was"

        assert tap(running, fake, "doctor", role).get("text") is None, "the role's buttons still answer it"
        wait_for(lambda: running.answers()[-1:] == [("role", "doctor")], what="the role answered")
        running.settle()
        assert running.answers() == [("shifts", ["early", "late"]), ("role", "doctor")]
        assert tap_statuses(running) == [("doctor", "processed")]


@pytest.mark.parametrize(("stored_only", "keyboard"), [(True, "role"), (False, "role"), (True, "shifts")],
                         ids=["burst-stored", "processed-at-once", "burst-ticks"])
def test_a_burst_of_stale_taps_is_each_answered_and_told_once(
        stored_only: bool, keyboard: str, studies: Path, database_url: str, fake_telegram: Any) -> None:
    """A triple tap on an old keyboard, the taps' queries in flight together (Telegram slow to
    answer the first): each query is answered and the keyboard removed, the notice given once; a
    later stale tap is told again. Stored only (a burst the inbox worker takes later) or not."""
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, JOIN["en"]))
        shifts = copy.deepcopy(fake.last_to(CHAT))
        say(running, fake, fake.message_update(CHAT, "early, late"))
        role = copy.deepcopy(fake.last_to(CHAT))
        assert say(running, fake, fake.message_update(CHAT, "nurse")) == ["Thank you."]
        running.settle()
        if stored_only:
            assert running.hub.intake is not None
            running.hub.intake.process_up_to = 0  # as under a burst: stored, for the inbox worker
        old, value = (role, "doctor") if keyboard == "role" else (shifts, "night")
        answers, edits = len(fake.calls_to("answerCallbackQuery")), len(fake.calls_to("editMessageReplyMarkup"))

        fake.held.add("answerCallbackQuery")
        updates = [fake.callback_update(CHAT, value, old) for _ in range(3)]
        for number, update in enumerate(updates, 1):
            post(running, update)
            wait_for(partial(queries_answered, fake, answers + number), what="the tap's query answered")
        fake.held.discard("answerCallbackQuery")
        wait_for(lambda: removals(fake, old, edits) == 3, what="the keyboard removed at each tap")
        given = fake.calls_to("answerCallbackQuery")[answers:]
        assert sorted(a["callback_query_id"] for a in given) == sorted(u["callback_query"]["id"] for u in updates)
        assert [a.get("text") for a in given].count(ANSWERED["en"]) == 1 and sum(bool(a.get("text")) for a in given) == 1

        wait_for(lambda: not running.hub.tap_notices.telling(CHAT), what="the burst's notice given")
        assert tap(running, fake, value, old).get("text") == ANSWERED["en"], "a later stale tap is told again"
        running.settle()
        assert running.answers() == [("shifts", ["early", "late"]), ("role", "nurse")]
        assert tap_statuses(running) == ([("doctor", "stale_tap")] * 4 if keyboard == "role" else [])
