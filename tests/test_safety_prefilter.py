"""The literal prefilter of the safeguarding lexicon (nlp/safety_prefilter.py) changes nothing it
finds: every pattern's necessary literals are in every match of it, on the sentences of the
safety tests and their variants and on strings built to match each pattern; ``lexicon_match``
and ``normalise`` equal their unfiltered selves on all of those and on arbitrary text; and the
extraction reads small expressions (alternation, optional parts, lookarounds, classes, repeats)
as it should. Speed: scripts/bench/safety_speed.py.
"""

from __future__ import annotations

import ast
import csv
import re
from functools import cache
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nlp.safety_patterns import PATTERNS, lexicon_match, lexicon_match_unfiltered
from nlp.safety_prefilter import (
    MAX_STRINGS,
    Prefilter,
    combined_literals,
    literal_search,
    necessary_literals,
)
from nlp.safety_text import IDIOMS, fold_accents, normalise, normalise_unfiltered

TESTS = Path(__file__).parent
SOURCES = [*sorted(TESTS.glob("test_safety*.py")), TESTS / "test_overdose_language.py"]
DATA = ["safety.csv", "safety_heldout.csv", "safety_heldout_b.csv", "comments.csv", "safety_indirect_dev.csv",
        "safety_indirect_heldout.csv"]
EVERY_PATTERN = [(category, p) for category, patterns in PATTERNS.items() for p in patterns] + [("idiom", p) for p in IDIOMS]
IDS = [f"{category}-{i}" for i, (category, _) in enumerate(EVERY_PATTERN)]
FEW = settings(max_examples=12, deadline=None, database=None, suppress_health_check=list(HealthCheck))


def string_literals(path: Path) -> list[str]:
    """Every string in a test module with a space in it: its sentences, module-level or inline."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = (node.value for node in ast.walk(tree) if isinstance(node, ast.Constant) and isinstance(node.value, str))
    return [text for text in found if " " in text.strip()]


def variants(text: str, other: str) -> list[str]:
    """The ways people send the same words: shouted, accented and curly, unpunctuated, run on."""
    return [
        text, text.upper(), text.replace("a", "â").replace("o", "ô").replace("'", "\u2019"),
        re.sub(r"[^\w\s]", "", text), re.sub(r"[^\w\s]", " ", text), text.replace(" ", "  "),
        f"Honestly, {text} and the food was cold", f"{text}. {other}", f"{text}{other}",
    ]


@cache
def sentences() -> list[str]:
    texts = [text for path in SOURCES for text in string_literals(path)]
    for name in DATA:
        with (TESTS / "data" / name).open(newline="", encoding="utf-8") as fh:
            texts += [row["text"] for row in csv.DictReader(fh)]
    return list(dict.fromkeys(texts))


@cache
def corpus() -> list[str]:
    """The sentences and their variants, as typed and as the patterns read them (lower case, and
    normalised)."""
    base = sentences()
    typed = [v for i, text in enumerate(base) for v in variants(text, base[(i * 7 + 3) % len(base)])]
    return list(dict.fromkeys([*(t.lower() for t in typed), *(normalise_unfiltered(t) for t in typed)]))


@cache
def literals_of(pattern: re.Pattern[str]) -> frozenset[str] | None:
    return necessary_literals(pattern)


def assert_literal_in_every_match(pattern: re.Pattern[str], text: str) -> int:
    """Asserts that each match of ``pattern`` in ``text`` holds one of its literals; how many matched."""
    literals = literals_of(pattern)
    matches = list(pattern.finditer(text))
    for found in matches:
        assert literals is None or any(literal in found.group(0) for literal in literals), (pattern.pattern, found.group(0))
    return len(matches)


# ----------------------------------------------------------------------------- soundness


def test_the_corpus_is_large_and_many_sentences_match_a_pattern() -> None:
    assert len(sentences()) >= 900 and len(corpus()) >= 8000
    assert sum(lexicon_match_unfiltered(text) is not None for text in sentences()) >= 300


def test_every_pattern_has_necessary_literals() -> None:
    """No pattern is left to run on every message."""
    missing = [p.pattern for _, p in EVERY_PATTERN if necessary_literals(p) is None]
    assert not missing, "these would be run on every message (and their category with them): give each a fixed word"


def test_every_match_of_every_pattern_on_the_corpus_holds_one_of_its_literals() -> None:
    matched = {pattern.pattern: 0 for _, pattern in EVERY_PATTERN}
    for text in corpus():
        for _, pattern in EVERY_PATTERN:
            matched[pattern.pattern] += assert_literal_in_every_match(pattern, text)
    assert sum(count > 0 for count in matched.values()) >= len(matched) * 0.6, "too few patterns exercised"


@pytest.mark.parametrize(("category", "pattern"), EVERY_PATTERN, ids=IDS)
def test_strings_built_to_match_a_pattern_hold_its_literals_and_are_read_as_before(
    category: str, pattern: re.Pattern[str],
) -> None:
    @FEW
    @given(st.from_regex(pattern))
    def check(text: str) -> None:
        if pattern.search(text):
            assert_literal_in_every_match(pattern, text)
        assert lexicon_match(text) == lexicon_match_unfiltered(text)
        assert normalise(text) == normalise_unfiltered(text)

    check()


# ----------------------------------------------------------------------------- the same answers


def test_lexicon_match_and_normalise_are_as_before_on_every_sentence_and_variant() -> None:
    for text in corpus():
        assert normalise(text) == normalise_unfiltered(text), text
        assert lexicon_match(text) == lexicon_match_unfiltered(text), text


@settings(max_examples=400, deadline=None, database=None)
@given(st.text())
def test_lexicon_match_and_normalise_are_as_before_on_any_text(text: str) -> None:
    assert normalise(text) == normalise_unfiltered(text)
    assert lexicon_match(text) == lexicon_match_unfiltered(text)


@settings(max_examples=300, deadline=None, database=None)
@given(st.text())
def test_accents_are_folded_as_before(text: str) -> None:
    import unicodedata

    assert fold_accents(text) == "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))


def test_str_split_and_backslash_s_agree_on_every_character() -> None:
    """normalise joins ``text.split()`` where it used ``re.sub(r"\\s+", " ", text).strip()``."""
    chars = (chr(code) for code in range(0x110000))
    assert [c for c in chars if c.isspace() != bool(re.fullmatch(r"\s", c))] == []


def test_most_ordinary_comments_search_no_category_and_remove_no_idiom() -> None:
    """The point of it: an everyday message is searched for no category at all."""
    with (TESTS / "data" / "comments.csv").open(newline="", encoding="utf-8") as fh:
        comments = [normalise(row["text"]) for row in csv.DictReader(fh)]
    prefilter = Prefilter(PATTERNS)
    searched = sum(any(True for _ in prefilter.candidates(text)) for text in comments)
    assert searched <= len(comments) * 0.15, searched
    idioms = literal_search(combined_literals(IDIOMS) or {""})
    assert sum(idioms.search(text) is not None for text in comments) <= len(comments) * 0.1


# ----------------------------------------------------------------------------- the extraction


@pytest.mark.parametrize(("regex", "literals"), [
    (r"\bkill(ing)? (my ?self|myself)\b", {"kill myself", "kill my self", "killing myself", "killing my self"}),
    (r"abc|def", {"abc", "def"}),  # alternation: the union
    (r"(?:abc|\d+)xyz", {"xyz"}),  # a branch with none: the rest of the sequence decides
    (r"abc|\d+", None),  # ... and alone, nothing
    (r"(?:abc)?def", {"def"}),  # optional: "abcdef" holds "def", so "def" alone will do
    (r"(?:abc)?", None),
    (r"(?=abc)\w+", None),  # a lookahead consumes nothing
    (r"foo(?!bar)", {"foo"}),
    (r"(?<=ab)cd", {"cd"}),
    (r"[xy]z", {"xz", "yz"}),  # a class: its characters
    (r"[^x]z", {"z"}),  # a negated class: nothing
    (r"[a-c]", {"a", "b", "c"}),
    (r"\w+", None),
    (r"(?:ab)+", {"ab"}),  # a repeat of at least once: its body's
    (r"(?:ab)*", None),
    (r"a{2,5}", {"a"}),
    (r"hello(?:ab){0,3}", {"hello"}),
    (r"\bof (?:\w+ )?(?:tablets|pills)\b", {"tablets", "pills"}),  # the most selective part
    (r"(a)\1", {"a"}),  # a back-reference gives nothing, the group still does
    (r"(\w)\1", None),
    (r"(?i:ab)cd", {"cd"}),  # under IGNORECASE: nothing
    (r"(?i)abc", None),
    (r"x.yz", {"yz"}),  # any character: nothing, so the longer side
])
def test_literals_of_small_expressions(regex: str, literals: set[str] | None) -> None:
    assert necessary_literals(re.compile(regex)) == literals


def test_a_pattern_compiled_ignoring_case_has_no_literals() -> None:
    assert necessary_literals(re.compile("abc", re.IGNORECASE)) is None


def test_a_run_too_long_to_multiply_out_is_cut_and_the_better_part_kept() -> None:
    """Four pairs of 4 choices would be 256 strings: the first three (64 of 6 letters) are kept."""
    found = necessary_literals(re.compile(r"(?:ab|cd|ef|gh)(?:ab|cd|ef|gh)(?:ab|cd|ef|gh)(?:ab|cd|ef|gh)"))
    assert found is not None and len(found) == MAX_STRINGS == 64
    assert all(len(literal) == 6 for literal in found) and "abcdef" in found


SMALL = [r"\bkill(ing)? (my ?self|myself)\b", r"(?:abc|\d+)xyz", r"(?:abc)?def", r"foo(?!bar)", r"[xy]z",
         r"(?:ab)+c", r"a{2,5}", r"\bof (?:\w+ )?(?:tablets|pills)\b", r"(?:ab|cd|ef|gh){4}x", r"[a-h][a-h][a-h]xyz", r"(?:t|d|nh)abled(?:i|s)?"]


@pytest.mark.parametrize("regex", SMALL)
def test_the_literals_of_small_expressions_are_in_every_string_built_to_match(regex: str) -> None:
    pattern = re.compile(regex)

    @FEW
    @given(st.from_regex(pattern, fullmatch=True))
    def check(text: str) -> None:
        assert assert_literal_in_every_match(pattern, text) >= 1

    check()


def test_the_literal_search_finds_exactly_the_texts_holding_a_literal() -> None:
    search = literal_search(["a.b", "ab", "abc", "(x"])
    assert search.search("za.bz") and search.search("zab") and search.search("(x")
    assert not search.search("axb") and not search.search("a b") and not search.search("x")
    assert not literal_search([]).search("anything")


def test_a_group_with_a_pattern_without_literals_is_always_a_candidate_and_the_order_kept() -> None:
    prefilter = Prefilter({"first": [re.compile("apple")], "second": [re.compile(r"\w+")], "third": [re.compile("pear")]})
    assert list(prefilter.candidates("pear and apple")) == ["first", "second", "third"]
    assert list(prefilter.candidates("plum")) == ["second"]
    assert list(Prefilter({"fruit": [re.compile("apple|pear")]}).candidates("plum")) == []
