"""The completion funnel says how conversations stand: who may still answer (and at which
step), who stopped, and how the ended ones ended; a round closed before someone finished it
is not a finish."""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.api import queries
from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage
from storage import due_tasks
from storage.database import Database
from storage.tables import SESSIONS
from tests.db_fixtures import FakeClock
from tests.desk_helpers import Desk, desk_app

STUDY = "ae-waiting"
Say = Callable[..., ReceiveResult]


def _understand(service: ConversationService, database: Database) -> dict[str, Any]:
    return next(f for f in queries.funnel(database, service.studies.get(STUDY)) if f["flow"] == "understand")


def _session_of(database: Database, address_number: int, service: ConversationService) -> int:
    pid = service.participant_for("sms", f"+4477009000{address_number:02d}")
    with database.reading() as session:
        found = session.execute(select(SESSIONS.c.id).where(SESSIONS.c.participant_id == pid)).scalar()
    assert found is not None
    return int(found)


def test_a_conversation_closed_before_it_finished_is_no_finish(service: ConversationService, say: Say,
                                                               database: Database, clock: FakeClock) -> None:
    for number in (1, 2):
        say("WAIT", address=f"+4477009000{number:02d}")
        say("yes", address=f"+4477009000{number:02d}")
    closing = _session_of(database, 2, service)
    with database.transaction() as connection:
        assert due_tasks.close_session(connection, closing, clock())
    funnel = _understand(service, database)
    steps = {s["step"]: s for s in funnel["steps"]}
    assert (funnel["started"], funnel["finished"], funnel["live"]) == (2, 0, 1)
    assert funnel["outcomes"] == {"closed": 1}
    assert steps["role"]["drop_off"] == 2 and steps["role"]["waiting"] == 1, "both left at role; one may still answer"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        yield made


def _say(desk: Desk, address: str, text: str) -> None:
    desk.app.state.chorus.service.receive(InboundMessage("web", address, uuid.uuid4().hex, text))


def seed_standing(desk: Desk) -> None:
    """Four joined: one still being asked to consent, one said no, one said STOP, one is at role."""
    for n in range(4):
        desk.app.state.chorus.service.join("web", f"sim-funnel-{n}", STUDY)
    _say(desk, "sim-funnel-1", "no")
    _say(desk, "sim-funnel-2", "STOP")
    _say(desk, "sim-funnel-3", "yes")


def _cells(html: str, step: str) -> list[str]:
    row = re.search(rf"<tr><td>{step}</td>(.*?)</tr>", html)
    assert row is not None, step
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_the_overview_shows_who_may_still_answer_who_stopped_and_how_the_rest_ended(desk: Desk) -> None:
    seed_standing(desk)
    desk.client.post("/login", data={"token": desk.token()})
    page = desk.client.get(f"/dashboard/studies/{STUDY}")
    assert page.status_code == 200
    standing = re.search(r'<p class="standing" id="standing-understand">(.*?)</p>', page.text, re.S)
    assert standing is not None
    words = " ".join(re.sub(r"<[^>]+>", "", standing.group(1)).split())
    assert words == "Their conversations: 2 still open (may yet answer); 1 stopped (STOP, or another flow took over); " \
                    "ended: 1 declined (said no).", words
    assert "Of whom still open" in page.text
    assert _cells(page.text, "consent")[1:] == ["4", "3", "1"], "reached (answered, or left or wait there), dropped off, of whom still open"
    assert _cells(page.text, "role")[1:] == ["1", "1", "1"], "the one waiting at role reached it"
    funnel = next(f for f in desk.client.get(f"/api/v1/studies/{STUDY}", headers={"Authorization": f"Bearer {desk.token()}"})
                  .json()["funnel"] if f["flow"] == "understand")
    assert (funnel["live"], funnel["stopped"], funnel["outcomes"]) == (2, 1, {"declined": 1})
