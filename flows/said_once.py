"""Saying a line once: what is said before a question asked again leaves out the sentences that
question says itself ("(Or reply ADD and a statement of your own.)" is on the question and at the
end of its hint: after "what?" it is said once, with the question); and Chorus's own skip hint
left off a question that offers skipping itself ("Reply SKIP to skip.")."""

from __future__ import annotations

import re

_GAP = re.compile(r"\s+")
_ENDS_A_SENTENCE = re.compile(r"[.!?][)\"']?$")
_ABBREVIATION = re.compile(r"(?:^|\W)(?:e\.g|e\.e|i\.e|etc|Dr|Mr|Mrs|Ms)\.$", re.IGNORECASE)
"""Full stops that end no sentence ('e.g. 3', Welsh 'e.e.')."""
_OFFERS_SKIP = re.compile(
    r"(?<![\w/])/?(?:SKIP|PASS|HEPGOR|PASIO|SGIP)\b"  # in capitals, a word to type
    r"|(?i:\b(?:reply|answer|text|send|type|say|write|atebwch|ateb|anfonwch|teipiwch|tecstiwch)\s+"
    r"[\"'“‘]?/?(?:skip|pass|hepgor|pasio|sgip)\b)"
    r"|(?i:\b(?:or|neu)\s+[\"'“‘]?/?(?:skip|hepgor|sgip)\b)"
)
"""A question's own offer to skip: 'Reply SKIP to skip', 'reply pass', '(or skip)', 'Atebwch HEPGOR',
'neu PASIO'; not 'or pass it to your carer'."""


def sentences(line: str) -> list[str]:
    """One line's sentences, each with its closing bracket or quote: "Please reply A or B. (Or
    reply ADD ...)" is two."""
    found, start = [], 0
    for gap in _GAP.finditer(line):
        before = line[start:gap.start()]
        if _ENDS_A_SENTENCE.search(before) and not _ABBREVIATION.search(before):
            found.append(before)
            start = gap.end()
    found.append(line[start:])
    return [sentence.strip() for sentence in found if sentence.strip()]


def _key(sentence: str) -> str:
    return _GAP.sub(" ", sentence).strip().casefold()


def not_repeated(text: str, asked: str) -> str:
    """``text`` without the sentences ``asked`` (the question sent straight after it) says too,
    compared regardless of case and spacing; as it was when it repeats none of them, and empty
    when it says nothing else. Each of its lines is kept as a line."""
    said = {_key(sentence) for line in asked.splitlines() for sentence in sentences(line)}
    lines = [sentences(line) for line in text.splitlines()]
    if not any(_key(sentence) in said for line in lines for sentence in line):
        return text
    kept = (" ".join(sentence for sentence in line if _key(sentence) not in said) for line in lines)
    return "\n".join(line for line in kept if line)


def with_skip_hint(text: str, hint: str, own_hint: bool) -> str:
    """The question with its skip hint on a line below; Chorus's built-in hint (not ``own_hint``,
    the step's own wording) is left off when the question already offers skipping ("Reply SKIP
    to skip", "Atebwch HEPGOR i hepgor"), so it is never said twice."""
    return text if not own_hint and _OFFERS_SKIP.search(text) else f"{text}\n{hint}"
