"""Welsh has no one word for yes or no: the answer echoes the question's verb. "Ai chi yw'r
claf?" is answered Ie or Nage, "Oes gennych chi gar?" Oes or Nac oes, "Oedd y bwyd yn
dda?" Oedd or Nac oedd, "Ydy'r ward yn dawel?" Ydy or Nac ydy, "Wnaethoch chi ...?" (any
past-tense question) Do or Naddo; "Ydych chi ...?" and "Wyt ti ...?" Ydw or Nac ydw, the
built-in buttons. So does a question put with a future, conditional or modal verb: "Hoffech
chi ...?" Hoffwn or Na hoffwn, "Fyddech chi ...?" Byddwn or Na fyddwn, "Fyddwch chi ...?"
Byddaf or Na fyddaf, "Allwch chi ...?" Gallaf or Na allaf, "Allech chi ...?" Gallwn or Na
allwn, "Oeddech chi ...?" Oeddwn or Nac oeddwn, "Ddylen ni ...?" Dylen or Na ddylen. A
yes/no step in Welsh offers, and hints at, the words its question takes
(:func:`welsh_answer_words`); flows/parsing_yes_no.py reads each of them as a yes or a no,
as typed too (:data:`TYPED_YES`, :data:`TYPED_NO`).
"""

from __future__ import annotations

import re

from flows.said_once import sentences

_LEAD = r"^[^\w]*(?:a\s+)?"
"""Anything before the verb: a quote, an emoji, the question particle 'A' ('A oes ...?')."""
_VERBS: tuple[tuple[str, str, str], ...] = (
    (r"ai\b", "Ie", "Nage"),
    (r"oes\b", "Oes", "Nac oes"),
    (r"oedd\b", "Oedd", "Nac oedd"),
    (r"oedd(?:ech|et)\b", "Oeddwn", "Nac oeddwn"),
    (r"(?:ydych|ydach|dych|wyt|ydw)\b", "Ydw", "Nac ydw"),
    (r"(?:ydy|ydi|yw)(?:'r\b|\b)", "Ydy", "Nac ydy"),
    (r"hoff(?:ech|et)\b", "Hoffwn", "Na hoffwn"),
    (r"[fb]ydd(?:ech|et)\b", "Byddwn", "Na fyddwn"),
    (r"[fb]as(?:ech|et)\b", "Baswn", "Na faswn"),
    (r"[fb]ydd(?:wch|i)\b", "Byddaf", "Na fyddaf"),
    (r"[fb]ydd\b", "Bydd", "Na fydd"),
    (r"(?:g?all(?:wch|i)|g?elli)\b", "Gallaf", "Na allaf"),
    (r"[fm]edr(?:wch|i)\b", "Medraf", "Na fedraf"),
    (r"g?all(?:ech|et)\b", "Gallwn", "Na allwn"),
    (r"[fm]edr(?:ech|et)\b", "Medrwn", "Na fedrwn"),
    (r"d?dylen\b", "Dylen", "Na ddylen"),
    (r"d?dyl(?:ech|et)\b", "Dylwn", "Na ddylwn"),
    (r"d?dylai\b", "Dylai", "Na ddylai"),
    (r"g?wn(?:ewch|ei)\b", "Gwnaf", "Na wnaf"),
    (r"(?:\w*(?:och|aist|ost|est)\s+(?:chi|ti)|\w+odd|ddaru)\b", "Do", "Naddo"),
)
FORMS: tuple[tuple[re.Pattern[str], str, str], ...] = tuple(
    (re.compile(_LEAD + verb, re.IGNORECASE), yes, no) for verb, yes, no in _VERBS)
"""The verb a question starts with, mutated ('Fyddwch chi', 'Allwch chi': as asked) or not
('Byddwch chi', 'Gallwch chi'), and its yes and no (the yes unmutated, the no softly mutated:
Gallaf, Na allaf); a past tense by its ending ('wnaethoch chi', 'gawsoch chi', 'wnest ti',
'aeth', 'gafodd') or 'ddaru'. 'Fyddwch' (will you be) and 'Fyddech' (would you be) differ:
Byddaf, Byddwn."""
_BUILT_IN_YES, _BUILT_IN_NO = "YDW", "NAC YDW"


def _typed(yes: str, no: str) -> tuple[set[str], set[str]]:
    """A yes and a no as people type them, in lower case: the no with 'nag' for 'nac' ('nag
    oeddwn') and without its mutation ('na gallaf', 'na byddaf'), and a first-person -af as
    said, -a ('galla', 'na fydda')."""
    yes, no = yes.lower(), no.lower()
    said_yes, said_no = {yes}, {no}
    if no.startswith("nac "):
        said_no.add("nag " + no[4:])
    elif no.startswith("na "):
        said_no.add("na " + yes)
    for words in (said_yes, said_no):
        words |= {word[:-1] for word in words if word.endswith("af")}
    return said_yes, said_no


TYPED_YES: frozenset[str] = frozenset(word for _, yes, no in FORMS for word in _typed(yes, no)[0])
TYPED_NO: frozenset[str] = frozenset(word for _, yes, no in FORMS for word in _typed(yes, no)[1])
"""Every yes and no of :data:`FORMS` as typed (:func:`_typed`)."""
_SOFT = {"b": "f", "m": "f", "d": "dd", "g": ""}


def _mutated(word: str) -> str:
    """A verb softly mutated, as a negative starts: 'gallaf' -> 'allaf', 'byddaf' -> 'fyddaf', 'dylen' -> 'ddylen'."""
    return word if word.startswith("dd") else _SOFT.get(word[0], word[0]) + word[1:]


_VERB_WORDS = {form for yes in TYPED_YES - {"ie", "do"} for form in (yes, _mutated(yes))} | {"dw", "dwi", "dydw", "sa", "sai", "dyw", "doeddwn"}
_VERB_NOT = re.compile(rf"^(?:{'|'.join(sorted(_VERB_WORDS, key=len, reverse=True))})(?:\s+(?:i|fi|ni|chi|ti|nhw))?\s+ddim\b")


def says_verb_not(words: str) -> bool:
    """A reply (normalised, without politeness) that starts with a verb said in the negative,
    the way Welsh says it: 'alla i ddim' (I can't), 'fydda i ddim', 'hoffwn i ddim mynd', 'dw i
    ddim'. Never a bare 'ddim' after a yes ('ydw, ddim yn aml'): the verb must come first."""
    return bool(_VERB_NOT.match(words))


def welsh_answer_words(question: str) -> tuple[str, str] | None:
    """The yes and no a Welsh question takes, by the verb it starts with (:data:`FORMS`): each
    sentence ending in '?' is looked at, and they must agree; None when none tells (then the
    built-in Ydw and Nac ydw)."""
    asked = [sentence for line in question.splitlines() for sentence in sentences(line) if sentence.rstrip(")\"'”’ ").endswith("?")]
    found = {_verb_words(sentence) for sentence in asked}
    return found.pop() if len(found) == 1 else None


def _verb_words(sentence: str) -> tuple[str, str] | None:
    """The yes and no of a question's verb: at its start, or after a phrase set off by a comma
    ("Yn ystod yr wythnos ddiwethaf, wnaethoch chi boeni ...?": Do or Naddo)."""
    clauses = sentence.split(",")
    for start in range(len(clauses)):
        found = next(((yes, no) for pattern, yes, no in FORMS if pattern.search(",".join(clauses[start:]))), None)
        if found is not None:
            return found
    return None


def in_form(hint: str, yes: str, no: str) -> str:
    """A hint naming the built-in YDW and NAC YDW ('Atebwch YDW neu NAC YDW.'), naming the
    question's own instead ('Atebwch IE neu NAGE.'); any other hint as it is."""
    pattern = re.compile(rf"\b(?:{_BUILT_IN_NO}|{_BUILT_IN_YES})\b")
    return pattern.sub(lambda found: (no if found.group() == _BUILT_IN_NO else yes).upper(), hint)
