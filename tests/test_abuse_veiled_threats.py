"""Veiled threats in a participant's own statement or idea ("someone should teach that
receptionist a lesson", "I know where the manager lives", "I know what car she drives", "she'll
get what's coming to her") are marked as a threat for the moderator, in English and Welsh; strong
criticism ("someone should teach the receptionists some manners", "the manager needs to learn a
lesson from this", "they'll regret closing the clinic") is not. Measured on every ordinary text in
tests/data (no veiled-threat pattern finds any), and the labelled corpora still score as before."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from nlp.abuse import abuse_note, abusive_wording, abusive_wording_unfiltered
from nlp.abuse_veiled import VEILED
from nlp.safety_text import normalise

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "tests" / "data"

VEILED_THREATS = [
    "someone should teach that receptionist a lesson", "I know where the manager lives", "someone needs to teach her a lesson",
    "I will teach him a lesson", "she will get what's coming to her", "she'll get what's coming", "I know what car she drives",
    "I know where her kids go to school", "I'll be waiting for him after his shift", "it would be a shame if something happened to her",
    "I'll make sure he regrets it", "you'll regret this", "I'll pay the manager a visit", "that receptionist had better watch herself",
    "Tell that nurse I'll be waiting for her in the car park", "he'll get his one day", "I know what time the receptionist finishes",
    "dylai rhywun ddysgu gwers i'r derbynnydd 'na", "bydd hi'n cael beth sy'n dod iddi", "dw i'n gwybod pa gar mae hi'n ei yrru",
    "byddi di'n difaru", "Fe wna i ddysgu gwers iddo fe",
]
CRITICISM = [
    "someone should teach the receptionists some manners", "the manager needs to learn a lesson from this",
    "they'll regret closing the clinic", "I'll be waiting for her call", "I know where the clinic is", "I know where the car park is",
    "the manager should be sacked", "staff need to be taught how to speak to patients", "I hope the trust learns a lesson",
    "someone should teach the staff a lesson in customer service", "the trust will get what's coming at the inspection",
    "you'll regret not booking early, the slots go fast", "I'll be waiting for them to call back",
    "it would be a shame if something happened to the service", "watch out for the step at the entrance",
    "I'd teach them a thing or two about empathy if I ran the place", "I'll pay the pharmacy a visit tomorrow",
    "she'll get her results next week", "he will get his prescription on Monday",
    "bydd hi'n difaru peidio dod yn gynt am ei hiechyd", "dylai'r rheolwr ddysgu gwers o hyn",
]


@pytest.mark.parametrize("text", VEILED_THREATS)
def test_a_veiled_threat_is_marked_as_a_threat(text: str) -> None:
    found = abusive_wording(text)
    assert [f.kind for f in found] == ["threat"], text
    assert abuse_note(found).startswith('may be abusive: a threat ("')
    assert found == abusive_wording_unfiltered(text), "the prefilter leaves it to be found"


@pytest.mark.parametrize("text", CRITICISM)
def test_strong_criticism_is_not_marked(text: str) -> None:
    assert abusive_wording(text) == [], text


def test_no_ordinary_text_in_tests_data_holds_a_veiled_threat() -> None:
    texts = []
    for path in [*sorted(DATA.glob("*.csv")), ROOT / "nlp" / "safety_reference.csv"]:
        with path.open(newline="", encoding="utf-8") as fh:
            texts += [row["text"] for row in csv.DictReader(fh) if row.get("abusive", "0") == "0"]
    for path in sorted(DATA.glob("*/*.yaml")):
        texts += path.read_text(encoding="utf-8").splitlines()
    assert len(texts) > 2000
    assert [text for text in texts if any(pattern.search(normalise(text)) for pattern in VEILED)] == []
