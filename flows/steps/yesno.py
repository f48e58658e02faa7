from __future__ import annotations

from typing import Literal

from flows.events import Button
from flows.model import Text
from flows.parsing import asks_a_fact, match_option, only_assents, parse_yes_no
from flows.steps import register
from flows.steps.base import Answer, InputStep, Prompt, Reply, StepContext, Unclear
from flows.welsh_yes_no import in_form, welsh_answer_words


@register
class YesNoStep(InputStep):
    """A yes or no question. The answer is the string "yes" or "no"."""

    type: Literal["yesno"] = "yesno"
    yes_label: Text | None = None
    no_label: Text | None = None

    def prompt(self, ctx: StepContext) -> Prompt:
        """The question, with buttons for yes and no: the step's own labels, else in Welsh the
        words its question takes (Ie and Nage to 'Ai ...?': :func:`welsh_answer_words`), else
        the built-in Yes and No (Ydw, Nac ydw)."""
        form = self._welsh_form(ctx)
        yes = ctx.render(self.yes_label) if self.yes_label else form[0] if form else ctx.words("yes")
        no = ctx.render(self.no_label) if self.no_label else form[1] if form else ctx.words("no")
        return Prompt(ctx.render(self.text), (Button(yes, "yes"), Button(no, "no")))

    def _welsh_form(self, ctx: StepContext) -> tuple[str, str] | None:
        """The Welsh question's own yes and no, unless the step or the study words them its own way."""
        if self.yes_label or self.no_label or ctx.language.split("-")[0] != "cy" or ctx.worded_by_study("yes") or ctx.worded_by_study("no"):
            return None
        return welsh_answer_words(ctx.render(self.text))

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        """The answer is "yes" or "no"; it is shown as the label the participant saw ("Yes
        please" when ``yes_label`` says so). An unclear reply is asked for YES or NO, and for a
        tap first where the two were buttons (:meth:`StepContext.tapped`), in Welsh naming the words
        the question takes (IE or NAGE to 'Ai ...?'); so is a bare 'ok' to a
        question of what has happened ('Have you had your flu jab?': flows.parsing.asks_a_fact),
        which agrees to nothing there, while it is a YES to 'Can we call you?'."""
        buttons = self.prompt(ctx).buttons
        said: bool | None = reply.button == "yes" if reply.button in ("yes", "no") else parse_yes_no(reply.text)
        if said is None:
            picked = match_option(reply.text, [[b.label, b.value] for b in buttons])
            said = None if picked is None else picked == 0
        if said is None or (said and reply.button is None and only_assents(reply.text) and asks_a_fact(ctx.render(self.text))):
            hint = ctx.words_for("hint_yesno", buttons)  # an 'ok' to 'Have you had your flu jab?' says no fact
            form = self._welsh_form(ctx)
            return Unclear(in_form(hint, *form) if form else hint)
        return Answer("yes" if said else "no", buttons[0 if said else 1].label)
