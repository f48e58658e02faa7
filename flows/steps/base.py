"""The contract between the engine and a step type."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, ClassVar

from flows.events import Button
from flows.model import StepBase, Text


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
class Answer:
    value: Any
    display: str


@dataclass(frozen=True)
class Unclear:
    hint: str
    """A short, specific line telling the participant what we can accept."""


@dataclass(frozen=True)
class Prompt:
    text: str
    buttons: tuple[Button, ...] = ()
    multiple: bool = False


@dataclass
class StepContext:
    """What a step may know while it prompts or reads a reply."""

    language: str
    default_language: str
    render: Callable[[Text | None], str]
    words: Callable[[str], str] = field(default=lambda key: key)
    """A built-in or study text by key, in the participant's language."""
    previous: Any = None
    """This step's earlier answer, when the participant came BACK to it."""


class InputStep(StepBase):
    """A step that asks something and waits for the answer."""

    waits_for_input: ClassVar[bool] = True
    kind_hint: ClassVar[str] = ""

    def prompt(self, ctx: StepContext) -> Prompt:
        return Prompt(ctx.render(self.text))

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        raise NotImplementedError


class SayStep(StepBase):
    """A step that only says something and moves on."""

    waits_for_input: ClassVar[bool] = False

    def prompt(self, ctx: StepContext) -> Prompt:
        return Prompt(ctx.render(self.text))
