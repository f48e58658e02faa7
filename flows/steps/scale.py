from __future__ import annotations

from typing import Any, Literal

from pydantic import model_validator

from flows.events import Button
from flows.model import Text
from flows.parsing import UNSURE_REPLIES, match_option, normalise, parse_number, scale_point
from flows.steps import register
from flows.steps.base import Answer, InputStep, Prompt, Reply, StepContext, Unclear


@register
class ScaleStep(InputStep):
    """A rating: a numeric range (1-9, 0-10) or a Likert scale given by its labels.

    ``labels`` is either a list (a Likert scale: the first label scores ``min``)
    or a map from some scores to their anchor text (``{1: Not important, 9: Critical}``).
    With ``unsure: true`` the participant may answer "unsure"; the answer is then ``None``.
    """

    type: Literal["scale"] = "scale"
    min: int | None = None
    max: int | None = None
    labels: list[Text] | dict[int, Text] | None = None
    unsure: bool | Text = False

    @model_validator(mode="before")
    @classmethod
    def _range_from_labels(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("labels"), list):
            data = dict(data)
            data.setdefault("min", 1)
            data.setdefault("max", data["min"] + len(data["labels"]) - 1)
        return data

    @model_validator(mode="after")
    def _check_range(self) -> ScaleStep:
        if self.min is None or self.max is None:
            raise ValueError("a scale needs min and max (e.g. min: 1, max: 9) or a list of labels")
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must be greater than min ({self.min})")
        if self.max - self.min > 20:
            raise ValueError("a scale may have at most 21 points; use a number step for wider ranges")
        if isinstance(self.labels, list) and len(self.labels) != self.max - self.min + 1:
            raise ValueError(f"{len(self.labels)} labels for {self.max - self.min + 1} points from {self.min} to {self.max}; give one label per point")
        if isinstance(self.labels, dict):
            outside = [k for k in self.labels if not self.min <= k <= self.max]
            if outside:
                raise ValueError(f"label for {outside[0]} lies outside {self.min}-{self.max}")
        return self

    @property
    def low(self) -> int:
        assert self.min is not None
        return self.min

    @property
    def high(self) -> int:
        assert self.max is not None
        return self.max

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        if isinstance(self.labels, list):
            found += [(f"labels[{i}]", label) for i, label in enumerate(self.labels)]
        elif isinstance(self.labels, dict):
            found += [(f"labels.{k}", label) for k, label in self.labels.items()]
        if isinstance(self.unsure, str | dict):
            found.append(("unsure", self.unsure))
        return found

    def point_labels(self, ctx: StepContext) -> dict[int, str]:
        if isinstance(self.labels, list):
            return {self.low + i: ctx.render(label) for i, label in enumerate(self.labels)}
        if isinstance(self.labels, dict):
            return {k: ctx.render(v) for k, v in self.labels.items()}
        return {}

    def unsure_label(self, ctx: StepContext) -> str:
        return ctx.render(self.unsure) if isinstance(self.unsure, str | dict) else ctx.words("unsure")

    def prompt(self, ctx: StepContext) -> Prompt:
        anchors = self.point_labels(ctx)
        likert = isinstance(self.labels, list)
        buttons = [
            Button(anchors[n] if likert else str(n), str(n)) for n in range(self.low, self.high + 1)
        ]
        if self.unsure:
            buttons.append(Button(self.unsure_label(ctx), "unsure"))
        text = ctx.render(self.text)
        if anchors and not likert:
            text += "\n" + "\n".join(f"{n} = {label}" for n, label in sorted(anchors.items()))
        return Prompt(text, tuple(buttons))

    @staticmethod
    def _says_unsure(text: str, label: str) -> bool:
        """Words only: a number is never 'unsure', even though it could name the unsure button."""
        words = normalise(text)
        return bool(words) and not any(c.isdigit() for c in words) and match_option(
            words, [[label, *UNSURE_REPLIES]]) == 0

    def _point_in_words(self, text: str, anchors: dict[int, str]) -> float | None:
        """A point named by its place ('the last one', 'the middle one') or its label ('Good')."""
        point = scale_point(text, self.low, self.high)
        if point is None and anchors:
            index = match_option(text, [[label] for label in anchors.values()])
            point = list(anchors)[index] if index is not None else None
        return None if point is None else float(point)

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Unclear:
        unsure = self.unsure_label(ctx)
        value = float(reply.button) if reply.button and reply.button.lstrip("-").isdigit() else None
        if value is None and reply.button is None:
            value = parse_number(reply.text, out_of=self.high)
        if self.unsure and value is None and (reply.button == "unsure" or self._says_unsure(reply.text, unsure)):
            return Answer(None, unsure)
        anchors = self.point_labels(ctx)
        if value is None:
            value = self._point_in_words(reply.text, anchors)
        if value is None or not value.is_integer() or not self.low <= value <= self.high:
            if self.unsure:
                return Unclear(ctx.words("hint_scale_unsure").format(low=self.low, high=self.high, unsure=unsure))
            return Unclear(ctx.words("hint_scale").format(low=self.low, high=self.high))
        number = int(value)
        display = f"{number} ({anchors[number]})" if number in anchors and isinstance(self.labels, list) else str(number)
        return Answer(number, display)
