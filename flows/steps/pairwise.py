"""Pairwise comparison in the manner of a wiki survey: "Which matters more to you? A or B".

Pairs are drawn from the pool (the flow's ideas plus approved submissions) favouring
ideas with few comparisons so that new ones catch up
(:func:`flows.analysis.pair_choice.choose_pair`); a participant is not shown a pair twice.
Each answer is an item answer ``"<a> vs <b>"`` valued ``{"winner", "loser", "tie"}``, so
:func:`flows.analysis.pairwise.score_items` can be run on the answers ("can't decide" is
a tie: the two ideas shown, ``tie: true``).

PASS (or SKIP, Welsh PASIO or HEPGOR) lets the pair go: it is recorded as skipped (value None),
as a pair left after its last try is, and the next pair is shown. It is no comparison and no
tie: a tie says the participant weighed the two and found them level (a "can't decide", counted
against each idea as a tie and as a comparison that steers which ideas are drawn next), while a
pass says nothing about either idea, so neither is counted as compared, and it may be drawn for
others as if unseen. Statements are another matter: there PASS is a vote of its own (0), as in
Pol.is, where a pass is an opinion the model reads. A step with ``skip: true`` is left whole by
SKIP or PASS (flows/engine.py reads those words first), as any question allowing SKIP is.

The pair on screen is kept in the working data once chosen; the first pair of a session
is drawn from the flow's own ideas, so a reply cannot race with other people's answers.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.analysis.pair_choice import choose_pair
from flows.events import Button
from flows.model import Text
from flows.parsing import (
    UNDECIDED_REPLIES,
    match_option,
    names_another,
    normalise,
    remaining_option,
    says_no_preference,
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
    ADDING,
    ListedItem,
    after_add_word,
    distinct_ids,
    draw,
    item_texts,
    items_from_strings,
    plain_items_schema,
    pool,
    resolve,
    submission,
)
from flows.words import SKIP_WORDS

UNDECIDED = UNDECIDED_REPLIES | {
    "either", "both", "equal", "same", "c", "3", "tie", "?", "y ddau", "y ddwy", "yr un fath", "cyfartal",
    "the same", "equally", "both equally", "both the same", "both of them", "both important", "both are important",
    "both are equally important", "both equally important", "both matter", "both matter equally", "theyre the same",
    "theyre equal", "theyre both important", "they are the same", "50/50", "50 50", "fifty fifty",
    "y ddau yn bwysig", "y ddwy yn bwysig", "y ddau yr un fath", "y ddwy yr un fath", "y ddau yn gyfartal",
}
"""Replies that mean neither is preferred, compared without apostrophes (``can't`` as ``cant``):
the words that say 'I can't choose' anywhere (a statement vote's pass too), and a pair's own."""
PASSES = SKIP_WORDS | {
    "skip this", "skip this one", "skip that", "skip that one", "pass on this", "pass on this one", "pass this one",
    "next", "next one", "next pair", "pasio hwn", "pasio hon", "hepgor hwn", "hepgor hon", "nesaf",
}
"""Replies that let a pair go without comparing it ('pass', 'skip this one', 'pasio'): recorded as
skipped, never as a tie (see the module's docstring)."""


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
        return choose_pair([i.id for i in self.ideas], {}, ctx.rng, self._seen(ctx))

    def _next(self, ctx: StepContext, seen: set[frozenset[str]]) -> tuple[str, str]:
        entries = [e.id for e in pool(self.ideas, ctx, self.id)]
        return choose_pair(entries, self._counts(ctx), draw(ctx, len(seen)), seen)

    def _texts(self, ctx: StepContext) -> dict[str, str]:
        return {e.id: e.text for e in pool(self.ideas, ctx, self.id)}

    # ------------------------------------------------------------------ asking and reading

    def prompt(self, ctx: StepContext) -> Prompt:
        if ctx.data.get(ADDING):  # 'ADD' alone: the idea is asked for, as its own message
            return Prompt(ctx.words("pairwise.add_next"))
        a, b = self._current(ctx)
        texts = self._texts(ctx)
        lines = [resolve(self.text, ctx, ctx.words("pairwise.question")), f"A) {texts.get(a, a)}", f"B) {texts.get(b, b)}"]
        if self.submissions and not ctx.data.get("seen"):
            lines.append(ctx.words("pairwise.add_hint").format(word=self._add_word(ctx)))
        return Prompt("\n".join(lines), self._buttons(ctx))

    def _buttons(self, ctx: StepContext) -> tuple[Button, ...]:
        return Button("A", "A"), Button("B", "B"), Button(self._undecided(ctx), "tie")

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
        """'A', 'B', 'tie' or 'pass'; None when unclear. Read as any option is (flows.parsing), in
        English or Welsh: 'B please', 'the first one', 'yr ail', 'A os gwelwch yn dda', and the other
        of the two for 'not A' or 'nid y cyntaf' (a letter is the pair's letter, even where both
        ideas begin with 'A'); 'can't decide thanks' and 'methu penderfynu plis' are a tie, and so is
        no preference said any way when no idea is named ('I don't mind', 'either is fine', 'both the
        same', "y ddau'r un fath": flows.parsing.says_no_preference); 'pass please' and 'pasio plis' a pass.
        An idea is named by a word only it has, in any language it is written in: 'the nurse one',
        'the one with a nurse', 'yr un am y nyrs' (flows.parsing.match_option)."""
        if reply.button in ("A", "B", "tie"):
            return reply.button
        said = {_without_apostrophes(reply.text), without_politeness(reply.text).replace("'", "")}
        if said & PASSES:
            return "pass"
        undecided = UNDECIDED | self._undecided_names(ctx)
        if said & undecided or says_undecided(reply.text, frozenset(undecided)):  # 'both tbh', 'honestly the same'
            return "tie"
        texts = self._texts(ctx)
        names = [["a", texts.get(a, a), *self._other_texts(a)], ["b", texts.get(b, b), *self._other_texts(b)]]
        index = match_option(reply.text, names)
        index = remaining_option(reply.text, names) if index is None else index  # 'not A', 'anything but the first'
        if index is None and says_no_preference(reply.text) and not names_another(reply.text, names):  # 'either is fine', 'both the same', 'dim ots'
            return "tie"
        return None if index is None else "AB"[index]

    def _other_texts(self, idea_id: str) -> list[str]:
        """An idea of the flow's own in each language it is written in, to be named in any of them
        ('the nurse one' from a Welsh participant shown 'Nyrs benodol i bob teulu')."""
        text = next((idea.text for idea in self.ideas if idea.id == idea_id), None)
        return list(text.values()) if isinstance(text, dict) else []

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        a, b = self._current(ctx)
        data: dict[str, Any] = {**{k: v for k, v in ctx.data.items() if k != ADDING}, "current": [a, b]}
        if self.submissions and reply.button is None:
            submitted = self._submission(reply, ctx)
            if submitted is None and ctx.data.get(ADDING):
                awaited = after_add_word(reply, "idea", self._choice(reply, ctx, a, b) is not None)
                if awaited is False:  # 'never mind': the pair again
                    return Continue(data)
                submitted = awaited if isinstance(awaited, ItemAnswer) else None
            if submitted == "":
                return Continue({**data, ADDING: True})
            if isinstance(submitted, ItemAnswer):
                thanks = resolve(self.submitted_text, ctx, ctx.words("pairwise.submitted"))
                return Continue(data, (submitted,), thanks)
        choice = self._choice(reply, ctx, a, b)
        if choice is None:
            return Unclear(ctx.words_for("pairwise.hint", self._buttons(ctx)).format(undecided=self._undecided(ctx)))
        if choice == "pass":  # no comparison: the pair is let go, as after its last try
            return self._after_pair(ctx, data, None, (ItemAnswer(f"{a} vs {b}", None, "", skipped=True),))
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
