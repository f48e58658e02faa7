"""Themes a coordinator can act on: answers that say nothing ("dunno", "dim byd") are in no theme
but are counted; identifier masks are never keywords; each theme says its share of each group's
answers with their number (API, CLI and the desk in a browser); misspellings do not split themes
nor take keywords. With the real packaged MiniLM model, and on SQLite and PostgreSQL for the desk."""

from __future__ import annotations

import itertools
import json
import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from sklearn.metrics import adjusted_rand_score

import nlp.themes
from bot.cli import cli
from nlp.themes import (
    GroupShare,
    ThemeResult,
    class_keywords,
    describe_shares,
    find_themes,
    group_shares,
    says_nothing,
    spelling_variants,
)
from tests import browser
from tests.desk_helpers import Desk, themes_found_on_the_desk
from tests.test_themes_desk_privacy import STUDY, answer_each, desk_on, themes

SAID_NOTHING = [
    "dunno", "No", "nothing", "n/a", "N/A.", "not sure", "No comment", ".", "?", "idk", "nothing to add", "na",
    "Dim", "dim byd", "Dwi ddim yn gwybod", "Nope!!", "nah, nothing really, thanks", "I don't know", "hmmm",
    "Not at the moment", "nothing springs to mind", "...", "-", "[NAME]", "Dwn i ddim", "Ddim yn siŵr",
    "Dim sylw, diolch", "I'd rather not say", "can't think of anything", "no thank you", "5",
]
SHORT_BUT_REAL = [
    "parking", "the wait", "rude staff", "too long", "never again", "nobody told us anything", "ok", "fine",
    "No parking", "A&E", "more nurses", "Dim parcio", "aros", "time", "noisy", "call me on [PHONE]",
    "Not sure why we waited so long",
]
TOPICS = {
    "reception": ["The reception staff were rude to us", "reception was unhelpful and rude",
                  "Nobody at reception knew anything", "The lady at recepton ignored us", "reciption staff were rude",
                  "recepton never told us where to go", "Rude people at the reception desk",
                  "the receptionist was short with my mum"],
    "parking": ["Parking was impossible to find", "the car park was full", "parking costs far too much",
                "couldnt find parking anywhere", "parkng was a nightmare", "paid a fortune for parking",
                "no spaces in the car park"],
    "food": ["The food was cold", "cold food and no tea", "hospital food is awful", "the meals were cold and bland",
             "food was terible", "no hot food at night", "the sandwiches were stale"],
    "waiting": ["waited six hours to be seen", "the wait was far too long", "waiting times are terrible",
                "we waited all night", "hours of waiting with no update", "four hour wait in A&E",
                "the waitng was unbearable"],
}
NOTHING = ["dunno", "no", "nothing", "n/a", "not sure", "no comment", ".", "idk", "nothing to add", "dim byd",
           "Dwi ddim yn gwybod", "nope"]
TYPOS = {"recepton", "reciption", "parkng", "terible", "waitng"}


def answers() -> list[tuple[str, str, str | None]]:
    """The topics' answers then the empty ones; every third a carer's, the others patients'."""
    texts = [t for group in TOPICS.values() for t in group] + NOTHING
    return [(f"a{n}", text, "carer" if n % 3 == 0 else "patient") for n, text in enumerate(texts)]


@pytest.fixture(scope="module")
def topic_vectors() -> np.ndarray:
    from nlp.embed import encode

    return encode([a[1] for a in answers()]).topic


def test_answers_that_say_nothing_are_told_from_short_real_ones() -> None:
    assert [t for t in SAID_NOTHING if not says_nothing(t)] == []
    assert [t for t in SHORT_BUT_REAL if says_nothing(t)] == []


def test_answers_that_say_nothing_are_in_no_theme_but_count_in_each_group(topic_vectors: np.ndarray) -> None:
    given = answers()
    result = find_themes(given, topic_vectors=topic_vectors)
    nothing = {answer_id for answer_id, text, _ in given if text in NOTHING}
    assert set(result.non_answers) == nothing
    assert not nothing & {m for t in result.themes for m in t.members}
    assert {result.assignments[a] for a in nothing} == {0} and 0 not in {result.assignments[a] for a in set(result.assignments) - nothing}
    assert len(result.themes) == len(TOPICS), [t.label for t in result.themes]
    assert result.group_answers == {"carer": sum(1 for a in given if a[2] == "carer"), "patient": sum(1 for a in given if a[2] == "patient")}
    for group, shares in result.prevalence.items():  # shares are of all the group's answers, the empty ones too
        said_nothing = sum(1 for a in given if a[2] == group and a[0] in nothing)
        assert sum(shares.values()) == pytest.approx(1 - said_nothing / result.group_answers[group], abs=0.001)
    payload = result.as_dict()
    assert payload["non_answers"] == len(NOTHING) and payload["non_answer_ids"] == result.non_answers


def test_without_the_check_the_empty_answers_made_a_theme_of_their_own(topic_vectors: np.ndarray,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """The weakness testers found, shown on the same answers: the check is what keeps it away."""
    monkeypatch.setattr(nlp.themes, "says_nothing", lambda text: False)
    result = find_themes(answers(), topic_vectors=topic_vectors)
    empty_share = max(sum(m in {a[0] for a in answers() if a[1] in NOTHING} for m in t.members) / t.size for t in result.themes)
    assert empty_share > 0.8, [t.label for t in result.themes]


def test_misspellings_stay_in_their_theme_and_keywords_use_the_usual_spelling(topic_vectors: np.ndarray) -> None:
    given = answers()
    result = find_themes(given, topic_vectors=topic_vectors)
    truth = {a[0]: topic for a, topic in zip(given, [t for t, texts in TOPICS.items() for _ in texts], strict=False)}
    found = [result.assignments[a] for a in truth]
    assert adjusted_rand_score(list(truth.values()), found) == pytest.approx(1.0)
    keywords = {k for t in result.themes for keyword in t.keywords for k in keyword.split()}
    assert not keywords & TYPOS, keywords
    assert {"reception", "parking", "food"} <= keywords


def test_only_misspellings_count_as_another_word() -> None:
    variants = spelling_variants(["recepton reciption receptoin reception parkng parking stafff staff stuff",
                                  "wasnt want theyre didnt phlebotomy triage waitng waiting words wards"])
    assert variants == {"recepton": "reception", "reciption": "reception", "receptoin": "reception",
                        "parkng": "parking", "stafff": "staff", "waitng": "waiting"}


def test_identifier_masks_are_never_keywords_but_stay_in_quotes() -> None:
    texts = ["call me on [PHONE] about the parking", "parking is awful, [EMAIL]", "ring [PHONE], no parking spaces",
             "[NAME] could not park, [PHONE]", "my [NHS_NUMBER] and [POSTCODE], parking fees", "born [DOB], parking",
             "the food was cold", "cold food, tell [NAME]", "food awful"]
    keywords = class_keywords(texts, np.array([0] * 6 + [1] * 3))
    masks = {"phone", "email", "name", "nhs", "number", "postcode", "dob"}
    assert not {w for k in keywords for kw in k for w in kw.split()} & masks, keywords
    assert "parking" in keywords[0] and "food" in keywords[1]
    result = find_themes([(str(n), t, None) for n, t in enumerate(texts)], k=2)
    assert any("[PHONE]" in q for t in result.themes for q in t.quotes)
    assert not {w for t in result.themes for kw in t.keywords for w in kw.split()} & masks


def test_each_groups_share_comes_with_its_number_of_answers() -> None:
    shares = group_shares(["a", "b", "c", "d"], {"a": "patient", "b": "patient", "c": "carer", "d": "patient"},
                          {"patient": 7, "carer": 4, "staff": 2})
    assert shares == [GroupShare("patient", 3, 7), GroupShare("carer", 1, 4), GroupShare("staff", 0, 2)]
    assert describe_shares(shares) == "patient 43% of 7 · carer 25% of 4 · staff 0% of 2"
    assert describe_shares(shares, str.title) == "Patient 43% of 7 · Carer 25% of 4 · Staff 0% of 2"
    assert describe_shares(group_shares(["a"], {"a": "x"}, {"x": 8})) == "x 13% of 8", "halves round up"


def test_the_themes_command_shows_each_groups_share_and_how_many_said_nothing(tmp_path: Path) -> None:
    path = tmp_path / "answers.csv"
    path.write_text("id,text,group\n" + "".join(f'{a},"{t}",{g}\n' for a, t, g in answers()), encoding="utf-8")
    table = CliRunner().invoke(cli, ["analyse", "themes", "--input", str(path)])
    assert table.exit_code == 0, table.output
    shown = re.findall(r"by group: (.+)", table.stdout)
    assert len(shown) == len(TOPICS) and all(re.fullmatch(r"(\w+ \d+% of \d+)( · \w+ \d+% of \d+)*", s) for s in shown), shown
    assert f"{len(NOTHING)} answers said nothing of substance" in table.stdout
    as_json = CliRunner().invoke(cli, ["analyse", "themes", "--input", str(path), "--format", "json"])
    payload = json.loads(as_json.stdout)
    assert payload["non_answers"] == len(NOTHING)
    for theme in payload["themes"]:
        counted = {g["group"]: g["answers"] for g in theme["groups"]}
        assert sum(counted.values()) == theme["size"]
        assert {g["group"]: g["of"] for g in theme["groups"]} == payload["group_answers"]


@pytest.fixture
def desk(migrated_database_url: str, tmp_path: Path) -> Iterator[Desk]:
    with desk_on(migrated_database_url, tmp_path) as made:
        yield made


def test_the_desk_gives_each_theme_its_share_of_each_group_and_counts_the_empty_answers(desk: Desk) -> None:
    texts = [a[1] for a in answers()]
    answer_each(desk, "understand", "story", texts)  # carers and patients by turns
    result = themes(desk, step="story")
    assert result["answers"] == len(texts) and result["non_answers"] == len(NOTHING)
    assert result["non_answers_note"].startswith(f"{len(NOTHING)} answers said nothing of substance")
    assert sum(result["group_answers"].values()) == len(texts)
    assert len(result["themes"]) == len(TOPICS)
    for theme in result["themes"]:
        assert {g["group"]: g["of"] for g in theme["groups"]} == result["group_answers"]
        assert sum(g["answers"] for g in theme["groups"]) == theme["size"]
        for g in theme["groups"]:
            assert g["share"] == pytest.approx(g["answers"] / g["of"], abs=1e-4)
            assert result["prevalence"][g["group"]][str(theme["id"])] == pytest.approx(g["share"], abs=1e-4)
        assert theme["by_group"] == " · ".join(f"{g['label']} {int(100 * g['share'] + 0.5)}% of {g['of']}" for g in theme["groups"])
    quoted = {q for t in result["themes"] for q in t["quotes"]}
    assert not quoted & set(NOTHING)


def test_a_theme_finder_without_the_new_fields_still_serves(tmp_path: Path) -> None:
    """A stand-in finder (as tests and older plug-ins give) reports no empty answers and still gets shares."""
    def one_theme(texts: list[tuple[str, str, str | None]]) -> ThemeResult:
        return ThemeResult([nlp.themes.Theme(1, "all", ["all"], len(texts), [texts[0][1]], [t[0] for t in texts], [1])],
                           {t[0]: 1 for t in texts})

    from tests.desk_helpers import desk_app

    with desk_app(tmp_path, theme_finder=one_theme) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        answer_each(made, "understand", "story", ["cold", "hot", "late", "early"])
        result = themes(made, step="story")
    assert result["non_answers"] == 0 and result["non_answers_note"] == ""
    assert result["themes"][0]["by_group"] == "carer 100% of 2 · patient 100% of 2"


PORTS = itertools.count(8930)
"""The ports this file's servers take (8930-8949)."""


@pytest.mark.browser
def test_the_coordinator_sees_shares_by_group_and_how_many_said_nothing(migrated_database_url: str, tmp_path: Path) -> None:
    given = [{"text": text, "group": group} for _, text, group in answers()]
    with themes_found_on_the_desk(migrated_database_url, tmp_path, STUDY, given, PORTS) as page:
        by_group = page.locator("#themes-out section.theme p.by-group").all_inner_texts()
        said_nothing = page.inner_text("#themes-said-nothing")
        browser.screenshot(page, "themes-by-group")
    assert len(by_group) == len(TOPICS)
    assert all(re.fullmatch(r"By group: (patient|carer) \d+% of \d+ · (patient|carer) \d+% of \d+", line) for line in by_group), by_group
    assert said_nothing.startswith(f"{len(NOTHING)} answers said nothing of substance")
