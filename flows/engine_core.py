"""The engine's core: the flow's steps, moving from one to the next, and what is said.

:class:`EngineCore` holds what every part of the engine leans on: entering a step and
prompting, ending, rendering texts with the participant's answers, and the working state of
one sprint (:class:`Turn`), and what the question asked now makes of a reply. The layers on
top of it (listed in flows/engine_commands.py) add BACK, the global words and the replies that
are no answer; flows/engine.py the reading of replies and the public API.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any, Literal

from flows import snooze
from flows.events import (
    Button,
    Event,
    RaiseFlag,
    RecordAnswer,
    ScheduleTask,
    SendMessage,
    SessionEnded,
    WaitForInput,
)
from flows.inputs import Keyboard
from flows.model import Flow, StepBase, Study, Text, resolve_text
from flows.said_once import not_repeated, with_skip_hint
from flows.session_state import SessionState, position
from flows.steps.base import (
    Answer,
    Continue,
    InputStep,
    Prompt,
    Reply,
    StepContext,
)
from flows.steps.end import EndStep
from flows.templating import (
    Namespace,
    TemplateFailure,
    evaluate,
    render,
    render_leniently,
    render_what_works,
)
from flows.words import Words, normalised_word

MAX_STEPS_PER_SPRINT = 200
LOW_CONFIDENCE = 0.45
"""A voice answer heard with less confidence than this is read back before it counts
(see nlp.transcribe.WhisperSettings.low_confidence, which has the same default)."""
ConfirmPolicy = Literal["never", "low_confidence", "always"]


ASKED_LONG_AGO = timedelta(hours=1)
"""An unclear reply to a question shown this long ago (or put off with LATER) gets the
question again with its hint: the question is no longer on the participant's screen."""

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
class Turn:
    """The working state of one sprint."""

    state: SessionState
    now: datetime
    population: Any = None
    events: list[Event] = field(default_factory=list)
    woke: bool = False
    """The reply came while the conversation was snoozed: the question is not the last thing said."""
    command: str | None = None
    """The global word the reply was (:attr:`Sprint.command`)."""
    keyboards: tuple[Keyboard, ...] = ()
    """How the participant's channel shows options as buttons (:attr:`TextInput.keyboards`), for hints."""

    def emit(self, event: Event) -> None:
        if isinstance(event, RecordAnswer) and event.path_position is None:
            event = replace(event, path_position=len(self.state.history))
        if isinstance(event, RecordAnswer) and event.language is None:
            event = replace(event, language=self.state.language)
        self.events.append(event)

class EngineCore:
    """One flow's steps, and moving through them. Holds only the flow, the study and its words: no I/O."""

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

    def _reprompt(self, turn: Turn) -> None:
        step = self._current(turn.state)
        if step is not None and turn.state.status == "waiting":
            self._prompt(turn, step)

    # ------------------------------------------------------------------ moving on

    def _advance(self, turn: Turn, step: StepBase, answer: Any = None) -> None:
        target = self._next_target(turn, step, answer)
        if target is None:
            self._end(turn, "completed")
        else:
            self._enter(turn, target)

    def _next_target(self, turn: Turn, step: StepBase, answer: Any) -> str | None:
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

    def _enter(self, turn: Turn, step_id: str) -> None:
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

    def _prompt(self, turn: Turn, step: StepBase, kind: str = "prompt") -> None:
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
            own = step.skip if isinstance(step.skip, str | dict) else None
            text = with_skip_hint(text, self._render(turn, own, step) if own else self._text(turn, "skip_hint"), own is not None)
        turn.events.extend(flags)
        turn.emit(SendMessage(text, step.id, self._placed(state, prompt.buttons), prompt.multiple, kind, attachment=prompt.attachment))
        turn.emit(WaitForInput(step.id, step.timeout))
        if step.timeout is not None:
            turn.emit(ScheduleTask("timeout", turn.now + step.timeout, {"step": step.id}))

    @staticmethod
    def _placed(state: SessionState, buttons: tuple[Button, ...]) -> tuple[Button, ...]:
        at = position(state) if buttons else ""
        return tuple(Button(button.label, button.value, at) for button in buttons)  # (cheaper than dataclasses.replace)

    def _end(self, turn: Turn, outcome: str) -> None:
        turn.state.status = "ended"
        turn.state.outcome = outcome
        turn.emit(SessionEnded(outcome))

    def _say(self, turn: Turn, text: str, step_id: str | None = None, kind: str = "info") -> None:
        if text:
            turn.emit(SendMessage(text, step_id or turn.state.step, (), False, kind))

    def _asked_long_ago(self, turn: Turn) -> bool:
        """Whether the question is far back in the chat: the participant put it off with LATER
        (and has not been reminded), or it was last shown :data:`ASKED_LONG_AGO` or more ago."""
        asked = turn.state.asked_at
        return turn.woke or (asked is not None and turn.now - asked >= ASKED_LONG_AGO)

    def _say_and_ask(self, turn: Turn, text: str, step: InputStep, kind: str) -> None:
        """``text``, then the question again (:meth:`_prompt`), less any sentence of ``text`` that
        the question says itself (:func:`flows.said_once.not_repeated`): no line is said twice
        in one exchange."""
        start = len(turn.events)
        self._prompt(turn, step)
        asked = next((event.text for event in turn.events[start:] if isinstance(event, SendMessage)), "")
        told = not_repeated(text, asked)
        if told:
            turn.events.insert(start, SendMessage(told, step.id, (), False, kind))

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

    def _text(self, turn: Turn, key: str) -> str:
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

    def _context(self, turn: Turn, step: StepBase, flags: list[RaiseFlag] | None = None) -> StepContext:
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
            keyboards=turn.keyboards,
            worded_by_study=self.words.worded_by_study,
        )

    def _render(self, turn: Turn, text: Text | None, step: StepBase) -> str:
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

    # ------------------------------------------------------------------ what the question asked now takes

    def _offers(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Whether a reply is, word for word, one of a question's options (a button's label or value)."""
        said = normalised_word(text)
        buttons = step.prompt(self._context(turn, step)).buttons
        return any(said in (normalised_word(button.label), normalised_word(button.value)) for button in buttons)

    def _reads_itself(self, turn: Turn, text: str) -> bool:
        """Whether the question asked now takes a reply as its answer (or a part of it): a busy
        phrase that names an option, or any words on a free-text question."""
        step = self._current(turn.state)
        if not isinstance(step, InputStep):
            return False
        return isinstance(step.interpret(Reply(text), self._context(turn, step)), Answer | Continue)
