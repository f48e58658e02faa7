"""Outside WhatsApp's 24-hour window ONE template goes to a participant, not one per message due:
the first due message goes as the template, the participant's other messages are held ("waiting
for the participant to reply to the template") and go, in order, once they write. Before, a
follow-up's intro and its first question went as two paid templates, the second out of context.

Sent through the real Twilio channel to the local fake Messages API (tests/fake_twilio.py)."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select

from bot.api.queries import held_page
from bot.delivery_status import opt_out
from bot.dispatch_rules import (
    BEHIND_TEMPLATE,
    QUIET_PREFIX,
    Candidate,
    StudyRules,
    WhatsAppConfig,
    decide,
)
from bot.dispatcher import Dispatcher, RateLimit
from channels import twilio
from flows.inputs import Resume
from flows.model import TimeWindow
from storage import outbox
from storage.tables import ANSWERS, OUTBOUND, SESSIONS
from tests.channel_helpers import provider_env
from tests.db_fixtures import TEST_ADDRESS_KEY
from tests.fake_twilio import FakeTwilio

STUDY = "ae-waiting"
ADDRESS = "+447700900001"
TEMPLATE_SID = "HX" + "b" * 32
TEMPLATES = WhatsAppConfig.from_dict({"templates": {"default": {"content_sid": TEMPLATE_SID, "variables": {"1": "{text}"}}}})
WAITING = "whatsapp 24-hour window closed: waiting for the participant to reply to the template"


def dispatch(service: Any, clock: Any, fake: FakeTwilio, **options: Any) -> None:
    """Drain the outbox through a dispatcher with the study's templates (``options``: more of its fields)."""
    asyncio.run(dispatcher(service, clock, fake, **options).drain())


def dispatcher(service: Any, clock: Any, fake: FakeTwilio, **options: Any) -> Dispatcher:
    settings = twilio.TwilioSettings.from_env(provider_env(twilio=fake, twilio_url=fake.url))
    assert settings is not None
    channel = twilio.TwilioChannel("whatsapp", settings, twilio.make_client(settings))
    return Dispatcher(service.database, {"whatsapp": channel}, service.studies, {"whatsapp": RateLimit(1000, 1000)},
                      whatsapp={STUDY: TEMPLATES}, clock=clock, address_key=TEST_ADDRESS_KEY, **options)


def sent_to(fake: FakeTwilio) -> list[tuple[str, str | None]]:
    """(body, content SID) of each message Twilio took for the participant, in order."""
    return [(m["body"], m["content_sid"]) for m in fake.messages if m["to"] == f"whatsapp:{ADDRESS}"]


def outbox_of(service: Any, pid: str) -> list[tuple[str, str, str | None, str]]:
    """(kind, status, error, text) of each of the participant's rows, in order."""
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        return [(str(r[0]), str(r[1]), r[2], str(r[3])) for r in connection.execute(
            select(o.kind, o.status, o.error, o.text).where(o.participant_id == pid).order_by(o.id))]


def answers_of(service: Any, pid: str) -> list[tuple[str, str]]:
    a = ANSWERS.c
    with service.database.transaction() as connection:
        return [(str(r[0]), str(r[1])) for r in connection.execute(select(a.step_id, a.raw).where(a.participant_id == pid))]


def vision_after_silence(service: Any, say: Callable[..., Any], clock: Any, fake: FakeTwilio) -> str:
    """A participant who wrote 30 hours ago is sent the vision follow-up (an intro, then its first
    question) while their window is closed."""
    pid = str(say("WAIT", channel="whatsapp").participant_id)
    dispatch(service, clock, fake)
    clock.advance(timedelta(hours=30))
    assert service.start_flow(pid, STUDY, "vision")
    dispatch(service, clock, fake)
    return pid


def remind(service: Any, pid: str) -> None:
    s = SESSIONS.c
    with service.database.transaction() as connection:
        session_id = connection.execute(select(s.id).where(s.participant_id == pid).order_by(s.id.desc()).limit(1)).scalar_one()
    assert service.resume(session_id, Resume("reminder"))


def test_one_template_goes_and_the_rest_waits_for_the_reply_then_goes_in_order(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    before = len(sent_to(fake_twilio)) - 1
    assert [sid for _, sid in sent_to(fake_twilio)[before:]] == [TEMPLATE_SID], "one template, the intro's"
    rows = outbox_of(service, pid)[-2:]
    assert [(kind, status, error) for kind, status, error, _ in rows] == [("info", "sent", None), ("prompt", "held", WAITING)]
    held = held_page(service.database, STUDY, 10, None).items
    assert [(item["kind"], item["reason"]) for item in held] == [("prompt", WAITING)], "the desk says why"
    dispatch(service, clock, fake_twilio)
    assert len(sent_to(fake_twilio)) == before + 1, "nothing more goes until they reply"

    say("ok", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    [(body, sid)] = sent_to(fake_twilio)[before + 1:]
    assert sid is None and body.startswith(rows[1][3]), "the question, as free text in the open window"
    assert outbox_of(service, pid)[-1][1] == "sent"
    assert not held_page(service.database, STUDY, 10, None).items
    assert not [a for a in answers_of(service, pid) if a[0].startswith("rate_")], "'ok' answered no question they had seen"


def test_a_reminder_due_while_the_template_awaits_a_reply_waits_too_and_is_not_sent_twice(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    templates = sum(1 for _, sid in sent_to(fake_twilio) if sid)
    clock.advance(timedelta(hours=20))  # (a day after the template, another goes: tests/test_whatsapp_template_resends.py)
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    assert sum(1 for _, sid in sent_to(fake_twilio) if sid) == templates == 1, "no second template for the reminder"
    assert [(k, s, e) for k, s, e, _ in outbox_of(service, pid)[-2:]] == [("prompt", "held", WAITING), ("reminder", "held", WAITING)]

    sent_before = len(sent_to(fake_twilio))
    say("hello", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    assert len(sent_to(fake_twilio)) == sent_before + 1, "the question once, not again as its reminder"
    kinds = [(k, s, e) for k, s, e, _ in outbox_of(service, pid)[-2:]]
    assert kinds == [("prompt", "sent", None), ("reminder", "cancelled", outbox.ASKED_ALREADY)]


def test_when_the_template_asked_the_question_their_answer_counts_and_its_second_reminder_never_goes(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = str(say("WAIT", channel="whatsapp").participant_id)
    assert service.start_flow(pid, STUDY, "vision")
    dispatch(service, clock, fake_twilio)  # in the window: free text
    clock.advance(timedelta(hours=30))
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    clock.advance(timedelta(hours=1))
    remind(service, pid)
    dispatch(service, clock, fake_twilio)
    assert [sid for _, sid in sent_to(fake_twilio)].count(TEMPLATE_SID) == 1
    assert [(k, s, e) for k, s, e, _ in outbox_of(service, pid)[-2:]] == [("reminder", "sent", None), ("reminder", "held", WAITING)]

    say("7", channel="whatsapp")
    assert ("rate_updates", "7") in answers_of(service, pid), "the answer to the question the template asked"
    dispatch(service, clock, fake_twilio)
    rows = outbox_of(service, pid)
    assert ("reminder", "cancelled", outbox.ASKED_ALREADY) in [(k, s, e) for k, s, e, _ in rows]
    assert rows[-1][1] == "sent" and "Pain relief" in rows[-1][3], "the next question goes"


def test_a_stop_while_messages_wait_behind_the_template_keeps_them_from_ever_going(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    sent_before = len(sent_to(fake_twilio))
    say("STOP", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    assert len(sent_to(fake_twilio)) == sent_before + 1 and outbox_of(service, pid)[-1][0] == "stopped"
    say("START", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    prompt = next(row for row in outbox_of(service, pid) if row[0] == "prompt" and "updates" in row[3])
    assert prompt[1] in ("held", "cancelled") and prompt[2] != WAITING, prompt
    assert all(body != prompt[3] for body, _ in sent_to(fake_twilio)), "never sent, not even after START"


def test_a_provider_opt_out_then_start_never_sends_what_waited_behind_the_template(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    with service.database.transaction() as connection:
        opt_out(connection, pid, clock(), "provider error 21610", service.database.sealer, TEST_ADDRESS_KEY)
    assert outbox_of(service, pid)[-1][1:3] == ("held", WAITING), "a provider's opt-out leaves it held as it was"
    clock.advance(timedelta(minutes=5))
    say("START", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    prompt = next(row for row in outbox_of(service, pid) if row[0] == "prompt" and "updates" in row[3])
    assert prompt[1:3] == ("cancelled", outbox.STOPPED_WHILE_HELD)
    assert all(body != prompt[3] for body, _ in sent_to(fake_twilio))


def test_what_the_reply_released_goes_at_night_too(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    """Replying to the template at 22:00, in quiet hours, shows the participant is awake: what
    waited behind it goes now, inside the window (quiet hours keep people from being woken, not
    from replies), and is not held again until 08:00."""
    pid = vision_after_silence(service, say, clock, fake_twilio)
    sent_before = len(sent_to(fake_twilio))
    clock.now = datetime(2025, 3, 2, 22, 0, tzinfo=UTC)  # 22:00 in London: quiet hours (21:00-08:00)
    say("ok", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    assert not any((error or "").startswith(QUIET_PREFIX) for _, _, error, _ in outbox_of(service, pid))
    assert sent_to(fake_twilio)[sent_before:][0][1] is None and outbox_of(service, pid)[-1][1] == "sent"


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


def _row(kind: str, hours_since_inbound: float) -> Candidate:
    last = NOW - timedelta(hours=hours_since_inbound)
    return Candidate(1, "p-1", "whatsapp", ADDRESS, "Hi", (), False, kind, None, STUDY, NOW, False, last, last)


def test_only_messages_that_would_need_a_template_wait_and_never_urgent_ones() -> None:
    rules = StudyRules(TimeWindow.parse("21:00-08:00"), "Europe/London", "Study", TEMPLATES)
    window = timedelta(minutes=10)
    assert decide(_row("prompt", 30), rules, NOW, window, True).hold == BEHIND_TEMPLATE == WAITING
    first = decide(_row("prompt", 30), rules, NOW, window, False)
    assert first.hold is None and first.template and first.content is not None, "the first goes as the template"
    for urgent in ("signposting", "stopped", "erase_confirm"):
        decision = decide(_row(urgent, 30), rules, NOW, window, True)
        assert decision.hold is None and decision.template, f"{urgent} goes (as its own template) whatever waits"
    open_window = decide(_row("prompt", 2), rules, NOW, window, True)
    assert open_window.hold is None and not open_window.template, "inside the window nothing waits"
