"""Delphi results say what they count: percentages (and so consensus) leave out those who
answered unsure, and the desk, the data dictionary and ``chorus report`` say so with the unsure
count beside them. ``chorus analyse delphi`` on the report's ratings and rounds sent counts
attrition as the desk does, and without the rounds sent says what it counted instead."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.export import UNSURE_LEFT_OUT, codes
from bot.service import ConversationService
from flows.loader import load_flow
from flows.population import delphi_value
from flows.steps.delphi import DelphiStep
from storage import due_tasks
from storage.database import Database
from storage.tables import FLOW_VERSIONS, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.desk_helpers import Desk, add_answers, delphi_rows, desk_app

PRIORITIES = Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities"
STUDY = "priorities"
COUNTED = ["round", "group", "responded", "previous", "dropped", "still_open", "not_sent", "attrition_basis"]


# ----------------------------------------------------------------------------- the desk


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token()})
        yield made


def _row(html: str, item: str, group: str) -> list[str]:
    section = re.search(rf'<section class="chart-block delphi-item" id="item-{item}">(.*?)</section>', html, re.S)
    assert section is not None, item
    row = re.search(rf"<tr><td>{group}</td>(.*?)</tr>", section.group(1))
    assert row is not None, group
    return [re.sub(r"<[^>]+>", "", cell) for cell in re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))]


def test_the_desk_shows_the_unsure_beside_percentages_that_leave_them_out(desk: Desk) -> None:
    for score in (8, 8, 9, 7, 7, 5, None, None):
        pid, version = desk.join("ae-waiting", "patient")
        add_answers(desk.database, delphi_rows(pid, "patient", "ae-waiting", version, 1, {"Clear updates": score}))
    page = desk.client.get("/dashboard/studies/ae-waiting/delphi").text
    header = re.search(r'id="item-Clear updates">.*?<thead>(.*?)</thead>', page, re.S)
    assert header is not None
    columns = [re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<th[^>]*>(.*?)</th>", header.group(1))]
    assert columns == ["Group", "Scored", "Median", "IQR", "% 7-9 of scored", "% 1-3 of scored", "Unsure (not in the %)",
                       "Consensus"]
    scored, _median, _iqr, high, low, unsure, consensus = _row(page, "Clear updates", "Everyone")
    assert (scored, high, low, unsure) == ("6", "83%", "0%", "2"), "5 of the 6 who scored, not 5 of 8"
    assert consensus == "consensus in", "83% is past 70%; 5 of 8 (63%) would not have been"
    assert "those who answered unsure are left out of them" in page


# ----------------------------------------------------------------------------- the data dictionary


def test_the_data_dictionary_says_unsure_answers_are_left_out_of_the_percentages(tmp_path: Path) -> None:
    steps = {step.id: step for step in load_flow(PRIORITIES / "round1.yaml").flow.steps}
    rate = steps["rate"]
    assert isinstance(rate, DelphiStep) and rate.unsure
    found = codes(rate, "en")
    assert UNSURE_LEFT_OUT in found
    assert found.index(UNSURE_LEFT_OUT) == next(i for i, c in enumerate(found) if c.startswith("consensus in")) + 1
    strict = rate.model_copy(update={"unsure": False})
    assert UNSURE_LEFT_OUT not in codes(strict, "en"), "nobody can be unsure: nothing to say"


# ----------------------------------------------------------------------------- chorus report and analyse delphi


@pytest.fixture
def priorities(database: Database, clock: FakeClock) -> ConversationService:
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


def _rate(database: Database, pid: str, round: int, score: int | None, reason: str | None = None) -> None:
    flow = f"round{round}"
    add_answers(database, [{"participant_id": pid, "study_id": STUDY, "flow_id": flow, "flow_version_id": _version(database, flow),
                            "flow_version": "test", "step_id": "rate", "item": "waits",
                            "value": delphi_value("community", round, score, reason)}])


def _latest_session(database: Database, pid: str) -> int:
    with database.reading() as session:
        found = session.execute(select(SESSIONS.c.id).where(SESSIONS.c.participant_id == pid).order_by(SESSIONS.c.id.desc())).scalar()
    assert found is not None
    return int(found)


def _panel(service: ConversationService, database: Database, clock: FakeClock) -> None:
    """Four rated round 1 (one unsure, one giving a reason with a phone number in it). Round 2
    went to the first three: the first answered, the second's round closed unanswered, the
    third may still answer; the fourth has not been sent it."""
    people = []
    for n, (score, reason) in enumerate([(9, "call me on 07700 900123"), (8, None), (None, None), (2, None)]):
        service.join("web", f"sim-{n}", STUDY, group="patient" if n % 2 else "staff")
        pid = service.participant_for("web", f"sim-{n}")
        assert pid is not None
        _rate(database, pid, 1, score, reason)
        people.append(pid)
    for pid in people[:3]:
        assert service.start_flow(pid, STUDY, "round2")
    _rate(database, people[0], 2, 8)
    closing = _latest_session(database, people[1])
    with database.transaction() as connection:
        assert due_tasks.close_session(connection, closing, clock())


def _analyse(*args: str) -> dict[str, Any]:
    result = CliRunner().invoke(cli, ["analyse", "delphi", *args, "--format", "json"])
    assert result.exit_code == 0, result.output
    found: dict[str, Any] = json.loads(result.output)
    return found


def _rows(table: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(row[c] for c in COUNTED) for row in table)


def test_chorus_report_and_analyse_delphi_on_its_files_count_as_the_desk_does(
    priorities: ConversationService, database: Database, clock: FakeClock, tmp_path: Path,
) -> None:
    from bot.api.reports import report
    from bot.report import gather, write_report

    _panel(priorities, database, clock)
    desk = report(database, priorities.studies.get(STUDY), "delphi")["participation"]
    everyone = next(r for r in desk if r["round"] == 2 and r["group"] == "all")
    assert (everyone["dropped"], everyone["still_open"], everyone["not_sent"], everyone["attrition_basis"]) == (1, 1, 1, "sent")
    written = {p.name: p for p in write_report(gather(database, STUDY), tmp_path)}
    ratings, sent = written["delphi-community-ratings.csv"], written["delphi-community-rounds-sent.csv"]
    assert _rows(pd.read_csv(written["delphi-community-participation.csv"]).to_dict("records")) == _rows(desk)

    same = _analyse("--ratings", str(ratings), "--sent", str(sent))
    assert _rows(same["participation"]) == _rows(desk), "the report's files give the desk's attrition"
    unsure = next(i for i in same["items"] if i["round"] == 1 and i["group"] == "all")
    assert (unsure["n"], unsure["n_unsure"]) == (3, 1)

    alone = _analyse("--ratings", str(ratings))
    guessed = next(r for r in alone["participation"] if r["round"] == 2 and r["group"] == "all")
    assert (guessed["dropped"], guessed["still_open"], guessed["not_sent"]) == (3, 0, 0)
    assert guessed["attrition_basis"] == "responses"
    assert any("no record of who was sent" in note for note in alone["notes"]["attrition"])
    assert any("pass --sent" in note for note in alone["notes"]["attrition"]), "and how to count as the desk does"
    assert "unsure" in alone["notes"]["unsure"]


def test_chorus_report_says_what_its_delphi_tables_count_and_masks_reasons(
    priorities: ConversationService, database: Database, clock: FakeClock, tmp_path: Path,
) -> None:
    from bot.report import gather, write_report

    _panel(priorities, database, clock)
    written = {p.name: p for p in write_report(gather(database, STUDY), tmp_path)}
    notes = written["delphi-community-notes.md"].read_text(encoding="utf-8")
    assert "those who answered unsure (n_unsure) are left out of them" in notes
    assert "at least 70% of those who scored gave 7-9" in notes
    assert "dropped: sent the round and can no longer answer it" in notes
    reasons = pd.read_csv(written["delphi-community-reasons.csv"])
    assert list(reasons["reason"]) == ["call me on [PHONE]"]
    chart = written["delphi-community-round1.svg"].read_text(encoding="utf-8")
    assert "unsure answers left out" in chart and "1 unsure" in chart, "the chart says so beside the bar"


def test_analyse_delphi_refuses_a_rounds_sent_file_it_cannot_read(tmp_path: Path) -> None:
    ratings, sent = tmp_path / "ratings.csv", tmp_path / "sent.csv"
    pd.DataFrame([("a", "x", 1, "waits", 7)], columns=["participant", "group", "round", "item", "score"]).to_csv(ratings, index=False)
    pd.DataFrame([("a", 2, "maybe")], columns=["participant", "round", "open"]).to_csv(sent, index=False)
    result = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(ratings), "--sent", str(sent)])
    assert result.exit_code != 0 and "open must be true or false, not 'maybe'" in result.output
    pd.DataFrame([("a", 2)], columns=["participant", "round"]).to_csv(sent, index=False)
    missing = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(ratings), "--sent", str(sent)])
    assert missing.exit_code != 0 and "no column(s) open" in missing.output
