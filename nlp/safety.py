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
* a vote of the ``NEIGHBOURS`` most similar messages (MiniLM sentence
  vectors, weighted by similarity) in a labelled reference set of risky and
  ordinary messages (``safety_reference.csv``: the development set
  tests/data/safety.csv, the first held-out set tests/data/safety_heldout.csv
  once its misses had been studied, short exemplars, and replies that are
  lists, source ``lists``). It catches
  paraphrases the lexicon lacks ("if the cancer doesn't get me I'll do it
  myself"); the ordinary messages, hard negatives among them ("this wait is
  killing me"), keep it from flagging every mention of pain or death. An
  answer is flagged when the vote reaches ``THRESHOLD``, chosen by
  cross-validation on the reference set so that ``TARGET_RECALL`` of its
  risky messages would be flagged by the others or by the patterns
  (:func:`choose_thresholds`).

Overdose and self-poisoning: among medication talk the sentence vectors read
the topic, not the dose, so "I take 2 paracetamol for my back" and "20
paracetamol and vodka" sit side by side (18 of 30 ordinary remarks about
medicines and drink were flagged, and "20 paracetamol and vodka", too short for
the vote, was not). The patterns read what decides: a quantity
already too many ("20", "a handful", "the whole box", "all my"; not "2") after
a verb of taking, or with drink either way round; medicines saved up or hidden
("saving up my tablets", "a stash of pills"); intent ("on purpose", "for the
right moment"). The reference set holds medication talk on both sides (source
``medicines``), and an answer most of whose nearest reference messages name a
medicine or drink (:func:`among_medicines`) needs the stricter
``MEDICINE_THRESHOLD``, chosen so that at most ``MEDICINE_FALSE_ALARMS`` of
the ordinary ones would be flagged. Measured on 60 messages never tuned on:
tests/test_overdose_language.py.

Short everyday replies ("I'm fine", "about 3 times", "can't decide") sit
close to everything in a sentence-vector space, so the vote alone once
flagged a third of them. The embedding check therefore also needs
``MIN_CONTENT_WORDS`` words that are not function words, and gives way when
the answer is ``EVERYDAY_MARGIN`` closer to one of the reference set's
everyday replies (its rows from ``everyday``: not part of the vote) than to
any risky message. Short explicit risk ("kill myself", "overdose", "want to
die") is the lexicon's to catch. Measured on 82 everyday replies and every
risky example in tests/data: tests/test_safety_everyday.py.

A bare list of a question's topics ("feet, eyes and diet", "pain, sleep and
mood") has no sentence around its words, so it sat nearest to whichever risky
message shared one of them: half of 25 such lists were flagged, and a
participant picking options in their own words was sent crisis signposting.
The ``lists`` rows (ordinary lists of topics, and a few risky lists, so that
"razor, cuts, bleeding" still reads as risk) bring that to 2 of the 25, every
risky list and every risky example in tests/data still flagged:
tests/test_safety_lists.py.

How well this works on messages it has never seen is measured on a second
held-out set, tests/data/safety_heldout_b.csv (tests/test_safety.py,
scripts/bench/safety.py). Nothing was tuned on it until the overdose change,
which consulted it as a guard and wrote four general patterns after seeing its
misses (see the bench's notes), so its pattern figures now flatter a little.

Categories: ``suicide``, ``self_harm``, ``overdose``, ``abuse`` (abuse or
violence, to or by the writer), ``medical`` (possible medical emergency).
"""

from __future__ import annotations

import csv
import re
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

REFERENCE = Path(__file__).with_name("safety_reference.csv")
NEIGHBOURS = 10
TARGET_RECALL = 0.98
MEDICINE_FALSE_ALARMS = 0.1
# Both chosen by choose_thresholds() on the reference set (scripts/bench/safety.py prints them
# again, with the recall and false alarms they give there).
THRESHOLD = -0.041
MEDICINE_THRESHOLD = 0.034
"""The vote an answer among medication talk needs (:func:`among_medicines`)."""
MIN_CONTENT_WORDS = 3
"""The embedding check looks only at answers with at least this many content words."""
EVERYDAY_MARGIN = 0.15
"""How much closer to an everyday reply than to any risky message an answer must be for the
embedding check to leave it (chosen on the everyday and risky sets named above)."""
EVERYDAY_SOURCE = "everyday"
FUNCTION_WORDS = frozenset((
    "i", "im", "i'm", "i'd", "id", "i've", "ive", "me", "my", "a", "an", "the", "and", "or", "but",
    "so", "to", "of", "in", "on", "at", "for", "it", "its", "it's", "is", "was", "be", "been", "am",
    "are", "do", "did", "does", "dont", "don't", "not", "no", "yes", "ok", "please", "just", "really",
    "very", "that", "this", "with", "about", "some",
))

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
    # a daily regimen ("12 tablets a day", "6 pills every morning") is not a quantity taken at once
    r"\b(\d+|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve) (different )?(tablets|pills|capsules|meds|medicines|inhalers) (a|per|each|every) (day|morning|night|evening|week)\b",
    r"\btook something (for|to help)\b",
)

_NOT = r"(?:n'?t|not|never)"
_DRUG = (
    r"(?:tablets?|pills?|meds|medications?|medicines?|capsules|painkillers|antidepressants|prescription|"
    r"paracetamol|co-?codamol|co codamol|codeine|ibuprofen|aspirin|naproxen|sertraline|citalopram|fluoxetine|"
    r"amitriptyline|mirtazapine|diazepam|valium|xanax|zopiclone|pregabalin|gabapentin|tramadol|morphine|"
    r"oxycodone|methadone|insulin|lithium|quetiapine|olanzapine|propranolol|calpol)\b"
)
"""Medicines people take too many of: the generic words and the drugs most often named in overdoses."""
_CONTAINERS = r"(?:packets?|packs?|box(?:es)?|bottles?|strips?|pots?|tubs?|blister packs?)"
_MANY = (
    r"(?:(?:like|about|around|maybe|over|nearly|almost|at least) )?"
    r"(?:\d{2,}(?! ?(?:mg|mcg|ml|g|units?|micrograms?|hours?|minutes?|days?|weeks?|years?)\b)"
    r"|(?:ten|eleven|twelve|(?:thir|four|fif|six|seven|eigh|nine)teen|(?:twen|thir|for|fif|six|seven|eigh|nine)ty|a hundred)"
    r"|too many|a handful|handfuls|loads|lots|a load|a lot|the lot|the rest|all|every"
    rf"|(?:(?:the|a|my|her|his) )?(?:whole|full|entire)(?: {_CONTAINERS})?|(?:a|the|\d|two|three|four|five|a few|several) {_CONTAINERS})"
    r"(?: of)?(?: (?:my|her|his|the|their|them|those|these|mums?|dads?|nans?|\w+'s))?(?: \w+)? " + _DRUG
)
"""A quantity of a medicine already too many to take at once ("20 paracetamol", "a handful of
my diazepam", "a whole strip of zopiclone", "3 boxes of ibuprofen"); "2 paracetamol" is not."""
_NOT_TAKEN = (r"(?! (?:checked|reviewed|changed|stopped|swapped|reduced|increased|sorted|delivered|dispensed|taken away"
              r"|to (?:the|my|a|be)|back|into|in to|with me|with us|along|on holiday)\b)")
"""After a quantity taken: the words that say it was not swallowed ("took all my tablets to the GP")."""
_DRINK = r"(?:vodka|wine|whisky|whiskey|gin|rum|brandy|cider|beer|lager|cans|booze|spirits|tequila|alcohol|a bottle)\b"
_AND = r"(?:\band\b|\bwith\b|\bplus\b|\bthen\b|washed down with|\+|&)"
_INTENT = (r"(?:on purpose|deliberately|and let it happen|want(?:ed)? (?:it|everything|it all) to (?:stop|end|be over)|to (?:end it|make it (?:all )?stop|finish it|not wake up)"
           r"|for (?:the right (?:moment|time|day)|when i'?ve had enough)|so (?:they|nobody|no one) (?:don'?t|doesn'?t|won'?t) notice)")
"""Words that say a medicine is taken, or kept, to do harm."""
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
        r"\benough\b[^.?!]{0,40}?\bto (finish (it|me|myself)( off)?|end it( all)?|not wake up)\b",
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
        # something taken: a quantity after a verb in the past ("took 30 co-codamol", "had all my tablets")...
        r"\b(took|taken|swallowed|swallowd|had|necked|downed|ate|eaten|popped|injected) " + _MANY + _NOT_TAKEN,
        # ... or about to be ("thinking about taking all my tablets"); not the habit of "I take 14 tablets", "a
        # handful of pills every morning" or "all my tablets at once with breakfast"
        r"\b(thinking (about|of)|going to|gonna|want(ed)? to|planning to|plan to|tempted to|urge to) (take|taking|swallow|swallowing) "
        r"(" + _MANY + _NOT_TAKEN + r"|(them|it) all\b|all of (them|it)|the lot\b|enough\b)",
        rf"\b((whole|full|entire) {_CONTAINERS}|(\d+|two|three|four|five|several|a few) {_CONTAINERS}) of (\w+ )?" + _DRUG + _NOT_TAKEN,
        # a quantity of a medicine with drink, either way round ("20 paracetamol and vodka")
        r"\b" + _MANY + r"\b[^.?!]{0,30}?" + _AND + r"[^.?!]{0,25}?\b" + _DRINK,
        r"\b" + _DRINK + r"[^.?!]{0,30}?" + _AND + r" " + _MANY,
        r"\b(pills|tablets|meds) (and|with) (a bottle|half a bottle|vodka|whisky|gin|wine|cider|booze)\b",
        # medicines put by ("saving up my tablets", "stashed away enough pills", "a stash of tablets")
        r"\bstockpil",
        r"\b(saving|saved|save|hoarding|hoarded|hoard|stashing|stashed|squirrelling|kept back|keeping back|putting aside|put aside|putting by|put by)"
        r"( up| away| aside| back| by)?( all| some| enough| a few)?( of)?( (my|her|his|the|their))?( \w+)? " + _DRUG,
        r"\b(putting|put|keeping|kept|saving|saved) (my|her|his|the|some) (\w+ )?" + _DRUG + r" (aside|by|back|up)\b",
        r"\b" + _DRUG + r" (saved up|stashed|hoarded|hidden away|put aside|put by|stockpiled)\b",
        r"\b(stash|hoard) of (\w+ )?" + _DRUG,
        r"\b(lethal|fatal|deadly) (dose|amount)\b",
        r"\bhow many (of (my|these|them|the|her|his) )?(\w+ )?(it would|would it|it'?d|will it|does it|do i need to|i'?d need to|i would need to) (take|kill)\b",
        # a medicine named with words of intent, either way round ("took extra insulin on purpose")
        r"\b" + _DRUG + r"[^.?!]{0,40}?\b" + _INTENT,
        r"\b" + _INTENT + r"[^.?!]{0,40}?\b" + _DRUG,
        r"\btook something\b",
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
        # medicines kept from someone ("won't let me take my medication", "hides my tablets")
        r"\b(won'?t|will not|doesn'?t|does not) (let me (take|have)|give me) my (\w+ )?" + _DRUG,
        r"\b(hides|hid|hiding|withholds|withheld|withholding) my (\w+ )?" + _DRUG,
        r"\bkeeps my (\w+ )?" + _DRUG + r" from me\b",
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
    ),
}

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


_ANY_OF = {category: re.compile("|".join(f"(?:{p.pattern})" for p in patterns)) for category, patterns in PATTERNS.items()}
"""Each category's patterns as one expression: one search per category instead of one per
pattern (it runs on every free-text answer, on the message path)."""


def lexicon_match(text: str) -> tuple[str, str] | None:
    """(category, matched words) for the first category with a pattern found (the words found
    first in the text), or None."""
    cleaned = normalise(text)
    for category, any_of in _ANY_OF.items():
        found = any_of.search(cleaned)
        if found:
            return category, found.group(0)
    return None


@dataclass(frozen=True)
class Reference:
    """The labelled reference messages and their sentence vectors."""

    texts: list[str]
    risky: np.ndarray
    categories: list[str]
    vectors: np.ndarray
    everyday: np.ndarray
    """The vectors of the everyday replies (:func:`everyday_rows`)."""
    medicine: np.ndarray
    """Whether each message names a medicine or a drink (:func:`names_medicine`)."""


def _all_rows() -> list[dict[str, str]]:
    with REFERENCE.open(newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def reference_rows() -> list[dict[str, str]]:
    """The labelled messages the vote is taken over (and ``THRESHOLD`` chosen on)."""
    return [row for row in _all_rows() if row["source"] != EVERYDAY_SOURCE]


def everyday_rows() -> list[dict[str, str]]:
    """Short everyday replies ("remind me friday", "2 or 3 times"): an answer much closer to
    one of them than to any risky message is left to the lexicon."""
    return [row for row in _all_rows() if row["source"] == EVERYDAY_SOURCE]


def content_words(text: str) -> int:
    """How many words of ``text`` are not function words ("i", "the", "not", "please"...)."""
    return sum(word not in FUNCTION_WORDS for word in re.findall(r"[a-z']+", normalise(text)))


_MEDICINE_OR_DRINK = re.compile(rf"\b{_DRUG}|\b{_DRINK}")


def names_medicine(text: str) -> bool:
    """Whether ``text`` names a medicine or a drink ("my tablets", "paracetamol", "wine")."""
    return _MEDICINE_OR_DRINK.search(normalise(text)) is not None


class _Reference:
    """The reference set, embedded once per process."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._ready: Reference | None = None

    def get(self) -> Reference:
        with self._lock:
            if self._ready is None:
                from nlp.embed import embed

                rows, everyday = reference_rows(), [r["text"] for r in everyday_rows()]
                texts = [r["text"] for r in rows]
                vectors = embed(texts + everyday)
                self._ready = Reference(
                    texts=texts,
                    risky=np.array([r["risky"] == "1" for r in rows]),
                    categories=[r["category"] for r in rows],
                    vectors=vectors[:len(texts)],
                    everyday=vectors[len(texts):],
                    medicine=np.array([names_medicine(text) for text in texts]),
                )
            return self._ready


_reference = _Reference()


def nearest(vectors: np.ndarray, reference: np.ndarray, k: int = NEIGHBOURS) -> tuple[np.ndarray, np.ndarray]:
    """For each vector, the indices of its ``k`` most similar reference messages and their similarities."""
    sims = vectors @ reference.T
    k = min(k, len(reference))
    near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    return near, np.take_along_axis(sims, near, axis=1)


def vote(vectors: np.ndarray, reference: np.ndarray, risky: np.ndarray,
         k: int = NEIGHBOURS) -> np.ndarray:
    """For each vector, the similarity-weighted vote of its ``k`` nearest
    reference messages: +1 when all are risky, -1 when all are ordinary."""
    near, sims = nearest(vectors, reference, k)
    weights = np.maximum(sims, 0.0) + 1e-6
    signs = np.where(risky[near], 1.0, -1.0)
    return np.asarray((weights * signs).sum(1) / weights.sum(1))


def among_medicines(vectors: np.ndarray, reference: np.ndarray, medicine: np.ndarray) -> np.ndarray:
    """Whether most of each answer's nearest reference messages name a medicine or a drink.

    Among medication talk the sentence vectors read the topic, not the dose: "I take 2
    paracetamol for my back" and "took 20 paracetamol with vodka" sit side by side. There the
    patterns, which read quantities, drink and intent, do most of the work, and the vote must
    reach ``MEDICINE_THRESHOLD``. Decided from the vectors alone, so that the check needs no
    text to agree with itself."""
    near, _ = nearest(vectors, reference)
    return np.asarray(medicine[near].mean(axis=1) >= 0.5)


@dataclass(frozen=True)
class Thresholds:
    general: float
    medicine: float


def cross_validated(vectors: np.ndarray, risky: np.ndarray, medicine: np.ndarray,
                    folds: int = 10) -> tuple[np.ndarray, np.ndarray]:
    """Each reference message's vote, and whether it sits among medication talk, when it is
    judged by the others (``folds``-fold cross-validation)."""
    order = np.random.default_rng(0).permutation(len(vectors))
    scores = np.zeros(len(vectors))
    medicines = np.zeros(len(vectors), dtype=bool)
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        scores[test] = vote(vectors[test], vectors[train], risky[train])
        medicines[test] = among_medicines(vectors[test], vectors[train], medicine[train])
    return scores, medicines


def choose_thresholds(vectors: np.ndarray, risky: np.ndarray, medicine: np.ndarray, caught: np.ndarray,
                      recall: float = TARGET_RECALL, false_alarms: float = MEDICINE_FALSE_ALARMS) -> Thresholds:
    """The vote thresholds, by cross-validation on the reference set (:func:`cross_validated`):
    ``general``, at which ``recall`` of the risky messages outside medication talk would be
    flagged, by the vote or by the patterns (``caught``: what Chorus runs is both);
    ``medicine``, at which no more than ``false_alarms`` of the ordinary messages among
    medication talk would be flagged by the vote. This is how ``THRESHOLD`` and
    ``MEDICINE_THRESHOLD`` were chosen (scripts/bench/safety.py prints them again, with the
    recall and false alarms they give)."""
    scores, medicines = cross_validated(vectors, risky, medicine)
    found = np.where(caught, np.inf, scores)
    general = float(np.quantile(found[risky & ~medicines], 1 - recall))
    ordinary_medicine = scores[~risky & medicines]
    medicine_threshold = float(np.quantile(ordinary_medicine, 1 - false_alarms)) if len(ordinary_medicine) else general
    return Thresholds(general, max(general, medicine_threshold))


def choose_threshold(vectors: np.ndarray, risky: np.ndarray, texts: Sequence[str] | None = None,
                     recall: float = TARGET_RECALL) -> float:
    """``THRESHOLD``: the general threshold :func:`choose_thresholds` chooses for the reference
    messages ``texts`` (by default the reference set's: :func:`reference_rows`), given their ``vectors``."""
    texts = [row["text"] for row in reference_rows()] if texts is None else texts
    if len(texts) != len(vectors):
        raise ValueError("choose_threshold needs the texts of the messages the vectors are of")
    medicine = np.array([names_medicine(text) for text in texts])
    caught = np.array([lexicon_match(text) is not None for text in texts])
    return choose_thresholds(vectors, risky, medicine, caught, recall).general


def similarity_match(vectors: np.ndarray, texts: Sequence[str] | None = None) -> list[tuple[str, int, float] | None]:
    """The embedding check alone: for each answer (``texts``, their sentence ``vectors``),
    (category, index of the nearest risky reference message, vote) when it is flagged, else
    None. Flagged: enough content words, a vote at ``THRESHOLD`` or above (``MEDICINE_THRESHOLD``
    among medication talk: :func:`among_medicines`), and not ``EVERYDAY_MARGIN`` closer to an
    everyday reply than to every risky message (without ``texts``, the words are not counted)."""
    ref = _reference.get()
    scores = vote(vectors, ref.vectors, ref.risky)
    thresholds = np.where(among_medicines(vectors, ref.vectors, ref.medicine), MEDICINE_THRESHOLD, THRESHOLD)
    risky_sims = np.where(ref.risky, vectors @ ref.vectors.T, -np.inf)
    everyday_sims = (vectors @ ref.everyday.T).max(axis=1) if len(ref.everyday) else np.full(len(vectors), -np.inf)
    found: list[tuple[str, int, float] | None] = []
    for n, score in enumerate(scores):
        best = int(np.argmax(risky_sims[n]))
        everyday = everyday_sims[n] - risky_sims[n, best] >= EVERYDAY_MARGIN
        wordy = texts is None or content_words(texts[n]) >= MIN_CONTENT_WORDS
        flagged = score >= thresholds[n] and wordy and not everyday
        found.append((ref.categories[best], best, float(score)) if flagged else None)
    return found


def warm_up() -> None:
    """Load the model and embed the reference messages now, so the first answer checked need not wait."""
    _reference.get()


def assess_batch(texts: Sequence[str], vectors: np.ndarray | None = None) -> list[SafetyResult]:
    """Assess many answers at once (one embedding pass). ``vectors`` may give
    their precomputed sentence embeddings (:func:`nlp.embed.embed`)."""
    if not texts:
        return []
    ref = _reference.get()
    if vectors is None:
        from nlp.embed import embed

        vectors = embed(list(texts))
    similar = similarity_match(vectors, texts)
    scores = vote(vectors, ref.vectors, ref.risky)
    results = []
    for n, text in enumerate(texts):
        score = round(float(scores[n]), 4)
        hit = lexicon_match(text)
        near = similar[n]
        if hit is not None:
            category, words = hit
            reason = f"{CATEGORY_REASONS[category]}: mentions '{words}'"
            results.append(SafetyResult(True, category, reason, 1.0))
        elif near is not None:
            category, best, _ = near
            reason = f"{CATEGORY_REASONS[category]}: reads like '{ref.texts[best]}'"
            results.append(SafetyResult(True, category, reason, score))
        else:
            results.append(SafetyResult(False, None, "", score))
    return results


def assess(text: str) -> SafetyResult:
    """Assess one answer, typed or transcribed from a voice note."""
    return assess_batch([text])[0]
