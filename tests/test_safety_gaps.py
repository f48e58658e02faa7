"""Risk told inside a complaint about access, which the phrase patterns missed (found while
fixing false alarms on requests for quicker care): "going to end it", "stopped breathing"."""

from __future__ import annotations

import pytest

from nlp.safety_patterns import lexicon_match


@pytest.mark.parametrize(("text", "category"), [
    ("the surgery never answers, Im going to end it if nothing changes", "suicide"),
    ("honestly I'm ready to end it", "suicide"),
    ("gonna end it tonight", "suicide"),
    ("quicker ambulance response, my wife stopped breathing while we waited", "medical"),
    ("my baby isnt breathing", "medical"),
    ("he's not breathing please help", "medical"),
])
def test_risk_inside_a_complaint_is_caught(text: str, category: str) -> None:
    found = lexicon_match(text)
    assert found is not None and found[0] == category, found


@pytest.mark.parametrize("text", [
    "I want to end it with this practice and move to another one", "the call ended it was fine",
    "we breathed a sigh of relief when the doctor came", "breathing exercises helped", "end it early on Fridays",
])
def test_ordinary_words_near_them_are_not(text: str) -> None:
    assert lexicon_match(text) is None
