from __future__ import annotations

from typing import Literal

from flows.steps import register
from flows.steps.base import Answer, InputStep, Reply, StepContext, Unclear


@register
class OpenStep(InputStep):
    """Free text; a voice note is accepted where ``accept`` lists voice and the channel allows it."""

    type: Literal["open"] = "open"
    accept: list[Literal["text", "voice"]] = ["text", "voice"]
    min_words: int = 1
    confirm: Literal["never", "low_confidence", "always"] = "low_confidence"

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        if reply.source == "voice" and "voice" not in self.accept:
            return Unclear(ctx.words("hint_type_please"))
        text = reply.text.strip()
        if len(text.split()) < self.min_words:
            return Unclear(ctx.words("hint_open"))
        return Answer(text, text)
