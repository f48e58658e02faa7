"""A number answer's unit as the participant reads it back ('6 hours', '1 hour'; for a Welsh
participant '6 awr', '1 flwyddyn'): a number step's ``unit`` is written once, in English, and
the common units it names are said in Welsh too. A unit of the study's own ('nappies', 'hours a
week') stays as written, in every language."""

from __future__ import annotations

from flows.parsing_normalise import normalise
from flows.parsing_number_sentences import _UNITS

_WELSH = {
    "second": "eiliad", "minute": "munud", "hour": "awr", "day": "diwrnod", "night": "noson", "week": "wythnos",
    "month": "mis", "year": "blynedd", "time": "gwaith", "pound": "punt", "penny": "ceiniog", "dollar": "doler",
    "euro": "ewro", "percent": "y cant", "star": "seren", "point": "pwynt", "mark": "marc",
}
"""Welsh for each unit after a number, which takes the singular in Welsh ('6 awr', '3 diwrnod');
a year is 'blwyddyn' alone and 'blynedd' after any other number ('3 blynedd')."""


def singular(unit: str) -> str:
    """An English unit for one: '1 hour', not '1 hours' ('nappies' -> 'nappy', 'boxes' -> 'box')."""
    if unit.endswith("ies") and len(unit) > 4:
        return unit[:-3] + "y"
    if unit.endswith(("sses", "xes", "ches", "shes")):
        return unit[:-2]
    if unit.endswith("s") and not unit.endswith(("ss", "us", "is")) and len(unit) > 2:
        return unit[:-1]
    return unit


def unit_for(unit: str, number: float, language: str) -> str:
    """``unit`` as said after ``number`` in ``language``: 'hours' after 1 is 'hour'; in Welsh, a
    unit that is one known word is the Welsh word ('hours' -> 'awr', 'years' -> 'blynedd', and
    'blwyddyn' after 1); any other unit as English has it."""
    known = _UNITS.get(normalise(unit)) if language.startswith("cy") else None
    if known in _WELSH:
        return "blwyddyn" if known == "year" and number == 1 else _WELSH[known]
    return singular(unit) if number == 1 else unit
