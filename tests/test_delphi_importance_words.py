"""'very important', 'pwysig iawn', 'not important at all' typed at a Delphi item: they got only the
generic "Please reply with a number from 1 to 9". Now they are told the band whose label says as
much ('"not important" is 1 to 3. Which number?'), or, where no label does, the numbers at that end
of the scale ('The most important are 7 to 9 ("critical")'); no try is used. Hedged words ('not
very important', 'quite important') are no end of the scale and still get the hint."""

from __future__ import annotations

import pytest

from flows.parsing import importance_said
from tests.engine_chat import delphi_replies


@pytest.mark.parametrize(("text", "level"), [
    ("very important", "most"), ("Really important!", "most"), ("extremely important please", "most"),
    ("definitely very important", "most"), ("pwysig iawn", "most"), ("yn bwysig iawn", "most"), ("hynod bwysig", "most"),
    ("not important at all", "least"), ("Not at all important", "least"), ("unimportant", "least"),
    ("ddim yn bwysig o gwbl", "least"), ("dibwys", "least"), ("not important", "least"),
    ("not very important", None), ("quite important", None), ("important", None), ("critical", None),
    ("very important because we wait too long", None), ("it is very important to see the same nurse", None),
])
def test_the_ends_of_an_importance_scale_in_words(text: str, level: str | None) -> None:
    assert importance_said(text) == level


def test_not_important_at_all_is_the_band_labelled_not_important_using_no_try() -> None:
    said, scores = delphi_replies(["not important at all", "not important at all", "not important at all", "2"])
    assert said[0] == '"not important" is 1 to 3. Which number?', said
    assert scores == [2], "three such replies used no try: the item was still asked"
    said, _ = delphi_replies(["not very important"])
    assert "number from 1 to 9" in said[0], "hedged words are no end of the scale: the hint, as before"


def test_very_important_names_the_top_of_the_scale_where_no_label_says_it() -> None:
    said, scores = delphi_replies(["very important", "8"])
    assert said[0] == 'The most important are 7 to 9 ("critical"). Which number?', said
    assert scores == [8]
    said, _ = delphi_replies(["not important at all"], scale={"min": 0, "max": 10, "low_label": "no priority", "high_label": "top priority"})
    assert said == ['The least important are 0 to 3 ("no priority"). Which number?']


def test_a_scale_labelled_with_importance_maps_the_words_to_its_band() -> None:
    scale: dict[str, object] = {"min": 1, "max": 5, "low_label": "not important", "middle_label": "somewhat important",
                                "high_label": "very important"}
    said, _ = delphi_replies(["really important"], scale=scale)
    assert said == ['"very important" is 4 to 5. Which number?']
    said, _ = delphi_replies(["unimportant"], scale=scale)
    assert said == ['"not important" is 1 to 2. Which number?']


def test_welsh_words_are_answered_in_welsh() -> None:
    said, scores = delphi_replies(["pwysig iawn", "ddim yn bwysig o gwbl", "3"], language="cy")
    assert said[0] == 'Y pwysicaf yw 7 i 9 ("hanfodol"). Pa rif?', said
    assert said[1] == 'Mae "ddim yn bwysig" yn 1 i 3. Pa rif?', said
    assert scores == [3]

