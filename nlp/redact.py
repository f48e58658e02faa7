"""Mask personal identifiers in free text before it is stored for analysis
or shown to others.

Masks, in order of precedence when two overlap:

* ``[EMAIL]`` e-mail addresses, also spelt out ("jo at example dot com");
* ``[NHS_NUMBER]`` ten digits (``943 476 5919``, ``943-476-5919``,
  ``943.476.5919``, ``9434765919``) whose last digit passes the NHS modulus-11 check;
* ``[PHONE]`` UK numbers (``07700 900123``, ``(0161) 496 0000``,
  ``+44 (0)20 7946 0958``, ``0044 ...``, ``447700 900123`` without its plus,
  ``07700.900.123``, and digit by digit as people text them, ``0 7 7 0 0 9 0 0 1 2 3``)
  and international ones (``+`` and 8 to 15 digits). A ten-digit number that fails
  the NHS check is masked as a phone *only if it starts with 0* (every UK phone
  number does); any other ten-digit number with a bad check digit is left alone,
  because it is not an NHS number and cannot be a UK phone number (it may be an
  order or reference number). Digits typed one by one count only as an eleven-digit
  number starting 01, 02, 03 or 07, so ten ratings ("3 4 2 5 1 4 2 5 3 4") stay;
* ``[POSTCODE]`` UK postcodes, in upper or lower case;
* ``[DOB]`` a date (``12/03/1985``, ``3rd May 1950``, ``1985-03-12``, ...)
  within a few words after *born*, *DOB*, *d.o.b.*, *date of birth* or
  *birthday*; other dates (appointments) are kept;
* ``[NAME]`` the names the participant gave (passed in), whole words, any
  case ("Sarah's" becomes "[NAME]'s"); a full name is masked whole and each of its
  parts (three letters or more) on its own. And names found without being given
  (:mod:`nlp.redact_names`), offline and without a model:

  - a capitalised word that is a common given name (``given_names.txt``, English
    and Welsh: "Sarah was lovely"), with the capitalised surname after it ("Priya Shah");
  - a name after a cue: "my name is", "I'm"/"I am" (any capitalised word but an
    ordinary one, so "I'm Zorawar" is masked and "I'm English" stays; in lower case a
    given name, or any word after a greeting: "hi im zorawar"), a title ("Dr", "Mr",
    "Mrs", "Ms", "Miss", "Nurse", "Sister", "Prof": the surname, whatever it is, as in
    "Dr [NAME]"; in lower case too, "dr patel", "Mr smith", "nurse jackie", but not "the
    dr said" or "dr surgery": :mod:`nlp.redact_titles`), a relation ("my son Will",
    "our daughter, Ruby") or a sign-off ("signed Jo Bloggs");
  - in Welsh ("Fy enw i yw Elin", "Elin Wyn Jones ydw i", "Elin sy 'ma", "fy mab
    Osian", "Cofion, Elin": :mod:`nlp.redact_welsh`).

  Given names that are also ordinary words, months or places ("Will", "May",
  "Grace", "Hope", "Bill") are masked only after a cue, never on their own ("Will
  they ring?", "May I add", "Grace period" stay); so are lower-case names, as
  voice notes give them ("my name is sarah"). A name that is part of a place
  ("Elizabeth Ward", "St Thomas' Hospital", "King George Hospital", "Ysbyty Dewi
  Sant") is left.

Ordinary numbers ("4 hours", "bed 12", "ward 7", "£15", "3 times", "2024", "10:30",
scores "7 8 9", dates of appointments) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from nlp.redact_names import found_name_spans, given_name_spans
from nlp.redact_names import given_names as given_names

EMAIL = re.compile(r"\b[\w.+'-]+@[\w-]+(?:\.[\w-]+)+\b")
_AT, _DOT = r"(?:\s*(?:@|\(at\)|\[at\])\s*|\s+at\s+)", r"(?:\s*(?:\.|\(dot\)|\[dot\])\s*|\s+dot\s+)"
SPOKEN_EMAIL = re.compile(
    rf"(?<![\w.])[\w.+'-]{{1,64}}{_AT}[a-z][\w-]*(?:{_DOT}[\w-]+)*?{_DOT}(?:com|co|org|net|uk|gov|nhs|ac|me|info|io|wales|cymru)\b",
    re.IGNORECASE)
"""An address spelt out so it is not taken for a link ("jo at example dot com", "jo(at)example.org")."""
TEN_DIGITS = re.compile(r"(?<![\d+])(\d{3})[ .-]?(\d{3})[ .-]?(\d{4})(?!\d)")
UK_PHONE = re.compile(
    r"(?<![\w+])(?:(?:\+|00)44[\s-]?(?:\(0\)[\s-]?)?|\(?0)"
    r"\d{2,4}\)?(?:[\s-]?\d){6,8}(?!\d)"
)
INTERNATIONAL_PHONE = re.compile(r"(?<![\w+])\+\d{1,3}(?:[\s-]?\(?\d+\)?){2,6}(?!\d)")
DIGIT_RUN = re.compile(r"(?<![\w+£$€.,:/])\+?\(?\d+\)?(?:(?: {1,2}| ?[.-] ?)\(?\d+\)?)*(?![\w£$€%]|[.,:/]\d)")
"""Digits in groups of any size, split by spaces, dots or dashes ("0 7 7 0 0 9 0 0 1 2 3",
"447700 900123", "07700.900.123"): a phone number if :func:`_uk_phone_digits` says so."""
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
    for found in DIGIT_RUN.finditer(text):
        if _uk_phone_digits(found.group(0)):
            yield Span(found.start(), found.end(), "PHONE")


def _uk_phone_digits(run: str) -> bool:
    """Whether a run of digits, however spaced, is a UK phone number: 10 or 11 digits from 0,
    or after 44 or 0044 ("447700900222"). Typed one by one ("0 7 7 0 0 ...") it must be 11
    digits from 01, 02, 03 or 07, as few lists of scores or ratings are."""
    digits = re.sub(r"\D", "", run)
    groups = re.findall(r"\d+", run)
    for prefix in ("0044", "44"):
        if digits.startswith(prefix):
            digits = "0" + digits[len(prefix):]
            groups = groups[1:] if groups[0] == prefix else groups
            break
    if len(groups) >= 8:  # digit by digit
        return len(digits) == 11 and digits[:2] in ("01", "02", "03", "07")
    return len(digits) in (10, 11) and digits[0] == "0" and digits[1] in "123789"


def find_identifiers(text: str, names: Sequence[str] = ()) -> list[Span]:
    """Non-overlapping identifier spans, earlier kinds in PRECEDENCE winning."""
    candidates = [Span(m.start(), m.end(), "EMAIL") for pattern in (EMAIL, SPOKEN_EMAIL) for m in pattern.finditer(text)]
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
    candidates += [Span(start, end, "NAME") for start, end in given_name_spans(text, names)]
    candidates += [Span(start, end, "NAME") for start, end in found_name_spans(text)]
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
