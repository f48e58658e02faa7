"""Numbers as people read them (flows/analysis/rounding.py): halves up, as written in decimal."""

from __future__ import annotations

import pytest

from flows.analysis.rounding import half_up, whole


@pytest.mark.parametrize(("value", "decimals", "expected"), [
    (62.5, 0, 63.0), (87.5, 0, 88.0), (12.5, 0, 13.0), (0.5, 0, 1.0), (62.4999, 0, 62.0),
    (0.125, 2, 0.13), (2.675, 2, 2.68), (-2.5, 0, -3.0), (40.0, 0, 40.0),
])
def test_halves_go_up_as_written_in_decimal(value: float, decimals: int, expected: float) -> None:
    assert half_up(value, decimals) == expected


def test_whole_is_the_whole_number_text() -> None:
    assert [whole(v) for v in (62.5, 12.5, 99.5, 0.49)] == ["63", "13", "100", "0"]
