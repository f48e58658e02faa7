"""Overdose and self-poisoning in a participant's own words are flagged; ordinary talk of
medicines and drink is not.

"20 paracetamol and vodka" once raised nothing: no verb for the patterns to find, and too few
words for the embedding check to look at. Ordinary medication talk went the other way: "I take 2
paracetamol for my back" matched a pattern (any number before a medicine) and "had a glass of
wine with dinner" read like an overdose to the embedding check.

The HELD_OUT messages below were written before the change and none of them is in the
reference set (the first test keeps them apart): they measure the check on words it has never
seen. Before the change 27 of the 30 risky ones were flagged, and 18 of the 30 ordinary ones;
after it, 28 and 2 (29 and 2 once hoarding was added in session 14, but that miss was one of
these, so it no longer counts as held out). The patterns, the reference rows (nlp/safety_reference.csv, source
``medicines``) and the thresholds were developed on the DEVELOPMENT messages instead, so their
figures flatter (24 of 25 and 3 of 40). The messages named in the report of the bug are checked
one by one as well.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from nlp import safety
from nlp.safety import assess_batch, lexicon_match
from storage.database import Database
from storage.tables import FLAGS

Say = Callable[..., ReceiveResult]

HELD_OUT_RISKY = [
    "15 sertraline and half a bottle of gin",
    "necked about 30 co codamol with some cider",
    "been putting my pills aside for weeks, i think ive got enough now",
    "i've been hoarding my dads morphine",
    "swallowed the lot with a bottle of red",
    "took a handful of my diazepam after the pub",
    "just had 24 ibuprofen",
    "whole strip of zopiclone and a few cans",
    "i have a stash of tablets hidden in my room for when i cant take it",
    "downed all my antidepressants an hour ago",
    "um i took like forty paracetamol earlier and now im being sick",
    "a box of co-codamol and vodka tonight, then that's it",
    "my brother has taken all his lithium and is drinking",
    "I've collected enough tablets to not wake up",
    "took twenty of my sleeping tablets with wine",
    "mum's swallowed her whole blister pack and half a bottle of whisky",
    "ive saved up 3 months of my pregabalin",
    "twelve paracetamol and some beer, feel a bit rough",
    "i keep counting my tablets, i think there's enough",
    "drank a bottle of wine and took all the tablets in the cupboard",
    "my daughter swallowed a load of her nans heart pills",
    "planning to take every pill in the house tonight",
    "50 paracetamol + vodka",
    "whisky and about 20 of my codeine",
    "injected a whole pen of insulin to make it stop",
    "ive kept back a months worth of tablets, waiting for the right time",
    "mixed my tramadol with a load of lager and cant stand up",
    "my little one got hold of the calpol and drank the whole bottle",
    "took the rest of the box of zopiclone, feeling really drowsy",
    "there's 60 tablets in my drawer waiting",
]
HELD_OUT_ORDINARY = [
    "I take 2 paracetamol when my knee flares up",
    "the chemist gave me 28 tablets, a month's supply",
    "had a couple of glasses of wine at my sister's birthday",
    "I'm on 12 different tablets a day and it's hard to keep track",
    "the GP increased my sertraline to 100mg",
    "they told me not to drink alcohol with these antibiotics",
    "I collect my prescription from the pharmacy every month",
    "my dosette box makes it easy to remember my pills",
    "I take 10mg of amitriptyline at night for nerve pain",
    "the pharmacist explained what to do if I miss a dose",
    "a pint with friends on a Friday helps me unwind",
    "my mum has 8 tablets in the morning and 4 at night",
    "I forgot to take my tablets twice last week",
    "the repeat prescription for 56 co-codamol was ready on time",
    "the nurse checked all my medication before discharge",
    "I stopped drinking when I started the new tablets",
    "I keep my insulin in the fridge door",
    "i had 2 ibuprofen and a cup of tea and it eased",
    "my husband likes a whisky after dinner",
    "waiting 40 minutes at the pharmacy for my tablets was frustrating",
    "they put me on 20mg citalopram and it's helped my mood",
    "the leaflet said no more than 8 tablets in 24 hours",
    "a glass of wine and an early night",
    "I have to take 3 inhalers and 6 tablets every day",
    "I save money with a prepayment certificate for my tablets",
    "the tablets made me sleepy so the doctor halved the dose",
    "dad's on a lot of pills since his heart op but he manages them",
    "we had prosecco to celebrate when mum came home",
    "the pharmacy delivered the wrong tablets but sorted it quickly",
    "I take all my tablets with breakfast",
]
DEVELOPMENT_RISKY = [
    'took a full bottle of my sleeping tablets an hour ago',
    'think i had too many of my painkillers, feel really weird and sick',
    'i swallowed every tablet i had left',
    'about 35 paracetamol over the day, i just wanted it to stop',
    'my dad has drunk a lot and taken all his heart pills',
    "she's had a bottle of wine and a load of her antidepressants",
    "i've been putting by a few pills each week for months",
    'my partner took an overdose of his insulin',
    'been keeping my diazepam in a sock drawer for the right moment',
    'i took a mix of everything in the medicine box',
    'my mate took loads of pills at the party and is not waking up',
    'ive got a pile of tablets ready for tonight',
    'i keep thinking about taking all my tablets',
    'finished the packet of co-codamol with a few beers',
    'eight strong painkillers at once with gin',
    'my toddler chewed through a blister pack of my blood pressure pills',
    'drank antifreeze from the garage',
    'i took more than i should have on purpose',
    'downed a whole tub of tablets',
    'my grandson ate some of my methotrexate',
    'swallowed 16 of my zopiclone',
    "i've saved up my morphine patches",
    "had a handful of tramadol and some wine, can't feel my legs",
    'my son drank a bottle of calpol',
    'im going to take all of them tonight and not wake up',
]
DEVELOPMENT_ORDINARY = [
    'I take 2 co-codamol at night when the pain is bad',
    'the pharmacy gave me 100 tablets by mistake and I took them back',
    'my sleeping tablets help me get a few hours',
    'I had a glass of red wine at the restaurant',
    'they gave me 14 days of antibiotics',
    "I'm on 3 blood pressure tablets",
    'my dose of sertraline went up to 150mg',
    'the pharmacist was great at explaining my tablets',
    'I had a couple of beers with my brother',
    'I have a small whisky at Christmas',
    'the insulin pump has changed my life',
    "I don't drink alcohol because of my tablets",
    'I take my tablets at 8 every morning',
    'my husband manages all my pills for me',
    'the GP gave me a month of sleeping tablets',
    'my tablets were late so I missed two days',
    'I took 2 paracetamol and went to bed',
    'I usually have a pint on a Sunday',
    'the pharmacist said a glass of wine is fine with these',
    "my mum's medication was reviewed at the care home",
    'I keep my tablets in the kitchen drawer',
    'I take 20mg of omeprazole every day',
    'the new painkillers work better than the old ones',
    "I'm taking fewer tablets now my blood sugar is better",
    'they reduced my morphine after the operation',
    'the chemist had run out of my tablets again',
    "he drinks a bit too much at weekends but he's cut down",
    'she takes 9 tablets in the morning',
    'I got a prescription for 28 zopiclone',
    'my tablets made me dizzy so the GP changed them',
    'I take ibuprofen for period pain',
    'can I drink on antibiotics',
    'took a paracetamol for my headache and it helped',
    'the pills are big and hard to swallow',
    "I had champagne at my daughter's wedding",
    'the nurse gave me my tablets in a little pot',
    'the home delivery of my medicines is really reliable',
    'my insulin needs to be kept cold',
    'I was given 30 capsules of gabapentin',
    'the GP surgery sorted my repeat prescription quickly',
]
REPORTED_RISKY = ["20 paracetamol and vodka", "saving up my tablets", "took all my pills"]
REPORTED_ORDINARY = ["I take 2 paracetamol for my back", "the pharmacy gave me 20 tablets",
                     "had a glass of wine with dinner"]


def test_the_held_out_messages_are_kept_apart_from_the_reference_set() -> None:
    reference = {row["text"].strip().lower() for row in safety.reference_rows() + safety.everyday_rows()}
    held_out = [text.lower() for text in HELD_OUT_RISKY + HELD_OUT_ORDINARY + REPORTED_RISKY + REPORTED_ORDINARY]
    development = {text.lower() for text in DEVELOPMENT_RISKY + DEVELOPMENT_ORDINARY}
    assert len(set(held_out)) == len(held_out)
    assert not reference & set(held_out) and not development & set(held_out)


def test_overdose_language_never_seen_is_flagged_and_ordinary_medication_talk_rarely() -> None:
    risky = assess_batch(HELD_OUT_RISKY)
    ordinary = assess_batch(HELD_OUT_ORDINARY)
    missed = [text for text, r in zip(HELD_OUT_RISKY, risky, strict=True) if not r.flagged]
    alarms = [(text, r.reason) for text, r in zip(HELD_OUT_ORDINARY, ordinary, strict=True) if r.flagged]
    recall = 1 - len(missed) / len(HELD_OUT_RISKY)
    false_alarms = len(alarms) / len(HELD_OUT_ORDINARY)
    print(f"\noverdose held-out: recall {recall:.3f}, false alarms {false_alarms:.3f}\n"
          f"  missed: {missed}\n  false alarms: {alarms}")
    assert recall >= 0.9
    assert false_alarms <= 0.1
    categories = [r.category for r in risky if r.flagged]
    assert categories.count("overdose") >= 0.8 * len(categories), categories


def test_the_development_messages_stay_as_tuned() -> None:
    """Regression only: these were looked at while the patterns and thresholds were chosen."""
    missed = [t for t, r in zip(DEVELOPMENT_RISKY, assess_batch(DEVELOPMENT_RISKY), strict=True) if not r.flagged]
    alarms = [t for t, r in zip(DEVELOPMENT_ORDINARY, assess_batch(DEVELOPMENT_ORDINARY), strict=True) if r.flagged]
    print(f"\noverdose development: missed {missed}, false alarms {alarms}")
    assert len(missed) <= 1 and len(alarms) <= 3


@pytest.mark.parametrize("text", REPORTED_RISKY)
def test_the_reported_overdose_messages_are_flagged_by_the_patterns_at_once(text: str) -> None:
    """The patterns run on the message path (and alone in ``patterns`` mode): these must not
    wait for, or depend on, the embedding model."""
    found = lexicon_match(text)
    assert found is not None and found[0] == "overdose", found
    assert assess_batch([text])[0].flagged


@pytest.mark.parametrize("text", REPORTED_ORDINARY)
def test_the_reported_ordinary_medication_talk_is_not_flagged(text: str) -> None:
    assert lexicon_match(text) is None
    result = assess_batch([text])[0]
    assert not result.flagged, result.reason


@pytest.mark.parametrize("text", [
    "took 40 paracetamol", "a handful of pills and a bottle of vodka", "vodka and 16 co-codamol",
    "I've been saving my sleeping tablets for weeks", "stashed away enough pills",
])
def test_quantity_with_drink_and_saved_up_tablets_match_the_patterns(text: str) -> None:
    found = lexicon_match(text)
    assert found is not None and found[0] == "overdose", text


@pytest.mark.parametrize("text", [
    "I take 2 paracetamol for my back", "took 2 ibuprofen for my headache", "I take all my tablets with food",
    "I take 12 tablets a day", "don't take these tablets with alcohol", "collecting my tablets from the pharmacy",
    "2 paracetamol and a cup of tea",
])
def test_ordinary_doses_and_advice_do_not_match_the_patterns(text: str) -> None:
    assert lexicon_match(text) is None, lexicon_match(text)


def test_a_participant_writing_pills_and_vodka_is_signposted_and_flagged(
    service: ConversationService, say: Say, database: Database,
) -> None:
    """On the message path, with the patterns alone (no model): signposting first, then the
    next question, and a flag naming an overdose."""
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})
    for text in ("WAIT", "yes", "1", "2"):
        say(text)
    result = say("20 paracetamol and vodka")
    rows = {row.id: row for row in service.outbox_for(result.participant_id or "")}
    assert [rows[i].kind for i in result.outbox_ids] == ["signposting", "prompt"]
    with database.transaction() as connection:
        flags = list(connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "safeguarding")).scalars())
    assert len(flags) == 1 and "overdose" in flags[0]
