"""A discrete choice experiment: several tasks, each "which of these would you choose?".

The design is generated from the step (D-efficient, level-balanced, no dominated
alternatives: :func:`flows.analysis.dce_design.generate_design`), seeded by the step id
so it is the same in every process, and cached. Each participant gets one block of tasks,
drawn from the session's seed. Each task is an item answer (``task3``) valued with the
choice and the levels shown, so the model can be fitted from the answers alone.

A task is answered by letter or place ('B', 'the first'), by 'neither', or by the words of
the alternative wanted: a level only that alternative shows ('hospital', 'the next day one'),
or a description only one fits (flows/choice_comparisons.py: 'the cheaper one', 'the one with
more pay', 'the shorter shift', 'the one with break cover').
"""

from __future__ import annotations

import json
import re
import zlib
from collections import Counter
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.choice_comparisons import Described, asks_cost, is_cost, picks, without_absences
from flows.events import Button
from flows.model import Invalid, Strict, Text
from flows.parsing import (
    SENTENCE_WORDS,
    match_option,
    normalise,
    parse_number,
    says_no_preference,
    words_to_number,
)
from flows.parsing_option_words import _negations
from flows.parsing_options import _pick_phrase
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
_THE_ONE = re.compile(r"(?:yr|y)\s+un\s+")
"""Welsh 'the one' opening a reply that goes on to describe the alternative ('yr un rhatach')."""
_NUMBER_ONLY = re.compile(r"[\d.,\s]*")
"""A level shown as a bare number ('4'): never a name for its alternative, or '2' would stop meaning B."""

class AttributeSpec(Strict):
    levels: list[str | int | float] = Field(min_length=2)
    labels: dict[str, Text] | None = None
    """How a level reads, e.g. ``{1: 1 week, 2: 2 weeks}``; default the level itself."""
    label: Text | None = None
    """How the attribute itself is called, in each language, e.g. ``{en: waiting time, cy: amser
    aros}``: said to a participant ('they differ in: waiting time, ...') and shown on the desk;
    default its name, underscores as spaces ('travel_time': 'travel time')."""
    better: Literal["higher", "lower"] | None = None
    """For a numeric attribute whose better direction is known (so dominated pairs are avoided)."""
    cost: bool | None = None
    """Whether it is a cost to the participant, which 'the cheaper one' compares: ``cost: true``
    for one whose name does not say so (``out_of_pocket``), ``false`` for one whose name
    misleads; by default when its name says cost, price, fee, fare or charge (never 'pay')."""

    @field_validator("labels", mode="before")
    @classmethod
    def _keys(cls, value: Any) -> Any:
        return {str(k): v for k, v in value.items()} if isinstance(value, dict) else value

    @field_validator("levels", mode="before")
    @classmethod
    def _no_true_or_false(cls, value: Any) -> Any:
        """``levels: [yes, no]`` reads as true and false in YAML, which would be stored as 1 and 0."""
        if isinstance(value, list) and any(isinstance(level, bool) for level in value):
            raise Invalid("YAML reads yes, no, on, off, true and false as true/false, so these levels would be 1 and 0",
                          'put each in quotes, e.g. ["yes", "no"], or name them plainly, e.g. [with break cover, no break cover]',
                          ("levels",))
        return value

    @model_validator(mode="after")
    def _cost_in_numbers(self) -> AttributeSpec:
        if self.cost and not all(isinstance(level, int | float) for level in self.levels):
            raise Invalid("cost: true compares the levels as amounts, but they are not all numbers",
                          "write each level as a number and label it, e.g. 'levels: [0, 5]' with 'labels: {0: free, 5: £5}'",
                          ("cost",))
        return self


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


def _names_two(clean: str, names: list[list[str]]) -> bool:
    """Whether a reply says, whole, names of two alternatives ('£20 or free'), a name inside a
    longer one said aside ('GP' in 'GP surgery'): the option readers pass over short words."""
    spans = [(m.start(), m.end(), i) for i, own in enumerate(names) for name in own
             for m in re.finditer(rf"(?<!\w){re.escape(name)}(?!\w)", clean)]
    kept = {i for s, e, i in spans if not any(s2 <= s and e <= e2 and e2 - s2 > e - s for s2, e2, _ in spans)}
    return len(kept) > 1


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
            found += [(f"attributes.{name}.label", attr.label)] if attr.label is not None else []
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
        return Prompt("\n".join(lines), self._buttons(ctx))

    def _buttons(self, ctx: StepContext) -> tuple[Button, ...]:
        """A button for each alternative's letter, and the opt-out's."""
        letters = tuple(Button(LETTERS[j], LETTERS[j]) for j in range(self.alternatives))
        return (*letters, Button(self._neither(ctx), "none")) if self.opt_out else letters

    def _neither(self, ctx: StepContext) -> str:
        """The opt-out's label: the flow's own, or the built-in one in the participant's language."""
        return resolve(self.neither_label, ctx, ctx.words("dce.neither"))

    def _neither_names(self, ctx: StepContext) -> set[str]:
        """Everything that picks the opt-out: the usual words, and its label as shown and in each language."""
        label = self.neither_label
        labels = [self._neither(ctx), *(label.values() if isinstance(label, dict) else ()), *BUILT_IN_TEXTS["dce.neither"].values()]
        return NONE_WORDS | {normalise(name) for name in labels}

    def _choice(self, reply: Reply, ctx: StepContext, task: int) -> str | None:
        """'A', 'B' (or 'C') or 'none'; None when unclear. Read as any option is (flows.parsing):
        'B', 'b)', '2', 'two', 'the second one', 'B please', 'I'd go with A', 'option B', and in
        Welsh 'y cyntaf', 'yr ail un', 'B os gwelwch yn dda', 'A plis', 'opsiwn B'; the
        opt-out by its words ('neither', 'none of them', its label) or its number (3 after A and
        B), never by a letter after the last alternative's ('C' when there are two). An
        alternative also answers to its own levels (:meth:`_level_names`), and to a comparison
        on a numeric attribute (:meth:`_compared`): 'hospital', 'the cheaper one'."""
        letters = LETTERS[: self.alternatives]
        if reply.button in (*letters, "none"):
            return reply.button
        neither = self._neither_names(ctx) if self.opt_out else set()
        names = [[letter, f"option {letter}"] for letter in letters] + ([sorted(neither)] if neither else [])
        text = self._without_the_one(reply.text, ctx)
        compared, rest = self._compared(text, self.profiles(task))
        readings = {match_option(text, names), self._named_by_levels(rest, ctx, task, neither), compared} - {None}
        index = readings.pop() if len(readings) == 1 else None  # ('B, the cheaper one' when A costs less: asked again)
        if index is None or index < self.alternatives:
            return None if index is None else letters[index]
        return None if self._letter_after_the_last(reply.text) else "none"

    def _without_the_one(self, text: str, ctx: StepContext) -> str:
        """A Welsh reply less the 'yr un' ('the one') it opens with before what describes the
        alternative: 'yr un rhatach' (the cheaper one), 'yr un am ddim' (the free one). Kept
        where a level's own label goes on so ('yr un nyrs', the same nurse: 'yr un' is 'the same'
        there), and when nothing follows it."""
        clean = normalise(text)
        opening = _THE_ONE.match(clean)
        if opening is None or not clean[opening.end():].strip():
            return text
        rest = clean[opening.end():]
        going_on = re.compile(rf"(?<!\w)yr? un {re.escape(rest.split()[0])}(?!\w)")
        labels = [label for spec in self.attributes.values() for label in (spec.labels or {}).values()]
        said = [ctx.render(label) for label in labels] + [name for label in labels if isinstance(label, dict) for name in label.values()]
        return text if any(going_on.search(normalise(name)) for name in said) else rest

    def _named_by_levels(self, text: str, ctx: StepContext, task: int, neither: set[str]) -> int | None:
        """The alternative a reply names by its levels' words, read as any option's words are
        (flows.parsing: a level named once in a short sentence, never one the reply negates or
        said with another alternative's). A number alone ('4', '4 please') is no level: read as
        a place in the list it offers no alternative, so it is asked again. A negation must be
        a level's own, said whole ('no charge'): 'ddim yr ysbyty' (not the hospital) never
        picks the free hospital ('am ddim'), though the word is in its label."""
        clean = normalise(text)
        plain = _pick_phrase(clean)
        if _NUMBER_ONLY.fullmatch(plain) or words_to_number(plain) is not None:
            return None
        levels = self._level_names(task, ctx, neither)
        outside = clean
        for name in sorted((name for names in levels for name in names if _negations(name)), key=len, reverse=True):
            outside = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", " ", outside)
        if _negations(outside):
            return None
        others = self._names_of_no_one(task, ctx, neither)
        found = match_option(text, [*levels, others] if others else levels) if any(levels) else None
        if found == len(levels):
            return None  # a level this task does not show ('after school' beside 'during school hours')
        return None if found is not None and _names_two(clean, levels) else found

    def _names_of_no_one(self, task: int, ctx: StepContext, neither: set[str]) -> list[str]:
        """The names of the levels no one alternative of design task ``task`` shows: those it
        does not show at all and those every alternative shows. Read beside the alternatives'
        own, so that a reply naming one ('the one after school', 'same nurse') is not taken for
        the alternative whose level shares a word with it ('during school hours', 'any nurse')."""
        shown = [set(profile.items()) for profile in self.profiles(task)]
        names: set[str] = set()
        for attribute, spec in self.attributes.items():
            for level in spec.levels:
                if sum((attribute, level) in own for own in shown) == 1:
                    continue
                label = (spec.labels or {}).get(str(level))
                said = [str(level)] if label is None else [ctx.render(label), *(label.values() if isinstance(label, dict) else ())]
                names |= {normalise(name) for name in said}
        return sorted(name for name in names if not _NUMBER_ONLY.fullmatch(name) and name not in neither)

    def _level_names(self, task: int, ctx: StepContext, neither: set[str]) -> list[list[str]]:
        """What each alternative of design task ``task`` answers to by its levels: each level's
        label as shown and in every language the flow gives ('hospital', 'ysbyty', 'next day'),
        and a level's own words when it has no label. Never a level two alternatives share (the
        same place in both: naming it names neither), nor one that is a bare number ('4') or an
        opt-out word ('none')."""
        shown = []
        for profile in self.profiles(task):
            names: set[str] = set()
            for attribute, level in profile.items():
                label = (self.attributes[attribute].labels or {}).get(str(level))
                said = [str(level)] if label is None else [ctx.render(label), *(label.values() if isinstance(label, dict) else ())]
                names |= {normalise(name) for name in said}
            shown.append({name for name in names if not _NUMBER_ONLY.fullmatch(name) and name not in neither})
        counts = Counter(name for names in shown for name in names)
        return [sorted(name for name in names if counts[name] == 1) for names in shown]

    def _described(self) -> list[Described]:
        """Each attribute as a reply may describe it (flows/choice_comparisons.py)."""
        found = []
        for name, attr in self.attributes.items():
            labels = {level: tuple(label.values()) if isinstance(label, dict) else (label,) for level, label in (attr.labels or {}).items()}
            levels = tuple(level for level in attr.levels)
            found.append(Described(name, levels, labels, is_cost(name, attr.cost) and all(isinstance(v, int | float) for v in levels)))
        return found

    def _compared(self, text: str, profiles: list[dict[str, Any]]) -> tuple[int | None, str]:
        """The alternative a short reply picks by describing it (:func:`flows.choice_comparisons.picks`):
        'the cheaper one' (the lowest cost), 'the one with more pay', 'the shorter shift', 'less
        travel', 'the one with break cover', when exactly one alternative fits. Never with a
        negation other than an absence said ('not the cheaper one'; 'without break cover' is
        read), and never when two descriptions pick different alternatives ('cheaper but sooner').
        With it, the reply less its descriptions, whose words name no level ('more' in 'more
        travel' beside a label '£1,000 more a year')."""
        clean = normalise(text)
        if not clean or len(clean.split()) > SENTENCE_WORDS:
            return None, text
        compared = picks(clean, self._described(), profiles)
        if _negations(without_absences(clean, self._described())):
            return None, compared.rest
        return (compared.picked.pop() if len(compared.picked) == 1 else None), compared.rest

    def _tie(self, text: str, task: int, ctx: StepContext) -> str | None:
        """'They are the same on distance: 10 miles.' for 'the nearer one' where every
        alternative of the task is as near: why the description picks none."""
        clean = normalise(text)
        if not clean or len(clean.split()) > SENTENCE_WORDS:
            return None
        profiles = self.profiles(task)
        tied = picks(clean, self._described(), profiles).tied
        if not tied:
            return None
        level = profiles[0][tied[0]]
        label = (self.attributes[tied[0]].labels or {}).get(str(level))
        shown = ctx.render(label) if label is not None else str(level)
        return ctx.words("dce.tied").format(attribute=self._attribute_name(tied[0], ctx), level=shown)

    def _no_cost_to_compare(self, text: str) -> bool:
        """'the cheaper one' where no attribute is a cost."""
        return asks_cost(normalise(text)) and not any(attribute.cost for attribute in self._described())

    def _attribute_name(self, name: str, ctx: StepContext) -> str:
        """An attribute as a participant is told of it, mid-sentence: its ``label`` in their
        language (else the study's first), 'Waiting time' as 'waiting time' ('NHS cost' kept),
        else its name with spaces ('shift_hours': 'shift hours')."""
        label = self.attributes[name].label
        said = ctx.render(label).strip() if label is not None else ""
        if not said:
            return name.replace("_", " ")
        return said[:1].lower() + said[1:] if said[1:2].islower() else said

    def _letter_after_the_last(self, text: str) -> bool:
        """'C' (or 'I'd go with C') when there are two alternatives: a letter not offered, which
        a list read in order would take for the opt-out after them; its number ('3') is the opt-out."""
        places = [[chr(ord("a") + n)] for n in range(self.alternatives + 1)]
        return match_option(text, places) == self.alternatives and parse_number(text) != self.alternatives + 1

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        block = self._block(ctx)
        tasks = self._task_numbers(block)
        done = int(ctx.data.get("done", 0))
        task = tasks[done]
        choice = self._choice(reply, ctx, task)
        if choice is None:  # 'either is fine', 'both the same': no tie to record here, so a choice is asked for
            if self._no_cost_to_compare(reply.text):
                differ = ", ".join(self._attribute_name(name, ctx) for name in self.attributes)
                return Unclear(f"{ctx.words('dce.no_cost').format(attributes=differ)} {self._hint(ctx)}")
            tie = self._tie(reply.text, task, ctx)
            if tie is not None:  # 'the nearer one' with both as near
                return Unclear(f"{tie} {self._hint(ctx)}")
            return Unclear(f"{ctx.words('hint_no_preference')} {self._hint(ctx)}" if says_no_preference(reply.text) else self._hint(ctx))
        chosen = 0 if choice == "none" else LETTERS.index(choice) + 1
        value = {
            "block": block + 1, "task": task + 1, "choice": choice, "chosen": chosen,
            "alternatives": self.profiles(task), "opt_out": self.opt_out,
        }
        recorded = ItemAnswer(f"task{task + 1}", value, self._neither(ctx) if choice == "none" else choice)
        return self._after_task(ctx, block, choice, (recorded,))

    def _hint(self, ctx: StepContext) -> str:
        """'Please reply A or B.', or 'Please reply A, B or N for neither.' with an opt-out; after
        'Please tap one of the buttons, or' where the letters were buttons."""
        letters = list(LETTERS[: self.alternatives])
        if self.opt_out:
            return ctx.words_for("dce.hint_neither", self._buttons(ctx)).format(letters=", ".join(letters))
        return ctx.words_for("dce.hint", self._buttons(ctx)).format(letters=listed(letters, ctx.words("or")))

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
