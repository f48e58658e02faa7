"""The engine going back: BACK to the question before (its answer and every later one
withdrawn), within a many-part step (a Delphi item, a pair, a choice task) part by part, and
a correction of the answer just given ('sorry i meant 4', flows/corrections.py), which goes
back to change it: the question before, or the part of a many-part step answered last."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING, Any

from flows.corrections import corrected_value
from flows.engine_core import EngineCore, Turn
from flows.events import AnswersWithdrawn, SetField
from flows.model import StepBase
from flows.population import SUBMISSION_ITEM
from flows.session_state import SessionState
from flows.steps.base import Answer, Continue, InputStep, Reply, Unclear
from flows.steps.consent import ConsentStep
from flows.steps.delphi import DelphiStep
from flows.steps.open import OpenStep

CORRECTION_WORDS = 4
"""The most words a correction made on a free-text question may give: 'I meant 4', 'I meant
the second one'; a longer value is the answer to the free-text question."""


class EngineUndo(EngineCore):
    """BACK and corrections, on top of :class:`flows.engine_core.EngineCore`."""

    if TYPE_CHECKING:  # provided by flows.engine.Engine
        def _accept(self, turn: Turn, step: InputStep, reply: Reply, answer: Answer) -> None: ...
        def _continue(self, turn: Turn, step: InputStep, reply: Reply, progress: Continue) -> None: ...

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
        just given, changed. Once this question (or part) has had an unclear reply, or was
        answered before and BACK came to it again, the value answers it. Otherwise it changes
        the answer before: within a many-part step (a Delphi item, a pick, a pair) the part
        answered last (:meth:`_corrected_within`), else the question before
        (:meth:`_corrected_before`), a many-part step's last part. False (nothing done) when the
        reply is no correction, or is the answer to a free-text question."""
        value = corrected_value(text)
        if value is None:
            return False
        state = turn.state
        if not self._takes_free_text(state, step) and (state.tries > 0 or step.id in state.values):
            return self._answers_current(turn, step, text, value)
        if state.undo:
            return self._corrected_within(turn, step, text, value)
        return self._corrected_before(turn, step, text, value)

    def _answers_current(self, turn: Turn, step: InputStep, text: str, value: str) -> bool:
        """The corrected value as the answer to the question (or part) being asked; False
        (nothing done) when it does not answer it."""
        outcome = step.interpret(Reply(value), self._context(turn, step))
        if isinstance(outcome, Answer):
            self._accept(turn, step, Reply(text), outcome)
        elif isinstance(outcome, Continue):
            self._continue(turn, step, Reply(text), outcome)
        return isinstance(outcome, Answer | Continue)

    def _corrected_within(self, turn: Turn, step: InputStep, text: str, value: str) -> bool:
        """A correction inside a many-part step: the part answered last is withdrawn and the
        value answers it, as BACK and that value would, and the step carries on from there
        (that part asked again if the value does not fit it). A part no correction can change
        (a Delphi reason, NEXT at a pause, an idea put forward) is left: reply BACK, the
        participant is told. At a Delphi reason a correction must be short and fit the score
        before it, or it is the reason."""
        state = turn.state
        part = state.undo[-1]
        free_text = self._takes_free_text(state, step)
        if not _changeable(step, part):
            return False if free_text else self._use_back(turn, step)
        if free_text and not self._would_fit(turn, step, part, value):
            return False
        self._withdraw_last_part(turn, step)
        self._apply_correction(turn, step, text, value, part["items"])
        return True

    def _corrected_before(self, turn: Turn, step: InputStep, text: str, value: str) -> bool:
        """A correction of the question before: it is asked again (a many-part step answered
        over several replies, from its last part: :meth:`_rewind`) and the value answers it
        ("Changed your answer to 4.", then on), or it is asked again when the value does not
        fit. On a free-text question only a short value that the question before takes is a
        correction: 'I meant to say the nurses were kind' is an answer. A question no
        correction can change (a consent, free text, a Delphi reason) is left and the current
        one asked again, with how to change it (BACK): the correction never answers it."""
        state = turn.state
        found = self._previous_question(state)
        previous, index = found if found is not None else (None, 0)
        if not isinstance(previous, InputStep):
            return False  # the first question: the reply is read as an answer to it
        answered = state.answered_parts.get(str(index))
        part = answered["parts"][-1] if answered is not None and answered["step"] == previous.id else None
        free_text = self._takes_free_text(state, step)
        if isinstance(previous, OpenStep | ConsentStep) or (part is not None and not _changeable(previous, part)):
            return False if free_text else self._use_back(turn, step)
        if free_text and not self._would_fit(turn, previous, part, value):
            return False
        self._rewind(turn)
        self._apply_correction(turn, previous, text, value, part["items"] if part is not None else None)
        return True

    def _would_fit(self, turn: Turn, step: InputStep, part: dict[str, Any] | None, value: str) -> bool:
        """Whether a correction typed at a free-text question is one: a short value that ``step``
        (at ``part``, the part it would change) takes."""
        if len(value.split()) > CORRECTION_WORDS:
            return False
        context = replace(self._context(turn, step), data=dict(part["data"]) if part is not None else {})
        return _fits(step.interpret(Reply(value), context), part["items"] if part is not None else None)

    def _apply_correction(self, turn: Turn, step: InputStep, text: str, value: str, items: list[str] | None) -> None:
        """``step`` is back where the corrected answer (or part, which recorded ``items``) was
        given: the value answers it ("Changed your answer to 4.", then on as any answer
        goes), or, when it does not fit there, it is asked again, as BACK would."""
        outcome = step.interpret(Reply(value), self._context(turn, step))
        if not isinstance(outcome, Answer | Continue) or not _fits(outcome, items):
            self._prompt(turn, step)
            return
        shown = _shown(outcome, items is not None) or value
        self._say(turn, self._text(turn, "answer_changed").replace("{answer}", shown), step.id, kind="info")
        if isinstance(outcome, Answer):
            self._accept(turn, step, Reply(text), outcome)
        else:
            self._continue(turn, step, Reply(text), outcome)

    def _use_back(self, turn: Turn, step: InputStep) -> bool:
        """A correction of an answer it cannot change: how to change it (BACK), and the
        question being asked again. No try is used; nothing is recorded."""
        self._say(turn, self._text(turn, "correction_use_back"), step.id, kind="info")
        self._prompt(turn, step)
        return True

    @staticmethod
    def _takes_free_text(state: SessionState, step: InputStep) -> bool:
        """Whether the question being asked takes any words: a free-text question, or a
        Delphi's "Why did you give that score?"."""
        return isinstance(step, OpenStep) or (isinstance(step, DelphiStep) and state.step_data.get("await") == "reason")

    def _back_within(self, turn: Turn) -> None:
        """BACK in a many-item step (a Delphi item, a pair, a choice task): the part answered
        last is asked again, its answers withdrawn."""
        step = self._step(str(turn.state.step))
        self._withdraw_last_part(turn, step)
        self._prompt(turn, step)

    def _withdraw_last_part(self, turn: Turn, step: StepBase) -> None:
        """The part of the many-part step being asked that was answered last: its answers
        withdrawn and the step back where it was before that part was answered."""
        state = turn.state
        *state.undo, last = state.undo
        state.step_data, state.tries = dict(last["data"]), 0
        if last["items"]:
            turn.emit(AnswersWithdrawn((step.id,), tuple(last["items"]), from_position=len(state.history)))

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


def _changeable(step: InputStep, part: dict[str, Any]) -> bool:
    """Whether a correction may change a part of a many-part step (as :attr:`SessionState.undo`
    keeps it): one that recorded an answer (a score, a pick, a pair, a vote, a choice task),
    not NEXT at a pause, an idea put forward (ADD) or a Delphi score's reason (free text)."""
    items = part["items"]
    if not items or SUBMISSION_ITEM in items:
        return False
    return not (isinstance(step, DelphiStep) and part["data"].get("await") == "reason")


def _fits(outcome: Answer | Continue | Unclear, items: list[str] | None) -> bool:
    """Whether a correction's value answers what it changes: the question, or (``items``) the
    part that recorded those items, with an answer to the same part (a score for the same
    item, not an idea put forward instead)."""
    if not isinstance(outcome, Answer | Continue):
        return False
    return not items or items[0] in {item.item for item in outcome.items}


def _shown(outcome: Answer | Continue, part: bool) -> str:
    """The changed answer as the participant is told it: a part's own answer (a score, a
    pick, the idea preferred), or the question's ("1 of 1 rated" is not said for a score)."""
    if outcome.items and (part or len(outcome.items) == 1 or not isinstance(outcome, Answer)):
        return outcome.items[0].display
    return outcome.display if isinstance(outcome, Answer) else ""
