"""A Delphi round counts nobody as dropped until it has been sent: someone who sent STOP after
round 1, before round 2 went to anyone, is not round 2's attrition (an exploratory tester saw
"round 2: dropped 1, attrition 100%" on launch week). Once the round goes out, they are among
those who can no longer answer it. A round sent but answered by nobody yet shows on the desk,
with no attrition figure. The desk, ``chorus report`` and ``chorus analyse delphi --sent`` on
the report's files agree."""

from __future__ import annotations

import json
import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.analysis_input import delphi_rounds_sent
from bot.api.reports import report
from bot.cli import cli
from bot.report import gather, write_report
from channels.base import InboundMessage
from flows.population import delphi_value
from storage.tables import FLOW_VERSIONS
from tests.desk_helpers import Desk, add_answers, example_desk

STUDY = "priorities"
COUNTED = ["round", "group", "responded", "previous", "dropped", "still_open", "not_sent", "attrition_basis"]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with example_desk(tmp_path, STUDY) as made:
        yield made


def _panel(desk: Desk, size: int) -> list[str]:
    """``size`` people joined and rated round 1 (their round 1 conversations still open)."""
    service = desk.app.state.chorus.service
    with desk.database.reading() as session:
        version = session.execute(select(FLOW_VERSIONS.c.id).where(FLOW_VERSIONS.c.flow_id == "round1")).scalar()
    people = []
    for n in range(size):
        service.join("web", f"sim-panel-{n}", STUDY, group="patient")
        pid = service.participant_for("web", f"sim-panel-{n}")
        add_answers(desk.database, [{"participant_id": pid, "study_id": STUDY, "flow_id": "round1", "flow_version_id": version,
                                     "flow_version": "test", "step_id": "rate", "item": "waits",
                                     "value": delphi_value("community", 1, 7)}])
        people.append(pid)
    return people


def _stop(desk: Desk, n: int) -> None:
    desk.app.state.chorus.service.receive(InboundMessage("web", f"sim-panel-{n}", uuid.uuid4().hex, "STOP"))


def _desk_rows(desk: Desk) -> list[dict[str, Any]]:
    return list(report(desk.database, desk.app.state.chorus.studies.get(STUDY), "delphi")["participation"])


def _counted(rows: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return sorted(tuple(row[c] for c in COUNTED) for row in rows)


def _files(desk: Desk, folder: Path) -> dict[str, Path]:
    return {p.name: p for p in write_report(gather(desk.database, STUDY), folder)}


def _analyse(files: dict[str, Path]) -> list[dict[str, Any]]:
    result = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(files["delphi-community-ratings.csv"]),
                                      "--sent", str(files["delphi-community-rounds-sent.csv"]), "--format", "json"])
    assert result.exit_code == 0, result.output
    rows: list[dict[str, Any]] = json.loads(result.output)["participation"]
    return rows


def _round_two(html: str) -> list[str]:
    table = re.search(r"<h2>Round 2: response</h2>\s*<table.*?<tbody>(.*?)</tbody>", html, re.S)
    assert table is not None, "round 2 is on the desk"
    row = re.search(r"<tr><td>Everyone</td>(.*?)</tr>", table.group(1))
    assert row is not None
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_someone_who_stopped_before_round_two_was_sent_is_not_its_attrition(desk: Desk, tmp_path: Path) -> None:
    _panel(desk, 3)
    _stop(desk, 2)
    assert 2 not in set(delphi_rounds_sent(desk.database, STUDY)["round"]), "round 2 has gone to nobody"
    rows = _desk_rows(desk)
    assert not [r for r in rows if r["round"] == 2], "no round 2 to drop out of yet: no dropped, no attrition"
    files = _files(desk, tmp_path / "report")
    written = pd.read_csv(files["delphi-community-participation.csv"])
    assert set(written["round"]) == {1} and written["dropped"].sum() == 0
    assert _counted(_analyse(files)) == _counted(rows), "chorus analyse delphi --sent counts as the desk does"
    assert "Round 2: response" not in desk.client.get(f"/dashboard/studies/{STUDY}/delphi").text


def test_once_round_two_goes_out_whoever_left_before_it_reached_them_has_dropped(desk: Desk, tmp_path: Path) -> None:
    people = _panel(desk, 3)
    _stop(desk, 2)
    assert desk.app.state.chorus.service.start_flow(people[0], STUDY, "round2")
    everyone = next(r for r in _desk_rows(desk) if r["round"] == 2 and r["group"] == "all")
    assert (everyone["previous"], everyone["dropped"], everyone["still_open"], everyone["not_sent"]) == (3, 1, 1, 1)
    assert everyone["attrition_pct"] == pytest.approx(100.0), "the one whose round 2 is settled will not answer it"
    files = _files(desk, tmp_path / "report")
    assert _counted(_analyse(files)) == _counted(_desk_rows(desk))


def test_a_round_sent_and_not_yet_answered_shows_on_the_desk_with_no_attrition_figure(desk: Desk, tmp_path: Path) -> None:
    people = _panel(desk, 2)
    for pid in people:
        assert desk.app.state.chorus.service.start_flow(pid, STUDY, "round2")
    page = desk.client.get(f"/dashboard/studies/{STUDY}/delphi").text
    assert 'value="2" selected' in page, "the latest round, sent though not rated, is shown"
    responded, previous, dropped, still_open, not_sent, came_back, new, attrition = _round_two(page)
    assert (came_back, new) == ("0", "0")
    assert (responded, previous, dropped, still_open, not_sent) == ("0", "2", "0", "2", "0")
    assert attrition == "-", "blank, neither 0% nor 100%: nobody's round 2 is settled"
    assert "No ratings in round 2 yet." in page
    files = _files(desk, tmp_path / "report")
    written = pd.read_csv(files["delphi-community-participation.csv"])
    assert written.loc[(written["round"] == 2) & (written["group"] == "all"), "attrition_pct"].isna().all()
    cli_row = next(r for r in _analyse(files) if r["round"] == 2 and r["group"] == "all")
    assert cli_row["attrition_pct"] is None and cli_row["still_open"] == 2
