"""A WhatsApp template left unanswered is followed by another: a day after it (by default), the
participant's next message due goes as a template too, up to three times; after that what is due
stays held, shown to the coordinator, and goes in order when they write. Before, one unanswered
template meant nothing more ever reached them: no reminder, and no follow-up weeks later.

Quiet hours and opt-outs still apply. Sent through the real Twilio channel to the local fake
Messages API (tests/fake_twilio.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api.queries import held_page
from bot.delivery_status import opt_out
from bot.dispatch_rules import (
    BEHIND_TEMPLATE,
    QUIET_PREFIX,
    TEMPLATES_UNANSWERED,
    TemplateResends,
    decide,
)
from bot.settings import serving_settings
from bot.webhooks import ChannelHub
from storage import outbox
from storage.template_resends import TemplatesSent
from tests.db_fixtures import TEST_ADDRESS_KEY
from tests.fake_twilio import FakeTwilio
from tests.test_whatsapp_window_one_template import (
    ADDRESS,
    STUDY,
    TEMPLATES,
    WAITING,
    _row,
    answers_of,
    dispatch,
    dispatcher,
    outbox_of,
    remind,
    sent_to,
    vision_after_silence,
)
from tests.test_whatsapp_window_one_template import NOW as AT_NOON

DAY = timedelta(hours=24)
INTRO, RATE_UPDATES, RATE_PAIN = "Thank you for your ideas so far", "Regular updates", "Pain relief"
USED_UP = "whatsapp 24-hour window closed: no reply to the templates sent, and no more are sent until the participant writes"


def templates_to(fake: FakeTwilio) -> list[str]:
    """The text each template sent to the participant carried, in order."""
    return [" ".join(json.loads(m["content_variables"] or "{}").values()) for m in fake.messages
            if m["to"] == f"whatsapp:{ADDRESS}" and m["content_sid"]]


def held_reasons(service: Any) -> list[tuple[str, str]]:
    """(kind, reason) of what the Held page shows, oldest first."""
    return [(item["kind"], item["reason"]) for item in reversed(held_page(service.database, STUDY, 20, None).items)]


def test_a_template_left_unanswered_a_day_is_followed_by_the_next_message_due_and_not_before(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    [intro] = templates_to(fake_twilio)
    assert INTRO in intro
    clock.advance(timedelta(hours=23))
    dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 1, "not before a day has passed"
    assert outbox_of(service, pid)[-1][1:3] == ("held", WAITING)

    clock.advance(timedelta(hours=1))
    dispatch(service, clock, fake_twilio)
    [_, again] = templates_to(fake_twilio)
    assert RATE_UPDATES in again, "the question held behind the first template goes as the next"
    assert outbox_of(service, pid)[-1][1:3] == ("sent", None) and not held_reasons(service)
    clock.advance(2 * DAY)
    dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 2, "nothing waits: nothing more goes"

    say("7", channel="whatsapp")
    assert ("rate_updates", "7") in answers_of(service, pid), "their reply answers the question the template asked"
    dispatch(service, clock, fake_twilio)
    body, sid = sent_to(fake_twilio)[-1]
    assert sid is None and RATE_PAIN in body, "the next question, as free text in the open window"


def test_a_follow_up_weeks_later_reaches_someone_who_never_answered(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    clock.advance(DAY)
    dispatch(service, clock, fake_twilio)
    clock.advance(timedelta(days=21))
    assert service.start_flow(pid, STUDY, "evaluate")
    dispatch(service, clock, fake_twilio)
    templates = templates_to(fake_twilio)
    assert len(templates) == 3 and "Overall, how was your experience" in templates[-1], templates


def test_after_three_unanswered_resends_what_is_due_stays_held_for_the_coordinator_then_goes_in_order_on_a_reply(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    for day in (1, 2, 3):  # the question again, then each day's reminder of it
        clock.advance(DAY)
        if day > 1:
            remind(service, pid)
        dispatch(service, clock, fake_twilio)
        assert len(templates_to(fake_twilio)) == 1 + day
    for _ in range(3):
        clock.advance(DAY)
        remind(service, pid)
        dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 4, "the first and three more, then no more"
    assert held_reasons(service) == [("reminder", USED_UP)] * 3 and USED_UP == TEMPLATES_UNANSWERED

    clock.advance(timedelta(days=14))  # the vision round runs again: it waits too, shown as held
    assert service.start_flow(pid, STUDY, "vision")
    dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 4
    assert held_reasons(service)[-2:] == [("info", USED_UP), ("prompt", USED_UP)]

    sent_before = len(sent_to(fake_twilio))
    say("hello", channel="whatsapp")
    dispatch(service, clock, fake_twilio)
    sent = sent_to(fake_twilio)[sent_before:]
    assert [sid for _, sid in sent] == [None, None], "free text in the open window"
    assert INTRO in sent[0][0] and RATE_UPDATES in sent[1][0], "in order: the introduction, then its question"
    rows = outbox_of(service, pid)
    old_reminders = [(status, error) for kind, status, error, _ in rows if kind == "reminder"][-3:]
    assert old_reminders == [("cancelled", outbox.NO_LONGER_ASKED_AFTER_WINDOW)] * 3, "the old round's, never sent"
    assert not held_reasons(service)
    assert not [a for a in answers_of(service, pid) if a[1] == "hello"], "'hello' answered no question they had seen"


def test_no_template_goes_again_to_someone_who_opted_out(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    with service.database.transaction() as connection:  # they blocked us: the provider says so
        opt_out(connection, pid, clock(), "provider error 21610", service.database.sealer, TEST_ADDRESS_KEY)
    for _ in range(3):
        clock.advance(DAY)
        dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 1
    assert outbox_of(service, pid)[-1][1:3] == ("held", WAITING), "held as it was, never sent"


def test_a_template_due_again_in_quiet_hours_waits_for_the_morning(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)  # the first template at 16:00 on 2 March
    clock.now = datetime(2025, 3, 3, 22, 0, tzinfo=UTC)  # 22:00 in London: quiet hours (21:00-08:00)
    dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 1
    status, error = outbox_of(service, pid)[-1][1:3]
    assert status == "held" and (error or "").startswith(QUIET_PREFIX + "2025-03-04T08:00"), error
    clock.now = datetime(2025, 3, 4, 8, 1, tzinfo=UTC)
    dispatch(service, clock, fake_twilio)
    assert len(templates_to(fake_twilio)) == 2 and RATE_UPDATES in templates_to(fake_twilio)[-1]


def test_dispatchers_looking_at_once_send_one_template_again(
        service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio) -> None:
    pid = vision_after_silence(service, say, clock, fake_twilio)
    clock.advance(DAY)
    remind(service, pid)

    async def together() -> None:
        await asyncio.gather(*(dispatcher(service, clock, fake_twilio, exclusive=True).drain() for _ in range(3)))

    asyncio.run(together())
    assert len(templates_to(fake_twilio)) == 2
    assert [(k, s, e) for k, s, e, _ in outbox_of(service, pid)[-2:]] == [("prompt", "sent", None), ("reminder", "held", WAITING)]
    asyncio.run(together())
    assert len(templates_to(fake_twilio)) == 2


def test_when_another_template_may_go() -> None:
    rule, now = TemplateResends(), AT_NOON
    assert rule.hold(TemplatesSent(), now) is None, "none sent yet: the first goes"
    assert rule.hold(TemplatesSent(1, now - timedelta(hours=23, minutes=59)), now) == BEHIND_TEMPLATE
    assert rule.hold(TemplatesSent(1, now - DAY), now) is None
    assert rule.hold(TemplatesSent(4, now - timedelta(hours=2)), now) == BEHIND_TEMPLATE, "the last one is recent"
    assert rule.hold(TemplatesSent(3, now - DAY), now) is None, "the third sent again"
    assert rule.hold(TemplatesSent(4, now - timedelta(days=30)), now) == TEMPLATES_UNANSWERED
    assert TemplateResends(timedelta(hours=6), 0).hold(TemplatesSent(1, now - DAY), now) == TEMPLATES_UNANSWERED


def test_crisis_signposting_never_waits_even_when_the_resends_are_used_up() -> None:
    from bot.dispatch_rules import StudyRules
    from flows.model import TimeWindow

    rules = StudyRules(TimeWindow.parse("21:00-08:00"), "Europe/London", "Study", TEMPLATES)
    window = timedelta(minutes=10)
    assert decide(_row("prompt", 30), rules, AT_NOON, window, True, resends_used_up=True).hold == TEMPLATES_UNANSWERED
    for urgent in ("signposting", "stopped", "erase_confirm"):
        decision = decide(_row(urgent, 30), rules, AT_NOON, window, True, resends_used_up=True)
        assert decision.hold is None and decision.template, urgent


def test_the_interval_and_the_number_of_resends_are_settings() -> None:
    assert TemplateResends.from_env({}) == TemplateResends(DAY, 3)
    env = {"CHORUS_WHATSAPP_RESEND_HOURS": "48", "CHORUS_WHATSAPP_RESENDS": "1"}
    assert TemplateResends.from_env(env) == TemplateResends(timedelta(hours=48), 1) == ChannelHub.from_env(env).template_resends
    settings = serving_settings({**env, "CHORUS_WHATSAPP_RESEND_HOURS": "0.5"})
    assert (settings.whatsapp_resend_hours, settings.whatsapp_resends) == (0.5, 1)
