"""Welsh words change their first letters after certain words: 'teulu' (family) is 'deulu' after
'ei' (his), 'nheulu' after 'fy' (my) and 'theulu' after 'a' (and), 'â', 'gyda', 'tua' or 'ei'
(her). An option labelled 'Teulu' is named by each of these, so a Welsh reply ('nyrsys a theulu',
'fy nheulu') is read through them: :func:`mutated_names` gives an option's Welsh name as each
mutation leaves it, for the choice and rank steps to add to the names an option answers to.

The three mutations, of a word's first consonant(s):

- soft: p->b, t->d, c->g, b->f, d->dd, g->(dropped), m->f, ll->l, rh->r;
- nasal: p->mh, t->nh, c->ngh, b->m, d->n, g->ng;
- aspirate: p->ph, t->th, c->ch, and an h before a vowel ('ei hoffer', her equipment).
"""

from __future__ import annotations

import re

from flows.parsing_little_words import _LITTLE_WORDS
from flows.parsing_option_words import _negations

_SOFT = (("ll", "l"), ("rh", "r"), ("p", "b"), ("t", "d"), ("c", "g"), ("b", "f"), ("d", "dd"), ("g", ""), ("m", "f"))
_NASAL = (("p", "mh"), ("t", "nh"), ("c", "ngh"), ("b", "m"), ("d", "n"), ("g", "ng"))
_ASPIRATE = (("p", "ph"), ("t", "th"), ("c", "ch"))
_VOWELS = "aeiouwy"
_AS_MUTATED = ("ch", "th", "ph", "dd", "ng", "mh", "nh", "ff")
_ARTICLE = re.compile(r"^(?:y|yr|'r)\s+(?=\w)", re.IGNORECASE)
"""'Y meddyg teulu': the article, which 'a'r', 'i'r' and the like take in place of 'y' and after
which the noun is named ('ei feddyg teulu', his family doctor)."""
SHORTEST = 3
"""Words shorter than this ('yn', 'ac', 'da') are left as they are: a mutated short word is too
easily another word ('dim' -> 'ddim', a negation)."""


def _changed(word: str, table: tuple[tuple[str, str], ...]) -> str | None:
    for radical, mutated in table:
        if word.startswith(radical):
            rest = word[len(radical):]
            return mutated + rest if (mutated + rest) else None
    return None


def mutations(word: str) -> list[str]:
    """The forms a Welsh word takes after the words that mutate it, each once, never the word
    itself: 'teulu' -> 'deulu', 'nheulu', 'theulu'; 'gofalwyr' -> 'ofalwyr', 'ngofalwyr';
    'offer' -> 'hoffer'. A word that begins as a mutation leaves one ('ch', 'th', 'ph', 'dd',
    'ng', 'mh', 'nh') or never mutates ('ff') has none; nor has a word shorter than :data:`SHORTEST`."""
    lower = word.lower()
    if len(lower) < SHORTEST or not lower.isalpha() or lower.startswith(_AS_MUTATED):
        return []
    found = [_changed(lower, table) for table in (_SOFT, _NASAL, _ASPIRATE)]
    if lower[0] in _VOWELS:
        found.append("h" + lower)
    return [form for form in dict.fromkeys(found) if form and form != lower]


def mutated_names(name: str) -> list[str]:
    """A Welsh option name with its first word (after an article, the noun) as each mutation
    leaves it: 'Teulu' -> 'deulu', 'nheulu', 'theulu'; 'Gofalwyr nos' -> 'ofalwyr nos', 'ngofalwyr
    nos'; 'Y meddyg teulu' -> 'feddyg teulu' ('ei feddyg teulu'). The rest of a name keeps its
    form, as the words after the first do in a sentence."""
    text = " ".join(name.split()).lower()
    article = _ARTICLE.match(text)
    head = text[article.end():] if article else text
    first, _, rest = head.partition(" ")
    return [f"{form} {rest}".strip() for form in mutations(first)]


def with_mutations(names: list[list[str]], welsh: list[str]) -> list[list[str]]:
    """Each option's ``names`` with its Welsh name (``welsh``, one per option) as mutations leave
    it (:func:`mutated_names`), but never a form that is an option's own name, a little word or
    a negation, which keep their own meaning ('Dim' is never named by 'ddim', not)."""
    taken = {" ".join(name.lower().split()) for candidates in names for name in candidates}
    return [[*candidates, *(form for form in mutated_names(name)
                            if form not in taken and form not in _LITTLE_WORDS and not _negations(form))]
            for candidates, name in zip(names, welsh, strict=True)]


def is_welsh(language: str) -> bool:
    """Whether a participant's language is Welsh ('cy', 'cy-GB')."""
    return language.split("-")[0].lower() == "cy"
