"""``chorus chat --channel``: each message as a participant on SMS, WhatsApp or Telegram gets it.

The rendering is the channels' own: Telegram's inline keyboard (:func:`channels.telegram.keyboard_for`),
shown as ``[ Patient ] [ Carer ]`` rows; WhatsApp's quick replies or list picker where the study's
templates fit the question (:func:`bot.dispatch_rules.interactive_template`), numbered text
otherwise; SMS as numbered text (:func:`channels.base.render_plain`), split into parts as Twilio
sends it (:func:`channels.twilio.split_sms`), each part with a note of its segments and encoding
(``[2 SMS, UCS-2: ŵ]``). The engine is told the channel's keyboards, as the service tells it, so
its hints say "tap" where buttons were shown and "reply" where numbers were.

Typed words are typed words, as on the real channels (the engine reads a button's label typed);
``/tap N`` taps the N-th button of the latest message shown with buttons (``/tap 1 3`` ticks
those of a multiple choice and taps Done; ``/tap Carer`` taps the button of that label). On
Telegram ``/stop``, ``/help``, ``/language cy`` and ``/start`` are read as the channel reads them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot.dispatch_rules import WhatsAppConfig, interactive_template, keyboards_on
from channels.base import OutboundMessage, render_plain
from channels.telegram import keyboard_for, typed_command
from channels.twilio import MAX_SMS_SEGMENTS, split_sms
from flows.events import Button, SendMessage, tap_data
from flows.inputs import Keyboard, TextInput
from flows.model import Study
from flows.sms import count_segments, describe_char, gsm7_reply_words
from flows.words import ENGLISH_OPTIONS, OptionTexts

CHANNELS = ("sms", "whatsapp", "telegram")
VOICE_CHANNELS = frozenset({"telegram", "whatsapp"})
"""The channels that carry voice notes (as ``bot.service.VOICE_CHANNELS``, not imported: it
would load the database layer into ``chorus chat``)."""
TAP_COMMAND = "/tap"
WHATSAPP_MAX, TELEGRAM_MAX = 1600, 4096
"""What one message may carry: Twilio's body limit, Telegram's text limit (each cuts the rest)."""


def button_row(labels: Sequence[str]) -> str:
    return " ".join(f"[ {label} ]" for label in labels)


def sms_note(part: str, number: int, parts: int) -> str:
    """``[2 SMS, UCS-2: ŵ]``: what one SMS part costs, and the first character that made it UCS-2."""
    count = count_segments(part)
    encoding = count.encoding
    if count.forcing is not None:
        shown = count.forcing if count.forcing.isprintable() and not count.forcing.isspace() else describe_char(count.forcing)
        encoding = f"{encoding}: {shown}"
    where = f"part {number} of {parts}: " if parts > 1 else ""
    return f"[{where}{count.segments} SMS, {encoding}]"


@dataclass(frozen=True)
class ChatChannel:
    """One channel as ``chorus chat`` shows it: how its messages look, and how a tap comes back."""

    name: str
    whatsapp: WhatsAppConfig = field(default_factory=WhatsAppConfig)

    @classmethod
    def of(cls, name: str, study: Study | None) -> ChatChannel:
        if name not in CHANNELS:
            raise ValueError(f"unknown channel '{name}': use {', '.join(CHANNELS)}")
        return cls(name, WhatsAppConfig.from_dict(study.whatsapp if study is not None else None))

    @property
    def keyboards(self) -> tuple[Keyboard, ...]:
        """How this channel shows options as buttons, for the engine's hints (as the service says)."""
        return keyboards_on(self.name, self.whatsapp)

    @property
    def voice_notes(self) -> bool:
        return self.name in VOICE_CHANNELS

    def render(self, message: SendMessage, texts: OptionTexts = ENGLISH_OPTIONS) -> list[str]:
        """The message as the participant gets it: one block per message sent (SMS parts apart)."""
        if self.name == "sms":
            return self._sms(message, texts)
        image = ["[image: chart]"] if message.attachment else []  # (sent with the text as its caption)
        if self.name == "telegram":
            keyboard = keyboard_for(OutboundMessage(self.name, "", message.text, message.buttons, message.multiple, option_texts=texts))
            rows = [button_row([b.text for b in row]) for row in keyboard.inline_keyboard] if keyboard else []
            return ["\n".join([*image, message.text[:TELEGRAM_MAX], *rows])]
        chosen = interactive_template(message.buttons, message.multiple, self.whatsapp)
        if chosen is None:
            return ["\n".join([*image, render_plain(message.text, message.buttons, message.multiple, texts)[:WHATSAPP_MAX]])]
        labels = [b.label for b in message.buttons]
        if chosen[0] == "quick_reply":
            return ["\n".join([*image, message.text, button_row(labels)])]
        return ["\n".join([*image, message.text, "[ list ]", *(f"  - {label}" for label in labels)])]

    def _sms(self, message: SendMessage, texts: OptionTexts) -> list[str]:
        text = gsm7_reply_words(render_plain(message.text, message.buttons, message.multiple, texts))
        parts = split_sms(text, MAX_SMS_SEGMENTS)
        return [f"{part}\n{sms_note(part, n, len(parts))}" for n, part in enumerate(parts, start=1)]

    def lines(self, messages: Sequence[SendMessage], texts: OptionTexts = ENGLISH_OPTIONS) -> list[str]:
        return [block for message in messages for block in self.render(message, texts)]

    def shows_buttons(self, message: SendMessage) -> bool:
        """Whether the message's options are buttons to tap here (not numbered text)."""
        if not message.buttons or self.name == "sms":
            return False
        return self.name == "telegram" or interactive_template(message.buttons, message.multiple, self.whatsapp) is not None

    def typed(self, text: str) -> TextInput:
        """A typed line as this channel hands it on: Telegram's commands read as their words."""
        return TextInput(typed_command(text)[0] if self.name == "telegram" else text)

    def tap(self, shown: Sequence[SendMessage], picks: str) -> TextInput:
        """``/tap`` on the latest of ``shown`` with buttons (:func:`_tappable`): by number (from 1) or label; several
        numbers tick a multiple choice and tap Done. ValueError, said plainly, when it cannot be."""
        message = _tappable(shown, self.shows_buttons)
        if message is None:
            there = "SMS has no buttons: type the reply" if self.name == "sms" else "the question asked now has no buttons: type the reply"
            raise ValueError(there)
        chosen = _picked(message.buttons, picks)
        if len(chosen) > 1 and not message.multiple:
            raise ValueError("tap one button: this question takes one answer")
        if self.name == "telegram":  # the callback data, its place and all (Done sends the ticks joined)
            return TextInput.received("", "|".join(tap_data(b)[:64] for b in chosen))
        button = chosen[0]  # a WhatsApp quick reply or list item: its title as Body, its id (the value) as payload
        return TextInput.received(button.label, button.value)


def _tappable(shown: Sequence[SendMessage], with_buttons: Callable[[SendMessage], bool]) -> SendMessage | None:
    """The newest message with buttons, unless a question without them was asked since (its
    hints, "Please tap one of the buttons", leave the keyboard above them to tap)."""
    for message in reversed(shown):
        if with_buttons(message):
            return message
        if message.kind == "prompt":
            return None
    return None


def _picked(buttons: Sequence[Button], picks: str) -> list[Button]:
    words = picks.split()
    if not words:
        raise ValueError(f"say which: {TAP_COMMAND} 1 (the first button) or {TAP_COMMAND} {buttons[0].label}")
    if all(word.isdigit() for word in words):
        numbers = [int(word) for word in words]
        if any(not 1 <= n <= len(buttons) for n in numbers):
            raise ValueError(f"there are {len(buttons)} buttons: {TAP_COMMAND} 1 to {TAP_COMMAND} {len(buttons)}")
        return [buttons[n - 1] for n in dict.fromkeys(numbers)]
    named = [b for b in buttons if b.label.casefold() == picks.strip().casefold()]
    if not named:
        raise ValueError(f"no button reads '{picks.strip()}': {button_row([b.label for b in buttons])}")
    return named[:1]
