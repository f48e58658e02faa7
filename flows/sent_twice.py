"""The same text sent twice: a basic phone's double press, or a reply sent again when no answer
seemed to come. Each copy has its own provider id, so the inbox keeps both, and the second used
to land as the answer to the next question: '1' (the option just picked) or 'YES' (the consent
just given) stored as the answer to "What is the hardest part of caring?".

A question that takes any words is the only one such a copy can answer unnoticed (any other
reads it as its own answer, or asks again). So at a free-text question, a typed reply the same
as the answer to the question before, within :data:`SENT_TWICE_WINDOW`, is not taken: the
participant is told we have it already and the question is asked again, using no try. Sent a
third time, it is the answer (they meant it). A reply that says there is nothing to say ('idk',
'no', 'nothing really', 'dim byd') given to two free-text questions in a row is each one's
answer: people with nothing to add say so at each question.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from flows.parsing import normalise
from flows.parsing_dont_know import says_dont_know
from flows.parsing_normalise import _strip_politeness
from flows.session_state import SessionState
from flows.steps.base import InputStep
from flows.steps.open import OpenStep

SENT_TWICE_WINDOW = timedelta(minutes=2)
"""How soon after an answer the same text again is read as that answer sent twice."""
NOTHING_TO_SAY = frozenset({
    "no", "nope", "nah", "none", "nothing", "nothing really", "not really", "no not really", "nothing else", "n/a", "na",
    "nothing to add", "nothing to say", "no comment", "not that i can think of", "no nothing", "nil",
    "dim", "dim byd", "dim byd really", "nac oes", "naddo", "na dim", "dim byd arall", "dim sylw",
})
"""Whole replies (politeness aside) that say there is nothing to tell, in English or Welsh."""


def sent_twice(state: SessionState, step: InputStep, text: str, now: datetime) -> bool:
    """Whether ``text`` at the free-text question ``step`` repeats the answer just given to the
    question before it; if so, forgets that answer, so the same text once more is an answer."""
    last = state.last_answer
    if last is None or not isinstance(step, OpenStep) or last.step == step.id or state.tries:
        return False
    if not timedelta(0) <= now - last.at <= SENT_TWICE_WINDOW or normalise(text) != normalise(last.text):
        return False
    if state.last_open == last and says_nothing(text):  # 'idk' to two free-text questions: each one's answer
        return False
    state.last_answer = None
    return True


def says_nothing(text: str) -> bool:
    """Whether a whole reply says there is nothing to tell: 'I don't know' ('idk', 'dwn i ddim')
    or 'nothing' ('no', 'not really', 'N/A', 'dim byd'), politely or not."""
    said = _strip_politeness(normalise(text)).strip(" .!")
    return says_dont_know(text) or said in NOTHING_TO_SAY
