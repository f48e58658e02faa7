"""``chorus analyse themes --study`` and the desk's themes (the API, which the Themes tab calls)
read a study through one implementation (bot/theme_inputs.py): the same texts, masked alike,
the same answers and comments held back for safeguarding (counted, never quoted), so the same
themes and quotes. On SQLite and PostgreSQL, with the real embedding model."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.theme_inputs import UNSPECIFIED, held_back_note, theme_input
from nlp.redact import redact
from storage import repository
from storage.tables import FlagRow
from tests.desk_helpers import Desk, add_answers, add_flag
from tests.test_themes_desk_privacy import (
    DISCLOSURE,
    IDENTIFIERS,
    STORIES,
    STUDY,
    answer_each,
    desk_on,
    themes,
)

CALM = "We waited hours in the waiting room, ring Sarah Jones on 07700 900123 if you need to"
KIND = "The nurse who checked on us in the waiting room was kind"
TOLD = "sitting there for hours waiting, I can't cope any more and I want to end it all"
"""A comment told at the role question by someone who raised a safeguarding concern there."""


@pytest.fixture
def desk(migrated_database_url: str, tmp_path: Path) -> Iterator[Desk]:
    with desk_on(migrated_database_url, tmp_path) as made:
        yield made


def comment(desk: Desk, text: str, flagged: bool = False) -> None:
    """A comment told at the role question (a choice), its teller flagged there if ``flagged``."""
    participant, _ = desk.join(STUDY, "carer")
    with desk.database.transaction() as connection:
        repository.add_comments(connection, [{
            "participant_id": participant, "study_id": STUDY, "flow_id": "understand", "flow_version": "v", "session_id": None,
            "step_id": "role", "item": None, "text": text, "source": "text", "inbound_id": None, "created_at": datetime.now(UTC)}])
    if flagged:
        with desk.database.session() as session:
            session.add(FlagRow(kind="safeguarding", message="possible risk of suicide", participant_id=participant,
                                study_id=STUDY, flow_id="understand", step_id="role", created_at=datetime.now(UTC)))


def a_study_with_a_disclosure(desk: Desk) -> None:
    """Answers to the story question (one a disclosure, its teller flagged there; one by someone
    in no group), an answer elsewhere, and comments at the role question (one flagged)."""
    answer_each(desk, "understand", "story", [*STORIES[2:4], DISCLOSURE])
    version = desk.app.state.chorus.studies.current(STUDY, "understand").id
    nobody, _ = desk.join(STUDY, None)
    add_answers(desk.database, [{"participant_id": nobody, "study_id": STUDY, "flow_id": "understand", "flow_version_id": version,
                                 "flow_version": "v", "step_id": "story", "value": CALM, "display": CALM}])
    answer_each(desk, "codesign", "idea", ["Free water and a cup of tea for people who wait"])
    discloser = next(pid for pid, text, _ in stories_by_participant(desk) if text == DISCLOSURE)
    add_flag(desk.database, STUDY, discloser)
    comment(desk, KIND)
    comment(desk, TOLD, flagged=True)


def stories_by_participant(desk: Desk) -> list[tuple[str, str, str]]:
    from sqlalchemy import select

    from storage.tables import ANSWERS

    with desk.database.reading() as session:
        rows = session.execute(select(ANSWERS.c.participant_id, ANSWERS.c.display, ANSWERS.c.step_id)).all()
    return [(str(pid), str(text), str(step)) for pid, text, step in rows]


def cli_themes(desk: Desk, *extra: str) -> dict[str, Any]:
    ran = CliRunner().invoke(cli, ["analyse", "themes", "--study", STUDY, "--flow", "understand", "--step", "story",
                                   "--database", desk.database.url, *extra, "--format", "json"])
    assert ran.exit_code == 0, ran.output
    found: dict[str, Any] = json.loads(ran.output[ran.output.index("{"):])
    return found


def shown(result: dict[str, Any]) -> list[tuple[Any, ...]]:
    """What each theme shows of the participants' words, and what it counts."""
    return sorted((t["size"], t["quotes"], t["quote_counts"], t.get("quote_sources"), t.get("comments")) for t in result["themes"])


def test_the_input_holds_back_flagged_answers_and_comments_and_masks_every_text(desk: Desk) -> None:
    a_study_with_a_disclosure(desk)
    given = theme_input(desk.database, STUDY, "story", "understand", with_comments=True)
    words = {text: text_id for text_id, text, _ in given.texts}
    assert (given.answers, given.comments) == (4, 2), "the idea is another question's"
    assert given.held == {words[redact(DISCLOSURE)], words[TOLD]}
    assert given.held_back == {"answers": 1, "comments": 1}
    assert redact(CALM) in words and not IDENTIFIERS.findall(json.dumps(given.texts))
    assert given.group_answers == {"carer": 4, "patient": 1, UNSPECIFIED: 1}
    alone = theme_input(desk.database, STUDY, "story", "understand")
    assert alone.texts == given.texts[:4] and alone.held_back == {"answers": 1}
    assert theme_input(desk.database, STUDY, "story").texts == alone.texts, "the step is in one flow"
    assert held_back_note({"answers": 1, "comments": 2}).startswith("1 answer and 2 comments held back: ")
    assert held_back_note({"answers": 0}) == ""


def test_the_cli_and_the_desk_read_hold_back_and_quote_alike(desk: Desk) -> None:
    a_study_with_a_disclosure(desk)
    for extra, params in (((), {}), (("--with-comments",), {"comments": "true"})):
        by_cli = cli_themes(desk, *extra)
        by_desk = themes(desk, flow="understand", step="story", **params)
        for key in ("answers", "comments", "held_back", "held_back_note", "group_answers", "non_answers", "prevalence"):
            assert by_cli.get(key) == by_desk.get(key), key
        assert by_cli["held_back"]["answers"] == 1 and by_cli["held_back_note"].startswith("1 answer")
        assert by_cli.get("held_back", {}).get("comments") == (1 if extra else None)
        assert [t["size"] for t in by_cli["themes"]] and sum(t["size"] for t in by_cli["themes"]) == by_cli["answers"] + by_cli.get("comments", 0)
        assert shown(by_cli) == shown(by_desk), "the same themes, quotes and counts"
        for result in (by_cli, by_desk):
            said = json.dumps(result)
            assert "end my life" not in said and "end it all" not in said, "a disclosure is never quoted"
            assert not IDENTIFIERS.findall(said), "masked alike"
            assert {q for t in result["themes"] for q in t["quotes"]} <= {redact(s) for s in [*STORIES, CALM, KIND]}


def test_the_cli_table_says_how_many_were_held_back(desk: Desk) -> None:
    a_study_with_a_disclosure(desk)
    ran = CliRunner().invoke(cli, ["analyse", "themes", "--study", STUDY, "--step", "story", "--database", desk.database.url,
                                   "--with-comments"])
    assert ran.exit_code == 0, ran.output
    assert "1 answer and 1 comment held back: told where a safeguarding concern was raised" in ran.output
    assert "end my life" not in ran.output and "end it all" not in ran.output
    wrong_flow = CliRunner().invoke(cli, ["analyse", "themes", "--study", STUDY, "--flow", "codesign", "--step", "story",
                                          "--database", desk.database.url])
    assert wrong_flow.exit_code != 0 and "no answers to step 'story' in flow 'codesign'" in wrong_flow.output
