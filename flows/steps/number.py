from __future__ import annotations

import math
from typing import Literal

from pydantic import model_validator

from flows.model import Invalid
from flows.parsing import read_number, rejected_number, says_ordinal, says_vague_amount
from flows.steps import register
from flows.steps.base import Answer, InputStep, Reply, StepContext, Unclear


@register
class NumberStep(InputStep):
    """A number, optionally whole and within ``min``..``max``."""

    type: Literal["number"] = "number"
    min: float | None = None
    max: float | None = None
    integer: bool = True
    unit: str | None = None

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

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        """The number, if the reply gives one. A number said with another unit than the
        question's ('6 hours' to 'how many times?') is asked again, saying why; one read from a
        sentence that says more ('my son is 4 and has asthma') is an answer to check first. So
        is a length of time in words converted to the question's unit ('half a year': 6 months).
        A number the reply rejects ('not 5', 'anything but 1', '5 no way'), an ordinal ('the
        second one': which, not how many) and an amount with no number ('a few days') are asked
        again, saying why."""
        reading = read_number(reply.text, ctx.render(self.text), self.unit, out_of=self.max, decimal_comma=not self.integer)
        if reading is not None and reading.doubt == "other_unit":
            return Unclear(f"{ctx.words('hint_other_unit').format(said=reading.said)} {self._hint(ctx)}")
        if reading is None or says_ordinal(reply.text):
            return Unclear(self._why_not(reply.text, ctx))
        value = reading.value
        in_range = (self.min is None or value >= self.min) and (self.max is None or value <= self.max)
        if (self.integer and not value.is_integer()) or not in_range:
            return Unclear(self._hint(ctx))
        number: int | float = int(value) if self.integer else value
        unit = (singular(self.unit) if number == 1 else self.unit) if self.unit else ""
        return Answer(number, plain_number(number) + (f" {unit}" if unit else ""), guessed=reading.doubt == "confirm")

    def _why_not(self, text: str, ctx: StepContext) -> str:
        """The hint for a reply that gives no number to store, after what it said instead: a
        number rejected ('OK, not 5.'), a place in order, or an amount with no number."""
        rejected = rejected_number(text)
        if rejected is not None:
            said = ctx.words("hint_number_not").format(rejected=plain_number(rejected))
        elif says_ordinal(text):
            said = ctx.words("hint_number_ordinal")
        elif says_vague_amount(text):
            said = ctx.words("hint_number_vague")
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


def singular(unit: str) -> str:
    """An English unit for one: '1 hour', not '1 hours' ('nappies' -> 'nappy', 'boxes' -> 'box')."""
    if unit.endswith("ies") and len(unit) > 4:
        return unit[:-3] + "y"
    if unit.endswith(("sses", "xes", "ches", "shes")):
        return unit[:-2]
    if unit.endswith("s") and not unit.endswith(("ss", "us", "is")) and len(unit) > 2:
        return unit[:-1]
    return unit
