"""Mask personal identifiers in free text before it is stored for analysis
or shown to others.

Masks, in order of precedence when two overlap:

* ``[EMAIL]`` e-mail addresses;
* ``[NHS_NUMBER]`` ten digits (``943 476 5919``, ``943-476-5919``,
  ``9434765919``) whose last digit passes the NHS modulus-11 check;
* ``[PHONE]`` UK numbers (``07700 900123``, ``(0161) 496 0000``,
  ``+44 (0)20 7946 0958``, ``0044 ...``) and international ones (``+`` and
  8 to 15 digits). A ten-digit number that fails the NHS check is masked as
  a phone *only if it starts with 0* (every UK phone number does); any other
  ten-digit number with a bad check digit is left alone, because it is not
  an NHS number and cannot be a UK phone number (it may be an order or
  reference number);
* ``[POSTCODE]`` UK postcodes, in upper or lower case;
* ``[DOB]`` a date (``12/03/1985``, ``3rd May 1950``, ``1985-03-12``, ...)
  within a few words after *born*, *DOB*, *d.o.b.*, *date of birth* or
  *birthday*; other dates (appointments) are kept;
* ``[NAME]`` the names the participant gave (passed in), whole words, any
  case ("Sarah's" becomes "[NAME]'s"); a full name is masked whole and each of its
  parts (three letters or more) on its own.

Ordinary numbers ("4 hours", "bed 12", "ward 7", "£15", times, dates of
appointments) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

EMAIL = re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b")
TEN_DIGITS = re.compile(r"(?<![\d+])(\d{3})[ -]?(\d{3})[ -]?(\d{4})(?!\d)")
UK_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[\s-]?(?:\(0\)[\s-]?)?|\(?0)"
    r"\d{2,4}\)?(?:[\s-]?\d){6,8}(?!\d)"
)
INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s-]?\(?\d+\)?){2,6}(?!\d)")
POSTCODE = re.compile(
    r"\b(?:GIR ?0AA|[A-PR-UWYZ][A-HK-Y]?\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2})\b", re.IGNORECASE
)
_MONTH = (
    r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
    r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)"
)
DATE = (
    r"(?:\d{1,2}[/.-]\d{1,2}[/.-]\d{2,4}"
    r"|\d{4}-\d{1,2}-\d{1,2}"
    rf"|\d{{1,2}}(?:st|nd|rd|th)?(?: of)? {_MONTH},? \d{{2,4}}"
    rf"|{_MONTH} \d{{1,2}}(?:st|nd|rd|th)?,? \d{{2,4}})"
)
DOB = re.compile(
    r"\b(?:born|dob|d\.o\.b|date of birth|birth ?date|birthday)\b\.?[^.!?\n\d]{0,30}?"
    rf"(?P<date>{DATE})",
    re.IGNORECASE,
)

PRECEDENCE = ("EMAIL", "NHS_NUMBER", "PHONE", "POSTCODE", "DOB", "NAME")
DESCRIPTIONS = {
    "EMAIL": "an e-mail address", "NHS_NUMBER": "an NHS number", "PHONE": "a phone number",
    "POSTCODE": "a postcode", "DOB": "a date of birth", "NAME": "a name",
}
"""Each mask's kind in words, for telling a person what a text held ("a phone number")."""


@dataclass(frozen=True)
class Span:
    start: int
    end: int
    kind: str


def nhs_number_is_valid(digits: str) -> bool:
    """The NHS modulus-11 check: weights 10..2 on the first nine digits;
    11 minus the remainder (11 means 0, 10 means invalid) is the tenth."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1), strict=True))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def _ten_digit_spans(text: str) -> Iterable[Span]:
    for found in TEN_DIGITS.finditer(text):
        digits = "".join(found.groups())
        if nhs_number_is_valid(digits):
            yield Span(found.start(), found.end(), "NHS_NUMBER")
        elif digits.startswith("0"):
            yield Span(found.start(), found.end(), "PHONE")


def _phone_spans(text: str) -> Iterable[Span]:
    for pattern in (UK_PHONE, INTERNATIONAL_PHONE):
        for found in pattern.finditer(text):
            digits = re.sub(r"\D", "", found.group(0))
            if 9 <= len(digits) <= 15:
                yield Span(found.start(), found.end(), "PHONE")


def _name_spans(text: str, names: Sequence[str]) -> Iterable[Span]:
    wanted: list[str] = []
    for name in names:
        name = name.strip()
        if name:
            wanted.append(name)
            wanted.extend(part for part in re.split(r"[\s-]+", name) if len(part) >= 3)
    for name in sorted(set(wanted), key=len, reverse=True):
        words = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", name))
        for found in re.finditer(rf"(?<![\w]){words}(?![\w])", text, re.IGNORECASE):
            yield Span(found.start(), found.end(), "NAME")


def find_identifiers(text: str, names: Sequence[str] = ()) -> list[Span]:
    """Non-overlapping identifier spans, earlier kinds in PRECEDENCE winning."""
    candidates = [Span(m.start(), m.end(), "EMAIL") for m in EMAIL.finditer(text)]
    phones = list(_phone_spans(text))
    # ten digits inside a longer phone number ("+44 (0)113 496 0123") are the phone's
    candidates += [
        s for s in _ten_digit_spans(text)
        if not any(p.start <= s.start and s.end <= p.end and p.end - p.start > s.end - s.start
                   for p in phones)
    ]
    candidates += phones
    candidates += [Span(m.start(), m.end(), "POSTCODE") for m in POSTCODE.finditer(text)]
    candidates += [Span(m.start("date"), m.end("date"), "DOB") for m in DOB.finditer(text)]
    candidates += list(_name_spans(text, names))
    chosen: list[Span] = []
    for span in sorted(candidates, key=lambda s: (PRECEDENCE.index(s.kind), s.start - s.end)):
        if all(span.end <= c.start or span.start >= c.end for c in chosen):
            chosen.append(span)
    return sorted(chosen, key=lambda s: s.start)


def redact(text: str, names: Sequence[str] = ()) -> str:
    """``text`` with each identifier replaced by its mask, e.g. ``[PHONE]``."""
    out = []
    last = 0
    for span in find_identifiers(text, names):
        out.append(text[last : span.start])
        out.append(f"[{span.kind}]")
        last = span.end
    out.append(text[last:])
    return "".join(out)


def describe_identifiers(text: str, names: Sequence[str] = ()) -> list[str]:
    """The kinds of identifier ``text`` holds, in words and in the order first found, each
    once: ``["a phone number", "an e-mail address"]``; empty when it holds none."""
    kinds = dict.fromkeys(span.kind for span in find_identifiers(text, names))
    return [DESCRIPTIONS[kind] for kind in kinds]
