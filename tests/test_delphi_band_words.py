"""A Delphi score given as the words the prompt shows for a band ("7-9 critical"; Welsh
"7-9 hanfodol"): found by a tester whose simulated stroke survivors replied "critical". It was
told only "Please reply with a number from 1 to 9" and, said three times, the item was left
unscored. Now it is asked which number in that band, using no try."""

from __future__ import annotations

from tests.engine_chat import delphi_replies


def test_a_band_s_label_asks_which_number_in_it_using_no_try() -> None:
    said, scores = delphi_replies(["critical", "Critical please", "critical", "not important", "8"])
    assert said[0] == '"critical" is 7 to 9. Which number?', said
    assert said[3] == '"not important" is 1 to 3. Which number?', said
    assert scores == [8], "four band replies used no try: the item was still asked, and 8 is its score"


def test_the_middle_band_and_the_flow_s_own_labels() -> None:
    said, _ = delphi_replies(["important but not critical"])
    assert said == ['"important but not critical" is 4 to 6. Which number?']
    said, _ = delphi_replies(["essential"], scale={"min": 0, "max": 10, "high_label": "essential"})
    assert said == ['"essential" is 7 to 10. Which number?']


def test_welsh_band_words_are_answered_in_welsh() -> None:
    said, scores = delphi_replies(["hanfodol", "9"], language="cy")
    assert said[0] == 'Mae "hanfodol" yn 7 i 9. Pa rif?', said
    assert scores == [9]


def test_other_words_still_get_the_hint() -> None:
    said, _ = delphi_replies(["very critical indeed"])
    assert "number from 1 to 9" in said[0], said
