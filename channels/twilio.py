"""SMS and WhatsApp through Twilio: signed webhooks in, the Messages API out.

Addresses are stored without Twilio's ``whatsapp:`` prefix; the channel name says which
network it is. Options go out as numbered text; on WhatsApp a message may instead use a
Twilio content template (quick replies, list pickers, or an approved template outside
the 24-hour window), chosen by the dispatcher and passed in as :class:`Content`.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import json
import os
import re
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime

import httpx
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioException, TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response
from twilio.request_validator import RequestValidator, compare
from twilio.rest import Client

from channels.base import Capabilities, InboundMessage, Media, OutboundMessage, render_plain
from channels.errors import ContactStopped, InvalidAddress, ProviderFailed, ServerError, Throttled
from channels.media import fetch_limited
from channels.media_links import MediaLinks
from flows.sms import count_segments, gsm7_reply_words

DEFAULT_API_BASE = "https://api.twilio.com"
WHATSAPP_PREFIX = "whatsapp:"
STOPPED_CODES = {"21610", "30004", "63024"}
"""Unsubscribed (STOP at the carrier), blocked, and WhatsApp's 'recipient blocked'."""
INVALID_CODES = {"21211", "21614", "21612", "30003", "30005", "30006", "63003"}
OUTSIDE_WINDOW = "63016"
"""WhatsApp: free-form message outside the 24-hour window."""
OPT_OUT_TYPES = {"STOP": "STOP", "START": "START"}
"""Twilio's ``OptOutType`` on an inbound message (Advanced Opt-Out on: a keyword the coordinator
set in Twilio's console, say in Welsh) as the word Chorus obeys. HELP is left to the Body."""
VCARD_TYPES = ("text/vcard", "text/x-vcard", "text/directory")
"""A contact card's content types. Like a shared location (``Latitude``, ``Longitude``,
``Address``, ``Label``), it is answered as a photo is and recorded by its kind alone: no
coordinates, address, name or number is kept, nor the card's link."""
MAX_SMS_SEGMENTS = 3
MAX_CAPTION = 1024
"""WhatsApp's limit on the text sent with an image."""


class MalformedWebhook(ValueError):
    """A form that is not a Twilio message webhook."""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str
    auth_token: str
    sms_from: str | None = None
    messaging_service_sid: str | None = None
    whatsapp_from: str | None = None
    public_url: str | None = None
    api_base: str = DEFAULT_API_BASE
    sms_rate: float = 1.0
    """Messages per second per SMS sender (a long code manages about 1/s)."""
    whatsapp_rate: float = 20.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TwilioSettings | None:
        env = os.environ if environ is None else environ
        sid, token = env.get("TWILIO_ACCOUNT_SID", ""), env.get("TWILIO_AUTH_TOKEN", "")
        if not sid or not token:
            return None
        service = env.get("TWILIO_MESSAGING_SERVICE_SID") or None
        default_sms_rate = "10" if service else "1"
        return cls(
            sid, token, env.get("TWILIO_SMS_FROM") or None, service, env.get("TWILIO_WHATSAPP_FROM") or None,
            env.get("CHORUS_PUBLIC_URL") or None, env.get("CHORUS_TWILIO_API_BASE") or DEFAULT_API_BASE,
            float(env.get("CHORUS_TWILIO_SMS_RATE") or default_sms_rate), float(env.get("CHORUS_TWILIO_WHATSAPP_RATE") or "20"),
        )

    def webhook_url(self, path: str) -> str | None:
        return self.public_url.rstrip("/") + path if self.public_url else None


_DELIVERY_KEY: ContextVar[str | None] = ContextVar("chorus_delivery_key", default=None)


class KeyedHttpClient(TwilioHttpClient):
    """Sends the delivery key of the message being created as an ``Idempotency-Key`` header.

    Twilio uses this header on some newer APIs; its Messages API does not document it today
    (an unknown header is ignored), so a message resent after a crash may reach Twilio
    twice. A provider, relay or fake that deduplicates by key delivers it once.

    Its connection pool holds a connection for each sending thread (:data:`SENDING_THREADS`):
    the library's own holds ``cpu count + 4`` for https (10 for http), so on a small machine
    most sends found the pool full, discarded their connection and opened (and TLS-handshook)
    a new one for the next message."""

    def __init__(self, timeout: float | None = None) -> None:
        super().__init__(timeout=timeout)
        if self.session is not None:
            for scheme in ("https://", "http://"):
                self.session.mount(scheme, HTTPAdapter(pool_connections=4, pool_maxsize=SENDING_THREADS))

    def request(
        self, method: str, url: str, params: dict[str, object] | None = None, data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None, auth: tuple[str, str] | None = None, timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        key = _DELIVERY_KEY.get()
        if key is not None and method.upper() == "POST":
            headers = {**(headers or {}), "Idempotency-Key": key}
        return super().request(method, url, params, data, headers, auth, timeout, allow_redirects)


def make_client(settings: TwilioSettings) -> Client:
    """A REST client pointed at ``api_base`` (Twilio itself, or a local server)."""
    client = Client(settings.account_sid, settings.auth_token, http_client=KeyedHttpClient(timeout=15))
    client.api.base_url = settings.api_base.rstrip("/")
    return client


@functools.lru_cache(maxsize=8)
def _validator(auth_token: str) -> RequestValidator:
    return RequestValidator(auth_token)


def signature_valid(auth_token: str, url: str, form: Mapping[str, str], signature: str | None) -> bool:
    """The twilio library's check. The signature for exactly ``url`` is computed first: that
    is what Twilio signs when ``CHORUS_PUBLIC_URL`` is right, and one HMAC instead of the two
    of ``validate`` (which also tries the URL with and without its port) on the hot path."""
    if not signature:
        return False
    validator, params = _validator(auth_token), _Params(form)
    return compare(validator.compute_signature(url, params), signature) or validator.validate(url, params, signature)


class _Params(dict[str, str]):
    """The form as the validator reads it fastest. For each field it asks for ``getall`` (a
    Flask MultiDict), then ``getlist`` (Django's QueryDict), then indexes a plain dict: two
    exceptions per field of a plain dict, most of the check's cost. One value per name."""

    __slots__ = ()

    def getall(self, name: str) -> list[str]:
        return [self[name]]


# ----------------------------------------------------------------------------- inbound


def channel_of(address: str) -> str:
    return "whatsapp" if address.startswith(WHATSAPP_PREFIX) else "sms"


def bare(address: str) -> str:
    return address[len(WHATSAPP_PREFIX):] if address.startswith(WHATSAPP_PREFIX) else address


def parse_message(form: Mapping[str, str]) -> InboundMessage:
    """A Twilio message webhook (SMS or WhatsApp) as an inbound message."""
    sid, sender = form.get("MessageSid", ""), form.get("From", "")
    if not re.fullmatch(r"[SM]M[0-9a-fA-F]{32}", sid) or not sender:
        raise MalformedWebhook("MessageSid or From missing")
    try:
        count = int(form.get("NumMedia") or 0)
    except ValueError:
        raise MalformedWebhook("NumMedia is not a number") from None
    media = []
    for i in range(min(count, 10)):
        url, content_type = form.get(f"MediaUrl{i}"), form.get(f"MediaContentType{i}")
        if url and content_type and _is_vcard(content_type):
            media.append(Media("twilio:contact", content_type))  # a contact card: not even where it can be fetched
        elif url and content_type:
            media.append(Media(url, content_type, provider_id=url.rsplit("/", 1)[-1]))
    button = form.get("ButtonPayload") or form.get("ListId") or None
    channel, text = channel_of(sender), form.get("Body", "")
    opted = OPT_OUT_TYPES.get(form.get("OptOutType", "").strip().upper())
    if opted is not None:  # Twilio's Advanced Opt-Out matched a keyword: Chorus agrees, whatever the Body
        text, button, media = opted, None, []
    elif form.get("Latitude") or form.get("Longitude") or form.get("MessageType", "").lower() == "location":
        text, media = "", [Media("twilio:location", "application/x-whatsapp-location")]
    elif channel == "whatsapp" and media and all(_is_vcard(m.content_type) for m in media):
        text = ""  # WhatsApp contact cards carry no caption: a Body would be the card's own words
    return InboundMessage(channel, bare(sender), sid, text=text, button=button, media=tuple(media), received_at=datetime.now(UTC))


def _is_vcard(content_type: str) -> bool:
    return content_type.split(";")[0].strip().lower() in VCARD_TYPES


@dataclass(frozen=True)
class StatusReport:
    channel: str
    provider_id: str
    status: str
    error_code: str | None


def parse_status(form: Mapping[str, str]) -> StatusReport:
    sid, status = form.get("MessageSid", ""), form.get("MessageStatus", "")
    if not sid or not status:
        raise MalformedWebhook("MessageSid or MessageStatus missing")
    channel = channel_of(form.get("To", "") or form.get("From", ""))
    return StatusReport(channel, sid, status.lower(), form.get("ErrorCode") or None)


async def fetch_media(settings: TwilioSettings, url: str, timeout: float = 30, max_bytes: int | None = None) -> bytes:
    """A voice note's bytes, fetched with the account's credentials (Twilio redirects to storage);
    MediaTooLarge past ``max_bytes``, before the download completes."""
    async with httpx.AsyncClient(auth=(settings.account_sid, settings.auth_token), follow_redirects=True, timeout=timeout) as http:
        return await fetch_limited(http, url, max_bytes)


# ----------------------------------------------------------------------------- outbound


@dataclass(frozen=True)
class Content:
    """A Twilio content template and its variables (quick reply, list picker or approved template)."""

    sid: str
    variables: dict[str, str] = field(default_factory=dict)


def split_sms(text: str, max_segments: int = MAX_SMS_SEGMENTS) -> list[str]:
    """Split a long text at sentence (then line, then word) boundaries into parts of at most
    ``max_segments`` SMS segments each, so no part arrives cut mid-sentence."""
    if count_segments(text).segments <= max_segments:
        return [text]
    split = re.split(r"((?<=[.!?])[ \t]+|[ \t]*\n\s*)", text)
    pieces = [(piece, _kept_break(gap)) for piece, gap in zip(split[::2], [" ", *split[1::2]], strict=True) if piece]
    parts: list[str] = []
    current = ""
    for piece, gap in pieces:  # each piece joined by the break it had: options stay one a line
        joined = f"{current}{gap}{piece}" if current else piece
        if count_segments(joined).segments <= max_segments:
            current = joined
            continue
        if current:
            parts.append(current)
        current = piece
        while count_segments(current).segments > max_segments:  # one enormous sentence: cut at a word
            words, head = current.split(" "), ""
            while words and count_segments(f"{head} {words[0]}".strip()).segments <= max_segments:
                head = f"{head} {words.pop(0)}".strip()
            if not head:
                head, words = current[:150], [current[150:]]
            parts.append(head)
            current = " ".join(words)
    if current:
        parts.append(current)
    return parts


def _kept_break(gap: str) -> str:
    """How two pieces of a long SMS are joined in one part: by a space after a sentence, and by
    the line break (or blank line) between them otherwise, so numbered options stay one a line."""
    lines = gap.count("\n")
    return " " if lines == 0 else "\n" * min(lines, 2)


class TwilioChannel:
    """SMS or WhatsApp: the same API, two senders."""

    def __init__(self, name: str, settings: TwilioSettings, client: Client | None = None, media_links: MediaLinks | None = None) -> None:
        if name not in ("sms", "whatsapp"):
            raise ValueError(f"unknown Twilio channel {name}")
        self.name = name
        self.settings = settings
        self.client = client or make_client(settings)
        self.media_links = media_links
        """Signs the MediaUrl of an image on WhatsApp; without it (or a public URL) images are left out."""
        self.capabilities = Capabilities(max_length=1600, voice=name == "whatsapp", images=name == "whatsapp")
        self._media_sent: set[int | None] = set()
        """Outbox rows whose image went on its own but whose text did not (yet)."""

    def _sender(self) -> dict[str, str]:
        s = self.settings
        if self.name == "whatsapp":
            if not s.whatsapp_from:
                raise ProviderFailed("TWILIO_WHATSAPP_FROM is not set", "config")
            return {"from_": WHATSAPP_PREFIX + bare(s.whatsapp_from)}
        if s.messaging_service_sid:
            return {"messaging_service_sid": s.messaging_service_sid}
        if not s.sms_from:
            raise ProviderFailed("TWILIO_SMS_FROM or TWILIO_MESSAGING_SERVICE_SID is not set", "config")
        return {"from_": s.sms_from}

    async def send(self, message: OutboundMessage, content: Content | None = None) -> str:
        """Send (in parts at sentence boundaries on SMS, Chorus's own Welsh reply words without
        the to bach where that spares a segment: :func:`flows.sms.gsm7_reply_words`); returns the
        last part's MessageSid.

        On WhatsApp an attachment goes as ``media_url`` (a signed link Twilio fetches), with
        the text as its caption when it fits; otherwise, or before a content template, the
        image goes first on its own. SMS never carries images (no MMS): the text stands alone."""
        to = WHATSAPP_PREFIX + message.address if self.name == "whatsapp" else message.address
        base: dict[str, str | list[str]] = {"to": to, **self._sender()}
        callback = self.settings.webhook_url("/webhooks/twilio/status")
        if callback:
            base["status_callback"] = callback
        key = message.delivery_key
        media_url = self._media_url(message)
        text = render_plain(message.text, message.buttons, message.multiple, message.option_texts)
        if media_url is not None:
            if content is None and len(text) <= MAX_CAPTION:
                return await self._create({**base, "body": text, "media_url": [media_url]}, key)
            if message.outbox_id not in self._media_sent:  # a retry after the image went sends the rest alone
                await self._create({**base, "media_url": [media_url]}, f"{key}.media" if key else None)
                self._remember_media(message.outbox_id)
        if content is not None:
            variables = json.dumps(content.variables, ensure_ascii=False)
            sid = await self._create({**base, "content_sid": content.sid, "content_variables": variables}, key)
            self._media_sent.discard(message.outbox_id)
            return sid
        parts = split_sms(gsm7_reply_words(text)) if self.name == "sms" else [text[:1600]]
        sid = ""
        for number, part in enumerate(parts):
            sid = await self._create({**base, "body": part}, f"{key}.{number}" if key and number else key)
        self._media_sent.discard(message.outbox_id)
        return sid

    def _remember_media(self, outbox_id: int | None) -> None:
        if outbox_id is not None:
            if len(self._media_sent) > 10_000:
                self._media_sent.clear()
            self._media_sent.add(outbox_id)

    def _media_url(self, message: OutboundMessage) -> str | None:
        links, attachment = self.media_links, message.attachment
        if self.name != "whatsapp" or attachment is None or links is None or not links.public_url:
            return None
        return links.url(attachment.media_id)

    async def _create(self, values: dict[str, str | list[str]], key: str | None = None) -> str:
        token = _DELIVERY_KEY.set(key)
        try:
            call = functools.partial(contextvars.copy_context().run, self.client.messages.create, **values)
            created = await asyncio.get_running_loop().run_in_executor(_sending(), call)
        except TwilioRestException as error:
            raise send_error(error) from None
        except TwilioException as error:
            raise ServerError(f"twilio: {type(error).__name__}") from None
        except OSError as error:  # connection refused, reset, timed out (requests wraps these)
            raise ServerError(f"twilio: {type(error).__name__}") from None
        finally:
            _DELIVERY_KEY.reset(token)
        return str(created.sid)


SENDING_THREADS = 16
"""Threads for Twilio's (blocking) REST calls, shared by SMS and WhatsApp: a send that hangs
for its whole timeout holds one of these, never a thread the webhooks' or the database's work
needs (asyncio's default pool is a handful of threads on a small machine)."""
_sending_pool: ThreadPoolExecutor | None = None


def _sending() -> ThreadPoolExecutor:
    global _sending_pool
    if _sending_pool is None:
        _sending_pool = ThreadPoolExecutor(SENDING_THREADS, thread_name_prefix="chorus-twilio")
    return _sending_pool


def send_error(error: TwilioRestException) -> Exception:
    code = str(error.code) if error.code is not None else None
    text = f"twilio {error.status}" + (f" error {code}" if code else "")
    if error.status == 429 or code == "20429":
        return Throttled(text, None, code or "429")
    if code in STOPPED_CODES:
        return ContactStopped(text, code)
    if code in INVALID_CODES:
        return InvalidAddress(text, code)
    if error.status >= 500:
        return ServerError(text, code)
    return ProviderFailed(text, code)
