"""One round of a Delphi: rate each item on a scale, a batch at a time.

From round 2 each item shows the participant's own earlier score and the group's results
(overall and per stakeholder group, each only with at least ``feedback_min_n`` scores, so no
one's score can be singled out) as a line of text, and names a chart attachment for
channels with images. After too many unclear replies only the item asked is left; several
scores in one reply ('8 9 7') get a hint to give one, for the item shown, and are never read
as scores for items not shown yet. Items that reached consensus may leave later rounds
(``drop_consensus``); an item with fewer than ``consensus.min_scores`` scores has not
reached it either way and stays. Each rating is an item answer valued by
:func:`flows.population.delphi_value`, so every round's ratings can be found and analysed
with :mod:`flows.analysis.delphi` whatever flow asked them.
"""

from __future__ import annotations

import re
from dataclasses import replace
from typing import TYPE_CHECKING, Any, Literal

from pydantic import Field, field_validator, model_validator

from flows.analysis.scale import MIN_SCORES
from flows.events import Button
from flows.model import Strict, Text
from flows.parsing import (
    NumberReading,
    importance_said,
    normalise,
    parse_number,
    parse_yes_no,
    read_number,
    read_range,
)
from flows.population import Population, delphi_value
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
    item_texts,
    items_from_strings,
    plain_items_schema,
)
from flows.steps.number import plain_number
from flows.steps.unsure import says_unsure
from flows.words import without_polite_words

if TYPE_CHECKING:
    from flows.analysis.delphi import ItemFeedback
    from flows.analysis.scale import ConsensusRule, Scale

UNSURE_WORDS = ["unsure", "not sure", "don't know", "dont know", "no idea", "dunno", "idk", "ddim yn siwr", "ddim yn gwybod",
                "dim syniad", "dwn i ddim", "sai'n gwybod"]
NEXT_WORDS = {"next", "more", "go on", "continue", "carry on", "ok", "okay", "yes", "y", "nesaf", "mwy", "iawn", "ymlaen"}
NO_REASON = {"no", "n", "none", "nothing", "skip", "pass", "no reason", "-", "na", "nope", "dim", "hepgor", "dim rheswm"}
KEEP_WORDS = {"keep", "same", "the same", "no change", "keep it", "same again", "cadw", "yr un peth", "yr un fath", "dim newid"}
KEEP_PHRASES = KEEP_WORDS | {
    "keep same", "keep as is", "keep as before", "same as before", "same as last time", "as before", "as last time",
    "unchanged", "no changes", "don't change", "dont change", "leave as is", "cadw fel o'r blaen", "fel o'r blaen",
}
"""Ways to say KEEP once polite and filler words are set aside: 'keep it the same please'."""
KEEP_FILLER = {"please", "pls", "plz", "thanks", "thank", "you", "it", "my", "score", "the", "i'll", "i'd", "ill", "id",
               "i", "will", "would", "like", "to", "just", "ok", "okay", "yes", "again", "it's", "its", "answer", "plis",
               "diolch", "sgor"}
SEVERAL_SCORES = re.compile(r"\d+(?:(?:\s*[,;&+]\s*|\s+(?:and|then|a|ac)\s+|\s+)\d+)+")
"""Two or more numbers in a reply with nothing between them but spaces, commas, 'and' ('a',
'ac' in Welsh) or 'then': several scores at once ('7 or 8' and '7-9' are not)."""
SHORT_ITEM = 40
"""How much of an item's words a hint repeats."""
FEEDBACK_MIN_N = 3
"""The fewest scores a group (or everyone) needs for its results to be shown as feedback."""


class DelphiScale(Strict):
    """The rating scale and its bands (default GRADE: 1-3, 4-6, 7-9).

    A band left out is the scale's bottom (``low``) or top (``high``) third: each
    ceil(points / 3) points wide, so GRADE 1-9 gives 1-3 and 7-9, 0-10 gives 0-3 and 7-10,
    and 1-5 gives 1-2 and 4-5."""

    min: int = 1
    max: int = 9
    low: tuple[int, int] = (1, 3)
    high: tuple[int, int] = (7, 9)
    low_label: Text = "not important"
    middle_label: Text = "important but not critical"
    high_label: Text = "critical"

    @field_validator("low", "high", mode="before")
    @classmethod
    def _band(cls, value: Any) -> Any:
        if isinstance(value, str) and "-" in value:
            return tuple(int(part) for part in value.split("-", 1))
        return value

    @model_validator(mode="before")
    @classmethod
    def _thirds(cls, data: Any) -> Any:
        """Fill in a band left out from the scale's ends (see the class docstring)."""
        if not isinstance(data, dict) or ("low" in data and "high" in data):
            return data
        lowest, highest = data.get("min", 1), data.get("max", 9)
        if not isinstance(lowest, int) or not isinstance(highest, int) or highest <= lowest:
            return data  # the field and model checks say what is wrong
        width = -(-(highest - lowest + 1) // 3)
        return {"low": (lowest, lowest + width - 1), "high": (highest - width + 1, highest), **data}

    @model_validator(mode="after")
    def _check(self) -> DelphiScale:
        self.analysis()  # raises with a plain message
        return self

    def analysis(self) -> Scale:
        from flows.analysis.scale import Scale

        return Scale(self.min, self.max, self.low, self.high)


class Consensus(Strict):
    """When an item counts as agreed: see :class:`flows.analysis.delphi.ConsensusRule`."""

    agree_pct: float = Field(default=70.0, gt=0, le=100)
    max_opposite_pct: float = Field(default=15.0, gt=0, le=100)
    per_group: bool = False
    min_group_n: int = Field(default=1, ge=1)
    min_scores: int = Field(default=MIN_SCORES, ge=1)
    """Below this many scores an item is "too few scores", neither in nor out (and never dropped)."""


def consensus_rule(scale: DelphiScale, consensus: Consensus) -> ConsensusRule:
    """The analysis's rule for a Delphi with this scale and consensus definition."""
    from flows.analysis.scale import ConsensusRule

    c = consensus
    return ConsensusRule(scale.analysis(), c.agree_pct, c.max_opposite_pct, c.per_group, c.min_group_n, c.min_scores)


def declared_rule(raw: dict[str, Any]) -> ConsensusRule:
    """:func:`consensus_rule` from a Delphi step as written in its flow (``scale`` and
    ``consensus``, defaults where left out): what the desk's reports read a stored round by."""
    return consensus_rule(DelphiScale.model_validate(raw.get("scale") or {}), Consensus.model_validate(raw.get("consensus") or {}))


@register
class DelphiStep(InputStep):
    type: Literal["delphi"] = "delphi"
    delphi: str | None = None
    """Links the rounds of one Delphi (default: the step id)."""
    round: int = Field(default=1, ge=1)
    items: list[ListedItem] = Field(default_factory=list, json_schema_extra=plain_items_schema)
    items_file: str | None = None
    """A file next to the flow (YAML list, or text with one item a line); the loader reads it into ``items``."""
    scale: DelphiScale = Field(default_factory=DelphiScale)
    unsure: bool = True
    ask_reason: bool | Literal["extreme"] = False
    """Ask "why?" after every score, or only after the scale's lowest and highest points."""
    reason_text: Text | None = None
    batch: int | None = Field(default=None, ge=1)
    consensus: Consensus = Field(default_factory=Consensus)
    drop_consensus: bool = False
    feedback_min_n: int = Field(default=FEEDBACK_MIN_N, ge=1)
    """From round 2, a group's results are shown only when at least this many of its members
    scored the item (and everyone's likewise), so that no one's score can be singled out."""

    _v_items = field_validator("items", mode="before")(items_from_strings)

    @model_validator(mode="after")
    def _check(self) -> DelphiStep:
        if not self.items:
            raise ValueError("a delphi step needs items: list them under 'items:' or name a file with 'items_file:'")
        distinct_ids(self.items, "items")
        return self

    @property
    def delphi_id(self) -> str:
        return self.delphi or self.id

    def rule(self) -> ConsensusRule:
        return consensus_rule(self.scale, self.consensus)

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts() + item_texts(self.items, "items")
        found += [(f"scale.{name}", getattr(self.scale, name)) for name in ("low_label", "middle_label", "high_label")]
        return found + ([("reason_text", self.reason_text)] if self.reason_text is not None else [])

    # ------------------------------------------------------------------ which item

    def active(self, ctx: StepContext) -> list[str]:
        """The item ids asked this round, in order."""
        ids = [item.id for item in self.items]
        population: Population | None = ctx.population
        if population is None or self.round == 1 or not self.drop_consensus:
            return ids
        return population.delphi_active_items(self.delphi_id, self.round, ids, self.rule(), ("in", "out"))

    def _queue(self, ctx: StepContext) -> list[str]:
        queue = ctx.data.get("queue")
        return list(queue) if isinstance(queue, list) else self.active(ctx)

    def _remaining(self, ctx: StepContext) -> list[str]:
        return _unanswered(self._queue(ctx), ctx.data)

    # ------------------------------------------------------------------ asking

    def prompt(self, ctx: StepContext) -> Prompt:
        queue, remaining = self._queue(ctx), self._remaining(ctx)
        waiting = ctx.data.get("await")
        if waiting == "next":
            more = min(self.batch or len(remaining), len(remaining))
            buttons = (Button(ctx.words("delphi.next"), "next"),)
            text = ctx.words_for("delphi.batch_done", buttons)
            return Prompt(text.format(done=len(queue) - len(remaining), total=len(queue), more=more, next=buttons[0].label), buttons)
        if waiting == "reason":
            return Prompt(ctx.render(self.reason_text) if self.reason_text is not None else ctx.words("delphi.reason"))
        if not remaining:
            buttons = (Button(ctx.words("delphi.ok"), "next"),)
            return Prompt(ctx.words_for("delphi.nothing_left", buttons).replace("{ok}", buttons[0].label), buttons)
        return self._item_prompt(ctx, remaining[0], len(queue) - len(remaining) + 1, len(queue))

    def _item_prompt(self, ctx: StepContext, item_id: str, number: int, total: int) -> Prompt:
        item = next(i for i in self.items if i.id == item_id)
        lines = [ctx.render(self.text)] if self.text is not None and not ctx.data.get("scores") else []
        lines.append(f"{number}/{total}: {item.render(ctx)}")
        attachment = None
        feedback = self._feedback(ctx, item_id)
        if feedback is not None:
            from flows.analysis.delphi import feedback_text

            lines.append(feedback_text(feedback, ctx.words))
            if feedback.everyone is not None:
                attachment = self._chart(ctx, item_id)
        lines.append(self._bands(ctx))
        own = feedback.own_score if feedback is not None else None
        return Prompt("\n".join(lines), self._score_buttons(ctx, own), attachment=attachment)

    def _score_buttons(self, ctx: StepContext, own: int | None) -> tuple[Button, ...]:
        """A button for each score, KEEP with the participant's own score from last round (``own``), and NOT SURE."""
        buttons = [Button(str(n), str(n)) for n in range(self.scale.min, self.scale.max + 1)]
        if own is not None:
            buttons.append(Button(ctx.words("delphi.keep").format(own=own), "keep"))
        if self.unsure:
            buttons.append(Button(ctx.words("unsure"), "unsure"))
        return tuple(buttons)

    def _chart(self, ctx: StepContext, item_id: str) -> dict[str, Any]:
        """The chart attachment of the previous round's results (``min_n`` only when the flow changes it)."""
        chart: dict[str, Any] = {"kind": "delphi_chart", "delphi": self.delphi_id, "item": item_id, "round": self.round - 1,
                                 "language": ctx.language}
        if self.feedback_min_n != FEEDBACK_MIN_N:
            chart["min_n"] = self.feedback_min_n
        return chart

    def _feedback(self, ctx: StepContext, item_id: str) -> ItemFeedback | None:
        """The previous round's results for the item, with only the groups large enough to show."""
        population: Population | None = ctx.population
        if population is None or self.round == 1:
            return None
        found = population.delphi_feedback(self.delphi_id, self.round - 1, item_id, self.rule(), ctx.language)
        if found is None:
            return None
        from flows.analysis.delphi import shown_feedback

        return shown_feedback(found, self.feedback_min_n)

    def _bands(self, ctx: StepContext) -> str:
        return ", ".join(f"{a}-{b} {label}" if a != b else f"{a} {label}" for (a, b), label in self._band_ranges(ctx))

    def _band_named(self, reply: Reply, ctx: StepContext) -> str | None:
        """'"Critical" is 7 to 9. Which number?' for a typed reply that is a band's label as the
        prompt shows it ('critical', 'not important', politely: 'critical please'); else None."""
        if reply.button is not None:
            return None
        said = normalise(reply.text)
        for (low, high), label in self._band_ranges(ctx):
            if low < high and normalise(label) in (said, *without_polite_words(said)):
                return ctx.words("delphi.band_which").format(label=label, low=low, high=high)
        return None

    def _importance_named(self, reply: Reply, ctx: StepContext) -> str | None:
        """For a typed 'very important', 'pwysig iawn' or 'not important at all': the band whose label
        says as much ('"not important" is 1 to 3. Which number?'), else the numbers at that end of
        the scale, the top for 'very important' ('The most important are 7 to 9 ("critical")...')."""
        level = importance_said(reply.text) if reply.button is None else None
        if level is None:
            return None
        bands = self._band_ranges(ctx)
        for (low, high), label in bands:
            if low < high and importance_said(label) == level:
                return ctx.words("delphi.band_which").format(label=label, low=low, high=high)
        (low, high), label = bands[-1] if level == "most" else bands[0]
        return ctx.words(f"delphi.{level}_important_which").format(label=label, low=low, high=high)

    def _band_ranges(self, ctx: StepContext) -> list[tuple[tuple[int, int], str]]:
        """Each band's (lowest, highest) point with its label in the participant's language."""
        s = self.scale
        parts = [(s.low, "low_label"), ((s.low[1] + 1, s.high[0] - 1), "middle_label"), (s.high, "high_label")]
        return [(band, self._band_label(ctx, name)) for band, name in parts if band[0] <= band[1]]

    def _band_label(self, ctx: StepContext, name: str) -> str:
        """The flow's label, or the built-in one (in the participant's language) when the flow kept the default."""
        label = getattr(self.scale, name)
        if label == DelphiScale.model_fields[name].default:
            return ctx.words(f"delphi.{name}")
        return ctx.render(label)

    # ------------------------------------------------------------------ reading replies

    def interpret(self, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
        data = dict(ctx.data)
        if not isinstance(data.get("queue"), list):
            data["queue"] = self.active(ctx)
        data.setdefault("scores", {})
        waiting = data.get("await")
        if waiting == "reason":  # (first: the last item's reason comes when nothing remains to score)
            return self._reason(reply, ctx, data)
        if waiting == "next" or not self._remaining(ctx):
            said_next = reply.button == "next" or normalise(reply.text) in NEXT_WORDS
            # a no, or a number (a score typed ahead, for an item not shown yet: it must not be
            # taken as NEXT and lost, nor land on the next item) asks NEXT or LATER again; a
            # score uses no try, so scores typed at the pause never leave the rest of the round
            typed_ahead = reply.button is None and (parse_number(reply.text, out_of=self.scale.max) is not None
                                                    or self._several_scores(reply.text))
            if not said_next and typed_ahead:
                return Unclear(self._next_or_later(ctx), uses_a_try=False)
            if not said_next and parse_yes_no(reply.text) is False:
                return Unclear(self._next_or_later(ctx))
            data["await"] = None  # anything but a no carries on: a stray reply must not end the round
            return self._after(data, None) if not self._remaining(ctx) else Continue(data)
        item = self._remaining(ctx)[0]
        score = self._score(reply, ctx, item)
        if score is False:
            if self._several_scores(reply.text):  # answering, several at once: told how, no try used
                return Unclear(self._one_at_a_time(ctx, item), uses_a_try=False)
            band = self._band_named(reply, ctx) or self._importance_named(reply, ctx)  # the scale's own words: no try used
            if band is not None:
                return Unclear(band, uses_a_try=False)
            return Unclear(self._between(reply, ctx) + self._hint(ctx, item))
        reading = self._typed_reading(reply, ctx, item) if isinstance(score, int) else None
        if reading is not None and reading.doubt == "other_unit":  # '4 hours': no score
            return Unclear(f"{ctx.words('hint_other_unit').format(said=reading.said)} {self._hint(ctx, item)}")
        number = score if isinstance(score, int) else None
        data["scores"] = {**data["scores"], item: number}
        recorded = ItemAnswer(item, delphi_value(self.delphi_id, self.round, number), str(number) if number is not None else "unsure")
        guessed = reading is not None and reading.doubt == "confirm"  # a score read from a sentence: checked first
        if number is not None and self._wants_reason(number):
            data.update({"await": "reason", "reason_for": item})
            return Continue(data, (recorded,), guessed=guessed)
        return replace(self._after(data, recorded), guessed=guessed)

    def _score(self, reply: Reply, ctx: StepContext, item: str) -> int | None | bool:
        """The score given, None for unsure, False when unclear."""
        if self.unsure and (reply.button == "unsure" or _says_unsure(reply.text, ctx.words("unsure"))):
            return None
        if reply.button == "keep" or _says_keep(reply.text):
            own = self._own_score(ctx, item)
            return own if own is not None else False
        value = float(reply.button) if reply.button and reply.button.lstrip("-").isdigit() else parse_number(reply.text, out_of=self.scale.max)
        if value is None or not value.is_integer() or not self.scale.min <= value <= self.scale.max:
            return False
        return int(value)

    def _typed_reading(self, reply: Reply, ctx: StepContext, item: str) -> NumberReading | None:
        """How sure a typed score is (see :class:`flows.parsing.NumberReading`); None for a
        tapped button, KEEP or NOT SURE."""
        if reply.button is not None or _says_keep(reply.text):
            return None
        asked = f"{ctx.render(self.text)} {next(i for i in self.items if i.id == item).render(ctx)}"
        return read_number(reply.text, asked, rating=True, out_of=self.scale.max)

    def _own_score(self, ctx: StepContext, item: str) -> int | None:
        """The participant's score for the item last round (None: none given, or round 1)."""
        feedback = self._feedback(ctx, item)
        return None if feedback is None or feedback.own_score is None else int(feedback.own_score)

    def _next_or_later(self, ctx: StepContext) -> str:
        """How to carry on at a pause (NEXT, or OK with nothing left to rate) or stop: 'Please tap
        Next to carry on, ...' where that was a button, else 'Reply LATER ..., or NEXT ...'."""
        buttons = self.prompt(ctx).buttons
        if ctx.tapped(buttons) and not ctx.keeps_own_words("delphi.next_or_later", "delphi.next_or_later_tap"):
            return ctx.words("delphi.next_or_later_tap").format(next=buttons[0].label)
        return ctx.words("delphi.next_or_later")

    def _hint(self, ctx: StepContext, item: str) -> str:
        """What a score may be: a number on the scale, NOT SURE if allowed, KEEP if there is a score
        to keep; after 'Please tap one of the buttons, or' where the scores were buttons."""
        own = self._own_score(ctx, item)
        key = "delphi.hint_unsure" if self.unsure else "delphi.hint"
        if own is not None:
            key = "delphi.hint_unsure_keep" if self.unsure else "delphi.hint_keep"
        if ctx.tapped(self._score_buttons(ctx, own)) and not ctx.keeps_own_words(key, f"{key}_tap"):
            key += "_tap"
        return ctx.words(key).format(low=self.scale.min, high=self.scale.max, own=own)

    def _between(self, reply: Reply, ctx: StepContext) -> str:
        """'Is it nearer 7 or 8? Your best guess is fine. ' for a typed score given as two on the
        scale ('7 or 8', 'seven or eight', '7-8'), as a number question asks; neither end nor the
        middle is stored for the participant. Empty for any other reply."""
        said = read_range(reply.text) if reply.button is None else None
        if said is None or said.unit or not self.scale.min <= said.low < said.high <= self.scale.max:
            return ""
        return ctx.words("hint_number_between").format(low=plain_number(said.low), high=plain_number(said.high)) + " "

    def _several_scores(self, text: str) -> bool:
        """'8 9 7', '7, 7, 7', '6, 8 and 9': several scores on the scale in one reply (the
        items after this one have not been shown, so they are not read as their scores)."""
        said = normalise(text)
        found = next((s for s in (said, *without_polite_words(said)) if SEVERAL_SCORES.fullmatch(s)), None)
        return found is not None and all(self.scale.min <= int(n) <= self.scale.max for n in re.findall(r"\d+", found))

    def _one_at_a_time(self, ctx: StepContext, item_id: str) -> str:
        """The hint for several scores at once: one, for the item asked, named in short."""
        item = next(i for i in self.items if i.id == item_id)
        return ctx.words("delphi.one_at_a_time").format(item=_short(item.render(ctx)), low=self.scale.min, high=self.scale.max)

    def _wants_reason(self, score: int) -> bool:
        if self.ask_reason == "extreme":
            return score in (self.scale.min, self.scale.max)
        return bool(self.ask_reason)

    def _reason(self, reply: Reply, ctx: StepContext, data: dict[str, Any]) -> Answer | Continue | Unclear:
        """The reason for the score just given. A bare score is no reason: it is asked again
        (the next item, and from round 2 its feedback, has not been shown yet, so the number
        cannot be its score; it may as well be this item's score corrected)."""
        item = str(data.get("reason_for"))
        score = data["scores"].get(item)
        text = reply.text.strip()
        if self._is_bare_score(text):
            return Unclear(ctx.words("delphi.reason_not_a_score").format(score=score))
        data["await"] = None
        if not text or _gives_no_reason(text):
            return self._after(data, None)
        recorded = ItemAnswer(item, delphi_value(self.delphi_id, self.round, score, text), f"{score}: {text}")
        return self._after(data, recorded)

    def _is_bare_score(self, text: str) -> bool:
        """'8' alone, politely wrapped ('Id say 5', '5 I think'), or several ('8 9 7'): they say
        nothing of why. A number off the scale ('10', 'ten', '7.5') says no more: never kept as
        the reason."""
        if _gives_no_reason(text):
            return False
        if self._several_scores(text):
            return True
        reading = read_number(text, rating=True, out_of=self.scale.max)
        return reading is not None and reading.doubt == "clear"

    def _after(self, data: dict[str, Any], recorded: ItemAnswer | None) -> Answer | Continue:
        """Move on after an item: the next one, a pause between batches, or the end."""
        items = (recorded,) if recorded is not None else ()
        scores: dict[str, Any] = data["scores"]
        if not _unanswered(data["queue"], data):
            rated = sum(1 for s in scores.values() if s is not None)
            return Answer(dict(scores), f"{rated} of {len(data['queue'])} rated", items)
        done_now = int(data.get("sitting", 0)) + 1
        data["sitting"] = done_now
        if self.batch and done_now % self.batch == 0:
            data["await"] = "next"
        return Continue(data, items)


    # ------------------------------------------------------------------ too many unclear replies

    def give_up(self, ctx: StepContext) -> GiveUp | None:
        """Leave the item being asked (recorded as skipped) and go on with the next; after its
        reason question, go on without a reason. At the pause between batches (the participant
        said no to going on) the rest of the round is left, as for any step."""
        data = dict(ctx.data)
        if not isinstance(data.get("queue"), list):
            data["queue"] = self.active(ctx)
        data.setdefault("scores", {})
        waiting = data.get("await")
        remaining = _unanswered(data["queue"], data)
        if waiting == "reason" or not remaining:
            data["await"] = None
            return GiveUp((), self._after(data, None))
        if waiting == "next":
            return None
        data["left"] = [*data.get("left", []), remaining[0]]
        return GiveUp((remaining[0],), self._after(data, None))


def _short(text: str, limit: int = SHORT_ITEM) -> str:
    """An item's words cut at a word to about ``limit`` characters, for a one-line hint."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    return flat[:limit].rsplit(" ", 1)[0].rstrip(" ,;:.-") + "…"


def _unanswered(queue: list[str], data: dict[str, Any]) -> list[str]:
    """The items of the queue neither scored nor left after too many unclear replies."""
    done = set(data.get("scores", {})) | set(data.get("left", []))
    return [item for item in queue if item not in done]


def _says_keep(text: str) -> bool:
    """KEEP, 'same', 'keep it the same please', 'same as before', 'no change'; never 'not the same'."""
    words = [word for word in normalise(text).replace(",", " ").split() if word not in KEEP_FILLER]
    return " ".join(words) in KEEP_PHRASES or normalise(text) in KEEP_WORDS



def _gives_no_reason(text: str) -> bool:
    """'no', 'skip', or 'dunno' (Welsh 'dwn i ddim'), politely or with a kiss ('Dunno x'), in
    reply to "why?": the score stands without a reason, rather than 'dunno' quoted as one."""
    said = normalise(text)
    return any(phrase in NO_REASON or phrase in UNSURE_WORDS for phrase in (said, *without_polite_words(said)))


def _says_unsure(text: str, label: str) -> bool:
    """'not sure', 'dunno', 'not sur'; never a number, a lone letter or a place ('the first
    one' is a score of 1, not NOT SURE): see :func:`flows.steps.unsure.says_unsure`."""
    return says_unsure(text, [label, *UNSURE_WORDS])
