from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.events import Button
from flows.model import Invalid, Option, Text, resolve_text
from flows.parsing import (
    match_option,
    match_options,
    names_another,
    no_preference_option,
    rejected_options,
    remaining_option,
    says_no_preference,
)
from flows.sms import sms_text
from flows.steps import register
from flows.steps.base import Answer, InputStep, Prompt, Reply, StepContext, Unclear
from flows.welsh_mutations import is_welsh, with_mutations
from flows.words import ENGLISH_OPTIONS, listed, not_wanted_hint, without_done

LISTED_IN_A_HINT = 60
"""How long options may be, listed ('Patient, Carer or NHS staff'), for a hint after buttons to
name them as what may be typed; longer ones are left to the buttons ("... or type your answer.")."""


@register
class ChoiceStep(InputStep):
    """Pick one option, or several with ``multiple: true``. The answer is the option's value
    (a list of values when multiple). An option marked ``exclusive: true`` ("None of these") goes
    alone: picked with others, the reply is asked again; picked alone, it answers whatever
    ``min_picks`` asks."""

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
        (``labels``: the labels as shown, when the caller has them already); for a Welsh
        participant, its Welsh label as mutations leave it too ('theulu' for 'Teulu')."""
        shown = self.labels(ctx) if labels is None else labels
        names = []
        for option, label in zip(self.options, shown, strict=True):
            found = [option.value, label]
            if isinstance(option.label, dict):
                found += [resolve_text(option.label, lang) for lang in option.label]
            names.append(found)
        return with_mutations(names, shown) if is_welsh(ctx.language) else names

    def prompt(self, ctx: StepContext) -> Prompt:
        return Prompt(ctx.render(self.text), self._buttons(self.labels(ctx)), self.multiple)

    def _buttons(self, labels: list[str]) -> tuple[Button, ...]:
        return tuple(Button(label, o.value) for label, o in zip(labels, self.options, strict=True))

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        values = [o.value for o in self.options]
        labels = self.labels(ctx)
        if not self.multiple:
            index = values.index(reply.button) if reply.button in values else self._typed_pick(reply.text, self.names(ctx, labels))
            if index is None:
                return (self._no_preference(reply, ctx, labels) or self._not_wanted(reply, ctx, labels)
                        or Unclear(self._hint_for_one(ctx, labels)))
            return Answer(values[index], labels[index])
        if reply.button and all(v in values for v in reply.button.split("|")):
            picks = [values.index(v) for v in reply.button.split("|")]
        else:
            picks = self._typed_picks(reply.text, self.names(ctx, labels))
        limit = self.max_picks or len(values)
        if not picks and self.min_picks == 0 and self._says_none(reply, ctx, labels):
            return Answer([], ctx.words("options.picked_none"))
        clash = self._clash(picks)
        if clash is not None:
            return Unclear(ctx.words("hint_choices_alone").format(alone=labels[clash], others=", ".join(
                labels[i] for i in picks if i != clash)))
        alone = len(picks) == 1 and self.options[picks[0]].exclusive  # ('None of these' is a whole answer)
        if not picks or not (alone or self.min_picks <= len(picks)) or len(picks) > limit:
            return (not picks and self._not_wanted(reply, ctx, labels)) or Unclear(self._hint_for_picks(ctx, labels, limit))
        return Answer([values[i] for i in picks], ", ".join(labels[i] for i in picks))

    def _clash(self, picks: list[int]) -> int | None:
        """The first option picked that goes alone (``exclusive: true``: "None of these") when others
        are picked with it, a contradiction to ask about; None when there is none."""
        return next((i for i in picks if self.options[i].exclusive), None) if len(picks) > 1 else None

    def _no_preference(self, reply: Reply, ctx: StepContext, labels: list[str]) -> Answer | Unclear | None:
        """A typed 'I don't mind', 'either is fine', 'both the same' (flows.parsing.says_no_preference):
        the option that says so where there is one ("No preference", 'Either'); between two options
        with none, asked again saying a preference is needed, even a slight one; otherwise None."""
        if reply.button is not None or not says_no_preference(reply.text):
            return None
        names = self.names(ctx, labels)
        index = no_preference_option(names)
        if names_another(reply.text, names, but=index):  # 'I don't mind, phone I guess': asked which
            return None
        if index is not None:
            return Answer(self.options[index].value, labels[index])
        return Unclear(f"{ctx.words('hint_no_preference')} {self._hint_for_one(ctx, labels)}") if len(labels) == 2 else None

    def _says_none(self, reply: Reply, ctx: StepContext, labels: list[str]) -> bool:
        """Whether a typed reply to a multiple choice says none of its options apply ('none',
        'none of them', 'nothing', 'I haven't used any', 'dim un'): every option rejected."""
        if reply.button is not None:
            return False
        return len(rejected_options(reply.text, self.names(ctx, labels))) == len(labels)

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
        if rejected and self.multiple and ctx.tapped(self._buttons(labels), multiple=True):
            return Unclear(self._not_wanted_ticked(ctx, labels, rejected))
        if rejected and not self.multiple and not self.shows_numbers(ctx, labels):
            return Unclear(self._not_wanted_in_words(ctx, labels, rejected))
        if self.multiple and rejected and len(rejected) == len(labels):  # 'none of them', where one is needed
            return Unclear(ctx.words("hint_choices_none").format(n=len(labels)))
        hint = not_wanted_hint(ctx.words, labels, rejected, self.multiple, self.max_picks)
        return None if hint is None else Unclear(hint)

    def shows_numbers(self, ctx: StepContext, labels: list[str]) -> bool:
        """Whether the participant was shown the options with numbers: where options go out as
        text (SMS, WhatsApp without buttons: flows.sms.sms_text), unless they are named in the
        question ("Are you a mother or a midwife?") or on one "(Reply Mother or Midwife)" line;
        never where their channel shows them as buttons (:meth:`StepContext.tapped`: Telegram,
        WhatsApp quick replies), which carry no numbers. Options that are numbers ("(Reply
        1-5)") count as shown."""
        if ctx.tapped(self._buttons(labels), self.multiple):
            return False
        return self._numbers_in_text(ctx, labels)

    def _numbers_in_text(self, ctx: StepContext, labels: list[str]) -> bool:
        """Whether the options carry numbers where they go out as text (:meth:`shows_numbers`
        on a channel without buttons)."""
        text = ctx.render(self.text)
        shown = sms_text(text, self._buttons(labels), self.multiple)
        return shown not in (text, f"{text}\n{ENGLISH_OPTIONS.reply_with(labels)}")

    def _hint_for_one(self, ctx: StepContext, labels: list[str]) -> str:
        """What a single choice accepts: its numbers where they were shown ("Please reply 1 or 2
        (or the words)."), otherwise its options' words ("Please reply Mother or Midwife."), and
        where they were buttons, a tap ("Please tap one of the buttons, or reply Mother or
        Midwife.": labels too long to list, "... or type your answer.")."""
        choices = listed(labels, ctx.words("or"))
        key = self._text_hint_key(ctx, labels)
        if ctx.tapped(self._buttons(labels)):
            tap_key = "hint_choice_tap" if len(choices) <= LISTED_IN_A_HINT else "hint_tap"
            if not ctx.keeps_own_words(key, tap_key):
                return ctx.words(tap_key).format(choices=choices)
        return ctx.words(key).format(choices=choices, n=len(labels))

    def _text_hint_key(self, ctx: StepContext, labels: list[str]) -> str:
        """The hint a single choice has where its options go out as text: of their numbers where
        those were shown, else of their words. On a channel of buttons, the text form of the hint
        a study may word its own way (:meth:`StepContext.keeps_own_words`)."""
        if self._numbers_in_text(ctx, labels):
            return "hint_choice_two" if len(labels) == 2 else "hint_choice"
        return "hint_choice_words"

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
    def _not_wanted_ticked(ctx: StepContext, labels: list[str], rejected: list[int]) -> str:
        """:func:`flows.words.not_wanted_hint` for a multiple choice shown as buttons to tick:
        "OK, not Weekends. Which ones, then? Please tick them, then tap Done."."""
        if len(rejected) == len(labels):
            return ctx.words("hint_choice_none_words").format(choices=listed(labels, ctx.words("or")))
        said = listed([labels[number] for number in sorted(rejected)], ctx.words("nor"))
        return ctx.words("hint_choices_not_tap").format(rejected=said, done=ctx.words("options.done"))

    @staticmethod
    def _typed_picks(text: str, names: list[list[str]]) -> list[int]:
        """Options typed by number or name; a done word after them ('1 3 done', as if tapping
        Done under the options) is no option."""
        stripped = without_done(text)
        picks = match_options(stripped, names) if stripped != text else None
        return picks or match_options(text, names) or []

    def _hint_for_picks(self, ctx: StepContext, labels: list[str], most: int) -> str:
        """How many may be picked, when the step limits it: by number, or where the options were
        buttons, ticked and sent with Done (Telegram)."""
        least, options = self.min_picks, len(labels)
        key = "hint_choices"
        if most < options:
            key = "hint_choices_between" if least > 1 else "hint_choices_up_to"
        elif least > 1:
            key = "hint_choices_at_least"
        if ctx.tapped(self._buttons(labels), multiple=True) and not ctx.keeps_own_words(key, f"{key}_tap"):
            return ctx.words(f"{key}_tap").format(least=least, most=most, done=ctx.words("options.done"))
        hint = ctx.words(key).format(n=options, least=least, most=most)
        return f"{hint} {ctx.words('hint_choices_or_none')}" if least == 0 else hint
