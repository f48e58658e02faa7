"""The engine going back: BACK to the question before (its answer and every later one
withdrawn), within a many-part step (a Delphi item, a pair, a choice task) part by part, and
a correction of the answer just given ('sorry i meant 4', flows/corrections.py), which goes
back to change it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from flows.corrections import corrected_value
from flows.engine_core import EngineCore, Turn
from flows.events import AnswersWithdrawn, SetField
from flows.model import StepBase
from flows.session_state import SessionState
from flows.steps.base import Answer, InputStep, Reply
from flows.steps.choice import ChoiceStep
from flows.steps.consent import ConsentStep
from flows.steps.number import NumberStep
from flows.steps.open import OpenStep
from flows.steps.scale import ScaleStep
from flows.steps.yesno import YesNoStep

CORRECTABLE = (ChoiceStep, ScaleStep, NumberStep, YesNoStep)
"""Questions a correction ('sorry i meant 4') may change: one answer each (not a consent,
which only a YES or NO to it changes, nor a step of many parts, which BACK goes through)."""
CORRECTION_WORDS = 4
"""The most words a correction made on a free-text question may give: 'I meant 4', 'I meant
the second one'; a longer value is the answer to the free-text question."""


class EngineUndo(EngineCore):
    """BACK and corrections, on top of :class:`flows.engine_core.EngineCore`."""

    if TYPE_CHECKING:  # provided by flows.engine.Engine
        def _accept(self, turn: Turn, step: InputStep, reply: Reply, answer: Answer) -> None: ...

    def _back(self, turn: Turn) -> None:
        state = turn.state
        if state.undo and isinstance(self._current(state), InputStep):
            self._back_within(turn)
            return
        previous = self._rewind(turn)
        if previous is None:
            self._say(turn, self._text(turn, "back_at_start"), kind="info")
            self._reprompt(turn)
            return
        self._prompt(turn, previous)

    def _previous_question(self, state: SessionState) -> tuple[StepBase, int] | None:
        """The question asked before the current one, and where it is in the path; None at the first."""
        earlier = state.history[:-1] if state.history and state.history[-1] == state.step else state.history
        for index in range(len(earlier) - 1, -1, -1):
            step = self._step_or_none(earlier[index])
            if isinstance(step, InputStep):
                return step, index
        return None

    def _rewind(self, turn: Turn) -> StepBase | None:
        """Back to the question before the current one, its answer and every later one
        withdrawn; that question, to ask or answer again (None at the first question). A
        many-part step answered over several replies goes back to its last part only
        (:meth:`_into_last_part`)."""
        state = turn.state
        found = self._previous_question(state)
        if found is None:
            return None
        previous, index = found
        kept = state.history[: index + 1]
        left = [step_id for step_id in state.history[len(kept):] if step_id not in kept]
        self._forget(turn, left, kept)
        answered = state.answered_parts.get(str(index))
        state.answered_parts = {at: entry for at, entry in state.answered_parts.items() if int(at) < index}
        state.history = kept
        state.step, state.status, state.tries = previous.id, "waiting", 0
        state.step_data, state.undo = {}, []  # (the step asked again starts afresh, not with the one left's data)
        if answered is not None and answered["step"] == previous.id and isinstance(previous, InputStep):
            self._into_last_part(turn, previous, answered["parts"], left)
            return previous
        # (from where ``previous`` was entered last: its answers in an earlier loop through it stand)
        turn.emit(AnswersWithdrawn(tuple(dict.fromkeys([previous.id, *left])), from_position=len(kept)))
        return previous

    def _into_last_part(self, turn: Turn, step: InputStep, parts: list[dict[str, Any]], left: list[str]) -> None:
        """BACK from the question after a many-part step: its last part (the last Delphi item,
        pair, pick) is asked again, with that part's answers withdrawn and the step's own answer
        (its "3 of 3 rated", a ranking's order), which it gives again once finished again; a
        further BACK goes through the parts before, as within the step."""
        state, position = turn.state, len(turn.state.history)
        *undo, last = parts
        if left:
            turn.emit(AnswersWithdrawn(tuple(dict.fromkeys(left)), from_position=position))
        turn.emit(AnswersWithdrawn((step.id,), tuple(last["items"]), from_position=position, own_answer=True))
        state.step_data, state.undo = dict(last["data"]), undo

    def _keep_parts(self, state: SessionState, step: InputStep, items: list[str]) -> None:
        """A step answered over several replies: its parts kept (:attr:`SessionState.answered_parts`),
        ``items`` those its last part recorded, for BACK from the question after it."""
        if not state.undo or not state.history or state.history[-1] != step.id:
            return  # answered in one reply: BACK asks it afresh
        last = {"data": state.step_data, "items": items}
        state.answered_parts[str(len(state.history) - 1)] = {"step": step.id, "parts": [*state.undo, last]}

    @staticmethod
    def _left_in_last_part(state: SessionState, step: InputStep, at: int, left: tuple[str, ...]) -> None:
        """The items a step's last part left after too many unclear replies (recorded as
        skipped) belong to that part: BACK to it withdraws them too."""
        answered = state.answered_parts.get(str(at))
        if answered is None or answered["step"] != step.id or not left:
            return
        *earlier, last = answered["parts"]
        state.answered_parts[str(at)] = {**answered, "parts": [*earlier, {**last, "items": [*last["items"], *left]}]}

    # ------------------------------------------------------------------ corrections

    def _corrected(self, turn: Turn, step: InputStep, text: str) -> bool:
        """'sorry i meant 4', 'oops 4 not 3', 'correction: 4' (flows/corrections.py): the answer
        just given, changed. Once this question has had an unclear reply (or was answered
        before, and BACK came to it again), the value answers it. Otherwise the value answers
        the question before, which is asked again ('Changed your answer to 4.', then on); a
        value it cannot take asks it again, as BACK would. On a free-text question only a short
        value that the question before takes is a correction: 'I meant to say the nurses were
        kind' is an answer. False (nothing done) when the reply is no correction."""
        value = corrected_value(text)
        state = turn.state
        if value is None or state.undo:
            return False
        if not isinstance(step, OpenStep) and (state.tries > 0 or step.id in state.values):
            outcome = step.interpret(Reply(value), self._context(turn, step))
            if isinstance(outcome, Answer):
                self._accept(turn, step, Reply(text), outcome)
                return True
            return False
        found = self._previous_question(state)
        previous = found[0] if found is not None else None
        if not isinstance(previous, CORRECTABLE) or isinstance(previous, ConsentStep):
            return False
        outcome = previous.interpret(Reply(value), self._context(turn, previous))
        fits = isinstance(outcome, Answer)
        if isinstance(step, OpenStep) and (not fits or len(value.split()) > CORRECTION_WORDS):
            return False
        self._rewind(turn)
        if not isinstance(outcome, Answer):
            self._prompt(turn, previous)
            return True
        self._say(turn, self._text(turn, "answer_changed").replace("{answer}", outcome.display), previous.id, kind="info")
        self._accept(turn, previous, Reply(text), outcome)
        return True

    def _back_within(self, turn: Turn) -> None:
        """BACK in a many-item step (a Delphi item, a pair, a choice task): the part answered
        last is asked again, its answers withdrawn."""
        state = turn.state
        *state.undo, last = state.undo
        state.step_data, state.tries = dict(last["data"]), 0
        step = self._step(str(state.step))
        if last["items"]:
            turn.emit(AnswersWithdrawn((step.id,), tuple(last["items"]), from_position=len(state.history)))
        self._prompt(turn, step)

    def _forget(self, turn: Turn, step_ids: list[str], kept: list[str]) -> None:
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
