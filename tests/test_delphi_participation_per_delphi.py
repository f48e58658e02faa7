"""A study with two Delphis counts each one's participation on its own: round 2 of one Delphi
is not round 2 of another, nor are its responders, nor whoever was sent it. The desk's Delphi
page shows each Delphi under its own heading with its own response table, the API's Delphi
report names each row's Delphi, ``chorus report`` writes each Delphi's tables (even when both
Delphis' steps are called ``rate``), and ``chorus analyse delphi`` on ratings naming several
Delphis analyses each apart."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.analysis_input import delphi_rounds_sent, rounds_sent_to
from bot.cli import cli
from bot.report import gather, write_report
from flows.population import delphi_value
from storage import due_tasks
from storage.tables import FLOW_VERSIONS, SESSIONS
from tests.desk_helpers import EXAMPLE, Desk, add_answers, desk_app

STUDY = "priorities"
COUNTED = ["responded", "previous", "dropped", "still_open", "not_sent"]
STAFFING = """flow: {flow}
title: Staffing, round {round}
steps:
  - id: rate
    type: delphi
    delphi: staffing
    round: {round}
    items: [rota, breaks]
  - id: done
    type: end
    text: Thank you.
"""
"""A second Delphi whose step is called ``rate`` too, as the first's is."""
COMMUNITY_ROUND_TWO = {"responded": 1, "previous": 4, "dropped": 1, "still_open": 1, "not_sent": 1}
"""Of the four who rated community round 1: one rated round 2, one's round 2 closed, one may yet
answer it, and one was not sent it (though sent staffing round 2)."""
STAFFING_ROUND_TWO = {"responded": 3, "previous": 6, "dropped": 0, "still_open": 3, "not_sent": 0}
"""Of the six who rated staffing round 1, all sent round 2: three rated it, three may yet."""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    """The priorities example with a second Delphi, staffing, in two flows of its own."""
    studies = tmp_path / "studies"
    folder = studies / STUDY
    shutil.copytree(EXAMPLE.parent / STUDY, folder)
    for n in (1, 2):
        (folder / f"staffing{n}.yaml").write_text(STAFFING.format(flow=f"staffing{n}", round=n), encoding="utf-8")
    study = (folder / "study.yaml").read_text(encoding="utf-8")
    (folder / "study.yaml").write_text(study.replace("flows: [round1.yaml,", "flows: [staffing1.yaml, staffing2.yaml, round1.yaml,"),
                                       encoding="utf-8")
    with desk_app(tmp_path, studies=studies) as made:
        made.client.post("/login", data={"token": made.token(studies=(STUDY,))})
        yield made


def _version(desk: Desk, flow: str) -> int:
    with desk.database.reading() as session:
        found = session.execute(select(FLOW_VERSIONS.c.id).where(FLOW_VERSIONS.c.flow_id == flow)).scalar()
    assert found is not None, flow
    return int(found)


def _rate(desk: Desk, pid: str, delphi: str, flow: str, round: int, score: int) -> None:
    add_answers(desk.database, [{"participant_id": pid, "study_id": STUDY, "flow_id": flow, "flow_version_id": _version(desk, flow),
                                 "flow_version": "test", "step_id": "rate", "item": "waits" if delphi == "community" else "rota",
                                 "value": delphi_value(delphi, round, score)}])


def _join(desk: Desk, name: str, group: str) -> str:
    service = desk.app.state.chorus.service
    service.join("web", name, STUDY, group=group)
    pid = service.participant_for("web", name)
    assert pid is not None
    return str(pid)


def _community(desk: Desk) -> list[str]:
    """Four patients rate community round 1 (the only Delphi so far)."""
    people = [_join(desk, f"sim-c{n}", "patient") for n in range(4)]
    for pid in people:
        _rate(desk, pid, "community", "round1", 1, 7)
    return people


def _both(desk: Desk, community: list[str]) -> None:
    """Community round 2 goes to three of its four: the first rates it, the second's round is
    closed, the third's still open. Five staff and the fourth patient rate staffing round 1,
    and all six are sent its round 2; three of the staff rate it."""
    service = desk.app.state.chorus.service
    for pid in community[:3]:
        assert service.start_flow(pid, STUDY, "round2")
    _rate(desk, community[0], "community", "round2", 2, 8)
    with desk.database.reading() as session:
        closing = session.execute(select(SESSIONS.c.id).where(SESSIONS.c.participant_id == community[1])
                                  .order_by(SESSIONS.c.id.desc())).scalar()
    assert closing is not None
    with desk.database.transaction() as connection:
        assert due_tasks.close_session(connection, int(closing), desk.clock())
    staffing = [_join(desk, f"sim-s{n}", "staff") for n in range(5)] + [community[3]]
    for pid in staffing:
        _rate(desk, pid, "staffing", "staffing1", 1, 6)
        assert service.start_flow(pid, STUDY, "staffing2")
    for pid in staffing[:3]:
        _rate(desk, pid, "staffing", "staffing2", 2, 8)


def _counts(row: dict[str, Any]) -> dict[str, Any]:
    return {c: row[c] for c in COUNTED}


def _everyone(rows: list[dict[str, Any]], delphi: str, round: int) -> dict[str, Any]:
    found = [r for r in rows if r.get("delphi", delphi) == delphi and r["round"] == round and r["group"] == "all"]
    assert len(found) == 1, (delphi, round, found)
    return _counts(found[0])


def _section(html: str, delphi: str) -> str:
    found = re.search(rf'<section class="delphi" id="[^"]*" data-delphi="{delphi}">(.*?)(?=<section class="delphi" |\Z)', html, re.S)
    assert found is not None, f"a section of its own for Delphi {delphi}"
    return found.group(1)


def _response(section: str, round: int) -> dict[str, Any]:
    table = re.search(rf"<h2>Round {round}: response</h2>\s*<table.*?<tbody>(.*?)</tbody>", section, re.S)
    assert table is not None, f"round {round}'s response"
    row = re.search(r"<tr><td>Everyone</td>(.*?)</tr>", table.group(1))
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))
    return dict(zip(COUNTED, (int(c) for c in cells), strict=False))


def _page(desk: Desk, **params: Any) -> str:
    response = desk.client.get(f"/dashboard/studies/{STUDY}/delphi", params=params)
    assert response.status_code == 200
    return response.text


def test_one_delphi_looks_as_it_did_with_a_heading_naming_it(desk: Desk) -> None:
    _community(desk)
    page = _page(desk)
    assert page.count('<section class="delphi" ') == 1
    assert '<h2 class="delphi-name">Delphi: community</h2>' in _section(page, "community")
    assert 'id="round"' in page and 'name="delphi"' not in page, "the round picker as before: ?round=N"
    assert _response(page, 1)["responded"] == 4


def test_the_desk_page_shows_each_delphis_response_on_its_own(desk: Desk) -> None:
    _both(desk, _community(desk))
    page = _page(desk)
    community, staffing = _section(page, "community"), _section(page, "staffing")
    assert "Delphi: community" in community and "Delphi: staffing" in staffing
    assert _response(community, 2) == COMMUNITY_ROUND_TWO, "not pooled with staffing's round 2"
    assert _response(staffing, 2) == STAFFING_ROUND_TWO
    assert 'id="item-community: waits"' in community and 'id="item-staffing: rota"' not in community
    assert 'id="round"' in page and 'id="round-2"' in page, "each Delphi its own round picker"

    first = _page(desk, delphi="staffing", round=1)
    assert _response(_section(first, "staffing"), 1)["responded"] == 6
    assert _response(_section(first, "community"), 2) == COMMUNITY_ROUND_TWO, "the other Delphi stays at its latest round"
    assert _response(_section(_page(desk, round=1), "community"), 1)["responded"] == 4


def test_the_api_report_counts_each_delphi_on_its_own(desk: Desk) -> None:
    community = _community(desk)
    _both(desk, community)
    response = desk.client.get(f"/api/v1/studies/{STUDY}/reports/delphi")
    assert response.status_code == 200
    report = response.json()["report"]
    assert sorted((d["delphi"], tuple(d["rounds"])) for d in report["delphis"]) == [("community", (1, 2)), ("staffing", (1, 2))]
    rows = report["participation"]
    assert _everyone(rows, "community", 1)["responded"] == 4
    assert _everyone(rows, "staffing", 1)["responded"] == 6
    assert _everyone(rows, "community", 2) == COMMUNITY_ROUND_TWO
    assert _everyone(rows, "staffing", 2) == STAFFING_ROUND_TWO
    assert {r["delphi"] for r in report["items"]} == {"community", "staffing"}

    sent = delphi_rounds_sent(desk.database, STUDY)
    to_community = rounds_sent_to(sent, "community")
    assert to_community is not None
    assert community[3] not in set(to_community.loc[to_community["round"] == 2, "participant"]), \
        "sent staffing's round 2, not community's"


def test_chorus_report_and_analyse_delphi_count_each_delphi_on_its_own(desk: Desk, tmp_path: Path) -> None:
    _both(desk, _community(desk))
    written = {p.name: p for p in write_report(gather(desk.database, STUDY), tmp_path / "report")}
    for delphi, expected in (("community", COMMUNITY_ROUND_TWO), ("staffing", STAFFING_ROUND_TWO)):
        assert f"delphi-{delphi}-participation.csv" in written, f"both Delphis' steps are 'rate': {delphi} is not hidden"
        table = pd.read_csv(written[f"delphi-{delphi}-participation.csv"]).to_dict("records")
        assert _everyone(table, delphi, 2) == expected

    ratings = pd.concat([pd.read_csv(written[f"delphi-{d}-ratings.csv"]).assign(delphi=d) for d in ("community", "staffing")])
    sent = pd.concat([pd.read_csv(written[f"delphi-{d}-rounds-sent.csv"]).assign(delphi=d) for d in ("community", "staffing")])
    ratings.to_csv(tmp_path / "ratings.csv", index=False)
    sent.to_csv(tmp_path / "sent.csv", index=False)
    result = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(tmp_path / "ratings.csv"),
                                      "--sent", str(tmp_path / "sent.csv"), "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert _everyone(found["participation"], "community", 2) == COMMUNITY_ROUND_TWO
    assert _everyone(found["participation"], "staffing", 2) == STAFFING_ROUND_TWO
    assert {i["delphi"] for i in found["items"]} == {"community", "staffing"}

    sent.drop(columns="delphi").to_csv(tmp_path / "unnamed.csv", index=False)
    refused = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", str(tmp_path / "ratings.csv"),
                                       "--sent", str(tmp_path / "unnamed.csv")])
    assert refused.exit_code != 0 and "the rounds sent name none" in refused.output
