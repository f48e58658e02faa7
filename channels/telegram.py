"""Telegram through python-telegram-bot: parse updates, send with inline keyboards, fetch voice notes.

Webhook and polling feed the same :func:`parse_update`. A tapped button arrives as a
callback query: it is answered (so the client stops spinning) and the keyboard is
removed, so an old question cannot be answered twice. A multiple-choice keyboard
keeps its ticks in the keyboard itself: a tap toggles a tick, and "Done" sends the
ticked values as one answer (``"day|night"``). The ticks are also remembered (:class:`Ticks`)
so that typing "done" instead (or "that's all", "wedi gorffen", the Done button's own label)
sends them just the same, once the service has said that their question is the one asked now
(otherwise the words go as typed: bot/telegram_taps.py). A tap that
only changes the keyboard says so (:class:`Tick`), for the service to check it
(bot/telegram_taps.py): one past the question's limit is refused (:func:`refuse_tick`), the tap
told why and the keyboard left as it was; one on the keyboard of a question answered already
changes nothing (:func:`stale_tick`); one of an option that goes alone ("None of these") clears the
other ticks, and one of another option clears it (:func:`exclusive_tick`). A tap may be answered
with words (:attr:`CallbackAction.notice`): why a tick was refused, or that the question tapped
was answered already (bot/tap_checks.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import re
from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote

import httpx
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, InputFile, Message, Update
from telegram.error import (
    BadRequest,
    Forbidden,
    InvalidToken,
    NetworkError,
    RetryAfter,
    TelegramError,
    TimedOut,
)

from channels.base import EDITED, Capabilities, InboundMessage, Media, OutboundMessage
from channels.errors import ContactStopped, InvalidAddress, ProviderFailed, ServerError, Throttled
from channels.media import MediaTooLarge, fetch_limited
from flows.events import Button, tap_data
from flows.inputs import Keyboard, TextInput
from flows.words import is_done

log = logging.getLogger("chorus.telegram")

NAME = "telegram"
DEFAULT_API_BASE = "https://api.telegram.org"
DONE = "\u2713done"
"""Callback data of the Done button under a multiple-choice keyboard."""
TICK = "\u2713 "
COMMANDS = {"/stop": "STOP", "/help": "HELP", "/language": "LANGUAGE", "/start": "START"}
VOICE_KINDS = ("voice", "audio", "video_note")
"""What Telegram sends that is spoken: transcribed as a voice note (a round video note, its sound;
an audio document too). A caption is kept as the message's text and answers with the transcript,
before it (bot/voice.py)."""
FILE_KINDS = ("photo", "sticker", "animation", "video", "document")
"""What else it sends as a file, even without a caption: recorded (kind and file id; never fetched)
and answered by saying what Chorus can read, without using up a try of the question (flows/engine.py)."""
OTHER_KINDS = ("venue", "location", "contact", "poll", "dice", "game", "story", "invoice", "paid_media", "live_photo",
               "checklist", "giveaway", "passport_data")
"""What else a participant can send that is neither words nor a file: answered as a photo is, and
recorded by its kind alone (never its coordinates, phone number, name or question). A venue first:
it comes with its location."""
ALLOWED_UPDATES = ("message", "edited_message", "callback_query")
"""The updates Chorus asks Telegram for (setWebhook and getUpdates)."""
EDIT_WORDS = "data:text/plain;charset=utf-8,"
"""How an edit's mark starts when it carries what the edit says (:func:`edit_mark`)."""
MAX_CAPTION = 1024
"""sendPhoto's caption limit, in UTF-16 code units (as Telegram counts)."""


class MalformedUpdate(ValueError):
    """The body is not a Telegram update at all."""


@dataclass(frozen=True)
class TelegramSettings:
    token: str
    secret: str | None = None
    api_base: str = DEFAULT_API_BASE

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> TelegramSettings | None:
        """TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET and CHORUS_TELEGRAM_API_BASE; None without a token."""
        env = os.environ if environ is None else environ
        token = env.get("TELEGRAM_BOT_TOKEN", "")
        if not token:
            return None
        return cls(token, env.get("TELEGRAM_WEBHOOK_SECRET") or None, env.get("CHORUS_TELEGRAM_API_BASE") or DEFAULT_API_BASE)


def make_bot(settings: TelegramSettings) -> Bot:
    """A Bot talking to ``api_base`` (the real Bot API, or a local server in tests and staging)."""
    base = settings.api_base.rstrip("/")
    return Bot(settings.token, base_url=f"{base}/bot", base_file_url=f"{base}/file/bot")


@dataclass(frozen=True)
class CallbackAction:
    """What to do with a tapped button: answer the query, and replace or remove the keyboard."""

    query_id: str
    """Empty for a typed "done", which removes the keyboard but answers no tap."""
    chat_id: int
    message_id: int
    keyboard: InlineKeyboardMarkup | None
    notice: str = ""
    """What the tap is told (Telegram shows it over the chat); nothing when empty."""
    alert: bool = False
    """Whether ``notice`` is a pop-up to dismiss, rather than a passing note."""
    edit: bool = True
    """Whether the keyboard is replaced (or removed); False leaves it as it is."""


@dataclass(frozen=True)
class Tick:
    """A tap on a multiple choice's keyboard that changes only the keyboard (a tick, an untick,
    Done with nothing ticked), for the service to check what the channel does not know: whether
    its question is still the one asked (:func:`stale_tick`), and its limit (:func:`refuse_tick`)."""

    place: str
    """Where the tapped button was offered (:attr:`flows.events.Button.at`); empty if it does not say."""
    ticked: int
    """How many options the tap leaves ticked."""
    before: InlineKeyboardMarkup
    """The keyboard as it was before the tap."""
    adds: bool
    """Whether the tap ticks one more option."""
    data: str = ""
    """The tapped button's callback data (empty for Done)."""


@dataclass(frozen=True)
class ParsedUpdate:
    message: InboundMessage | None = None
    callback: CallbackAction | None = None
    tick: Tick | None = None


class Ticks:
    """Each chat's multiple-choice keyboards as the participant's taps left them (the newest
    few per chat), so that a typed "done" can send the newest one's ticks as the Done button does.

    Kept in this process: where several processes share the webhook, a "done" that reaches
    another one than the taps gets the question's usual hint, and the Done button still works."""

    LIMIT = 10_000
    PER_CHAT = 4

    def __init__(self) -> None:
        self._keyboards: dict[int, dict[int, InlineKeyboardMarkup]] = {}

    def remember(self, chat_id: int, message_id: int, keyboard: InlineKeyboardMarkup) -> None:
        if len(self._keyboards) >= self.LIMIT and chat_id not in self._keyboards:
            self._keyboards.clear()
        kept = self._keyboards.setdefault(chat_id, {})
        kept.pop(message_id, None)  # (the newest last)
        kept[message_id] = keyboard
        for old in list(kept)[:-self.PER_CHAT]:
            del kept[old]

    def forget(self, chat_id: int, message_id: int | None = None) -> None:
        """Every keyboard of the chat, or the one of ``message_id``."""
        if message_id is None:
            self._keyboards.pop(chat_id, None)
        else:
            self._keyboards.get(chat_id, {}).pop(message_id, None)

    def done(self, chat_id: int, text: str) -> tuple[int, list[str]] | None:
        """The newest keyboard's message and its ticked values when ``text`` says done and
        something is ticked (the chat's keyboards are then forgotten); None otherwise."""
        kept = self._keyboards.get(chat_id)
        if not kept:
            return None
        message_id, keyboard = next(reversed(kept.items()))
        if not is_done(text, also=[b.text for row in keyboard.inline_keyboard for b in row if b.callback_data == DONE]):
            return None
        ticked = _ticked(keyboard)
        if not ticked:
            return None
        self.forget(chat_id)
        return message_id, ticked


def parse_update(data: Any, bot: Bot, ticks: Ticks | None = None) -> ParsedUpdate:
    """A Telegram update as an inbound message and/or a callback to acknowledge.

    With ``ticks``, taps on a multiple-choice keyboard are remembered there, and a typed
    "done" sends them. An edited message is not read as an answer: it becomes a message marked
    as an edit (:func:`_edit`). Raises MalformedUpdate when ``data`` is not an update; returns an empty
    result for updates Chorus does not use (group messages, service messages such as a pin,
    a live location moving)."""
    if not isinstance(data, dict) or not isinstance(data.get("update_id"), int):
        raise MalformedUpdate("not a Telegram update")
    try:
        update = Update.de_json(data, bot)
    except Exception as error:  # python-telegram-bot trusts the shape: a list for an object is an AttributeError
        raise MalformedUpdate(f"unreadable update: {type(error).__name__}") from None
    provider_id = str(update.update_id)
    if update.callback_query is not None:
        return _parse_callback(update, provider_id, ticks)
    message = update.message or update.edited_message
    if message is None or message.from_user is None or message.chat.type != "private":
        return ParsedUpdate()
    if update.message is None:
        return ParsedUpdate(_edit(message, provider_id))
    parsed = _parse_message(message, provider_id)
    if parsed is not None and ticks is not None and parsed.text and parsed.start_param is None:
        return _typed_done(parsed, ticks) or ParsedUpdate(parsed)
    return ParsedUpdate(parsed)


def _typed_done(message: InboundMessage, ticks: Ticks) -> ParsedUpdate | None:
    """'done' typed under a multiple-choice keyboard with ticks: those ticks, as if Done were
    tapped (the text kept as what was said), and the keyboard removed."""
    chat_id = int(message.address)
    found = ticks.done(chat_id, message.text)
    if found is None:
        return None
    message_id, ticked = found
    tapped = replace(message, button="|".join(ticked))
    return ParsedUpdate(tapped, CallbackAction("", chat_id, message_id, None))


def _parse_message(message: Message, provider_id: str) -> InboundMessage | None:
    address = str(message.chat.id)
    when = message.date.astimezone(UTC) if message.date else None
    text, start_param = _said(message)
    media = _media(message) or _other_kind(message)
    if not text and not media:
        return None  # a service message (a pin, a timer set): nothing was said
    return InboundMessage(NAME, address, provider_id, text=text, media=media, received_at=when, start_param=start_param)


def _said(message: Message) -> tuple[str, str | None]:
    """What a message says (its text, or a photo's caption), a command as its word ('/stop' is
    STOP), and a /start's parameter."""
    return typed_command(message.text or message.caption or "")


def typed_command(text: str) -> tuple[str, str | None]:
    """A message's words with a command as its word ('/stop' is STOP, '/language cy' LANGUAGE cy),
    and a /start's parameter; any other text as it is."""
    if not text.startswith("/"):
        return text, None
    command, _, rest = text.partition(" ")
    word = COMMANDS.get(command.split("@")[0].lower())
    if word is None:
        return text, None
    start_param = rest.strip() or None if word == "START" else None
    return word if word != "LANGUAGE" or not rest.strip() else f"LANGUAGE {rest.strip()}", start_param


def _other_kind(message: Message) -> tuple[Media, ...]:
    """A location, contact, poll or the like, by its kind only: nothing of what it holds is kept."""
    kind = next((kind for kind in OTHER_KINDS if getattr(message, kind, None)), None)
    return (Media(f"telegram:{kind}", f"application/x-telegram-{kind}"),) if kind else ()


def _edit(message: Message, provider_id: str) -> InboundMessage | None:
    """An edit of a message sent before, as a message with no words marked as an edit
    (:data:`channels.base.EDITED`): the answer the message gave stands, and the participant is
    told how to change it. What the edit now says rides on the mark only (:func:`edit_mark`),
    for the service to read once: an opt-out or opt-in word (STOP, /stop, START) is honoured as
    if typed, and words of risk are safeguarded; anything else is then dropped (bot/edit_notices.py).
    Its provider id is the update's, so a retried webhook of one edit is a no-op, and each new
    edit is answered. A live location's moves come as edits of its message: nothing."""
    if message.location is not None:
        return None
    stamp = message.edit_date or message.date
    when = stamp.astimezone(UTC) if stamp else None
    return InboundMessage(NAME, str(message.chat.id), provider_id, media=(edit_mark(_said(message)[0]),), received_at=when)


def edit_mark(said: str) -> Media:
    """The mark of an edit, carrying what the edit says (if anything) as a ``data:`` URL (RFC 2397):
    kept out of the message's text, so the edit is not read as an answer."""
    return Media(EDIT_WORDS + quote(said, safe="") if said else "telegram:edited", EDITED)


def _media(message: Message) -> tuple[Media, ...]:
    for kind in VOICE_KINDS:
        item = getattr(message, kind)
        if item is not None:  # a video note's MP4 is read for its sound: audio, so that it is transcribed
            content_type = "audio/mp4" if kind == "video_note" else getattr(item, "mime_type", None) or "audio/ogg"
            return (Media(f"telegram-file:{item.file_id}", content_type, item.file_size, provider_id=item.file_id),)
    for kind in FILE_KINDS:
        found = getattr(message, kind)
        item = found[-1] if isinstance(found, tuple) and found else found  # (a photo comes in sizes, the largest last)
        if item:
            return (Media(f"telegram-file:{item.file_id}", _content_type(kind, item), item.file_size, provider_id=item.file_id),)
    return ()


def _content_type(kind: str, item: Any) -> str:
    if kind == "sticker":
        return "application/x-tgsticker" if item.is_animated else "video/webm" if item.is_video else "image/webp"
    declared = getattr(item, "mime_type", None)
    return str(declared) if declared else {"photo": "image/jpeg", "document": "application/octet-stream"}.get(kind, "video/mp4")


def _parse_callback(update: Update, provider_id: str, ticks: Ticks | None = None) -> ParsedUpdate:
    query = update.callback_query
    assert query is not None
    source = query.message
    if source is None or not isinstance(source, Message) or query.data is None:
        return ParsedUpdate()  # too old for Telegram to show us the message: nothing to edit
    chat_id, data = source.chat.id, query.data
    keyboard = source.reply_markup
    at = datetime.now(UTC)
    if keyboard is not None and _is_multiple(keyboard):
        ticked = _ticked(keyboard)
        if data != DONE or not ticked:
            toggled = _toggle(keyboard, data) if data != DONE else keyboard
            if ticks is not None and data != DONE:
                ticks.remember(chat_id, source.message_id, toggled)
            count, place = len(_ticked(toggled)), TextInput.received("", _option_data(keyboard)).at
            tick = Tick(place, count, keyboard, count > len(ticked), data if data != DONE else "")
            return ParsedUpdate(None, CallbackAction(query.id, chat_id, source.message_id, toggled), tick)
        data = "|".join(ticked)
        if ticks is not None:  # answered with Done: that keyboard's ticks are sent
            ticks.forget(chat_id, source.message_id)
    elif ticks is not None:  # another question's button tapped: past the multiple choices
        ticks.forget(chat_id)
    message = InboundMessage(NAME, str(chat_id), provider_id, button=data, received_at=at)
    return ParsedUpdate(message, CallbackAction(query.id, chat_id, source.message_id, None))


def refuse_tick(parsed: ParsedUpdate, notice: str, ticks: Ticks | None = None) -> ParsedUpdate:
    """A tick past the question's limit, refused: the tap is told ``notice`` in a pop-up, and the
    keyboard is left as it was (and remembered so, for a typed "done")."""
    assert parsed.callback is not None and parsed.tick is not None
    before = parsed.tick.before
    action = replace(parsed.callback, keyboard=before, notice=notice, alert=True, edit=False)
    if ticks is not None:
        ticks.remember(action.chat_id, action.message_id, before)
    return ParsedUpdate(None, action)


def exclusive_tick(parsed: ParsedUpdate, alone: Collection[str], ticks: Ticks | None = None) -> ParsedUpdate:
    """A tick at a question whose options ``alone`` (values) go alone ("None of these"), as apps
    do: ticking one of them clears every other tick; ticking another option clears theirs. The
    keyboard sent back (and remembered, for a typed "done") is the one so cleared; an untick, or a
    tick that clears nothing, is left as it was tapped."""
    assert parsed.callback is not None and parsed.tick is not None
    tick, keyboard = parsed.tick, parsed.callback.keyboard
    if not tick.adds or not tick.data or keyboard is None:
        return parsed
    sole = {tap_data(Button("", value, tick.place))[:64] for value in alone}
    cleared = _untick(keyboard, lambda data: data != tick.data and (tick.data in sole or data in sole))
    if _ticked(cleared) == _ticked(keyboard):
        return parsed
    if ticks is not None:
        ticks.remember(parsed.callback.chat_id, parsed.callback.message_id, cleared)
    return replace(parsed, callback=replace(parsed.callback, keyboard=cleared), tick=replace(tick, ticked=len(_ticked(cleared))))


def stale_tick(parsed: ParsedUpdate, notice: str, ticks: Ticks | None = None) -> ParsedUpdate:
    """A tap on the keyboard of a question answered already (or moved past): it ticks nothing,
    the tap is told ``notice`` (when not empty), and the keyboard is removed (and forgotten)."""
    assert parsed.callback is not None
    if ticks is not None:
        ticks.forget(parsed.callback.chat_id, parsed.callback.message_id)
    return ParsedUpdate(None, replace(parsed.callback, keyboard=None, notice=notice))


def _ticked(keyboard: InlineKeyboardMarkup) -> list[str]:
    return [b.callback_data for row in keyboard.inline_keyboard for b in row
            if b.text.startswith(TICK) and isinstance(b.callback_data, str)]


def _option_data(keyboard: InlineKeyboardMarkup) -> str:
    """The callback data of the keyboard's first option (its place, the question's)."""
    return next((b.callback_data for row in keyboard.inline_keyboard for b in row
                 if isinstance(b.callback_data, str) and b.callback_data != DONE), "")


def _is_multiple(keyboard: InlineKeyboardMarkup) -> bool:
    return any(b.callback_data == DONE for row in keyboard.inline_keyboard for b in row)


def _toggle(keyboard: InlineKeyboardMarkup, value: str) -> InlineKeyboardMarkup:
    rows = []
    for row in keyboard.inline_keyboard:
        new_row = []
        for b in row:
            text = b.text
            if b.callback_data == value:
                text = text[len(TICK):] if text.startswith(TICK) else TICK + text
            new_row.append(InlineKeyboardButton(text, callback_data=b.callback_data))
        rows.append(new_row)
    return InlineKeyboardMarkup(rows)


def _untick(keyboard: InlineKeyboardMarkup, clears: Callable[[str], bool]) -> InlineKeyboardMarkup:
    """The keyboard with the ticks of the buttons whose callback data ``clears`` says removed."""
    rows = [[InlineKeyboardButton(b.text[len(TICK):], callback_data=b.callback_data)
             if b.text.startswith(TICK) and isinstance(b.callback_data, str) and clears(b.callback_data) else b
             for b in row] for row in keyboard.inline_keyboard]
    return InlineKeyboardMarkup(rows)


KEYBOARD_MOST = 100
"""The most buttons an inline keyboard takes (Telegram's limit)."""
KEYBOARD = Keyboard(KEYBOARD_MOST, multiple=True)
"""How Telegram shows a question's options, for the engine's hints (:class:`flows.inputs.Keyboard`):
every one as a button (:func:`keyboard_for`), whatever its length, a multiple choice with
ticks and Done; the text goes as written, with no numbered lines."""


def keyboard_for(message: OutboundMessage) -> InlineKeyboardMarkup | None:
    """One button per row for words, up to five per row for a numeric scale."""
    if not message.buttons:
        return None
    buttons = [InlineKeyboardButton(b.label, callback_data=tap_data(b)[:64]) for b in message.buttons]
    short = all(len(b.label) <= 3 for b in message.buttons)
    rows = [buttons[i:i + 5] for i in range(0, len(buttons), 5)] if short else [[b] for b in buttons]
    if message.multiple:
        rows.append([InlineKeyboardButton(message.option_texts.done, callback_data=DONE)])
    return InlineKeyboardMarkup(rows)


def fits_caption(text: str) -> bool:
    return len(text.encode("utf-16-le")) // 2 <= MAX_CAPTION


class TelegramChannel:
    name = NAME
    capabilities = Capabilities(max_length=4096, voice=True, images=True)

    def __init__(self, bot: Bot) -> None:
        self.bot = bot
        self.ticks = Ticks()
        """Multiple-choice ticks by chat, for a typed "done" (pass to :func:`parse_update`)."""
        self._ready = False
        self._photo_sent: set[int | None] = set()
        """Outbox rows whose photo went but whose text did not: a retry sends the text alone."""

    def _remember_photo(self, outbox_id: int | None) -> None:
        if outbox_id is not None:
            if len(self._photo_sent) > 10_000:
                self._photo_sent.clear()
            self._photo_sent.add(outbox_id)

    async def _initialised(self) -> Bot:
        if not self._ready:
            await self.bot.initialize()
            self._ready = True
        return self.bot

    async def send(self, message: OutboundMessage) -> str:
        """Send one message; its provider id is Telegram's ``message_id`` (of the message with the
        keyboard), unique within the chat. Not the chat id: that is the participant's address,
        kept only sealed with their contact (a provider id is stored in plain text).

        An attachment goes with sendPhoto, the text as its caption and the keyboard under it;
        a text too long for a caption follows the photo as its own message, with the keyboard."""
        bot = await self._initialised()
        chat, keyboard, attachment = int(message.address), keyboard_for(message), message.attachment
        try:
            if attachment is not None and attachment.data:
                photo = InputFile(attachment.data, filename=attachment.filename)
                if fits_caption(message.text):
                    sent = await bot.send_photo(chat, photo, caption=message.text or None, reply_markup=keyboard)
                    return str(sent.message_id)
                if message.outbox_id is None or message.outbox_id not in self._photo_sent:
                    await bot.send_photo(chat, photo)
                    self._remember_photo(message.outbox_id)
            sent = await bot.send_message(chat, message.text[:4096], reply_markup=keyboard)
            self._photo_sent.discard(message.outbox_id)
        except TelegramError as error:
            raise send_error(error) from None
        return str(sent.message_id)

    async def acknowledge(self, action: CallbackAction) -> None:
        """Answer a tapped button (with its notice, if it has one), then remove (or update) its
        keyboard unless it is to stay as it is. Failures are harmless."""
        bot = await self._initialised()
        try:
            if action.query_id:  # none for a typed "done": no tap to answer
                await bot.answer_callback_query(action.query_id, text=action.notice[:200] or None, show_alert=action.alert or None)
            if action.edit:
                await bot.edit_message_reply_markup(action.chat_id, action.message_id, reply_markup=action.keyboard)
        except TelegramError:
            pass  # the query expired or the message was deleted: nothing to tidy up

    async def download(self, file_id: str, max_bytes: int | None = None, timeout: float = 30) -> bytes:
        """The bytes of a voice note (or any file) by its file_id, through getFile; MediaTooLarge
        when getFile's size or the bytes streamed pass ``max_bytes``, before the download completes."""
        bot = await self._initialised()
        found = await bot.get_file(file_id)
        if max_bytes is not None and found.file_size is not None and found.file_size > max_bytes:
            raise MediaTooLarge(max_bytes, found.file_size)
        if not found.file_path or not found.file_path.startswith(("http://", "https://")):
            return bytes(await found.download_as_bytearray())  # a local Bot API server's file
        async with httpx.AsyncClient(timeout=timeout) as http:
            return await fetch_limited(http, found.file_path, max_bytes)

    async def close(self) -> None:
        if self._ready:
            await self.bot.shutdown()
            self._ready = False


_CHAT_ID = re.compile(r"(?<![\w.])-?\d{6,}(?![\w.])")
"""A chat or user id in an error's words: Telegram's ids run to 6 digits and more, its error codes and seconds less."""


def send_error(error: TelegramError) -> Exception:
    """A Telegram error as one of the catalogue's send errors, any chat id in its words as
    ``[CHAT]``: the words are stored with the message and logged, and an id is an address."""
    words = _CHAT_ID.sub("[CHAT]", error.message)
    if isinstance(error, RetryAfter):
        return Throttled("telegram: too many requests", _seconds(error.retry_after), "429")
    if isinstance(error, Forbidden):
        return ContactStopped(f"telegram: {words}", "403")
    if isinstance(error, BadRequest):
        lowered = words.lower()
        if "chat not found" in lowered or "user not found" in lowered:
            return InvalidAddress(f"telegram: {words}", "400")
        return ProviderFailed(f"telegram: {words}", "400")
    if isinstance(error, TimedOut | NetworkError):  # the message may have arrived all the same: no key to tell
        return ServerError(f"telegram: {type(error).__name__}: {words}")
    return ProviderFailed(f"telegram: {words}")


async def poll(
    channel: TelegramChannel, handle: Callable[[dict[str, Any]], Awaitable[object]], stopping: asyncio.Event, timeout: int = 25,
) -> None:
    """Long-poll getUpdates (for a laptop without a public URL) and hand each update to ``handle``.

    The webhook is deleted first: Telegram refuses getUpdates while one is set. Telegram out of
    reach is tried again (and logged); a token Telegram refuses is logged and polling stops; an
    update that fails to be handled is logged and the next one goes on."""
    bot = None
    while bot is None and not stopping.is_set():
        try:
            bot = await channel._initialised()
            await bot.delete_webhook()
        except (InvalidToken, Forbidden) as error:
            log.error("Telegram polling stopped: Telegram refused the bot token (%s); check TELEGRAM_BOT_TOKEN",
                      type(error).__name__, extra={"event": "telegram.polling_stopped"})
            return
        except TelegramError as error:
            bot = None
            log.warning("Telegram polling cannot reach Telegram yet (%s); trying again in 10 s", type(error).__name__,
                        extra={"event": "telegram.polling_waiting"})
            await _pause(stopping, 10.0)
    offset: int | None = None
    while bot is not None and not stopping.is_set():
        try:
            updates = await bot.get_updates(offset=offset, timeout=timeout, allowed_updates=list(ALLOWED_UPDATES))
        except RetryAfter as error:
            await _pause(stopping, _seconds(error.retry_after))
            continue
        except (TimedOut, NetworkError):
            await _pause(stopping, 2.0)
            continue
        for update in updates:
            offset = update.update_id + 1
            try:
                await handle(update.to_dict())
            except Exception:  # one bad update must not stop the channel; its message id says which
                log.exception("Telegram update %s could not be handled", update.update_id,
                              extra={"event": "telegram.update_failed"})


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


def _seconds(value: Any) -> float:
    """RetryAfter.retry_after is an int or a timedelta depending on PTB's settings."""
    return float(value.total_seconds()) if hasattr(value, "total_seconds") else float(value)
