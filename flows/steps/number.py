from __future__ import annotations

import math
from typing import Literal

from pydantic import model_validator

from flows.model import Invalid
from flows.parsing import parse_number
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
        value = parse_number(reply.text)
        low = "" if self.min is None else f"{self.min:g}"
        high = "" if self.max is None else f"{self.max:g}"
        bounded = self.min is not None and self.max is not None
        in_range = value is not None and (self.min is None or value >= self.min) and (self.max is None or value <= self.max)
        if value is None or (self.integer and not value.is_integer()) or not in_range:
            if bounded:
                return Unclear(ctx.words("hint_number_range").format(low=low, high=high))
            return Unclear(ctx.words("hint_number"))
        number: int | float = int(value) if self.integer else value
        unit = (singular(self.unit) if number == 1 else self.unit) if self.unit else ""
        return Answer(number, f"{number:g}" + (f" {unit}" if unit else ""))


def singular(unit: str) -> str:
    """An English unit for one: '1 hour', not '1 hours' ('nappies' -> 'nappy', 'boxes' -> 'box')."""
    if unit.endswith("ies") and len(unit) > 4:
        return unit[:-3] + "y"
    if unit.endswith(("sses", "xes", "ches", "shes")):
        return unit[:-2]
    if unit.endswith("s") and not unit.endswith(("ss", "us", "is")) and len(unit) > 2:
        return unit[:-1]
    return unit
