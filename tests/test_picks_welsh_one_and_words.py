"""Several picks in one reply: Welsh 'un' (one) after an ordinal is not option 1, and a word
whose letters repeat is not a run of letter picks."""

from __future__ import annotations

import pytest

from flows.parsing import match_options

OPTIONS = [["Waits"], ["Updates"], ["Pain relief"], ["Seats"], ["Food"]]


@pytest.mark.parametrize(("said", "picks"), [
    ("yr ail un a'r olaf", [1, 4]),  # the second one and the last
    ("yr ail un", [1]),
    ("y cyntaf un, yr ail un", [0, 1]),
    ("the second one and the first", [1, 0]),
    ("un", [0]),  # alone it is the number one
    ("1 un", [0]),  # after a number, not an ordinal, it is a number too (repeat dropped)
])
def test_welsh_one_after_an_ordinal_names_no_option(said: str, picks: list[int]) -> None:
    assert match_options(said, OPTIONS) == picks


@pytest.mark.parametrize("said", ["dead", "eee", "abba"])
def test_a_word_whose_letters_repeat_is_not_read_as_letter_picks(said: str) -> None:
    assert match_options(said, OPTIONS) is None


@pytest.mark.parametrize(("said", "picks"), [("BAC", [1, 0, 2]), ("b a c", [1, 0, 2]), ("CE", [2, 4]), ("bd", [1, 3])])
def test_letters_typed_together_are_still_picks(said: str, picks: list[int]) -> None:
    assert match_options(said, OPTIONS) == picks
