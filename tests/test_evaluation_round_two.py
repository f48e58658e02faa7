"""Evaluate results, second round: response rates count each time a follow-up was sent (a weekly
pulse answered once and ignored since is not 100%); only the flows the schedule sends are
follow-ups (the flow people join by is a baseline, not a result); a repeating follow-up pairs
each person's first answer with their latest; the SUS chart downloads from the desk's link;
and the desk's wording (flow titles, one point, short chart titles, unknown Delphi or round)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bot.api.figures import TITLE_LIMIT
from bot.evaluation import FollowUpFlows, follow_up_flows, followups
from bot.report import gather, write_report
from flows.analysis.evaluation_paired import Asked, MeasureAnswer, paired_rows, response_rows
from storage.tables import ConversationSession
from tests.desk_helpers import Desk, add_answers, delphi_rows, desk_app, study_desk

STUDY = "ward2"
FILES = {
    "study.yaml": """\
study: ward2
title: Ward two
languages: [en]
timezone: Europe/London
groups: [patient, staff]
join:
  start_flow: welcome
  keyword: WARD
  routes:
    - keyword: WARDSTAFF
      group: staff
      flow: pulse
flows: [welcome.yaml, wk2.yaml, pulse.yaml, sus.yaml]
schedule:
  - flow: wk2
    after: 14d
  - flow: pulse
    every: 7d
    groups: [staff]
  - flow: sus
    after: 14d
""",
    "welcome.yaml": """\
flow: welcome
title: Welcome to the ward study
steps:
  - {id: visits, type: number, text: "How many times have you been to A&E this year?"}
  - {id: score, type: scale, text: "How was it today? 0 to 10", min: 0, max: 10}
  - {id: bye, type: end, text: Thanks.}
""",
    "wk2.yaml": """\
flow: wk2
title: Two weeks on
steps:
  - {id: score, type: scale, text: "How is it now? 0 to 10", min: 0, max: 10}
  - {id: bye, type: end, text: Thanks.}
""",
    "pulse.yaml": """\
flow: pulse
title: Weekly pulse
steps:
  - {id: week, type: scale, text: "How was this week? 1 to 5", min: 1, max: 5}
  - {id: bye, type: end, text: Thanks.}
""",
    "sus.yaml": "flow: sus\ntitle: How easy is this chat?\nsteps:\n" + "".join(
        f"  - {{id: sus_{n}, type: scale, text: 'Item {n}', min: 1, max: 5}}\n" for n in range(1, 11))
        + "  - {id: bye, type: end, text: Thanks.}\n",
}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY, FILES) as made:
        yield made


def _session(desk: Desk, who: str, flow: str, days: float, status: str = "ended", outcome: str | None = None) -> int:
    """A session of ``flow`` started ``days`` after now, as the scheduler starts a follow-up."""
    version = desk.app.state.chorus.studies.current(STUDY, flow).id
    when = desk.clock.now + timedelta(days=days)
    with desk.database.session() as session:
        row = ConversationSession(participant_id=who, study_id=STUDY, flow_id=flow, flow_version_id=version,
                                  state={"outcome": outcome} if outcome else {}, status=status, started_at=when, updated_at=when)
        session.add(row)
        session.flush()
        return int(row.id or 0)


def _answer(desk: Desk, who: str, flow: str, step: str, value: Any, days: float, session: int | None = None) -> dict[str, Any]:
    version = desk.app.state.chorus.studies.current(STUDY, flow).id
    return {"participant_id": who, "study_id": STUDY, "flow_id": flow, "flow_version_id": version, "flow_version": "v",
            "step_id": step, "value": value, "answered_at": desk.clock.now + timedelta(days=days), "session_id": session}


PULSES: list[list[int | None]] = [[2, 3, 4, 5], [3, 3, 4, None], [4, None, None, None]]
"""Three staff, four weekly pulses each (None: not answered). The second left the last one
open; the third answered the first only: two closed by the schedule, the last replaced."""
UNANSWERED: dict[tuple[int, int], tuple[str, str | None]] = {(1, 3): ("waiting", None), (2, 1): ("ended", "closed"), (2, 2): ("ended", "closed"), (2, 3): ("replaced", None)}


def _pulse(desk: Desk) -> list[str]:
    staff = [desk.join(STUDY, "staff", flow="pulse")[0] for _ in PULSES]  # joined by the pulse route: not a send
    rows = []
    for person, (who, answers) in enumerate(zip(staff, PULSES, strict=True)):
        for week, value in enumerate(answers):
            status, outcome = UNANSWERED.get((person, week), ("ended", None))
            sent = _session(desk, who, "pulse", 7 * (week + 1), status, outcome)
            if value is not None:
                rows.append(_answer(desk, who, "pulse", "week", value, 7 * (week + 1) + 0.1, sent))
    add_answers(desk.database, rows)
    return staff


# ----------------------------------------------------------------------------- response rates per send


def test_a_weekly_pulse_counts_each_send_not_each_person(desk: Desk, tmp_path: Path) -> None:
    _pulse(desk)
    rows = {r["group"]: r for r in followups(desk.database, STUDY).responses if r["flow"] == "pulse"}
    everyone = rows["all"]
    assert (everyone["asked"], everyone["people"], everyone["answered"]) == (12, 3, 8), "4 sends to 3 staff, 8 answered"
    assert everyone["response_rate"] == pytest.approx(200 / 3)
    assert (everyone["not_answered_open"], everyone["not_answered_closed"], everyone["not_answered_replaced"]) == (1, 2, 1)
    assert rows["staff"]["asked"] == 12
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    assert "Times sent" in page and "Counted per send" in page and "67%" in page
    written = write_report(gather(desk.database, STUDY), tmp_path / "out")
    csv = pd.read_csv(next(p for p in written if p.name == "evaluation-responses.csv"))
    pulse = csv[(csv["flow"] == "pulse") & (csv["group"] == "all")].iloc[0]
    assert (pulse["asked"], pulse["answered"], pulse["flow_title"]) == (12, 8, "Weekly pulse")


def test_response_rows_count_sends_and_people() -> None:
    sends = [Asked("a", "staff", "pulse", "ended", True), Asked("a", "staff", "pulse", "waiting", False),
             Asked("b", "staff", "pulse", "ended", False, "closed")]
    everyone = next(r for r in response_rows(sends) if r["group"] == "all")
    assert (everyone["asked"], everyone["people"], everyone["answered"]) == (3, 2, 1)
    assert (everyone["not_answered_open"], everyone["not_answered_closed"]) == (1, 1)


# ----------------------------------------------------------------------------- which flows are follow-ups


def test_follow_ups_are_the_scheduled_flows_else_every_flow_but_the_joining_ones() -> None:
    scheduled = follow_up_flows({"join": {"start_flow": "welcome", "routes": [{"keyword": "S", "flow": "pulse"}]},
                                 "schedule": [{"flow": "wk2", "after": "14d"}, {"flow": "pulse", "every": "7d"}]})
    assert scheduled == FollowUpFlows(frozenset({"wk2", "pulse"}), frozenset({"welcome", "pulse"}))
    assert "wk2" in scheduled and "pulse" in scheduled and "welcome" not in scheduled and "other" not in scheduled
    unscheduled = follow_up_flows({"join": {"start_flow": "welcome"}})
    assert "welcome" not in unscheduled and "wk2" in unscheduled, "nothing scheduled: every flow but the joining one"
    assert scheduled.charted({"flow": "welcome", "measure": "% positive (FFT)"}), "the FFT wherever it is asked"
    assert not scheduled.charted({"flow": "welcome", "measure": "mean"})


def test_the_joining_flow_is_a_baseline_not_a_follow_up(desk: Desk, tmp_path: Path) -> None:
    patients = [desk.join(STUDY, "patient", flow="welcome")[0] for _ in range(3)]
    rows = []
    for n, who in enumerate(patients):
        rows += [_answer(desk, who, "welcome", "visits", 2 + n, 0), _answer(desk, who, "welcome", "score", 4 + n, 0)]
    sent = _session(desk, patients[0], "wk2", 14)
    rows.append(_answer(desk, patients[0], "wk2", "score", 8, 14.1, sent))
    add_answers(desk.database, rows)

    found = followups(desk.database, STUDY)
    assert {r["flow"] for r in found.responses} == {"wk2"}, "no 100% 'response rate' for the flow people join by"
    assert not any(r["flow"] == "welcome" for r in found.over_time)
    baseline = next(r for r in found.paired if r["group"] == "all")
    assert (baseline["before"], baseline["after"], baseline["n_paired"], baseline["mean_change"]) == ("welcome", "wk2", 1, 4.0)

    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    charted = re.findall(r'<section class="chart-block spc">(.*?)</section>', page, re.S)
    assert charted and not any("welcome" in block for block in charted), "the A&E visits are not an evaluation measure"
    note = re.search(r'id="not-follow-ups">(.*?)</p>', page, re.S)
    assert note is not None and "welcome / visits" in note.group(1), "what is left out is said"
    written = {p.name for p in write_report(gather(desk.database, STUDY), tmp_path / "out")}
    assert "evaluation-wk2-score.png" in written and not any(name.startswith("evaluation-welcome") for name in written)


# ----------------------------------------------------------------------------- a repeating follow-up pairs


def test_a_repeating_follow_up_pairs_each_persons_first_answer_with_their_latest(desk: Desk) -> None:
    _pulse(desk)
    rows = {r["group"]: r for r in followups(desk.database, STUDY).paired if r["measure"] == "week"}
    everyone = rows["all"]
    assert (everyone["before"], everyone["after"], everyone["repeated"]) == ("pulse (first)", "pulse (latest)", True)
    assert everyone["n_paired"] == 2, "the third answered only once"
    assert (everyone["mean_before"], everyone["mean_after"], everyone["mean_change"]) == (2.5, 4.5, 2.0)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    assert "Weekly pulse: first answer" in page and "Nobody has yet answered" not in page


def test_paired_rows_take_the_baseline_first_and_the_later_follow_up_latest() -> None:
    from datetime import UTC, datetime

    def said(who: str, flow: str, value: float, day: int) -> MeasureAnswer:
        return MeasureAnswer(who, "patient", "score", flow, value, datetime(2030, 1, day, tzinfo=UTC), day - 1)

    answers = [said("a", "welcome", 3, 1), said("a", "wk2", 5, 15), said("a", "wk2", 9, 22),
               said("b", "welcome", 4, 1), said("b", "wk2", 4, 15)]
    rows = [r for r in paired_rows(answers, later={"wk2"}) if r["group"] == "all"]
    between, repeat = rows
    assert (between["before"], between["after"], between["mean_change"]) == ("welcome", "wk2", 3.0), "(9-3 + 4-4) / 2"
    assert (repeat["before"], repeat["n_paired"], repeat["mean_change"]) == ("wk2 (first)", 1, 4.0)
    assert paired_rows(answers, later={"other"}) == [], "only a follow-up is the later side"


# ----------------------------------------------------------------------------- the SUS chart and the desk's words


def _sus(desk: Desk) -> None:
    people = [desk.join(STUDY, "patient", flow="welcome")[0] for _ in range(2)]
    rows = []
    for who in people:
        sent = _session(desk, who, "sus", 14)
        rows += [_answer(desk, who, "sus", f"sus_{i}", 3, 14.1, sent) for i in range(1, 11)]
    add_answers(desk.database, rows)


def test_the_desks_sus_chart_link_downloads_the_sus_score(desk: Desk) -> None:
    _sus(desk)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    links = [link.replace("&amp;", "&") for link in re.findall(r'href="(/api/v1/[^"]*charts/spc[^"]*step=sus[^"]*)"', page)]
    assert len(links) == 2, "PNG and SVG"
    for link in links:
        chart = desk.client.get(link)
        assert chart.status_code == 200, chart.text
    svg = desk.client.get(f"/api/v1/studies/{STUDY}/charts/spc", params={"step": "sus"}).text
    assert "SUS score (0-100)" in svg and "sus / sus" not in svg
    assert desk.client.get(f"/api/v1/studies/{STUDY}/charts/spc", params={"flow": "wk2", "step": "sus"}).status_code == 404


def test_the_desk_names_flows_by_title_says_one_point_sets_no_limits_and_fits_chart_titles(desk: Desk) -> None:
    _sus(desk)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    assert "How easy is this chat?" in page and "sus / sus" not in page
    assert "process limits need two or more" in page and "limits 50.00 to 50.00" not in page
    titles = re.findall(r'<text x="[\d.]+" y="20" text-anchor="middle"[^>]*>(.*?)</text>', page)
    assert titles and all(len(t) <= TITLE_LIMIT for t in titles), titles
    assert any("too few to judge" in t for t in titles)


def test_the_delphi_page_says_when_a_delphi_or_round_asked_for_is_not_there(tmp_path: Path) -> None:
    with desk_app(tmp_path) as desk:
        desk.client.post("/login", data={"token": desk.token()})
        for n in range(3):
            pid, version = desk.join("ae-waiting", "patient")
            add_answers(desk.database, delphi_rows(pid, "patient", "ae-waiting", version, 1, {"A": 7 + n % 2}))
        plain = desk.client.get("/dashboard/studies/ae-waiting/delphi").text
        assert 'class="notice' not in plain
        nope = desk.client.get("/dashboard/studies/ae-waiting/delphi", params={"delphi": "nope"}).text
        assert "No Delphi &#39;nope&#39;; its Delphis: priorities" in nope
        far = desk.client.get("/dashboard/studies/ae-waiting/delphi", params={"round": 99}).text
        assert "No round 99 in Delphi &#39;priorities&#39;; its rounds so far: 1. Round 1 is shown." in far
        assert '<h3 title="code: A">' in far or "<h3>A</h3>" in far, "an item is a heading under its Delphi's"
