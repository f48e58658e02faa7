"""The conversation engine: pure, with no I/O, no clock and no randomness.

One call is one *sprint*: ``(flow, session state, one input, now)`` in, events and the
new session state out. The service around it persists, sends and schedules.

The engine is in layers, each in its own module: the state it carries
(flows/session_state.py), its inputs (flows/inputs.py), the steps and moving through
them (flows/engine_core.py), BACK and corrections (flows/engine_undo.py), the global words
(flows/engine_commands.py, and the layers it lists beneath it: STOP, LATER, languages, 'I
don't understand', the rest of an answer in a second text), asides (flows/asides.py) and,
here, the reading of replies and the public API.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from flows import schedule_timing, snooze
from flows.asides import Asides
from flows.corrections import corrected_value
from flows.engine_core import (
    ASKED_LONG_AGO,
    LOW_CONFIDENCE,
    MAX_STEPS_PER_SPRINT,
    ConfirmPolicy,
    Sprint,
    Turn,
)
from flows.engine_not_skippable import read_reply
from flows.events import (
    Button,
    RaiseFlag,
    RecordAnswer,
    SendMessage,
    SetField,
    WaitForInput,
)
from flows.inputs import (
    SPOKEN_COMMANDS,
    Input,
    Resume,
    TextInput,
    Timeout,
    global_word,
    read_erasure,
    shows_buttons,
    spoken_as_typed,
    spoken_yes,
    without_words,
)
from flows.parsing import parse_number, parse_yes_no, said_after_no
from flows.ready_phrases import ready_without_yes, says_ready
from flows.session_state import LIVE, SessionState, Status, copy_state, position, tapped_elsewhere
from flows.steps.base import Answer, Continue, GiveUp, InputStep, Reply, Unclear
from flows.steps.consent import NOT_CONSENTED, ConsentStep
from flows.steps.open import OpenStep
from flows.templating import TemplateFailure, evaluate

__all__ = [
    "ASKED_LONG_AGO", "LOW_CONFIDENCE", "MAX_STEPS_PER_SPRINT", "SPOKEN_COMMANDS", "ConfirmPolicy", "Engine", "Input",
    "Resume", "SessionState", "Sprint", "Status", "TextInput", "Timeout", "global_word", "position", "read_erasure",
    "spoken_as_typed", "spoken_yes", "without_words",
]

HEARD_ECHO_CHARS = 200


class Engine(Asides):
    """Runs one flow. Holds only the flow, the study and its words: no I/O."""

    # ------------------------------------------------------------------ public API

    def start(
        self,
        now: datetime,
        language: str | None = None,
        fields: dict[str, Any] | None = None,
        at_step: str | None = None,
        seed: int = 0,
        population: Any = None,
        offer_languages: bool = False,
    ) -> Sprint:
        """A new conversation; ``offer_languages`` (someone joining by a way in that names no
        language) ends its first message with how to switch to the study's other languages."""
        state = SessionState(
            flow=self.flow.flow,
            version=self.version,
            language=language or self.default_language,
            fields=dict(fields or {}),
            seed=seed,
        )
        if schedule_timing.needs_sent_at(self.study, self.flow.flow):  # when it closes, for a snooze (not saved to the participant)
            state.fields[schedule_timing.SENT_AT] = now.isoformat()
        turn = Turn(state, now, population)
        self._enter(turn, at_step or self.flow.steps[0].id)
        offer = self.words.language_offer(state.language) if offer_languages else ""
        first = next((i for i, event in enumerate(turn.events) if isinstance(event, SendMessage)), None)
        if offer and first is not None:
            message = turn.events[first]
            assert isinstance(message, SendMessage)
            turn.events[first] = replace(message, text=f"{message.text}\n\n{offer}")
        return Sprint(turn.events, state)

    def handle(self, state: SessionState, given: Input, now: datetime, population: Any = None) -> Sprint:
        """One input in, events and the new state out. ``population`` is a read-only view of
        what the group said, for steps that show it (Delphi feedback, idea pools)."""
        turn = Turn(copy_state(state), now, population)
        if isinstance(given, TextInput):
            turn.keyboards = given.keyboards
            self._on_text(turn, given)
        elif isinstance(given, Timeout):
            self._on_timeout(turn, given)
        else:
            self._on_resume(turn)
        return Sprint(turn.events, turn.state, turn.command)

    def offered(self, state: SessionState, text: str, now: datetime, population: Any = None) -> bool:
        """Whether a reply is, word for word, one of the options the question being asked offers
        (a button's label or value, 'Can't decide' say): an answer, not words of the participant's
        own, which safeguarding need not read."""
        step = self._current(state)
        if not isinstance(step, InputStep) or isinstance(step, OpenStep) or state.status not in LIVE:
            return False
        return self._offers(Turn(copy_state(state), now, population), step, text)

    # ------------------------------------------------------------------ inputs

    def _on_text(self, turn: Turn, given: TextInput) -> None:
        state = turn.state
        if tapped_elsewhere(given.at, state):
            return  # a second tap, or a tap on an earlier message: not an answer to the question asked now
        turn.command = command = global_word(self.words, given)  # read once, for the whole sprint
        if command == "back" and state.status == "snoozed" and len(given.text.split()) > 1 and says_ready(given.text):
            turn.command = command = None  # 'back now', 'ok back now' after LATER: being back, not BACK
        choosing, state.choosing_language = state.choosing_language, False  # (only the reply right after asks it)
        erasure = read_erasure(self.words, given, command, state.erase_pending)
        if erasure is not None and self._erasure(turn, erasure, given, command):
            return
        if given.button is None and given.source != "voice" and self._global_word(turn, given.text, command, choosing):
            return
        if state.status == "ended" and self._asks_consent_again(turn, given, command):
            return
        if state.status in ("stopped", "ended"):
            if state.status == "ended" and not (command is None and self._continued_after_end(turn, given)):
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
        if typed and turn.woke and self._back_from_later(turn, step, given.text):  # 'ok im free now': the question again
            return
        if given.button is None and self._explained(turn, step, given.text):  # 'I don't understand', 'what?', 'beth?'
            return
        if typed and self._corrected(turn, step, given.text):  # 'sorry i meant 4': the answer before, changed
            return
        if step.skip and self.words.is_skip(given.text) and given.button is None:
            turn.emit(RecordAnswer(step.id, given.text, None, "", given.source, skipped=True))
            self._say(turn, self._text(turn, "skipped"), step.id, kind="info")
            self._advance(turn, step)
            return
        reply = Reply(given.text, given.button, given.source, given.confidence)
        outcome = read_reply(step, reply, self._context(turn, step))  # "skip" where it is not allowed: said so
        if isinstance(outcome, Answer | Continue) and self._needs_confirming(step, reply, outcome):
            self._ask_to_confirm(turn, step, reply, outcome)
        elif isinstance(outcome, Answer):
            self._accept(turn, step, reply, outcome)
        elif isinstance(outcome, Continue):
            self._continue(turn, step, reply, outcome)
        elif typed and self._continued(turn, step, given.text, outcome):
            return  # the rest of the free-text answer just given, sent as a second text
        elif typed and (snooze.starts_with_later(given.text, self._later_words)
                        or snooze.busy_until(given.text, turn.now, self._zone, bare=True) is not None):
            self._snooze(turn, given.text, "later")  # 'later, on a night shift', 'driving': put off, not an unclear answer
        elif reply.button is None and self._noted_aside(turn, step, reply):
            return  # a story told (or said) instead of an answer: kept as a comment, the question again
        else:  # (right after 'Which language would you like?': the question again, no try used)
            self._unclear(turn, step, outcome, heard=reply.text if reply.source == "voice" else None, after_language=choosing, tapped=reply.button is not None)

    def _back_from_later(self, turn: Turn, step: InputStep, text: str) -> bool:
        """A reply to a snoozed question that only says the participant is back ('ok im free
        now', 'ready', 'hi', 'dw i'n barod'; flows/ready_phrases.py) is no answer: the question
        is asked again, no try used. On a question it answers ('ok' to a YES or NO) it answers it,
        but not by an 'ok' that only leads into being back ('ok im free now' is no YES to consent)."""
        if not says_ready(text):
            return False
        if not self._takes_free_text(turn.state, step) and self._reads_itself(turn, text):
            rest = ready_without_yes(text)
            if rest is None or self._reads_itself(turn, rest):
                return False
        self._prompt(turn, step)
        return True

    def _nothing_to_read(self, turn: Turn, step: InputStep, given: TextInput) -> None:
        """A photo, sticker, video or file sent without words (or an empty message): not an
        answer, so not a try either. The participant is told what we can read (voice notes only
        where the question and their channel take them), and asked again if the question is far
        back (otherwise a voice answer waiting for YES or NO still waits)."""
        voice = given.voice_notes and "voice" in getattr(step, "accept", ("voice",))
        text = self.words.text("media.not_read" if voice else "media.not_read_typed", turn.state.language)
        self._say(turn, text, step.id, kind="retry")
        if self._asked_long_ago(turn):
            self._prompt(turn, step)

    # ------------------------------------------------------------------ answers read back

    def _needs_confirming(self, step: InputStep, reply: Reply, outcome: Answer | Continue) -> bool:
        """A typed or spoken answer the step read from a sentence that says more than it
        (``guessed``), or a voice answer as the step's ``confirm`` policy says."""
        if outcome.guessed and reply.button is None:
            return True
        return isinstance(outcome, Answer) and self._doubted(step, reply)

    def _doubted(self, step: InputStep, reply: Reply) -> bool:
        """Whether a voice note is read back before it counts: always, or when heard with low
        confidence, as the step's ``confirm`` (or the engine's) policy says; never a typed reply."""
        if reply.source != "voice":
            return False
        policy = getattr(step, "confirm", None) or self.voice_confirm
        if policy == "always":
            return True
        low = reply.confidence is not None and reply.confidence < self.low_confidence
        return policy == "low_confidence" and low

    def _ask_to_confirm(self, turn: Turn, step: InputStep, reply: Reply, outcome: Answer | Continue | None) -> None:
        """"I heard: '...'. Is that right?" for a voice note, "Just to check: 6?" for a number
        typed in a sentence, with YES/NO buttons; the reply waits in ``state.heard``. No
        ``outcome``: a story said instead of an answer (an aside), kept as a comment on YES."""
        turn.state.heard = {"text": reply.text, "confidence": reply.confidence, "source": reply.source,
                            **({"aside": True} if outcome is None else {})}
        heard = _echo(reply.text)
        # what this reply answered: the part of a many-part step ('7', not the step's '3 of 3 rated')
        parts = outcome.items if outcome is not None else []
        display = heard if outcome is None else _echo(
            ", ".join(i.display for i in parts) if parts or isinstance(outcome, Continue) else outcome.display)
        yes_no = (Button(self._text(turn, "yes"), "yes"), Button(self._text(turn, "no"), "no"))
        if reply.source != "voice":
            key = "confirm_number"
        elif isinstance(step, OpenStep) or display.lower() == heard.lower():
            key = "voice_confirm"
        else:
            key = "voice_confirm_answer"
        text = self._read_back(turn, key, yes_no).replace("{heard}", heard).replace("{answer}", display)
        buttons = self._placed(turn.state, yes_no)
        turn.emit(SendMessage(text, step.id, buttons, False, "prompt"))
        turn.emit(WaitForInput(step.id))

    def _read_back(self, turn: Turn, key: str, yes_no: tuple[Button, Button]) -> str:
        """The read-back ``key`` as the participant's channel shows its Yes and No: 'Tap Yes or
        No' (its ``_tap`` form) where they are buttons, 'Reply YES or NO' where they are not
        (SMS), or where the study words ``key`` its own way and not its tap form."""
        tap = f"{key}_tap"
        own = self.words.worded_by_study(key) and not self.words.worded_by_study(tap)
        if not shows_buttons(turn.keyboards, yes_no) or own:
            return self._text(turn, key)
        return self._text(turn, tap).replace("{yes}", yes_no[0].label).replace("{no}", yes_no[1].label)

    def _on_confirmation(self, turn: Turn, step: InputStep, given: TextInput) -> bool:
        """YES counts the answer waiting in ``state.heard``; NO asks the question again.
        False (and nothing done) when the reply is neither: it is read as an answer itself."""
        state = turn.state
        said = {"yes": True, "no": False}.get(given.button or "") if given.button else parse_yes_no(given.text)
        if said is None or state.heard is None:
            return False
        heard, state.heard = state.heard, None
        source = str(heard.get("source", "voice"))
        if not said and given.button is None and self._said_instead(turn, step, given):
            return True  # 'no, 3': not asked again, 3 is the answer
        if not said:
            self._say(turn, self._text(turn, "voice_try_again" if source == "voice" else "confirm_try_again"), step.id, kind="info")
            self._prompt(turn, step)
            return True
        reply = Reply(str(heard.get("text", "")), None, source, heard.get("confidence"))
        outcome = step.interpret(reply, self._context(turn, step))
        if isinstance(outcome, Answer):
            self._accept(turn, step, reply, outcome)
        elif isinstance(outcome, Continue):
            self._continue(turn, step, reply, outcome)
        elif not (heard.get("aside") and self._noted_aside(turn, step, reply, confirmed=True)):
            self._unclear(turn, step, outcome, heard=reply.text if source == "voice" else None)
        return True

    def _said_instead(self, turn: Turn, step: InputStep, given: TextInput) -> bool:
        """A NO with a number after it ('no, 3', "no it's 3", 'nope, three', 'na, 3') to an answer
        read back ("Just to check: 4?"): the participant corrects it, so the number is read as
        any reply to the question is (asked again if out of range or in another unit, checked if
        it too comes in a sentence) rather than the question asked again. False, and nothing
        done, for a NO with no one number after it, and at a free-text question, whose answer
        any words after a NO would be."""
        instead = said_after_no(given.text)
        if instead is None or isinstance(step, OpenStep) or parse_number(instead, decimal_comma=True) is None:
            return False
        reply = Reply(corrected_value(instead) or instead, None, given.source, given.confidence)  # 'no, I meant 3'
        outcome = step.interpret(reply, self._context(turn, step))
        said = replace(reply, text=given.text)  # recorded as sent
        if isinstance(outcome, Answer | Continue) and self._needs_confirming(step, reply, outcome):
            self._ask_to_confirm(turn, step, reply, outcome)
        elif isinstance(outcome, Answer):
            self._accept(turn, step, said, outcome)
        elif isinstance(outcome, Continue):
            self._continue(turn, step, said, outcome)
        else:
            self._unclear(turn, step, outcome)
        return True

    def _on_timeout(self, turn: Turn, given: Timeout) -> None:
        state = turn.state
        if state.status != "waiting" or state.step != given.step_id:
            return
        step = self._step(given.step_id)
        turn.emit(RecordAnswer(step.id, "", None, "", "timeout", skipped=True))
        if isinstance(step, ConsentStep):  # no reply is no consent: nothing is asked without a YES
            self._not_consented(turn, step)
        elif step.on_timeout:
            self._enter(turn, step.on_timeout)
        else:
            self._advance(turn, step)

    def _on_resume(self, turn: Turn) -> None:
        state = turn.state
        if state.status not in LIVE:
            return
        state.status = "waiting"
        state.tries = 0  # the question is asked afresh
        step = self._current(state)
        if step is not None:
            self._prompt(turn, step, kind="reminder")

    # ------------------------------------------------------------------ answers

    def _accept(self, turn: Turn, step: InputStep, reply: Reply, answer: Answer) -> None:
        state = turn.state
        state.values[step.id] = answer.value
        state.displays[step.id] = answer.display
        state.tries = 0
        self._keep_parts(state, step, [item.item for item in answer.items])
        raw = reply.text or (reply.button or "")
        self._keep_open_answer(turn, step, reply, raw)
        for item in answer.items:
            turn.emit(RecordAnswer(step.id, raw, item.value, item.display, reply.source, item.skipped, item=item.item))
        turn.emit(RecordAnswer(step.id, raw, answer.value, answer.display, reply.source))
        if step.save_to:
            name = step.save_to.removeprefix("participant.")
            state.fields[name] = answer.value
            turn.emit(SetField(name, answer.value))
        if isinstance(step, ConsentStep) and answer.value == "no":
            self._declined(turn, step)
            return
        self._advance(turn, step, answer.value)

    def _continue(self, turn: Turn, step: InputStep, reply: Reply, progress: Continue) -> None:
        state = turn.state
        state.tries, state.last_open = 0, None
        state.undo = [*state.undo, {"data": state.step_data, "items": [item.item for item in progress.items]}]
        state.step_data = dict(progress.data)
        raw = reply.text or (reply.button or "")
        for item in progress.items:
            turn.emit(RecordAnswer(step.id, raw, item.value, item.display, reply.source, item.skipped, item=item.item))
        if progress.message:
            self._say(turn, progress.message, step.id, kind="info")
        self._prompt(turn, step)

    def _unclear(self, turn: Turn, step: InputStep, unclear: Unclear, heard: str | None = None, after_language: bool = False, tapped: bool = False) -> None:
        """The hint, and the question again when it is far back or was ``tapped`` (the channel took its buttons away: Telegram's
        Done with too many ticks); ``after_language``: the reply came right after 'Which language would you like?' and named
        none, so the language question is the last thing the participant saw and the reply may have been meant for it:
        the hint and the question again, using no try."""
        state = turn.state
        state.tries += 1 if unclear.uses_a_try and not after_language else 0
        if state.tries < step.max_tries:
            text = self._render(turn, step.retry, step) if step.retry is not None else ""
            text = f"{text} {unclear.hint}".strip() if text != unclear.hint else text
            if heard and _echo(heard):  # say what a voice note sounded like, so they know why
                text = self._text(turn, "voice_heard").replace("{heard}", _echo(heard)) + " " + text
            if after_language or tapped or self._asked_long_ago(turn):
                self._say_and_ask(turn, text, step, kind="retry")
            else:
                self._say(turn, text, step.id, kind="retry")
            return
        state.tries = 0
        if isinstance(step, ConsentStep):  # never skipped, whatever on_max_tries says: no clear YES is no consent
            turn.emit(RecordAnswer(step.id, "", None, "", "text", skipped=True))
            self._not_consented(turn, step)
            return
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

    # ------------------------------------------------------------------ consent

    def _declined(self, turn: Turn, step: ConsentStep) -> None:
        """NO at consent ends the conversation as ``declined``, unless a ``next`` rule singles
        the NO out (true for "no", not for "yes": ``if: answer == "no"``), when it goes where
        that rule says. A rule that would take a YES too never takes a NO on to the questions."""
        for rule in self._rules.get(step.id) or step.next_rules():
            if rule.when is None:
                break
            if self._holds(turn, step, rule.when, "no"):
                if not self._holds(turn, step, rule.when, "yes"):
                    self._enter(turn, rule.goto)
                    return
                break
        self._say(turn, self._render(turn, step.declined, step) or self._text(turn, "declined"), step.id, kind="end")
        self._end(turn, "declined")

    def _holds(self, turn: Turn, step: ConsentStep, condition: str, answer: str) -> bool:
        try:
            return bool(evaluate(condition, self._template_context(turn.state, answer)))
        except TemplateFailure as failure:
            if answer == "no":  # (flagged once, as the engine does when it moves on)
                turn.emit(RaiseFlag("template_error", f"condition '{condition}' on step '{step.id}': {failure}", step.id))
            return False

    def _not_consented(self, turn: Turn, step: ConsentStep) -> None:
        """No clear YES after every try, or no reply before the timeout: taken as a no for now."""
        self._say(turn, self._text(turn, "no_consent"), step.id, kind="end")
        self._end(turn, "no_consent")

    def _asks_consent_again(self, turn: Turn, given: TextInput, command: str | None) -> bool:
        """START, or the study's join keyword, after a conversation ended at consent without a
        YES: the consent question is asked again (the texts that end it say so)."""
        state, step = turn.state, self._current(turn.state)
        if state.outcome not in NOT_CONSENTED or not isinstance(step, ConsentStep) or given.button is not None:
            return False
        if command != "start" and not self.words.is_join_keyword(given.text):
            return False
        state.outcome = None
        self._enter(turn, step.id)
        return True

    def _go_on_without(self, turn: Turn, step: InputStep, given_up: GiveUp) -> None:
        """After max tries on one part of a many-item step: the rest of the step goes on (or
        the step finishes with what was answered). BACK asks the part left again."""
        if isinstance(given_up.then, Answer):
            at = len(turn.state.history) - 1
            self._accept(turn, step, Reply(""), given_up.then)
            self._left_in_last_part(turn.state, step, at, given_up.left)  # (BACK to it asks the part left again)
            return
        self._continue(turn, step, Reply(""), given_up.then)
        state = turn.state
        state.undo[-1] = {**state.undo[-1], "items": [*state.undo[-1]["items"], *given_up.left]}


def _echo(text: str) -> str:
    """A transcript as it may be read back: one line, not too long, no template marks, and
    without its closing punctuation, which the template's own follows ('I heard: "Sandburn".',
    not '"Sandburn.".'; the answer keeps the transcript as it was)."""
    clean = " ".join(text.replace("{", "(").replace("}", ")").split()).rstrip(" .!?,;:…")
    return clean if len(clean) <= HEARD_ECHO_CHARS else clean[: HEARD_ECHO_CHARS - 1].rstrip() + "…"
