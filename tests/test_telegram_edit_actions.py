"""A Telegram edit that must not be missed is acted on: an edit to STOP (or /stop, STOPIO...)
opts the participant out exactly as a typed STOP does, an edit to START opts them back in, and
an edit whose words the safeguarding check sees risk in raises the same flag and signposting
as a new message with those words. Any other edit is still only answered with the notice, and
nothing of what it said is kept; a retried update of an edit stays a duplicate. Through the
service (SQLite and PostgreSQL) and end to end through the webhook and the fake Telegram Bot API."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import select

from bot.edit_notices import words_of_edit
from bot.safeguarding import Concern, SafetyChecks, checks_from_env
from bot.service import ConversationService, ReceiveResult
from channels import telegram
from channels.base import EDITED, is_edit
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, AUDIT_EVENTS, FLAGS, INBOUND
from tests.channel_helpers import (
    TELEGRAM_SECRET,
    provider_env,
    running_chorus,
    update_and_settle,
)
from tests.fake_telegram import FakeTelegram, LocalServer
from tests.test_unexpected_messages import EDIT_NOTICE, everything_stored

BOT = telegram.make_bot(telegram.TelegramSettings("123456:test-token"))
HEADERS = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}
RISK = "Honestly I can't go on like this, I just want to end my life"
"""Words the phrase patterns flag (tests/test_safeguarding.py's story)."""
BARE_MARK = [{"url": "telegram:edited", "content_type": EDITED, "size": None}]


class Chat:
    """One Telegram participant talking to the service: what they send goes through the real
    update parser, so an edit is stored as Telegram's ``edited_message`` makes it."""

    def __init__(self, service: ConversationService, fake: FakeTelegram, chat_id: int) -> None:
        self.service, self.fake, self.chat_id = service, fake, chat_id
        self.sent: dict[str, dict[str, Any]] = {}

    def say(self, text: str) -> ReceiveResult:
        update = self.fake.message_update(self.chat_id, text)
        self.sent[text] = update
        return self.receive(update)

    def edit(self, text: str, to: str) -> tuple[ReceiveResult, dict[str, Any]]:
        """Edit the message that said ``text`` to say ``to``: the result, and the update (to retry it)."""
        update = edit_of(self.fake, self.sent[text], self.chat_id, text=to)
        return self.receive(update), update

    def receive(self, update: dict[str, Any]) -> ReceiveResult:
        message = telegram.parse_update(update, BOT).message
        assert message is not None
        return self.service.receive(message)

    def replies(self, result: ReceiveResult) -> list[tuple[str, str]]:
        rows = {row.id: row for row in self.service.outbox_for(result.participant_id or "")}
        return [(rows[i].kind, rows[i].text) for i in result.outbox_ids]


def edit_of(fake: FakeTelegram, original: dict[str, Any], chat: int, **content: Any) -> dict[str, Any]:
    """Telegram's update for an edit of ``original`` to ``content``: its own update id."""
    update = fake.message_update(chat, None)
    message = {**update.pop("message"), "message_id": original["message"]["message_id"], "edit_date": int(time.time()), **content}
    return {**update, "edited_message": message}


UPDATES = FakeTelegram()
"""Makes the updates of every participant in the service's tests: their update ids never meet."""


def chat(service: ConversationService) -> Chat:
    return Chat(service, UPDATES, 700000 + secrets.randbelow(99999))


def to_the_story(person: Chat) -> str:
    """Join and answer up to the free-text question ('What was waiting like?'); the participant's id."""
    pid = person.say("/start wait").participant_id
    for answer in ("yes", "1", "7"):
        person.say(answer)
    assert pid is not None
    return pid


def state_of(database: Database, pid: str) -> tuple[bool, str, str | None]:
    """Opted out?, the session's status and step."""
    with database.transaction() as connection:
        session = repository.latest_session(connection, pid)
        enrolments = repository.enrolments_of(connection, pid)
    assert session is not None and len(enrolments) == 1
    return enrolments[0].opted_out, session.status, session.state.get("step")


def audit_actions(database: Database, pid: str) -> list[str]:
    with database.transaction() as connection:
        query = select(AUDIT_EVENTS.c.action).where(AUDIT_EVENTS.c.subject == pid).order_by(AUDIT_EVENTS.c.id)
        return list(connection.execute(query).scalars())


def inbox_row(database: Database, inbound_id: int | None) -> tuple[str, str, list[dict[str, Any]]]:
    with database.transaction() as connection:
        row = connection.execute(select(INBOUND.c.status, INBOUND.c.text, INBOUND.c.media).where(INBOUND.c.id == inbound_id)).one()
    return row[0], row[1], list(row[2])


def safeguarding_flags(database: Database, pid: str) -> list[str]:
    with database.transaction() as connection:
        query = select(FLAGS.c.message).where(FLAGS.c.participant_id == pid, FLAGS.c.kind == "safeguarding")
        return list(connection.execute(query).scalars())


def answers_of(database: Database, pid: str) -> list[tuple[str, Any]]:
    with database.transaction() as connection:
        query = select(ANSWERS.c.step_id, ANSWERS.c.value).where(ANSWERS.c.participant_id == pid).order_by(ANSWERS.c.id)
        return [(row[0], row[1]) for row in connection.execute(query)]


# ----------------------------------------------------------------------------- parsing


def test_an_edit_carries_what_it_says_on_its_mark_only_and_keeps_the_update_id() -> None:
    fake = FakeTelegram()
    original = fake.message_update(1, "7")
    for said, read in (("3, sorry", "3, sorry"), ("/stop", "STOP"), ("/start", "START"), ("100% stopio ✋", "100% stopio ✋")):
        update = edit_of(fake, original, 1, text=said)
        message = telegram.parse_update(update, BOT).message
        assert message is not None and is_edit(message.media)
        assert (message.text, message.button, message.start_param) == ("", None, None), "never read as an answer"
        assert message.provider_id == str(update["update_id"])
        assert words_of_edit([{"url": m.url, "content_type": m.content_type} for m in message.media]) == read
    caption = edit_of(fake, original, 1, caption="STOP", photo=[{"file_id": "f", "file_unique_id": "u", "width": 1, "height": 1}])
    message = telegram.parse_update(caption, BOT).message
    assert message is not None and words_of_edit([{"url": m.url, "content_type": m.content_type} for m in message.media]) == "STOP"
    assert words_of_edit(BARE_MARK) == "" and words_of_edit([]) == ""


# ----------------------------------------------------------------------------- the service


@pytest.mark.parametrize("edited_to", ["STOP", "/stop", "Stopio", "stop please"])
def test_an_edit_to_stop_opts_out_as_a_typed_stop_does(service: ConversationService, database: Database, edited_to: str) -> None:
    typed, edited = chat(service), chat(service)
    typed_pid, edited_pid = to_the_story(typed), to_the_story(edited)
    stopped = typed.say("STOP")
    result, update = edited.edit("7", edited_to)
    assert result.status == stopped.status == "processed"
    assert [text for _, text in edited.replies(result)] == [text for _, text in typed.replies(stopped)]
    assert state_of(database, edited_pid) == state_of(database, typed_pid) and state_of(database, edited_pid)[0]
    assert audit_actions(database, edited_pid) == audit_actions(database, typed_pid)
    status, text, media = inbox_row(database, result.inbound_id)
    assert (status, media) == ("processed", BARE_MARK) and text == ("STOP" if edited_to == "/stop" else edited_to), \
        "kept as the typed word is"
    assert edited.receive(update).status == "duplicate", "a retried update of the edit"
    assert edited.say("the wait was long").outbox_ids == (), "nothing more is sent"


def test_an_edit_to_start_opts_back_in_as_a_typed_start_does(service: ConversationService, database: Database) -> None:
    typed, edited = chat(service), chat(service)
    typed_pid, edited_pid = to_the_story(typed), to_the_story(edited)
    typed.say("STOP")
    edited.say("STOP")
    restarted = typed.say("START")
    result, _ = edited.edit("STOP", "start")
    assert result.status == restarted.status
    assert [text for _, text in edited.replies(result)] == [text for _, text in typed.replies(restarted)] != []
    assert state_of(database, edited_pid) == state_of(database, typed_pid) and not state_of(database, edited_pid)[0]


def test_an_edit_with_words_of_risk_is_signposted_and_flagged_and_answers_nothing(
    service: ConversationService, database: Database,
) -> None:
    person = chat(service)
    pid = to_the_story(person)
    before, answers = state_of(database, pid), answers_of(database, pid)
    result, update = person.edit("7", RISK + ", call me on 07700900123")
    assert result.status == "edited"
    sent = person.replies(result)
    assert [kind for kind, _ in sent] == ["signposting", "info"], "who to call first, then the notice"
    assert "116 123" in sent[0][1] and sent[1][1] == EDIT_NOTICE
    flags = safeguarding_flags(database, pid)
    assert len(flags) == 1 and "end my life" in flags[0] and f"inbound {result.inbound_id}" in flags[0]
    assert "07700900123" not in flags[0], "the quote is masked, as every alert's is"
    assert state_of(database, pid) == before and answers_of(database, pid) == answers, "the edit answers nothing"
    assert inbox_row(database, result.inbound_id) == ("edited", "", BARE_MARK), "only the flag quotes the edit"
    assert person.receive(update).status == "duplicate"
    assert len(safeguarding_flags(database, pid)) == 1, "a retried update raises no second flag"


def test_an_edit_after_stop_with_words_of_risk_is_flagged_but_sends_nothing(service: ConversationService, database: Database) -> None:
    """As a new message with those words would: a flag, and no signposting to someone who said STOP."""
    person = chat(service)
    pid = to_the_story(person)
    person.say("STOP")
    result, _ = person.edit("7", RISK)
    assert (result.status, result.outbox_ids) == ("edited", ())
    assert len(safeguarding_flags(database, pid)) == 1
    new = person.say(RISK)
    assert new.outbox_ids == () and len(safeguarding_flags(database, pid)) == 2, "(what a new message gets)"


def test_an_edit_with_words_of_risk_after_the_end_is_signposted_after_its_commit(
    service: ConversationService, database: Database,
) -> None:
    person = chat(service)
    pid = to_the_story(person)
    person.say("the wait was long and nobody told us anything")
    person.say("2")
    assert state_of(database, pid)[1] == "ended"
    result, _ = person.edit("7", RISK)
    assert result.status == "edited"
    assert [kind for kind, _ in person.replies(result)] == ["info", "signposting"], "'that's all for now', then who to call"
    assert len(safeguarding_flags(database, pid)) == 1
    assert inbox_row(database, result.inbound_id) == ("edited", "", BARE_MARK)


def test_an_edit_stored_for_the_inbox_worker_is_read_once_then_kept_without_its_words(
    service: ConversationService, database: Database,
) -> None:
    """The webhook's way under load: stored first (the words ride on its mark until it is
    processed), processed by the worker, exactly once."""
    person = chat(service)
    pid = to_the_story(person)
    stop = edit_of(person.fake, person.sent["7"], person.chat_id, text="/stop")
    message = telegram.parse_update(stop, BOT).message
    assert message is not None
    stored = service.accept(message)
    assert stored.status == "received" and service.accept(message).status == "duplicate"
    assert inbox_row(database, stored.inbound_id)[1:] == ("", [{"url": "data:text/plain;charset=utf-8,STOP", "content_type": EDITED,
                                                               "size": None}])
    processed = service.process_inbound(stored.inbound_id or 0)
    assert processed.status == "processed" and state_of(database, pid)[:2] == (True, "stopped")
    assert inbox_row(database, stored.inbound_id) == ("processed", "STOP", BARE_MARK)
    assert service.process_inbound(stored.inbound_id or 0).status == "duplicate"


def test_any_other_edit_gets_the_notice_alone_and_nothing_of_it_is_kept(service: ConversationService, database: Database) -> None:
    person = chat(service)
    pid = to_the_story(person)
    before = state_of(database, pid)
    for said in ("three, the night nurse Megan Prydderch", "HELP", "I'd say 4 thanks"):
        result, _ = person.edit("7", said)
        assert (result.status, person.replies(result)) == ("edited", [("info", EDIT_NOTICE)]), said
        assert inbox_row(database, result.inbound_id) == ("edited", "", BARE_MARK)
    assert state_of(database, pid) == before and not safeguarding_flags(database, pid)
    assert "Prydderch" not in everything_stored(database) and "say 4" not in everything_stored(database)


def test_an_edit_only_the_background_check_sees_risk_in_is_flagged_after_the_notice(
    service: ConversationService, database: Database,
) -> None:
    """The embedding model's part (here a stand-in that sees risk in one phrase): read after the
    commit, from memory, as a new message's words are; the inbox still keeps none of them."""
    phrase = "I keep thinking about the bridge near my house"
    service.safety = SafetyChecks(quick=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}).quick,
                                  thorough_batch=lambda texts: [Concern("suicide", "close to risky messages") if phrase in t else None
                                                                for t in texts])
    person = chat(service)
    pid = to_the_story(person)
    result, _ = person.edit("7", phrase)
    assert person.replies(result) == [("info", EDIT_NOTICE)]
    service.wait_for_safeguarding()
    flags = safeguarding_flags(database, pid)
    assert len(flags) == 1 and phrase in flags[0]
    assert [row.kind for row in service.outbox_for(pid)][-1] == "signposting"
    assert inbox_row(database, result.inbound_id) == ("edited", "", BARE_MARK)


def test_a_failed_edit_keeps_nothing_of_what_it_said(service: ConversationService, database: Database,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    person = chat(service)
    to_the_story(person)

    def broken(*_: Any) -> list[int]:
        raise RuntimeError("the notice could not be written")

    monkeypatch.setattr(service, "_apply", broken)
    result, _ = person.edit("7", "three, the night nurse Megan Prydderch")
    monkeypatch.undo()
    status, text, media = inbox_row(database, result.inbound_id)
    assert (result.status, status, text, media) == ("failed", "failed", "", BARE_MARK)


def test_a_stranger_s_edit_to_stop_stops_them_as_a_typed_stop_would(service: ConversationService, database: Database) -> None:
    stranger = chat(service)
    hello = stranger.say("hello")
    assert [text for _, text in stranger.replies(hello)] == ["Hello. To take part in Waiting in A&E, reply WAIT."]
    result, _ = stranger.edit("hello", "STOP")
    assert (result.status, result.outbox_ids) == ("not_enrolled", ())
    assert stranger.say("hello again").outbox_ids == (), "nothing is sent them until START"


# ----------------------------------------------------------------------------- end to end


@pytest.fixture
def fake_telegram_server() -> Iterator[tuple[FakeTelegram, str]]:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url


CHAT = 646464



def test_through_the_webhook_an_edit_to_risk_is_signposted_and_an_edit_to_stop_stops(
    database_url: str, fake_telegram_server: tuple[FakeTelegram, str],
) -> None:
    fake, url = fake_telegram_server
    with running_chorus(database_url, provider_env(fake, url)) as running:
        update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "/start wait"))
        update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "yes"))
        update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "1"))
        seven = fake.message_update(CHAT, "7")
        update_and_settle(running, fake, CHAT, seven)
        signposted = update_and_settle(running, fake, CHAT, edit_of(fake, seven, CHAT, text=RISK), replies=2)
        assert "116 123" in signposted[0] and signposted[1] == EDIT_NOTICE
        stop = edit_of(fake, seven, CHAT, text="/stop")
        stopped = update_and_settle(running, fake, CHAT, stop)
        assert len(stopped) == 1 and "START" in stopped[0]
        retried = running.client.post("/webhooks/telegram", json=stop, headers=HEADERS)
        assert retried.headers["X-Chorus-Inbox"] == "duplicate"
        running.settle()
        assert update_and_settle(running, fake, CHAT, fake.message_update(CHAT, "hello?"), replies=0) == []
        pid = running.chorus.service.participant_for("telegram", str(CHAT))
        assert pid is not None and state_of(running.chorus.database, pid)[0]
        assert len(safeguarding_flags(running.chorus.database, pid)) == 1
        assert fake.texts_to(CHAT).count(stopped[0]) == 1



def test_an_edit_the_inbox_worker_gives_up_on_keeps_nothing_of_what_it_said(
    service: ConversationService, database: Database,
) -> None:
    """The inbox worker's own fallback (a failure outside the flow's handling) marks the row
    failed and never reads it again: the edit's words go with it."""
    from bot.inbox import InboxWorker

    person = chat(service)
    to_the_story(person)
    edit = edit_of(person.fake, person.sent["7"], person.chat_id, text="three, the night nurse Megan Prydderch")
    message = telegram.parse_update(edit, BOT).message
    assert message is not None
    stored = service.accept(message)
    assert "Megan" in str(inbox_row(database, stored.inbound_id)[2]), "until it is processed, its words ride on its mark"
    InboxWorker(database, service)._give_up(stored.inbound_id or 0, RuntimeError("the pool broke"))
    assert inbox_row(database, stored.inbound_id) == ("failed", "", BARE_MARK)
