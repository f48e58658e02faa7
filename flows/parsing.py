"""Answer understanding that forgives: numbers in words, yes/no, option picks.

Every function is pure and returns ``None`` when it cannot tell; the caller
turns that into a short, specific retry message. The rule throughout: accept
anything with one clear reading ('I'd say 4 thanks', 'the second one', 'yesss',
'sevn'), refuse anything with two ('2 or 3', 'yes and no') or none ('maybe').

The readers live in one short module each, named for what they read; this module gathers
their public names, so that the steps and the engine import them from one place:

- flows/parsing_normalise.py: replies made comparable, politeness dropped;
- flows/parsing_number_words.py: numbers and ordinals in words ('twenty one', 'yr ail');
- flows/parsing_numbers.py: the one number a short reply gives, a point named by its place;
- flows/parsing_number_sentences.py: a number inside a sentence, and the unit said with it;
- flows/parsing_yes_no.py: yes or no, and a correction after a no ('no, 3');
- flows/parsing_little_words.py: words that name no option, stems, a word a letter away;
- flows/parsing_option_words.py: an option named by its words inside a longer reply;
- flows/parsing_rejections.py: what a reply does not want ('anything but 2', 'none of them', 'dim 1');
- flows/parsing_options.py: which one option a reply picks, never one it rejects;
- flows/parsing_picks.py: several picks in one reply.
"""

from __future__ import annotations

from flows.parsing_little_words import only_little_words, says_only
from flows.parsing_normalise import MAX_ANSWER_CHARS, normalise, only_politeness, without_politeness
from flows.parsing_number_sentences import Doubt, NumberReading, read_number
from flows.parsing_number_words import words_to_number
from flows.parsing_numbers import (
    parse_number,
    rejected_number,
    says_ordinal,
    says_vague_amount,
    scale_point,
)
from flows.parsing_option_words import SENTENCE_WORDS
from flows.parsing_options import (
    SHORT_REPLY_CHARS,
    SHORT_REPLY_CUTOFF,
    match_option,
    rejected_options,
    remaining_option,
)
from flows.parsing_picks import match_options, says_every_option
from flows.parsing_yes_no import (
    UNDECIDED_REPLIES,
    UNSURE_REPLIES,
    parse_yes_no,
    said_after_no,
    says_indifferent,
    says_undecided,
)

__all__ = [
    "MAX_ANSWER_CHARS", "SENTENCE_WORDS", "SHORT_REPLY_CHARS", "SHORT_REPLY_CUTOFF", "UNDECIDED_REPLIES", "UNSURE_REPLIES",
    "Doubt", "NumberReading", "match_option", "match_options", "normalise", "only_little_words", "only_politeness",
    "parse_number", "parse_yes_no", "read_number", "rejected_number", "rejected_options", "remaining_option", "said_after_no",
    "says_every_option", "says_indifferent", "says_only", "says_ordinal", "says_undecided", "says_vague_amount", "scale_point",
    "without_politeness", "words_to_number",
]
