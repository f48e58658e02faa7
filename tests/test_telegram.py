"""Telegram end to end: python-telegram-bot talks HTTP to a local Bot API server, and
Chorus runs under uvicorn with its embedded dispatcher."""

from __future__ import annotations

import asyncio
import copy
from dataclasses import fields
from pathlib import Path
from typing import Any

import pytest

from bot.dispatch_rules import WhatsAppConfig, keyboards_on
from bot.dispatcher import Dispatcher
from channels import telegram
from channels.base import OutboundMessage
from channels.errors import ContactStopped, ServerError, Throttled
from flows.events import Button
from flows.inputs import shows_buttons
from tests.channel_helpers import TELEGRAM_SECRET, Running, provider_env, running_chorus
from tests.fake_telegram import VOICE_BYTES, FakeTelegram, LocalServer, wait_for

CHAT = 424242
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}


@pytest.fixture
def fake_telegram() -> Any:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url


def post(running: Running, update: dict[str, Any]) -> None:
    response = running.client.post("/webhooks/telegram", json=update, headers=HEADERS)
    assert response.status_code == 200, response.text


def say(running: Running, fake: FakeTelegram, update: dict[str, Any], replies: int = 1) -> list[str]:
    """Post an update and wait for ``replies`` new messages to the chat."""
    before = len(fake.texts_to(CHAT))
    post(running, update)
    wait_for(lambda: len(fake.texts_to(CHAT)) >= before + replies, what=f"{replies} replies")
    return fake.texts_to(CHAT)[before:]


def test_a_participant_completes_the_study_on_telegram_with_stop_and_start(database_url: str, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url)) as running:
        first = say(running, fake, fake.message_update(CHAT, "/start wait"))
        assert "Reply YES to take part" in first[0]
        data = [b["callback_data"] for row in fake.last_to(CHAT)["reply_markup"]["inline_keyboard"] for b in row]
        assert [d.split("~")[1] for d in data] == ["yes", "no"] and len({d.split("~")[0] for d in data}) == 1, data
        consent = fake.last_to(CHAT)
        assert say(running, fake, fake.callback_update(CHAT, "yes", consent)) == ["Which best describes you?"]
        wait_for(lambda: fake.calls_to("editMessageReplyMarkup"), what="the keyboard removed")
        assert fake.calls_to("answerCallbackQuery"), "the tapped button's query was answered"
        assert "reply_markup" not in consent
        edited = fake.calls_to("editMessageReplyMarkup")[-1]
        assert int(edited["message_id"]) == consent["message_id"] and not edited.get("reply_markup")

        assert "How many times" in say(running, fake, fake.callback_update(CHAT, "patient"))[0]
        stopped = say(running, fake, fake.message_update(CHAT, "/stop"))
        assert "no more messages" in stopped[0]
        sent_before = len(fake.sent)
        post(running, fake.message_update(CHAT, "12"))  # while stopped: stored, nothing sent
        post(running, fake.message_update(CHAT, "hello?"))
        running.settle()
        assert len(fake.sent) == sent_before
        assert say(running, fake, fake.message_update(CHAT, "/start"), replies=2)[1].startswith("How many times")

        assert "What was waiting like" in say(running, fake, fake.message_update(CHAT, "3"))[0]
        scale = say(running, fake, fake.message_update(CHAT, "Four hours on a trolley"))
        assert "kept informed" in scale[0]
        assert "Thank you" in say(running, fake, fake.callback_update(CHAT, "4"))[0]
        assert running.inbound_count() == 10
        assert "failed" not in running.statuses()


def test_a_second_tap_or_a_tap_on_an_earlier_message_answers_nothing(database_url: str, fake_telegram: Any) -> None:
    """Telegram shows a keyboard until Chorus removes it: a quick second tap, or a tap on an
    older question's buttons, arrives as a callback like any other. Neither may answer the
    question asked now (the participant never saw it)."""
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url)) as running:
        say(running, fake, fake.message_update(CHAT, "/start wait"))
        consent = copy.deepcopy(fake.last_to(CHAT))  # as the participant's phone still shows it
        assert say(running, fake, fake.callback_update(CHAT, "yes", consent)) == ["Which best describes you?"]
        role = copy.deepcopy(fake.last_to(CHAT))
        post(running, fake.callback_update(CHAT, "yes", consent))  # the second tap of a double tap
        assert "How many times" in say(running, fake, fake.callback_update(CHAT, "patient", role))[0]
        post(running, fake.callback_update(CHAT, "staff", role))  # an earlier question's button
        post(running, fake.callback_update(CHAT, "no", consent))
        assert "What was waiting like" in say(running, fake, fake.message_update(CHAT, "3"))[0]
        running.settle()
        assert fake.texts_to(CHAT)[-1].startswith("What was waiting like"), "the stale taps were answered"
        assert running.answers() == [("consent", "yes"), ("role", "patient"), ("visits", 3)]
        assert len(fake.calls_to("answerCallbackQuery")) == 5, "every tap's query is answered, so the phone stops spinning"


def test_an_unclear_reply_to_a_keyboard_asks_for_a_tap_and_a_typed_number_still_answers(database_url: str, fake_telegram: Any) -> None:
    """Telegram shows the options as buttons, with no numbers beside them (the text goes as it
    is written): the hint says to tap one, or to type its words, not "a number from 1 to 3";
    a number typed all the same is still read."""
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url)) as running:
        say(running, fake, fake.message_update(CHAT, "/start wait"))
        assert say(running, fake, fake.callback_update(CHAT, "yes", fake.last_to(CHAT))) == ["Which best describes you?"]
        labels = [b["text"] for row in fake.last_to(CHAT)["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["Patient", "Carer or family", "Staff"]
        assert say(running, fake, fake.message_update(CHAT, "purple")) == [
            "Please tap one of the buttons, or reply Patient, Carer or family or Staff."]
        assert "How many times" in say(running, fake, fake.message_update(CHAT, "2"))[0]
        running.settle()
        assert running.answers() == [("consent", "yes"), ("role", "carer")]


RANKING_STUDY = """study: tap-rank
title: Ranking on Telegram
languages: [en]
join: {start_flow: order, keyword: RANKIT}
"""
RANKING_FLOW = """flow: order
steps:
  - {id: consent, type: consent, text: "Would you like to take part? Reply YES or NO."}
  - id: matters
    type: rank
    text: What matters most to you? Your top 2.
    options: [Shorter waits, Being kept informed, Pain relief]
    top: 2
  - {id: bye, type: end, text: Thank you.}
"""


def test_a_ranking_keyboard_asks_for_taps_in_order_not_numbers_it_never_showed(
        tmp_path: Path, database_url: str, fake_telegram: Any) -> None:
    """A ranking goes as a keyboard of its options, unnumbered, each tap placing the next: the
    hints say to tap them in order or type their names, and a name typed still places it."""
    fake, url = fake_telegram
    folder = tmp_path / "studies" / "tap-rank"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(RANKING_STUDY, encoding="utf-8")
    (folder / "order.yaml").write_text(RANKING_FLOW, encoding="utf-8")
    with running_chorus(database_url, provider_env(fake, url), studies_dir=folder.parent) as running:
        say(running, fake, fake.message_update(CHAT, "/start RANKIT"))
        assert say(running, fake, fake.callback_update(CHAT, "yes")) == ["What matters most to you? Your top 2."]
        labels = [b["text"] for row in fake.last_to(CHAT)["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["Shorter waits", "Being kept informed", "Pain relief"]
        assert say(running, fake, fake.message_update(CHAT, "purple")) == [
            "Please tap the options in order, most important first, or type their names in order, separated by commas."]
        assert say(running, fake, fake.callback_update(CHAT, "3")) == ["Next most important? (So far: Pain relief)"]
        assert say(running, fake, fake.message_update(CHAT, "purple")) == [
            "Please tap the next most important option, or reply Shorter waits or Being kept informed."]
        assert say(running, fake, fake.message_update(CHAT, "being kept informed")) == ["Thank you."]
        running.settle()
        assert running.answers()[-1] == ("matters", ["Pain relief", "Being kept informed"])


def test_telegram_claims_no_button_limit_it_does_not_keep() -> None:
    """Every question's options go as buttons, however many (the hints are told so by
    ``channels.telegram.KEYBOARD``): no channel-wide count of buttons, which once said 20."""
    buttons = tuple(Button(f"Option {n}", str(n)) for n in range(1, 26))
    keyboard = telegram.keyboard_for(OutboundMessage(telegram.NAME, str(CHAT), "Which?", buttons))
    assert keyboard is not None and sum(len(row) for row in keyboard.inline_keyboard) == 25
    assert shows_buttons(keyboards_on(telegram.NAME, WhatsAppConfig()), buttons)
    assert "buttons" not in {field.name for field in fields(telegram.TelegramChannel.capabilities)}


def test_voice_notes_are_stored_with_the_file_id_and_fetched_with_get_file(database_url: str, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url)) as running:
        say(running, fake, fake.message_update(CHAT, "/start wait"))
        for kind in ("voice", "audio", "video_note"):
            update = fake.voice_update(CHAT, kind)
            parsed = telegram.parse_update(update, running.hub.telegram.bot)  # type: ignore[union-attr]
            assert parsed.message is not None and parsed.message.media[0].provider_id == update["message"][kind]["file_id"]
            post(running, update)
        data = asyncio.run(_download(url, fake.token, update["message"]["video_note"]["file_id"]))
        assert data == VOICE_BYTES
        assert running.inbound_count() == 4
        assert [c for c in fake.calls_to("getFile")], "getFile was called"


async def _download(url: str, token: str, file_id: str) -> bytes:
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(token, api_base=url)))
    try:
        return await channel.download(file_id)
    finally:
        await channel.close()


def test_polling_mode_reads_updates_with_get_updates(tmp_path: Any, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    fake.webhook = {"url": "https://old.example.org/webhooks/telegram"}
    with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(fake, url), polling=True):
        fake.queue_update(fake.message_update(CHAT, "/start wait"))
        wait_for(lambda: fake.texts_to(CHAT), what="a reply to a polled update")
        fake.queue_update(fake.message_update(CHAT, "/help"))
        wait_for(lambda: any("BACK" in t for t in fake.texts_to(CHAT)), what="help")
    assert fake.webhook == {}, "the webhook was deleted before polling"
    assert fake.calls_to("getUpdates")


def test_a_multiple_choice_keyboard_toggles_ticks_and_sends_them_on_done(fake_telegram: Any) -> None:
    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))
    buttons = (Button("Days", "day"), Button("Nights", "night"), Button("Weekends", "weekend"))

    async def scenario() -> telegram.ParsedUpdate:
        await channel.send(OutboundMessage("telegram", str(CHAT), "Which shifts?", buttons, multiple=True))
        for value in ("day", "weekend"):
            parsed = telegram.parse_update(fake.callback_update(CHAT, value), channel.bot)
            assert parsed.message is None and parsed.callback is not None
            await channel.acknowledge(parsed.callback)
        done = telegram.parse_update(fake.callback_update(CHAT, telegram.DONE), channel.bot)
        await channel.close()
        return done

    done = asyncio.run(scenario())
    assert done.message is not None and done.message.button == "day|weekend"
    assert done.callback is not None and done.callback.keyboard is None


def test_telegram_errors_map_to_the_catalogue(fake_telegram: Any) -> None:
    fake, url = fake_telegram
    fake.failures[1] = (403, "Forbidden: bot was blocked by the user", {})
    fake.failures[2] = (429, "Too Many Requests: retry after 7", {"retry_after": 7})
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))

    async def attempt(chat: int) -> Exception:
        try:
            await channel.send(OutboundMessage("telegram", str(chat), "hi"))
        except Exception as error:
            return error
        raise AssertionError("no error")

    async def all_three() -> tuple[Exception, Exception, Exception]:
        blocked, throttled = await attempt(1), await attempt(2)
        fake.fail_next["sendMessage"] = [(502, "Bad Gateway", {})]
        lost = await attempt(3)
        await channel.close()
        return blocked, throttled, lost

    blocked, throttled, lost = asyncio.run(all_three())
    assert isinstance(blocked, ContactStopped) and not blocked.retryable
    assert isinstance(throttled, Throttled) and throttled.retryable and throttled.retry_after == 7
    # a failure of the network or the server is tried again, and the log says what it was
    assert isinstance(lost, ServerError) and lost.retryable and str(lost) == "telegram: NetworkError: Bad Gateway"


def test_a_blocked_bot_opts_the_participant_out(database_url: str, fake_telegram: Any) -> None:
    fake, url = fake_telegram
    with running_chorus(database_url, provider_env(fake, url)) as running:
        say(running, fake, fake.message_update(CHAT, "/start wait"))
        fake.failures[CHAT] = (403, "Forbidden: bot was blocked by the user", {})
        post(running, fake.message_update(CHAT, "yes"))
        dispatcher: Dispatcher = running.hub.dispatcher  # type: ignore[assignment]
        wait_for(lambda: "failed" in running.statuses(), what="the failed send")
        pid = running.chorus.service.participant_for("telegram", str(CHAT))
        from storage import repository

        with running.chorus.database.transaction() as connection:
            assert all(e.opted_out for e in repository.enrolments_of(connection, pid))
        assert dispatcher.stats.failed >= 1


def test_set_webhook_registers_the_url_with_its_secret(fake_telegram: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    fake, url = fake_telegram
    for key, value in provider_env(fake, url).items():
        monkeypatch.setenv(key, value)
    result = CliRunner().invoke(cli, ["telegram", "set-webhook"])
    assert result.exit_code == 0, result.output
    assert fake.webhook["url"] == "https://chorus.example.org/webhooks/telegram"
    assert fake.webhook["secret_token"] == TELEGRAM_SECRET
    monkeypatch.delenv("TELEGRAM_WEBHOOK_SECRET")
    assert CliRunner().invoke(cli, ["telegram", "set-webhook"]).exit_code != 0


def a_chart() -> bytes:
    from flows.analysis.delphi import GroupResult, ItemFeedback, Scale, feedback_chart

    everyone = GroupResult("Everyone", 3, 7.0, 66.7, (0, 0, 0, 0, 0, 1, 1, 1, 0))
    return feedback_chart(ItemFeedback("A", 1, 7, everyone, (), Scale()))


def test_an_image_goes_by_send_photo_and_a_long_text_follows_it_with_the_keyboard(fake_telegram: Any) -> None:
    from channels.base import Attachment

    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))
    png, keyboard = a_chart(), (Button("Yes", "yes"),)
    short = OutboundMessage("telegram", str(CHAT), "Your chart", keyboard, attachment=Attachment(1, "image/png", png))
    long_text = "Why it matters. " * 80  # 1280 characters: over Telegram's 1024 for a caption
    long = OutboundMessage("telegram", str(CHAT), long_text, keyboard, attachment=Attachment(1, "image/png", png))

    async def scenario() -> tuple[str, str]:
        ids = (await channel.send(short), await channel.send(long))
        await channel.close()
        return ids

    short_id, long_id = asyncio.run(scenario())
    captioned, photo, text = fake.sent[-3:]
    assert fake.photo_bytes(captioned) == png and captioned["caption"] == "Your chart"
    assert captioned["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert short_id == str(captioned["message_id"])
    assert "photo" in photo and "caption" not in photo and "reply_markup" not in photo
    assert text["text"] == long_text and text["reply_markup"]["inline_keyboard"][0][0]["callback_data"] == "yes"
    assert long_id == str(text["message_id"]), "the message with the keyboard is the one answered"


def test_the_fake_refuses_photos_as_the_real_bot_api_does(fake_telegram: Any) -> None:
    from telegram import InputFile
    from telegram.error import BadRequest

    fake, url = fake_telegram
    bot = telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url))

    async def refused(photo: Any, caption: str | None = None) -> str:
        async with bot:
            try:
                await bot.send_photo(CHAT, photo, caption=caption)
            except BadRequest as error:
                return error.message
        raise AssertionError("sent")

    assert "caption is too long" in asyncio.run(refused(InputFile(a_chart(), filename="c.png"), "x" * 1025))
    assert "image_process_failed" in asyncio.run(refused(InputFile(b"not an image", filename="c.png"))).lower()
    assert not [m for m in fake.sent if "photo" in m]


def test_a_retry_after_the_photo_went_sends_only_the_text(fake_telegram: Any) -> None:
    from channels.base import Attachment

    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))
    fake.fail_next["sendMessage"] = [(429, "Too Many Requests: retry after 1", {"retry_after": 1})]
    long = OutboundMessage("telegram", str(CHAT), "Why it matters. " * 80, outbox_id=41, attachment=Attachment(1, "image/png", a_chart()))

    async def scenario() -> None:
        with pytest.raises(Throttled):
            await channel.send(long)
        await channel.send(long)  # the dispatcher's retry of the same outbox row
        await channel.close()

    asyncio.run(scenario())
    assert [("photo" in m, "text" in m) for m in fake.sent] == [(True, False), (False, True)], "one photo, then the text"


def test_polling_with_a_token_telegram_refuses_says_so_and_stops(fake_telegram: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings("999:wrong", api_base=url)))
    handled: list[dict[str, Any]] = []

    async def handle(data: dict[str, Any]) -> None:
        handled.append(data)

    async def go() -> None:
        try:
            await asyncio.wait_for(telegram.poll(channel, handle, asyncio.Event()), 10)
        finally:
            await channel.close()

    with caplog.at_level("ERROR", logger="chorus.telegram"):
        asyncio.run(go())
    assert "Telegram refused the bot token" in caplog.text and "999:wrong" not in caplog.text
    assert handled == [] and not fake.calls_to("getUpdates")


def test_an_update_that_fails_to_be_handled_does_not_stop_polling(fake_telegram: Any, caplog: pytest.LogCaptureFixture) -> None:
    fake, url = fake_telegram
    channel = telegram.TelegramChannel(telegram.make_bot(telegram.TelegramSettings(fake.token, api_base=url)))
    stopping, handled = asyncio.Event(), []
    fake.queue_update(fake.message_update(CHAT, "first"))
    fake.queue_update(fake.message_update(CHAT, "second"))

    async def handle(data: dict[str, Any]) -> None:
        handled.append(data["message"]["text"])
        if len(handled) == 1:
            raise RuntimeError("a bug handling one update")
        stopping.set()

    async def go() -> None:
        try:
            await asyncio.wait_for(telegram.poll(channel, handle, stopping, timeout=1), 20)
        finally:
            await channel.close()

    with caplog.at_level("ERROR", logger="chorus.telegram"):
        asyncio.run(go())
    assert handled == ["first", "second"] and "could not be handled" in caplog.text
