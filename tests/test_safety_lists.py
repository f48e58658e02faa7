"""A reply that is a bare list of topics ("feet, eyes and diet") is not read as a crisis, and a
list that is one still is.

Before the ``lists`` rows joined the reference set (nlp/safety_reference.csv), 13 of the 25
ordinary lists below were flagged ("pain, sleep and mood" as a possible overdose, "feet, eyes
and diet" as a possible medical emergency) and every participant who wrote one was sent the
crisis signposting. None of the lists here is in the reference set: they measure how the check
does on lists it has never seen. That every risky example in tests/data is still flagged is
tests/test_safety_everyday.py's to check; recall on unseen messages, tests/test_safety.py's.
"""

from __future__ import annotations

from nlp import safety
from nlp.safety import assess_batch

ORDINARY_LISTS = [
    "feet, eyes and diet",
    "feet and eyes",
    "diet, cost",
    "my feet and my eyes",
    "eyes, kidneys and feet",
    "diet, exercise and sleep",
    "parking, waiting and staff",
    "cost, travel and time",
    "pain, sleep and mood",
    "heart, lungs and blood",
    "blood pressure, weight and diet",
    "legs, back and neck",
    "breathing, sleep and energy",
    "medication, diet and exercise",
    "phone, email and letter",
    "nurses, doctors and porters",
    "waiting times, parking, food",
    "food, noise and lighting",
    "feet eyes diet",
    "bleeding, bruising and swelling",
    "chest, arms and legs",
    "headaches, dizziness and tiredness",
    "falls, memory and loneliness",
    "stairs, bathing and dressing",
    "insulin, tablets and diet",
]
RISKY_LISTS = [
    "pills, whisky and a goodbye note",
    "rope, note, goodbye",
    "chest pain, sweating and a numb arm",
    "blood everywhere, dizzy, cold",
    "can't breathe, lips blue",
    "bruises, black eye, scared of him",
    "razor, cuts, bleeding",
    "sweating, dizzy and numb left arm",
    "overdose, vodka, sorry",
]


def test_the_lists_are_kept_apart_from_the_reference_set() -> None:
    reference = {row["text"].strip().lower() for row in safety.reference_rows() + safety.everyday_rows()}
    assert not reference & {text.lower() for text in ORDINARY_LISTS + RISKY_LISTS}
    assert sum(row["source"] == "lists" for row in safety.reference_rows()) >= 50


def test_at_most_two_ordinary_lists_raise_an_alarm() -> None:
    alarms = [(text, r.reason) for text, r in zip(ORDINARY_LISTS, assess_batch(ORDINARY_LISTS), strict=True) if r.flagged]
    print(f"\nlist false alarms: {len(alarms)} of {len(ORDINARY_LISTS)}: {alarms}")
    assert len(alarms) <= 2
    assert "feet, eyes and diet" not in dict(alarms) and "pain, sleep and mood" not in dict(alarms)


def test_every_risky_list_is_still_flagged() -> None:
    missed = [text for text, r in zip(RISKY_LISTS, assess_batch(RISKY_LISTS), strict=True) if not r.flagged]
    assert missed == []
