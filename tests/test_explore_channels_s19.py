"""A new study tried through the real channel paths (session 19): "Diabetic eye screening: why
people miss appointments" (tests/data/diabetes-eye: en + cy, a join keyword, a Welsh keyword and a
Telegram deep link with a group; consent, a 6-option choice, a yes/no, a 0-10 scale, "pick up to
3", an open question taking voice, pairwise ideas, an end), played on Telegram through the fake
Bot API and on SMS and WhatsApp through signed Twilio webhooks. What was found:

- Telegram (since session 20 a 4th tick is refused at once): ticking a 4th option of "pick up to 3" and tapping Done removed the keyboard (as every
  tap does) and said "Tick up to 3 options, then tap Done" with nothing left to tick: the
  participant could only guess at typing numbers. A tapped reply the question cannot take now gets
  the question again, with its buttons (flows/engine.py ``_unclear``).
- SMS: a Welsh consent that names its own answers ("Atebwch YDW ... neu NA") still got
  "(Atebwch Ydw neu Nac ydw)" under it, because the labels (Ydw, Nac ydw) are not its words: a
  repeated line on a message Welsh letters already make UCS-2 (flows/sms.py ``_names_yes_and_no``).
"""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bot.api import queries
from flows.events import Button
from flows.sms import count_segments, sms_text
from flows.validate import validate_paths
from flows.words import OptionTexts
from storage.tables import ENROLMENTS, INBOUND, OUTBOUND, PARTICIPANTS
from tests.channel_helpers import (
    TELEGRAM_SECRET,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
    text_and_settle,
    twilio_form,
    update_and_settle,
)
from tests.fake_telegram import FakeTelegram, wait_for
from tests.fake_twilio import FakeTwilio, quick_reply
from tests.test_telegram_edit_actions import edit_of

STUDY = Path(__file__).resolve().parent / "data" / "diabetes-eye"
CHAT = 5150
TAP_WORDS = ("tap", "tick", "button", "pwyswch", "ticiwch", "botwm")
LIST = "HX" + "6" * 32


def studies(tmp_path: Path, whatsapp: str = "") -> Path:
    """A folder holding only this study (with ``whatsapp`` settings added to its study.yaml)."""
    study = shutil.copytree(STUDY, tmp_path / "studies" / STUDY.name)
    with (study / "study.yaml").open("a", encoding="utf-8") as file:
        file.write(whatsapp)
    return study.parent


def keyboard(message: dict[str, Any]) -> list[str]:
    """The button labels under a sent Telegram message (none once its keyboard is removed)."""
    return [b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row]


def tap(running: Running, fake: FakeTelegram, data: str, message: dict[str, Any] | None = None, replies: int = 1) -> list[str]:
    return update_and_settle(running, fake, CHAT, fake.callback_update(CHAT, data, message), replies)


def post(running: Running, update: dict[str, Any]) -> None:
    """An update that gets no message back (a tick, a tap on an old keyboard, anything after STOP)."""
    response = running.client.post("/webhooks/telegram", json=update, headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    assert response.status_code == 200, response.text
    running.settle()


def tick(running: Running, fake: FakeTelegram, message: dict[str, Any], *values: str) -> None:
    """Tick options of a multiple choice, each tick shown in the keyboard before the next."""
    for count, value in enumerate(values, start=1):
        post(running, fake.callback_update(CHAT, value, message))
        wait_for(lambda: ticked(message) == count, what=f"tick {count}")  # noqa: B023 (waited for before the next)


def ticked(message: dict[str, Any]) -> int:
    return sum(label.startswith("\u2713") for label in keyboard(message))


def say(running: Running, fake: FakeTelegram, text: str, replies: int = 1) -> list[str]:
    return update_and_settle(running, fake, CHAT, fake.message_update(CHAT, text), replies)


def test_the_study_validates_without_errors() -> None:
    problems, _ = validate_paths([STUDY])
    assert [p.message for p in problems if p.severity == "error"] == []


def test_telegram_participant_taps_types_and_uses_commands(tmp_path: Path, fake_telegram: tuple[FakeTelegram, str]) -> None:
    fake, url = fake_telegram
    env = provider_env(telegram=fake, telegram_url=url)
    with running_chorus(f"sqlite:///{tmp_path / 'chorus.db'}", env, studies_dir=studies(tmp_path)) as running:
        consent = say(running, fake, "/start eyes-carer")
        assert consent[0].endswith("Am Gymraeg, atebwch CYMRAEG.") and keyboard(fake.last_to(CHAT)) == ["Yes", "No"]
        assert say(running, fake, "/help", replies=2)[1].startswith("We are asking people with diabetes")
        tap(running, fake, "yes")
        reason = fake.last_to(CHAT)
        assert len(keyboard(reason)) == 6
        say(running, fake, "could not get time off work")  # typed instead of tapped
        sent = len(fake.sent)
        update_and_settle(running, fake, CHAT, edit_of(fake, fake.message_update(CHAT, "x"), CHAT, text="forgot"))
        assert "edited" in fake.texts_to(CHAT)[-1] and len(fake.sent) == sent + 1
        tap(running, fake, "yes")  # driving
        before = len(fake.sent)
        post(running, fake.callback_update(CHAT, "transport", reason))
        assert len(fake.sent) == before, "a tap on an earlier question's keyboard answers nothing"
        wait_for(lambda: keyboard(reason) == [], what="the earlier keyboard to be taken away")
        say(running, fake, "/language")
        assert say(running, fake, "cy", replies=2)[1].startswith("Pa mor debygol")
        tap(running, fake, "7")
        helps = fake.last_to(CHAT)
        assert keyboard(helps)[-1] == "Wedi gorffen"
        tick(running, fake, helps, "text_reminder", "closer", "evening")
        post(running, fake.callback_update(CHAT, "lift", helps))  # a 4th: refused at once, in a pop-up (tests/test_telegram_taps.py)
        wait_for(lambda: str(fake.calls_to("answerCallbackQuery")[-1].get("text", "")).startswith("Gallwch ddewis hyd at 3"),
                 what="the refused tick's pop-up")
        assert ticked(helps) == 3
        assert tap(running, fake, "\u2713done", helps)[0].startswith("Dywedwch wrthym")
        sticker = update_and_settle(running, fake, CHAT, fake.message_update(CHAT, None, sticker={
            "file_id": "st1", "file_unique_id": "st1u", "width": 512, "height": 512, "is_animated": False,
            "is_video": False, "type": "regular"}))
        assert "neges" in sticker[0]
        say(running, fake, "/stop")
        stopped = len(fake.sent)
        post(running, fake.message_update(CHAT, "hello?"))
        assert len(fake.sent) == stopped, "nothing is sent after STOP"
        assert say(running, fake, "/start", replies=2)[1].startswith("Dywedwch wrthym")
        say(running, fake, "Roedd y bws yn hwyr")
        tap(running, fake, "A")
        assert running.answers()[:6] == [("consent", "yes"), ("reason", "time"), ("driving", "yes"), ("likely", 7),
                                         ("helps", ["text_reminder", "evening", "closer"]), ("story", "Roedd y bws yn hwyr")]
        assert running.answers()[6][0] == "ideas"
        with running.chorus.database.transaction() as connection:
            assert connection.execute(select(ENROLMENTS.c.group)).scalar_one() == "carer"


def test_sms_participant_in_welsh(tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    fake, phone = fake_twilio, "+447700900123"
    env = provider_env(twilio=fake, twilio_url=fake.url)
    story = "Doedd dim bws i'r clinig a does gen i ddim car 😢 " * 4
    with running_chorus(f"sqlite:///{tmp_path / 'chorus.db'}", env, studies_dir=studies(tmp_path)) as running:
        (consent,) = text_and_settle(running, fake, phone, "llygaid")
        assert consent.endswith("Atebwch YDW i gymryd rhan neu NA i stopio."), "no '(Atebwch Ydw neu Nac ydw)' line repeating it"
        assert count_segments(consent).segments == 3
        (reason,) = text_and_settle(running, fake, phone, "ydw")
        assert reason.endswith("6) Rhywbeth arall") and count_segments(reason).segments == 2
        (driving,) = text_and_settle(running, fake, phone, "Dim amser o'r gwaith")
        assert driving.endswith("(Atebwch Ydw neu Nac ydw)"), "a question that names no answer still says them"
        text_and_settle(running, fake, phone, "ydw")
        (helps,) = text_and_settle(running, fake, phone, "8 😊")
        assert helps.endswith("(Gallwch ddewis mwy nag un, e.e. 1 3)")
        (too_many,) = text_and_settle(running, fake, phone, "1,2,3,4")
        (asked,) = text_and_settle(running, fake, phone, "1,3")
        assert asked == "Dywedwch wrthym am y tro diwethaf i chi golli sgrinio.", "no voice note offered on SMS"
        text_and_settle(running, fake, phone, story)
        for reply in ("A", "B", "Methu penderfynu"):
            text_and_settle(running, fake, phone, reply)
        assert text_and_settle(running, fake, phone, "STOP")
        assert text_and_settle(running, fake, phone, "helo") == [], "nothing is sent after STOP"
        everything = fake.bodies_to(phone)
        assert not [m for m in everything if any(w in m.lower() for w in TAP_WORDS)], too_many
        assert not [m["content_sid"] for m in fake.messages if m["content_sid"]]
        answers = dict(running.answers()[:6])
        assert answers == {"consent": "yes", "reason": "time", "driving": "yes", "likely": 8,
                           "helps": ["text_reminder", "closer"], "story": story.strip()}


def test_whatsapp_list_picker_stop_start_and_a_day_of_silence(tmp_path: Path, fake_twilio: FakeTwilio) -> None:
    fake, phone = fake_twilio, "whatsapp:+447700900124"
    folder = studies(tmp_path, f"whatsapp:\n  list_picker: {{content_sid: {LIST}, options: 6}}\n")
    fake.contents[LIST] = quick_reply(6, "Item")
    env = provider_env(twilio=fake, twilio_url=fake.url)
    with running_chorus(f"sqlite:///{tmp_path / 'chorus.db'}", env, studies_dir=folder) as running:
        def write(body: str) -> list[dict[str, Any]]:
            before = len(fake.messages)
            assert post_twilio(running, twilio_form(phone, body), fake.auth_token).status_code == 200
            running.settle()
            return fake.messages[before:]

        write("EYES")
        (picker,) = write("yes")
        assert picker["content_sid"] == LIST and [t for t, _ in picker["shows"]["buttons"]][5] == "Something else"
        write("could not get time off")  # the list item's words, typed
        assert write("STOP")[0]["body"].startswith("You will get no more messages")
        assert write("hello") == [], "nothing is sent after STOP"
        assert write("START")[-1]["body"].startswith("Did not being able to drive")
        write("no")
        day_ago = datetime.now(UTC) - timedelta(hours=25)
        with running.chorus.database.transaction() as connection:
            connection.execute(update(INBOUND).values(received_at=day_ago))
            connection.execute(update(OUTBOUND).values(created_at=day_ago, sent_at=day_ago))
            pid = connection.execute(select(PARTICIPANTS.c.id)).scalar_one()
        before = len(fake.messages)
        running.chorus.service.start_flow(pid, "diabetes-eye", "missed")
        running.settle()
        assert len(fake.messages) == before, "no template configured: nothing may go after 24 hours of silence"
        held = queries.held_page(running.chorus.database, "diabetes-eye", 100, None).items
        assert [(m["step"], m["reason"]) for m in held] == [("consent", "whatsapp 24-hour window closed: no approved template for 'consent'")]
        answers = running.answers()
        (released,) = write("hi")
        assert released["body"].startswith("We are asking people with diabetes"), "the held question goes when they write"
        assert running.answers() == answers, "'hi' answers no question they had seen"
        assert answers == [("consent", "yes"), ("reason", "time"), ("driving", "no")]


def test_a_yes_no_line_is_left_out_where_the_text_names_both_answers_in_its_own_words() -> None:
    welsh = OptionTexts("(Atebwch {choices})", "neu", "", "Wedi gorffen")
    pair = (Button("Ydw", "yes"), Button("Nac ydw", "no"))
    assert sms_text("Atebwch YDW i gymryd rhan neu NA i stopio.", pair, texts=welsh) == "Atebwch YDW i gymryd rhan neu NA i stopio."
    assert sms_text("Atebwch YDW os ydych, NAC YDW os nad ydych.", pair, texts=welsh).endswith("nad ydych.")
    assert sms_text("Reply YES to go on.", pair, texts=welsh).endswith("(Atebwch Ydw neu Nac ydw)"), "a yes alone is not both"
    assert sms_text("Is the NHS OK for you?", pair, texts=welsh).endswith("(Atebwch Ydw neu Nac ydw)")
    assert sms_text("Does the no-show letter reach you? yes or no", pair, texts=welsh).endswith("(Atebwch Ydw neu Nac ydw)"), \
        "lower-case words are prose, not words to type"
    choice = (Button("YES", "a"), Button("NO", "b"))
    assert sms_text("Say YES or NO", choice) == "Say YES or NO", "labels named as before"
