"""Delphi attrition counts only those who were sent a round and can no longer answer it:
someone the round has not reached yet, or who may still answer, has not dropped out."""

from __future__ import annotations

import math
import uuid
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlalchemy import select

from bot.analysis_input import delphi_rounds_sent
from bot.service import ConversationService
from channels.base import InboundMessage
from flows.analysis.delphi import participation
from flows.population import delphi_value
from storage import due_tasks
from storage.database import Database
from storage.tables import ENROLMENTS, FLOW_VERSIONS, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.desk_helpers import add_answers

PRIORITIES = Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities"
STUDY = "priorities"
GROUPS = ["patient", "staff", "patient", "staff", "patient", "staff"]
RATINGS = ["participant", "group", "round", "item", "score"]


def _ratings(rows: list[tuple[str, str, int]]) -> pd.DataFrame:
    """(participant, group, round): one rating of item A each."""
    return pd.DataFrame([(p, g, r, "A", 7) for p, g, r in rows], columns=RATINGS)


def _round(table: pd.DataFrame, round: int, group: str = "all") -> dict[str, Any]:
    found = table[(table["round"] == round) & (table["group"] == group)]
    assert len(found) == 1
    return dict(found.iloc[0])


# ----------------------------------------------------------------------------- the analysis


def test_only_those_sent_a_round_who_can_no_longer_answer_have_dropped() -> None:
    ratings = _ratings([(f"p{n}", "patient", 1) for n in range(6)] + [("p0", "patient", 2), ("p1", "patient", 2)])
    sent = pd.DataFrame([("p0", 2, False), ("p1", 2, True), ("p2", 2, True), ("p3", 2, False)],
                        columns=["participant", "round", "open"])
    row = _round(participation(ratings, sent), 2)
    assert (row["responded"], row["previous"]) == (2, 6)
    assert (row["dropped"], row["still_open"], row["not_sent"]) == (1, 1, 2), "p3 dropped; p2 may answer; p4, p5 not sent"
    assert row["attrition_pct"] == pytest.approx(100 / 3), "one of the three whose round 2 is settled"


def test_without_the_rounds_sent_everyone_who_did_not_answer_has_dropped() -> None:
    ratings = _ratings([(f"p{n}", "patient", 1) for n in range(4)] + [("p0", "patient", 2)])
    row = _round(participation(ratings), 2)
    assert (row["dropped"], row["still_open"], row["not_sent"]) == (3, 0, 0)
    assert row["attrition_pct"] == pytest.approx(75.0)


def test_a_round_sent_but_not_yet_answered_shows_nobody_dropped() -> None:
    ratings = _ratings([("p0", "patient", 1), ("p1", "staff", 1)])
    sent = pd.DataFrame([("p0", 2, True)], columns=["participant", "round", "open"])
    table = participation(ratings, sent)
    row = _round(table, 2)
    assert (row["responded"], row["dropped"], row["still_open"], row["not_sent"]) == (0, 0, 1, 1)
    assert math.isnan(float(row["attrition_pct"])), "nobody's round 2 is settled yet"
    assert _round(table, 2, "staff")["not_sent"] == 1


def test_a_round_the_sessions_say_nothing_about_is_read_as_over() -> None:
    ratings = _ratings([("p0", "patient", 1), ("p1", "patient", 1), ("p0", "patient", 2)])
    sent = pd.DataFrame([("p0", 3, True)], columns=["participant", "round", "open"])
    assert _round(participation(ratings, sent), 2)["dropped"] == 1


# ----------------------------------------------------------------------------- from the database


@pytest.fixture
def service(database: Database, clock: FakeClock) -> ConversationService:
    """The priorities example (a two-round Delphi) published on a fresh database."""
    from bot.safeguarding import checks_from_env
    from bot.studies import StudyRegistry

    return ConversationService(database, StudyRegistry.from_folder(PRIORITIES), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def _version(database: Database, flow: str) -> int:
    with database.reading() as session:
        found = session.execute(select(FLOW_VERSIONS.c.id).where(FLOW_VERSIONS.c.study_id == STUDY,
                                                                 FLOW_VERSIONS.c.flow_id == flow)).scalar()
    assert found is not None
    return int(found)


def _rate(database: Database, pid: str, flow: str, round: int) -> None:
    add_answers(database, [{"participant_id": pid, "study_id": STUDY, "flow_id": flow, "flow_version_id": _version(database, flow),
                            "flow_version": "test", "step_id": "rate", "item": "waits", "value": delphi_value("community", round, 7)}])


def _latest_session(database: Database, pid: str) -> int:
    with database.reading() as session:
        found = session.execute(select(SESSIONS.c.id).where(SESSIONS.c.participant_id == pid).order_by(SESSIONS.c.id.desc())).scalar()
    assert found is not None
    return int(found)


def _panel(service: ConversationService, database: Database, clock: FakeClock) -> list[str]:
    """Six rated round 1. Round 2 went to the first four: two answered it, one has not yet,
    and the fourth's round closed unanswered; the fifth has not been sent it; the sixth
    left the study (STOP) before it reached them."""
    people = []
    for n, group in enumerate(GROUPS):
        service.join("web", f"sim-{n}", STUDY, group=group)
        pid = service.participant_for("web", f"sim-{n}")
        assert pid is not None
        _rate(database, pid, "round1", 1)
        people.append(pid)
    for pid in people[:4]:
        assert service.start_flow(pid, STUDY, "round2")
    for pid in people[:2]:
        _rate(database, pid, "round2", 2)
    with database.transaction() as connection:
        assert due_tasks.close_session(connection, _latest_session(database, people[3]), clock())
    service.receive(InboundMessage("web", "sim-5", uuid.uuid4().hex, "STOP"))
    with database.reading() as session:
        left = session.execute(select(ENROLMENTS.c.opted_out).where(ENROLMENTS.c.participant_id == people[5])).scalar()
    assert left, "STOP took the sixth out of the study"
    return people


def test_round_two_sent_to_only_some_counts_only_them_as_dropped(
    service: ConversationService, database: Database, clock: FakeClock,
) -> None:
    people = _panel(service, database, clock)
    sent = delphi_rounds_sent(database, STUDY)
    state = {(p, int(r)): bool(o) for p, r, o in sent.itertuples(index=False)}
    assert [state.get((pid, 2)) for pid in people] == [True, True, True, False, None, False]
    ratings = _ratings([(pid, g, 1) for pid, g in zip(people, GROUPS, strict=True)]
                       + [(pid, g, 2) for pid, g in zip(people[:2], GROUPS[:2], strict=True)])
    table = participation(ratings, sent)
    everyone = _round(table, 2)
    assert (everyone["responded"], everyone["previous"]) == (2, 6)
    assert (everyone["dropped"], everyone["still_open"], everyone["not_sent"]) == (2, 1, 1)
    assert everyone["attrition_pct"] == pytest.approx(50.0), "two dropped of the four whose round 2 is settled"
    staff = _round(table, 2, "staff")
    assert (staff["dropped"], staff["attrition_pct"]) == (2, pytest.approx(200 / 3)), "the closed round and the STOP"
    assert delphi_rounds_sent(database, STUDY, delphi="another").empty


def test_the_desk_and_chorus_report_count_attrition_from_the_rounds_sent(
    service: ConversationService, database: Database, clock: FakeClock, tmp_path: Path,
) -> None:
    from bot.api.reports import report
    from bot.report import gather, write_report

    _panel(service, database, clock)
    desk = report(database, service.studies.get(STUDY), "delphi")
    everyone = next(r for r in desk["participation"] if r["round"] == 2 and r["group"] == "all")
    assert (everyone["dropped"], everyone["still_open"], everyone["not_sent"]) == (2, 1, 1)
    written = write_report(gather(database, STUDY), tmp_path)
    table = pd.read_csv(next(p for p in written if p.name.endswith("-participation.csv")))
    row = table[(table["round"] == 2) & (table["group"] == "all")].iloc[0]
    assert (row["dropped"], row["still_open"], row["not_sent"]) == (2, 1, 1)
