"""Welsh has no one word for yes or no: the answer echoes the question's verb. "Ai chi yw'r
claf?" is answered Ie or Nage, "Oes gennych chi gar?" Oes or Nac oes, "Oedd y bwyd yn
dda?" Oedd or Nac oedd, "Ydy'r ward yn dawel?" Ydy or Nac ydy, "Wnaethoch chi ...?" (any
past-tense question) Do or Naddo; "Ydych chi ...?" and "Wyt ti ...?" Ydw or Nac ydw, the
built-in buttons. A yes/no step in Welsh offers, and hints at, the words its question takes
(:func:`welsh_answer_words`); flows/parsing_yes_no.py reads each of them as a yes or a no.
"""

from __future__ import annotations

import re

from flows.said_once import sentences

_LEAD = r"^[^\w]*(?:a\s+)?"
"""Anything before the verb: a quote, an emoji, the question particle 'A' ('A oes ...?')."""
FORMS: tuple[tuple[re.Pattern[str], str, str], ...] = (
    (re.compile(_LEAD + r"ai\b", re.IGNORECASE), "Ie", "Nage"),
    (re.compile(_LEAD + r"oes\b", re.IGNORECASE), "Oes", "Nac oes"),
    (re.compile(_LEAD + r"oedd\b", re.IGNORECASE), "Oedd", "Nac oedd"),
    (re.compile(_LEAD + r"(?:ydych|ydach|dych|wyt|ydw)\b", re.IGNORECASE), "Ydw", "Nac ydw"),
    (re.compile(_LEAD + r"(?:ydy|ydi|yw)(?:'r\b|\b)", re.IGNORECASE), "Ydy", "Nac ydy"),
    (re.compile(_LEAD + r"(?:\w*(?:och|aist|ost|est)\s+(?:chi|ti)|\w+odd|ddaru)\b", re.IGNORECASE), "Do", "Naddo"),
)
"""The verb a question starts with, and its yes and no: a past tense by its ending
('wnaethoch chi', 'gawsoch chi', 'wnest ti', 'aeth', 'gafodd') or 'ddaru'."""
_BUILT_IN_YES, _BUILT_IN_NO = "YDW", "NAC YDW"


def welsh_answer_words(question: str) -> tuple[str, str] | None:
    """The yes and no a Welsh question takes, by the verb it starts with (:data:`FORMS`): each
    sentence ending in '?' is looked at, and they must agree; None when none tells (then the
    built-in Ydw and Nac ydw)."""
    asked = [sentence for line in question.splitlines() for sentence in sentences(line) if sentence.rstrip(")\"'”’ ").endswith("?")]
    found = {next(((yes, no) for pattern, yes, no in FORMS if pattern.search(sentence)), None) for sentence in asked}
    return found.pop() if len(found) == 1 else None


def in_form(hint: str, yes: str, no: str) -> str:
    """A hint naming the built-in YDW and NAC YDW ('Atebwch YDW neu NAC YDW.'), naming the
    question's own instead ('Atebwch IE neu NAGE.'); any other hint as it is."""
    pattern = re.compile(rf"\b(?:{_BUILT_IN_NO}|{_BUILT_IN_YES})\b")
    return pattern.sub(lambda found: (no if found.group() == _BUILT_IN_NO else yes).upper(), hint)
