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
  parts (three letters or more) on its own. And names found without being given
  (:func:`_found_name_spans`), offline and without a model:

  - a capitalised word that is a common given name (``given_names.txt``: "Sarah
    was lovely"), with the capitalised surname after it ("Priya Shah");
  - a name after a cue: "my name is", "I'm"/"I am" (any capitalised word but an
    ordinary one, ``ORDINARY_AFTER_I_AM``, so "I'm Zorawar" is masked and "I'm English"
    stays; in lower case a given name, or any word after a greeting: "hi im zorawar"), a title ("Dr", "Mr", "Mrs", "Ms", "Miss", "Nurse",
    "Sister", "Prof": the surname, whatever it is, as in "Dr [NAME]"), a relation
    ("my son Will", "our daughter, Ruby") or a sign-off ("signed Jo Bloggs").

  Given names that are also ordinary words, months or places ("Will", "May",
  "Grace", "Hope", "Bill") are masked only after a cue, never on their own ("Will
  they ring?", "May I add", "Grace period" stay); so are lower-case names, as
  voice notes give them ("my name is sarah"). A name that is part of a place
  ("Elizabeth Ward", "St Thomas' Hospital", "King George Hospital") is left.

Ordinary numbers ("4 hours", "bed 12", "ward 7", "£15", times, dates of
appointments) are left alone.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

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


GIVEN_NAMES = Path(__file__).with_name("given_names.txt")
_ALSO_WORDS = "[also everyday words]"


@dataclass(frozen=True)
class GivenNames:
    plain: frozenset[str]
    """Masked wherever they stand capitalised ("Sarah was lovely")."""
    also_words: frozenset[str]
    """Also everyday words, months or places ("will", "may", "grace"): masked only after a cue."""


@cache
def given_names() -> GivenNames:
    """The common given names of ``given_names.txt``, lower case."""
    plain: set[str] = set()
    also: set[str] = set()
    into = plain
    for line in GIVEN_NAMES.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line == _ALSO_WORDS:
            into = also
        elif line and not line.startswith("#"):
            into.add(line.lower())
    return GivenNames(frozenset(plain - also), frozenset(also))


def _words(listed: str) -> frozenset[str]:
    return frozenset(listed.split())


_WORD = re.compile(r"[^\W\d_]+(?:['\u2019-][^\W\d_]+)*")
_INITIAL = re.compile(r"[A-Z]\.?(?=\s+[A-Z])")
NOT_NAMES = _words("""
i i'm i've i'd i'll a an and are as at but by for from had has have he her his if in is it it's its me my no
not of on or our she so that the their them then there they this to was we were when who why with yes you your
please thanks thank sorry hi hello dear ok okay said says told asked rang called came gave just also only very
today yesterday tomorrow tonight morning afternoon evening night week weekend
monday tuesday wednesday thursday friday saturday sunday january february march july september october november december
dr doctor mr mrs ms miss mx nurse sister matron prof professor consultant registrar surgeon specialist practitioner
manager receptionist midwife paramedic physio pharmacist carer staff team patient patients mum dad
ward wing unit centre center clinic hospital surgery practice department office service services station house
road street lane avenue court park school appointment appointments nhs gp who
""")
"""Capitalised words that follow a cue but are no name ("Dr Who", "my son I think", "Sister Ward")."""
PLACE_AFTER = _words("""
ward wing unit centre center clinic hospital hospice surgery practice house building suite block road street lane
avenue court drive close way park school college station hall theatre
""")
"""A given name followed by one of these is a place ("Elizabeth Ward", "Victoria Hospital")."""
PLACE_BEFORE = frozenset({"st", "st.", "saint", "king", "queen", "prince", "princess"})
"""... and so is one after these ("St George's", "Queen Elizabeth Hospital")."""

_CUE = r"(?<![\w'])"
_STRONG_CUES = re.compile(
    _CUE + r"(?:(?:my|his|her|their|whose) name(?: is| was|'s)|name's|i am called|i'm called|they call me"
    r"|signed|kind regards|regards|best wishes|love from|many thanks)[,:]?\s+$", re.IGNORECASE)
"""Followed by a name, in any case ("my name is sarah")."""
_INTRODUCTIONS = re.compile(_CUE + r"(?:i'm|i\u2019m|im|i am)\s+$", re.IGNORECASE)
"""Followed by a given name ("I'm Sarah"), but also by "tired" or "English": given names only."""
_TITLES = re.compile(_CUE + r"(?:(?i:dr|doctor|mr|mrs|ms|mx|prof|professor)\.?|Miss|Nurse|Sister|Matron)\s+$")
_RELATIONS = re.compile(
    _CUE + r"(?:my|our|his|her|their)\s+(?:(?:little|baby|eldest|youngest|older|younger|twin|step|best)\s+)?"
    r"(?:son|daughter|husband|wife|partner|mum|mother|dad|father|brother|sister|nan|nana|gran|granny|grandma|grandad|"
    r"grandpa|grandson|granddaughter|grandchild|child|boy|girl|baby|friend|carer|boyfriend|girlfriend|fiance|fiancee|fiancé|"
    r"fiancée|uncle|aunt|auntie|niece|nephew|cousin|neighbour|stepson|stepdaughter|stepdad|stepmum|twin|mate)s?,?\s+$",
    re.IGNORECASE)
_CUES = (_STRONG_CUES, _INTRODUCTIONS, _TITLES, _RELATIONS)
_LOOK_BACK = 60
_CUE_ENDS = frozenset({"im", "i'm", "i\u2019m", "am", "is", "was", "name's", "called", "me"})
"""The last words of the cues a lower-case name can follow ("im zorawar", "my name is zorawar")."""
_NAMING = re.compile(r"(?:name(?: is| was|'s)|called|call me)[,:]?\s+$", re.IGNORECASE)
"""The strong cues that can only be followed by a name, so a lower-case word after them is one
("my name is zorawar"); not sign-offs ("as regards parking")."""
_GREETED = re.compile(r"^\W*(?:hi|hello|hiya|hey|heya|good (?:morning|afternoon|evening))\b[\s,.!-]*(?:there\b[\s,.!-]*)?"
                      r"(?:i'm|i\u2019m|im|i am)\s+$", re.IGNORECASE)
"""A text opening with a greeting and "I'm": a lower-case word after it is a name too ("hi im zorawar")."""
ORDINARY_AFTER_I_AM = _words("""
fine good great well ok alright better worse bad unwell ill sick poorly tired knackered shattered fed upset sad
happy glad pleased grateful thankful angry cross mad livid gutted proud sorry sure unsure certain aware afraid
scared worried anxious nervous lonely alone bored confused lost stuck desperate hopeless helpless done finished
awake asleep alive dead hungry thirsty cold hot warm sore weak dizzy faint numb stable safe free busy late early
ready fit healthy overweight young old older elderly new back home here there out off away around up down over
under into still always never now just only really quite pretty rather too already like lucky unlucky due both
actually honestly literally basically totally absolutely definitely probably seriously usually currently finally
nearly almost also even much far kind sort type someone somebody nobody noone anyone everyone one two three four
five six seven eight nine ten eleven twelve twenty thirty forty fifty sixty seventy eighty ninety hundred
diabetic pregnant disabled deaf blind autistic epileptic asthmatic dyslexic anaemic arthritic allergic
housebound bedbound vegan vegetarian sober registered partially hard retired unemployed employed married
single divorced widowed separated engaged homeless vulnerable shielding male female trans gay lesbian bisexual
straight black white asian mixed british english welsh scottish irish cornish polish indian pakistani
bangladeshi chinese african caribbean jamaican nigerian ghanaian somali eritrean sudanese romanian bulgarian
italian spanish portuguese french german dutch turkish kurdish arab arabic iranian afghan syrian lithuanian
latvian ukrainian russian european american muslim christian jewish sikh hindu buddhist catholic protestant
atheist carer student teacher parent mother father grandmother grandfather grandma grandad grandparent wife
husband partner son daughter volunteer worker cleaner driver member resident tenant neighbour friend guardian
spelt spelled wrong missing listed written printed correct right
""")
"""Words that follow "I'm" or "I am" and are no name, capitalised or not ("I'm Tired", "I am
Diabetic", "I'm Welsh"), beside ``NOT_NAMES``."""
_ORDINARY_ENDINGS = ("ing", "ful", "ous", "less", "able", "ible", "ness", "ated", "ised", "ized", "ied", "ssed",
                     "ened", "ered")
"""Endings of adjectives and participles ("I'm Struggling", "I'm Frustrated"); a name of six
letters or more ending so (Aisling, Precious) is masked only if it is in ``given_names.txt``."""


def _ordinary(lower: str) -> bool:
    """Whether a word after "I'm" reads as an ordinary word rather than a name."""
    return lower in ORDINARY_AFTER_I_AM or (len(lower) >= 6 and lower.endswith(_ORDINARY_ENDINGS))


def _title_case(text: str) -> bool:
    """Whether ``text`` is typed With Every Word Capitalised: then a capitalised word says nothing."""
    long = [w for w in _WORD.findall(text) if len(w) >= 4]
    return len(long) >= 4 and sum(_capitalised(w) for w in long) >= 0.6 * len(long)


def _capitalised(word: str) -> bool:
    return word[0].isupper() and any(c.islower() for c in word)


def _bare_word(found: re.Match[str]) -> tuple[int, int, str]:
    """A word's span and text without a possessive 's ("Sarah's" -> "Sarah")."""
    word = found.group(0)
    if len(word) > 2 and word[-2] in "'\u2019" and word[-1] == "s":
        word = word[:-2]
    return found.start(), found.start() + len(word), word


def _cue_before(text: str, start: int) -> re.Pattern[str] | None:
    before = text[max(0, start - _LOOK_BACK):start]
    return next((cue for cue in _CUES if cue.search(before)), None)


def _is_name(word: str, cue: re.Pattern[str] | None, names: GivenNames, before: str = "", title_case: bool = False) -> bool:
    """Whether ``word``, standing after ``cue`` (or none) and the words ``before`` it, reads as
    a person's name. After "I'm" or "I am" a capitalised word is one unless it is an ordinary
    word ("I'm Zorawar", not "I'm Tired"); a lower-case one only if it is a given name, or the
    text opened with a greeting ("hi im zorawar"): "im tired" is the usual thing to type."""
    lower = word.lower()
    if lower in NOT_NAMES:
        return False
    if cue is _STRONG_CUES:
        return (_capitalised(word) or lower in names.plain or lower in names.also_words
                or (_NAMING.search(before) is not None and not _ordinary(lower)))
    if cue is _INTRODUCTIONS:
        if _capitalised(word) and (lower in names.plain or lower in names.also_words):
            return True  # a given name ("I'm Sarah", "I'm Grace")
        if _ordinary(lower):
            return False  # "I'm Tired", "I am Diabetic", "im fine"
        return (_capitalised(word) and not title_case) or lower in names.plain or _GREETED.search(before) is not None
    if not _capitalised(word):
        return cue is _RELATIONS and lower in names.plain
    if cue is _TITLES or cue is _RELATIONS:
        return True  # a surname or a name, whatever it is ("Dr Okafor", "my son Will")
    return lower in names.plain or ("-" in word and any(part in names.plain for part in lower.split("-")))


def _surname_end(text: str, words: list[tuple[int, int, str]], n: int) -> tuple[int, int]:
    """The end of a name starting at word ``n``: capitalised words after it (two at most) that
    are not common words (``NOT_NAMES``) are its surname ("Priya Shah", "Kate O'Neill").
    Returns (end offset, index of its last word)."""
    end, last = words[n][1], n
    for m in range(n + 1, min(n + 3, len(words))):
        start, stop, word = words[m]
        if text[end:start].strip() or not _capitalised(word) or word.lower() in NOT_NAMES | PLACE_AFTER:
            break
        end, last = stop, m
    return end, last


def _found_name_spans(text: str) -> Iterable[Span]:
    """Names found in ``text`` without being given: given names, and names after cues."""
    names = given_names()
    words = [_bare_word(found) for found in _WORD.finditer(text)]
    title_case = _title_case(text)
    n = 0
    while n < len(words):
        start, _, word = words[n]
        lower = word.lower()
        initial = len(word) == 1 and word.isupper()
        after_cue = n > 0 and words[n - 1][2].lower() in _CUE_ENDS
        if lower in NOT_NAMES or not (_capitalised(word) or initial or after_cue or lower in names.plain or lower in names.also_words):
            n += 1
            continue  # (most words: no need to look for a cue)
        cue = _cue_before(text, start)
        if initial and cue in (_TITLES, _STRONG_CUES) and _INITIAL.match(text, start) and n + 1 < len(words):
            n += 1  # "Dr J Smith": the initial goes with the surname
            word = words[n][2]
        previous = words[n - 1][2].lower() if n else ""
        following = words[n + 1][2].lower() if n + 1 < len(words) else ""
        is_place = (previous in PLACE_BEFORE or following in PLACE_AFTER) and cue is None
        if not is_place and _is_name(word, cue, names, text[max(0, start - _LOOK_BACK):start], title_case):
            end, n = _surname_end(text, words, n)
            yield Span(start, end, "NAME")
        n += 1


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
    candidates += list(_found_name_spans(text))
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
