"""Pieces the many-item step types share: listed items, pools with participants'
submissions, and reading a reply that proposes a new statement or idea.

Not a step type itself (it registers nothing).
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from pydantic import field_validator

from flows.model import Strict, Text
from flows.parsing import normalise, parse_yes_no
from flows.population import SUBMISSION_ITEM, PoolEntry, Population
from flows.ready_phrases import says_ready
from flows.steps.base import ItemAnswer, Reply, StepContext

ADDING = "adding"
"""In a step's working data: the add word came alone ('ADD'), so the next reply is the idea or
statement itself (:func:`after_add_word`)."""
TAKEN_BACK = frozenset({"cancel", "never mind", "nevermind", "nothing", "no idea", "forget it", "dim", "dim byd", "canslo", "dim ots"})
"""Replies to 'What's your idea?' that propose nothing (besides a plain no): the step goes on."""
ANSWER_WORDS = 3
"""At most this many words, a reply after the add word alone that the step reads as an answer
('B', 'agree') is that answer: the participant changed their mind."""


class ListedItem(Strict):
    """An item, statement or idea: ``{id, text}``, or just its text (which is then its id)."""

    id: str
    text: Text

    def render(self, ctx: StepContext) -> str:
        return ctx.render(self.text)


def plain_items_schema(schema: dict[str, Any]) -> None:
    """In the JSON Schema editors use, let a list item be a bare string or number too."""
    schema["items"] = {"anyOf": [{"type": "string"}, {"type": "number"}, schema["items"]]}


def items_from_strings(value: Any) -> Any:
    """Let a plain string stand for ``{id: <string>, text: <string>}``."""
    if isinstance(value, list):
        return [{"id": str(v), "text": str(v)} if isinstance(v, str | int | float) else v for v in value]
    return value


def distinct_ids(items: Sequence[ListedItem], what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item.id in seen:
            raise ValueError(f"two {what} share the id '{item.id}'; give each its own")
        seen.add(item.id)


def listed_validator(*names: str) -> Any:
    """A ``mode='before'`` validator accepting plain strings for ListedItem lists."""
    return field_validator(*names, mode="before")(items_from_strings)


def item_texts(items: Sequence[ListedItem], name: str) -> list[tuple[str, Text]]:
    return [(f"{name}[{i}].text", item.text) for i, item in enumerate(items)]


def pool(listed: Sequence[ListedItem], ctx: StepContext, step_id: str, approved: bool = True) -> list[PoolEntry]:
    """The step's own items and (with ``approved``) the submissions approved for it."""
    entries = [PoolEntry(item.id, item.render(ctx)) for item in listed]
    population: Population | None = ctx.population
    if approved and population is not None:
        known = {e.id for e in entries}
        entries += [e for e in population.approved(step_id) if e.id not in known]
    return entries


def submission(text: str, word: str, kind: str) -> ItemAnswer | None | str:
    """A reply such as 'ADD Free parking for carers': the item answer to record, ``""`` if the
    word came without a text, or None if the reply is not a submission at all."""
    stripped = text.strip()
    head, _, rest = stripped.partition(" ")
    if head.rstrip(":").lower() != word.lower():
        return None
    rest = rest.strip(" :-")
    if not rest:
        return ""
    return ItemAnswer(SUBMISSION_ITEM, {"kind": kind, "text": rest}, rest)


def after_add_word(reply: Reply, kind: str, answers: bool) -> ItemAnswer | bool | None:
    """The reply that follows the add word sent alone ('ADD', then 'let us finish at base'):
    the idea or statement it proposes, which is what the participant was just asked for (it was
    once kept as a comment, and never reached the moderator). False for a reply that proposes
    nothing ('no', 'never mind', 'cancel'); None for one to read as any reply (a tap, a short
    reply that ``answers`` the step, such as 'B' or 'agree', or 'ok im back' after a snooze)."""
    text = reply.text.strip()
    if reply.button is not None or not text or says_ready(text):
        return None
    if parse_yes_no(text) is False or normalise(text).rstrip(".!") in TAKEN_BACK:
        return False
    if answers and len(text.split()) <= ANSWER_WORDS:
        return None
    return ItemAnswer(SUBMISSION_ITEM, {"kind": kind, "text": text}, text)


def draw(ctx: StepContext, *salt: object) -> random.Random:
    """Seeded randomness for the n-th draw of a step. ``ctx.rng`` alone is seeded by how many
    keys the working data has, which stays the same from one item to the next."""
    return random.Random(":".join([ctx.seed, *map(str, salt)]))


def resolve(text: Text | None, ctx: StepContext, default: str) -> str:
    """A configurable text, or the built-in default (already in the participant's language)."""
    return ctx.render(text) if text is not None else default
