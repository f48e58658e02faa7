"""Everyday short replies must not set off the safeguarding net, and real risk must still.

`chorus analyse safety` once flagged 13 of 40 everyday replies ("I'm fine" as an overdose,
"can't decide" as suicidal thoughts), and participants were sent crisis-line texts for them.
Before the fix, 30 of the 82 replies below were flagged; none of them is in the reference set
(the first test keeps them apart).
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.safeguarding import Concern, SafetyChecks
from bot.service import ConversationService, ReceiveResult
from nlp import safety
from nlp.safety import assess_batch
from storage.database import Database
from storage.tables import FLAGS

Say = Callable[..., ReceiveResult]

DATA = Path(__file__).parent / "data"
EVERYDAY = [
    "I'm fine",
    'im driving',
    'not important',
    'a few times',
    'about 3 times',
    'im a patinet',
    'remind me monday',
    'please delete my data',
    'because it matters',
    'same as before',
    'keep it the same please',
    'hi sorry',
    "can't decide",
    'about 2 hours',
    '3 or 4 times',
    'twice a week',
    'once a month maybe',
    'about 10 minutes',
    '2 days',
    '5 out of 10',
    'around 6 hours',
    'only once',
    'more than 3 times',
    '4 weeks ago',
    'a couple of times',
    'every day',
    'in 2 hours',
    'later please',
    'tomorrow',
    'not now',
    'remind me later',
    'next week please',
    'remind me tomorrow morning',
    'after work',
    'this evening',
    'im busy at the moment',
    'can you ask me later',
    'text me tonight',
    'hello',
    'hi there',
    'good morning',
    'thanks very much',
    'ok thanks',
    'cheers',
    'sorry for the late reply',
    'hiya',
    'bye for now',
    'thank you so much',
    'im a carer',
    'i dont no',
    'not sure tbh',
    'yes i am',
    'no i havent',
    'dunno really',
    'i was a patinet last year',
    'mum was in hospital',
    'my dad',
    'er yes',
    'it was ok',
    'could be better',
    'pretty good',
    'not great',
    'the staff were nice',
    'too long',
    'all good',
    'nothing to add',
    'no idea',
    'i suppose so',
    'it doesnt matter',
    'whatever is easiest',
    "doesn't bother me",
    'not bothered',
    'its fine really',
    "I'd rather not say",
    'nothing really',
    'same again',
    'no change',
    "I'm okay thanks",
    'a bit tired',
    'im at work',
    'on the bus',
    'just got home',
]


def _risky_examples() -> list[str]:
    texts = []
    for name in ("safety.csv", "safety_heldout.csv", "safety_heldout_b.csv"):
        with (DATA / name).open(newline="", encoding="utf-8") as fh:
            texts += [row["text"] for row in csv.DictReader(fh) if row["risky"] == "1"]
    return texts


# Missed before this change too: the embedding vote never reached the threshold for them.
KNOWN_MISSES = {
    "honestly dont think ill be around for the follow up appointment",
    "i looked at the train times today and not to go anywhere",
    "im not going to be here much longer so it doesnt matter what the doctor says",
    "they tie my mum to the chair at the nursing home so she doesnt wander",
}


def test_the_everyday_replies_are_kept_apart_from_the_reference_set() -> None:
    reference = {row["text"].strip().lower() for row in safety.reference_rows() + safety.everyday_rows()}
    assert len(EVERYDAY) >= 60 and len(set(EVERYDAY)) == len(EVERYDAY)
    assert not reference & {text.lower() for text in EVERYDAY}


def test_at_most_one_everyday_reply_raises_an_alarm() -> None:
    alarms = [(text, r.reason) for text, r in zip(EVERYDAY, assess_batch(EVERYDAY), strict=True) if r.flagged]
    print(f"\neveryday false alarms: {len(alarms)} of {len(EVERYDAY)}: {alarms}")
    assert len(alarms) <= 1


def test_every_risky_example_flagged_before_is_still_flagged() -> None:
    texts = _risky_examples()
    missed = {text for text, r in zip(texts, assess_batch(texts), strict=True) if not r.flagged}
    print(f"\nrisky examples missed: {len(missed)} of {len(texts)}: {sorted(missed)}")
    assert missed <= KNOWN_MISSES


@pytest.mark.parametrize("text", ["kill myself", "overdose", "want to die", "suicidal", "took 20 pills"])
def test_short_explicit_risk_is_still_caught_by_the_patterns(text: str) -> None:
    assert assess_batch([text])[0].flagged


def test_only_answers_with_enough_content_words_reach_the_model() -> None:
    assert safety.content_words("I'm fine") == 1
    assert safety.content_words("about 3 times") == 1
    assert safety.content_words("ive got the rope ready") == 3


def test_a_snooze_is_not_taken_for_a_risk(service: ConversationService, say: Say, database: Database) -> None:
    """'remind me monday' asks for the question again later: it says when, not how someone is."""
    service.safety = SafetyChecks(quick=lambda text: Concern("suicide", "a check that flags everything"))
    say("WAIT")
    say("yes")
    result = say("in 2 hours")
    service.wait_for_safeguarding()
    with database.transaction() as connection:
        kinds = list(connection.execute(select(FLAGS.c.kind)).scalars())
    assert result.status == "processed" and "safeguarding" not in kinds
    assert not [row for row in service.outbox_for(result.participant_id or "") if row.kind == "signposting"]
