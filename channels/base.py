"""The channel contract: what every channel turns a webhook into, and what it sends."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any, Protocol

from flows.events import Button
from flows.sms import sms_text
from flows.words import ENGLISH_OPTIONS, OptionTexts


@dataclass(frozen=True)
class Media:
    url: str
    content_type: str
    size: int | None = None
    provider_id: str | None = None


EDITED = "application/x-chorus-edited"
"""The content type of the one :class:`Media` that marks a message as an edit of one sent
before (Telegram's ``edited_message``). The edit is never read as an answer (the participant
is told how to change one instead); its words ride on the mark until the service reads them
once, for STOP, START and words of risk, and then strips them (bot/edit_notices.py)."""


def is_edit(media: Sequence[Media] | Sequence[dict[str, Any]]) -> bool:
    """Whether a message's media (as sent, or as stored) mark it as an edit."""
    return any((m.get("content_type") if isinstance(m, dict) else m.content_type) == EDITED for m in media)


_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: str) -> bool:
    return "\x00" not in value and (value.isascii() or not _SURROGATE.search(value))


@dataclass(frozen=True)
class InboundMessage:
    """One message from a participant, as every channel reports it."""

    channel: str
    """telegram, whatsapp, sms, web or cli."""
    address: str
    """The participant's address on the channel: a phone number, chat id or web session id."""
    provider_id: str
    """The provider's id for the message; unique per channel, so a retried webhook is a no-op."""
    text: str = ""
    button: str | None = None
    media: tuple[Media, ...] = ()
    received_at: datetime | None = None
    start_param: str | None = None
    """A Telegram /start parameter or an SMS/WhatsApp join keyword."""
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        """Drop NUL characters, whichever channel let them in: PostgreSQL cannot store them in
        text, and they mean nothing in a message. A lone UTF-16 surrogate (JSON may escape half
        a pair, ``"\\ud83d"``) cannot be written as UTF-8 by either database: it becomes U+FFFD."""
        for name in ("address", "provider_id", "text", "button", "start_param"):
            value = getattr(self, name)
            if isinstance(value, str) and not _storable(value):
                object.__setattr__(self, name, _SURROGATE.sub("\ufffd", value.replace("\x00", "")))
        if any("\x00" in f"{m.url}{m.content_type}{m.provider_id or ''}" for m in self.media):
            object.__setattr__(self, "media", tuple(
                replace(m, url=m.url.replace("\x00", ""), content_type=m.content_type.replace("\x00", ""),
                        provider_id=m.provider_id.replace("\x00", "") if m.provider_id else m.provider_id) for m in self.media))


@dataclass(frozen=True)
class Attachment:
    """An image to send with a message's text (a Delphi feedback chart).

    Telegram uploads ``data``; Twilio (WhatsApp) is given a signed link to ``GET /media/{media_id}``."""

    media_id: int
    content_type: str
    data: bytes = b""
    filename: str = "chart.png"


@dataclass(frozen=True)
class OutboundMessage:
    channel: str
    address: str
    text: str
    buttons: tuple[Button, ...] = ()
    multiple: bool = False
    outbox_id: int | None = None
    attachment: Attachment | None = None
    """Sent as a photo with the text as its caption on channels with images; ignored on SMS."""
    delivery_key: str | None = None
    """The same on every attempt to send one outbox row, so a provider that deduplicates by
    key (an ``Idempotency-Key`` header) delivers a message resent after a crash only once."""
    option_texts: OptionTexts = ENGLISH_OPTIONS
    """How options and the Done button read in the participant's language (see :func:`render_plain`)."""


@dataclass(frozen=True)
class Capabilities:
    """What a channel can render.

    How it shows a question's options is not a number here: Telegram shows every question's
    options as buttons (``channels.telegram.KEYBOARD``), WhatsApp as each study's quick-reply and
    list-picker templates fit (``bot.dispatch_rules``), SMS as numbered text; the engine's hints
    are told which by :func:`bot.dispatch_rules.keyboards_on`."""

    max_length: int = 4096
    voice: bool = False
    images: bool = False


class Channel(Protocol):
    name: str
    capabilities: Capabilities

    async def send(self, message: OutboundMessage) -> str:
        """Send; return the provider's message id. Raise a ``SendError``."""
        ...


class SendError(Exception):
    def __init__(self, message: str, retryable: bool, code: str | None = None) -> None:
        super().__init__(message)
        self.retryable = retryable
        self.code = code


def render_plain(text: str, buttons: tuple[Button, ...], multiple: bool = False, texts: OptionTexts = ENGLISH_OPTIONS) -> str:
    """Options as text, for channels without buttons (SMS, the terminal), in the words of
    ``texts`` (the participant's language): :func:`flows.sms.sms_text`, the one way it is
    done, which ``chorus validate`` also counts SMS segments on."""
    return sms_text(text, buttons, multiple, texts)
