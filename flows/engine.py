"""The conversation engine: pure, with no I/O, no clock and no randomness.

One call is one *sprint*: ``(flow, session state, one input, now)`` in, events and the
new session state out. The service around it persists, sends and schedules.
"""

from __future__ import annotations

import json
import re
import zlib
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from pydantic import BaseModel, Field

from flows import snooze
from flows.events import (
    AnswersWithdrawn,
    Button,
    ErasureConfirmed,
    Event,
    LanguageChanged,
    OptedIn,
    OptedOut,
    RaiseFlag,
    RecordAnswer,
    ScheduleTask,
    SendMessage,
    SessionEnded,
    SetField,
    WaitForInput,
)
from flows.model import Flow, StepBase, Study, Text, resolve_text
from flows.parsing import parse_yes_no
from flows.replies import language_named
from flows.steps.base import (
    Answer,
    Continue,
    GiveUp,
    InputStep,
    Prompt,
    Reply,
    StepContext,
    Unclear,
)
from flows.steps.consent import ConsentStep
from flows.steps.end import EndStep
from flows.steps.open import OpenStep
from flows.templating import (
    Namespace,
    TemplateFailure,
    evaluate,
    render,
    render_leniently,
    render_what_works,
)
from flows.words import Words, erasure_reply, normalised_word

MAX_STEPS_PER_SPRINT = 200
LOW_CONFIDENCE = 0.45
"""A voice answer heard with less confidence than this is read back before it counts
(see nlp.transcribe.WhisperSettings.low_confidence, which has the same default)."""
HEARD_ECHO_CHARS = 200
ASKED_LONG_AGO = timedelta(hours=1)
"""An unclear reply to a question shown this long ago (or put off with LATER) gets the
question again with its hint: the question is no longer on the participant's screen."""

Status = Literal["waiting", "snoozed", "stopped", "ended"]
ConfirmPolicy = Literal["never", "low_confidence", "always"]


class SessionState(BaseModel):
    """Everything the engine needs to carry on a conversation; serialisable as JSON."""

    flow: str
    version: str = ""
    step: str | None = None
    status: Status = "waiting"
    tries: int = 0
    """Unclear replies to the question since it was last asked afresh (entered, or asked
    again after a snooze or by a reminder)."""
    asked_at: datetime | None = None
    """When the current question was last shown in full."""
    history: list[str] = Field(default_factory=list)
    values: dict[str, Any] = Field(default_factory=dict)
    displays: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)
    language: str = "en"
    outcome: str | None = None
    seed: int = 0
    """Handed in at start; every random draw a step makes derives from it."""
    step_data: dict[str, Any] = Field(default_factory=dict)
    """The current step's working data (many-item steps), cleared when a step is entered."""
    before_stop: Status | None = None
    """The status to return to when a participant who sent STOP sends START."""
    heard: dict[str, Any] | None = None
    """A voice answer read back to the participant ("I heard: ... Is that right?"), waiting for
    YES (it counts) or NO (ask again): ``{"text": ..., "confidence": ...}``. Dropped whenever
    the question is asked afresh."""
    erase_pending: bool = False
    """DELETE MY DATA was sent and the confirmation question asked: YES erases, anything else cancels."""
    choosing_language: bool = False
    """LANGUAGE was answered by asking which language: the next reply may name one by its code
    or its name ('cy', 'Welsh', 'polski'; flows/replies.py) rather than answer the question."""
    undo: list[dict[str, Any]] = Field(default_factory=list)
    """The current many-item step before each of its parts was answered (``data``, and the
    ``items`` that part recorded): BACK within the step goes back one part."""

    def __setattr__(self, name: str, value: Any) -> None:
        # The engine sets fields many times a sprint; a plain field needs no more than what
        # pydantic does for it (no validate_assignment, not frozen), without the dispatch.
        if name in _PLAIN_FIELDS:
            self.__dict__[name] = value
            self.__pydantic_fields_set__.add(name)
        else:
            super().__setattr__(name, value)


_PLAIN_FIELDS = frozenset(SessionState.model_fields)
_NEW = object.__new__
_SET = object.__setattr__


def _copy(state: SessionState) -> SessionState:
    """A copy the sprint may change. Containers are copied one level deep: the engine replaces
    values (answers, fields) but never mutates one in place. Much cheaper than a deep copy,
    and cheaper than ``model_construct``: every field is already there, so this only sets
    what it sets (``__dict__``, the fields set, no extras, no private attributes)."""
    data = dict(state.__dict__)
    data["history"] = list(data["history"])
    data["undo"] = list(data["undo"])
    for name in ("values", "displays", "fields", "step_data"):
        data[name] = dict(data[name])
    copied = _NEW(SessionState)
    _SET(copied, "__dict__", data)
    _SET(copied, "__pydantic_fields_set__", set(_PLAIN_FIELDS))  # as model_construct(**all fields)
    _SET(copied, "__pydantic_extra__", None)
    _SET(copied, "__pydantic_private__", None)
    return copied


# ----------------------------------------------------------------------------- inputs


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


def position(state: SessionState) -> str:
    """Where a conversation is, in 4 characters: which conversation (the flow, and the session's
    own random seed), the question, how far the participant came to reach it and the progress
    within it (a Delphi item, a pair). The same when a question is asked again (HELP, a reminder,
    BACK to it); different once it has been answered, and in any other session: a tap on a
    message of another study, another flow or an earlier run of the same flow, whose first
    question has the same id at the same depth ('consent'), never answers the question asked now."""
    progress = json.dumps(state.step_data, sort_keys=True, default=str)
    where = f"{state.flow}|{state.seed}|{state.step}|{len(state.history)}|{progress}"
    number = zlib.crc32(where.encode())
    digits = []
    for _ in range(4):
        number, digit = divmod(number, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[digit])
    return "".join(digits)


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


@dataclass
class Sprint:
    events: list[Event]
    state: SessionState
    command: str | None = None
    """The global word a typed or spoken reply was (:meth:`flows.words.Words.command` with the
    study's words), read once per message: the service goes by it too (no safeguarding check
    of STOP or DELETE MY DATA) rather than matching the reply against the words again."""

    def messages(self) -> list[SendMessage]:
        return [e for e in self.events if isinstance(e, SendMessage)]


@dataclass
class _Turn:
    """The working state of one sprint."""

    state: SessionState
    now: datetime
    population: Any = None
    events: list[Event] = field(default_factory=list)
    woke: bool = False
    """The reply came while the conversation was snoozed: the question is not the last thing said."""
    command: str | None = None
    """The global word the reply was (:attr:`Sprint.command`)."""

    def emit(self, event: Event) -> None:
        if isinstance(event, RecordAnswer) and event.path_position is None:
            event = replace(event, path_position=len(self.state.history))
        self.events.append(event)


class Engine:
    """Runs one flow. Holds only the flow, the study and its words: no I/O."""

    def __init__(
        self, flow: Flow, study: Study | None = None, version: str = "",
        voice_confirm: ConfirmPolicy = "low_confidence", low_confidence: float = LOW_CONFIDENCE,
    ) -> None:
        self.flow = flow
        self.study = study
        self.version = version
        self.voice_confirm: ConfirmPolicy = voice_confirm
        """When steps without a ``confirm`` of their own read a voice answer back."""
        self.low_confidence = low_confidence
        self.words = Words(study)
        self._later_words = tuple(self.words.words_for("later"))
        self.default_language = study.default_language if study else (flow.languages or ["en"])[0]
        # Looked up on every input: a flow's steps never change once it is loaded.
        self._steps: dict[str, StepBase] = {}
        self._following: dict[str, str | None] = {}
        for index, step in enumerate(flow.steps):
            if step.id not in self._steps:
                self._steps[step.id] = step
                self._following[step.id] = flow.steps[index + 1].id if index + 1 < len(flow.steps) else None
        self._rules = {step_id: tuple(step.next_rules()) for step_id, step in self._steps.items()}
        self._studies: dict[str, Namespace] = {}
        self._zone = snooze.zone_of(None, study.timezone if study else "Europe/London")

    # ------------------------------------------------------------------ public API

    def start(
        self,
        now: datetime,
        language: str | None = None,
        fields: dict[str, Any] | None = None,
        at_step: str | None = None,
        seed: int = 0,
        population: Any = None,
    ) -> Sprint:
        state = SessionState(
            flow=self.flow.flow,
            version=self.version,
            language=language or self.default_language,
            fields=dict(fields or {}),
            seed=seed,
        )
        turn = _Turn(state, now, population)
        self._enter(turn, at_step or self.flow.steps[0].id)
        return Sprint(turn.events, state)

    def handle(self, state: SessionState, given: Input, now: datetime, population: Any = None) -> Sprint:
        """One input in, events and the new state out. ``population`` is a read-only view of
        what the group said, for steps that show it (Delphi feedback, idea pools)."""
        turn = _Turn(_copy(state), now, population)
        if isinstance(given, TextInput):
            self._on_text(turn, given)
        elif isinstance(given, Timeout):
            self._on_timeout(turn, given)
        else:
            self._on_resume(turn)
        return Sprint(turn.events, turn.state, turn.command)

    # ------------------------------------------------------------------ inputs

    def _on_text(self, turn: _Turn, given: TextInput) -> None:
        state = turn.state
        if given.at and given.at != position(state):
            return  # a second tap, or a tap on an earlier message: not an answer to the question asked now
        turn.command = command = global_word(self.words, given)  # read once, for the whole sprint
        choosing, state.choosing_language = state.choosing_language, False  # (only the reply right after asks it)
        erasure = read_erasure(self.words, given, command, state.erase_pending)
        if erasure is not None and self._erasure(turn, erasure, given, command):
            return
        if given.button is None and given.source != "voice" and self._global_word(turn, given.text, command, choosing):
            return
        if state.status in ("stopped", "ended"):
            if state.status == "ended":
                self._say(turn, self._text(turn, "ended"), kind="info")
            return
        if state.status == "snoozed":
            state.status, turn.woke = "waiting", True
        step = self._current(state)
        if step is None:
            return
        if not isinstance(step, InputStep):
            self._advance(turn, step)
            return
        if without_words(given):
            self._nothing_to_read(turn, step, given)
            return
        if state.heard is not None:
            if given.source != "voice" and self._on_confirmation(turn, step, given):
                return
            state.heard = None  # a new voice note, or a typed answer instead of YES/NO
        typed = given.button is None and given.source == "text"
        if typed and isinstance(step, OpenStep) and self.words.is_join_keyword(given.text):
            self._say(turn, self._text(turn, "already_joined"), step.id, kind="info")
            self._prompt(turn, step)
            return
        if step.skip and self.words.is_skip(given.text) and given.button is None:
            turn.emit(RecordAnswer(step.id, given.text, None, "", given.source, skipped=True))
            self._say(turn, self._text(turn, "skipped"), step.id, kind="info")
            self._advance(turn, step)
            return
        reply = Reply(given.text, given.button, given.source, given.confidence)
        outcome = step.interpret(reply, self._context(turn, step))
        if isinstance(outcome, Answer) and self._needs_confirming(step, reply):
            self._ask_to_confirm(turn, step, reply, outcome)
        elif isinstance(outcome, Answer):
            self._accept(turn, step, reply, outcome)
        elif isinstance(outcome, Continue):
            self._continue(turn, step, reply, outcome)
        elif typed and snooze.starts_with_later(given.text, self._later_words):
            self._snooze(turn, given.text, "later")  # 'later, on a night shift': put off, not an unclear answer
        else:
            self._unclear(turn, step, outcome, heard=reply.text if reply.source == "voice" else None)

    def _nothing_to_read(self, turn: _Turn, step: InputStep, given: TextInput) -> None:
        """A photo, sticker, video or file sent without words (or an empty message): not an
        answer, so not a try either. The participant is told what we can read (voice notes only
        where the question and their channel take them), and asked again if the question is far
        back (otherwise a voice answer waiting for YES or NO still waits)."""
        voice = given.voice_notes and "voice" in getattr(step, "accept", ("voice",))
        text = self.words.text("media.not_read" if voice else "media.not_read_typed", turn.state.language)
        self._say(turn, text, step.id, kind="retry")
        if self._asked_long_ago(turn):
            self._prompt(turn, step)

    # ------------------------------------------------------------------ voice answers read back

    def _needs_confirming(self, step: InputStep, reply: Reply) -> bool:
        if reply.source != "voice":
            return False
        policy = getattr(step, "confirm", None) or self.voice_confirm
        if policy == "always":
            return True
        low = reply.confidence is not None and reply.confidence < self.low_confidence
        return policy == "low_confidence" and low

    def _ask_to_confirm(self, turn: _Turn, step: InputStep, reply: Reply, answer: Answer) -> None:
        """"I heard: '...'. Is that right?" with YES/NO buttons; the answer waits in ``state.heard``."""
        turn.state.heard = {"text": reply.text, "confidence": reply.confidence}
        heard = _echo(reply.text)
        if isinstance(step, OpenStep) or _echo(answer.display).lower() == heard.lower():
            text = self._text(turn, "voice_confirm").replace("{heard}", heard)
        else:
            text = self._text(turn, "voice_confirm_answer").replace("{heard}", heard).replace("{answer}", _echo(answer.display))
        buttons = self._placed(turn.state, (Button(self._text(turn, "yes"), "yes"), Button(self._text(turn, "no"), "no")))
        turn.emit(SendMessage(text, step.id, buttons, False, "prompt"))
        turn.emit(WaitForInput(step.id))

    def _on_confirmation(self, turn: _Turn, step: InputStep, given: TextInput) -> bool:
        """YES counts the voice answer waiting in ``state.heard``; NO asks the question again.
        False (and nothing done) when the reply is neither."""
        state = turn.state
        said = {"yes": True, "no": False}.get(given.button or "") if given.button else parse_yes_no(given.text)
        if said is None or state.heard is None:
            return False
        heard, state.heard = state.heard, None
        if not said:
            self._say(turn, self._text(turn, "voice_try_again"), step.id, kind="info")
            self._prompt(turn, step)
            return True
        reply = Reply(str(heard.get("text", "")), None, "voice", heard.get("confidence"))
        outcome = step.interpret(reply, self._context(turn, step))
        if isinstance(outcome, Answer):
            self._accept(turn, step, reply, outcome)
        elif isinstance(outcome, Continue):
            self._continue(turn, step, reply, outcome)
        else:
            self._unclear(turn, step, outcome, heard=reply.text)
        return True

    def _on_timeout(self, turn: _Turn, given: Timeout) -> None:
        state = turn.state
        if state.status != "waiting" or state.step != given.step_id:
            return
        step = self._step(given.step_id)
        turn.emit(RecordAnswer(step.id, "", None, "", "timeout", skipped=True))
        if step.on_timeout:
            self._enter(turn, step.on_timeout)
        else:
            self._advance(turn, step)

    def _on_resume(self, turn: _Turn) -> None:
        state = turn.state
        if state.status not in ("waiting", "snoozed"):
            return
        state.status = "waiting"
        state.tries = 0  # the question is asked afresh
        step = self._current(state)
        if step is not None:
            self._prompt(turn, step, kind="reminder")

    # ------------------------------------------------------------------ erasure on request

    def _erasure(self, turn: _Turn, erasure: str, given: TextInput, command: str | None) -> bool:
        """DELETE MY DATA at any point (even after STOP): ask to confirm; YES emits
        :class:`ErasureConfirmed` for the service to act on; a spoken yes is asked to type YES
        (the question stays open); anything else cancels, and a
        global word that cancels (STOP, HELP...) still does what it says. False to carry on
        handling the reply."""
        state = turn.state
        if erasure == "ask":
            key = "erase_type_yes" if state.erase_pending and spoken_yes(given) else "erase_confirm"
            state.erase_pending = True
            self._say(turn, self._text(turn, key), kind="erase_confirm")
            return True
        state.erase_pending = False
        if erasure == "confirmed":
            turn.emit(ErasureConfirmed())
            return True
        self._say(turn, self._text(turn, "erase_cancelled"), kind="erase_cancelled")
        if given.button is None and (command or self.words.language_switch(given.text)):
            return False
        self._reprompt(turn)
        return True

    # ------------------------------------------------------------------ global words

    def _global_word(self, turn: _Turn, text: str, command: str | None, choosing: bool = False) -> bool:
        """STOP, START, HELP, LATER, BACK or a language (``command``: the global word ``text``
        is, read once by the caller); with ``choosing``, the reply right after the bot asked which
        language may name one. False when the reply is none of these: an answer."""
        state = turn.state
        if command == "stop":
            if state.status != "stopped":
                state.before_stop = state.status
                state.status = "stopped"
                turn.emit(OptedOut())
                self._say(turn, self._text(turn, "stopped"), kind="stopped")
            return True
        if state.status == "stopped":
            if command == "start":
                state.status, state.before_stop = state.before_stop or "waiting", None
                turn.emit(OptedIn())
                self._say(turn, self._text(turn, "restarted"), kind="info")
                self._reprompt(turn)
            return True
        if choosing and self._language_chosen(turn, text):
            return True
        if self._answers_question(turn, text, command):
            return False
        if state.status == "ended" and command == "help":  # no question to repeat; the words that still work
            self._say(turn, self.words.text("help_ended", turn.state.language), kind="help")
            return True
        if state.status == "ended" and command in ("start", "later", "back"):
            return False  # nothing left to ask: the conversation has ended, and the reply says so
        if command == "start":
            self._reprompt(turn)
            return True
        if command == "help":
            self._say(turn, self.words.help(turn.state.language), kind="help")
            self._reprompt(turn)
            return True
        if command in ("later", None) and state.status in ("waiting", "snoozed") and self._snooze(turn, text, command):
            return True
        if command == "back" and state.status in ("waiting", "snoozed"):
            self._back(turn)
            return True
        switch = self.words.language_switch(text)
        if switch is None:
            return False
        if isinstance(switch, str):
            self._switch_language(turn, switch)
        else:
            self._ask_language(turn, "language_ask" if switch is True else "language_unknown")
        return True

    def _language_chosen(self, turn: _Turn, text: str) -> bool:
        """The reply to 'Which language would you like?': a study language named by its code or
        its name ('en', 'cy', 'Welsh', 'polski') chooses it; a language the study lacks gets
        the choices again. False when the reply names no language (it answers the question)."""
        named = language_named(text, self.words.languages)
        if named is None:
            return False
        if isinstance(named, str):
            self._switch_language(turn, named)
        else:
            self._ask_language(turn, "language_unknown")
        return True

    def _switch_language(self, turn: _Turn, language: str) -> None:
        turn.state.language = language
        turn.emit(LanguageChanged(language))
        self._say(turn, self._text(turn, "language_changed"), kind="info")
        self._reprompt(turn)

    def _ask_language(self, turn: _Turn, key: str) -> None:
        """Which language ('language_ask'), or that the one named is not offered; the next reply may name one."""
        turn.state.choosing_language = True
        choices = self.words.language_choices(turn.state.language)
        self._say(turn, self._text(turn, key).format(choices=choices), kind="help")

    def _answers_question(self, turn: _Turn, text: str, command: str | None) -> bool:
        """The whole reply is, word for word, one of the current question's own answers (a
        button's label or value) that is also a global word other than STOP: an option 'Back'
        (where the pain is), 'Busy', 'Not now' or 'English' answers the question. STOP words
        always stop (the providers stop delivering after them anyway); validation warns of
        an option that is one."""
        state = turn.state
        if state.status not in ("waiting", "snoozed"):
            return False
        if command is None and self.words.language_switch(text) is None and not snooze.may_be_snooze(text, self._later_words):
            return False
        step = self._current(state)
        if not isinstance(step, InputStep):
            return False
        return self._offers(turn, step, text)

    def _offers(self, turn: _Turn, step: InputStep, text: str) -> bool:
        said = normalised_word(text)
        buttons = step.prompt(self._context(turn, step)).buttons
        return any(said in (normalised_word(button.label), normalised_word(button.value)) for button in buttons)

    def offered(self, state: SessionState, text: str, now: datetime, population: Any = None) -> bool:
        """Whether a reply is, word for word, one of the options the question being asked offers
        (a button's label or value, 'Can't decide' say): an answer, not words of the participant's
        own, which safeguarding need not read."""
        step = self._current(state)
        if not isinstance(step, InputStep) or isinstance(step, OpenStep) or state.status not in ("waiting", "snoozed"):
            return False
        return self._offers(_Turn(_copy(state), now, population), step, text)

    def _snooze(self, turn: _Turn, text: str, command: str | None) -> bool:
        """LATER, or a reply naming when ('in 2 hours', 'tomorrow', 'later after 5pm'): ask
        again then, moved out of the study's quiet hours. See flows/snooze.py."""
        state = turn.state
        if command != "later" and not snooze.may_be_snooze(text, self._later_words):
            return False
        named = state.fields.get("timezone")
        zone = self._zone if named is None else snooze.zone_of(named, self.study.timezone if self.study else "Europe/London")
        strict = isinstance(self._current(state), OpenStep)
        asked = snooze.parse_snooze(text, turn.now, zone, self._later_words, strict=strict)
        if asked is None and command != "later":
            return False
        until = asked.until if asked is not None else turn.now + snooze.DEFAULT_SNOOZE
        until = snooze.next_allowed(until, zone, quiet=self.study.quiet_hours if self.study else None)
        state.status, state.tries = "snoozed", 0
        turn.emit(ScheduleTask("snooze", until, {"step": state.step}))
        if command == "later" and self._own_later_text():
            self._say(turn, self._text(turn, "later"), kind="info")
        else:  # a bare LATER names its default time too: 'We'll ask again at 16:10'
            when = snooze.describe(until, turn.now, zone, state.language)
            self._say(turn, self._text(turn, "later_at").replace("{when}", when), kind="info")
        return True

    def _own_later_text(self) -> bool:
        """The study words its own reply to a bare LATER and not the one that says when: keep it."""
        return self.study is not None and "later" in self.study.texts and "later_at" not in self.study.texts

    def _back(self, turn: _Turn) -> None:
        state = turn.state
        if state.undo and isinstance(self._current(state), InputStep):
            self._back_within(turn)
            return
        earlier = state.history[:-1] if state.history and state.history[-1] == state.step else state.history
        inputs = [i for i, s in enumerate(earlier) if isinstance(self._step_or_none(s), InputStep)]
        if not inputs:
            self._say(turn, self._text(turn, "back_at_start"), kind="info")
            self._reprompt(turn)
            return
        previous = earlier[inputs[-1]]
        kept = earlier[: inputs[-1] + 1]
        left = [step_id for step_id in state.history[len(kept):] if step_id not in kept]
        self._forget(turn, left, kept)
        # (from where ``previous`` was entered last: its answers in an earlier loop through it stand)
        turn.emit(AnswersWithdrawn(tuple(dict.fromkeys([previous, *left])), from_position=len(kept)))
        state.history = kept
        state.tries = 0
        state.step_data, state.undo = {}, []  # (the step asked again starts afresh, not with the one left's data)
        self._prompt(turn, self._step(previous))

    def _back_within(self, turn: _Turn) -> None:
        """BACK in a many-item step (a Delphi item, a pair, a choice task): the part answered
        last is asked again, its answers withdrawn."""
        state = turn.state
        *state.undo, last = state.undo
        state.step_data, state.tries = dict(last["data"]), 0
        step = self._step(str(state.step))
        if last["items"]:
            turn.emit(AnswersWithdrawn((step.id,), tuple(last["items"]), from_position=len(state.history)))
        self._prompt(turn, step)

    def _forget(self, turn: _Turn, step_ids: list[str], kept: list[str]) -> None:
        """The answers to steps BACK has left behind no longer count: a branch taken from the
        answer being changed may never be asked again, and its answers must not steer
        conditions or fill templates (nor stay in a participant field they saved to)."""
        state = turn.state
        kept_fields = {step.save_to for step_id in kept if isinstance(step := self._step_or_none(step_id), InputStep)}
        for step_id in step_ids:
            state.values.pop(step_id, None)
            state.displays.pop(step_id, None)
            step = self._step_or_none(step_id)
            if isinstance(step, InputStep) and step.save_to and step.save_to not in kept_fields:
                name = step.save_to.removeprefix("participant.")
                if state.fields.pop(name, None) is not None:
                    turn.emit(SetField(name, None))

    def _reprompt(self, turn: _Turn) -> None:
        step = self._current(turn.state)
        if step is not None and turn.state.status == "waiting":
            self._prompt(turn, step)

    # ------------------------------------------------------------------ answers

    def _accept(self, turn: _Turn, step: InputStep, reply: Reply, answer: Answer) -> None:
        state = turn.state
        state.values[step.id] = answer.value
        state.displays[step.id] = answer.display
        state.tries = 0
        raw = reply.text or (reply.button or "")
        for item in answer.items:
            turn.emit(RecordAnswer(step.id, raw, item.value, item.display, reply.source, item=item.item))
        turn.emit(RecordAnswer(step.id, raw, answer.value, answer.display, reply.source))
        if step.save_to:
            name = step.save_to.removeprefix("participant.")
            state.fields[name] = answer.value
            turn.emit(SetField(name, answer.value))
        if isinstance(step, ConsentStep) and answer.value == "no" and not step.next_rules():
            self._say(turn, self._render(turn, step.declined, step) or self._text(turn, "declined"), step.id, kind="end")
            self._end(turn, "declined")
            return
        self._advance(turn, step, answer.value)

    def _continue(self, turn: _Turn, step: InputStep, reply: Reply, progress: Continue) -> None:
        state = turn.state
        state.tries = 0
        state.undo = [*state.undo, {"data": state.step_data, "items": [item.item for item in progress.items]}]
        state.step_data = dict(progress.data)
        raw = reply.text or (reply.button or "")
        for item in progress.items:
            turn.emit(RecordAnswer(step.id, raw, item.value, item.display, reply.source, item=item.item))
        if progress.message:
            self._say(turn, progress.message, step.id, kind="info")
        self._prompt(turn, step)

    def _unclear(self, turn: _Turn, step: InputStep, unclear: Unclear, heard: str | None = None) -> None:
        state = turn.state
        state.tries += 1
        if state.tries < step.max_tries:
            text = self._render(turn, step.retry, step) if step.retry is not None else ""
            text = f"{text} {unclear.hint}".strip() if text != unclear.hint else text
            if heard and _echo(heard):  # say what a voice note sounded like, so they know why
                text = self._text(turn, "voice_heard").replace("{heard}", _echo(heard)) + " " + text
            self._say(turn, text, step.id, kind="retry")
            if self._asked_long_ago(turn):
                self._prompt(turn, step)
            return
        state.tries = 0
        given_up = step.give_up(self._context(turn, step)) if step.on_max_tries != "end" else None
        for item in given_up.left if given_up is not None else ():
            turn.emit(RecordAnswer(step.id, "", None, "", "text", skipped=True, item=item))
        if given_up is None:
            turn.emit(RecordAnswer(step.id, "", None, "", "text", skipped=True))
        if step.on_max_tries == "flag":
            turn.emit(RaiseFlag("max_tries", f"no clear answer to '{step.id}' after {step.max_tries} tries", step.id))
            self._say(turn, self._text(turn, "flagged"), step.id, kind="info")
        elif step.on_max_tries == "end":
            self._say(turn, self._text(turn, "too_many_tries"), step.id, kind="info")
            self._end(turn, "max_tries")
            return
        else:
            self._say(turn, self._text(turn, "too_many_tries"), step.id, kind="info")
        if given_up is None:
            self._advance(turn, step)
        else:
            self._go_on_without(turn, step, given_up)

    def _asked_long_ago(self, turn: _Turn) -> bool:
        """Whether the question is far back in the chat: the participant put it off with LATER
        (and has not been reminded), or it was last shown :data:`ASKED_LONG_AGO` or more ago."""
        asked = turn.state.asked_at
        return turn.woke or (asked is not None and turn.now - asked >= ASKED_LONG_AGO)

    def _go_on_without(self, turn: _Turn, step: InputStep, given_up: GiveUp) -> None:
        """After max tries on one part of a many-item step: the rest of the step goes on (or
        the step finishes with what was answered). BACK asks the part left again."""
        if isinstance(given_up.then, Answer):
            self._accept(turn, step, Reply(""), given_up.then)
            return
        self._continue(turn, step, Reply(""), given_up.then)
        state = turn.state
        state.undo[-1] = {**state.undo[-1], "items": [*state.undo[-1]["items"], *given_up.left]}

    # ------------------------------------------------------------------ moving on

    def _advance(self, turn: _Turn, step: StepBase, answer: Any = None) -> None:
        target = self._next_target(turn, step, answer)
        if target is None:
            self._end(turn, "completed")
        else:
            self._enter(turn, target)

    def _next_target(self, turn: _Turn, step: StepBase, answer: Any) -> str | None:
        context: dict[str, Any] | None = None
        for rule in self._rules.get(step.id) or step.next_rules():
            if rule.when is None:
                return rule.goto
            if context is None:
                context = self._template_context(turn.state, answer)
            try:
                if evaluate(rule.when, context):
                    return rule.goto
            except TemplateFailure as failure:
                turn.emit(RaiseFlag("template_error", f"condition '{rule.when}' on step '{step.id}': {failure}", step.id))
        if step.id in self._following:
            return self._following[step.id]
        index = self.flow.index(step.id) + 1
        return self.flow.steps[index].id if index < len(self.flow.steps) else None

    def _enter(self, turn: _Turn, step_id: str) -> None:
        state = turn.state
        for _ in range(MAX_STEPS_PER_SPRINT):
            step = self._step(step_id)
            state.step = step.id
            state.tries = 0
            state.step_data = {}
            if state.undo:
                state.undo = []
            state.history.append(step.id)
            if isinstance(step, InputStep):
                state.status = "waiting"
                self._prompt(turn, step)
                return
            if step.text is not None:
                self._say(turn, self._render(turn, step.text, step), step.id, kind="end" if isinstance(step, EndStep) else "info")
            if isinstance(step, EndStep):
                self._end(turn, step.outcome)
                return
            target = self._next_target(turn, step, None)
            if target is None:
                self._end(turn, "completed")
                return
            step_id = target
        turn.emit(RaiseFlag("loop", f"more than {MAX_STEPS_PER_SPRINT} steps without a question; ended", step_id))
        self._end(turn, "loop")

    def _prompt(self, turn: _Turn, step: StepBase, kind: str = "prompt") -> None:
        state = turn.state
        state.step = step.id
        state.status = "waiting"
        state.heard = None
        state.choosing_language = False
        state.asked_at = turn.now
        assert isinstance(step, InputStep)
        flags: list[RaiseFlag] = []
        ctx = self._context(turn, step, flags)
        prompt: Prompt = step.prompt(ctx)
        text = prompt.text
        if step.skip:
            hint = self._render(turn, step.skip, step) if isinstance(step.skip, str | dict) else self._text(turn, "skip_hint")
            text = f"{text}\n{hint}"
        turn.events.extend(flags)
        turn.emit(SendMessage(text, step.id, self._placed(state, prompt.buttons), prompt.multiple, kind, attachment=prompt.attachment))
        turn.emit(WaitForInput(step.id, step.timeout))
        if step.timeout is not None:
            turn.emit(ScheduleTask("timeout", turn.now + step.timeout, {"step": step.id}))

    @staticmethod
    def _placed(state: SessionState, buttons: tuple[Button, ...]) -> tuple[Button, ...]:
        at = position(state) if buttons else ""
        return tuple(Button(button.label, button.value, at) for button in buttons)  # (cheaper than dataclasses.replace)

    def _end(self, turn: _Turn, outcome: str) -> None:
        turn.state.status = "ended"
        turn.state.outcome = outcome
        turn.emit(SessionEnded(outcome))

    def _say(self, turn: _Turn, text: str, step_id: str | None = None, kind: str = "info") -> None:
        if text:
            turn.emit(SendMessage(text, step_id or turn.state.step, (), False, kind))

    # ------------------------------------------------------------------ texts

    def _current(self, state: SessionState) -> StepBase | None:
        return self._step_or_none(state.step) if state.step else None

    def _step(self, step_id: str) -> StepBase:
        found = self._steps.get(step_id)
        return found if found is not None else self.flow.step(step_id)

    def _step_or_none(self, step_id: str) -> StepBase | None:
        found = self._steps.get(step_id)
        if found is not None:
            return found
        try:
            return self.flow.step(step_id)
        except KeyError:
            return None

    def _text(self, turn: _Turn, key: str) -> str:
        return self.words.text(key, turn.state.language)

    def _template_context(self, state: SessionState, answer: Any = None) -> dict[str, Any]:
        participant = Namespace(state.fields)
        participant.setdefault("language", state.language)
        study = self._studies.get(state.language)
        if study is None:
            study = Namespace(id=self.study.study, title=resolve_text(self.study.title, state.language)) if self.study else Namespace()
            self._studies[state.language] = study
        return {
            "participant": participant,
            "answers": Namespace(state.displays),
            "values": Namespace(state.values),
            "answer": answer,
            "study": study,
        }

    def _context(self, turn: _Turn, step: StepBase, flags: list[RaiseFlag] | None = None) -> StepContext:
        state = turn.state
        sink: list[RaiseFlag] = flags if flags is not None else []
        draw = f"{state.seed}:{step.id}:{len(state.history)}:{len(state.step_data)}"

        def render_text(text: Text | None) -> str:
            source = resolve_text(text, state.language, self.default_language)
            if "{" not in source:
                return source  # as _render_with would, but cheaper
            return self._render_with(text, step, state, sink)

        return StepContext(
            language=state.language,
            default_language=self.default_language,
            render=render_text,
            words=lambda key: self.words.text(key, state.language),
            previous=state.values.get(step.id),
            data=dict(state.step_data),
            population=turn.population,
            seed=draw,
        )

    def _render(self, turn: _Turn, text: Text | None, step: StepBase) -> str:
        flags: list[RaiseFlag] = []
        rendered = self._render_with(text, step, turn.state, flags)
        turn.events.extend(flags)
        return rendered

    def _render_with(self, text: Text | None, step: StepBase, state: SessionState, flags: list[RaiseFlag]) -> str:
        source = resolve_text(text, state.language, self.default_language)
        if "{" not in source:
            return source
        context = self._template_context(state, state.values.get(step.id))
        try:
            return render(source, context)
        except TemplateFailure as failure:
            flags.append(RaiseFlag("template_error", f"step '{step.id}': {failure}", step.id))
            rendered = render_what_works(source, context) or render_leniently(source, context).strip()
            return rendered or self.words.text("fallback", state.language)


def _echo(text: str) -> str:
    """A transcript as it may be read back: one line, not too long, no template marks, and
    without its closing punctuation, which the template's own follows ('I heard: "Sandburn".',
    not '"Sandburn.".'; the answer keeps the transcript as it was)."""
    clean = " ".join(text.replace("{", "(").replace("}", ")").split()).rstrip(" .!?,;:…")
    return clean if len(clean) <= HEARD_ECHO_CHARS else clean[: HEARD_ECHO_CHARS - 1].rstrip() + "…"
