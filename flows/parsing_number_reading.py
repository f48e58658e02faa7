"""What a number reply was read as (flows/parsing.py): the number, how far it can be taken as the
answer, and how it is said back ('about 4 times')."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Doubt = Literal["clear", "confirm", "other_unit", "how_often"]


@dataclass(frozen=True)
class NumberReading:
    """The one number a reply gives, and how far it can be taken as the answer."""

    value: float
    doubt: Doubt = "clear"
    """``clear``: the reply is the number (with politeness, hedges or the question's own unit);
    ``confirm``: it says more than the number ('my son is 4 and has asthma'), so the number is
    a guess to check with the participant; ``other_unit``: the number goes with a unit that is
    not the question's ('6 hours' to 'how many times?'), so it answers something else;
    ``how_often``: it says how often ('once a week') where the question asks how many in all
    over a time it does not make clear, so no count can honestly be made of it."""
    said: str = ""
    """For ``other_unit`` and ``how_often``, what was said ('6 hours', '£20', 'once a week')."""
    about: bool = False
    """The value was rounded from what was said ('90 minutes' in hours: about 2; 'once a week'
    last month: about 4), and is said back so: 'Just to check: about 2 hours?'."""
    unit: str = ""
    """A unit to say after the number where the question has none: 'times' for a count of how
    often something happened ('about 4 times')."""
