"""Statement voting in the manner of Pol.is: one statement at a time, agree / disagree /
pass, and the participant may add a statement of their own for moderation.

Each vote is an item answer: the statement's id, valued 1 (agree), -1 (disagree) or 0
(pass), as :func:`flows.analysis.statements.analyse_statements` reads them. Statements
come from the flow and from participants' submissions a coordinator approved (from the
population view); a participant never sees a statement twice, across sessions too.

The statement shown is kept in the step's working data once chosen, so the vote always
counts for the statement the participant saw. The first one of a session is drawn from
the flow's own statements only, which the participant's reply cannot race with.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.events import Button
from flows.model import Text
from flows.parsing import (
    normalise,
    parse_yes_no,
    says_indifferent,
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
from flows.words import BUILT_IN_LANGUAGES, built_in

VOTES = {
    1: {"a", "agree", "agreed", "i agree", "1", "true", "+", "+1", "👍", "✅", "cytuno", "rwy'n cytuno"},
    -1: {"d", "disagree", "disagreed", "i disagree", "2", "false", "-", "-1", "👎", "❌", "anghytuno", "rwy'n anghytuno"},
    0: {"p", "pass", "3", "0", "skip", "unsure", "not sure", "don't know", "dont know", "neither", "no opinion", "🤷",
        "pasio", "hepgor", "ddim yn siwr", "ddim yn siŵr"},
}
DISPLAY = {1: "agree", -1: "disagree", 0: "pass"}


STRENGTH = re.compile(
    r"\b(?:strongly|totally|completely|fully|entirely|wholly|absolutely|definitely|really|very much|so much|"
    r"100%|100 percent|100 per cent|mostly|generally|largely|somewhat|slightly|tend to)\s+|"
    r"\s+(?:strongly|totally|completely|fully|entirely|absolutely|100%|very much|mostly|somewhat|slightly)$|"
    r"(?:'n|\s+yn)\s+(?:gryf|llwyr|bendant|hollol|fawr)\b|\b(?:cwbl|hollol|llwyr)\s+|"
    r"\bbraidd\s+(?:yn\s+)?|\s+(?:braidd|rhywfaint|ychydig|i raddau)$"
)
"""How strongly ('strongly agree', 'agree totally', "cytuno'n gryf", 'anghytuno braidd'): a vote
is agree or disagree however strong."""
HEDGED = re.compile(r"\b(?:mostly|generally|largely|somewhat|slightly|tend to|braidd|rhywfaint|ychydig|i raddau)\b")
"""The words of :data:`STRENGTH` that soften a vote ('mostly agree') rather than stress it."""
ABOUT_IT = re.compile(r"\s+(?:with (?:this|that|it|the statement)|with hynny|a hynny|â hynny|â hyn|a hyn)$")
"""'I agree with that': the statement on screen."""


def _without_strength(said: str) -> str:
    return ABOUT_IT.sub("", " ".join(STRENGTH.sub(" ", said).split()))


def read_vote(reply: Reply) -> int | None:
    """1, -1 or 0 for agree, disagree or pass; None when the reply is none of them. How strongly,
    what about and politeness ('strongly agree', 'I totally disagree with that', "cytuno'n gryf",
    'pass please', 'pasio plis') are left aside: the vote is what is said. 'I don't mind' or 'no
    preference' is a pass, and so is "can't decide", 'no idea' or 'methu penderfynu' (the words a
    pairwise step reads as a tie, flows.parsing.UNDECIDED_REPLIES)."""
    if reply.button in ("agree", "disagree", "pass"):
        return {"agree": 1, "disagree": -1, "pass": 0}[reply.button]
    said = normalise(reply.text)
    readings = {said, reply.text.strip(), _without_strength(said), _without_strength(without_politeness(said))}
    for vote, words in VOTES.items():
        if readings & words:
            return vote
    if says_undecided(reply.text):
        return 0
    yes_no = parse_yes_no(reply.text)
    if yes_no is None and says_indifferent(reply.text):  # 'I don't mind', 'no preference': neither way
        return 0
    return None if yes_no is None else (1 if yes_no else -1)


def vote_display(vote: int, reply: Reply) -> str:
    """How a vote reads in the answer's display: 'agree', 'disagree' or 'pass', and how strongly
    when the reply said so: 'agree (strongly)' for 'strongly agree' or "cytuno'n gryf", 'disagree
    (somewhat)' for 'slightly disagree'. The step's scale is agree / disagree / pass, which the
    analysis reads as 1 / -1 / 0 (as Pol.is), so the value stays the vote; the display does not
    hide what the participant said (the raw reply keeps their words)."""
    shown, said = DISPLAY[vote], normalise(reply.text)
    plain = {_without_strength(said), _without_strength(without_politeness(said))}
    if vote == 0 or reply.button is not None or said in VOTES[vote] or not plain & VOTES[vote]:
        return shown  # no strength, or a vote read otherwise ('I don't really agree' is no strong disagreement)
    strength = " ".join(found.group(0) for found in STRENGTH.finditer(said)).strip()
    if not strength:
        return shown  # only politeness around it ('cytuno plis')
    return f"{shown} ({'somewhat' if HEDGED.search(strength) else 'strongly'})"


@register
class StatementsStep(InputStep):
    type: Literal["statements"] = "statements"
    statements: list[ListedItem] = Field(default_factory=list, json_schema_extra=plain_items_schema)
    per_session: int = Field(default=10, ge=1)
    submissions: bool = True
    """Whether participants may add statements (held for moderation)."""
    add_word: str = "ADD"
    submitted_text: Text | None = None
    empty_text: Text | None = None
    """Said when there is nothing left to vote on."""

    _v_statements = field_validator("statements", mode="before")(items_from_strings)

    @model_validator(mode="after")
    def _check(self) -> StatementsStep:
        if not self.statements:
            raise ValueError("a statements step needs at least one statement under 'statements:'")
        distinct_ids(self.statements, "statements")
        if " " in self.add_word.strip() or not self.add_word.strip():
            raise ValueError("add_word must be one word, such as ADD")
        return self

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts() + item_texts(self.statements, "statements")
        return found + [(n, t) for n, t in (("submitted_text", self.submitted_text), ("empty_text", self.empty_text)) if t is not None]

    # ------------------------------------------------------------------ which statement

    def _seen(self, ctx: StepContext) -> set[str]:
        population: Population | None = ctx.population
        earlier = {item for item, _ in population.my_answers(self.id)} if population is not None else set()
        return earlier | set(ctx.data.get("seen", []))

    def _current(self, ctx: StepContext) -> str | None:
        """The statement on screen: kept in the data once chosen; the first from the flow's own."""
        if "current" in ctx.data:
            current = ctx.data["current"]
            return current if isinstance(current, str) else None
        seen = self._seen(ctx)
        unseen = [s.id for s in self.statements if s.id not in seen]
        if not unseen:
            unseen = [e.id for e in pool(self.statements, ctx, self.id) if e.id not in seen]
        return ctx.rng.choice(unseen) if unseen else None

    def _next(self, ctx: StepContext, seen: set[str]) -> str | None:
        unseen = [e.id for e in pool(self.statements, ctx, self.id) if e.id not in seen]
        return draw(ctx, len(seen)).choice(unseen) if unseen else None

    def _text_of(self, ctx: StepContext, statement: str) -> str:
        found = next((e.text for e in pool(self.statements, ctx, self.id) if e.id == statement), None)
        return found if found is not None else statement

    # ------------------------------------------------------------------ asking and reading

    def _add_word(self, ctx: StepContext) -> str:
        """The word that proposes a statement, as shown: the step's own ``add_word``, or, where
        it keeps the default ADD, the built-in word in the participant's language (YCHWANEGU in
        Welsh), as the pairwise step does."""
        own = self.add_word.strip().upper()
        return (ctx.words("statements.add_word").strip().upper() or own) if own == "ADD" else own

    def _add_words(self, ctx: StepContext) -> list[str]:
        """The words read as proposing a statement: the one shown and the step's own, and with
        the default ADD its built-in translations too, whatever the participant's language (a
        Welsh speaker reading in English may still write YCHWANEGU)."""
        words = [self._add_word(ctx), self.add_word.strip()]
        if self.add_word.strip().upper() == "ADD":
            words += [built_in("statements.add_word", language) for language in BUILT_IN_LANGUAGES]
        return list(dict.fromkeys(w.strip().upper() for w in words if w.strip()))

    def _submission(self, reply: Reply, ctx: StepContext) -> ItemAnswer | None | str:
        """A statement proposed with any of :meth:`_add_words` ('' for the word alone; None for no proposal)."""
        for word in self._add_words(ctx):
            found = submission(reply.text, word, "statement")
            if found is not None:
                return found
        return None

    def prompt(self, ctx: StepContext) -> Prompt:
        current = self._current(ctx)
        word = self._add_word(ctx)
        if current is None:
            empty = ctx.words("statements.empty_add" if self.submissions else "statements.empty").format(word=word)
            return Prompt(resolve(self.empty_text, ctx, empty), (Button(ctx.words("statements.ok"), "ok"),))
        lines = [ctx.render(self.text)] if self.text is not None and not ctx.data.get("seen") else []
        lines.append(f'"{self._text_of(ctx, current)}"')
        if self.submissions and not ctx.data.get("seen"):
            lines.append(ctx.words("statements.add_hint").format(word=word))
        buttons = tuple(Button(ctx.words(f"statements.{vote}"), vote) for vote in ("agree", "disagree", "pass"))
        return Prompt("\n".join(lines), buttons)

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        data = dict(ctx.data)
        current = self._current(ctx)
        data["current"] = current
        if self.submissions and reply.button is None:
            submitted = self._submission(reply, ctx)
            if submitted == "":
                return Unclear(ctx.words("statements.add_example").format(word=self._add_word(ctx)))
            if isinstance(submitted, ItemAnswer):
                thanks = resolve(self.submitted_text, ctx, ctx.words("statements.submitted"))
                return Continue(data, (submitted,), thanks)
        if current is None:
            return Answer(dict(ctx.data.get("votes", {})), "no statements left")
        vote = read_vote(reply)
        if vote is None:
            return Unclear(ctx.words("statements.hint"))
        votes = {**data.get("votes", {}), current: vote}
        display = vote_display(vote, reply)
        if display != DISPLAY[vote]:  # kept only when said: the working data's size seeds the draws
            data["strengths"] = {**data.get("strengths", {}), current: display}
        return self._after_statement(ctx, {**data, "votes": votes}, current, (ItemAnswer(current, vote, display),))

    def give_up(self, ctx: StepContext) -> GiveUp | None:
        """Leave the statement on screen (recorded as skipped) and show the next; with none on
        screen (an ADD without its statement), the step as a whole."""
        current = self._current(ctx)
        if current is None:
            return None
        return GiveUp((current,), self._after_statement(ctx, {**ctx.data, "current": current}, current, ()))

    def _after_statement(self, ctx: StepContext, data: dict[str, Any], current: str,
                         recorded: tuple[ItemAnswer, ...]) -> Answer | Continue:
        """The next statement, or the answer after ``per_session`` of them or the last."""
        votes: dict[str, int] = data.get("votes", {})
        seen = [*data.get("seen", []), current]
        following = self._next(ctx, self._seen(ctx) | set(seen))
        if len(seen) >= self.per_session or following is None:
            strengths: dict[str, str] = data.get("strengths", {})
            told = ", ".join(strengths.get(statement, DISPLAY[v]) for statement, v in votes.items())
            return Answer(votes, f"{len(votes)} statement{'' if len(votes) == 1 else 's'}: {told}", recorded)
        return Continue({**data, "votes": votes, "seen": seen, "current": following}, recorded)
