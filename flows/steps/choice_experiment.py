"""A discrete choice experiment: several tasks, each "which of these would you choose?".

The design is generated from the step (D-efficient, level-balanced, no dominated
alternatives: :func:`flows.analysis.dce_design.generate_design`), seeded by the step id
so it is the same in every process, and cached. Each participant gets one block of tasks,
drawn from the session's seed. Each task is an item answer (``task3``) valued with the
choice and the levels shown, so the model can be fitted from the answers alone.
"""

from __future__ import annotations

import json
import zlib
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.events import Button
from flows.model import Invalid, Strict, Text
from flows.parsing import match_option, normalise, parse_number
from flows.steps import register
from flows.steps.base import (
    Answer,
    Continue,
    GiveUp,
    InputStep,
    ItemAnswer,
    Prompt,
    Reply,
    StepContext,
    Unclear,
)
from flows.steps.items import resolve
from flows.words import BUILT_IN_TEXTS, listed

if TYPE_CHECKING:
    from flows.analysis.dce_design import Design

LETTERS = "ABC"
NONE_WORDS = {"n", "neither", "none", "none of them", "neither of them", "no", "nothing", "opt out", "0", "niether",
              "dim un", "dim un ohonynt", "dim un o'r rhain", "dim"}


class AttributeSpec(Strict):
    levels: list[str | int | float] = Field(min_length=2)
    labels: dict[str, Text] | None = None
    """How a level reads, e.g. ``{1: 1 week, 2: 2 weeks}``; default the level itself."""
    better: Literal["higher", "lower"] | None = None
    """For a numeric attribute whose better direction is known (so dominated pairs are avoided)."""

    @field_validator("labels", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value


def _short_attributes_schema(schema: dict[str, Any]) -> None:
    """Editors: an attribute may be just its list of levels."""
    levels = {"type": "array", "items": {"anyOf": [{"type": "string"}, {"type": "number"}]}, "minItems": 2}
    schema["additionalProperties"] = {"anyOf": [levels, schema["additionalProperties"]]}


@lru_cache(maxsize=64)
def _design(spec_json: str, seed: int) -> Design:
    from flows.analysis.dce_design import (  # numpy, pandas: only for DCE flows
        Attribute,
        DesignSpec,
        generate_design,
    )

    raw = json.loads(spec_json)
    attributes = tuple(Attribute(a["name"], tuple(a["levels"]), a["better"]) for a in raw["attributes"])
    spec = DesignSpec(attributes, raw["tasks"], raw["alternatives"], raw["opt_out"], raw["blocks"], raw["priors"])
    return generate_design(spec, seed=seed)


@register
class ChoiceExperimentStep(InputStep):
    type: Literal["choice_experiment"] = "choice_experiment"
    attributes: dict[str, AttributeSpec] = Field(json_schema_extra=_short_attributes_schema)
    alternatives: int = Field(default=2, ge=2, le=3)
    opt_out: bool = False
    tasks: int = Field(default=6, ge=1)
    """Tasks per participant; the design has ``tasks * blocks``."""
    blocks: int = Field(default=1, ge=1)
    priors: dict[str, float] = Field(default_factory=dict)
    neither_label: Text | None = None

    @field_validator("attributes", mode="before")
    @classmethod
    def _short_form(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: {"levels": v} if isinstance(v, list) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _check(self) -> ChoiceExperimentStep:
        if len(self.attributes) < 1:
            raise ValueError("a choice experiment needs at least one attribute")
        from flows.analysis.dce_design import DesignError

        self._enough_tasks()
        try:
            self.design()
        except DesignError as error:
            raise ValueError(f"no design can be made: {error}") from None
        return self

    def _enough_tasks(self) -> None:
        """Each task's choice tells one thing fewer than it has rows (alternatives, and
        "neither"); together the tasks must tell at least as much as there are parameters."""
        from flows.analysis.dce_design import Attribute

        parameters = int(self.opt_out)
        for name, attr in self.attributes.items():
            if len(set(attr.levels)) != len(attr.levels):
                return  # the design reports a repeated level itself
            parameters += 1 if Attribute(name, tuple(attr.levels)).numeric else len(attr.levels) - 1
        per_task = self.alternatives + int(self.opt_out) - 1
        needed = -(-parameters // (per_task * self.blocks))
        if self.tasks < needed:
            blocks = f" (with {self.blocks} blocks)" if self.blocks > 1 else ""
            neither = " and 'neither'" if self.opt_out else ""
            raise Invalid(
                f"no design can be made: too few tasks: estimating the {parameters} parameters of "
                f"these attributes{neither} needs at least {needed} tasks{blocks}, not {self.tasks}",
                f"set 'tasks: {needed}' or more, or use fewer attributes or levels",
                ("tasks",),
            )

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        for name, attr in self.attributes.items():
            found += [(f"attributes.{name}.labels.{level}", label) for level, label in (attr.labels or {}).items()]
        return found + ([("neither_label", self.neither_label)] if self.neither_label is not None else [])

    def design(self) -> Design:
        """Generated once per process for the same step (seeded by its id)."""
        spec = {
            "attributes": [{"name": n, "levels": a.levels, "better": a.better} for n, a in self.attributes.items()],
            "tasks": self.tasks * self.blocks, "alternatives": self.alternatives, "opt_out": self.opt_out,
            "blocks": self.blocks, "priors": self.priors,
        }
        return _design(json.dumps(spec, sort_keys=True), zlib.crc32(self.id.encode()))

    # ------------------------------------------------------------------ tasks

    def _block(self, ctx: StepContext) -> int:
        block = ctx.data.get("block")
        return int(block) if isinstance(block, int) else ctx.rng.randrange(self.blocks)

    def _task_numbers(self, block: int) -> list[int]:
        return [int(t) for t, b in enumerate(self.design().blocks) if int(b) == block]

    def profiles(self, task: int) -> list[dict[str, Any]]:
        """The alternatives of design task ``task`` (0-based): attribute -> level."""
        levels = self.design().levels[task]
        names = list(self.attributes)
        return [{name: self.attributes[name].levels[int(profile[a])] for a, name in enumerate(names)} for profile in levels]

    def _describe(self, profile: dict[str, Any], ctx: StepContext) -> str:
        parts = []
        for name, level in profile.items():
            labels = self.attributes[name].labels or {}
            parts.append(ctx.render(labels[str(level)]) if str(level) in labels else str(level))
        return ", ".join(parts)

    def prompt(self, ctx: StepContext) -> Prompt:
        block = self._block(ctx)
        tasks = self._task_numbers(block)
        done = int(ctx.data.get("done", 0))
        task = tasks[min(done, len(tasks) - 1)]
        lines = [ctx.render(self.text)] if self.text is not None and done == 0 else []
        lines.append(ctx.words("dce.task").format(done=done + 1, total=len(tasks)))
        lines += [f"{LETTERS[j]}: {self._describe(p, ctx)}" for j, p in enumerate(self.profiles(task))]
        buttons = [Button(LETTERS[j], LETTERS[j]) for j in range(self.alternatives)]
        if self.opt_out:
            buttons.append(Button(self._neither(ctx), "none"))
        return Prompt("\n".join(lines), tuple(buttons))

    def _neither(self, ctx: StepContext) -> str:
        """The opt-out's label: the flow's own, or the built-in one in the participant's language."""
        return resolve(self.neither_label, ctx, ctx.words("dce.neither"))

    def _neither_names(self, ctx: StepContext) -> set[str]:
        """Everything that picks the opt-out: the usual words, and its label as shown and in each language."""
        label = self.neither_label
        labels = [self._neither(ctx), *(label.values() if isinstance(label, dict) else ()), *BUILT_IN_TEXTS["dce.neither"].values()]
        return NONE_WORDS | {normalise(name) for name in labels}

    def _choice(self, reply: Reply, ctx: StepContext) -> str | None:
        """'A', 'B' (or 'C') or 'none'; None when unclear. Read as any option is (flows.parsing):
        'B', 'b)', '2', 'two', 'the second one', 'B please', 'I'd go with A', 'option B', and in
        Welsh 'y cyntaf', 'yr ail un', 'B os gwelwch yn dda', 'A plis', 'opsiwn B'; the
        opt-out by its words ('neither', 'none of them', its label) or its number (3 after A and
        B), never by a letter after the last alternative's ('C' when there are two)."""
        letters = LETTERS[: self.alternatives]
        if reply.button in (*letters, "none"):
            return reply.button
        neither = sorted(self._neither_names(ctx)) if self.opt_out else []
        names = [[letter, f"option {letter}"] for letter in letters] + ([neither] if neither else [])
        index = match_option(reply.text, names)
        if index is None or index < self.alternatives:
            return None if index is None else letters[index]
        return None if self._letter_after_the_last(reply.text) else "none"

    def _letter_after_the_last(self, text: str) -> bool:
        """'C' (or 'I'd go with C') when there are two alternatives: a letter not offered, which
        a list read in order would take for the opt-out after them; its number ('3') is the opt-out."""
        places = [[chr(ord("a") + n)] for n in range(self.alternatives + 1)]
        return match_option(text, places) == self.alternatives and parse_number(text) != self.alternatives + 1

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        block = self._block(ctx)
        tasks = self._task_numbers(block)
        done = int(ctx.data.get("done", 0))
        choice = self._choice(reply, ctx)
        if choice is None:
            return Unclear(self._hint(ctx))
        task = tasks[done]
        chosen = 0 if choice == "none" else LETTERS.index(choice) + 1
        value = {
            "block": block + 1, "task": task + 1, "choice": choice, "chosen": chosen,
            "alternatives": self.profiles(task), "opt_out": self.opt_out,
        }
        recorded = ItemAnswer(f"task{task + 1}", value, self._neither(ctx) if choice == "none" else choice)
        return self._after_task(ctx, block, choice, (recorded,))

    def _hint(self, ctx: StepContext) -> str:
        """'Please reply A or B.', or 'Please reply A, B or N for neither.' with an opt-out."""
        letters = list(LETTERS[: self.alternatives])
        if self.opt_out:
            return ctx.words("dce.hint_neither").format(letters=", ".join(letters))
        return ctx.words("dce.hint").format(letters=listed(letters, ctx.words("or")))

    def give_up(self, ctx: StepContext) -> GiveUp:
        """Leave the task on screen (recorded as skipped; None in the answer's list) and ask the next."""
        block = self._block(ctx)
        task = self._task_numbers(block)[int(ctx.data.get("done", 0))]
        return GiveUp((f"task{task + 1}",), self._after_task(ctx, block, None, ()))

    def _after_task(self, ctx: StepContext, block: int, choice: str | None, recorded: tuple[ItemAnswer, ...]) -> Answer | Continue:
        """The next task, or the answer (each task's choice, None for one left) after the last."""
        done = int(ctx.data.get("done", 0))
        choices = [*ctx.data.get("choices", []), choice]
        if done + 1 >= len(self._task_numbers(block)):
            return Answer(choices, " ".join(c or "-" for c in choices), recorded)
        return Continue({"block": block, "done": done + 1, "choices": choices}, recorded)
