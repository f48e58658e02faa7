"""The contract between the engine and a step type."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, ClassVar

from flows.events import Button
from flows.inputs import Keyboard, shows_buttons
from flows.model import StepBase, Text
from flows.words import built_in


@dataclass(frozen=True)
class Reply:
    """One participant input, already stripped of global words."""

    text: str
    button: str | None = None
    """The value of a tapped button, when the channel had buttons."""
    source: str = "text"
    """text, button or voice."""
    confidence: float | None = None


@dataclass(frozen=True)
class ItemAnswer:
    """One item of a many-item step (a Delphi item, a pair, a choice task)."""

    item: str
    value: Any
    display: str
    skipped: bool = False
    """The participant let this item go ('pass' on a pair): recorded as skipped, as an item left
    after its last try is, its value None; it is no answer to the item."""


@dataclass(frozen=True)
class Answer:
    """The step is answered; the engine moves on."""

    value: Any
    display: str
    items: tuple[ItemAnswer, ...] = ()
    guessed: bool = False
    """The answer was read from a sentence that says more than it ('my son is 4 and has asthma'):
    the engine checks it with the participant (YES or NO) before it counts."""


@dataclass(frozen=True)
class Continue:
    """Part of a many-item step is answered: record ``items``, keep ``data``, ask again.

    ``message`` (optional) is said before the next prompt, e.g. feedback or "5 more to go".
    """

    data: dict[str, Any]
    items: tuple[ItemAnswer, ...] = ()
    message: str = ""
    guessed: bool = False
    """As :attr:`Answer.guessed`: the items were read from a sentence, to be checked first."""


@dataclass(frozen=True)
class Unclear:
    hint: str
    """A short, specific line telling the participant what we can accept."""
    uses_a_try: bool = True
    """False for a reply that shows the participant answering, only in a form the step cannot
    take (several Delphi scores at once): told how, it does not bring the question nearer to
    being skipped."""


@dataclass(frozen=True)
class GiveUp:
    """After ``max_tries`` unclear replies to one part of a many-item step (a Delphi item, a
    pair, a statement, a choice task): leave that part and go on with the rest.

    ``left`` names the items left unanswered (each recorded as skipped); ``then`` carries on
    with the next part (:class:`Continue`) or finishes the step (:class:`Answer`).
    """

    left: tuple[str, ...]
    then: Answer | Continue


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: tuple[Button, ...] = ()
    multiple: bool = False
    attachment: dict[str, Any] | None = None
    """See :attr:`flows.events.SendMessage.attachment`."""


def _worded_by_nobody(key: str) -> bool:
    return False


@dataclass
class StepContext:
    """What a step may know while it prompts or reads a reply."""

    language: str
    default_language: str
    render: Callable[[Text | None], str]
    words: Callable[[str], str] = field(default=built_in)
    """A built-in or study text by key, in the participant's language (built-in English by default)."""
    previous: Any = None
    """This step's earlier answer, when the participant came BACK to it."""
    data: dict[str, Any] = field(default_factory=dict)
    """The step's own working data while it is in progress (a copy; return changes in Continue)."""
    population: Any = None
    """What the group said, read-only, as the service hands it in (Delphi feedback, idea pools)."""
    seed: str = "0"
    """Seeds :attr:`rng`: derived from the session's seed, so replays are identical."""
    keyboards: tuple[Keyboard, ...] = ()
    """How the participant's channel shows options as buttons (:attr:`flows.inputs.TextInput.keyboards`):
    none where they go out as numbered text, or where the engine was not told."""
    worded_by_study: Callable[[str], bool] = field(default=_worded_by_nobody)
    """Whether the study words a built-in text its own way (:meth:`flows.words.Words.worded_by_study`)."""

    def tapped(self, buttons: tuple[Button, ...] | list[Button], multiple: bool = False) -> bool:
        """Whether the participant's channel shows a question with these options as buttons to tap."""
        return shows_buttons(self.keyboards, buttons, multiple)

    def words_for(self, key: str, buttons: tuple[Button, ...]) -> str:
        """The text ``key`` as the participant's channel shows ``buttons``: its ``_tap`` form ('Tap
        Next for 5 more') where they are buttons to tap, else ``key`` itself ('Reply NEXT for 5
        more', as SMS shows no buttons). A study that words ``key`` its own way and not its tap
        form keeps its own words on every channel."""
        tap = f"{key}_tap"
        return self.words(tap if self.tapped(buttons) and not self.keeps_own_words(key, tap) else key)

    def keeps_own_words(self, key: str, tap: str) -> bool:
        """Whether the study words the text ``key`` its own way ('Reply Y or N, please') and not
        its tap form ``tap``: then its words are said on every channel, buttons or none, rather
        than the built-in tap form ('Please tap one of the buttons...') overriding them."""
        return self.worded_by_study(key) and not self.worded_by_study(tap)

    @cached_property
    def rng(self) -> random.Random:
        """Randomness the engine was handed (made only when a step asks for it)."""
        return random.Random(self.seed)


class InputStep(StepBase):
    """A step that asks something and waits for the answer."""

    waits_for_input: ClassVar[bool] = True
    kind_hint: ClassVar[str] = ""

    def prompt(self, ctx: StepContext) -> Prompt:
        return Prompt(ctx.render(self.text))

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        raise NotImplementedError

    def give_up(self, ctx: StepContext) -> GiveUp | None:
        """What to do after ``max_tries`` unclear replies. None (the default, and a step with
        a single question): the whole step is left. A many-item step leaves only the part it
        was asking (see :class:`GiveUp`)."""
        return None


class SayStep(StepBase):
    """A step that only says something and moves on."""

    waits_for_input: ClassVar[bool] = False

    def prompt(self, ctx: StepContext) -> Prompt:
        return Prompt(ctx.render(self.text))
