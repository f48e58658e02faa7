"""``chorus outbox retry``: messages that failed for good (a wrong TWILIO_ACCOUNT_SID on the first
day: Twilio's 401, error 20003) go again once the setting is fixed, once each and in order;
never to someone who opted out or blocked us, nor after an erasure, nor a question the
conversation has moved past. On SQLite and PostgreSQL, through the CLI and the fake Twilio."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, update

from bot.cli import cli
from bot.commands.outbox import retry_failed
from bot.dispatch_rules import (
    ALREADY_ASKED,
    CANNOT_RECEIVE,
    NO_LONGER_CURRENT,
    SAID_STOP,
    STOPPED_AT_PROVIDER,
    TEXT_GONE,
    error_code,
    why_not_again,
)
from bot.dispatcher import Dispatcher, RateLimit
from channels import twilio
from channels.errors import ContactStopped, InvalidAddress, ProviderFailed
from storage.outbox import FailedMessage, queue_again
from storage.tables import AUDIT_EVENTS, OUTBOUND
from tests.channel_helpers import provider_env
from tests.fake_twilio import FakeTwilio
from tests.test_dispatcher import Recorder

SMS, WHATSAPP = "+447700900123", "+447700900456"
BAD_CREDENTIALS = lambda: ProviderFailed("twilio 401 error 20003", "20003")  # noqa: E731


def statuses(service: Any) -> list[tuple[int, str, str, str | None]]:
    o = OUTBOUND.c
    with service.database.transaction() as connection:
        return [tuple(r) for r in connection.execute(select(o.id, o.channel, o.status, o.delivery_key).order_by(o.id))]  # type: ignore[misc]


def run_cli(url: str, *options: str) -> str:
    result = CliRunner().invoke(cli, ["outbox", "retry", "--database", url, "--by", "ops", *options])
    assert result.exit_code == 0, result.output
    return result.output


def test_after_fixing_the_account_sid_the_first_questions_go_once_in_order_and_replies_make_sense(
    service: Any, say: Callable[..., Any], clock: Any, fake_twilio: FakeTwilio, migrated_database_url: str,
) -> None:
    """The operator's day one: the SID is a digit short, so the first question to an SMS and a
    WhatsApp participant fails (401, error 20003). They fix it and run the command: the
    questions go, once, and the SMS participant's YES answers the question they now have."""
    clock.now = datetime.now(UTC)  # the command counts --since from now
    env = provider_env(twilio=fake_twilio, twilio_url=fake_twilio.url)

    def channels(sid: str) -> dict[str, Any]:
        settings = twilio.TwilioSettings.from_env({**env, "TWILIO_ACCOUNT_SID": sid})
        assert settings is not None
        client = twilio.make_client(settings)
        return {name: twilio.TwilioChannel(name, settings, client) for name in ("sms", "whatsapp")}

    def dispatch(sid: str) -> None:
        fast = {"sms": RateLimit(100), "whatsapp": RateLimit(100)}
        asyncio.run(Dispatcher(service.database, channels(sid), service.studies, fast, clock=clock).drain())

    say("WAIT", address=SMS)
    say("WAIT", address=WHATSAPP, channel="whatsapp")
    dispatch(fake_twilio.account_sid[:-1])  # one digit short
    assert [s for _, _, s, _ in statuses(service)] == ["failed", "failed"] and fake_twilio.messages == []
    first_keys = [key for *_, key in statuses(service)]

    assert run_cli(migrated_database_url, "--error-code", "20003", "--dry-run").splitlines() == [
        "would queue again 2 failed messages queued in the last 24h with error code 20003: sms 1, whatsapp 1",
        "nothing changed (--dry-run)",
    ]
    assert [s for _, _, s, _ in statuses(service)] == ["failed", "failed"]
    output = run_cli(migrated_database_url, "--error-code", "20003")
    assert output.splitlines()[0] == "queued again 2 failed messages queued in the last 24h with error code 20003: sms 1, whatsapp 1"
    assert run_cli(migrated_database_url).splitlines() == ["no failed messages queued in the last 24h"], "once"
    dispatch(fake_twilio.account_sid)
    assert [s for _, _, s, _ in statuses(service)] == ["sent", "sent"]
    assert all(key and key not in first_keys for *_, key in statuses(service)), "new delivery keys: a provider may remember the old"
    assert len(fake_twilio.bodies_to(SMS)) == 1 and "YES" in fake_twilio.bodies_to(SMS)[0]
    assert len(fake_twilio.bodies_to("whatsapp:" + WHATSAPP)) == 1
    say("YES", address=SMS)
    dispatch(fake_twilio.account_sid)
    assert "Which best describes you?" in fake_twilio.bodies_to(SMS)[-1], "the reply answered the question they received"
    with service.database.transaction() as connection:
        audit = connection.execute(select(AUDIT_EVENTS.c.actor, AUDIT_EVENTS.c.detail).where(AUDIT_EVENTS.c.action == "outbox_retried")).all()
    assert [(actor, detail["queued"]) for actor, detail in audit] == [("cli:ops", {"sms": 1, "whatsapp": 1})]


def _fail(service: Any, clock: Any, channel: str, error: Exception) -> None:
    """Dispatch what is queued on ``channel``, every send failing with ``error``."""
    recorder = Recorder(channel, [error] * 20)  # type: ignore[list-item]
    limits = {channel: RateLimit(1000, 1000)}
    asyncio.run(Dispatcher(service.database, {channel: recorder}, service.studies, limits, clock=clock).drain())


def test_never_again_to_someone_who_stopped_blocked_us_or_was_erased_nor_a_question_moved_past(
    service: Any, say: Callable[..., Any], clock: Any,
) -> None:
    people = {name: f"+4477009002{n:02d}" for n, name in enumerate(["ok", "stopped", "unsubscribed", "invalid", "erased", "answered",
                                                                    "old"])}
    for address in people.values():
        say("WAIT", address=address)
    say("/start wait", address="4242", channel="telegram")
    failures = {"unsubscribed": ContactStopped("twilio 400 error 21610", "21610"),
                "invalid": InvalidAddress("twilio 400 error 21211", "21211")}
    first = {name: _first_row(service, address) for name, address in people.items()}
    o = OUTBOUND.c
    for name in people:  # one at a time, each with its own failure
        with service.database.transaction() as connection:
            connection.execute(update(OUTBOUND).where(o.status == "queued", o.channel == "sms").values(status="held"))
            connection.execute(update(OUTBOUND).where(o.id == first[name]).values(status="queued"))
        _fail(service, clock, "sms", failures.get(name) or BAD_CREDENTIALS())
    _fail(service, clock, "telegram", ContactStopped("telegram: Forbidden: bot was blocked by the user", "403"))
    say("STOP", address=people["stopped"])
    service.erase_person(say("hi", address=people["erased"]).participant_id, "test", "coordinator")
    say("yes", address=people["answered"])  # (consent given without having seen it: the session moved on)
    old = first["old"]
    with service.database.transaction() as connection:
        connection.execute(update(OUTBOUND).where(OUTBOUND.c.id == old).values(created_at=clock.now - timedelta(days=3)))
        report = retry_failed(connection, clock(), "test", timedelta(hours=24), dry_run=True)
    assert dict(report.queued) == {"sms": 1}, "only the one whose failure is fixed"
    assert dict(report.left) == {SAID_STOP: 3, CANNOT_RECEIVE: 1, NO_LONGER_CURRENT: 1}, "stop, 21610 (opted out by it), 403"
    with service.database.transaction() as connection:
        assert dict(retry_failed(connection, clock(), "test", timedelta(days=4), code="21211").queued) == {"sms": 1}
        again = retry_failed(connection, clock(), "test", timedelta(days=4))
    assert dict(again.queued) == {"sms": 2}, "the fixed one and the old one; the invalid address was queued by its code"
    with service.database.transaction() as connection:
        assert queue_again(connection, [old]) == [], "already queued: not twice"


def _first_row(service: Any, address: str) -> int:
    pid = service.participant_for("sms", address)
    with service.database.transaction() as connection:
        return int(connection.execute(select(OUTBOUND.c.id).where(OUTBOUND.c.participant_id == pid).order_by(OUTBOUND.c.id)).scalars().first())


def test_one_question_failed_twice_goes_once_and_not_after_it_got_through(service: Any, say: Callable[..., Any], clock: Any) -> None:
    pid = say("WAIT", address=SMS).participant_id
    _fail(service, clock, "sms", BAD_CREDENTIALS())
    o = OUTBOUND.c
    with service.database.transaction() as connection:  # its reminder failed too
        prompt = connection.execute(select(OUTBOUND).where(o.participant_id == pid)).mappings().one()
        reminder = {k: v for k, v in prompt.items() if k not in ("id",)} | {"kind": "reminder", "created_at": clock()}
        connection.execute(OUTBOUND.insert().values(**reminder))
        report = retry_failed(connection, clock(), "test", timedelta(days=1), dry_run=True)
        assert (dict(report.queued), dict(report.left)) == ({"sms": 1}, {ALREADY_ASKED: 1})
        connection.execute(update(OUTBOUND).where(o.kind == "reminder").values(status="sent"))  # the reminder got through
        report = retry_failed(connection, clock(), "test", timedelta(days=1), dry_run=True)
    assert (dict(report.queued), dict(report.left)) == ({}, {ALREADY_ASKED: 1})


@pytest.mark.parametrize("database_kind", ["postgresql"], indirect=True)  # (SQLite has one writer at a time: nothing runs at once)
def test_two_operators_at_once_queue_each_message_again_once(service: Any, say: Callable[..., Any], clock: Any) -> None:
    for n in range(10):
        say("WAIT", address=f"+4477009003{n:02d}")
    _fail(service, clock, "sms", BAD_CREDENTIALS())
    barrier, totals = threading.Barrier(2), []

    def operator() -> None:
        with service.database.transaction() as connection:
            barrier.wait()
            totals.append(sum(retry_failed(connection, clock.now, "test", timedelta(days=1)).queued.values()))

    threads = [threading.Thread(target=operator) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sum(totals) == 10 and {status for _, _, status, _ in statuses(service)} == {"queued"}


FAILED = FailedMessage(1, "p-1", "sms", "prompt", "ProviderFailed: twilio 401 error 20003 (code 20003)", 1, "consent", False, False)


@pytest.mark.parametrize(("change", "code", "why"), [
    ({}, None, None),
    ({"stopped": True}, None, SAID_STOP),
    ({"error": "ContactStopped: twilio 400 error 21610 (code 21610)"}, None, STOPPED_AT_PROVIDER),
    ({"error": "undelivered (code 21610)"}, None, STOPPED_AT_PROVIDER),
    ({"error": "undelivered (code 30004)"}, "30004", STOPPED_AT_PROVIDER),
    ({"channel": "telegram", "error": "ContactStopped: telegram: Forbidden: bot was blocked by the user (code 403)"}, None,
     STOPPED_AT_PROVIDER),
    ({"channel": "telegram", "error": "failed (code 403)"}, None, STOPPED_AT_PROVIDER),
    ({"error": "InvalidAddress: twilio 400 error 21211 (code 21211)"}, None, CANNOT_RECEIVE),
    ({"error": "InvalidAddress: twilio 400 error 21211 (code 21211)"}, "21211", None),
    ({"error": "undelivered (code 30003)"}, None, CANNOT_RECEIVE),
    ({"blank": True}, None, TEXT_GONE),
    ({"error": "ServerError: twilio 503 (code 503)"}, None, None),
    ({"error": "interrupted while sending, too many times"}, None, None),
])
def test_which_failures_may_go_again(change: dict[str, Any], code: str | None, why: str | None) -> None:
    assert why_not_again(replace(FAILED, **change), code) == why


def test_the_error_code_is_read_from_the_end_of_the_error() -> None:
    assert error_code("ProviderFailed: twilio 401 error 20003 (code 20003)") == "20003"
    assert error_code("failed (code 30007)") == "30007"
    assert error_code("ServerError: twilio: ConnectTimeout") is None and error_code(None) is None


def test_a_since_that_is_not_a_duration_is_one_clear_line(migrated_database_url: str) -> None:
    result = CliRunner().invoke(cli, ["outbox", "retry", "--database", migrated_database_url, "--since", "yesterday"])
    assert result.exit_code == 2 and "'yesterday' is not a duration" in result.output


def test_the_held_page_offers_to_send_failed_messages_again(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import re

    from storage.tables import Outbound
    from tests.desk_helpers import add_held, desk_app

    monkeypatch.setenv("CHORUS_SCHEDULER", "off")
    with desk_app(tmp_path) as desk:
        pid, _ = desk.join("ae-waiting")
        add_held(desk.database, "ae-waiting", pid, "quiet hours")
        with desk.database.session() as session:
            held = session.get(Outbound, 1)
            assert held is not None
            session.add(Outbound(**{**held.model_dump(exclude={"id"}), "channel": "sms", "kind": "info", "status": "failed",
                                    "error": "ProviderFailed: twilio 401 error 20003 (code 20003)"}))

        def log_in(role: str) -> str:
            desk.client.cookies.clear()
            token = desk.token(role, ("ae-waiting",), name=f"a {role}")
            assert desk.client.post("/login", data={"token": token}, follow_redirects=False).status_code == 303
            found = re.search(r'name="csrf-token" content="([^"]+)"', desk.client.get("/dashboard").text)
            assert found
            return found.group(1)

        held_url = "/dashboard/studies/ae-waiting/held"
        csrf = log_in("analyst")
        page = desk.client.get(held_url).text
        assert "1 message has failed for good (sms 1)" in page and "retry-failed" not in page, "read-only: no button"
        assert desk.client.post(held_url + "/retry-failed", data={"csrf": csrf}).status_code == 403
        csrf = log_in("coordinator")
        assert "retry-failed" in desk.client.get(held_url).text
        assert desk.client.post(held_url + "/retry-failed", data={"csrf": "wrong"}).status_code == 403
        done = desk.client.post(held_url + "/retry-failed", data={"csrf": csrf}, follow_redirects=False)
        assert done.status_code == 303 and done.headers["location"].endswith("/held?retried=1")
        page = desk.client.get(done.headers["location"]).text
        assert "1 failed message queued again." in page and "None to send again." in page
        with desk.database.transaction() as connection:
            o = OUTBOUND.c
            assert connection.execute(select(o.status).where(o.channel == "sms")).scalars().all() == ["queued"]
            actors = connection.execute(select(AUDIT_EVENTS.c.actor).where(AUDIT_EVENTS.c.action == "outbox_retried")).scalars().all()
        assert actors == ["token:2:a coordinator"], "who did it, in the audit log"
