from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.events import Button
from flows.model import Invalid, Option, Text, resolve_text
from flows.parsing import match_option, match_options, rejected_options, remaining_option
from flows.sms import sms_text
from flows.steps import register
from flows.steps.base import Answer, InputStep, Prompt, Reply, StepContext, Unclear
from flows.words import ENGLISH_OPTIONS, listed, not_wanted_hint, without_done


@register
class ChoiceStep(InputStep):
    """Pick one option, or several with ``multiple: true``. The answer is the option's value
    (a list of values when multiple)."""

    type: Literal["choice"] = "choice"
    options: list[Option] = Field(min_length=1)
    multiple: bool = False
    min_picks: int = 1
    max_picks: int | None = None

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"value": item} if isinstance(item, str | int | float) else item for item in value]
        return value

    @field_validator("options")
    @classmethod
    def _distinct(cls, value: list[Option]) -> list[Option]:
        seen = [o.value.strip().lower() for o in value]
        duplicate = next((v for v in seen if seen.count(v) > 1), None)
        if duplicate:
            raise ValueError(f"the option '{duplicate}' appears twice; each option must differ")
        return value

    @model_validator(mode="after")
    def _picks(self) -> ChoiceStep:
        count = len(self.options)
        if self.min_picks > count:
            raise Invalid(
                f"min_picks is {self.min_picks} but there are only {count} options",
                f"set min_picks to {count} or less",
                ("min_picks",),
            )
        if self.max_picks is not None and self.max_picks > count:
            raise Invalid(
                f"max_picks is {self.max_picks} but there are only {count} options",
                f"set max_picks to {count} or less, or leave it out to allow every option",
                ("max_picks",),
            )
        if self.max_picks is not None and self.max_picks < self.min_picks:
            raise Invalid(
                "max_picks must be at least min_picks",
                f"raise max_picks to {self.min_picks}, or lower min_picks",
                ("max_picks",),
            )
        return self

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        found += [(f"options[{i}].label", o.label) for i, o in enumerate(self.options) if o.label is not None]
        return found

    def labels(self, ctx: StepContext) -> list[str]:
        return [ctx.render(o.label) if o.label is not None else o.value for o in self.options]

    def names(self, ctx: StepContext, labels: list[str] | None = None) -> list[list[str]]:
        """Everything each option answers to: its value and its label in every language
        (``labels``: the labels as shown, when the caller has them already)."""
        names = []
        for option, label in zip(self.options, self.labels(ctx) if labels is None else labels, strict=True):
            found = [option.value, label]
            if isinstance(option.label, dict):
                found += [resolve_text(option.label, lang) for lang in option.label]
            names.append(found)
        return names

    def prompt(self, ctx: StepContext) -> Prompt:
        buttons = tuple(Button(label, o.value) for label, o in zip(self.labels(ctx), self.options, strict=True))
        return Prompt(ctx.render(self.text), buttons, self.multiple)

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        values = [o.value for o in self.options]
        labels = self.labels(ctx)
        if not self.multiple:
            index = values.index(reply.button) if reply.button in values else self._typed_pick(reply.text, self.names(ctx, labels))
            if index is None:
                return self._not_wanted(reply, ctx, labels) or Unclear(self._hint_for_one(ctx, labels))
            return Answer(values[index], labels[index])
        if reply.button and all(v in values for v in reply.button.split("|")):
            picks = [values.index(v) for v in reply.button.split("|")]
        else:
            picks = self._typed_picks(reply.text, self.names(ctx, labels))
        limit = self.max_picks or len(values)
        if not picks or not self.min_picks <= len(picks) <= limit:
            return (not picks and self._not_wanted(reply, ctx, labels)) or Unclear(self._hint_for_picks(ctx, len(values), limit))
        return Answer([values[i] for i in picks], ", ".join(labels[i] for i in picks))

    @staticmethod
    def _typed_pick(text: str, names: list[list[str]]) -> int | None:
        """The option typed, or the one left when the reply rejects all the others ('not the first one' of two)."""
        index = match_option(text, names)
        return remaining_option(text, names) if index is None else index

    def _not_wanted(self, reply: Reply, ctx: StepContext, labels: list[str]) -> Unclear | None:
        """A typed reply that says only what is not wanted ('anything but carer', 'none of them'),
        asked again saying so (flows.words.not_wanted_hint, or in the options' words where no
        number was shown); None for any other."""
        if reply.button is not None:
            return None
        rejected = rejected_options(reply.text, self.names(ctx, labels))
        if rejected and not self.multiple and not self.shows_numbers(ctx, labels):
            return Unclear(self._not_wanted_in_words(ctx, labels, rejected))
        hint = not_wanted_hint(ctx.words, labels, rejected, self.multiple, self.max_picks)
        return None if hint is None else Unclear(hint)

    def shows_numbers(self, ctx: StepContext, labels: list[str]) -> bool:
        """Whether anyone was shown the options with numbers: where options go out as text (SMS,
        WhatsApp without buttons: flows.sms.sms_text), unless they are named in the question
        ("Are you a mother or a midwife?") or on one "(Reply Mother or Midwife)" line; buttons
        (Telegram, WhatsApp quick replies) never carry numbers. Options that are numbers
        ("(Reply 1-5)") count as shown."""
        text = ctx.render(self.text)
        buttons = [Button(label, o.value) for label, o in zip(labels, self.options, strict=True)]
        shown = sms_text(text, buttons, self.multiple)
        return shown not in (text, f"{text}\n{ENGLISH_OPTIONS.reply_with(labels)}")

    def _hint_for_one(self, ctx: StepContext, labels: list[str]) -> str:
        """What a single choice accepts: its numbers where they were shown ("Please reply 1 or 2
        (or the words)."), otherwise its options' words ("Please reply Mother or Midwife.")."""
        if not self.shows_numbers(ctx, labels):
            return ctx.words("hint_choice_words").format(choices=listed(labels, ctx.words("or")))
        return ctx.words("hint_choice_two" if len(labels) == 2 else "hint_choice").format(n=len(labels))

    @staticmethod
    def _not_wanted_in_words(ctx: StepContext, labels: list[str], rejected: list[int]) -> str:
        """:func:`flows.words.not_wanted_hint` for options shown without numbers: "OK, not Doula.
        Which one, then? Please reply Mother or Midwife."."""
        left = [label for number, label in enumerate(labels) if number not in rejected]
        if not left:
            return ctx.words("hint_choice_none_words").format(choices=listed(labels, ctx.words("or")))
        said = listed([labels[number] for number in sorted(rejected)], ctx.words("nor"))
        return ctx.words("hint_choice_not").format(rejected=said, choices=listed(left, ctx.words("or")))

    @staticmethod
    def _typed_picks(text: str, names: list[list[str]]) -> list[int]:
        """Options typed by number or name; a done word after them ('1 3 done', as if tapping
        Done under the options) is no option."""
        stripped = without_done(text)
        picks = match_options(stripped, names) if stripped != text else None
        return picks or match_options(text, names) or []

    def _hint_for_picks(self, ctx: StepContext, options: int, most: int) -> str:
        """How many may be picked, when the step limits it."""
        least = self.min_picks
        key = "hint_choices"
        if most < options:
            key = "hint_choices_between" if least > 1 else "hint_choices_up_to"
        elif least > 1:
            key = "hint_choices_at_least"
        return ctx.words(key).format(n=options, least=least, most=most)
