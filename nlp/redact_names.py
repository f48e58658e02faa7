"""Finding people's names in free text, offline and without a model, for :mod:`nlp.redact`
(whose docstring says what is masked and what is left). Kept apart from the numbers because
names take word lists and cues, in English and Welsh (:mod:`nlp.redact_welsh`), and the
numbers take none.

Spans are (start, end) offsets; :mod:`nlp.redact` makes them ``[NAME]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from nlp import redact_welsh as cy
from nlp.redact_titles import TITLE_WORDS, TITLES, after_title_is_name, ordinary_after_title

Offsets = tuple[int, int]


def given_name_spans(text: str, names: Sequence[str]) -> Iterable[Offsets]:
    """The names the participant gave, whole words in any case, and each part of three letters or more."""
    wanted: list[str] = []
    for name in names:
        name = name.strip()
        if name:
            wanted.append(name)
            wanted.extend(part for part in re.split(r"[\s-]+", name) if len(part) >= 3)
    for name in sorted(set(wanted), key=len, reverse=True):
        words = r"[\s-]+".join(re.escape(w) for w in re.split(r"[\s-]+", name))
        for found in re.finditer(rf"(?<![\w]){words}(?![\w])", text, re.IGNORECASE):
            yield found.start(), found.end()


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
""") | cy.PLACE_AFTER
"""A given name followed by one of these is a place ("Elizabeth Ward", "Victoria Hospital", "Dewi Sant")."""
PLACE_BEFORE = frozenset({"st", "st.", "saint", "king", "queen", "prince", "princess"}) | cy.PLACE_BEFORE
"""... and so is one after these ("St George's", "Queen Elizabeth Hospital", "Ysbyty Gwynedd")."""
_PATRONYMICS = frozenset({"ap", "ab"})
"""Lower-case links inside a Welsh name ("Dafydd ap Gwilym")."""

_CUE = r"(?<![\w'])"
_STRONG_CUES = re.compile(
    _CUE + r"(?:(?:my|his|her|their|whose) name(?: is| was|'s)|name's|i am called|i'm called|they call me"
    rf"|signed|kind regards|regards|best wishes|love from|many thanks|{cy.NAMING}|{cy.SIGN_OFFS})[,:]?\s+$",
    re.IGNORECASE)
"""Followed by a name, in any case ("my name is sarah", "fy enw i yw elin")."""
_INTRODUCTIONS = re.compile(_CUE + rf"(?:i'm|i\u2019m|im|i am|{cy.INTRODUCTIONS})\s+$", re.IGNORECASE)
"""Followed by a given name ("I'm Sarah"), but also by "tired" or "English": given names only."""
_RELATIONS = re.compile(
    _CUE + r"(?:(?:my|our|his|her|their)\s+(?:(?:little|baby|eldest|youngest|older|younger|twin|step|best)\s+)?"
    r"(?:son|daughter|husband|wife|partner|mum|mother|dad|father|brother|sister|nan|nana|gran|granny|grandma|grandad|"
    r"grandpa|grandson|granddaughter|grandchild|child|boy|girl|baby|friend|carer|boyfriend|girlfriend|fiance|fiancee|fiancé|"
    r"fiancée|uncle|aunt|auntie|niece|nephew|cousin|neighbour|stepson|stepdaughter|stepdad|stepmum|twin|mate)s?"
    rf"|{cy.RELATIONS}),?\s+$",
    re.IGNORECASE)
_CUES = (_STRONG_CUES, _INTRODUCTIONS, _RELATIONS, TITLES)
"""In the order they are tried: "my sister Sarah" is a relation before "Sister" is a title."""
_LOOK_BACK = 60
_CUE_ENDS = frozenset({"im", "i'm", "i\u2019m", "am", "is", "was", "name's", "called", "me", "yw", "ydy", "ydi"})
"""The last words of the cues a lower-case name can follow ("im zorawar", "my name is zorawar")."""
_NAMING = re.compile(rf"(?:name(?: is| was|'s)|called|call me|{cy.NAMING})[,:]?\s+$", re.IGNORECASE)
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
""") | cy.ORDINARY
"""Words that follow "I'm" or "I am" and are no name, capitalised or not ("I'm Tired", "I am
Diabetic", "I'm Welsh", "Fi yw'r nyrs"), beside ``NOT_NAMES``."""
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
    if cue is TITLES:
        return _capitalised(word) or after_title_is_name(lower, before, names.plain, names.also_words)
    if not _capitalised(word):
        return cue is _RELATIONS and lower in names.plain
    if cue is _RELATIONS:
        return True  # a name, whatever it is ("my son Will")
    return lower in names.plain or ("-" in word and any(part in names.plain for part in lower.split("-")))


def _surname_end(text: str, words: list[tuple[int, int, str]], n: int, lower_case: bool = False) -> tuple[int, int]:
    """The end of a name starting at word ``n``: capitalised words after it (two at most) that
    are not common words (``NOT_NAMES``) are its surname ("Priya Shah", "Kate O'Neill", "Dafydd
    ap Gwilym"); with ``lower_case`` (a given name typed in lower case after a title: "dr sarah
    jones") so is one lower-case word that reads as no ordinary one. Returns (end offset, index
    of its last word)."""
    end, last, taken = words[n][1], n, 0
    while last + 1 < len(words) and taken < 2:
        start, stop, word = words[last + 1]
        lower = word.lower()
        if text[end:start].strip() or lower in NOT_NAMES | PLACE_AFTER:
            break
        if lower in _PATRONYMICS and last + 2 < len(words) and _capitalised(words[last + 2][2]) \
                and words[last + 2][2].lower() not in NOT_NAMES:
            end, last = stop, last + 1  # "ap" joins the next word to the name
            continue
        if not (_capitalised(word) or (lower_case and last == n and not ordinary_after_title(lower))):
            break
        end, last, taken = stop, last + 1, taken + 1
    return end, last


def _self_named_spans(text: str, words: list[tuple[int, int, str]], names: GivenNames) -> Iterable[Offsets]:
    """Names that come before their cue, as in Welsh: "Elin Wyn Jones ydw i" ("I'm Elin Wyn
    Jones"), "Elin sy 'ma"; up to three words, capitalised or given names, that are no ordinary
    word ("Nyrs ydw i" is "I'm a nurse"). After colloquial "dw i" a given name must be among them."""
    ends = {stop: k for k, (_, stop, _) in enumerate(words)}
    for found in cy.SELF_NAMED.finditer(text):
        last = ends.get(found.start())
        if last is None:
            continue
        first = last + 1
        while first > 0 and last - first < 2:
            _, stop, word = words[first - 1]
            lower = word.lower()
            if (first <= last and text[stop:words[first][0]].strip()) or lower in NOT_NAMES or _ordinary(lower) \
                    or not (_capitalised(word) or lower in names.plain or lower in names.also_words):
                break
            first -= 1
        chosen = [w.lower() for _, _, w in words[first:last + 1]]
        colloquial = found.group("cue").strip().lower().startswith("dw")
        if chosen and (not colloquial or any(w in names.plain or w in names.also_words for w in chosen)):
            yield words[first][0], words[last][1]


def found_name_spans(text: str) -> Iterable[Offsets]:
    """Names found in ``text`` without being given: given names, and names after cues."""
    names = given_names()
    words = [_bare_word(found) for found in _WORD.finditer(text)]
    title_case = _title_case(text)
    yield from _self_named_spans(text, words, names)
    n = 0
    while n < len(words):
        start, _, word = words[n]
        lower = word.lower()
        initial = len(word) == 1 and word.isupper()
        previous = words[n - 1][2].lower() if n else ""
        after_cue = previous in _CUE_ENDS or previous.rstrip(".") in TITLE_WORDS
        if lower in NOT_NAMES or not (_capitalised(word) or initial or after_cue or lower in names.plain or lower in names.also_words):
            n += 1
            continue  # (most words: no need to look for a cue)
        cue = _cue_before(text, start)
        if initial and cue in (TITLES, _STRONG_CUES) and _INITIAL.match(text, start) and n + 1 < len(words):
            n += 1  # "Dr J Smith": the initial goes with the surname
            word = words[n][2]
        following = words[n + 1][2].lower() if n + 1 < len(words) else ""
        is_place = (previous in PLACE_BEFORE or following in PLACE_AFTER) and cue is None
        if not is_place and _is_name(word, cue, names, text[max(0, start - _LOOK_BACK):start], title_case):
            lower_case = cue is TITLES and not _capitalised(word) and word.lower() in names.plain
            end, n = _surname_end(text, words, n, lower_case)
            yield start, end
        n += 1

