"""A safety net for free-text answers: flag those that suggest a risk of harm
to self or others, or a medical emergency, so that a person sees them quickly.

THIS IS NOT A CLINICAL TOOL. It does not assess risk, diagnose, or replace a
safeguarding process; it only raises a flag so that a human looks, and so
that the participant can be pointed to help (the signposting reply and the
alert to the study team live elsewhere). It will miss things, above all
risk expressed obliquely, sarcastically or in a language it does not know,
and it will raise false alarms. It was tuned so that missing a real risk is
much rarer than a false alarm.

Two detectors, either of which flags an answer:

* a lexicon of regular expressions per category (direct and common indirect
  phrasing, written to tolerate missing apostrophes and the unpunctuated text
  of a voice-note transcript), applied after common idioms ("the wait was
  killing me", "I could murder a cup of tea", "chest of drawers") are removed;
* embedding similarity to a set of risk exemplars per category, which catches
  paraphrases the lexicon lacks ("if the cancer doesn't get me I'll do it
  myself"). An answer is flagged when its similarity to the nearest risk
  exemplar reaches ``THRESHOLD`` and beats its similarity to the nearest
  ordinary exemplar by ``MARGIN``.

Categories: ``suicide``, ``self_harm``, ``overdose``, ``abuse`` (abuse or
violence, to or by the writer), ``medical`` (possible medical emergency).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

THRESHOLD = 0.45
MARGIN = 0.02

def _compile(*patterns: str) -> list[re.Pattern[str]]:
    return [re.compile(p) for p in patterns]


# Idioms removed before the lexicon runs (never before the embedding check).
IDIOMS = _compile(
    r"\b(wait(ing)?|queue|suspense|feet|back|heat|noise|boredom|pain) (was |is |were )?(literally )?killing (me|us)\b",
    r"\b(could|would|'d) (murder|kill for) (a|an|some)\b",
    r"\bkill(ed)? two birds\b",
    r"\bchest of drawers\b",
    r"\b(bored|scared|worried|frozen) to death\b",
    r"\b(nearly |almost )?died (of|with|from) (laughing|laughter|embarrassment|shame)\b",
    r"\bdying (for|to) (a|an|some|get|have|go)\b",
    r"\bto die for\b",
    r"\b(nearly|almost) (gave|give) me a heart attack\b",
    r"\bdead (tired|on|good|easy|funny|right|boring)\b",
    r"\bknife and fork\b",
    r"\bbleeding (obvious|ridiculous|joke|nightmare|hell)\b",
    r"\b(rather|sooner) die than (eat|have|go|wait|sit)\b",
    r"\b(overdose|o\.d\.) of (paperwork|forms|caffeine|coffee|vitamin \w+|information)\b",
    r"\bkilling themselves (trying|to keep)\b",
)

_NOT = r"(?:n'?t|not|never)"
PATTERNS: dict[str, list[re.Pattern[str]]] = {
    "suicide": _compile(
        r"\bsuicid",
        r"\bkill(ing)? (my ?self|myself)\b",
        r"\bend(ing)? (it all|my (own )?life|things|it now)\b",
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
    ),
    "self_harm": _compile(
        r"\bself[- ]?harm",
        r"\b(cut|cutting|cuts) (my ?self|myself|my (arms?|legs?|wrists?|thighs?|skin))\b",
        r"\burge to (cut|hurt|harm)\b",
        r"\b(hurt|hurting|harm|harming|burn|burnt|burned|burning|punish|punishing) (my ?self|myself)\b",
        r"\b(till|until) (it|they|i) (bleeds?|bruises?|bleed)\b",
        r"\bblades? (in|under|hidden)\b",
    ),
    "overdose": _compile(
        r"\b(overdose|overdosed|overdosing|o\.d\.)\b",
        r"\b(took|taken|take|swallowed|had|taking) (all|the whole|a whole|whole|too many|loads|lots|a load|a lot|a handful|handfuls|\d+)( of)?( my| her| his| the)?( \w+)? (tablets|pills|meds|medication|paracetamol|co-?codamol|sleeping|painkillers|insulin)\b",
        r"\b(a |the )?(whole |full )?(packet|box|bottle|strip|pot)s? of (paracetamol|pills|tablets|painkillers|meds|co-?codamol|aspirin|ibuprofen)\b",
        r"\bstockpil",
        r"\btook something\b",
        r"\b(pills|tablets) (and|with) (a bottle|vodka|wine|alcohol|drink)\b",
    ),
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
    ),
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
        r"\b(lips|face|he|she|baby) (is |are )?(going|turning|gone|turned) (blue|grey|gray)\b",
        r"\b(face|mouth) (has )?(dropped|drooping|droopy)\b",
        r"\bslurr(ed|ing)\b",
        r"\bcan'?t (move|feel) (my|his|her) (right |left )?(arm|leg|side|face)\b",
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
        r"\banaphyla",
        r"\bworst headache\b",
        r"\brash that (doesn'?t|does not|won'?t) fade\b",
        r"\bnon[- ]?blanching\b",
        r"\bhit (my|his|her) head\b",
        r"\bgrey and clammy|clammy and grey\b",
    ),
}

# Risk exemplars for the embedding check: short, plain statements in the
# voice of a participant. Deliberately not copies of the test set.
RISK_EXEMPLARS: dict[str, list[str]] = {
    "suicide": [
        "I want to kill myself",
        "I don't want to live any more",
        "I'm thinking of ending my life",
        "my family would be better off if I was dead",
        "I can't see any future for myself, I want it to be over",
        "I'd rather not be alive",
        "I've decided how I'm going to do it",
        "nobody would miss me if I was gone",
        "I'm going to take my own life",
        "I don't want to wake up tomorrow",
        "I have no reason left to live",
        "my husband keeps talking about wanting to die",
        "I've made up my mind, I won't be around much longer",
        "I'd be better off in the ground",
        "I've had enough of life",
    ],
    "self_harm": [
        "I've been hurting myself on purpose",
        "I cut myself last night",
        "I self harm when things get bad",
        "my teenager has cuts on her arms",
        "I punched the wall until my hand bled",
    ],
    "overdose": [
        "I've taken an overdose",
        "I swallowed a lot of pills",
        "she took too many tablets",
        "he's taken drugs and won't wake up",
        "I've been saving up my tablets to take them all at once",
        "he took a whole week's tablets in one go",
        "my child swallowed something dangerous",
    ],
    "abuse": [
        "my husband is violent towards me",
        "my partner hurts me and I'm scared",
        "I'm being abused at home",
        "someone is hurting my child",
        "I'm afraid he will kill me",
        "I'm going to hurt him badly",
        "the staff at the home are hurting my mother",
        "I'm not safe at home",
        "my carer is stealing from me and shouts at me",
        "my son pushes me around and takes my money",
        "he locks me in and won't let me leave the house",
        "I'm going to batter someone",
    ],
    "medical": [
        "I have severe chest pain",
        "I can't breathe",
        "he's collapsed and isn't breathing",
        "her face is drooping and she can't talk properly",
        "there's a lot of blood and it won't stop",
        "my baby is very unwell and won't wake up",
        "I think I'm having a stroke",
        "I'm having an allergic reaction and my throat is closing",
        "I'm seriously ill right now and need an ambulance",
        "sudden terrible pain and I'm going to pass out",
        "heavy pressure on my chest and I'm sweating",
        "one side of her body has gone weak and she's confused",
    ],
}

# Ordinary answers the risk exemplars must out-score before an answer is
# flagged on similarity alone: hospital feedback that mentions pain, blood,
# death or anger without anyone being at risk now.
ORDINARY_EXEMPLARS: tuple[str, ...] = (
    "the waiting time in A&E was far too long",
    "the nurses were kind and caring",
    "I was in pain for hours before I got painkillers",
    "the food was cold",
    "parking is expensive",
    "nobody told us what was happening",
    "my mum passed away peacefully and the staff were lovely",
    "I had a blood test and it was fine",
    "I was angry about how long we waited",
    "the ward was short staffed",
    "I had chest pain last year and it was treated",
    "the discharge was delayed",
    "I'm feeling a bit down but coping",
    "thank you for looking after me",
    "yes please",
    "I had an operation and the pain relief was good",
)


CATEGORY_REASONS = {
    "suicide": "possible suicidal thoughts",
    "self_harm": "possible self-harm",
    "overdose": "possible overdose",
    "abuse": "possible abuse or violence",
    "medical": "possible medical emergency",
}


@dataclass(frozen=True)
class SafetyResult:
    flagged: bool
    category: str | None
    reason: str
    score: float


def normalise(text: str) -> str:
    """Lower case, straight apostrophes, idioms removed, single spaces."""
    text = text.lower().replace("\u2019", "'").replace("\u2018", "'")
    for idiom in IDIOMS:
        text = idiom.sub(" ", text)
    return re.sub(r"\s+", " ", text).strip()


def lexicon_match(text: str) -> tuple[str, str] | None:
    """(category, matched words) for the first pattern found, or None."""
    cleaned = normalise(text)
    for category, patterns in PATTERNS.items():
        for pattern in patterns:
            found = pattern.search(cleaned)
            if found:
                return category, found.group(0)
    return None


class _Exemplars:
    """Embedded exemplars, computed once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: tuple[np.ndarray, list[str], np.ndarray] | None = None

    def get(self) -> tuple[np.ndarray, list[str], np.ndarray]:
        with self._lock:
            if self._ready is None:
                from nlp.embed import embed

                texts = [t for texts in RISK_EXEMPLARS.values() for t in texts]
                labels = [c for c, texts in RISK_EXEMPLARS.items() for _ in texts]
                self._ready = (embed(texts), labels, embed(list(ORDINARY_EXEMPLARS)))
            return self._ready


_exemplars = _Exemplars()


def warm_up() -> None:
    """Load the model and embed the exemplars now, so the first answer checked need not wait."""
    _exemplars.get()


def assess_batch(texts: Sequence[str], vectors: np.ndarray | None = None) -> list[SafetyResult]:
    """Assess many answers at once (one embedding pass). ``vectors`` may give
    their precomputed sentence embeddings (:func:`nlp.embed.embed`)."""
    if not texts:
        return []
    risk, labels, ordinary = _exemplars.get()
    if vectors is None:
        from nlp.embed import embed

        vectors = embed(list(texts))
    risk_sims = vectors @ risk.T
    safe_sims = (vectors @ ordinary.T).max(axis=1)
    results = []
    for n, text in enumerate(texts):
        best = int(np.argmax(risk_sims[n]))
        score = float(risk_sims[n, best])
        hit = lexicon_match(text)
        if hit is not None:
            category, words = hit
            reason = f"{CATEGORY_REASONS[category]}: mentions '{words}'"
            results.append(SafetyResult(True, category, reason, max(score, 1.0)))
        elif score >= THRESHOLD and score >= safe_sims[n] + MARGIN:
            category = labels[best]
            reason = f"{CATEGORY_REASONS[category]}: reads like '{_exemplar_text(best)}'"
            results.append(SafetyResult(True, category, reason, round(score, 4)))
        else:
            results.append(SafetyResult(False, None, "", round(score, 4)))
    return results


def _exemplar_text(index: int) -> str:
    return [t for texts in RISK_EXEMPLARS.values() for t in texts][index]


def assess(text: str) -> SafetyResult:
    """Assess one answer, typed or transcribed from a voice note."""
    return assess_batch([text])[0]
