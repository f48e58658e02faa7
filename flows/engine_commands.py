"""The engine's global words: STOP and START, HELP, LATER (a snooze), BACK, a language, and
DELETE MY DATA, which may come at any point of a conversation instead of an answer. This layer
reads which one a reply is and hands it on: STOP, a reply that may ask to stop and DELETE MY
DATA to flows/engine_opt_out.py, LATER to flows/engine_later.py, a language to
flows/engine_languages.py, BACK (and a correction, 'sorry i meant 4') to flows/engine_undo.py.
A global word that is the question's own option ('Back', 'Not now', 'English') answers it.

The layers below this one, each on top of the one before: flows/engine_core.py,
flows/engine_undo.py, flows/engine_opt_out.py, flows/engine_later.py, flows/engine_languages.py,
flows/engine_what_it_means.py ('I don't understand') and flows/engine_second_text.py (the rest
of a free-text answer sent in a second text)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from flows import snooze
from flows.engine_core import Turn
from flows.engine_opt_out import STOP_ASKED, WRONG_NUMBER_ASKED, carries_on
from flows.engine_second_text import EngineSecondText
from flows.events import OptedIn
from flows.opt_out_phrases import may_ask_to_opt_out
from flows.parsing import parse_yes_no
from flows.session_state import LIVE, position
from flows.steps.base import Answer, InputStep, Reply

__all__ = ["EngineCommands"]


class EngineCommands(EngineSecondText):
    """The global words, on top of the layers that answer them (:class:`flows.engine_second_text.EngineSecondText`)."""

    if TYPE_CHECKING:  # provided by flows.engine.Engine
        def _accept(self, turn: Turn, step: InputStep, reply: Reply, answer: Answer) -> None: ...

    def _global_word(self, turn: Turn, text: str, command: str | None, choosing: bool = False) -> bool:
        """STOP, START, HELP, LATER, BACK or a language (``command``: the global word ``text``
        is, read once by the caller); with ``choosing``, the reply right after the bot asked which
        language may name one. False when the reply is none of these: an answer."""
        state = turn.state
        asked = state.fields.pop(STOP_ASKED, None) == position(state)  # (only the reply right after asks it)
        wrong_number = state.fields.pop(WRONG_NUMBER_ASKED, None)
        wrong_number = wrong_number if asked else None  # (said before the question now asked: not this reply's)
        if asked and command is None and (parse_yes_no(text) is True or may_ask_to_opt_out(text)):
            command = turn.command = "stop"  # 'yes', or 'I want out' again: a STOP
        if command == "stop" and not asked and self._may_answer_what_went_wrong(turn, text):
            turn.command = None  # asked, not stopped: the reply is read as any other
            return True
        if command == "stop":
            if state.status != "stopped":
                self._stop(turn, text, wrong_number)
            return True
        if state.status == "stopped":
            if command == "start":
                state.status, state.before_stop = state.before_stop or "waiting", None
                turn.emit(OptedIn())
                self._say(turn, self._text(turn, "restarted"), kind="info")
                self._reprompt(turn)
            return True
        if asked and command is None and carries_on(text):
            self._carry_on(turn)
            return True
        if choosing and self._language_chosen(turn, text):
            return True
        if command is None and self._may_want_to_stop(turn, text):
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
        if command in ("later", None) and state.status in LIVE and self._snooze(turn, text, command):
            return True
        if command == "back" and state.status in LIVE:
            self._back(turn)
            return True
        switch = self.words.language_switch(text)
        if switch is None:
            return self._asks_for_another_language(turn, text)
        if isinstance(switch, str):
            self._switch_language(turn, switch)
        else:
            self._ask_language(turn, "language_ask" if switch is True else "language_unknown")
        return True

    def _answers_question(self, turn: Turn, text: str, command: str | None) -> bool:
        """The whole reply is, word for word, one of the current question's own answers (a
        button's label or value) that is also a global word other than STOP: an option 'Back'
        (where the pain is), 'Busy', 'Not now' or 'English' answers the question. STOP words
        always stop (the providers stop delivering after them anyway); validation warns of
        an option that is one."""
        state = turn.state
        if state.status not in LIVE:
            return False
        if command is None and self.words.language_switch(text) is None and not snooze.may_be_snooze(text, self._later_words):
            return False
        step = self._current(state)
        if not isinstance(step, InputStep):
            return False
        return self._offers(turn, step, text)
