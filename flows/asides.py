"""Asides: a story told in reply to a question that takes no free text.

Asked to pick an option, rate, say yes or no or give a number, a participant may tell what
happened instead ("well the nurse was lovely but we waited six hours and my dad was in pain the
whole time"). Their own words are what a study most wants, so such a reply is not an unclear
answer: it is kept as a comment on the step (:class:`flows.events.RecordComment`), acknowledged
("Thank you, we've noted that.") and the question asked again, using none of its tries.

The rule is general and in no one language: a reply is an aside when it has several words
(:data:`ASIDE_WORDS`, or :data:`ASIDE_CHARACTERS` in a script written without spaces), the
question makes nothing of it (without its numbers, the step's answer to it is its plain hint, the one it gives
an empty reply: no rejected option, no unit of its own), and it holds no
try at the question: no number the question would take on its own, no word of an option's or
a scale point's name (not a little word), and on a scale, in fewer than :data:`STORY_WORDS`\nwords, no rating word. Global words, opt-outs,
LATER, 'I don't understand', a correction and the rest of a free-text answer sent in two texts
are read before (flows/engine.py); consent is never given a comment (nothing is kept before a
YES), nor is a free-text question (which takes the words as its answer).

A story said in a voice note is kept alike, its transcript the comment (source ``voice``, linked
to its transcript row and so to its confidence); one heard with low confidence is first read
back as a voice answer is ("I heard: '...'. Is that right?") and kept only on YES: NO asks the
question again and keeps nothing.

A story sent in two texts (the second within :data:`flows.engine_second_text.CONTINUATION_WINDOW`
of the thanks and the question again) keeps both parts and is thanked once, not twice.

Only :data:`FREE_ASIDES` asides at one question use no try: a participant who keeps writing
sentences the question cannot read gets its hint after that, as with any unclear reply (their
words are still kept), so a question that is never answered can still be skipped or flagged.
"""

from __future__ import annotations

import re
import unicodedata
from typing import TYPE_CHECKING

from flows.engine_commands import EngineCommands
from flows.engine_core import Turn
from flows.engine_second_text import CONTINUATION_WINDOW, RATING_WORDS, says_more
from flows.events import RecordComment
from flows.parsing import normalise, numbers_said
from flows.parsing_little_words import _LITTLE_WORDS, _stem
from flows.parsing_number_words import _WORD_NUMBERS
from flows.session_state import position
from flows.steps.base import Answer, Continue, InputStep, Reply
from flows.steps.consent import ConsentStep
from flows.steps.scale import ScaleStep

ASIDE_WORDS = 6
"""The fewest words an aside has: fewer ('not really sure tbh', 'the blue one please') are
more likely a try at the question than something to keep."""
ASIDE_CHARACTERS = 12
"""The fewest letters of a script written without spaces (Chinese, Japanese, Thai...) an aside has."""
STORY_WORDS = 12
"""On a scale, a reply this long is a story even with a word that rates in it ('the nurse was
lovely but...'); a shorter one with such a word ('it was ok i guess but not great') is a try."""
FREE_ASIDES = 3
"""Asides at one question that use none of its tries."""
ASIDE_SOURCES = ("text", "voice")
"""How an aside may come: typed, or said in a voice note (its transcript, kept as said)."""
_UNSPACED_SCRIPTS = ("CJK", "HIRAGANA", "KATAKANA", "HANGUL", "THAI", "LAO", "KHMER", "MYANMAR", "TIBETAN")
_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_OPTION_LINE = re.compile(r"^[ \t]*(?:[A-Z]|\d{1,2})[):][ \t]+(.+)$", re.MULTILINE)
"""A line of a question that shows an option by its letter or number ('A) A 24-hour collection
locker', 'A: home visit, next day, £20'): its words name that option as a button's label does."""


def long_enough(text: str) -> bool:
    """Whether a reply has the words of an aside: :data:`ASIDE_WORDS` words with letters in
    them, or :data:`ASIDE_CHARACTERS` letters of a script written without spaces; and is not
    only 'not sure' or 'I don't mind' said at length."""
    words = [word for word in _WORD.findall(text) if any(c.isalpha() for c in word)]
    unspaced = sum(1 for c in text if c.isalpha() and unicodedata.name(c, "").startswith(_UNSPACED_SCRIPTS))
    return unspaced >= ASIDE_CHARACTERS or (len(words) >= ASIDE_WORDS and says_more(text))


def _without_numbers(text: str) -> str:
    """A reply without its numbers, in figures or words: what the question makes of the rest
    ('we waited six hours' on a scale is no rating, though 'six hours' alone is asked about)."""
    return " ".join(word for word in text.split() if not _is_number(word))


def _is_number(word: str) -> bool:
    bare = normalise(word).strip(".,;:!?()\"'")
    return any(c.isdigit() for c in bare) or bare in _WORD_NUMBERS


class Asides(EngineCommands):
    """The engine's keeping of asides (part of :class:`flows.engine.Engine`)."""

    if TYPE_CHECKING:  # provided by flows.engine.Engine
        def _doubted(self, step: InputStep, reply: Reply) -> bool: ...

        def _ask_to_confirm(self, turn: Turn, step: InputStep, reply: Reply, outcome: Answer | Continue | None) -> None: ...

    def _noted_aside(self, turn: Turn, step: InputStep, reply: Reply, confirmed: bool = False) -> bool:
        """Keep a story told (typed, or said in a voice note) at a question that cannot read it,
        thank the participant and ask the question again, using no try. A voice note read back
        before it counts (heard with low confidence, :meth:`_doubted`) is read back here too and
        kept only on YES (``confirmed``). False (and nothing done) for any other reply."""
        state, text = turn.state, reply.text
        if reply.source not in ASIDE_SOURCES or reply.button is not None:
            return False
        if isinstance(step, ConsentStep) or self._takes_free_text(state, step) or not long_enough(text):
            return False
        if self._tries_at(turn, step, text):
            return False
        ctx = self._context(turn, step)
        if step.interpret(Reply(_without_numbers(text)), ctx) != step.interpret(Reply(""), ctx):
            return False
        if not confirmed and self._doubted(step, reply):
            self._ask_to_confirm(turn, step, reply, None)  # "I heard: '...'. Is that right?"
            return True
        here = position(state)
        earlier = [at for at in state.asides if at == here]
        state.asides = [*earlier, here]
        turn.emit(RecordComment(step.id, text.strip(), reply.source, self._asked_item(turn, step)))
        if len(earlier) >= FREE_ASIDES:
            return False  # kept, and the hint as for any unclear reply (a try used)
        if earlier and state.asked_at is not None and turn.now - state.asked_at <= CONTINUATION_WINDOW:
            return True  # the rest of the story, sent as a second text: kept, and thanked once, not again
        self._say(turn, self._text(turn, "aside_noted"), step.id, kind="info")
        self._prompt(turn, step)
        return True

    def _tries_at(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Whether a reply holds a try at the question: a number it would take on its own (not a
        'one' that stands for a person or thing, 'no one came', nor Welsh 'dim' meaning 'no': 'dim
        byd'), a word of an option's or a scale point's name (a button's label, or a line of the
        question showing an option: a pair's idea, a choice task's levels), or on a scale a word
        that rates."""
        ctx = self._context(turn, step)
        said = re.findall(r"[\w'-]+", normalise(text))
        if any(isinstance(step.interpret(Reply(number), ctx), Answer | Continue) for number in numbers_said(text)):
            return True
        prompt = step.prompt(ctx)
        names = [button.label for button in prompt.buttons] + _OPTION_LINE.findall(prompt.text)
        names += list(step.point_labels(ctx).values()) if isinstance(step, ScaleStep) else []
        named = {_stem(word) for name in names for word in re.findall(r"[\w'-]+", normalise(name))}
        own = {word for word in named if len(word) > 2 and word not in _LITTLE_WORDS}
        stems = {_stem(word) for word in said}
        rates = isinstance(step, ScaleStep) and len(said) < STORY_WORDS and bool(stems & RATING_WORDS)
        return bool(stems & own) or rates

    def _asked_item(self, turn: Turn, step: InputStep) -> str | None:
        """The part of a many-item step being asked (a Delphi item, a pair, a statement): the
        one part it would leave unanswered after its last try. None for a step of one question."""
        left = step.give_up(self._context(turn, step))
        return left.left[0] if left is not None and len(left.left) == 1 else None
