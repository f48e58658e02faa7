from __future__ import annotations

from typing import Literal

from flows.events import Button
from flows.model import Text
from flows.parsing import match_option, parse_yes_no
from flows.steps import register
from flows.steps.base import Answer, InputStep, Prompt, Reply, StepContext, Unclear


@register
class YesNoStep(InputStep):
    """A yes or no question. The answer is the string "yes" or "no"."""

    type: Literal["yesno"] = "yesno"
    yes_label: Text | None = None
    no_label: Text | None = None

    def prompt(self, ctx: StepContext) -> Prompt:
        yes = ctx.render(self.yes_label) if self.yes_label else ctx.words("yes")
        no = ctx.render(self.no_label) if self.no_label else ctx.words("no")
        return Prompt(ctx.render(self.text), (Button(yes, "yes"), Button(no, "no")))

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        """The answer is "yes" or "no"; it is shown as the label the participant saw ("Yes
        please" when ``yes_label`` says so)."""
        buttons = self.prompt(ctx).buttons
        said: bool | None = reply.button == "yes" if reply.button in ("yes", "no") else parse_yes_no(reply.text)
        if said is None:
            picked = match_option(reply.text, [[b.label, b.value] for b in buttons])
            said = None if picked is None else picked == 0
        if said is None:
            return Unclear(ctx.words("hint_yesno"))
        return Answer("yes" if said else "no", buttons[0 if said else 1].label)
