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
- flows/parsing_pronoun_one.py: 'one' that is no number ('no one', 'that one', 'pob un', 'dim un'), 'the nurse one';
- flows/parsing_number_sentences.py: a number inside a sentence, and the unit said with it;
- flows/parsing_number_reading.py: what a number reply was read as, and how it is said back ('about 4');
- flows/parsing_durations.py: a length of time said in another unit ('2 weeks' in days), a pregnancy's '23+4';
- flows/parsing_frequencies.py: how often, said for how many ('once a week' last month: about 4), 'never';
- flows/parsing_near_numbers.py: a number said as just over or under it ('just over 2'), checked;
- flows/parsing_ranges.py: two numbers given for one ('3 or 4', '2-3 weeks'), asked about, never stored;
- flows/parsing_clock_spans.py: a length of time said as clock times ('10pm to 4am': 6 hours), checked;
- flows/parsing_not_done.py: what a number question counts said not to have happened ("didn't sleep": 0), checked;
- flows/parsing_yes_no.py: yes or no, and a correction after a no ('no, 3');
- flows/parsing_fact_questions.py: a bare 'ok' to a question of what has happened ('Have you had...?');
- flows/parsing_little_words.py: words that name no option, stems, a word a letter away;
- flows/parsing_option_words.py: an option named by its words inside a longer reply;
- flows/parsing_rejections.py: what a reply does not want ('anything but 2', 'none of them', 'dim 1');
- flows/parsing_emphasis.py: how sure, a kiss or a reason around an answer ('definitely B x', 'A because...');
- flows/parsing_dont_know.py: 'dunno' for a "Don't know" option, never 'they don't know';
- flows/parsing_options.py: which one option a reply picks, never one it rejects;
- flows/parsing_no_preference.py: no preference between the options ('either is fine', 'both the same');
- flows/parsing_picks.py: several picks in one reply.
"""

from __future__ import annotations

from flows.parsing_clock_spans import clock_span_answer, clock_span_minutes
from flows.parsing_dont_know import (
    DONT_KNOW_REPLIES,
    dont_know_option,
    option_says_dont_know,
    said_of_someone_else,
    says_dont_know,
)
from flows.parsing_durations import Conversion, pregnancy_notation
from flows.parsing_emphasis import (
    EMPHASIS,
    REASON_WORDS,
    Reasoned,
    answer_and_reason,
    without_emphasis,
)
from flows.parsing_fact_questions import asks_a_fact, only_assents
from flows.parsing_frequencies import (
    Period,
    SaidFrequency,
    asked_period,
    frequency_answer,
    read_frequency,
)
from flows.parsing_importance import Importance, importance_said
from flows.parsing_little_words import only_little_words, says_only, says_the_opposite
from flows.parsing_near_numbers import near_bound
from flows.parsing_no_preference import names_another, no_preference_option, says_no_preference
from flows.parsing_normalise import MAX_ANSWER_CHARS, normalise, only_politeness, without_politeness
from flows.parsing_not_done import not_done_answer, says_not_done
from flows.parsing_number_reading import Doubt, NumberReading
from flows.parsing_number_sentences import asks_how_long_in_no_unit, read_number
from flows.parsing_number_words import says_a_group, words_to_number
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
from flows.parsing_pronoun_one import described_one, numbers_said, without_pronoun_one
from flows.parsing_ranges import SaidRange, read_range
from flows.parsing_yes_no import (
    LEAD_WORDS,
    UNDECIDED_REPLIES,
    UNSURE_REPLIES,
    parse_yes_no,
    said_after_no,
    says_indifferent,
    says_undecided,
)

__all__ = [
    "DONT_KNOW_REPLIES", "EMPHASIS", "LEAD_WORDS", "MAX_ANSWER_CHARS", "REASON_WORDS", "SENTENCE_WORDS", "SHORT_REPLY_CHARS", "SHORT_REPLY_CUTOFF", "UNDECIDED_REPLIES", "UNSURE_REPLIES",
    "Conversion", "Doubt", "Importance", "NumberReading", "Period", "Reasoned", "SaidFrequency", "SaidRange", "asked_period", "clock_span_answer", "clock_span_minutes", "frequency_answer", "pregnancy_notation", "read_frequency", "answer_and_reason", "asks_a_fact", "described_one", "importance_said", "dont_know_option", "match_option", "match_options", "names_another", "near_bound", "no_preference_option", "normalise", "not_done_answer", "numbers_said", "only_assents", "only_little_words", "only_politeness", "option_says_dont_know",
    "parse_number", "parse_yes_no", "read_number", "asks_how_long_in_no_unit", "read_range", "rejected_number", "rejected_options", "remaining_option", "said_after_no",
    "said_of_someone_else", "says_a_group", "says_dont_know", "says_every_option", "says_indifferent", "says_no_preference", "says_not_done", "says_only", "says_ordinal", "says_the_opposite", "says_undecided", "says_vague_amount", "scale_point",
    "without_emphasis", "without_politeness", "without_pronoun_one", "words_to_number",
]
