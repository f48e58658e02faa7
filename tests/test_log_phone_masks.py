"""A phone number in a log line is masked once, and the words around it are kept: two patterns
that read the same number (one taking a bracket after it) gave "[PHONE][PHONE]" and ate the
bracket that closed the sentence ("(asked for +447700900123)")."""

from __future__ import annotations

import pytest

from bot.log_safety import scrub


@pytest.mark.parametrize(("line", "masked"), [
    ("(asked for +447700900123)", "(asked for [PHONE])"),
    ("(+44 (0)20 7946 0958)", "([PHONE])"),
    ("(07700 900123)", "([PHONE])"),
    ("call (020) 7946 0958 now", "call [PHONE] now"),
    ("ring 020 7946 0958 or +1 (555) 123-4567.", "ring [PHONE] or [PHONE]."),
    ("call +44 7700 900123.", "call [PHONE]."),
])
def test_a_number_is_one_mask_and_the_brackets_around_it_stay(line: str, masked: str) -> None:
    assert scrub(line) == masked


def test_ids_and_decimals_that_look_like_numbers_are_left_alone() -> None:
    line = "message 3f2a9c1e-0b7d-4e21-9a55-07700900123a took 07700900.5 ms"
    assert scrub(line) == line
