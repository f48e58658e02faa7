"""What the Telegram webhook checks about a tap (or a typed "done") with the service, around
storing its message (bot/webhooks.py, :func:`bot.webhooks.handle_telegram`):

* before: a tap that changes only a multiple choice's keyboard is checked against the question
  asked now (bot/tap_checks.py). One on the keyboard of a question answered already ticks nothing:
  it is told so and the keyboard removed (:func:`channels.telegram.stale_tick`); one past the
  limit is refused (:func:`channels.telegram.refuse_tick`); one of an option that goes alone clears
  the other ticks, and the other way round (:func:`channels.telegram.exclusive_tick`). A typed
  "done" sends its ticks only while their question is the one asked (:func:`typed_done`);
  otherwise it goes as typed, its keyboard left as it is.
  A check that cannot be made (the database out of reach) lets a tick go as tapped, and a "done" as typed;
* after: a tap on the buttons of a question answered already is told so, whether it was processed
  as it was stored (:data:`bot.tap_checks.STALE_TAP`) or only stored, in a burst, for the inbox
  worker (read from the conversation as it is). Each tap's query is answered, but the notice goes
  to a chat at most once at a time (:class:`TapNotices`): the other stale taps of a burst (a
  double tap) are answered without words.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from starlette.concurrency import run_in_threadpool

from bot.service import ReceiveResult
from bot.tap_checks import STALE_TAP, StaleTick, TickRules
from channels import telegram
from channels.base import InboundMessage
from flows.inputs import TextInput

log = logging.getLogger("chorus.webhooks")
T = TypeVar("T")


class TapNotices:
    """The chats whose stale tap is being told now (its notice read, its query being answered):
    the other stale taps of that chat meanwhile, a burst, are answered without words. Kept in this
    process, as :class:`channels.telegram.Ticks` are. A claim never released (a task that died)
    lapses after :attr:`LAPSE` seconds."""

    LAPSE = 30.0

    def __init__(self) -> None:
        self._telling: dict[int, float] = {}

    def claim(self, chat_id: int) -> bool:
        """True, and the chat's notice is this tap's to give, unless another tap of the chat has it."""
        now = time.monotonic()
        if self._telling.get(chat_id, now) > now:
            return False
        if len(self._telling) > 10_000:
            self._telling = {chat: until for chat, until in self._telling.items() if until > now}
        self._telling[chat_id] = now + self.LAPSE
        return True

    def release(self, chat_id: int) -> None:
        self._telling.pop(chat_id, None)

    def telling(self, chat_id: int) -> bool:
        """Whether a stale tap of the chat is being told now."""
        return self._telling.get(chat_id, 0.0) > time.monotonic()


async def checked(service: Any, parsed: telegram.ParsedUpdate, ticks: telegram.Ticks, notices: TapNotices,
                  reachable: bool) -> telegram.ParsedUpdate:
    """The update as the question asked now takes it (see the module's docstring); ``reachable``:
    whether the database is (not while messages wait in the spool)."""
    if parsed.tick is not None and parsed.callback is not None:
        chat = parsed.callback.chat_id
        found = await _asked(service.tick_check, (telegram.NAME, str(chat), parsed.tick.place), None) if reachable else None
        if isinstance(found, StaleTick):
            return telegram.stale_tick(parsed, found.notice if notices.claim(chat) else "", ticks)
        if isinstance(found, TickRules) and found.alone:  # ("None of these" and the others clear each other)
            parsed = telegram.exclusive_tick(parsed, found.alone, ticks)
        tick = parsed.tick
        if isinstance(found, TickRules) and found.most is not None and tick is not None and tick.adds and tick.ticked > found.most:
            return telegram.refuse_tick(parsed, found.notice, ticks)
        return parsed
    place = typed_done(parsed)
    if place is None or parsed.message is None:
        return parsed
    current = await _asked(service.asks_at, (telegram.NAME, parsed.message.address, place), False) if reachable else False
    return parsed if current else telegram.ParsedUpdate(replace(parsed.message, button=None))


def typed_done(parsed: telegram.ParsedUpdate) -> str | None:
    """For words that said done under a keyboard with ticks (sent as those ticks, no tap to answer):
    the place of the keyboard's question, for the service to confirm it is the one asked now."""
    message, callback = parsed.message, parsed.callback
    if message is None or message.button is None or not message.text or callback is None or callback.query_id:
        return None
    return TextInput.received("", message.button).at


async def told(service: Any, action: telegram.CallbackAction, result: ReceiveResult | None,
               message: InboundMessage | None, notices: TapNotices) -> telegram.CallbackAction:
    """A tapped button's action, with the notice of a tap on a question answered already when
    this tap is the one to give it (:class:`TapNotices`: claimed here, released by :func:`answered`)."""
    if result is None or result.participant_id is None or not action.query_id or message is None or not message.button:
        return action
    if result.status == STALE_TAP:
        read: Callable[..., str | None] = service.tap_notice
        given: tuple[str, ...] = (result.participant_id,)
    elif result.status == "received":  # only stored: the conversation says whether it is stale
        read, given = service.stale_notice, (result.participant_id, TextInput.received("", message.button).at)
    else:
        return action
    if not notices.claim(action.chat_id):
        return action
    notice = await _asked(read, given, None)
    if not notice:
        notices.release(action.chat_id)
        return action
    return replace(action, notice=notice)


async def answered(channel: telegram.TelegramChannel, action: telegram.CallbackAction, notices: TapNotices) -> None:
    """Answer the tap (:meth:`channels.telegram.TelegramChannel.acknowledge`); a notice it gave, given."""
    try:
        await channel.acknowledge(action)
    finally:
        if action.notice and not action.alert:  # (a refused tick's pop-up claims nothing)
            notices.release(action.chat_id)


async def _asked(method: Callable[..., T], args: tuple[Any, ...], otherwise: T) -> T:
    try:
        return await run_in_threadpool(method, *args)
    except Exception as error:  # the database out of reach, say
        log.warning("a tap could not be checked (%s)", type(error).__name__, extra={"event": "telegram.tap_unchecked"})
        return otherwise
