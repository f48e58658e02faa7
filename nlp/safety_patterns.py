"""The lexicon of :mod:`nlp.safety`: regular expressions per category, in English and Welsh, direct
and common indirect phrasing (more of it, in both languages, in :mod:`nlp.safety_indirect` and
:mod:`nlp.safety_welsh_indirect`), written to tolerate missing apostrophes and accents and the
unpunctuated text of a voice-note transcript, read after idioms are removed
(:func:`nlp.safety_text.normalise`). Fast enough for the message path; the overdose patterns live
in :mod:`nlp.safety_medicines`. Categories: ``suicide``, ``self_harm``, ``overdose``, ``abuse``
(abuse or violence, to or by the writer), ``medical`` (possible medical emergency).
"""

from __future__ import annotations

import re

from nlp.safety_indirect import INDIRECT
from nlp.safety_medicines import KEPT_FROM_ME, OVERDOSE
from nlp.safety_prefilter import Prefilter
from nlp.safety_text import _compile, normalise, normalise_unfiltered
from nlp.safety_welsh import WELSH
from nlp.safety_welsh_indirect import WELSH_INDIRECT

_NOT = r"(?:n'?t|not|never)"

PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "suicide": _compile(
        r"\bsuicid",
        r"\bkill(ing)? (my ?self|myself)\b",
        r"\bend(ing)? (it all|my (own )?life|things|it now)\b",
        r"\b(going to|gonna|want to|wanna|i'?ll|about to|ready to) end it\b(?! with\b)",
        r"\b(think|thinking|thought|thoughts) (of|about) ending it\b(?! with\b)",
        r"\btake my (own )?life\b",
        r"\b(do|did)(n'?t| not) want to (be here|live|be alive|wake up|go on|exist)\b",
        r"\bbetter off (without me|dead|if i (was|were)(n'?t| not))\b",
        r"\b(no|any|the) (point|reason) (in |of |to )?(living|going on|carrying on|being alive|life|live|go on)\b",
        r"\b(want|wants|wanted|wanting) to die\b",
        r"\bwish (i|he|she) (was|were) dead\b",
        r"\bwish i had" + _NOT + r"? ?(woken|been born|wake)\b",
        r"\b(and|to) not wake up\b",
        r"\bcan'?t (go on|do this|cope|take (it|this)) any ?more\b",
        r"\b(jump|jumping|throw myself) (off|from|in front)\b",
        r"\bin front of a (train|bus|lorry|car)\b",
        r"\b(i'?m|i am|being) (a|such a) burden\b",
        r"\b(said|saying) my goodbyes\b",
        r"\bdisappear(ing)? (for good|forever)\b",
        r"\blife (is|isn'?t|is not|not) (worth|worth living)\b",
        r"\b(isn'?t|is not|not) worth living\b",
        r"\bbetter off dead\b",
        r"\benough\b[^.?!]{0,40}?\bto (finish (it|me|myself)( off)?|end it( all)?|not wake up)\b",
        r"\b(can'?t|cannot|can not|unable to|not able to|(don'?t|do not) trust myself to) (keep|stay) (my ?self )?safe\b",
        r"\b(i'?m|i am) not safe (tonight|right now|on my own)\b",
        r"\bhang(ing)? (my ?self|myself)\b|\bnoose\b|\b(bought|buy|buying|got) (a|some) rope\b(?! (swing|ladder))",
        r"\b(i'?ll|i will|i might|going to|gonna|before i) do something (stupid|silly)\b",
        r"\b(research|researching|researched|looking up|looked up|googling|googled) (ways to (do it|die|end it)|how to (die|end it))\b(?! my ?self| at home| with)",
    ) + WELSH["suicide"] + INDIRECT + WELSH_INDIRECT,  # risk said indirectly: nlp/safety_indirect.py
    "self_harm": _compile(
        r"\bself[- ]?harm",
        r"\b(cut|cutting|cuts) (my ?self|myself|my (arms?|legs?|wrists?|thighs?|skin))\b",
        r"\burge to (cut|hurt|harm)\b",
        r"\b(i'?ve|i have|i'?m|i am|i) (started |been |begun |keep |kept )?cutting again\b",
        r"\b(hurt|hurting|harm|harming|burn|burnt|burned|burning|punish|punishing) (my ?self|myself)\b",
        r"\b(till|until) (it|they|i) (bleeds?|bruises?|bleed)\b",
        r"\bblades? (in|under|hidden)\b",
    ) + WELSH["self_harm"],
    "overdose": OVERDOSE,
    "abuse": _compile(
        r"\b(hits|hit|beats|beat|beating|punch(es|ed)?|slap(s|ped)?|kick(s|ed)?|strangl(ed|es|ing)|chok(ed|es|ing)) (me|us|her|him|my (mum|mom|dad|wife|kids?|children|son|daughter))\b",
        r"\b(said|says|threaten(ed|s|ing)?) (he'?d|she'?d|they'?d|to|he would|she would) (kill|hurt|burn|stab)\b",
        r"\b(scared|afraid|frightened|terrified) (to go home|of (him|her|them|my (partner|husband|wife|dad|father|mum|ex)))\b",
        r"\b(don'?t|do not|never) feel safe\b",
        r"\b(kill|hurt|stab|smash|attack) (someone|somebody|him|her|them|my (husband|wife|partner))\b",
        r"\bsmash (his|her|their) face\b",
        r"\b(got|have|carry|carrying) a (knife|gun|blade|weapon)\b",
        r"\btouch(es|ed|ing)? me\b",
        r"\b(rape|raped|sexually|abuse|abused|abusing|abusive)\b",
        r"\b(controls|takes) all (my|her|his) money\b",
        r"\brough with\b",
        r"\bleft alone for days\b",
        r"\bthreatened\b",
    ) + KEPT_FROM_ME + WELSH["abuse"],
    "medical": _compile(
        r"\bchest (pain|pains|is tight|feels tight|tightness)\b",
        r"\b(pain|tight|tightness|pressure) (in|on|across) (my|his|her|the) chest\b",
        r"\b(crushing|tight) (pain|chest)\b",
        r"\b(my|his|her) chest is (really |very )?(tight|sore|hurting)\b",
        r"\bclutching (his|her|my) chest\b",
        r"\b(having|had|is having|think (im|i'?m|he'?s|she'?s) having) a (heart attack|stroke|seizure|fit)\b",
        r"\bheart attack\b",
        r"\b(can'?t|cannot|can not|struggling to|hard to|unable to) (breathe|breath|get (my )?breath)\b",
        r"\b(gasping|fighting) for (breath|air)\b",
        r"\b(stopped|stops|stopping) breathing\b|\b(isn'?t|is not|wasn'?t|was not|not) breathing\b",
        r"\b(lips|face|he|she|baby) (is |are )?(going|turning|gone|turned) (blue|grey|gray)\b",
        r"\b(face|mouth) (has )?(dropped|drooping|droopy)\b",
        r"\bslurr(ed|ing)\b",
        r"\bcan'?t (move|feel) (my|his|her) (right |left )?(arms?|legs?|side|face|hands?|feet)\b",
        r"\bwords (are )?coming out wrong\b",
        r"\bbleeding (heavily|a lot|badly|loads|everywhere)\b",
        r"\b(won'?t|will not|doesn'?t|does not) stop bleeding\b",
        r"\bbleeding (and )?(it )?(won'?t|will not) stop\b",
        r"\b(severe|heavy) (bleeding|blood loss)\b",
        r"\b(coughing|vomiting|throwing) up blood\b",
        r"\bsoaked (through )?\w* ?(towels|pads)\b",
        r"\b(collapsed|unconscious|unresponsive|not responding|blacked out|passed out|fainted)\b",
        r"\b(won'?t|will not|not|isn'?t) (wake|waking) up\b",
        r"\b(floppy|fitting|seizure|convulsing)\b",
        r"\bthroat (is )?(swelling|swollen|closing)\b",
        r"\b(lips?|tongue|mouth)( and (lips?|tongue|face|eyes|throat))? (is |are |have |has |had |was |were )?(swelling|swollen|swelled|puffed up|puffing up|blown up)\b",
        r"\b(face|eyes) and (lips?|tongue|throat) (is |are |have |has |had |was |were )?(swelling|swollen|swelled|puffed up|puffing up)\b",
        r"\banaphyla",
        r"\bworst headache\b",
        r"\brash that (doesn'?t|does not|won'?t) fade\b",
        r"\bnon[- ]?blanching\b",
        r"\bhit (my|his|her) head\b",
        r"\bgrey and clammy|clammy and grey\b",
    ) + WELSH["medical"],
}

CATEGORY_REASONS = {
    "suicide": "possible suicidal thoughts",
    "self_harm": "possible self-harm",
    "overdose": "possible overdose",
    "abuse": "possible abuse or violence",
    "medical": "possible medical emergency",
}

_ANY_OF = {category: re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) for category, patterns in PATTERNS.items()}
"""Each category's patterns as one expression: one search per category instead of one per
pattern (it runs on every free-text answer, on the message path)."""
_PREFILTER = Prefilter(PATTERNS)
"""Which categories may match a text: a category none of whose patterns' literals is in the text
cannot match, and is not searched (:mod:`nlp.safety_prefilter`; most messages hold none at all)."""


def lexicon_match(text: str) -> tuple[str, str] | None:
    """(category, matched words) for the first category with a pattern found (the words found
    first in the text), or None."""
    cleaned = normalise(text)
    for category in _PREFILTER.candidates(cleaned):
        found = _ANY_OF[category].search(cleaned)
        if found:
            return category, found.group(0)
    return None


def lexicon_match_unfiltered(text: str) -> tuple[str, str] | None:
    """:func:`lexicon_match` without the prefilters, every category searched: what it must equal,
    for the tests and the benchmark (scripts/bench/safety_speed.py)."""
    cleaned = normalise_unfiltered(text)
    for category, any_of in _ANY_OF.items():
        found = any_of.search(cleaned)
        if found:
            return category, found.group(0)
    return None
