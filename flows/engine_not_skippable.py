"""'skip' at a question that cannot be skipped (no ``skip: true``): the participant asked to leave
it out, so the hint says first that this one needs an answer ("This question can't be skipped.
Please reply with a number from 1 to 5."), not only how to give one."""

from __future__ import annotations

from flows.reply_tidying import normalised_word
from flows.steps.base import Answer, Continue, InputStep, Reply, StepContext, Unclear
from flows.steps.open import OpenStep
from flows.words import SKIP_WORDS


def read_reply(step: InputStep, reply: Reply, ctx: StepContext) -> Answer | Continue | Unclear:
    """What ``step`` reads in ``reply``; a typed 'skip' it cannot read (nor skip) told that the
    question can't be skipped, at a free-text question too (where it would be stored as the
    story 'skip'). A step that reads 'skip' as an answer (a pair's pass) keeps it."""
    outcome = step.interpret(reply, ctx)
    asked_to_skip = not step.skip and reply.button is None and normalised_word(reply.text) in SKIP_WORDS
    if asked_to_skip and isinstance(outcome, Unclear):
        return Unclear(f"{ctx.words('not_skippable')} {outcome.hint}", outcome.uses_a_try)
    if asked_to_skip and isinstance(step, OpenStep):  # 'skip' is no story: never stored as one
        return Unclear(f"{ctx.words('not_skippable')} {ctx.words('hint_open')}")
    return outcome
