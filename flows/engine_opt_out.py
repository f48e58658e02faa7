"""The engine's ways out: STOP (and the one reply still sent after it), a reply that may ask to
stop or may answer ('I want out', a bare 'wrong number' at a free-text question), which is
asked which ('Do you want us to stop messaging you?'), and DELETE MY DATA, which is asked to
confirm. A voice note that may ask to stop is asked alike (:meth:`EngineOptOut._spoken_stop`).
The words themselves are read in flows/opt_out_phrases.py; the texts are built in."""

from __future__ import annotations

from flows.engine_core import Turn
from flows.engine_undo import EngineUndo
from flows.events import ErasureConfirmed, OptedOut
from flows.inputs import TextInput, spoken_yes
from flows.opt_out_phrases import may_ask_to_opt_out, only_wrong_number, wrong_number_language
from flows.parsing import parse_yes_no
from flows.session_state import LIVE, position
from flows.steps.base import InputStep
from flows.steps.consent import NOT_CONSENTED
from flows.words import normalised_word, without_polite_words

STOP_ASKED = "_stop_asked"
"""Where the conversation was (:func:`flows.session_state.position`) when the participant was asked
'Do you want us to stop messaging you?' (kept in the session's fields, as ``_sent_at`` is: never
saved to the participant); only the reply right after, at that same question, answers it."""
CARRY_ON = frozenset({"carry on", "continue", "keep going", "go on", "go ahead", "im fine", "its fine", "no its fine",
                      "parhau", "dal ati", "daliwch ati", "ymlaen", "awn ymlaen", "maen iawn", "main iawn"})
"""Replies to 'Do you want us to stop messaging you?' that say carry on, as NO does."""
WRONG_NUMBER_ASKED = "_wrong_number_asked"
"""The language of a bare 'wrong number' ('rhif anghywir') that was asked about at a free-text
question (kept beside :data:`STOP_ASKED`): a YES to that is a STOP with the wrong number's apology and reason."""
WRONG_NUMBER = "wrong number"
"""The reason an opt-out gives (:attr:`OptedOut.reason`, the audit event's) when the number is someone else's now."""


class EngineOptOut(EngineUndo):
    """STOP, asking whether a reply asks to stop, and DELETE MY DATA, on top of :class:`flows.engine_undo.EngineUndo`."""

    # ------------------------------------------------------------------ erasure on request

    def _erasure(self, turn: Turn, erasure: str, given: TextInput, command: str | None) -> bool:
        """DELETE MY DATA at any point (even after STOP): ask to confirm; YES emits
        :class:`ErasureConfirmed` for the service to act on, and the confirmation to send
        (kind 'erased'); a spoken yes is asked to type YES
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
        if erasure == "confirmed":  # the service erases, then sends this once to the address it came from
            turn.emit(ErasureConfirmed())
            self._say(turn, self._text(turn, "erased"), kind="erased")
            return True
        self._say(turn, self._text(turn, "erase_cancelled"), kind="erase_cancelled")
        if given.button is None and (command or self.words.language_switch(given.text)):
            return False
        self._reprompt(turn)
        return True

    # ------------------------------------------------------------------ stopping

    def _stop(self, turn: Turn, text: str, wrong_number: str | None = None) -> None:
        """STOP: :class:`OptedOut`, and the one reply still sent (kind 'stopped'). To 'wrong number'
        ('who is this? wrong number', 'rhif anghywir': :func:`flows.opt_out_phrases.wrong_number_language`),
        whose writer is not the participant, an apology instead, in the language of their words
        if the study speaks it, and the opt-out gives that reason; so too to a YES after a bare
        'wrong number' was asked about (``wrong_number``: the language it was in)."""
        state = turn.state
        state.before_stop, state.status = state.status, "stopped"
        language = wrong_number_language(text) or wrong_number
        if language is None:
            turn.emit(OptedOut())
            self._say(turn, self._text(turn, "stopped"), kind="stopped")
            return
        turn.emit(OptedOut(WRONG_NUMBER))
        self._say(turn, self.words.text("wrong_number", self._said_in(turn, language)), kind="stopped")

    def _said_in(self, turn: Turn, language: str) -> str:
        """The language the participant's words were in, if the study speaks it; else theirs."""
        return language if language in self.words.languages else turn.state.language

    def _may_answer_what_went_wrong(self, turn: Turn, text: str) -> bool:
        """A bare 'wrong number' ('rhif anghywir': :func:`flows.opt_out_phrases.only_wrong_number`)
        at a question that takes any words ('What went wrong?') may be the answer, or may say the
        number is not theirs: 'Do you want us to stop messaging you?', in the language of the words
        if the study speaks it, as for 'I want out' (:meth:`_may_want_to_stop`). YES (or a STOP, or
        'wrong number' again) is then the wrong number's STOP; anything else is read as usual. At
        any other question, or none, or said with more ('you have the wrong number'), it is a STOP."""
        state = turn.state
        if state.status not in LIVE or not only_wrong_number(text):
            return False
        step = self._current(state)
        language = wrong_number_language(text)
        if not isinstance(step, InputStep) or not self._takes_free_text(state, step) or language is None:
            return False
        state.fields[STOP_ASKED] = position(state)
        state.fields[WRONG_NUMBER_ASKED] = language
        self._say(turn, self.words.text("stop_confirm", self._said_in(turn, language)), step.id, kind="info")
        return True

    def _may_want_to_stop(self, turn: Turn, text: str) -> bool:
        """A reply that may ask to stop taking part or may answer the question ('I want out',
        "I don't want to do this anymore" to 'How do you feel about your treatment?', 'dw i eisiau
        gadael'; :func:`flows.opt_out_phrases.may_ask_to_opt_out`): 'Do you want us to stop messaging you?
        Reply STOP to stop, or carry on answering.' Nothing is kept as the answer and no try is
        used; YES (or the same again) then is a STOP, NO the question again, anything else an
        answer. A question whose own options take the reply ('Not interested') is answered. After the
        end (follow-ups may still come) it is asked too, unless the participant never consented."""
        state = turn.state
        if state.status == "ended" and state.outcome not in NOT_CONSENTED and may_ask_to_opt_out(text):
            state.fields[STOP_ASKED] = position(state)  # ended, but follow-ups may still come: ask as well
            self._say(turn, self._text(turn, "stop_confirm_ended"), kind="info")
            return True
        if state.status not in LIVE or not may_ask_to_opt_out(text):
            return False
        step = self._current(state)
        if not isinstance(step, InputStep) or (not self._takes_free_text(state, step) and self._reads_itself(turn, text)):
            return False
        state.fields[STOP_ASKED] = position(state)
        self._say(turn, self._text(turn, "stop_confirm"), step.id, kind="info")
        return True

    def _carry_on(self, turn: Turn) -> None:
        """NO (or 'carry on') to 'Do you want us to stop messaging you?': the question again,
        woken if it was put off with LATER (the participant is here to answer it)."""
        if turn.state.status == "snoozed":
            turn.state.status, turn.woke = "waiting", True
        ended = turn.state.status == "ended"  # no question to carry on with: follow-ups will still come
        self._say(turn, self._text(turn, "stop_confirm_no_ended" if ended else "stop_confirm_no"), kind="info")
        self._reprompt(turn)

    def _spoken_stop(self, turn: Turn, text: str) -> bool:
        """A voice note whose whole transcript may ask to stop ('I want out'; one that asks
        outright, 'stop texting me', is a spoken STOP already: :func:`flows.inputs.spoken_as_typed`)
        is asked 'Do you want us to stop messaging you?' as a typed one is (:meth:`_may_want_to_stop`),
        and kept nowhere; said right after that question, yes or the same again is a STOP and no or
        'carry on' the question again. (The engine reads a voice note's global words nowhere else;
        a typed reply, read in :meth:`_global_word` already, finds nothing more here.)"""
        asked = turn.state.fields.pop(STOP_ASKED, None) == position(turn.state)  # (only the reply right after asks it)
        if asked and (parse_yes_no(text) is True or may_ask_to_opt_out(text)):
            turn.command = "stop"
            self._stop(turn, text)
            return True
        if asked and carries_on(text):
            self._carry_on(turn)
            return True
        return self._may_want_to_stop(turn, text)


def carries_on(text: str) -> bool:
    """Whether a reply to 'Do you want us to stop messaging you?' says no, or carry on."""
    said = normalised_word(text).replace("'", "")
    return parse_yes_no(text) is False or said in CARRY_ON or any(phrase in CARRY_ON for phrase in without_polite_words(said))
