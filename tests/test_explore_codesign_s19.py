"""Found running a new co-design and evaluation study ("Getting a GP appointment": patients,
receptionists and GPs voting on each other's statements, then a weekly Friends and Family
Test for six weeks) through the service, the desk, the API and `chorus report`.

1. A statement nearly everyone rejected ("Practices should stop offering same-day
   appointments": 93% of each group disagreed) is common ground, but the desk listed it last
   under "What every opinion group tends to agree with" (0.000, 7%), below the divisive ones,
   and nothing else said so. Pol.is reports consensus both ways: now every consensus row also
   has ``against`` and ``common_ground`` (agree / disagree / none), and the desk lists the
   statements every opinion group rejects in their own table.
2. `chorus report` wrote a weekly FFT over six weeks as two monthly points, where the desk
   charts it per week; and it had no table of how each study group voted (the desk's main
   statements table). Now a study with a weekly (or more frequent) follow-up is reported per
   week, and the report writes ``statements-<step>-by-group.csv`` with the groups' gap.
3. The desk's Evaluation tab said "Nobody has yet answered the same question twice" under
   Before and after when everyone had answered the weekly FFT up to six times: it pairs scale
   questions only, and now says so.
"""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import yaml

from bot.report import ReportInput, over_time_period, write_report
from flows.analysis.statements import analyse_statements
from flows.loader import load_flow
from flows.model import Study
from flows.population import ItemRecord
from storage.tables import ConversationSession
from tests.desk_helpers import Desk, add_answers, study_desk

STUDY = "gp-access"
FLOW = "codesign"
STUDY_YAML = f"""study: {STUDY}
title: Getting a GP appointment
languages: [en]
timezone: Europe/London
groups:
  - {{id: patient, label: Patients}}
  - {{id: receptionist, label: Receptionists}}
  - {{id: gp, label: GPs}}
join:
  start_flow: {FLOW}
  keyword: GPACCESS
flows: [codesign.yaml, weekly.yaml]
schedule:
  - flow: weekly
    every: 7d
    window: "09:00-19:00"
"""
CODESIGN_YAML = f"""flow: {FLOW}
steps:
  - id: views
    type: statements
    text: Do you agree?
    statements:
      - {{id: queue, text: People should be told where they are in the phone queue.}}
      - {{id: stop, text: Practices should stop offering same-day appointments.}}
      - {{id: ask, text: Receptionists should ask patients why they need an appointment.}}
      - {{id: weeks, text: Patients should be able to book routine appointments weeks ahead.}}
  - id: done
    type: end
    text: Thank you.
"""
WEEKLY_YAML = """flow: weekly
steps:
  - id: fft
    type: choice
    text: Overall, how was your experience of our service?
    options: [{value: very_good, label: Very good}, {value: good, label: Good}, {value: neither, label: Neither good nor poor},
              {value: poor, label: Poor}, {value: very_poor, label: Very poor}, {value: dont_know, label: Don't know}]
  - id: done
    type: end
    text: Thank you.
"""
GROUPS = ("patient", "receptionist", "gp")
# statement -> group -> P(agree), P(disagree); the rest pass
OPINIONS = {
    "queue": {"patient": (.9, .05), "receptionist": (.9, .05), "gp": (.9, .05)},
    "stop": {"patient": (.05, .9), "receptionist": (.05, .9), "gp": (.05, .9)},
    "ask": {"patient": (.05, .9), "receptionist": (.95, .05), "gp": (.85, .1)},
    "weeks": {"patient": (.9, .05), "receptionist": (.7, .2), "gp": (.1, .85)},
}


def _votes(per_group: int = 15) -> list[tuple[str, str, str, int]]:
    """(participant, group, statement, vote), drawn with a fixed seed."""
    rng = random.Random(19)
    rows = []
    for group in GROUPS:
        for n in range(per_group):
            for statement, by_group in OPINIONS.items():
                agree, disagree = by_group[group]
                draw = rng.random()
                rows.append((f"{group}-{n}", group, statement, 1 if draw < agree else -1 if draw < agree + disagree else 0))
    return rows


def test_a_statement_every_group_rejects_is_common_ground_against_not_divisive() -> None:
    votes = pd.DataFrame(_votes(), columns=["participant", "group", "statement", "vote"])
    consensus = analyse_statements(votes.drop(columns="group")).consensus.set_index("statement")
    assert consensus.loc["queue", "common_ground"] == "agree"
    assert consensus.loc["stop", "common_ground"] == "disagree"
    assert consensus.loc["ask", "common_ground"] is None and consensus.loc["weeks", "common_ground"] is None
    # for and against mirror each other: the rejected statement leads the consensus against
    assert consensus["against"].idxmax() == "stop" and consensus["score"].idxmax() == "queue"
    assert consensus.loc["stop", "against"] > 10 * max(consensus.loc["ask", "against"], consensus.loc["weeks", "against"])


def test_common_ground_needs_most_of_every_opinion_group() -> None:
    """A statement split within every group (as many agree as disagree) is common ground neither way."""
    rows = [(f"p{n}", s, v) for n in range(40) for s, v in (("a", 1 if n < 20 else -1), ("b", 1 if n % 2 else -1),
                                                             ("c", -1 if n < 20 else 1), ("d", 1))]
    consensus = analyse_statements(pd.DataFrame(rows, columns=["participant", "statement", "vote"])).consensus.set_index("statement")
    assert consensus.loc["b", "common_ground"] is None, "split in every group"
    assert consensus.loc["d", "common_ground"] == "agree"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY, {"study.yaml": STUDY_YAML, "codesign.yaml": CODESIGN_YAML, "weekly.yaml": WEEKLY_YAML}) as made:
        yield made


def _weekly_answer(desk: Desk, pid: str, value: str, when: datetime) -> dict[str, Any]:
    """An FFT answer in its own session of the weekly flow, as each week's send starts one."""
    version = desk.app.state.chorus.studies.current(STUDY, "weekly").id
    with desk.database.session() as session:
        row = ConversationSession(participant_id=pid, study_id=STUDY, flow_id="weekly", flow_version_id=version,
                                  state={}, status="ended", started_at=when, updated_at=when)
        session.add(row)
        session.flush()
        sent = int(row.id or 0)
    return {"participant_id": pid, "study_id": STUDY, "flow_id": "weekly", "flow_version_id": version, "flow_version": "v",
            "step_id": "fft", "value": value, "display": value, "answered_at": when, "session_id": sent}


def _seed(desk: Desk) -> None:
    people: dict[str, tuple[str, int]] = {}
    rows: list[dict[str, Any]] = []
    for pid, group, statement, vote in _votes():
        if pid not in people:
            people[pid] = desk.join(STUDY, group, FLOW)
        participant, version = people[pid]
        rows.append({"participant_id": participant, "study_id": STUDY, "flow_id": FLOW, "flow_version_id": version,
                     "flow_version": "v", "step_id": "views", "item": statement, "value": vote, "display": str(vote)})
    add_answers(desk.database, rows)


def test_the_desk_and_api_show_what_every_group_rejects(desk: Desk) -> None:
    _seed(desk)
    report = desk.client.get(f"/api/v1/studies/{STUDY}/reports/statements").json()["report"]
    rows = {r["statement"]: r for r in report["consensus"]}
    assert rows["stop"]["common_ground"] == "disagree" and rows["queue"]["common_ground"] == "agree"
    assert rows["stop"]["typical_group_disagree"] > 0.7 > rows["stop"]["typical_group_agree"]
    assert rows["ask"]["common_ground"] is None
    page = desk.client.get(f"/dashboard/studies/{STUDY}/statements").text
    against = page[page.index('id="consensus-against"'):page.index('id="by-study-group"')]
    assert "Practices should stop offering same-day appointments." in against
    for other in ("phone queue", "ask patients why", "weeks ahead"):
        assert other not in against


def test_the_evaluation_tab_does_not_say_nobody_answered_twice_when_the_fft_repeats(desk: Desk) -> None:
    pid, _ = desk.join(STUDY, "patient", FLOW)
    start = datetime(2026, 10, 5, 10, tzinfo=UTC)
    add_answers(desk.database, [_weekly_answer(desk, pid, value, start + timedelta(weeks=week))
                                for week, value in enumerate(["poor", "good", "very_good"])])
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    assert "Nobody has yet answered the same question twice" not in page
    assert "No scale question" in page and "Friends and Family Test among them" in page


def _study(yaml_text: str) -> Study:
    return Study.model_validate(yaml.safe_load(yaml_text))


def test_a_weekly_follow_up_is_reported_per_week_and_others_per_month() -> None:
    assert over_time_period(_study(STUDY_YAML)) == "week"
    assert over_time_period(_study(STUDY_YAML.replace("every: 7d", "every: 3d"))) == "week"
    assert over_time_period(_study(STUDY_YAML.replace("every: 7d", "every: 28d"))) == "month"
    assert over_time_period(_study(STUDY_YAML.replace("every: 7d", "after: 7d"))) == "month"


def test_chorus_report_weekly_fft_has_a_point_per_week(desk: Desk, tmp_path: Path) -> None:
    from bot.report import gather

    start = datetime(2026, 10, 5, 10, tzinfo=UTC)  # a Monday
    rows = []
    for n in range(12):
        pid, _ = desk.join(STUDY, GROUPS[n % 3], FLOW)
        for week in range(6):
            value = "good" if (n + week) % 4 else "poor"
            rows.append(_weekly_answer(desk, pid, value, start + timedelta(weeks=week, hours=n)))
    add_answers(desk.database, rows)
    write_report(gather(desk.database, STUDY), tmp_path / "out")
    over_time = pd.read_csv(tmp_path / "out" / "evaluation-over-time.csv")
    everyone = over_time[(over_time["group"] == "all") & (over_time["step"] == "fft")]
    assert list(everyone["period"]) == [(start + timedelta(weeks=w)).date().isoformat() for w in range(6)]
    assert list(everyone["n"]) == [12] * 6
    expected = [100 * sum(1 for n in range(12) if (n + w) % 4) / 12 for w in range(6)]
    assert list(everyone["value"]) == pytest.approx(expected)


def test_chorus_report_writes_how_each_study_group_voted(tmp_path: Path) -> None:
    flow = load_flow("codesign", raw=yaml.safe_load(CODESIGN_YAML)).flow
    step = next(s for s in flow.steps if s.id == "views")
    records = [ItemRecord(pid, group, "views", statement, vote) for pid, group, statement, vote in _votes()]
    labels = {"all": "Everyone", "patient": "Patients", "receptionist": "Receptionists", "gp": "GPs"}
    write_report(ReportInput(STUDY, {"views": step}, records, labels), tmp_path)
    table = pd.read_csv(tmp_path / "statements-views-by-group.csv")
    ask = table[table["statement"] == "ask"].set_index("group")
    expected = sum(1 for _, g, s, v in _votes() if (g, s, v) == ("patient", "ask", -1))
    assert ask.loc["patient", "disagree"] == expected and ask.loc["patient", "group_label"] == "Patients"
    assert ask.loc["all", "n"] == 45 and ask.loc["receptionist", "most"] in GROUPS
    assert ask["gap"].iloc[0] > 0.7
    consensus = pd.read_csv(tmp_path / "statements-views-consensus.csv").set_index("statement")
    assert consensus.loc["stop", "common_ground"] == "disagree"
