"""The desk's results show, beside each step's results, the comments told at it (stories typed
at a question that takes no free text, flows/asides.py): how many, and the most recent words,
newest first, masked as the desk masks answers, each with its group; a comment's teller who
raised a safeguarding concern at the question is counted but not quoted; a step with comments
and no answers yet still has its section; another study's comments are never shown."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.comments import SHOWN_PER_STEP
from channels.base import InboundMessage
from storage import repository
from storage.tables import FlagRow
from tests.desk_helpers import OTHER, Desk, desk_app

STUDY = "ae-waiting"
STORY = "well the nurse was lovely but we waited six hours, ring me on 07700 900123 if you like"
START = datetime(2025, 3, 1, 9, 0, tzinfo=UTC)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token(studies=(STUDY,))})
        yield made


def tell(desk: Desk, study: str, group: str, *texts: str) -> str:
    """A participant who joins ``study`` in ``group`` by the web simulator and sends ``texts``."""
    service = desk.app.state.chorus.service
    address = f"sim-comments-{uuid.uuid4().hex[:8]}"
    participant: str = service.join("web", address, study, group=group).participant_id
    for text in texts:
        service.receive(InboundMessage("web", address, uuid.uuid4().hex, text))
    return participant


def comment(desk: Desk, participant: str, step: str, text: str, at: datetime, study: str = STUDY) -> None:
    with desk.database.transaction() as connection:
        repository.add_comments(connection, [{
            "participant_id": participant, "study_id": study, "flow_id": "understand", "flow_version": "test",
            "session_id": None, "step_id": step, "item": None, "text": text, "source": "text", "inbound_id": None,
            "created_at": at}])


def section(page: str, step: str) -> str:
    found = re.search(rf'<section class="chart-block" id="step-understand-{step}">(.*?)</section>', page, re.S)
    assert found, f"no section for {step}"
    return found.group(1)


def test_a_steps_comments_are_shown_beside_its_results_masked_with_their_group_newest_first(desk: Desk) -> None:
    told = tell(desk, STUDY, "patient", "yes", STORY)
    carer = tell(desk, STUDY, "carer", "yes", "2")
    comment(desk, carer, "role", "my mum could not hear the names being called out at all", datetime.now(UTC) + timedelta(hours=1))
    page = desk.client.get(f"/dashboard/studies/{STUDY}/results")
    assert page.status_code == 200
    role = section(page.text, "role")
    assert "2 comments" in role and "1 answered" in role  # the carer's '2' is an answer; no comment is counted
    assert "07700 900123" not in page.text and "[PHONE]" in role
    rows = re.findall(r"<tr><td class=\"when\">.*?</tr>", role, re.S)
    assert len(rows) == 2 and "my mum could not hear" in rows[0] and "the nurse was lovely" in rows[1]  # newest first
    assert ">carer<" in rows[0] and ">patient<" in rows[1]
    assert told and "Comments are what people wrote" in page.text


def test_only_the_most_recent_are_shown_and_a_step_without_answers_still_has_its_comments(desk: Desk) -> None:
    participant = tell(desk, STUDY, "staff")
    for n in range(SHOWN_PER_STEP + 5):
        comment(desk, participant, "visits", f"story number {n} about the long night in the waiting room", START + timedelta(minutes=n))
    visits = section(desk.client.get(f"/dashboard/studies/{STUDY}/results").text, "visits")
    assert f"{SHOWN_PER_STEP + 5} comments" in visits and "0 answered" in visits
    assert visits.count('<td class="words">') == SHOWN_PER_STEP
    assert f"story number {SHOWN_PER_STEP + 4} " in visits and "story number 4 " not in visits
    assert f"The {SHOWN_PER_STEP} most recent of {SHOWN_PER_STEP + 5} shown" in visits and f"{STUDY}-comments.csv" in visits


def test_a_comment_by_someone_who_raised_a_safeguarding_concern_there_is_counted_not_quoted(desk: Desk) -> None:
    worried, calm = tell(desk, STUDY, "patient"), tell(desk, STUDY, "carer")
    comment(desk, worried, "role", "after all that waiting i felt like there was no point in anything", START)
    comment(desk, calm, "role", "the chairs were broken and the vending machine ate my coins", START)
    with desk.database.session() as session:
        session.add(FlagRow(kind="safeguarding", message="risk", participant_id=worried, study_id=STUDY, flow_id="understand",
                            step_id="role", created_at=START))
    role = section(desk.client.get(f"/dashboard/studies/{STUDY}/results").text, "role")
    assert "2 comments" in role and "vending machine" in role and "no point" not in role
    assert "1 comment not shown: told by someone who raised a safeguarding concern" in role


def test_another_studys_comments_are_not_shown(desk: Desk) -> None:
    outsider = tell(desk, OTHER, "patient")
    comment(desk, outsider, "role", "this belongs to the other study and nobody here may read it", START, study=OTHER)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/results").text
    assert "other study and nobody" not in page and "comments-understand-role" not in page
