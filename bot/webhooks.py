"""Provider webhooks (Telegram, Twilio SMS/WhatsApp and Twilio delivery status) and the
channels' lifespan: building the channels, running the outbox dispatcher and, on a laptop,
Telegram long polling.

Every inbound message is stored (``ConversationService.accept``) before the webhook is
answered, and only that: the inbox worker (bot/inbox.py) processes it afterwards, so a
webhook is answered quickly however large the backlog. A forged request is refused with
403 before anything is stored. While the database is unreachable, a message is kept in the
encrypted spool on local disk instead (bot/spool.py) and the webhook still answered as usual.
Logs name participants only by their pseudonymous id, never by number or message text.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
import os
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any
from urllib.parse import unquote_plus

from fastapi import APIRouter, BackgroundTasks, FastAPI, HTTPException, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from bot import log_safety, metrics, telegram_taps
from bot.app import tasks_of
from bot.dispatch_rules import TemplateResends
from bot.dispatcher import DEFAULT_LIMITS, Dispatcher, RateLimit, SendingChannel, record_status
from bot.inbox import InboxWorker, InboxWriter
from bot.outage import is_database_error
from bot.service import ReceiveResult
from bot.spool import Spool, SpoolReplayer, spool_folder
from bot.tasks import SEND_OUTBOX, TRANSCRIBE_VOICE, register
from bot.telegram_taps import TapNotices
from channels import telegram, twilio
from channels.base import InboundMessage
from storage.database import WriterBusy

log = logging.getLogger("chorus.webhooks")
INLINE_BATCH = 64
"""Webhook batches up to this size are processed as they are stored (bot/inbox.py, InboxWriter)."""
SQLITE_STORE_WAIT = 10.0
"""Seconds a webhook waits on SQLite for its message to be stored before it is spooled instead
(bot/inbox.py, InboxWriter ``give_up_after``): another process may hold the write lock for up
to the busy timeout (storage/database.py, 30 s), past Twilio's 15-second webhook timeout."""
EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


@dataclass
class ChannelHub:
    """The configured channels and the dispatcher that sends through them."""

    telegram_settings: telegram.TelegramSettings | None = None
    twilio_settings: twilio.TwilioSettings | None = None
    telegram: telegram.TelegramChannel | None = None
    sending: dict[str, SendingChannel] = field(default_factory=dict)
    limits: dict[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    embedded_dispatcher: bool = True
    telegram_polling: bool = False
    outbox_lease: float | None = None
    """Seconds before a row left ``sending`` by a dead process is sent again (Dispatcher.stale_after)."""
    template_resends: TemplateResends = field(default_factory=TemplateResends)
    """When an unanswered WhatsApp template is followed by another (Dispatcher.template_resends)."""
    dispatcher: Dispatcher | None = None
    inbox: InboxWorker | None = None
    intake: InboxWriter | None = None
    spool: Spool | None = None
    """Where messages wait while the database is unreachable (bot/spool.py)."""
    replayer: SpoolReplayer | None = None
    store_wait: float = SQLITE_STORE_WAIT
    tap_notices: TapNotices = field(default_factory=TapNotices)
    """Which Telegram chats' stale tap is being told now (bot/telegram_taps.py)."""
    """On SQLite: seconds a webhook waits for its message to be stored before spooling it."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> ChannelHub:
        env = os.environ if environ is None else environ
        hub = cls(telegram.TelegramSettings.from_env(env), twilio.TwilioSettings.from_env(env))
        tg, tw = hub.telegram_settings, hub.twilio_settings
        log_safety.install(dict(env), [tg.token if tg else None, tg.secret if tg else None, tw.auth_token if tw else None])
        hub.embedded_dispatcher = env.get("CHORUS_DISPATCHER", "embedded").lower() != "off"
        hub.telegram_polling = env.get("CHORUS_TELEGRAM_POLLING", "").lower() in ("1", "true", "yes")
        hub.outbox_lease = float(env["CHORUS_OUTBOX_LEASE"]) if env.get("CHORUS_OUTBOX_LEASE") else None
        hub.template_resends = TemplateResends.from_env(env)
        if env.get("CHORUS_TELEGRAM_RATE"):  # a bot granted more than Telegram's default 30 messages a second
            hub.limits["telegram"] = RateLimit(float(env["CHORUS_TELEGRAM_RATE"]), DEFAULT_LIMITS["telegram"].per_address)
        if hub.telegram_settings is not None:
            hub.telegram = telegram.TelegramChannel(telegram.make_bot(hub.telegram_settings))
            hub.sending["telegram"] = hub.telegram
        if tw is not None:
            client = twilio.make_client(tw)
            if tw.sms_from or tw.messaging_service_sid:
                hub.sending["sms"] = twilio.TwilioChannel("sms", tw, client)
            if tw.whatsapp_from:
                hub.sending["whatsapp"] = twilio.TwilioChannel("whatsapp", tw, client)
            hub.limits["sms"] = RateLimit(tw.sms_rate)
            hub.limits["whatsapp"] = RateLimit(tw.whatsapp_rate)
        return hub


def hub_of(request: Request) -> ChannelHub:
    hub: ChannelHub = request.app.state.channels
    return hub


@asynccontextmanager
async def channels_lifespan(app: FastAPI) -> AsyncIterator[None]:
    """Runs inside the app's own lifespan (after ``app.state.chorus`` is set)."""
    hub: ChannelHub = getattr(app.state, "channels", None) or ChannelHub.from_env()
    app.state.channels = hub
    chorus = app.state.chorus
    whatsapp = hub.sending.get("whatsapp")
    if isinstance(whatsapp, twilio.TwilioChannel) and whatsapp.media_links is None and hub.twilio_settings is not None:
        from bot.media import media_links

        whatsapp.media_links = media_links(app, hub.twilio_settings.public_url)
    if hub.dispatcher is None:
        # (with --processes N, each dispatcher keeps to at least 1/N of every limit from the start)
        hub.dispatcher = Dispatcher(chorus.database, hub.sending, chorus.studies, hub.limits, min_share=chorus.settings.processes,
                                    address_key=chorus.settings.address_key(), template_resends=hub.template_resends)
        if hub.outbox_lease is not None:
            hub.dispatcher.stale_after = timedelta(seconds=hub.outbox_lease)
    if hub.inbox is None:
        hub.inbox = InboxWorker(chorus.database, chorus.service, lambda result: _after(app, result))
    if hub.intake is None:
        hub.intake = InboxWriter(chorus.service, process_up_to=INLINE_BATCH, behind=hub.inbox.behind,
                                  on_loop=chorus.database.is_sqlite, give_up_after=hub.store_wait,
                                  on_late=lambda results: _replayed(app, results))
    if hub.spool is None:
        hub.spool = Spool(spool_folder(chorus.settings), chorus.database.sealer)
    app.state.spool = hub.spool  # its depth, for /ready and /metrics
    hub.replayer = SpoolReplayer(hub.spool, chorus.service.accept_many, lambda results: _replayed(app, results))
    tasks: list[asyncio.Task[None]] = [asyncio.create_task(hub.inbox.run(), name="chorus-inbox"),
                                       asyncio.create_task(hub.replayer.run(), name="chorus-spool")]
    stopping = asyncio.Event()
    queue = tasks_of(app)
    # Distributed (CHORUS_QUEUE_URL): `chorus worker` processes send; this one only enqueues.
    if hub.embedded_dispatcher and hub.sending and not queue.distributed:
        register(queue, SEND_OUTBOX, hub.dispatcher.nudge)
        tasks.append(asyncio.create_task(hub.dispatcher.run(), name="chorus-dispatcher"))
    if hub.telegram_polling and hub.telegram is not None:
        tasks.append(asyncio.create_task(
            telegram.poll(hub.telegram, lambda data: handle_telegram(app, data), stopping), name="chorus-telegram-polling"))
    try:
        yield
    finally:
        stopping.set()
        await hub.replayer.stop()
        await hub.intake.stop()
        await hub.inbox.stop()
        await hub.dispatcher.stop()
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        if hub.telegram is not None:
            await hub.telegram.close()


router = APIRouter(lifespan=channels_lifespan)
"""No routes: it brings the channels' lifespan to the app. The webhooks are direct routes (install)."""


def install(app: FastAPI, hub: ChannelHub | None = None) -> None:
    """Add the webhooks (and the dispatcher's lifespan) to an app; ``hub`` overrides the environment.
    The webhooks are the request layer's direct routes (bot/middleware.py): the hot path."""
    if hub is not None:
        app.state.channels = hub
    app.include_router(router)
    app.state.direct_routes.update({
        "/webhooks/telegram": telegram_webhook, "/webhooks/twilio": twilio_webhook, "/webhooks/twilio/status": twilio_status})


INBOX_HEADER = "X-Chorus-Inbox"
"""On a webhook's answer: what became of its message. ``received`` (stored; the inbox worker
will process it), ``awaiting_transcript``, ``duplicate`` (a retry), or the outcome of
processing it in the storing transaction (``processed``, ``joined``, ``not_enrolled``, ``stale_tap``...), or
``spooled`` (the database was unreachable: kept on local disk, stored once it is back)."""


async def _receive(request: Request | FastAPI, message: InboundMessage) -> ReceiveResult:
    """Store the message (and, under light load, process it: bot/inbox.py)."""
    app = request.app if isinstance(request, Request) else request
    hub: ChannelHub = app.state.channels
    if hub.spool is not None and hub.spool.pending:  # earlier messages wait there: this one goes behind them
        return await _spool(hub, message)
    result: ReceiveResult | None = None
    busy = False
    try:
        if hub.intake is not None:
            result = await hub.intake.store(message)
        else:
            result = await run_in_threadpool(app.state.chorus.service.accept, message)
    except WriterBusy:  # SQLite's write lock not had in time (bot/inbox.py): spooled, as in an outage
        if hub.spool is None:
            raise
        busy = True
    except Exception as error:
        if hub.spool is None or not is_database_error(error):
            raise
    if result is None:  # unreachable or busy (spooled outside the except: its SQL is not chained to a failure here)
        return await _spool(hub, message, busy)
    metrics.MESSAGES_IN.labels(message.channel).inc()
    # DEBUG: one line per message is too many at the rates a study reaches; /metrics counts them
    log.debug("%s message %s from %s: %s", message.channel, result.inbound_id, result.participant_id, result.status,
              extra={"event": "message.received", "channel": message.channel, "inbound_id": result.inbound_id,
                     "participant_id": result.participant_id, "status": result.status})
    if result.status == "received" and hub.inbox is not None:
        hub.inbox.nudge()
    _after(app, result)
    return result


async def _spool(hub: ChannelHub, message: InboundMessage, busy: bool = False) -> ReceiveResult:
    """Keep the message on local disk (synced) for the replayer to store: the webhook may then
    answer as usual. ``busy``: the database answers, but its write lock was not had in time."""
    assert hub.spool is not None
    if not hub.spool.pending and busy:
        log.warning("the database is busy (another writer held it for over %.0f s): inbound messages are kept in the "
                    "encrypted spool until it is free", hub.store_wait, extra={"event": "spool.started"})
    elif not hub.spool.pending:
        log.warning("the database is unreachable: inbound messages are kept in the encrypted spool until it is back",
                    extra={"event": "spool.started"})
    await hub.spool.keep(message)
    metrics.MESSAGES_IN.labels(message.channel).inc()
    return ReceiveResult("spooled")


def _replayed(app: FastAPI, results: list[ReceiveResult]) -> None:
    """Spooled messages are stored: the inbox worker processes them, as any stored message."""
    for result in results:
        _after(app, result)
    hub: ChannelHub = app.state.channels
    if hub.inbox is not None:
        hub.inbox.nudge()


def _after(app: FastAPI, result: ReceiveResult) -> None:
    """What follows a stored or processed message: hand the background work (sending its
    replies, transcribing its voice note) to the task queue, this process's or the workers'."""
    queue = tasks_of(app)
    try:
        if result.outbox_ids:
            queue.enqueue(SEND_OUTBOX)
        if result.status == "awaiting_transcript" and result.inbound_id is not None:
            queue.enqueue(TRANSCRIBE_VOICE, result.inbound_id)  # bot/voice.py, here or in a worker
    except Exception as error:  # the message and its replies are committed: answer 200, not a retry to no avail
        metrics.error("broker")
        log.error("could not hand inbound %s's work to the task queue (%s): its replies go at the dispatchers' next "
                  "poll; a voice note is picked up by a voice worker within a minute",
                  result.inbound_id, type(error).__name__, extra={"event": "queue.unavailable", "inbound_id": result.inbound_id})


# ----------------------------------------------------------------------------- Telegram


async def handle_telegram(app: FastAPI, data: Any, background: BackgroundTasks | None = None) -> ReceiveResult | None:
    """One update, from the webhook or from polling. Raises MalformedUpdate for garbage.
    What became of its message, if it carried one. A tap (or a typed "done") is checked with
    the service before its message is stored, and told why it answered nothing after (bot/telegram_taps.py)."""
    hub: ChannelHub = app.state.channels
    assert hub.telegram is not None
    service = app.state.chorus.service
    parsed = telegram.parse_update(data, hub.telegram.bot, hub.telegram.ticks)
    if parsed.tick is not None or telegram_taps.typed_done(parsed) is not None:
        reachable = hub.spool is None or not hub.spool.pending
        parsed = await telegram_taps.checked(service, parsed, hub.telegram.ticks, hub.tap_notices, reachable)
    result = await _receive(app, parsed.message) if parsed.message is not None else None
    if parsed.callback is not None:
        action = await telegram_taps.told(service, parsed.callback, result, parsed.message, hub.tap_notices)
        if background is not None:
            background.add_task(telegram_taps.answered, hub.telegram, action, hub.tap_notices)
        else:
            await telegram_taps.answered(hub.telegram, action, hub.tap_notices)
    return result


async def telegram_webhook(request: Request) -> Response:
    """POST /webhooks/telegram: one update, checked against the secret token."""
    hub = hub_of(request)
    settings = hub.telegram_settings
    if hub.telegram is None or settings is None:
        raise HTTPException(404, "Telegram is not configured")
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not settings.secret or not hmac.compare_digest(given.encode(), settings.secret.encode()):
        metrics.error("signature")
        log.warning("telegram webhook refused: secret missing or wrong", extra={"event": "webhook.refused", "channel": "telegram"})
        raise HTTPException(403, "bad secret token")
    try:
        data = await request.json()
    except (ValueError, RecursionError):  # (RecursionError: arrays or objects nested thousands deep)
        metrics.error("malformed")
        raise HTTPException(400, "the body is not JSON") from None
    background = BackgroundTasks()
    try:
        result = await handle_telegram(request.app, data, background)
    except telegram.MalformedUpdate as error:
        metrics.error("malformed")
        log.warning("telegram webhook ignored: %s", error, extra={"event": "webhook.malformed", "channel": "telegram"})
        raise HTTPException(400, str(error)) from None
    headers = {INBOX_HEADER: result.status} if result is not None else None
    return JSONResponse({"ok": True}, headers=headers, background=background)


# ----------------------------------------------------------------------------- Twilio


async def _signed_form(request: Request) -> dict[str, str]:
    """The form, if Twilio signed it for this URL; otherwise 403."""
    settings = hub_of(request).twilio_settings
    if settings is None:
        raise HTTPException(404, "Twilio is not configured")
    values = await _form_values(request)
    path = request.scope["path"]  # (request.url builds a whole URL object: only needed without CHORUS_PUBLIC_URL)
    url = settings.webhook_url(path) or str(request.url)
    if not twilio.signature_valid(settings.auth_token, url, values, request.headers.get("X-Twilio-Signature")):
        metrics.error("signature")
        log.warning("twilio webhook refused at %s: signature missing or wrong", path,
                    extra={"event": "webhook.refused", "channel": "twilio"})
        raise HTTPException(403, "bad signature")
    # NUL means nothing in a form field and PostgreSQL cannot hold it, even as a query parameter.
    return {key.replace("\x00", ""): value.replace("\x00", "") for key, value in values.items()}


async def _form_values(request: Request) -> dict[str, str]:
    """The posted form's fields (the last value of a repeated name, as before). Twilio posts
    ``application/x-www-form-urlencoded``, which the standard library parses several times
    faster than Starlette's general form parser; anything else still goes through that."""
    if request.headers.get("content-type", "").split(";")[0].strip().lower() == "application/x-www-form-urlencoded":
        body = await request.body()
        return urlencoded(body.decode("utf-8", "replace"))
    form = await request.form()
    return {key: str(value) for key, value in form.multi_items()}


def urlencoded(text: str) -> dict[str, str]:
    """``dict(parse_qsl(text, keep_blank_values=True))``, decoding only what is encoded: most of
    a webhook's fields have nothing to decode (a third less of the webhook's parsing time)."""
    values = {}
    for pair in text.split("&"):
        if not pair:
            continue
        key, _, value = pair.partition("=")
        values[unquote_plus(key) if "%" in key or "+" in key else key] = (
            unquote_plus(value) if "%" in value or "+" in value else value)
    return values


async def twilio_webhook(request: Request) -> Response:
    """POST /webhooks/twilio: an SMS or WhatsApp message. Answered with empty TwiML: replies go through the outbox."""
    form = await _signed_form(request)
    try:
        message = twilio.parse_message(form)
    except twilio.MalformedWebhook as error:
        metrics.error("malformed")
        log.warning("twilio webhook rejected: %s", error, extra={"event": "webhook.malformed", "channel": "twilio"})
        raise HTTPException(400, str(error)) from None
    result = await _receive(request, message)
    return Response(EMPTY_TWIML, media_type="application/xml", headers={INBOX_HEADER: result.status})


async def twilio_status(request: Request) -> Response:
    """POST /webhooks/twilio/status: a delivery status callback. Unknown or malformed reports are acknowledged and ignored
    (Twilio would otherwise retry them)."""
    form = await _signed_form(request)
    try:
        report = twilio.parse_status(form)
    except twilio.MalformedWebhook as error:
        metrics.error("malformed")
        log.warning("twilio status ignored: %s", error, extra={"event": "webhook.malformed", "channel": "twilio"})
        return Response(status_code=204)
    chorus = request.app.state.chorus
    await run_in_threadpool(record_status, chorus.database, report, None, chorus.settings.address_key)
    return Response(status_code=204)
