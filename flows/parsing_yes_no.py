"""Yes or no (flows/parsing.py): 'yes', 'yesss', '👍', 'no problem' (a yes), 'nope', each Welsh
question's own answer (ydw/nac ydw, ie/nage, gallaf/na allaf: flows/welsh_yes_no.py); None for
'yes and no', 'maybe' or 'I don't mind', which no consent may rest on. And what a NO goes on to say instead ('no, 3'): a correction of an answer read back."""

from __future__ import annotations

import re
from functools import lru_cache

from flows import welsh_yes_no
from flows.parsing_normalise import (
    _squash,
    _strip_politeness,
    _tidy,
    _too_long,
    normalise,
    only_politeness,
)
from flows.parsing_number_words import says_a_group

_YES_LEAD = {
    "yes", "y", "yeah", "yea", "yeh", "yep", "yup", "ya", "yah", "ye", "aye", "ok", "okay", "k",
    "sure", "absolutely", "certainly", "definitely", "of course", "i agree", "i do", "i would", "i will", "i am",
    "happy to", "go on", "go ahead", "sounds good", "count me in", "ie", "ydw", "yndw", "ydy", "ydyn", "oes", "oedd",
    "wrth gwrs", "yes please", "i consent", "consent", "i give consent", "i'm happy to", "i am happy to",
    "no problem", "no problemo", "no prob", "no probs", "no bother", "no worries", "no worry", "no trouble",
    "no sweat", "no bovver", "no biggie", "not a problem", "not a bother", "not a worry", "nae bother",
    "dim problem", "dim trafferth", "dim probs",
}
"""Includes 'no problem', 'no worries', 'not a problem': agreeing, not refusing."""
_YES_WHOLE = {
    "do", "iawn", "right", "correct", "true", "fine", "alright", "all right", "agree", "agreed",
    "please", "why not", "i think so", "think so", "yes and yes",
    "cytuno", "ydw diolch", "wrth gwrs", "i suppose so", "suppose so", "i guess so", "guess so",
}
_NO_LEAD = {
    "no", "n", "nope", "nah", "na", "naw", "nay", "never", "not really", "not at all", "no way",
    "no thanks", "no thank you", "i don't", "i do not", "i won't", "i will not", "i wouldn't",
    "i would not", "i'm not", "i am not", "i disagree", "i'd rather not", "rather not", "no chance",
    "nac ydw", "nac ydy", "nac oes", "nag ydw", "nag ydy", "nag oes", "nadw", "nage", "naddo", "na diolch", "dim diolch", "i do not consent",
    "nac oedd", "nag oedd", "nac ydyn", "nag ydyn", "i don't consent",
}
_NO_WHOLE = {
    "don't", "dont", "disagree", "negative", "definitely not", "certainly not", "absolutely not",
    "of course not", "i don't think so", "don't think so", "dim", "byth",
}
_YES_LEAD |= welsh_yes_no.TYPED_YES - _YES_WHOLE  # each Welsh question's own yes ('gallaf'), but 'do' only whole
_NO_LEAD |= welsh_yes_no.TYPED_NO
for _phrases in (_YES_LEAD, _YES_WHOLE, _NO_LEAD, _NO_WHOLE):
    # each phrase also without its apostrophe ('i dont', 'im not', 'dont think so'): a basic
    # phone makes one hard to type, and the words mean nothing else
    _phrases |= {phrase.replace("'", "") for phrase in _phrases}
_KNOWN_WORDS = {word for phrase in _YES_LEAD | _YES_WHOLE | _NO_LEAD | _NO_WHOLE for word in phrase.split()}
_YES_NO_EMOJI = {
    "👍": " yes ", "👌": " yes ", "✅": " yes ", "✔": " yes ", "☑": " yes ",
    "👎": " no ", "❌": " no ", "✖": " no ", "🚫": " no ", "❎": " no ",
}
_UNSURE = re.compile(
    r"\b(?:maybe|perhaps|possibly|might|not sure|unsure|don'?t know|do not know|dunno|idk|no idea|"
    r"depends|sometimes|kind of|sort of|not certain|efallai|ddim yn siwr|ddim yn gwybod|dim syniad|ddim (?:dweud|deud))\b"
)
_INDIFFERENT = re.compile(
    r"\b(?:(?:i\s+)?(?:do not|don'?t|wouldn'?t|would not|won'?t)\s+mind|(?:i'?m\s+|i am\s+)?not (?:bothered|fussed)|"
    r"(?:i\s+)?(?:do not|don'?t)\s+(?:really\s+)?care|no (?:preference|real preference)|either way|"
    r"either(?:'s| is| one is| would be)? (?:fine|ok|okay|good)|either (?:one )?will do|whichever|whatever|up to you|"
    r"(?:it\s+)?(?:doesn'?t|does not) matter|i'?m easy|(?:does\s+|s)?dim (?:ots|gwahaniaeth)|sa i'?n becso)\b"
)
"""'I don't mind', 'either is fine', 'dim ots': either answer will do. Never a NO (though it
holds one), and no clear YES either: a consent step needs one, and what 'I don't mind' means
turns on how the question was put ('Can we call?' or 'Would you mind a call?'), so it is asked
again unless a yes comes with it ('yes, I don't mind'). 'I wouldn't mind' (a polite yes in
British English) is asked again too rather than read as the NO it starts with."""
def says_indifferent(text: str) -> bool:
    """'I don't mind', 'no preference', 'dim ots': either answer will do (:data:`_INDIFFERENT`)."""
    return bool(_INDIFFERENT.search(normalise(text)))


_YES_IDIOM = re.compile(
    "|".join(rf"\b{re.escape(phrase)}\b" for phrase in sorted(_YES_LEAD, key=len, reverse=True) if phrase.split()[0] in ("no", "not", "nae", "dim"))
)
"""A yes that starts with a no word ('no problem'), so it is not read as a second answer."""
_SAYS_NO = re.compile(r"\b(?:no|not|nope|nah|never|na|nac|nag|nadw)\b|n't")
_SAYS_YES = re.compile(r"\b(?:yes|yeah|yep|yup|ie|ydw|yndw)\b")


UNSURE_REPLIES = (
    "unsure", "not sure", "don't know", "dont know", "do not know", "no idea", "dunno", "idk", "skip this",
    "ddim yn siwr", "ddim yn gwybod", "dim syniad", "dwn i ddim", "sai'n gwybod",
)
"""Replies that say 'I can't rate this' at a step that allows it."""

UNDECIDED_REPLIES = frozenset({
    *(reply.replace("'", "") for reply in UNSURE_REPLIES if reply != "skip this"),
    "cant decide", "cannot decide", "can not decide", "undecided", "neither", "no opinion", "no preference",
    "methu penderfynu", "dim ots", "dwn i ddim",
})
"""Whole replies that say 'I can't choose' ('can't decide', 'not sure', 'dunno', 'methu
penderfynu'), compared without apostrophes: a pass at a statement vote, a tie between a pair
(which adds words of its own: 'both', 'the same')."""
LEAD_WORDS = ("i", "im", "i am", "ive", "i have", "i really", "really", "honestly", "genuinely", "tbh", "dw i", "dwi", "dydw i")
_UNDECIDED_LEAD = re.compile(rf"^(?:(?:{'|'.join(sorted(LEAD_WORDS, key=len, reverse=True))})\s+)+")
_UNDECIDED_TAIL = re.compile(r"(?:\s+(?:tbh|to be honest|really|honestly|at all))+$")
"""What may come before or after the words ("I really can't decide", 'no idea tbh', 'dw i ddim yn gwybod'),
the longest lead first: 'i am not sure' and 'i have no idea' lose 'i am' and 'i have', not 'i' alone."""


def says_undecided(text: str, replies: frozenset[str] = UNDECIDED_REPLIES) -> bool:
    """A whole reply that says 'I can't choose' (one of ``replies``, without apostrophes), politely or with
    'I', 'really' or 'tbh' around it: "I can't decide", "I'm not sure", 'no idea tbh', 'dunno
    sorry'. Not a sentence that goes on ('not sure I agree', 'neither is great')."""
    if _too_long(text):
        return False
    clean = normalise(text)
    for said in (clean, _strip_politeness(clean, picking=False)):
        said = _UNDECIDED_TAIL.sub("", _UNDECIDED_LEAD.sub("", said.replace("'", "")))
        if said in replies:
            return True
    return False


_SWAPPED_ONLY = {"yes": True, "yeah": True, "yep": True, "yup": True, "okay": True, "sure": True, "agree": True,
                 "nope": False, "nah": False}
"""Short yes and no words whose two neighbouring letters typed the wrong way round are still
read ('yse', 'yaeh', 'suer', 'noep'); other slips of a short word too often make another word
('yet', 'hope', 'sue'), so they are not guessed at."""
_ONE_SLIP = {"absolutely": True, "certainly": True, "definitely": True, "consent": True, "problem": True}
"""Long yes words (and 'no problem') read with any one slip: a letter swapped, left out, doubled
or mistyped ('definately', 'no porblem')."""
_NOT_SLIPS = frozenset({"dyw", "content", "certainty"})
"""Real words one slip from a yes word, which are never read as it ('dyw' is Welsh for 'is not')."""


def _slips(word: str, any_slip: bool) -> set[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    found = {word[:i] + word[i + 1] + word[i] + word[i + 2:] for i in range(len(word) - 1)}
    if any_slip:
        found |= {word[:i] + word[i + 1:] for i in range(len(word))}
        found |= {word[:i] + c + word[i + 1:] for i in range(len(word)) for c in letters}
        found |= {word[:i] + c + word[i:] for i in range(len(word) + 1) for c in letters}
    return found - {word}


def _yes_no_typos() -> dict[str, str]:
    """Each misspelling of a word in :data:`_SWAPPED_ONLY` and :data:`_ONE_SLIP`, to the word.
    A misspelling that could be a yes word or a no word, or is itself a known word, is left out."""
    said: dict[str, set[bool]] = {}
    meant: dict[str, str] = {}
    for targets, any_slip in ((_SWAPPED_ONLY, False), (_ONE_SLIP, True)):
        for target, yes in targets.items():
            for slip in _slips(target, any_slip):
                said.setdefault(slip, set()).add(yes)
                meant[slip] = target
    return {slip: word for slip, word in meant.items()
            if len(said[slip]) == 1 and slip not in _KNOWN_WORDS and slip not in _NOT_SLIPS}


_TYPOS = _yes_no_typos()


def _yes_no_spelling(word: str) -> str:
    """A word of a yes/no reply as the word it is meant to be: 'yesss' -> 'yes', 'yse' -> 'yes',
    'definately' -> 'definitely'; any other word as it is."""
    if word in _KNOWN_WORDS:
        return word
    squashed = _squash(word)
    return squashed if squashed in _KNOWN_WORDS else _TYPOS.get(word, word)


def _leading(words: list[str]) -> tuple[bool, int] | None:
    """Whether the reply opens with a yes or a no, and how many words that took."""
    for size in (4, 3, 2, 1):
        phrase = " ".join(words[:size])
        if len(words) >= size and phrase in _NO_LEAD | _NO_WHOLE and (phrase in _NO_LEAD or size == len(words)):
            return False, size
        if len(words) >= size and phrase in _YES_LEAD:
            return True, size
    return None


@lru_cache(maxsize=16384)
def parse_yes_no(text: str) -> bool | None:
    """'yes', 'y', 'yeah', 'yep', 'yesss', '👍', 'yes please', 'ie', 'ydw' -> True;
    'no', 'nope', '👎', 'no thanks', 'nac ydw' -> False; 'yes and no', 'maybe' -> None."""
    if _too_long(text):
        return None
    clean = normalise(text)
    for emoji, word in _YES_NO_EMOJI.items():
        clean = clean.replace(emoji, word)
    clean = _tidy(clean)
    if not clean:
        return None
    plain = _strip_politeness(clean, picking=False)
    words = [_yes_no_spelling(w) for w in plain.split()]
    for candidate in (clean, plain, " ".join(words)):
        if candidate in _YES_LEAD | _YES_WHOLE:
            return True
        if candidate in _NO_LEAD | _NO_WHOLE:
            return False
    if not plain and re.search(r"\bplease\b", clean):
        return True
    if _INDIFFERENT.search(clean):
        rest = _tidy(_INDIFFERENT.sub(" ", clean))
        return True if rest and parse_yes_no(rest) is True else None
    if _UNSURE.search(clean):
        return None
    if welsh_yes_no.says_verb_not(plain):  # 'alla i ddim' (I can't), 'hoffwn i ddim mynd'
        return False
    lead = None if says_a_group(" ".join(words[:2])) else _leading(words)  # 'y ddau' (both): no 'y' of a yes
    if lead is None:
        return None
    said, size = lead
    rest = " ".join(words[size:]).replace("why not", "")
    return None if _contradicts(said, rest) else said


def _contradicts(said: bool, rest: str) -> bool:
    """Whether the words after a leading yes or no say the opposite ('yes but no', 'no, no problem')."""
    if not said and _YES_IDIOM.search(rest):
        return True
    rest = _tidy(_YES_IDIOM.sub(" ", rest))
    contradiction = _SAYS_NO if said else _SAYS_YES
    return bool(contradiction.search(rest) or (rest and _leading(rest.split()) == (not said, 1)))


_TOKEN = re.compile(r"\S+")


@lru_cache(maxsize=4096)
def said_after_no(text: str) -> str | None:
    """What a reply that opens with a NO goes on to say instead, as typed: 'no, 3', 'no 3', "no
    it's 3", 'nope, three', Welsh 'na, 3' -> '3', "it's 3", 'three'. A NO with more in it is how
    people correct what was read back to them ('Just to check: 4?'); whether the rest answers
    anything is for the question to say. None when the reply is no clear NO (:func:`parse_yes_no`:
    'no problem, 3' is a yes, 'no, maybe 3' unsure), or nothing but politeness follows the NO
    ('no thanks', 'no sorry', 'not really')."""
    if parse_yes_no(text) is not False:
        return None
    clean = normalise(text)
    for emoji, word in _YES_NO_EMOJI.items():
        clean = clean.replace(emoji, word)
    tokens = list(_TOKEN.finditer(clean))
    words = [_yes_no_spelling(token.group().strip(" .!?,;:…")) for token in tokens]
    start = 0
    while start < len(words) and not _strip_politeness(words[start], picking=False):
        start += 1  # 'sorry, no, 3', 'um no 3'
    lead = _leading(words[start:])
    if lead is None or lead[0] is not False:
        return None
    rest = clean[tokens[start + lead[1] - 1].end():].strip(" .!?,;:-…")
    return rest if rest and not only_politeness(rest) else None
