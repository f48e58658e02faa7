"""What a reply says it does NOT want, among a question's options (flows/parsing.py): 'not 2',
'anything but carer', 'not the first one', 'carer no way', 'all except weekends', 'none of them',
'neither A nor B', and in Welsh 'dim 1', 'nid y cyntaf', 'unrhyw beth ond 2', 'pob un heblaw 4',
'dim un'. An option whose own words are negative ('Not at all', 'No change', 'Not sure', 'None of
these') is never read as rejected by them. The options named after the negation are read as
any reply is: the reader is given (``read``), since flows/parsing_options.py reads with this."""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

from flows.parsing_little_words import _WORD, only_little_words
from flows.parsing_normalise import _FILLER_RE, _strip_politeness, _tidy, normalise, only_politeness
from flows.parsing_option_words import _negations
from flows.parsing_yes_no import parse_yes_no, says_indifferent, says_undecided

_Options = tuple[tuple[str, ...], ...]
_Read = Callable[[str, _Options], "int | None"]
"""How one option is read from a reply (flows.parsing_options._match_option)."""


_EXCEPT = r"(?:but(?: not)?|except(?: for)?|apart from|other than|besides|bar|excluding|save|ond(?: nid| dim)?|heblaw(?: am)?|ar wahan i|ac eithrio)"
"""'but', 'except', 'apart from' after 'anything' or 'all', in English and Welsh ('ond', 'heblaw')."""
_ALL_BUT = re.compile(
    r"^(?:all|everything|every one|everyone|each|each one|the lot|all of them|all of these|all of those|all the others|"
    rf"all the rest|all options|pob un|popeth|pob dim|y cyfan|y cwbl|y lot|nhw i gyd|i gyd)\s+{_EXCEPT}\s+"
)
"""'all except', 'everything but', 'pob un ond', 'y cyfan heblaw': every option but those named."""
_NOT_LEADS = (
    rf"(?:anything|any|any one|anyone|any of them|any of these|whatever|whichever|something|unrhyw beth|unrhyw un|rhywbeth)"
    rf"(?:\s+else)?\s+(?:{_EXCEPT}|than)",
    r"(?:except(?: for)?|apart from|excluding|but not|heblaw(?: am)?|ar wahan i|ac eithrio)",
    r"(?:(?:i'?m|im|i am|i'?d|id|i would|that'?s|thats|that is)\s+)?"
    r"(?:(?:definitely|defo|deffo|defs|def|certainly|absolutely|surely|really|obviously|probably|prob|but|and|also)\s+)?"
    r"(?:not|never|nt|rather not|prefer not)",
    r"(?:i\s+)?(?:do not|don'?t|dont|would not|wouldn'?t|wouldnt|will not|won'?t|wont|did not|didn'?t|cannot|can'?t|cant)\s+"
    r"(?:want|like|need|fancy|choose|pick|prefer|be|do|go for|have)",
    r"(?:(?:dw i|dwi|dydw i|rydw i|rwy|yn bendant|bendant|yn sicr)\s+)*(?:dim|ddim|nid|nad|nage)(?:\s+(?:eisiau|isio|moyn|yn hoffi|yn moyn))?",
    r"neither",
)
_NOT_LEAD = re.compile(rf"^(?:{'|'.join(_NOT_LEADS)})\s+")
"""What leads into the options a reply does not want: 'not', 'definitely not', 'anything but',
'except', "I don't want", Welsh 'dim', 'nid', 'unrhyw beth ond', 'neither' (... nor)."""
_STRONG_LEAD = re.compile(r"\b(?:anything|any|anyone|whatever|whichever|something|except|excluding|apart|besides|unrhyw|rhywbeth|heblaw|wahan|eithrio)\b")
"""Leads that say a reply rejects something even when what follows names no option ('anything
but the ones with needles'): such a reply never picks, whatever else it holds."""
_BARE_NO = re.compile(r"^(?:no|nope|nah|naw|na)\s+")
"""A 'no' with no comma after it, as in 'no email' or 'no not 2' ('no, email' may correct what
the bot assumed, and names the option wanted: it is not read as rejecting it)."""
_TRAILING_NOT = re.compile(
    r"^(?P<named>.+?)\s*[-,:;!]*\s*(?:no way(?: jose)?|no thanks|no thank you|no chance|definitely not|absolutely not|"
    r"certainly not|def not|defo not|not for me|not that one|never|nope|nah|not|dim diolch|na diolch|dim o gwbl|byth)$"
)
"""An option and then a rejection of it: 'carer no way', 'email - definitely not', '2 nope'. A bare
'no' after it is not one ('phone no' is a phone number)."""
_NOT_INSTEAD = re.compile(
    r"^(?P<wanted>.+?)\s*[,;-]?\s*\b(?:but not|and not|but definitely not|definitely not|not|rather than|instead of|"
    r"yn lle|yn hytrach na|ond nid|ond dim|nid|ddim)\s+(?P<rejected>.+)$"
)
"""What is wanted, then what is not: 'patient not carer', '1 and 3 but not 2', 'staff rather than carer'."""
_INSTEAD_NOT = re.compile(
    r"^(?P<rejected>(?:not|never|definitely not|no|dim|ddim|nid)\s+.+?)\s*(?:[,;]|\s-\s|\bbut\b|\bond\b)\s*"
    r"(?:(?:just|only|rather|instead|i'?d like|i want)\s+)*(?P<wanted>.+)$"
)
"""What is not wanted, then what is: 'not staff but carer', 'not patient, carer', 'nid claf ond gofalwr'."""
_NONE_OF_THEM = re.compile(
    r"^(?:(?:none|neither|nothing|not any|no one|dim byd|dim un)(?:\s+(?:of|them|those|these|the|above|options|two|both|"
    r"one|ones|o'r|rhain|ohonyn|nhw|ohonynt|ddau|ddwy|o|gwbl|really|at|all|chwaith|either))*|"
    r"(?:not one|not a single one)\s+of(?:\s+(?:them|those|these|the|options|above))*|na'r naill na'r llall)$"
)
"""'none of them', 'neither', 'nothing', Welsh 'dim un (ohonyn nhw)', "na'r naill na'r llall"."""
_NOT_ANY = re.compile(
    r"^(?:(?:i|we|he|she|they|mum|dad)\s+)?(?:have not|haven'?t|has not|hasn'?t|do not|don'?t|did not|didn'?t|does not|"
    r"doesn'?t|never|not)(?:\s+(?:ever|really|yet|got|been|had|used|tried|use|have|go|gone|went|need|needed|to))*\s+"
    r"any(?:thing|one)?(?:\s+of\s+(?:them|those|these|the above|the options))?(?:\s+(?:yet|really|at all|so far))?$"
)
"""A whole reply that had, used or wants none of the options: 'I haven't used any', 'never
tried any of them', 'we dont have any yet'; read as 'none of them' is."""
_NONE_WORDS = re.compile(r"\b(?:none|neither|nothing|dim un|dim byd|na'r naill)\b")
"""Words of an option that is itself 'none of them' ('None of these', 'Neither'): with one, a
reply saying so picks it, rather than rejecting every option."""
_ITEMS = re.compile(r"\s*(?:,|;|/|&|\+|\bor\b|\bnor\b|\band\b|\bneu\b|\bna\b|\bnac\b|\bac\b|\bplus\b|\bneu'r\b|\bna'r\b|\ba'r\b)\s*")
"""What separates the options a reply rejects: 'not 2 or 3', 'neither A nor B', 'dim 1 na 2'."""
_ITEM_NOT = re.compile(r"^(?:not|nor|no|dim|ddim|nid|na|neither)\s+")
_LETTER = re.compile(r"[a-z]")
"""A lone letter: an option's label ('a not b'), never the little word it may also be."""
_DROPPED_ARTICLES = frozenset({"the", "y", "yr"})
_PICK_WORDS = re.compile(r"^(?:the|an?|y|yr)\s+|\s+(?:one|ones|option|un)$")
"""Words around an option's name that leave it whole: 'the carer one', 'a carer', "y gofalwr"."""


def _negative_words(text: str) -> set[str]:
    """The words of a text that negate or except ('not', 'no', 'but', 'except', 'dim', 'heblaw')."""
    excepting = {"but", "except", "apart", "excluding", "besides", "ond", "heblaw", "wahan", "eithrio"}
    return _negations(text) | (set(_WORD.findall(text)) & excepting)


@dataclass(frozen=True)
class _Rejection:
    """What a reply says it does NOT want: 'not 2', 'anything but carer', 'none of them', 'dim 1'."""

    rejected: frozenset[int]
    """The options rejected: every one for 'none of them'; none known for 'anything but the
    ones with needles' (a rejection all the same: nothing is picked)."""
    wanted: str = ""
    """What the reply names instead, as typed: 'patient' in 'patient not carer', '1 and 3' in
    '1 and 3 but not 2' (read by the caller, as one pick or several)."""
    all_others: bool = False
    """'all except X', 'pob un ond X': in a multiple choice, every option not rejected."""


def _undecided(name: str) -> bool:
    """An option that says 'I can't choose' ('Not sure', "Don't know", 'No preference'); a 'Neither'
    or 'None of these' is none of them: left alone after the others are rejected, it is the answer."""
    return (says_undecided(name) or says_indifferent(name)) and not _NONE_WORDS.search(normalise(name))


@lru_cache(maxsize=4096)
def _rejection(clean: str, options: _Options, read: _Read) -> _Rejection | None:
    """What a normalised reply rejects (:class:`_Rejection`), or None when it rejects nothing, or
    when its negation belongs to an option's own words: a reply that is an option's name ('not
    at all', 'no change'), 'no not at all' (agreeing with 'Not at all'), 'definitely not sure'
    ('Not sure'), idioms that reject no option ('not sure', 'no preference', 'no probs carer')."""
    names = [{normalise(name) for name in candidates} for candidates in options]
    plain = _tidy(_FILLER_RE.sub(" ", clean))  # 'I think not 2', "it's not carer", 'sorry, dim 1'
    if not plain or not options or any(clean in own or plain in own for own in names):
        return None
    bare = _strip_politeness(plain, picking=False)
    if _NONE_OF_THEM.fullmatch(bare) or _NOT_ANY.fullmatch(bare):
        return None if any(_NONE_WORDS.search(name) for own in names for name in own) else _Rejection(frozenset(range(len(options))))
    if says_undecided(clean) or says_indifferent(clean):
        return None
    for said in dict.fromkeys((clean, plain)):  # as typed first: 'not well' ('well' is also a filler word)
        found = (_said_instead(said, options, read, _INSTEAD_NOT) or _led(said, options, read)
                 or _said_instead(said, options, read, _NOT_INSTEAD) or _trailing(said, options, read))
        if found is not None and (found.rejected or said == plain):
            return found
    return None


def _led(said: str, options: _Options, read: _Read) -> _Rejection | None:
    """'not 2', 'anything but carer', 'all except weekends', 'no email', 'nid y cyntaf'."""
    every = _ALL_BUT.match(said)
    lead = every or _NOT_LEAD.match(said)
    if lead is not None:
        rejected = _named(said[lead.end():], options, read, said[:lead.end()])
        if rejected is None:
            return _Rejection(frozenset()) if every or _STRONG_LEAD.search(lead.group()) else None
        return _Rejection(rejected, all_others=every is not None)
    bare = _BARE_NO.match(said)
    if bare is None or parse_yes_no(said) is True:  # 'no probs, carer' agrees
        return None
    rest = said[bare.end():]
    if _negations(rest):
        return _rejection(rest, options, read)  # 'no not 2'; 'no not at all' agrees with 'Not at all'
    if rest[:1].isdigit() or len(rest) == 1:
        return None  # 'no 2' is number 2
    rejected = _named(rest, options, read, "no")
    return None if rejected is None else _Rejection(rejected)


def _trailing(said: str, options: _Options, read: _Read) -> _Rejection | None:
    """'carer no way', 'email - definitely not', '2 nope'."""
    found = _TRAILING_NOT.match(said)
    if found is None or _negations(found.group("named")):
        return None
    rejected = _named(found.group("named"), options, read, said[found.end("named"):])
    return None if rejected is None else _Rejection(rejected)


def _said_instead(said: str, options: _Options, read: _Read, pattern: re.Pattern[str]) -> _Rejection | None:
    """A reply that names what it does not want and what it does (``pattern``): 'not staff but
    carer', 'not patient, carer' (:data:`_INSTEAD_NOT`); 'patient not carer', '1 and 3 but not 2'
    (:data:`_NOT_INSTEAD`). What it wants is read by the caller, as one pick or several; when it
    is no option ("I'd rather a home visit not phone") nothing is picked."""
    found = pattern.match(said)
    if found is None:
        return None
    wanted = found.group("wanted")
    if _negative_words(wanted) or (only_little_words(wanted) and not _LETTER.fullmatch(wanted)) or only_politeness(wanted):
        return None
    if pattern is _INSTEAD_NOT:
        rejection = _led(found.group("rejected"), options, read)
        rejected = rejection.rejected if rejection is not None else None
    else:
        rejected = _named(found.group("rejected"), options, read, "not")
    return _Rejection(rejected, wanted) if rejected else None


def _named(rest: str, options: _Options, read: _Read, lead: str) -> frozenset[int] | None:
    """The options the words after a rejecting lead name ('2 or 3', 'the carer one', 'y
    cyntaf'), or None when they name none, or name an option whose own words hold the lead's
    negation ('definitely not sure' is 'Not sure', not a rejection of it)."""
    rest = _tidy(rest)
    if not rest or (only_little_words(rest) and not _LETTER.fullmatch(rest)):
        return None
    found = _each_named(rest, options, read)
    if found is None or _each_named(rest, _places(len(options)), read) == found:
        return found  # by place ('not 1'): no option's own words
    negating = _negative_words(lead)
    if any(negating & _negative_words(normalise(name)) for index in found for name in options[index]):
        return None
    return found


def _each_named(rest: str, options: _Options, read: _Read) -> frozenset[int] | None:
    """The options named by the whole of ``rest``, or by each of its items ('2 or 3', 'not 2, not
    3', 'evenings and weekends', '1 2 3'), or None when any names none."""
    whole = None if _negations(rest) else read(rest, options)  # ('2, not 3' is no one option)
    if whole is not None:
        return frozenset({whole}) if _wholly(rest, options, read) else None
    for items in ([_ITEM_NOT.sub("", item) for item in _ITEMS.split(rest) if item.strip()],
                  [word for word in rest.split() if word not in _DROPPED_ARTICLES]):
        if len(items) < 2:
            continue
        found = [read(item, options) for item in items]
        if None not in found:
            return frozenset(index for index in found if index is not None) if all(_wholly(i, options, read) for i in items) else None
    return None


def _wholly(said: str, options: _Options, read: _Read) -> bool:
    """Whether words name an option whole, by its name or place ('carer', 'the carer one', 'a
    lot', '2', 'yr ail'), not by a part of it: 'not a patient' does not reject 'Patient or
    carer' (the participant may be a carer). An option's letter or number is whole even when
    its text begins with the same word: 'a' names option A, never part of 'A 24-hour locker'."""
    place = read(said, _places(len(options)))
    if place is not None and read(said, options) == place:
        return True
    plain = _PICK_WORDS.sub("", said)
    for candidates in options:
        names = [normalise(name) for name in candidates]
        if said in names or plain in names:
            words = set(_WORD.findall(said if said in names else plain))
            return not any(words < set(_WORD.findall(name)) for name in names)  # 'patient', the value of 'Patient or carer'
    return read(said, _places(len(options))) is not None


@lru_cache(maxsize=64)
def _places(count: int) -> _Options:
    """``count`` options without words: what a reply names against them it names by place ('2', 'B', 'the first one')."""
    return tuple(("",) for _ in range(count))
