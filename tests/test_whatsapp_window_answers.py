"""A participant's answer after WhatsApp's 24-hour window closed is read unless the question it
would answer never reached them.

Before, whenever anything had been held for the closed window, what the participant wrote next
released it and was not read: their "7" to a question they had been sent the day before was
swallowed because a reminder of that question, or a results message, waited behind the template,
and the reminder then went after they had answered. Now, as when quiet hours hold messages
(storage/held_questions.py), only a held question never seen keeps what they wrote from being
read; otherwise it is the answer, and what was held goes after it, less the now stale reminder.

Sent through the real Twilio channel to the local fake Messages API (tests/fake_twilio.py), on
SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

from bot.delivery_status import record_status
from channels.base import InboundMessage
from channels.twilio import StatusReport
from storage import outbox, repository
from storage.window_holds import ASKED_IN_REPLY_AFTER_WINDOW
from tests.db_fixtures import TEST_ADDRESS_KEY
from tests.fake_twilio import FakeTwilio
from tests.test_whatsapp_window_one_template import (
    ADDRESS,
    STUDY,
    TEMPLATE_SID,
    WAITING,
    answers_of,
    dispatch,
    outbox_of,
    remind,
    sent_to,
    vision_after_silence,
)

RATE_UPDATES, RATE_PAIN = "Regular updates", "Pain relief"
RESULTS = "Here is what everyone said so far: being kept informed came first."


def asked_in_the_window(service: Any, say: Callable[..., Any], clock: Any, fake: FakeTwilio, hours: int = 30) -> str:
    """A participant sent the vision questions while their window is open (the first question
    reaches them), who then says nothing for ``hours``."""
    pid = str(say("WAIT", channel="whatsapp").participant_id)
    assert service.start_flow(pid, STUDY, "vision")
    dispatch(service, clock, fake)
    assert RATE_UPDATES in sent_to(fake)[-1][0] and sent_to(fake)[-1][1] is None, "the question, as free text"
    clock.advance(timedelta(hours=hours))
    return pid


def share_results(service: Any, pid: str, clock: Any) -> None:
    """A message that asks nothing (the results so far), queued for the participant."""
    with service.database.transaction() as connection:
        contact = repository.contact_for(connection, pid, "whatsapp")
        assert contact is not None
        outbox.queue(connection, [{"participant_id": pid, "contact_id": contact.contact_id, "channel": "whatsapp",
                                   "study_id": STUDY, "text": RESULTS, "buttons": [], "multiple": False, "kind": "info",
                                   "created_at": clock()}])


def kinds(service: Any, pid: str) -> list[tuple[str, str, str | None]]:
    """(kind, status, error) of the participant's messages, in order."""
    return [(kind, status, error) for kind, status, error, _ in outbox_of(service, pid)]


def test_a_reminder_of_a_question_they_were_sent_held_behind_the_template_lets_their_answer_count(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = asked_in_the_window(service, say, clock, fake_twilio)
    share_results(service, pid, clock)
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    assert sent_to(fake_twilio)[-1][1] == TEMPLATE_SID, "the results went as the template"
    assert kinds(service, pid)[-2:] == [("info", "sent", None), ("reminder", "held", WAITING)]

    sent_before = len(sent_to(fake_twilio))
    say("7", channel="whatsapp")
    assert ("rate_updates", "7") in answers_of(service, pid), "their answer to the question they were sent"
    dispatch(service, clock, fake_twilio)
    [(body, sid)] = sent_to(fake_twilio)[sent_before:]
    assert sid is None and RATE_PAIN in body, "the next question, as free text; not the reminder"
    reminder = next(row for row in kinds(service, pid) if row[0] == "reminder")
    assert reminder == ("reminder", "cancelled", outbox.NO_LONGER_ASKED_AFTER_WINDOW), "stale once answered: never sent"


def test_the_same_answer_read_by_the_inbox_worker_in_a_batch(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    """The inbox worker writes a batch's sessions and replies at its end: the stale reminder is
    still known for what it is."""
    pid = asked_in_the_window(service, say, clock, fake_twilio)
    share_results(service, pid, clock)
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    stored = service.accept(InboundMessage("whatsapp", ADDRESS, "whatsapp-batch-1", "7"))
    [result] = service.process_batch([(stored.inbound_id, stored.participant_id)])
    assert result.status == "processed" and ("rate_updates", "7") in answers_of(service, pid)
    dispatch(service, clock, fake_twilio)
    assert RATE_PAIN in sent_to(fake_twilio)[-1][0]
    assert ("reminder", "cancelled", outbox.NO_LONGER_ASKED_AFTER_WINDOW) in kinds(service, pid)
    assert not [row for row in kinds(service, pid) if row[1] in ("held", "queued")]


def test_a_reminder_twilio_refused_for_the_closed_window_lets_their_answer_count(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    """The reminder went as free text and Twilio said 63016 in its status callback (the window
    had closed): it is held, but the question itself reached them the day before."""
    pid = asked_in_the_window(service, say, clock, fake_twilio, hours=23)  # the window still looks open
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    reminder = fake_twilio.messages[-1]
    assert reminder["content_sid"] is None and RATE_UPDATES in reminder["body"]
    report = StatusReport("whatsapp", reminder["sid"], "failed", "63016")
    assert record_status(service.database, report, clock(), lambda: TEST_ADDRESS_KEY) == "held"

    sent_before = len(sent_to(fake_twilio))
    say("8", channel="whatsapp")
    assert ("rate_updates", "8") in answers_of(service, pid)
    dispatch(service, clock, fake_twilio)
    assert [RATE_PAIN in body for body, _ in sent_to(fake_twilio)[sent_before:]] == [True], "not the reminder again"
    assert kinds(service, pid)[-2][:2] == ("reminder", "cancelled")


def test_the_question_itself_held_behind_the_template_is_not_answered_by_what_they_wrote(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    assert kinds(service, pid)[-1] == ("prompt", "held", WAITING)
    sent_before = len(sent_to(fake_twilio))
    say("7", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    [(body, sid)] = sent_to(fake_twilio)[sent_before:]
    assert sid is None and RATE_UPDATES in body, "the question they had not seen, and nothing else"
    assert not [a for a in answers_of(service, pid) if a[0].startswith("rate_")], "'7' answered no question they had seen"

    say("6", channel="whatsapp")
    assert ("rate_updates", "6") in answers_of(service, pid), "once they have it, their answer counts"


def test_a_message_that_asks_nothing_held_behind_the_template_lets_their_answer_count(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = asked_in_the_window(service, say, clock, fake_twilio)
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    assert sent_to(fake_twilio)[-1][1] == TEMPLATE_SID, "the reminder went as the template"
    share_results(service, pid, clock)
    dispatch(service, clock, fake_twilio)
    assert kinds(service, pid)[-1] == ("info", "held", WAITING)

    sent_before = len(sent_to(fake_twilio))
    say("7", channel="whatsapp")
    assert ("rate_updates", "7") in answers_of(service, pid)
    dispatch(service, clock, fake_twilio)
    sent = sent_to(fake_twilio)[sent_before:]
    assert [body for body, _ in sent][0] == RESULTS and RATE_PAIN in sent[1][0], "what waited, then the next question"
    assert len(sent) == 2 and all(sid is None for _, sid in sent)


def test_stop_is_read_as_before_when_what_waits_asks_nothing(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = asked_in_the_window(service, say, clock, fake_twilio)
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    share_results(service, pid, clock)
    dispatch(service, clock, fake_twilio)
    sent_before = len(sent_to(fake_twilio))
    say("STOP", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    assert len(sent_to(fake_twilio)) == sent_before + 1 and kinds(service, pid)[-1][0] == "stopped"
    assert all(body != RESULTS for body, _ in sent_to(fake_twilio)), "held for someone who said STOP"
    assert not [a for a in answers_of(service, pid) if a[0].startswith("rate_")]


def test_a_reply_that_asks_the_question_again_keeps_its_held_reminder_from_going_too(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    """What they wrote is read but answers nothing: 'not sure what you mean' asks for help, and the
    reply asks the question again, so its reminder that waited behind the template would only repeat it."""
    pid = asked_in_the_window(service, say, clock, fake_twilio)
    share_results(service, pid, clock)
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    sent_before = len(sent_to(fake_twilio))
    say("not sure what you mean", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    sent = sent_to(fake_twilio)[sent_before:]
    assert sum(RATE_UPDATES in body for body, _ in sent) == 1, "the question again, once: not its reminder as well"
    assert not answers_of(service, pid) and all(sid is None for _, sid in sent)
    assert ("reminder", "cancelled", ASKED_IN_REPLY_AFTER_WINDOW) in kinds(service, pid)
