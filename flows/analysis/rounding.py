"""Numbers as people read them: halves rounded up (62.5% is 63%), the way the desk, reports,
charts and a Delphi round's feedback all show them. Python's formats round halves to even
(``f"{62.5:.0f}"`` is "62", beside 87.5 as "88"), which reads as a mistake."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal


def half_up(value: float, decimals: int = 0) -> float:
    """``value`` rounded half up (away from zero) to ``decimals`` places, as written in decimal:
    0.125 to two places is 0.13 (not the 0.12 of its binary value)."""
    return float(Decimal(str(value)).quantize(Decimal(1).scaleb(-decimals), rounding=ROUND_HALF_UP))


def whole(value: float) -> str:
    """``value`` as a whole number rounded half up: '63' for 62.5."""
    return f"{half_up(value):.0f}"
