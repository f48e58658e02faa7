"""The desk counts in words that agree with the number: '1 person', '2 people', '1 participant',
'1 choice set' (bot/dashboard/render.py ``counted``), on the pages a coordinator reads."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.dashboard.render import counted
from tests.desk_helpers import Desk, add_answers, desk_app

STUDY = "ae-waiting"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token("coordinator", (STUDY,))})
        yield made


def vote(pid: str, version: int, statement: str, value: int) -> dict[str, Any]:
    return {"participant_id": pid, "study_id": STUDY, "flow_id": "understand", "flow_version_id": version,
            "flow_version": "v", "step_id": "statements", "item": statement, "value": value, "display": str(value),
            "answered_at": datetime.now(UTC)}


def as_statements_step(desk: Desk) -> None:
    """Give the stored answers' step its type in the published flow version, as the desk reads it."""
    from storage.tables import FlowVersion

    with desk.database.session() as session:
        for version in session.exec(select(FlowVersion).where(FlowVersion.study_id == STUDY)).all():
            version.content = {**version.content, "steps": [*version.content["steps"], {"id": "statements", "type": "statements"}]}


def page_text(desk: Desk, path: str) -> str:
    response = desk.client.get(f"/dashboard/studies/{STUDY}{path}")
    assert response.status_code == 200, response.text
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.text))


@pytest.mark.parametrize(("number", "words", "expected"), [
    (1, ("person", "people"), "1 person"), (2, ("person", "people"), "2 people"), (0, ("person", "people"), "0 people"),
    (1, ("choice set",), "1 choice set"), (3, ("choice set",), "3 choice sets"), (1, ("answer",), "1 answer"),
])
def test_a_count_names_its_noun_in_the_number_it_has(number: int, words: tuple[str, ...], expected: str) -> None:
    assert counted(number, *words) == expected


def test_the_statements_tab_says_one_person_and_two_people(desk: Desk) -> None:
    rows = []
    for n in range(3):  # two who agree with s0-s2 (one passes once), one who disagrees: groups of 2 and 1
        pid, version = desk.join(STUDY, "patient")
        for s in range(6):
            value = 0 if (n, s) == (1, 0) else 1 if (s < 3) == (n < 2) else -1
            rows.append(vote(pid, version, f"s{s}", value))
    late, version = desk.join(STUDY, "carer")
    rows.append(vote(late, version, "s0", 1))  # too few votes to be placed
    add_answers(desk.database, rows)
    as_statements_step(desk)
    said = page_text(desk, "/statements")
    assert "Group 1: 2 people" in said and "Group 2: 1 person" in said
    assert "1 person voted on too few statements to be placed" in said
    assert not re.search(r"\b1 people\b", said)


def test_the_overview_counts_one_participant_and_one_answer(desk: Desk) -> None:
    pid, version = desk.join(STUDY, "patient")
    add_answers(desk.database, [{**vote(pid, version, "s0", 1), "step_id": "visits", "item": None, "value": 3}])
    said = page_text(desk, "")
    assert "1 participant (0 opted out)" in said and "1 live session" in said and "1 answer" in said
    assert not re.search(r"\b1 (?:participants|answers|live sessions)\b", said)
