"""Abusive or personally attacking wording in a participant's own statement or idea, for the
moderator (bot/population.py): name-calling aimed at a person or a group ("Dr Smith is a useless
cow", "staff are idiots"), slurs, and threats ("I'll get him", "I know where the nurse lives"),
veiled ones too ("someone should teach that receptionist a lesson": :mod:`nlp.abuse_veiled`).

Nothing is hidden or refused here: a statement that matches is held for moderation like any
other, and the moderator is told what was found, and why, before deciding. So the patterns aim
at wording a coordinator would not publish, not at anger: a complaint, however strongly put
("the receptionist was rude", "bloody long wait", "the staff were useless", "the waiting was
killing me"), is not flagged, nor is a participant's own feeling ("I felt like an idiot", "they
treated mum like a fool"). Read as the safety patterns read (:func:`nlp.safety_text.normalise`:
lower case, accents folded, idioms such as "the wait was killing me" removed), in English and
Welsh (:mod:`nlp.abuse_welsh`), with the same prefilter (:mod:`nlp.safety_prefilter`).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from nlp.abuse_veiled import VEILED
from nlp.abuse_welsh import WELSH
from nlp.safety_prefilter import Prefilter
from nlp.safety_text import _compile, normalise

_PERSON = (r"(?:staff|nurses?|doctors?|drs|gps?|consultants?|surgeons?|receptionists?|porters?|managers?|management|"
           r"paramedics?|midwi(?:fe|ves)|physios?|pharmacists?|carers?|admin|secretar(?:y|ies)|they|he|she|you|"
           r"(?:dr|nurse|sister|mr|mrs|ms|miss) \w+|(?:wo)?m[ae]n|lady|ladies|bloke|people|lot|everyone)")
"""Someone a statement may attack: a role, a pronoun or a titled name (a system or a wait is no one)."""
_TARGET = (r"(?:him|her|them|you|someone|somebody|whoever|(?:that|the|this|those|these|every|one of the|one of those) "
           r"(?:\w+ )?(?:nurse|doctor|receptionist|consultant|manager|porter|gp|paramedic|midwife|surgeon|woman|man|"
           r"bloke|guard|staff|lot|idiot|cow|bitch|bastard)s?|(?:dr|nurse|sister|mr|mrs|ms|miss)\b)")
"""Whom a threat is aimed at; a titled name is matched by its title alone, so no name is quoted."""
_INSULTING = (r"(?:useless|stupid|silly|daft|fat|lazy|old|ugly|miserable|ignorant|horrible|nasty|arrogant|smug|rude|"
              r"incompetent|thick|right|total|complete|absolute|utter|proper|bloody|fucking|effing|stuck[- ]up|"
              r"jumped[- ]up|little|evil|vile|sour|grumpy|moody|snotty|filthy|dirty|greedy|lying|two[- ]faced|spiteful|bossy|pompous|"
              r"foreign|nosy|sneaky|slimy|pathetic)")
_STRONG_NOUNS = (r"idiots?|morons?|imbeciles?|cretins?|dickheads?|twats?|wankers?|tossers?|cunts?|bastards?|bitch(?:es)?|"
                 r"arseholes?|assholes?|scumbags?|scum|muppets?|numpt(?:y|ies)|plonkers?|pillocks?|halfwits?|nitwits?|"
                 r"dimwits?|bellends?|knobheads?|slags?|sluts?|whores?|battle[- ]?axes?|old bags?|hags?|little hitlers?")
_WEAK_NOUNS = r"(?:cows?|pigs?|witch(?:es)?|dragons?|clowns?|fools?|pricks?|gits?|quacks?|donkeys?|snakes?|rats?)"
_SELF_OR_SIMILE = re.compile(
    r"(?:\blike|\bas|\b(?:i'?m|i am|im|i was|i felt|i feel|me feel|made me|make me|me look|i look|i looked|called me)"
    r"(?: not)?(?: like)?(?: such)?)(?: an?| a bunch of| a load of| a complete| a total| a right| some)? $")
"""Before a name, what makes it the writer's own feeling or a comparison ("I felt like an idiot",
"they treated us like idiots"), not name-calling."""

PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "insult": _compile(
        r"\b(?P<words>" + _STRONG_NOUNS + r")\b(?![-'])",
        r"\b(?P<words>(?:" + _INSULTING + r",? (?:and )?)+" + _WEAK_NOUNS + r")\b(?!'s| of a| test)",
        r"\b(?:is|was|are|were|'s|'re|be|you|you're|you are|such|bunch of|load of|pack of|set of|some) (?:an? |such an? )?"
        r"(?P<words>(?:" + _INSULTING + r",? (?:and )?){0,3}" + _WEAK_NOUNS + r"|(?:" + _INSULTING + r" )+piece of work)\b(?!'s| of a| test| milk| \w+ (?:milk|test))",
        r"\b(?:" + _PERSON + r"\b(?: \w+){0,3}? (?:is|was|are|were|being|seem|seemed|look|looked)|(?:they|you|he|she)'?(?:re|s)|"
        + _PERSON + r"'(?:re|s)) (?:all |so |really |"
        r"just |bloody |fucking |completely |totally |very |a bit |pretty )*(?P<words>stupid|thick|dumb|brainless|brain ?dead|"
        r"gormless|ugly|fat|retarded)\b(?! (?:of|about|question|idea|mistake|rule|system|thing)s?\b)",
        r"\b(?P<words>(?:fuck|f\*+k|f\*+|screw|sod|piss) (?:you|off|them|the lot of (?:you|them)|all of you)|go to hell|get fucked|"
        r"shove it up (?:your|their) arse|rot in hell)\b",
    ) + WELSH["insult"],
    "slur": _compile(
        r"\b(?P<words>retards?|retarded|pakis?|niggers?|niggas?|chinks?|wogs?|coons?|spaz+|spackers?|mongs?|mongoloids?|faggots?|"
        r"poofs?|poofters?|trann(?:y|ies|ie)|gyppos?|gypos?|pikeys?|kikes?|ragheads?|towelheads?|golliwogs?|darkies|darkie|"
        r"chinky|yids?|dagos?|krauts?|polacks?)\b",
    ) + WELSH["slur"],
    "threat": _compile(
        r"\b(?P<words>(?:i'?ll|i will|i'?m going to|im going to|i'?m gonna|im gonna|i'?d like to|i want to|i could|i swear i'?ll"
        r"|i'?m coming to|someone should|somebody should|someone needs to|i'?ll be back to) (?:\w+ )?"
        r"(?:kill|murder|stab|shoot|batter|punch|hit|smack|slap|thump|deck|strangle|throttle|knock out|beat up|smash|hurt|"
        r"do in|glass|knife|burn) " + _TARGET + r")(?! (?:to|up|into|down|home)\b)",
        r"\b(?P<words>(?:i'?ll|i will|im gonna|i'?m gonna|i'?m going to) get (?:him|her|them|you))\b(?= *(?:$|[.!,;]|for (?:this|that|it)|back|"
        r"one day|outside|later|if|when|after|and)\b| *$|[.!,])",
        r"\b(?P<words>(?:smash|kick|punch|knock) (?:his|her|their|your) (?:face|head|teeth|block)s?(?: in| off| out)?)\b",
        r"\b(?P<words>i know where (?:you|he|she|they|the \w+|that \w+|(?:dr|nurse|sister|mr|mrs|ms|miss) \w+|\w+) (?:lives?|works?|parks?))\b(?! (?:is|was|are)\b)",
        r"\b(?P<words>(?:better )?watch (?:your|his|her|their) backs?)\b",
        r"\b(?P<words>hope (?:he|she|they|you|the \w+|that \w+|dr \w+) (?:dies|die|gets? (?:cancer|run over|what'?s coming|hit|"
        r"sacked and dies)|rots?|burns?))\b",
        r"\b(?P<words>deserves? to (?:die|be (?:shot|hanged|hung|beaten|punched|slapped))|should be (?:shot|hanged|hung|strung up|put down)|"
        r"(?:give|giving) (?:him|her|them|the \w+|that \w+) a (?:good )?(?:kicking|hiding|slap|beating|smack|thump)|"
        r"needs? a (?:good )?(?:slap|kicking|smack|hiding|beating)|(?:burn|bomb|torch) (?:the|this|that) (?:place|hospital|surgery|ward|"
        r"building|practice)(?: down)?|(?:will|'ll) pay for (?:this|that|what))\b",
    ) + VEILED + WELSH["threat"],
}

ABUSE_MARK = "may be abusive"
"""How a note of abusive wording starts (the desk marks the alerts that hold one)."""
KINDS = {"insult": "name-calling", "slur": "a slur", "threat": "a threat"}
"""Each kind of abusive wording in words, as the moderator is told it."""

_PREFILTER = Prefilter(PATTERNS)


@dataclass(frozen=True)
class AbusiveWording:
    kind: str
    """insult, slur or threat (:data:`KINDS`)."""
    words: str
    """The words found, in lower case: the name called ("useless cow"), not whom it was called."""


def abusive_wording(text: str) -> list[AbusiveWording]:
    """What of ``text`` is abusive or a personal attack, each kind once (the first words found),
    in the order of :data:`KINDS`; empty for an ordinary statement or complaint."""
    cleaned = normalise(text)
    return _found(cleaned, _PREFILTER.candidates(cleaned))


def abusive_wording_unfiltered(text: str) -> list[AbusiveWording]:
    """:func:`abusive_wording` with every kind searched, not only those the prefilter leaves: what
    it must equal (for the tests)."""
    return _found(normalise(text), PATTERNS)


def _found(cleaned: str, kinds: Iterable[str]) -> list[AbusiveWording]:
    found = []
    for kind in kinds:
        words = next((w for pattern in PATTERNS[kind] for w in _matches(pattern, cleaned)), None)
        if words is not None:
            found.append(AbusiveWording(kind, words))
    return found


def _matches(pattern: re.Pattern[str], text: str) -> list[str]:
    """The words each match quotes, leaving out a name used of the writer or as a comparison."""
    quoted = []
    for match in pattern.finditer(text):
        words = match.group("words") if "words" in pattern.groupindex else None
        if words is None:
            quoted.append(match.group(0))
        elif not (match.start("words") == match.start() and _SELF_OR_SIMILE.search(text[: match.start()])):
            quoted.append(words)
    return quoted


def abuse_note(found: list[AbusiveWording]) -> str:
    """'may be abusive: name-calling ("useless cow") and a threat ("i'll get him")' (empty for none)."""
    if not found:
        return ""
    parts = [f'{KINDS[f.kind]} ("{f.words}")' for f in found]
    listed = parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"
    return f"{ABUSE_MARK}: {listed}"
