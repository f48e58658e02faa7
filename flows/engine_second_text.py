"""The rest of a free-text answer sent in a second text: on a basic phone an SMS answer may
come in two parts, seconds apart. A text that answers nothing, sent soon after a typed answer
to the free-text question just before, is added to that answer, and the question asked now
is asked again. After the last question, the text is added all the same, and nothing more asked."""

from __future__ import annotations

import re
from datetime import timedelta

from flows.engine_core import Turn
from flows.engine_what_it_means import EngineWhatItMeans
from flows.events import AnswersWithdrawn, RecordAnswer, SetField
from flows.inputs import TextInput
from flows.parsing import (
    UNSURE_REPLIES,
    normalise,
    says_indifferent,
    says_undecided,
    without_politeness,
)
from flows.parsing_little_words import _LITTLE_WORDS, _stem
from flows.parsing_number_words import _WORD_NUMBERS
from flows.session_state import OpenAnswer
from flows.steps.base import InputStep, Reply, StepBase, Unclear
from flows.steps.open import OpenStep
from flows.steps.scale import ScaleStep

CONTINUATION_WINDOW = timedelta(seconds=90)
"""How soon after a typed free-text answer a text that answers nothing is taken for the rest
of it: an SMS answer sent in two parts (a basic phone), seconds apart."""
CONTINUATION_WORDS = 4
"""The fewest words a text taken for the rest of a free-text answer has: 'maybe', 'dunno',
'not great' or 'pretty bad tbh' seconds after one is a try at the question asked now, not
more of the answer."""
RATING_WORDS = frozenset({
    "good", "bad", "great", "ok", "okay", "poor", "poorly", "well", "badly", "terrible", "terribly", "fine", "middling",
    "awful", "awfully", "excellent", "average", "alright", "decent", "brilliant", "fair", "rubbish", "horrible", "lovely",
    "amazing", "worse", "worst", "better", "best", "neutral", "meh", "so-so", "satisfied", "dissatisfied", "unsatisfied",
    "happy", "unhappy", "agree", "disagree", "likely", "unlikely", "mediocre", "shocking", "appalling", "dreadful",
    "superb", "perfect", "fantastic", "crap", "adequate", "reasonable", "acceptable", "outstanding", "satisfactory",
    "da", "dda", "gwael", "wael", "ofnadwy", "gwych", "ardderchog", "canolig", "gweddol", "niwtral", "cytuno", "anghytuno",
})
"""Words that rate: a text with one ('not very well', 'pretty bad tbh') is a try at a scale or
a choice, never the rest of a story."""
_NOT_RATING = frozenset({"not", "very", "quite", "really", "too", "all", "any", "some", "more", "less", "nor", "don't",
                         "dont", "know", "ddim", "nac", "iawn", "gwybod", "cwbl", "gwbl"})
"""Words of an option's or a label's name that say nothing of it alone ('Not at all well', 'Don't know')."""


class EngineSecondText(EngineWhatItMeans):
    """The rest of a free-text answer, on top of :class:`flows.engine_what_it_means.EngineWhatItMeans`."""

    def _keep_open_answer(self, turn: Turn, step: InputStep, reply: Reply, text: str) -> None:
        """After an answer: a typed free-text one is kept (:attr:`SessionState.last_open`) for a
        text that follows it to add to; any other answer ends that."""
        typed = reply.source == "text" and reply.button is None
        state = turn.state
        kept = OpenAnswer(step=step.id, text=text, at=turn.now, position=len(state.history)) if typed and text else None
        state.last_open = kept if isinstance(step, OpenStep) else None
        state.last_answer = kept

    def _continued(self, turn: Turn, step: InputStep, text: str, unclear: Unclear) -> bool:
        """A typed text that answers nothing (the question asked now finds it ``unclear`` and
        makes nothing of it: no number in the wrong unit, no score too many), sent within
        :data:`CONTINUATION_WINDOW` of a typed answer to the free-text question just before:
        the rest of that answer, sent in a second SMS. The answer is recorded again
        with it added (the first withdrawn, as a correction's is, and kept), 'Thanks, I've
        added that to your last answer.', and the question asked now again. Not a try."""
        state, kept = turn.state, turn.state.last_open
        if kept is None or state.tries or state.undo or state.step_data or not says_more(text):
            return False
        if not timedelta(0) <= turn.now - kept.at <= CONTINUATION_WINDOW or self._tries_question(turn, step, text):
            return False
        if unclear != step.interpret(Reply(""), self._context(turn, step)):  # a try at this question
            return False
        found = self._previous_question(state)
        if found is None or found[0].id != kept.step or found[1] + 1 != kept.position or step.id == kept.step:
            return False
        self._add_to_answer(turn, found[0], kept, text)
        self._say(turn, self._text(turn, "added_to_answer"), step.id, kind="info")
        self._prompt(turn, step)
        return True

    def _continued_after_end(self, turn: Turn, given: TextInput) -> bool:
        """The same after the free-text question that ended the conversation (the flow's last
        question, often "Anything else?"): a typed text of a few words within
        :data:`CONTINUATION_WINDOW` of its answer is the rest of it, added to it, and 'Thanks,
        I've added that to your last answer.' instead of 'that's all for now'."""
        state, kept = turn.state, turn.state.last_open
        if kept is None or state.outcome != "completed" or given.button is not None or given.source != "text":
            return False
        if not timedelta(0) <= turn.now - kept.at <= CONTINUATION_WINDOW or not says_more(given.text):
            return False
        previous = self._step_or_none(kept.step)
        after = [self._step_or_none(step_id) for step_id in state.history[kept.position :]]
        if not isinstance(previous, OpenStep) or state.history[kept.position - 1 : kept.position] != [kept.step]:
            return False
        if any(isinstance(step, InputStep) for step in after):
            return False  # (a question was asked after it: not the end of the answer)
        self._add_to_answer(turn, previous, kept, given.text)
        self._say(turn, self._text(turn, "added_to_answer"), previous.id, kind="info")
        return True

    def _add_to_answer(self, turn: Turn, previous: StepBase, kept: OpenAnswer, text: str) -> None:
        """The free-text answer ``kept`` recorded again with ``text`` added (the first withdrawn,
        as a correction's is, and kept), and kept for a further part to add to."""
        state = turn.state
        added = f"{kept.text} {text.strip()}"
        turn.emit(AnswersWithdrawn((previous.id,), from_position=kept.position))
        turn.emit(RecordAnswer(previous.id, added, added, added, "text", path_position=kept.position))
        state.values[previous.id], state.displays[previous.id] = added, added
        if previous.save_to:
            name = previous.save_to.removeprefix("participant.")
            state.fields[name] = added
            turn.emit(SetField(name, added))
        state.last_open = OpenAnswer(step=previous.id, text=added, at=turn.now, position=kept.position)

    def _tries_question(self, turn: Turn, step: InputStep, text: str) -> bool:
        """Whether a text reads as a try at the question asked now: a number in it ('2 not great',
        '3 or 4'), a word that rates ('not very well'), or a word of its options' or labels' names."""
        said = {_stem(word) for word in re.findall(r"[\w'-]+", normalise(text))}
        if any(any(c.isdigit() for c in word) or word in _WORD_NUMBERS and word not in _STORY_NUMBERS for word in said):
            return True
        ctx = self._context(turn, step)
        names = [button.label for button in step.prompt(ctx).buttons]
        names += list(step.point_labels(ctx).values()) if isinstance(step, ScaleStep) else []
        named = {_stem(word) for name in names for word in re.findall(r"[\w'-]+", normalise(name))}
        own = {word for word in named if len(word) > 2 and word not in _LITTLE_WORDS and word not in _NOT_RATING}
        return bool(said & (own | RATING_WORDS))


_STORY_NUMBERS = frozenset({"one", "once", "none", "un", "dim"})
"""Number words a story has without giving a number: 'no one came', 'once we got in', Welsh 'dim'."""


def says_more(text: str) -> bool:
    """Whether a text may be the rest of an answer: a few words, not 'not sure' or 'I don't
    mind' (a try at the question asked now)."""
    said = without_politeness(text)
    if len(said.split()) < CONTINUATION_WORDS:
        return False
    unsure = re.sub(r"^(?:i |im |i'm |i am |really )+", "", said) in UNSURE_REPLIES
    return not unsure and not says_indifferent(text) and not says_undecided(text)
