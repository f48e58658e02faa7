"""Redaction of phone numbers, e-mails, NHS numbers, postcodes, dates of birth and names."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from nlp.redact import nhs_number_is_valid, redact

CORPUS = Path(__file__).parent / "data" / "redaction.txt"
MARKER = re.compile(r"\{\{(\w+):(.*?)\}\}")


def planted_lines() -> list[tuple[str, str, list[str]]]:
    """(input, expected, names) for each line with planted identifiers."""
    lines = []
    for line in CORPUS.read_text(encoding="utf-8").splitlines():
        if not line.strip() or line.startswith(("#", "= ")):
            continue
        text, _, names = line.partition(" || names: ")
        given = [n.strip() for n in names.split(",") if n.strip()]
        lines.append((MARKER.sub(r"\2", text), MARKER.sub(r"[\1]", text), given))
    return lines


def unchanged_lines() -> list[str]:
    return [line[2:] for line in CORPUS.read_text(encoding="utf-8").splitlines() if line.startswith("= ")]


def test_the_corpus_plants_at_least_forty_identifiers_of_every_kind():
    markers = MARKER.findall(CORPUS.read_text(encoding="utf-8"))
    assert len(markers) >= 40
    assert {kind for kind, _ in markers} == {"PHONE", "EMAIL", "NHS_NUMBER", "POSTCODE", "DOB", "NAME"}


@pytest.mark.parametrize(("text", "expected", "names"), planted_lines())
def test_every_planted_identifier_is_masked(text, expected, names):
    assert redact(text, names) == expected


@pytest.mark.parametrize("text", unchanged_lines())
def test_ordinary_numbers_and_dates_are_left_alone(text):
    assert redact(text) == text


def test_the_nhs_check_digit_is_the_modulus_eleven_one():
    assert nhs_number_is_valid("9434765919")
    assert not nhs_number_is_valid("9434765918")
    assert not nhs_number_is_valid("943476591")


def test_a_bad_check_digit_is_not_an_nhs_number():
    assert redact("NHS number 943 476 5918") == "NHS number 943 476 5918"
    # ... but ten digits starting with 0 look like a UK phone number, and are masked as one
    assert redact("call 0943 476 591") == "call [PHONE]"
    assert redact("number 0434765918") == "number [PHONE]"


def test_lower_case_names_are_masked_only_when_given():
    assert redact("tom was great") == "tom was great"  # capitalised, "Tom" is found: tests/test_name_masking.py
    assert redact("Tom was great, Tomas less so", ["Tom"]) == "[NAME] was great, Tomas less so"


def test_the_redact_command_filters_stdin_to_stdout():
    text = "I'm Sarah Jones, call 07700 900123 or email sj@example.com, CF10 3AT. Bed 12.\n"
    result = CliRunner().invoke(cli, ["redact", "--names", "Sarah Jones"], input=text)
    assert result.exit_code == 0, result.output
    assert result.stdout == "I'm [NAME], call [PHONE] or email [EMAIL], [POSTCODE]. Bed 12.\n"
