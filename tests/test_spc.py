"""XmR charts and the Making Data Count special-cause rules on series worked by hand."""

from __future__ import annotations

import pytest

from flows.analysis.spc import xmr


def test_limits_are_the_mean_plus_or_minus_2_66_mean_moving_ranges() -> None:
    chart = xmr([10, 12, 11, 13, 12])
    # moving ranges 2, 1, 2, 1 -> mean 1.5; mean 11.6
    assert chart.mean == pytest.approx(11.6)
    assert chart.mean_moving_range == pytest.approx(1.5)
    assert chart.upper == pytest.approx(11.6 + 2.66 * 1.5)
    assert chart.lower == pytest.approx(11.6 - 2.66 * 1.5)
    assert chart.sigma == pytest.approx(1.5 / 1.128)
    assert chart.moving_ranges == (None, 2.0, 1.0, 2.0, 1.0)
    assert chart.special() == []


def test_a_point_beyond_a_limit_is_special_cause() -> None:
    values = [10, 11, 10, 11, 10, 11, 10, 30]
    baseline = xmr(values, baseline=7)  # limits from the stable weeks: 10.43 ± 2.66
    assert baseline.signals["outside"] == (7,)
    assert baseline.direction[7] == "high"
    assert xmr([10, 11, 10, 11, 10, 11, 10, -10], baseline=7).direction[7] == "low"


def test_seven_points_on_one_side_of_the_mean_is_a_shift_and_six_is_not() -> None:
    seven = [5, 5, 5, 5, 5, 5, 5, 1, 1, 1, 1, 1, 1, 9]
    chart = xmr(seven)
    assert set(range(0, 7)) <= set(chart.signals["shift"])
    six_high = [6, 6, 6, 6, 6, 6, 1, 3, 6, 1, 3, 6]
    assert xmr(six_high).signals["shift"] == ()


def test_a_point_on_the_mean_ends_a_run() -> None:
    # mean exactly 5: the 5 splits seven points above into runs of four and three; seven below follow
    chart = xmr([6, 6, 6, 6, 5, 6, 6, 6, 4, 4, 4, 4, 4, 4, 4])
    assert chart.mean == 5
    assert chart.signals["shift"] == tuple(range(8, 15))


def test_six_rising_points_is_a_trend_and_an_equal_value_breaks_it() -> None:
    rising = [1, 2, 3, 4, 5, 6, 3]
    assert xmr(rising).signals["trend"] == (0, 1, 2, 3, 4, 5)
    assert xmr([1, 2, 3, 3, 4, 5, 6]).signals["trend"] == ()
    falling = [9, 8, 7, 6, 5, 4, 6]
    assert xmr(falling).signals["trend"] == (0, 1, 2, 3, 4, 5)
    assert xmr([1, 2, 3, 4, 5, 4]).signals["trend"] == ()


def test_two_of_three_points_beyond_two_sigma_on_one_side() -> None:
    base = [10, 12, 10, 12, 10, 12, 10, 12, 10, 12]  # mean 11, mR 2, sigma 1.77, 2 sigma 3.55, limit 16.32
    chart = xmr([*base, 15, 11, 15], baseline=10)
    assert chart.signals["two_of_three"] == (10, 12)
    assert chart.signals["outside"] == ()
    split = xmr([*base, 15, 11, 7], baseline=10)  # one high, one low: not the same side
    assert split.signals["two_of_three"] == ()


def test_it_refuses_an_empty_or_missing_series() -> None:
    with pytest.raises(ValueError):
        xmr([])
    with pytest.raises(ValueError):
        xmr([1.0, float("nan")])
