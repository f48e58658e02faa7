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
  risky messages would be flagged by the others (:func:`choose_threshold`).

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
tests/test_fixE_safety_lists.py.

How well this works on messages it has never seen is measured on a second
held-out set, tests/data/safety_heldout_b.csv, which nothing was tuned on
(tests/test_safety.py, scripts/bench/safety.py).

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
# Chosen by choose_threshold() on the reference set (scripts/bench/safety.py prints it again).
THRESHOLD = -0.067
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
                )
            return self._ready


_reference = _Reference()


def vote(vectors: np.ndarray, reference: np.ndarray, risky: np.ndarray,
         k: int = NEIGHBOURS) -> np.ndarray:
    """For each vector, the similarity-weighted vote of its ``k`` nearest
    reference messages: +1 when all are risky, -1 when all are ordinary."""
    sims = vectors @ reference.T
    k = min(k, len(reference))
    near = np.argpartition(-sims, k - 1, axis=1)[:, :k]
    weights = np.maximum(np.take_along_axis(sims, near, axis=1), 0.0) + 1e-6
    signs = np.where(risky[near], 1.0, -1.0)
    return np.asarray((weights * signs).sum(1) / weights.sum(1))


def choose_threshold(vectors: np.ndarray, risky: np.ndarray, recall: float = TARGET_RECALL,
                     folds: int = 10) -> float:
    """The vote threshold at which ``recall`` of the risky reference messages
    would be flagged when each is judged by the others (``folds``-fold
    cross-validation). This is how ``THRESHOLD`` was chosen."""
    order = np.random.default_rng(0).permutation(len(vectors))
    scores = np.zeros(len(vectors))
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        scores[test] = vote(vectors[test], vectors[train], risky[train])
    return float(np.quantile(scores[risky], 1 - recall))


def similarity_match(vectors: np.ndarray, texts: Sequence[str] | None = None) -> list[tuple[str, int, float] | None]:
    """The embedding check alone: for each answer (``texts``, their sentence ``vectors``),
    (category, index of the nearest risky reference message, vote) when it is flagged, else
    None. Flagged: enough content words, a vote at ``THRESHOLD`` or above, and not
    ``EVERYDAY_MARGIN`` closer to an everyday reply than to every risky message (without
    ``texts``, the words are not counted)."""
    ref = _reference.get()
    scores = vote(vectors, ref.vectors, ref.risky)
    risky_sims = np.where(ref.risky, vectors @ ref.vectors.T, -np.inf)
    everyday_sims = (vectors @ ref.everyday.T).max(axis=1) if len(ref.everyday) else np.full(len(vectors), -np.inf)
    found: list[tuple[str, int, float] | None] = []
    for n, score in enumerate(scores):
        best = int(np.argmax(risky_sims[n]))
        everyday = everyday_sims[n] - risky_sims[n, best] >= EVERYDAY_MARGIN
        wordy = texts is None or content_words(texts[n]) >= MIN_CONTENT_WORDS
        flagged = score >= THRESHOLD and wordy and not everyday
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
