"""A reply after the end that may ask to stop is asked about, as it is mid-conversation. "I don't
want to do this anymore" after the last question used to get "Thank you, that's all for now."
and the follow-ups weeks later still came. Now it is asked "Do you want us to stop messaging
you?": YES (or the same again) opts out, NO keeps in touch, and the answer to the question is
not shown to the coordinator as words written after the end. Someone who never consented is
told how to begin again, as before. Through the conversation service on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable

from bot.service import ConversationService, ReceiveResult
from storage.database import Database
from tests.test_after_the_end import alerts, finish, texts
from tests.test_stop_after_finishing import opted_out

Say = Callable[..., ReceiveResult]
ASKED = "Do you want us to stop messaging you? Reply STOP and we will not message you again."
STOPPED = "You will get no more messages from us. Reply START if you change your mind."


def test_a_reply_that_may_ask_to_stop_after_the_end_is_asked_and_yes_stops(service: ConversationService, database: Database,
                                                                           say: Say) -> None:
    pid = finish(say)
    assert texts(service, say("I don't want to do this anymore")) == [ASKED]
    assert not opted_out(database, pid), "asked, not stopped"
    assert texts(service, say("yes")) == [STOPPED]
    assert opted_out(database, pid) and service.session_status(pid) == "ended", "the finish is kept"
    assert [message for _, _, message in alerts(database)] == [
        'written after the conversation ended: "I don\'t want to do this anymore"'], "the YES is no words for the coordinator"


def test_no_keeps_in_touch_and_the_same_words_again_stop(service: ConversationService, database: Database, say: Say) -> None:
    pid = finish(say)
    say("I want out")
    assert texts(service, say("no")) == ["OK, we will keep in touch."]
    assert not opted_out(database, pid)
    assert texts(service, say("hello")) == ["Thank you, that's all for now."], "only the reply right after answers it"
    say("I want out")
    assert texts(service, say("I want out")) == [STOPPED] and opted_out(database, pid)


def test_asked_in_welsh(service: ConversationService, database: Database, say: Say) -> None:
    joined = service.join("sms", "+447700900001", "ae-waiting", language="cy")
    assert joined.status == "joined"
    for reply in ("ydw", "1", "3", "Hir ac oer", "2"):
        say(reply)
    assert texts(service, say("dw i eisiau gadael")) == [
        "Ydych chi am i ni roi'r gorau i anfon negeseuon atoch? Atebwch STOPIO ac ni fyddwn yn anfon neges atoch eto."]
    assert texts(service, say("nac ydw")) == ["Iawn, byddwn yn cadw mewn cysylltiad."]


def test_someone_who_never_consented_is_told_how_to_begin_again(service: ConversationService, database: Database,
                                                                say: Say) -> None:
    say("WAIT")
    say("no thanks")
    assert "reply START or WAIT" in texts(service, say("I want out"))[0]
