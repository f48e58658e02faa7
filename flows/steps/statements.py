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
    EMPHASIS,
    answer_and_reason,
    normalise,
    parse_yes_no,
    says_indifferent,
    says_undecided,
    without_emphasis,
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
from flows.words import BUILT_IN_LANGUAGES, built_in

VOTES = {
    1: {"a", "agree", "agreed", "i agree", "1", "true", "+", "+1", "👍", "✅", "cytuno", "rwy'n cytuno",
        "defo", "deffo", "100%", "100 percent", "100 per cent", "for sure", "exactly", "spot on", "too right",
        "dead right", "very true", "cant y cant", "gant y cant", "totally", "completely", "entirely", "absolutely",
        "definitely", "certainly", "very much so", "of course", "hell yes", "hell yeah", "yn bendant", "bendant", "yn hollol", "hollol", "yn llwyr",
        "wrth gwrs"},
    -1: {"d", "disagree", "disagreed", "i disagree", "2", "false", "-", "-1", "👎", "❌", "anghytuno", "rwy'n anghytuno",
         "not true", "untrue", "dim yn wir", "ddim yn wir", "not for me", "not for us", "not for me personally", "totally not",
         "ddim i fi", "dim i fi", "nid i fi", "nid i mi", "ddim i mi"},
    0: {"p", "pass", "3", "0", "skip", "unsure", "not sure", "don't know", "dont know", "neither", "no opinion", "🤷",
        "pasio", "hepgor", "ddim yn siwr", "ddim yn siŵr", "dim yn siwr", "sa i'n siwr", "sai'n siwr", "so i'n siwr",
        "smo fi'n siwr", "sgip", "skip this", "skip it", "skip this one", "no comment", "neutral", "on the fence",
        "neither agree nor disagree", "neither agree or disagree", "i neither agree nor disagree", "meh",
        "na cytuno na anghytuno", "maybe", "perhaps", "possibly", "depends", "it depends", "efallai", "dibynnu",
        "mae'n dibynnu", "50/50", "50 50", "fifty fifty", "can't say", "cant say", "hard to say", "anodd dweud"},
}
"""Whole replies, compared as said, without politeness (:func:`without_politeness`), without a
kiss ('agree x') or a Welsh 'I' ("dw i'n cytuno"), and without how strongly (:data:`STRENGTH`).
'Maybe', 'it depends' and 'no comment' are a pass (Pol.is's 'pass / unsure'): read as the
yes and no they are not, 'no comment' was a disagreement. How strongly alone ('totally', 'definitely',
'yn bendant') is an agreement; 'not for me' ('ddim i fi') a disagreement."""
DISPLAY = {1: "agree", -1: "disagree", 0: "pass"}
BUTTONS = ("agree", "disagree", "pass")
"""The votes shown as buttons, in order (labelled by ``statements.agree`` and the like)."""


STRENGTH = re.compile(
    rf"\b(?:strongly|totally|completely|fully|entirely|wholly|absolutely|definitely|really|very much|so much|"
    rf"100%|100 percent|100 per cent|mostly|generally|largely|somewhat|slightly|tend to|kind of|kinda|sort of|sorta|"
    rf"partly|partially|{EMPHASIS})\s+|"
    rf"\s+(?:strongly|totally|completely|fully|entirely|absolutely|100%|very much|mostly|somewhat|slightly|partly|"
    rf"partially|in part|to some extent|to an extent|up to a point|in a way|{EMPHASIS})$|"
    r"\byn rhannol\s+|\s+yn rhannol$|"
    r"(?:'n|\s+yn)\s+(?:gryf|llwyr|bendant|hollol|fawr)\b|\b(?:cwbl|hollol|llwyr)\s+|"
    r"\bbraidd\s+(?:yn\s+)?|\s+(?:braidd|rhywfaint|ychydig|i raddau)$"
)
"""How strongly ('strongly agree', 'agree totally', 'agree definitely', 'obviously agree', "cytuno'n
gryf", 'anghytuno braidd'): a vote is agree or disagree however strong. The words that say how sure
any answer is (flows.parsing.EMPHASIS: 'definitely', 'obviously', 'for sure') count as strongly."""
HEDGED = re.compile(r"\b(?:mostly|generally|largely|somewhat|slightly|tend to|kind of|kinda|sort of|sorta|partly|partially|"
                    r"in part|to some extent|to an extent|up to a point|in a way|yn rhannol|braidd|rhywfaint|ychydig|i raddau)\b")
"""The words of :data:`STRENGTH` that soften a vote ('mostly agree') rather than stress it."""
ABOUT_IT = re.compile(r"\s+(?:with (?:this|that|it|the statement)|with hynny|a hynny|â hynny|â hyn|a hyn)$")
"""'I agree with that': the statement on screen."""


KISS = re.compile(r"\s+x+$")
"""The kiss a text is signed with ('agree x', 'anghytuno xx')."""
WELSH_I = re.compile(
    r"^(?:dw i|dwi|rydw i|rydw|rwy|rwyf i|rwyf|w i|wi|fi|ry'n ni|rydyn ni|dyn ni|dan ni|ni)(?:'n|\s+yn)\s+(?=(?:cytuno|anghytuno)\b)"
)
"""The 'I' of a Welsh vote ("dw i'n cytuno", "dwi'n anghytuno", "rydw i'n cytuno"): the vote is the verb."""

_NOT = r"(?:do not|don'?t|did not|didn'?t|does not|doesn'?t|can not|cannot|can'?t|could not|couldn'?t|would not|wouldn'?t|not|never)"
_WHO = r"(?:(?:no|nope|nah|na)\s+)?(?:(?:i|we|i'?m|i am)\s+)?(?:really\s+|honestly\s+|just\s+)?"
_CY_NOT = (r"(?:(?:(?:na|nage|nac ydw|nag ydw)\s+)?(?:(?:dw i|dwi|dydw i|dydw|dw|rydw i|rwy|w i|wi|fi|dyn ni|dydyn ni|dan ni)\s+)?"
           r"(?:ddim|dim)(?:\s+wir)?(?:\s+yn|'n)?|(?:sa i|sai|sa fi|smo fi|smo i|so fi|so i)(?:'n|\s+yn))")
"""'Not' in a Welsh vote: "ddim yn cytuno", "dw i ddim yn cytuno", "dydw i ddim wir yn cytuno", "sa i'n cytuno"."""
_ABOUT = r"(?:\s+(?:with (?:this|that|it|the statement|you)|on (?:this|that)|a hynny|a hyn|gyda hynny|gyda hyn))?"
NOT_AGREED = re.compile(
    rf"^{_WHO}{_NOT}\s+(?:really\s+|quite\s+|actually\s+)?agree(?:d|ing)?{_ABOUT}(?:\s+(?:at all|really|tbh|to be honest))?$|"
    rf"^{_CY_NOT}\s+(?:wir\s+)?cytuno{_ABOUT}(?:\s+o gwbl)?$"
)
"""Agreement said with a 'not' ("don't agree", 'i dont really agree', 'not agree', "can't agree",
'ddim yn cytuno', 'dw i ddim yn cytuno', "sa i'n cytuno"): a disagreement, however plain ('I don't
really agree' is no strong one, so its display is 'disagree')."""
HALF_AGREED = re.compile(
    rf"^{_WHO}{_NOT}\s+(?:fully|totally|entirely|completely|wholly|absolutely|strongly|necessarily|100%|100 percent)\s+agree|"
    rf"^{_WHO}(?:really\s+)?{_NOT}\s+(?:really\s+|necessarily\s+|strongly\s+|totally\s+|entirely\s+)?disagree|"
    rf"^{_CY_NOT}\s+(?:(?:hollol|llwyr|cwbl)\s+[cg]ytuno|cytuno(?:'n|\s+yn)\s+(?:llwyr|hollol|gyfan gwbl|gryf)|cytuno\s+[cg]ant y cant|anghytuno)"
)
""""I don't fully agree", "don't strongly agree", "I don't disagree", 'ddim yn cytuno'n llwyr',
'ddim yn anghytuno': neither the agreement nor the disagreement they start with; asked again."""
NEGATED_AGREEMENT = re.compile(rf"\b{_NOT}\s+(?:\w+\s+)?agree\w*|\b(?:ddim|dim)\s+(?:wir\s+)?(?:yn\s+)?[cg]ytuno\b")
AGREES = re.compile(r"\b(?:agree|agreed|agreeing|cytuno)\b|^(?:yes|yeah|yep|yup|ydw|ie)\b")
DISAGREES = re.compile(r"\b(?:disagree|disagreed|disagreeing|anghytuno)\b|^(?:no|nope|nah|na|nac ydw|nag ydw)\b")
"""The words of a vote each way, for a reply that says both ('I agree but I also disagree', 'no I
agree', 'agree with the nurses, disagree on parking'), which is asked again, never read as either."""
PARTLY = re.compile(
    r"(?:(?:yes|yeah|yep|no|nah)\s+)?(?:kind of|kinda|sort of|sorta|partly|partially|in part|in parts|to some extent|"
    r"to an extent|to a degree|to a point|up to a point|somewhat|a bit|a little|slightly|in a way|in some ways|"
    r"mixed feelings|half and half|not (?:totally|entirely|completely|fully|wholly|quite|100%)|yn rhannol|rhannol|"
    r"i raddau|i ryw raddau|rhywfaint|braidd|mewn ffordd|mewn rhyw ffordd|ddim yn (?:hollol|llwyr|gyfan gwbl))"
)
"""A reply that agrees only in part, with no vote said ('kind of', 'partly', 'not totally', 'i raddau'):
asked again, saying that the nearer vote or a pass will do (a hedge with its vote, 'kind of agree',
is that vote, somewhat)."""
VOTE_WORD = re.compile(r"\b(?:agree|agreed|agreeing|disagree|disagreed|disagreeing|cytuno|gytuno|anghytuno)\b")
"""A vote said in a reason ('agree, they disagree with me'): no reason, but a reply that says more than one vote."""
SOMEONE = re.compile(r"^(?:no[ -]?one|noone|nobody|no body)\b")
"""'No one listens to patients' opens with a 'no' that answers nothing: an idea, not a vote."""


def _without_strength(said: str) -> str:
    return ABOUT_IT.sub("", " ".join(STRENGTH.sub(" ", said).split()))


def _as_said(said: str, emphasis: bool = True) -> set[str]:
    """A normalised reply as it is compared with :data:`VOTES`: as said and without politeness,
    each also without a kiss and a Welsh 'I' ('cytuno plis x' -> 'cytuno'), or without a friendly
    emoji ('agree 👍') and, unless ``emphasis`` is False, how sure (:func:`flows.parsing.without_emphasis`)."""
    forms = {said, without_politeness(said)}
    forms |= {KISS.sub("", form) for form in forms} | ({without_emphasis(form) for form in forms} if emphasis else set())
    return forms | {WELSH_I.sub("", form) for form in forms}


def _says_both(said: str) -> bool:
    """Whether a reply votes both ways (:data:`DISAGREES`), a negated agreement counted a disagreement."""
    marked = NEGATED_AGREEMENT.sub(" disagree ", said)
    return bool(AGREES.search(marked) and DISAGREES.search(marked))


def with_reason(reply: Reply) -> tuple[Reply, str] | None:
    """A typed vote and the reason given after it ('disagree, they are always rushed', 'agree
    because the waits are long'): the vote as a reply of its own, and the reason. None when the
    reply gives no reason, or when its reason says a vote of its own ('agree, they disagree'):
    that reply votes both ways. The reason is kept where the whole reply is (the answer's raw
    text, exported); the vote is read, displayed and counted as if sent alone."""
    said = answer_and_reason(normalise(reply.text)) if reply.button is None else None
    if said is None or VOTE_WORD.search(said.reason) or PARTLY.search(said.reason):
        return None
    return Reply(said.answer), said.reason


def read_vote(reply: Reply) -> int | None:
    """As :func:`_read_vote`, a vote given with its reason (:func:`with_reason`) read as the vote alone."""
    vote = _read_vote(reply)
    if vote is not None:
        return vote
    reasoned = with_reason(reply)
    return None if reasoned is None else _read_vote(reasoned[0])


def _read_vote(reply: Reply) -> int | None:
    """1, -1 or 0 for agree, disagree or pass; None when the reply is none of them. How strongly,
    what about and politeness ('strongly agree', 'I totally disagree with that', "cytuno'n gryf",
    'pass please', 'pasio plis') are left aside: the vote is what is said. 'I don't mind' or 'no
    preference' is a pass, and so is "can't decide", 'no idea' or 'methu penderfynu' (the words a
    pairwise step reads as a tie, flows.parsing.UNDECIDED_REPLIES). Agreement with a 'not' is a
    disagreement ("don't agree", 'ddim yn cytuno', :data:`NOT_AGREED`). A reply that votes both
    ways ('agree with the first part but not the second', 'I agree and I disagree') or half
    ("I don't fully agree", :data:`HALF_AGREED`) is asked again rather than passed: the
    participant holds a view, and may choose the nearer vote or pass themselves."""
    if reply.button in ("agree", "disagree", "pass"):
        return {"agree": 1, "disagree": -1, "pass": 0}[reply.button]
    said = normalise(reply.text)
    forms = _as_said(said)
    readings = forms | {reply.text.strip()} | {_without_strength(form) for form in forms}
    for vote, words in VOTES.items():
        if readings & words:
            return vote
    phrase = KISS.sub("", without_politeness(said))
    if HALF_AGREED.search(phrase):
        return None
    if NOT_AGREED.search(phrase):
        return -1
    if says_undecided(reply.text):
        return 0
    if _says_both(phrase) or SOMEONE.match(phrase):
        return None
    yes_no = parse_yes_no(reply.text)
    if yes_no is None and says_indifferent(reply.text):  # 'I don't mind', 'no preference': neither way
        return 0
    return None if yes_no is None else (1 if yes_no else -1)


def says_partly(reply: Reply) -> bool:
    """Whether a reply that is no vote agrees in part: :data:`PARTLY` ('kind of', 'partly', 'not
    totally', 'yn rhannol') or :data:`HALF_AGREED` ("I don't fully agree", 'ddim yn anghytuno')."""
    phrase = KISS.sub("", without_politeness(normalise(reply.text)))
    return bool(PARTLY.fullmatch(phrase) or HALF_AGREED.search(phrase))


def vote_display(vote: int, reply: Reply) -> str:
    """How a vote reads in the answer's display: 'agree', 'disagree' or 'pass', and how strongly
    when the reply said so: 'agree (strongly)' for 'strongly agree' or "cytuno'n gryf", 'disagree
    (somewhat)' for 'slightly disagree'. The step's scale is agree / disagree / pass, which the
    analysis reads as 1 / -1 / 0 (as Pol.is), so the value stays the vote; the display does not
    hide what the participant said (the raw reply keeps their words)."""
    if _read_vote(reply) is None and (reasoned := with_reason(reply)) is not None:
        reply = reasoned[0]  # 'strongly disagree, they are always rushed': as 'strongly disagree'
    shown, said = DISPLAY[vote], normalise(reply.text)
    plain = {_without_strength(form) for form in _as_said(said)}
    if vote == 0 or reply.button is not None or _as_said(said, emphasis=False) & VOTES[vote] or not plain & VOTES[vote]:
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
        if ctx.data.get(ADDING):  # 'ADD' alone: the statement is asked for, as its own message
            return Prompt(ctx.words("statements.add_next"))
        current = self._current(ctx)
        word = self._add_word(ctx)
        if current is None:
            buttons = (Button(ctx.words("statements.ok"), "ok"),)
            key = "statements.empty_add" if self.submissions else "statements.empty"
            empty = ctx.words_for(key, buttons).format(word=word, ok=buttons[0].label)
            return Prompt(resolve(self.empty_text, ctx, empty), buttons)
        lines = [ctx.render(self.text)] if self.text is not None and not ctx.data.get("seen") else []
        lines.append(f'"{self._text_of(ctx, current)}"')
        if self.submissions and not ctx.data.get("seen"):
            lines.append(ctx.words("statements.add_hint").format(word=word))
        return Prompt("\n".join(lines), self._vote_buttons(ctx))

    @staticmethod
    def _vote_buttons(ctx: StepContext) -> tuple[Button, ...]:
        return tuple(Button(ctx.words(f"statements.{vote}"), vote) for vote in BUTTONS)

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        data = {k: v for k, v in ctx.data.items() if k != ADDING}
        current = self._current(ctx)
        data["current"] = current
        if self.submissions and reply.button is None:
            submitted = self._submission(reply, ctx)
            if submitted is None and ctx.data.get(ADDING):
                awaited = after_add_word(reply, "statement", current is not None and read_vote(reply) is not None)
                if awaited is False:  # 'never mind': the statement again
                    return Continue(data)
                submitted = awaited if isinstance(awaited, ItemAnswer) else None
            if submitted == "":
                return Continue({**data, ADDING: True})
            if isinstance(submitted, ItemAnswer):
                thanks = resolve(self.submitted_text, ctx, ctx.words("statements.submitted"))
                return Continue(data, (submitted,), thanks)
        if current is None:
            return Answer(dict(ctx.data.get("votes", {})), "no statements left")
        vote = read_vote(reply)
        if vote is None:
            return Unclear(self._hint(reply, ctx))
        votes = {**data.get("votes", {}), current: vote}
        display = vote_display(vote, reply)
        if display != DISPLAY[vote]:  # kept only when said: the working data's size seeds the draws
            data["strengths"] = {**data.get("strengths", {}), current: display}
        return self._after_statement(ctx, {**data, "votes": votes}, current, (ItemAnswer(current, vote, display),))

    def _hint(self, reply: Reply, ctx: StepContext) -> str:
        """What to reply instead: A, D or P, after 'In part?' to a reply that agrees in part
        (:func:`says_partly`), and, where participants may add statements, how to add one (a
        reply that is no vote is often an idea of the participant's own, sent without ADD). Where
        the votes were buttons, a tap first ('In part? Please tap Agree or Disagree, ...')."""
        key = "statements.hint_partly" if says_partly(reply) else "statements.hint"
        buttons = self._vote_buttons(ctx)
        if ctx.tapped(buttons) and not ctx.keeps_own_words(key, f"{key}_tap"):
            hint = ctx.words(f"{key}_tap").format(**{button.value: button.label for button in buttons})
        else:
            hint = ctx.words(key)
        if not self.submissions:
            return hint
        return f"{hint} {ctx.words('statements.add_hint').format(word=self._add_word(ctx))}"

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
