"""Found running a ward-handover study with two pairwise questions (one on what matters, one on
the participants' own ideas) and two rankings: the desk and the API's pairwise report put every
idea of every step in one Bradley-Terry model, ranking ideas against others they were never shown
beside, and the Rankings tab drew two rankings' options on one chart with no count of who answered."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from tests.desk_helpers import Desk, add_answers, delphi_rows, study_desk

STUDY = "handover"
FILES = {
    "study.yaml": """\
study: handover
title: Ward handover
groups: [nurse, hca]
join:
  start_flow: prio
""",
    "prio.yaml": """\
flow: prio
steps:
  - id: shift
    type: choice
    text: Which shifts do you work?
    options: [Days, Nights]
  - id: order
    type: rank
    text: What would most improve handover?
    options: [overlap, huddle, checklist]
  - id: tools
    type: rank
    text: Which tool would you use most?
    options: [board, app]
  - id: compare
    type: pairwise
    text: Which matters more for a safe handover?
    ideas:
      - {id: meds, text: Medicines due soon named}
      - {id: quiet, text: A quiet room}
      - {id: family, text: What families were told}
    submissions: false
  - id: ideas
    type: pairwise
    text: Which idea would you back?
    ideas:
      - {id: board, text: A whiteboard by each bay}
      - {id: phones, text: No phones during handover}
    submissions: false
  - id: done
    type: end
    text: Thank you.
""",
}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY, FILES) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        _seed(made)
        yield made


def _answer(pid: str, version: int, step: str, step_type: str, value: Any, item: str | None = None) -> dict[str, Any]:
    return {"participant_id": pid, "study_id": STUDY, "flow_id": "prio", "flow_version_id": version, "flow_version": "v",
            "step_id": step, "value": value, "display": str(value), "answered_at": datetime.now(UTC), "item": item}


def _seed(desk: Desk) -> None:
    """Six people: 'meds' always wins its pairs (beating 'quiet' and 'family' alike), 'board'
    beats 'phones' only half the time; the two nurses who answered 'tools' put 'app' first."""
    rows = []
    for n in range(6):
        group = "nurse" if n < 4 else "hca"
        pid, version = desk.join(STUDY, group, flow="prio")
        rows.append(_answer(pid, version, "shift", "choice", "Nights" if n % 2 else "Days"))
        rows.append(_answer(pid, version, "order", "rank", ["overlap", "huddle"] if n % 2 else ["huddle", "overlap"]))
        if n < 2:
            rows.append(_answer(pid, version, "tools", "rank", ["app", "board"]))
        for loser in ("quiet", "family"):
            rows.append(_answer(pid, version, "compare", "pairwise", {"winner": "meds", "loser": loser, "tie": False}, f"meds vs {loser}"))
        winner, loser = ("board", "phones") if n % 2 else ("phones", "board")
        rows.append(_answer(pid, version, "ideas", "pairwise", {"winner": winner, "loser": loser, "tie": False}, "board vs phones"))
        for round in (1, 2):
            rows += delphi_rows(pid, group, STUDY, version, round, {"sbar": 7 + n % 3}, flow="prio")
    add_answers(desk.database, rows)


def _report(desk: Desk, kind: str) -> Any:
    response = desk.client.get(f"/api/v1/studies/{STUDY}/reports/{kind}")
    assert response.status_code == 200, response.text
    return response.json()["report"]


def test_each_pairwise_step_is_scored_on_its_own(desk: Desk) -> None:
    report = _report(desk, "pairwise")
    steps = {entry["step"]: entry["groups"] for entry in report["steps"]}
    assert set(steps) == {"compare", "ideas"}
    assert {row["item"] for row in steps["compare"]["all"]} == {"meds", "quiet", "family"}
    ideas = {row["item"]: row for row in steps["ideas"]["all"]}
    assert set(ideas) == {"board", "phones"}
    assert ideas["board"]["score"] == pytest.approx(50.0, abs=1e-6), "3 wins each: a coin toss, whatever 'meds' did elsewhere"
    assert ideas["board"]["label"] == "A whiteboard by each bay"
    assert all(row["step"] in ("compare", "ideas") for rows in report["groups"].values() for row in rows)


def test_the_pairwise_tab_heads_each_step_with_its_question(desk: Desk) -> None:
    page = desk.client.get(f"/dashboard/studies/{STUDY}/pairwise").text
    compare, ideas = page.index("Which matters more for a safe handover?"), page.index("Which idea would you back?")
    assert compare < page.index("Medicines due soon named") < ideas < page.index("A whiteboard by each bay")
    assert "step=ideas" in page and "step=compare" in page


def test_a_chart_of_several_steps_asks_which_one(desk: Desk) -> None:
    for kind, steps in (("pairwise", "compare, ideas"), ("ranking", "order, tools")):
        refused = desk.client.get(f"/api/v1/studies/{STUDY}/charts/{kind}")
        assert refused.status_code == 400 and refused.json()["detail"].startswith(f"the study has several {'rank' if kind == 'ranking' else kind} steps ({steps})")
    one = desk.client.get(f"/api/v1/studies/{STUDY}/charts/pairwise", params={"step": "ideas", "group": "nurse"})
    assert one.status_code == 200 and "A whiteboard by each bay" in one.text and "Medicines" not in one.text


def test_the_rankings_tab_keeps_rankings_apart_and_says_how_many_answered(desk: Desk) -> None:
    options = _report(desk, "ranking")["options"]
    app = next(o for o in options if o["step"] == "tools" and o["option"] == "app" and o["group"] == "all")
    assert (app["n_ranked"], app["n_people"]) == (2, 2)
    hca = next(o for o in options if o["step"] == "order" and o["option"] == "huddle" and o["group"] == "hca")
    assert (hca["n_ranked"], hca["n_people"]) == (2, 2)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/ranking").text
    assert page.index("What would most improve handover?") < page.index("Which tool would you use most?")
    assert "<p>6 answered this ranking.</p>" in page and "<p>2 answered this ranking.</p>" in page and ">6 of 6<" in page


def test_the_delphi_and_results_tabs_list_groups_in_the_study_order_in_every_table(desk: Desk) -> None:
    page = desk.client.get(f"/dashboard/studies/{STUDY}/delphi").text
    tables = page.split("<table")[1:]
    assert len(tables) >= 3, "response, results and movement"
    for table in tables:
        assert "<td>Everyone</td>" in table and table.index("<td>nurse</td>") < table.index("<td>hca</td>"), table
    results = desk.client.get(f"/dashboard/studies/{STUDY}/results").text
    headed = [t for t in results.split("<table")[1:] if '<th scope="col">hca</th>' in t]
    assert headed and all(t.index('<th scope="col">nurse</th>') < t.index('<th scope="col">hca</th>') for t in headed)
