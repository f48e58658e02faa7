"""Pairwise comparison in the manner of a wiki survey: "Which matters more to you? A or B".

Pairs are drawn from the pool (the flow's ideas plus approved submissions) favouring
ideas with few comparisons so that new ones catch up
(:func:`flows.analysis.pairwise.choose_pair`); a participant is not shown a pair twice.
Each answer is an item answer ``"<a> vs <b>"`` valued ``{"winner", "loser", "tie"}``, so
:func:`flows.analysis.pairwise.score_items` can be run on the answers ("can't decide" is
a tie: the two ideas shown, ``tie: true``).

The pair on screen is kept in the working data once chosen; the first pair of a session
is drawn from the flow's own ideas, so a reply cannot race with other people's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.events import Button
from flows.model import Text
from flows.parsing import (
    UNDECIDED_REPLIES,
    match_option,
    normalise,
    remaining_option,
    says_undecided,
    without_politeness,
)
from flows.population import Population
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
from flows.steps.items import (
    ListedItem,
    distinct_ids,
    draw,
    item_texts,
    items_from_strings,
    plain_items_schema,
    pool,
    resolve,
    submission,
)

UNDECIDED = UNDECIDED_REPLIES | {
    "either", "both", "equal", "same", "c", "3", "tie", "pass", "?", "y ddau", "yr un fath", "cyfartal",
}
"""Replies that mean neither is preferred, compared without apostrophes (``can't`` as ``cant``):
the words that say 'I can't choose' anywhere (a statement vote's pass too), and a pair's own."""


def _without_apostrophes(text: str) -> str:
    return normalise(text).replace("'", "")


@register
class PairwiseStep(InputStep):
    type: Literal["pairwise"] = "pairwise"
    ideas: list[ListedItem] = Field(default_factory=list, json_schema_extra=plain_items_schema)
    pairs: int = Field(default=5, ge=1)
    """Pairs asked per session."""
    submissions: bool = True
    add_word: str = "ADD"
    undecided_label: Text | None = None
    submitted_text: Text | None = None

    _v_ideas = field_validator("ideas", mode="before")(items_from_strings)

    @model_validator(mode="after")
    def _check(self) -> PairwiseStep:
        if len(self.ideas) < 2:
            raise ValueError("a pairwise step needs at least two ideas under 'ideas:'")
        distinct_ids(self.ideas, "ideas")
        if " " in self.add_word.strip() or not self.add_word.strip():
            raise ValueError("add_word must be one word, such as ADD")
        return self

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts() + item_texts(self.ideas, "ideas")
        return found + [(n, t) for n, t in (("undecided_label", self.undecided_label), ("submitted_text", self.submitted_text)) if t is not None]

    # ------------------------------------------------------------------ which pair

    def _seen(self, ctx: StepContext) -> set[frozenset[str]]:
        population: Population | None = ctx.population
        earlier = population.my_answers(self.id) if population is not None else []
        seen = {frozenset((v["winner"], v["loser"])) for _, v in earlier if isinstance(v, dict) and "winner" in v}
        return seen | {frozenset(pair) for pair in ctx.data.get("seen", [])}

    def _counts(self, ctx: StepContext) -> Mapping[str, int]:
        population: Population | None = ctx.population
        return population.comparison_counts(self.id) if population is not None else {}

    def _current(self, ctx: StepContext) -> tuple[str, str]:
        current = ctx.data.get("current")
        if isinstance(current, list) and len(current) == 2:
            return str(current[0]), str(current[1])
        from flows.analysis.pairwise import choose_pair  # scipy: loaded when a pair is first drawn

        return choose_pair([i.id for i in self.ideas], {}, ctx.rng, self._seen(ctx))

    def _next(self, ctx: StepContext, seen: set[frozenset[str]]) -> tuple[str, str]:
        from flows.analysis.pairwise import choose_pair

        entries = [e.id for e in pool(self.ideas, ctx, self.id)]
        return choose_pair(entries, self._counts(ctx), draw(ctx, len(seen)), seen)

    def _texts(self, ctx: StepContext) -> dict[str, str]:
        return {e.id: e.text for e in pool(self.ideas, ctx, self.id)}

    # ------------------------------------------------------------------ asking and reading

    def prompt(self, ctx: StepContext) -> Prompt:
        a, b = self._current(ctx)
        texts = self._texts(ctx)
        lines = [resolve(self.text, ctx, ctx.words("pairwise.question")), f"A) {texts.get(a, a)}", f"B) {texts.get(b, b)}"]
        if self.submissions and not ctx.data.get("seen"):
            lines.append(ctx.words("pairwise.add_hint").format(word=self._add_word(ctx)))
        return Prompt("\n".join(lines), (Button("A", "A"), Button("B", "B"), Button(self._undecided(ctx), "tie")))

    def _add_word(self, ctx: StepContext) -> str:
        """The word that proposes an idea, as shown: the step's own ``add_word``, or, where it
        keeps the default ADD, the built-in word in the participant's language (YCHWANEGU in
        Welsh). ADD (or the step's word) is read in every language."""
        own = self.add_word.strip().upper()
        return (ctx.words("pairwise.add_word").strip().upper() or own) if own == "ADD" else own

    def _submission(self, reply: Reply, ctx: StepContext) -> ItemAnswer | None | str:
        found = submission(reply.text, self._add_word(ctx), "idea")
        return submission(reply.text, self.add_word, "idea") if found is None else found

    def _undecided(self, ctx: StepContext) -> str:
        return resolve(self.undecided_label, ctx, ctx.words("pairwise.undecided"))

    def _undecided_names(self, ctx: StepContext) -> set[str]:
        """The 'can't decide' button's label as shown and in each of its languages, compared without apostrophes."""
        label = self.undecided_label
        names = [self._undecided(ctx), *(label.values() if isinstance(label, dict) else ())]
        return {_without_apostrophes(name) for name in names}

    def _choice(self, reply: Reply, ctx: StepContext, a: str, b: str) -> str | None:
        """'A', 'B' or 'tie'; None when unclear. Read as any option is (flows.parsing), in English
        or Welsh: 'B please', 'the first one', 'yr ail', 'A os gwelwch yn dda', and the other of the
        two for 'not A' or 'nid y cyntaf'; 'can't decide thanks' and 'methu penderfynu plis' are a tie."""
        if reply.button in ("A", "B", "tie"):
            return reply.button
        said = {_without_apostrophes(reply.text), without_politeness(reply.text).replace("'", "")}
        if said & (UNDECIDED | self._undecided_names(ctx)) or says_undecided(reply.text):
            return "tie"
        texts = self._texts(ctx)
        names = [["a", texts.get(a, a)], ["b", texts.get(b, b)]]
        index = match_option(reply.text, names)
        index = remaining_option(reply.text, names) if index is None else index  # 'not A', 'anything but the first'
        return None if index is None else "AB"[index]

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        a, b = self._current(ctx)
        data: dict[str, Any] = {**ctx.data, "current": [a, b]}
        if self.submissions and reply.button is None:
            submitted = self._submission(reply, ctx)
            if submitted == "":
                return Unclear(ctx.words("pairwise.add_example").format(word=self._add_word(ctx)))
            if isinstance(submitted, ItemAnswer):
                thanks = resolve(self.submitted_text, ctx, ctx.words("pairwise.submitted"))
                return Continue(data, (submitted,), thanks)
        choice = self._choice(reply, ctx, a, b)
        if choice is None:
            return Unclear(ctx.words("pairwise.hint").format(undecided=self._undecided(ctx)))
        winner, loser = (b, a) if choice == "B" else (a, b)
        value = {"winner": winner, "loser": loser, "tie": choice == "tie"}
        texts = self._texts(ctx)
        display = self._undecided(ctx) if choice == "tie" else texts.get(winner, winner)
        return self._after_pair(ctx, data, value, (ItemAnswer(f"{a} vs {b}", value, display),))

    def give_up(self, ctx: StepContext) -> GiveUp:
        """Leave the pair on screen (recorded as skipped) and show the next; it counts
        towards ``pairs``, so the session is no longer for it."""
        a, b = self._current(ctx)
        return GiveUp((f"{a} vs {b}",), self._after_pair(ctx, {**ctx.data, "current": [a, b]}, None, ()))

    def _after_pair(self, ctx: StepContext, data: dict[str, Any], value: dict[str, Any] | None,
                    recorded: tuple[ItemAnswer, ...]) -> Answer | Continue:
        """The next pair, or the answer once ``pairs`` were shown (a pair left has no ``value``)."""
        a, b = data["current"]
        seen = [*data.get("seen", []), [a, b]]
        results = [*data.get("results", []), *([value] if value is not None else [])]
        if len(seen) >= self.pairs:
            return Answer(results, f"{len(results)} pair{'' if len(results) == 1 else 's'}", recorded)
        following = self._next(ctx, self._seen(ctx) | {frozenset(p) for p in seen})
        return Continue({**data, "seen": seen, "results": results, "current": list(following)}, recorded)
