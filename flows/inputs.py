"""What the engine is given, one at a time: something the participant typed, tapped or said
(:class:`TextInput`), a question's time running out (:class:`Timeout`) or a reminder
(:class:`Resume`); and how a reply's global word (STOP, DELETE MY DATA...) is read once."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, replace

from flows.events import Button
from flows.parsing import parse_yes_no
from flows.words import Words, erasure_reply


@dataclass(frozen=True)
class Keyboard:
    """One way a channel shows a question's options as buttons to tap, with no numbers beside
    them: for a question of up to ``most`` options (exactly ``count``, when set), each label at
    most ``longest`` characters (any, when None), a multiple choice only when ``multiple``.
    Telegram's inline keyboard takes every question; WhatsApp's quick replies and list pickers
    only those the study's content templates fit (bot/dispatch_rules.py). A question no
    keyboard fits goes out as numbered text (flows.sms.sms_text)."""

    most: int
    longest: int | None = None
    count: int | None = None
    multiple: bool = False

    def fits(self, buttons: Sequence[Button], multiple: bool) -> bool:
        if not buttons or (multiple and not self.multiple):
            return False
        if (len(buttons) != self.count) if self.count is not None else len(buttons) > self.most:
            return False
        return self.longest is None or all(len(button.label) <= self.longest for button in buttons)


def shows_buttons(keyboards: Sequence[Keyboard], buttons: Sequence[Button], multiple: bool = False) -> bool:
    """Whether a question with these options is shown as buttons on a channel with ``keyboards``."""
    return any(keyboard.fits(buttons, multiple) for keyboard in keyboards)


@dataclass(frozen=True)
class TextInput:
    """Something the participant typed, tapped or said."""

    text: str
    button: str | None = None
    source: str = "text"
    """text, button or voice."""
    confidence: float | None = None
    at: str = ""
    """For a tap: where the conversation was when its button was offered (:attr:`Button.at`), if the channel says."""
    voice_notes: bool = False
    """Whether the sender's channel carries voice notes (the service says so for Telegram and
    WhatsApp; SMS and the simulator do not): read only for a message without words, whose reply
    says what we can read."""
    keyboards: tuple[Keyboard, ...] = ()
    """How the sender's channel shows options as buttons (the service says so: Telegram, the web
    simulator, WhatsApp with quick-reply or list-picker templates); none where options go out as
    numbered text (SMS). Read for the hints after an unclear reply: "Please tap one of the
    buttons, or reply Mother or Midwife." where buttons were shown, numbers only where numbers were."""
    command: str | None = None
    """The global word the reply is, when the caller has read it already with the study's words
    (a transcript, whose STOP is honoured: :func:`spoken_as_typed`); otherwise the engine reads
    it, once, from a typed reply."""

    @classmethod
    def received(cls, text: str, button: str | None) -> TextInput:
        """A stored message as input: a tapped button's value and place (``PLACE~value``, see
        :func:`flows.events.tap_data`) taken apart."""
        if button is None:
            return cls(text)
        found = _TAPPED.match(button)
        if found is None:
            return cls(text, button=button, source="button")
        return cls(text, button=_TAPPED.sub("", button), source="button", at=found[1])


_TAPPED = re.compile(r"(?:^|(?<=\|))([0-9a-z]{4})~")



@dataclass(frozen=True)
class Timeout:
    step_id: str


@dataclass(frozen=True)
class Resume:
    """Carry on after a snooze or as a reminder: ask the current question again."""

    reason: str = "reminder"


Input = TextInput | Timeout | Resume

SPOKEN_COMMANDS = ("stop", "erase")
"""Global words honoured in a voice note that says nothing else: the participant said them.
(Others, HELP or BACK, are read as an answer, as a voice note's words always were; a spoken
YES never confirms an erasure.)"""


def spoken_as_typed(given: TextInput, command: str | None) -> TextInput:
    """A voice note that says only STOP or DELETE MY DATA (``command``: the global word it is, read
    by the caller) as if typed, so that it is honoured; any other input as it is."""
    if given.source == "voice" and command in SPOKEN_COMMANDS:
        return replace(given, source="text", command=command)
    return given


def global_word(words: Words, given: TextInput) -> str | None:
    """The global word a typed reply is (:meth:`Words.command`), or the one the caller read
    already (:attr:`TextInput.command`); None for a tap, or a voice note that said none."""
    if given.command is not None:
        return given.command
    return words.command(given.text) if given.button is None and given.source != "voice" else None


def read_erasure(words: Words, given: TextInput, command: str | None, pending: bool) -> str | None:
    """:func:`flows.words.erasure_reply` with the reply's global word (``command``) already read:
    'ask', 'confirmed', 'cancelled' or None. A YES said in a voice note to the confirmation
    question asks again ('ask'): a voice note never erases, but the participant meant yes, and
    is told to type it rather than that nothing was deleted."""
    if pending and spoken_yes(given):
        return "ask"
    if pending:  # (erasure_reply reads no global word then)
        return erasure_reply(words, given.text, given.button, given.source, pending)
    return "ask" if command == "erase" and given.button is None and given.source != "voice" else None


def spoken_yes(given: TextInput) -> bool:
    """A voice note whose words are a yes ('Yes.', 'yeah', 'ydw')."""
    return given.source == "voice" and given.button is None and parse_yes_no(given.text) is True


def without_words(given: TextInput) -> bool:
    """A message with nothing in it to read: a photo, a sticker, a video or a file sent alone
    (a voice note is transcribed first), or an empty one."""
    return given.button is None and given.source == "text" and not given.text.strip()

