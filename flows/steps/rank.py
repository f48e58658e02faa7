from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.events import Button
from flows.model import Invalid, Option, Text, resolve_text
from flows.parsing import match_option, match_options, normalise, only_politeness, says_every_option
from flows.sms import sms_text
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
from flows.steps.choice import LISTED_IN_A_HINT
from flows.welsh_mutations import is_welsh, with_mutations
from flows.words import ENGLISH_OPTIONS, listed


@register
class RankStep(InputStep):
    """Put options in order, all of them or the ``top`` k.

    Answered at once ("3 1 2", "C, A", "pain relief, updates") or one at a time: tapping a
    button (or typing one option) picks the next place and asks "Next most important?"
    with the options left, until k are placed. Once the picks cover all but one option of
    a full ranking, the last goes last. The answer is the list of option values, best
    first; each place is also recorded as an item ("1", "2", ...) valued by its option,
    as soon as it is picked and with the reply that picked it (its raw text in the export).

    Each option keeps its number throughout, so a number typed means the same option at
    every pick: the buttons' values are those numbers (SMS shows "1) ... 3) ... 4) ..." once
    option 2 is placed), and typed numbers and letters count in the flow's list.

    Hints after an unclear reply follow what the participant saw: numbers where SMS numbered the
    options; their names where it named them on one line; and where they were buttons (Telegram,
    the web simulator, WhatsApp's quick replies and list pickers), which carry no numbers, a tap
    in order or their names typed ("Please tap the next most important option, or reply Shorter
    waits or Pain relief.").
    """

    type: Literal["rank"] = "rank"
    options: list[Option] = Field(min_length=2)
    top: int | None = Field(default=None, ge=1)
    next_text: Text | None = None
    """Asked after each pick made one at a time; default "Next most important?"."""

    @field_validator("options", mode="before")
    @classmethod
    def _options(cls, value: Any) -> Any:
        if isinstance(value, list):
            if len(value) < 2:
                raise Invalid(
                    f"a rank step needs at least 2 options to put in order, not {len(value)}",
                    "add more options, or use a yesno or choice step",
                )
            return [{"value": str(item)} if isinstance(item, str | int | float) else item for item in value]
        return value

    @model_validator(mode="after")
    def _check(self) -> RankStep:
        seen = [o.value.strip().lower() for o in self.options]
        duplicate = next((v for v in seen if seen.count(v) > 1), None)
        if duplicate:
            raise ValueError(f"the option '{duplicate}' appears twice; each option must differ")
        if self.top is not None and self.top > len(self.options):
            raise ValueError(f"top is {self.top} but there are only {len(self.options)} options")
        return self

    @property
    def places(self) -> int:
        """How many options the participant puts in order."""
        return self.top or len(self.options)

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        found += [(f"options[{i}].label", o.label) for i, o in enumerate(self.options) if o.label is not None]
        if self.next_text is not None:
            found.append(("next_text", self.next_text))
        return found

    def _label(self, option: Option, ctx: StepContext) -> str:
        return ctx.render(option.label) if option.label is not None else option.value

    def _names(self, options: list[Option], ctx: StepContext) -> list[list[str]]:
        """Everything each option answers to, as :meth:`ChoiceStep.names` says."""
        names = []
        for option in options:
            found = [option.value, self._label(option, ctx)]
            if isinstance(option.label, dict):
                found += [resolve_text(option.label, lang) for lang in option.label]
            names.append(found)
        return with_mutations(names, [self._label(o, ctx) for o in options]) if is_welsh(ctx.language) else names

    def _state(self, ctx: StepContext) -> tuple[list[str], list[Option]]:
        picked = [v for v in ctx.data.get("picked", []) if isinstance(v, str)]
        return picked, [o for o in self.options if o.value not in picked]

    def _number(self, option: Option) -> str:
        """The option's number for the whole step: its place in the flow's list, from 1."""
        return str(self.options.index(option) + 1)

    def prompt(self, ctx: StepContext) -> Prompt:
        picked, left = self._state(ctx)
        buttons = tuple(Button(self._label(o, ctx), self._number(o)) for o in left)
        if not picked:
            return Prompt(ctx.render(self.text), buttons)
        by_value = {o.value: o for o in self.options}
        # In order, unnumbered: a number beside a placed option would read as that option's number.
        so_far = ", ".join(self._label(by_value[v], ctx) for v in picked)
        ask = ctx.render(self.next_text) if self.next_text is not None else ctx.words("rank.next")
        return Prompt(f"{ask} {ctx.words('rank.so_far').format(so_far=so_far)}", buttons)

    def _tapped(self, button: str) -> list[str] | None:
        """The option values a tap names: by number (as buttons are sent), or by value (a
        keyboard sent before numbers were); None when it names something else."""
        values = [o.value for o in self.options]
        picks = []
        for part in button.split("|"):
            if part.isdigit() and 1 <= int(part) <= len(values):
                picks.append(values[int(part) - 1])
            elif part in values:
                picks.append(part)
            else:
                return None
        return picks

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        """A typed number always means the option of that number in the first list, however
        many are placed already: the numbers do not move as options are picked. A reply may
        repeat the places picked so far, in their order, before the next ('2, 5, 3' after 2); one
        that puts them elsewhere ('5, 2, 3') is asked again, saying what is placed already, not
        stored in an order the participant never gave."""
        picked, left = self._state(ctx)
        tapped = self._tapped(reply.button) if reply.button else None
        if tapped is not None:
            picks = tapped
        else:
            picks = [self.options[i].value for i in _read_order(reply.text, self._names(self.options, ctx))]
        new = [v for v in dict.fromkeys(picks) if v not in picked]
        again = [v for v in dict.fromkeys(picks) if v in picked]
        if not new:
            return Unclear(self._hint(left, ctx, placed=again))
        if again != picks[: len(again)] or again != picked[: len(again)]:  # a new order that moves places picked
            return Unclear(f"{self._hint(left, ctx, placed=again)} {ctx.words('correction_use_back')}")
        chosen = (picked + new)[: self.places]
        if len(chosen) == len(self.options) - 1:
            chosen += [v for v in (o.value for o in self.options) if v not in chosen]
            chosen = chosen[: self.places]
        if len(chosen) < self.places:
            return Continue({"picked": chosen}, self._places(chosen, len(picked), ctx))
        return self._answer(chosen, len(picked), ctx)

    def give_up(self, ctx: StepContext) -> GiveUp | None:
        """With places already picked one at a time, keep them (the places not reached are
        left) and finish; with none, the step as a whole."""
        picked, _ = self._state(ctx)
        if not picked:
            return None
        return GiveUp((), self._answer(picked, len(picked), ctx))

    def _places(self, chosen: list[str], recorded: int, ctx: StepContext) -> tuple[ItemAnswer, ...]:
        """The places after the first ``recorded``, each an item valued by its option.

        Each place is recorded with the reply that picked it (the engine gives an item the raw
        text of the reply it came with), so places tapped one at a time keep what was sent for
        each, and BACK withdraws the last pick's place with it."""
        by_value = {o.value: o for o in self.options}
        return tuple(ItemAnswer(str(place), value, self._label(by_value[value], ctx)) for place, value in enumerate(chosen, start=1) if place > recorded)

    def _answer(self, chosen: list[str], recorded: int, ctx: StepContext) -> Answer:
        """The options in the order given, best first; the places not yet recorded as items."""
        by_value = {o.value: o for o in self.options}
        labels = [self._label(by_value[v], ctx) for v in chosen]
        return Answer(chosen, ", ".join(f"{i}. {label}" for i, label in enumerate(labels, start=1)), self._places(chosen, recorded, ctx))

    def _hint(self, left: list[Option], ctx: StepContext, placed: list[str] | None = None) -> str:
        """How to answer, as the options were shown (:meth:`_shown`): the order as numbers at
        first, then the number of the next option, naming the numbers still free; where they
        were buttons, tapped in order or their names typed; where they were named without
        numbers (SMS), their names. What was placed already is said first, if that was the reply."""
        by_value = {o.value: o for o in self.options}
        names = ", ".join(self._label(by_value[v], ctx) for v in placed or ())
        shown = self._shown(ctx)
        if shown == "numbers" and len(left) < len(self.options):
            numbers = listed([self._number(o) for o in left], ctx.words("or"))
            key = "rank.already_placed" if names else "rank.hint_next"
            return ctx.words(key).format(placed=names, numbers=numbers)
        hint = self._unnumbered_hint(left, ctx, shown)
        return f"{ctx.words('rank.placed_already').format(placed=names)} {hint}" if names else hint

    def _unnumbered_hint(self, left: list[Option], ctx: StepContext, shown: str) -> str:
        """The hint where options were not numbered (and the first one where they were)."""
        if len(left) == len(self.options):
            if shown == "numbers":
                return ctx.words("rank.hint_order").format(example=" ".join(str(n) for n in range(min(3, len(left)), 0, -1)))
            return ctx.words(f"rank.hint_order_{shown}")
        choices = listed([self._label(o, ctx) for o in left], ctx.words("or"))
        if shown == "words":
            return ctx.words("rank.hint_next_words").format(choices=choices)
        too_long = len(choices) > LISTED_IN_A_HINT
        return ctx.words("rank.hint_next_tap_type" if too_long else "rank.hint_next_tap").format(choices=choices)

    def _shown(self, ctx: StepContext) -> Literal["tap", "numbers", "words"]:
        """How the participant saw the options asked now: as buttons to tap ('tap': Telegram, the
        web simulator, WhatsApp's quick replies and list pickers, :meth:`StepContext.tapped`), or
        as text (:func:`flows.sms.sms_text`): numbered lines ('numbers'), or named in the question
        or on one "(Reply Phone, Text or Letter)" line ('words')."""
        prompt = self.prompt(ctx)
        if ctx.tapped(prompt.buttons):
            return "tap"
        shown = sms_text(prompt.text, prompt.buttons)
        named = (prompt.text, f"{prompt.text}\n{ENGLISH_OPTIONS.reply_with([b.label for b in prompt.buttons])}")
        return "words" if shown in named else "numbers"


def _read_order(text: str, names: list[list[str]]) -> list[int]:
    """Option indexes in the order given: '3 1 2', 'C, A', 'pain relief, shorter waits'.

    Parts separated by commas, semicolons, new lines or 'then' are read one by one (so option
    names of several words survive); a part that is only politeness ('phone, thanks') is left
    out. When one part names no option the reply is unclear as a whole (nothing: the participant
    is asked again), never one pick with the rest dropped. A reply in one part goes to the
    forgiving multiple pick, but 'all' or 'all of them' is no order: it is asked again, not
    read as the options in the order listed."""
    if says_every_option(text, len(names)):
        return []
    parts = [p for p in re.split(r"\s*(?:[,;\n]|\bthen\b|>)\s*", text.strip()) if p.strip()]
    if len(parts) > 1:
        said = normalise(text)
        named = [i for i, candidates in enumerate(names) if said in (normalise(name) for name in candidates)]
        if len(named) == 1:
            return named  # an option whose own name has a comma in it ('Food, drink and rest')
        found = [_part_picks(part, names) for part in parts if not only_politeness(part)]
        return [] if None in found else list(dict.fromkeys(i for picks in found for i in picks or ()))
    picks = match_options(text, names) if len(names) > 1 else None
    if picks is None:
        single = match_option(text, names)
        picks = [single] if single is not None else []
    return picks


def _part_picks(part: str, names: list[list[str]]) -> list[int] | None:
    """The options one part of a reply names, in order: one ('same nurse'), or several ('2 and 3'); None for none."""
    single = match_option(part, names)
    if single is not None:
        return [single]
    return match_options(part, names) if len(names) > 1 else None
