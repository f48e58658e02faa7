from __future__ import annotations

import math
from typing import Literal

from pydantic import model_validator

from flows.model import Invalid, Text, resolve_text
from flows.parsing import (
    NumberReading,
    clock_span_answer,
    frequency_answer,
    not_done_answer,
    read_number,
    read_range,
    rejected_number,
    says_ordinal,
    says_vague_amount,
)
from flows.steps import register
from flows.steps.base import Answer, InputStep, Reply, StepContext, Unclear
from flows.unit_words import unit_for


@register
class NumberStep(InputStep):
    """A number, optionally whole and within ``min``..``max``."""

    type: Literal["number"] = "number"
    min: float | None = None
    max: float | None = None
    integer: bool = True
    unit: Text | None = None
    """What the number counts ('hours', 'nappies'), said back after it ('6 hours'); one word, or
    one per language ({en: nappies, cy: cewynnau}). Replies are read in the English one (or
    the first written): '2 days' to 'hours' is 48."""

    @model_validator(mode="after")
    def _check_range(self) -> NumberStep:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise Invalid(
                f"min ({self.min:g}) is greater than max ({self.max:g}), so no number can answer this step",
                f"swap them: min: {self.max:g} and max: {self.min:g}",
                ("max",),
            )
        if self.integer and self.min is not None and self.max is not None and math.ceil(self.min) > math.floor(self.max):
            raise Invalid(
                f"no whole number lies between min ({self.min:g}) and max ({self.max:g})",
                "widen the range, or add 'integer: false' to accept decimals",
                ("max",),
            )
        return self

    def unit_in(self, language: str = "en") -> str:
        """The unit in ``language`` ('' without one): as written for that language, else the English."""
        return resolve_text(self.unit, language) if self.unit else ""

    def _said_unit(self, number: float, language: str) -> str:
        """The unit after ``number`` for the participant: as the study wrote it for their
        language ('1 hour' for 'hours' in English), else the English said in their language
        (:func:`flows.unit_words.unit_for`)."""
        if not self.unit:
            return ""
        if isinstance(self.unit, dict) and language in self.unit and not language.startswith("en"):
            return self.unit[language]
        return unit_for(self.unit_in(), number, language)

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        """The number, if the reply gives one. A number said with another unit than the
        question's ('6 hours' to 'how many times?') is asked again, saying why; one read from a
        sentence that says more ('my son is 4 and has asthma') is an answer to check first. So
        is a length of time in words converted to the question's unit ('half a year': 6 months),
        and one in digits converted only approximately ('3 months' in days: about 91) or to whole
        units ('10 days' in weeks: 1; '90 minutes' in hours: about 2); one converted exactly ('2
        weeks' in days) is 14 at once. How often, said for how many ('once a week' to '...last
        month?'), is counted over the question's span and checked ('about 4 times'), or asked
        again where the question names no span; 'never' to a question of how many is 0.
        A number the reply rejects ('not 5', 'anything but 1', '5 no way'), an ordinal ('the
        second one': which, not how many) and an amount with no number ('a few days') are asked
        again, saying why."""
        reading = self._read(reply.text, ctx)
        if reading is not None and reading.doubt in ("other_unit", "how_often"):
            why = "hint_other_unit" if reading.doubt == "other_unit" else "hint_how_often"
            return Unclear(f"{ctx.words(why).format(said=reading.said)} {self._hint(ctx)}")
        if reading is None or says_ordinal(reply.text):
            return Unclear(self._why_not(reply.text, ctx))
        value = reading.value
        in_range = (self.min is None or value >= self.min) and (self.max is None or value <= self.max)
        if self.integer and not value.is_integer() and in_range:  # '12 and a half' to a whole number: which is nearer?
            return Unclear(self._nearer(value, ctx))
        if (self.integer and not value.is_integer()) or not in_range:
            return Unclear(self._hint(ctx))
        number: int | float = int(value) if self.integer else value
        unit = self._said_unit(number, ctx.language) or (unit_for(reading.unit, number, ctx.language) if reading.unit else "")
        said = plain_number(number) + (f" {unit}" if unit else "")
        if reading.about:  # 'Just to check: about 4 times?'
            said = ctx.words("number_about").format(number=said)
        return Answer(number, said, guessed=reading.doubt == "confirm")

    def _read(self, text: str, ctx: StepContext) -> NumberReading | None:
        """The number a reply gives: said as how often, for the count the question asks ('once a
        week' to '...last month?': about 4, checked; flows/parsing_frequencies.py), as the clock
        times a length of time ran between ('10pm to 4am': 6 hours, checked;
        flows/parsing_clock_spans.py), else as any number is, in the question's unit
        (flows/parsing_number_sentences.py); or as none of what the question counts ("didn't
        sleep": 0, checked; flows/parsing_not_done.py)."""
        question, unit = ctx.render(self.text), self.unit_in() or None
        return (frequency_answer(text, question, unit, whole=self.integer)
                or clock_span_answer(text, question, unit, whole=self.integer)
                or read_number(text, question, unit, out_of=self.max, decimal_comma=not self.integer, whole=self.integer)
                or not_done_answer(text, question))

    def _nearer(self, value: float, ctx: StepContext) -> str:
        """'Is it nearer 12 or 13 hours? Your best guess is fine.' for '12.5' where only a whole
        number is stored: the number was read, so saying only "a number from 1 to 24" (which
        12.5 is) asked again for no reason the participant could see, until the step was skipped."""
        low, high = math.floor(value), math.ceil(value)
        unit = self._said_unit(high, ctx.language)
        said = ctx.words("hint_number_between").format(low=plain_number(low), high=plain_number(high) + (f" {unit}" if unit else ""))
        return f"{said} {self._hint(ctx)}"

    def _why_not(self, text: str, ctx: StepContext) -> str:
        """The hint for a reply that gives no number to store, after what it said instead: a
        number rejected ('OK, not 5.'), a place in order, an amount with no number, or a range
        ('3 or 4': which is nearer? Neither end nor the middle is stored for the participant)."""
        rejected = rejected_number(text)
        if rejected is not None:
            said = ctx.words("hint_number_not").format(rejected=plain_number(rejected))
        elif says_ordinal(text):
            said = ctx.words("hint_number_ordinal")
        elif says_vague_amount(text):
            said = ctx.words("hint_number_vague")
        elif (said_range := read_range(text)) is not None:
            high = plain_number(said_range.high) + (f" {said_range.unit}" if said_range.unit else "")
            said = ctx.words("hint_number_between").format(low=plain_number(said_range.low), high=high)
        else:
            return self._hint(ctx)
        return f"{said} {self._hint(ctx)}"

    def _hint(self, ctx: StepContext) -> str:
        """What to reply: a number, within the range when there is one; where decimals are
        allowed, one written with a point as an example ('e.g. 20.5'), which is how Chorus
        reads it best (a decimal comma, '20,5', is read too)."""
        low = "" if self.min is None else plain_number(self.min)
        high = "" if self.max is None else plain_number(self.max)
        bounded = self.min is not None and self.max is not None
        if self.integer:
            return ctx.words("hint_number_range").format(low=low, high=high) if bounded else ctx.words("hint_number")
        example = plain_number(self._decimal_example())
        if bounded:
            return ctx.words("hint_decimal_range").format(low=low, high=high, example=example)
        return ctx.words("hint_decimal").format(example=example)

    def _decimal_example(self) -> float:
        """A number with a decimal part that answers the step: half a unit above ``min`` (or
        below ``max``), or the middle of a range narrower than that."""
        if self.min is not None and self.max is not None:
            return self.min + 0.5 if self.max - self.min > 0.5 else (self.min + self.max) / 2
        if self.min is not None:
            return self.min + 0.5
        return self.max - 0.5 if self.max is not None else 3.5


def plain_number(number: float) -> str:
    """'48.5', '20', '1500000': as written, never '1.5e+06'."""
    return f"{number:.12g}" if abs(number) < 1e12 else f"{number:.0f}"
