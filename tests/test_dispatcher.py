"""The outbox dispatcher: claims, retries, opt-outs, quiet hours and WhatsApp's 24-hour rule."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import select, update

from bot.dispatch_rules import (
    NO_TEMPLATE,
    OPTED_OUT,
    QUIET_PREFIX,
    Candidate,
    StudyRules,
    WhatsAppConfig,
    decide,
    quiet_until,
)
from bot.dispatcher import Dispatcher, RateLimit
from channels.base import Attachment, Capabilities, OutboundMessage, SendError
from channels.errors import ServerError, Throttled
from channels.twilio import Content
from flows.model import TimeWindow
from storage import media
from storage.outbox import MAX_ATTEMPTS
from storage.peers import DISPATCHERS
from storage.tables import OUTBOUND
from tests.database_time import age, database_now

STUDY = "ae-waiting"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
TEMPLATE = WhatsAppConfig.from_dict({"templates": {"default": {"content_sid": "HX" + "a" * 32, "variables": {"1": "{study}"}}}})


class Recorder:
    """A channel that records what it was asked to send, failing as told."""

    def __init__(self, name: str, failures: list[SendError] | None = None) -> None:
        self.name = name
        self.capabilities = Capabilities()
        self.sent: list[tuple[OutboundMessage, Content | None]] = []
        self.failures = list(failures or [])

    async def send(self, message: OutboundMessage, content: Content | None = None) -> str:
        await asyncio.sleep(0)
        if self.failures:
            raise self.failures.pop(0)
        self.sent.append((message, content))
        return f"{self.name}-{message.outbox_id}"


def dispatcher(service: Any, clock: Any, *channels: Recorder, **options: Any) -> Dispatcher:
    limits = {c.name: RateLimit(1000) for c in channels}
    return Dispatcher(service.database, {c.name: c for c in channels}, service.studies, limits, clock=clock,
                      backoff_base=0.01, **options)


def rows(service: Any) -> list[tuple[int, str, str | None, int]]:
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        return [tuple(r) for r in connection.execute(select(o.id, o.status, o.error, o.attempts).order_by(o.id))]  # type: ignore[misc]


def test_it_sends_queued_messages_once_and_records_provider_ids(service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    say("WAIT")
    say("YES")
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert [m.text.split(".")[0] for m, _ in sms.sent] == ["Hello there", "Which best describes you?"]
    assert [status for _, status, _, _ in rows(service)] == ["sent", "sent"]
    assert sms.sent[1][0].buttons, "options travel with the message"
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert len(sms.sent) == 2


def test_two_dispatchers_never_send_the_same_row(service: Any, say: Callable[..., Any], clock: Any) -> None:
    for n in range(40):
        say("WAIT", address=f"+4477009{n:05d}")
    first, second = Recorder("sms"), Recorder("sms")

    async def both() -> None:
        await asyncio.gather(dispatcher(service, clock, first, batch=5).drain(), dispatcher(service, clock, second, batch=5).drain())

    asyncio.run(both())
    ids = Counter(m.outbox_id for m, _ in first.sent + second.sent)
    assert len(ids) == 40 and set(ids.values()) == {1}


def test_retryable_failures_are_retried_with_backoff_and_permanent_ones_recorded(service: Any, say: Callable[..., Any], clock: Any) -> None:
    say("WAIT")
    flaky = Recorder("sms", [ServerError("twilio 503"), Throttled("slow down", 0.05, "20429")])
    stats = asyncio.run(dispatcher(service, clock, flaky).drain())
    assert stats.retried == 2 and len(flaky.sent) == 1
    assert rows(service)[0][1:] == ("sent", None, 3)
    say("YES")
    broken = Recorder("sms", [SendError("twilio 400 error 21617", retryable=False, code="21617")])
    asyncio.run(dispatcher(service, clock, broken).drain())
    _, status, error, _ = rows(service)[-1]
    assert status == "failed" and "21617" in (error or "")


def test_nothing_is_sent_to_an_opted_out_participant_but_the_stop_confirmation(service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    say("WAIT")
    say("STOP")
    asyncio.run(dispatcher(service, clock, sms).drain())
    pid = say("hello").participant_id
    assert service.start_flow(pid, STUDY, "vision") is None
    asyncio.run(dispatcher(service, clock, sms).drain())
    kinds = [m.text for m, _ in sms.sent]
    assert len(kinds) == 1 and "no more messages" in kinds[0], "the consent prompt was queued before STOP and held"


def test_quiet_hours_hold_scheduled_messages_then_release_them(service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    pid = say("WAIT").participant_id
    asyncio.run(dispatcher(service, clock, sms).drain())
    clock.now = datetime(2025, 3, 1, 22, 30, tzinfo=UTC)  # 22:30 in London: quiet
    assert service.start_flow(pid, STUDY, "vision")
    asyncio.run(dispatcher(service, clock, sms).drain())
    held = rows(service)[-1]
    assert held[1] == "held" and (held[2] or "").startswith(QUIET_PREFIX + "2025-03-02T08:00")
    assert len(sms.sent) == 1
    clock.now = datetime(2025, 3, 2, 8, 0, 5, tzinfo=UTC)
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert rows(service)[1][1] == "sent" and "quiet" not in str(rows(service))


def test_a_participant_writing_at_night_gets_the_reply_and_what_was_held_at_once(
        service: Any, say: Callable[..., Any], clock: Any) -> None:
    sms = Recorder("sms")
    pid = say("WAIT").participant_id
    asyncio.run(dispatcher(service, clock, sms).drain())
    clock.now = datetime(2025, 3, 1, 22, 30, tzinfo=UTC)  # 22:30 in London: quiet
    assert service.start_flow(pid, STUDY, "vision")
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert [row[1] for row in rows(service)[1:]] == ["held", "held"] and len(sms.sent) == 1
    say("HELP")  # awake: the help reply, and what was held (its question asked once, by the reply)
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert any("BACK" in m.text for m, _ in sms.sent[1:]), "the help reply went out during quiet hours"
    assert rows(service)[1][1] == "sent" and not any(row[1] in ("held", "queued") for row in rows(service))


def test_quiet_hours_published_again_reach_a_running_dispatcher(service: Any, say: Callable[..., Any], clock: Any) -> None:
    """A coordinator moves the quiet hours and publishes: the dispatcher already running keeps
    to the new ones (it remembers each study's rules only while that study is unchanged)."""
    from dataclasses import replace

    from bot.api.publishing import replace_study

    sms = Recorder("sms")
    pid = say("WAIT").participant_id
    running = dispatcher(service, clock, sms)
    asyncio.run(running.drain())
    clock.now = datetime(2025, 3, 1, 19, 30, tzinfo=UTC)  # 19:30 in London: not quiet in the example study
    assert service.start_flow(pid, STUDY, "vision")
    loaded = service.studies.get(STUDY)
    earlier = replace(loaded, study=loaded.study.model_copy(update={"quiet_hours": TimeWindow.parse("19:00-08:00")}))
    replace_study(service.studies, earlier)
    asyncio.run(running.drain())
    held = rows(service)[-1]
    assert held[1] == "held" and (held[2] or "").startswith(QUIET_PREFIX + "2025-03-02T08:00"), held


def test_whatsapp_outside_24_hours_needs_a_template(service: Any, say: Callable[..., Any], clock: Any) -> None:
    whatsapp = Recorder("whatsapp")
    pid = say("WAIT", channel="whatsapp").participant_id
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    assert whatsapp.sent[0][1] is None, "inside the window: free-form text"
    clock.advance(timedelta(hours=25))
    service.start_flow(pid, STUDY, "vision")
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    assert rows(service)[-1][1] == "held" and (rows(service)[-1][2] or "").startswith(NO_TEMPLATE)
    assert len(whatsapp.sent) == 1
    service.start_flow(pid, STUDY, "evaluate")
    asyncio.run(dispatcher(service, clock, whatsapp, whatsapp={STUDY: TEMPLATE}).drain())
    message, content = whatsapp.sent[-1]
    assert content is not None and content.sid == "HX" + "a" * 32 and content.variables == {"1": "Waiting in A&E"}
    assert rows(service)[-1][1] == "sent"


def _with_image(service: Any, now: datetime) -> int:
    """Give every queued row an image, as the service does for a Delphi chart."""
    with service.database.transaction() as connection:
        media_id = media.store(connection, PNG, "image/png", now)
        connection.execute(update(OUTBOUND).where(OUTBOUND.c.status == "queued").values(media_id=media_id))
    return media_id


def test_an_image_goes_with_its_message_but_not_with_a_template_or_to_a_channel_without_images(
    service: Any, say: Callable[..., Any], clock: Any,
) -> None:
    whatsapp = Recorder("whatsapp")
    whatsapp.capabilities = Capabilities(images=True)
    pid = say("WAIT", channel="whatsapp").participant_id
    media_id = _with_image(service, clock())
    asyncio.run(dispatcher(service, clock, whatsapp).drain())
    assert [m.attachment for m, _ in whatsapp.sent] == [Attachment(media_id, "image/png", PNG)]
    clock.advance(timedelta(hours=25))
    service.start_flow(pid, STUDY, "evaluate")
    _with_image(service, clock())
    asyncio.run(dispatcher(service, clock, whatsapp, whatsapp={STUDY: TEMPLATE}).drain())
    message, content = whatsapp.sent[-1]
    assert content is not None and message.attachment is None, "outside the window only the template may go"
    sms = Recorder("sms")
    say("WAIT", address="+447700900002")
    _with_image(service, clock())
    asyncio.run(dispatcher(service, clock, sms).drain())
    assert sms.sent and all(m.attachment is None for m, _ in sms.sent)


def test_quiet_until_handles_windows_past_midnight() -> None:
    window = TimeWindow.parse("21:00-08:00")
    assert quiet_until(window, "Europe/London", datetime(2025, 7, 1, 12, 0, tzinfo=UTC)) is None
    assert quiet_until(window, "Europe/London", datetime(2025, 7, 1, 21, 0, tzinfo=UTC)) == datetime(2025, 7, 2, 7, 0, tzinfo=UTC)
    assert quiet_until(window, "Europe/London", datetime(2025, 1, 2, 6, 0, tzinfo=UTC)) == datetime(2025, 1, 2, 8, 0, tzinfo=UTC)


NOW = datetime(2025, 3, 1, 12, 0, tzinfo=UTC)


@settings(max_examples=200, deadline=None)
@given(
    channel=st.sampled_from(["sms", "whatsapp", "telegram"]),
    kind=st.sampled_from(["prompt", "retry", "info", "help", "reminder", "end", "stopped"]),
    hours_since_inbound=st.none() | st.floats(0, 100),
    hour=st.integers(0, 23),
    templates=st.booleans(),
)
def test_no_message_but_the_stop_confirmation_ever_goes_to_an_opted_out_participant(
    channel: str, kind: str, hours_since_inbound: float | None, hour: int, templates: bool
) -> None:
    now = NOW.replace(hour=hour)
    last = None if hours_since_inbound is None else now - timedelta(hours=hours_since_inbound)
    row = Candidate(1, "p-1", channel, "+447700900001", "Hi", (), False, kind, None, STUDY, now, True, last, last)
    rules = StudyRules(TimeWindow.parse("21:00-08:00"), "Europe/London", "Study", TEMPLATE if templates else WhatsAppConfig())
    decision = decide(row, rules, now, timedelta(minutes=10))
    if kind != "stopped":
        assert decision.hold == OPTED_OUT
    else:
        assert decision.hold is None or decision.hold.startswith(NO_TEMPLATE)


def test_crisis_signposting_and_a_reply_followed_by_another_message_go_out_at_night() -> None:
    night = NOW.replace(hour=23)
    rules = StudyRules(TimeWindow.parse("21:00-08:00"), "Europe/London", "Study")
    window = timedelta(minutes=10)

    def row(kind: str, created: datetime, last: datetime | None) -> Candidate:
        return Candidate(1, "p-1", "sms", "+447700900001", "Hi", (), False, kind, None, STUDY, created, False, last, last)

    # signposting is sent at once even when it was queued hours before the dispatcher saw it
    assert decide(row("signposting", night - timedelta(hours=3), None), rules, night, window).hold is None
    # a reply, then the participant's "sorry" 0.6 s later, before the reply went out: still a reply
    assert decide(row("prompt", night, night + timedelta(seconds=0.6)), rules, night, window).hold is None
    # a follow-up queued an hour before they wrote goes while they are writing: they are awake
    assert decide(row("prompt", night - timedelta(hours=1), night), rules, night, window).hold is None
    # but not once they have been quiet for longer than the reply window, nor when queued long after they wrote
    later = decide(row("prompt", night - timedelta(hours=1), night), rules, night + timedelta(minutes=11), window).hold
    assert later is not None and later.startswith(QUIET_PREFIX)
    assert decide(row("prompt", night, night - timedelta(hours=1)), rules, night, window).hold is not None
    assert decide(row("prompt", night, None), rules, night, window).hold is not None


def test_a_row_left_sending_by_a_dead_process_is_sent_again_with_the_same_key_and_keeps_the_order(
    service: Any, say: Callable[..., Any], clock: Any
) -> None:
    from sqlalchemy import update

    say("WAIT")
    sms = Recorder("sms", [ServerError("down")])
    sender = dispatcher(service, clock, sms)
    asyncio.run(sender.drain())  # the first attempt fails, the retry goes: the row got its key when first claimed
    key = sms.sent[0][0].delivery_key
    assert key and key.startswith("chorus-")
    say("YES")  # a later message for the same participant, queued behind the one in doubt
    first = rows(service)[0][0]
    claimed_at = database_now(service.database)
    with service.database.transaction() as connection:  # as if the process died while sending the first row again
        connection.execute(update(OUTBOUND).where(OUTBOUND.c.id == first).values(status="sending", sent_at=claimed_at))
    assert asyncio.run(sender.drain()) and len(sms.sent) == 1, "the later message waits while the first is in doubt"
    assert sender.recover_interrupted() == 0, "still within the lease: its dispatcher may be sending it"
    age(service.database, OUTBOUND, "sent_at", timedelta(hours=1), OUTBOUND.c.id == first)  # an hour of the database's time
    assert sender.recover_interrupted() == 1
    asyncio.run(sender.drain())
    assert [m.delivery_key for m, _ in sms.sent[1:]][0] == key, "resent with the same key"
    assert [m.outbox_id for m, _ in sms.sent] == [first, first, rows(service)[1][0]], "in order"
    assert [status for _, status, _, _ in rows(service)] == ["sent", "sent"]


def test_the_lease_runs_from_when_the_busy_participants_were_named_not_from_when_a_thread_got_round_to_it(
    service: Any, say: Callable[..., Any], clock: Any
) -> None:
    """The recovery names the participants it is sending to on the loop, then runs in a worker
    thread, perhaps much later. A row claimed in between (for someone it could not name) is a
    live claim, not a dead dispatcher's, however late the thread runs."""
    from sqlalchemy import update

    say("WAIT")
    sender = dispatcher(service, clock, Recorder("sms"))
    named_at = clock.now  # busy named: nobody in flight yet
    clock.advance(timedelta(seconds=1))
    claimed_at = database_now(service.database)
    with service.database.transaction() as connection:  # then this dispatcher claims the row...
        connection.execute(update(OUTBOUND).values(status="sending", sent_at=claimed_at))
    clock.advance(sender.stale_after * 3)  # ...and the thread runs long after the lease
    age(service.database, OUTBOUND, "sent_at", sender.stale_after * 2)  # (in the database's time too)
    assert sender.recover_interrupted([], named_at) == 0, "a claim made after the busy list was taken is not stale"
    assert rows(service)[0][1] == "sending"
    assert sender.recover_interrupted([]) == 1, "measured from now, the same row is past its lease"


def test_a_row_interrupted_too_often_is_failed(service: Any, say: Callable[..., Any], clock: Any) -> None:
    from sqlalchemy import update

    say("WAIT")
    an_hour_ago = database_now(service.database) - timedelta(hours=1)
    with service.database.transaction() as connection:
        connection.execute(update(OUTBOUND).values(status="sending", attempts=MAX_ATTEMPTS - 1, sent_at=an_hour_ago))
    sms = Recorder("sms")
    sender = dispatcher(service, clock, sms)
    assert sender.recover_interrupted() == 1
    asyncio.run(sender.drain())
    assert sms.sent == [] and rows(service)[0][1] == "failed"


def test_a_dispatchers_share_of_a_rate_limit_is_the_limit_divided() -> None:
    from bot.webhooks import ChannelHub

    env = {"TELEGRAM_BOT_TOKEN": "123:abc", "TWILIO_ACCOUNT_SID": "AC" + "0" * 32, "TWILIO_AUTH_TOKEN": "t",
           "TWILIO_SMS_FROM": "+15005550006", "CHORUS_TWILIO_SMS_RATE": "10"}
    limits = ChannelHub.from_env(env).limits
    assert limits["telegram"] == RateLimit(30, 1) and limits["sms"] == RateLimit(10)
    assert limits["telegram"].shared_by(2) == RateLimit(15, 0.5) and limits["sms"].shared_by(2) == RateLimit(5)


def _pace(sender: Dispatcher, channel: str) -> float:
    """The sends a second this dispatcher allows itself on a channel now."""
    return round(1 / sender._pacers[channel].interval, 6)


def test_dispatchers_sharing_a_database_count_themselves_and_share_the_rate_limits(service: Any, clock: Any) -> None:
    """Each counts the dispatchers alive in the database and paces at its share; one that
    leaves, or stops being seen (killed), gives its share back to the others."""
    telegram = Recorder("telegram")
    first, second, killed = (Dispatcher(service.database, {"telegram": telegram}, service.studies, {"telegram": RateLimit(30, 1)},
                                        clock=clock, heartbeat_every=60) for _ in range(3))

    async def run() -> list[tuple[int, float]]:
        seen = [(await first.count_peers(), _pace(first, "telegram"))]
        await second.count_peers()
        seen.append((await first.count_peers(), _pace(first, "telegram")))
        await killed.count_peers()
        seen.append((await second.count_peers(), _pace(second, "telegram")))
        await asyncio.to_thread(second._leave)
        # the killed one has not been seen for over three heartbeats, by the database's clock
        age(service.database, DISPATCHERS, "seen_at", timedelta(seconds=200), DISPATCHERS.c.id == killed.id)
        seen.append((await first.count_peers(), _pace(first, "telegram")))
        return seen

    assert asyncio.run(run()) == [(1, 30.0), (2, 15.0), (3, 10.0), (1, 30.0)]
    with service.database.transaction() as connection:
        assert connection.execute(select(DISPATCHERS.c.id)).scalars().all() == [first.id], "the killed one's row is gone"


def test_running_dispatchers_find_each_other_and_the_last_one_takes_the_whole_limit(service: Any) -> None:
    sms = Recorder("sms")
    limits = {"sms": RateLimit(8)}
    one, two = (Dispatcher(service.database, {"sms": sms}, service.studies, limits, heartbeat_every=0.05, poll_interval=0.05)
                for _ in range(2))

    async def until(check: Callable[[], bool]) -> bool:
        for _ in range(200):
            if check():
                return True
            await asyncio.sleep(0.02)
        return False

    async def run() -> tuple[bool, bool]:
        running = [asyncio.create_task(one.run()), asyncio.create_task(two.run())]
        both = await until(lambda: one.sharing == two.sharing == 2 and _pace(one, "sms") == 4.0)
        await two.stop()
        await running[1]
        alone = await until(lambda: one.sharing == 1 and _pace(one, "sms") == 8.0)
        await one.stop()
        await running[0]
        return both, alone

    assert asyncio.run(run()) == (True, True)
    with service.database.transaction() as connection:
        from storage.peers import DISPATCHERS
        assert connection.execute(select(DISPATCHERS.c.id)).scalars().all() == [], "each left when it stopped"


def test_a_serving_process_dispatches_at_its_share_of_the_limits(tmp_path: Any) -> None:
    from bot.app import create_app
    from bot.settings import Settings
    from bot.webhooks import ChannelHub, install
    from tests.fake_telegram import LocalServer

    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'chorus.db'}", hash_key="k", processes=2)
    app = create_app(settings)
    install(app, ChannelHub.from_env({"TELEGRAM_BOT_TOKEN": "123:abc"}))
    with LocalServer(app):
        sender = app.state.channels.dispatcher
        assert sender.min_share == 2 and sender.sharing == 2 and _pace(sender, "telegram") == 15.0


def test_with_a_backlog_the_dispatcher_claims_more_as_its_sends_finish_not_at_the_next_poll(
    service: Any, say: Callable[..., Any], clock: Any,
) -> None:
    """A broadcast: more queued than it may have in hand. Once half its room is free it claims
    again, so the rate limit's slots are not left unused until the next poll (a minute here)."""
    for n in range(30):
        say("WAIT", address=f"+4477009070{n:02d}")
    sms = Recorder("sms")
    sender = dispatcher(service, clock, sms, max_in_flight=4, batch=8, poll_interval=60, heartbeat_every=60)

    async def run() -> int:
        running = asyncio.create_task(sender.run())
        for _ in range(250):
            if len(sms.sent) == 30:
                break
            await asyncio.sleep(0.02)
        await sender.stop()
        await running
        return len(sms.sent)

    assert asyncio.run(run()) == 30, "all sent within seconds, without waiting for a poll"
