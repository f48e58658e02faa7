"""Found running a ward-handover study: when everyone in a group gave the same ranking, the desk
showed "4.90 (4.90 to 4.90)" and P(first) 97%. A bootstrap over people who all ranked alike
draws that ranking every time, so its interval has no width: a certainty three answers cannot
give, and a score whose size is the prior's (alpha), not the answers'. Such a group (or one too
small to resample) now has no interval ("-") and says why, and says when its scores are held
by the prior, in the analysis, the API, the desk, the charts and ``chorus analyse ranking``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.api.figures import ranking_chart
from bot.charts import intervals_description, intervals_svg, png
from bot.cli import cli
from flows.analysis.pairwise import Comparison, score_items
from flows.analysis.ranking import (
    INTERVAL_NOTES,
    MIN_RANKINGS_FOR_INTERVAL,
    analyse_rankings,
    group_notes,
)
from tests.desk_helpers import Desk, add_answers, study_desk

COLUMNS = ["participant", "group", "option", "position"]
ORDER = ["overlap", "huddle", "checklist", "board"]


def _rankings(orders: list[tuple[str, list[str]]]) -> pd.DataFrame:
    return pd.DataFrame([(f"p{n}", group, option, place) for n, (group, order) in enumerate(orders)
                         for place, option in enumerate(order, start=1)], columns=COLUMNS)


@pytest.mark.parametrize("people", [2, 3, 30])
def test_a_group_that_ranked_alike_gets_no_interval_however_many(people: int) -> None:
    result = analyse_rankings(_rankings([("nurse", ORDER)] * people), ORDER, n_boot=50, per_group=False)
    assert result[["low", "high"]].isna().all().all(), "identical answers: no width to resample"
    assert (result["interval_note"] == "alike").all()
    assert result["prior_held"].all(), "always placed above: the answers alone would put the scores without limit"
    assert list(result["option"]) == ORDER and result["score"].notna().all(), "the order and scores are still given"


def test_a_varied_group_keeps_its_interval_and_its_scores_are_measured() -> None:
    rng = np.random.default_rng(4)
    orders = [("nurse", list(rng.permutation(ORDER))) for _ in range(20)]
    result = analyse_rankings(_rankings(orders), ORDER, n_boot=50, per_group=False)
    assert result["interval_note"].isna().all() and not result["prior_held"].any()
    assert (result["low"] < result["score"]).all() and (result["score"] < result["high"]).all()
    assert group_notes(result) == []


def test_few_rankings_get_no_interval_and_an_option_nobody_chose_is_held_by_the_prior() -> None:
    orders = [("hca", ["overlap", "huddle"]), ("hca", ["huddle", "overlap"]), ("hca", ["overlap", "checklist"])]
    assert len(orders) < MIN_RANKINGS_FOR_INTERVAL
    result = analyse_rankings(_rankings(orders), ORDER, n_boot=50)
    assert (result["interval_note"] == "few").all() and result["low"].isna().all()
    assert result["prior_held"].all(), "'board' was never chosen: its score is the prior's"
    notes = group_notes(result, {"hca": "Healthcare assistants"})
    assert notes[0] == f"everyone: no interval, {INTERVAL_NOTES['few']}"
    assert any(n.startswith("Healthcare assistants: Scores held by the prior") and "alpha = 0.1" in n for n in notes)


def test_pairwise_intervals_stay_wide_when_one_comparison_has_the_same_winner() -> None:
    """Bradley-Terry's interval is a posterior one (the prior is part of the model), not a
    resample: one comparison, or a few with the same winner, leave it wide, never of no width."""
    for times in (1, 3):
        scores = {s.item: s for s in score_items([Comparison("meds", "quiet")] * times)}
        for s in scores.values():
            assert s.low < s.score < s.high and s.low < 50 < s.high, (times, s)
            assert s.high - s.low > 60, "a handful of answers cannot rule out either order"


def test_a_ranking_chart_without_an_interval_draws_points_alone_and_says_why() -> None:
    rows = [{"group": "all", "option": o, "label": o.title(), "score": float(3 - i), "low": None, "high": None,
             "interval_note": "alike"} for i, o in enumerate(ORDER)]
    chart = ranking_chart(rows, "all", {"alike": INTERVAL_NOTES["alike"]})
    assert all(lo is None and hi is None for _, _, lo, hi in chart.rows)
    assert "no interval" in chart.title
    described = intervals_description(chart)
    assert "Overlap: 3 (no interval)." in described and described.endswith(f"No interval: {INTERVAL_NOTES['alike']}.")
    svg = intervals_svg(chart)
    assert 'stroke-width="2"' not in svg, "no error bar of no width"
    assert svg.count("<circle") == len(ORDER)
    assert png(chart)[:4] == b"\x89PNG"


def test_the_cli_prints_a_dash_and_the_reason(tmp_path: Path) -> None:
    path = tmp_path / "rankings.csv"
    _rankings([("nurse", ORDER)] * 3).to_csv(path, index=False)
    table = CliRunner().invoke(cli, ["analyse", "ranking", "--rankings", str(path), "--bootstrap", "20"])
    assert table.exit_code == 0, table.output
    assert f"note: everyone: no interval, {INTERVAL_NOTES['alike']}." in table.output
    first = next(line for line in table.output.splitlines() if line.startswith("overlap"))
    assert first.split()[3:5] == ["-", "-"], first
    as_json = json.loads(CliRunner().invoke(cli, ["analyse", "ranking", "--rankings", str(path), "--format", "json"]).output)
    assert as_json["options"][0]["low"] is None and len(as_json["notes"]) == 2


STUDY = "handover"
FILES = {
    "study.yaml": "study: handover\ntitle: Ward handover\ngroups: [nurse, hca]\njoin:\n  start_flow: prio\n",
    "prio.yaml": """\
flow: prio
steps:
  - id: order
    type: rank
    text: What would most improve handover?
    options: [overlap, huddle, checklist, board]
  - id: done
    type: end
    text: Thank you.
""",
}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    """Three nurses who ranked alike; six healthcare assistants who did not."""
    with study_desk(tmp_path, STUDY, FILES) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        rows = []
        for n in range(9):
            group = "nurse" if n < 3 else "hca"
            order = ORDER if group == "nurse" else [ORDER[(n + k) % 4] for k in range(4)]
            pid, version = made.join(STUDY, group, flow="prio")
            rows.append({"participant_id": pid, "study_id": STUDY, "flow_id": "prio", "flow_version_id": version,
                         "flow_version": "v", "step_id": "order", "value": order, "display": str(order),
                         "answered_at": datetime.now(UTC), "item": None})
        add_answers(made.database, rows)
        yield made


def _report(desk: Desk) -> Any:
    response = desk.client.get(f"/api/v1/studies/{STUDY}/reports/ranking")
    assert response.status_code == 200, response.text
    return response.json()["report"]


def test_the_api_leaves_out_the_interval_of_a_group_that_ranked_alike(desk: Desk) -> None:
    report = _report(desk)
    nurses = [o for o in report["options"] if o["group"] == "nurse"]
    assert all(o["low"] is None and o["high"] is None and o["interval_note"] == "alike" and o["prior_held"] for o in nurses)
    others = [o for o in report["options"] if o["group"] in ("all", "hca")]
    assert all(o["low"] is not None and o["interval_note"] is None for o in others)
    assert report["notes"]["alike"] == INTERVAL_NOTES["alike"] and "alpha = 0.1" in report["notes"]["prior_held"]


def test_the_rankings_tab_shows_a_dash_and_why(desk: Desk) -> None:
    page = desk.client.get(f"/dashboard/studies/{STUDY}/ranking").text
    nurses = page[page.index("<h2>nurse</h2>"):]
    nurses = nurses[:nurses.index("</section>")]
    assert f"No interval: {INTERVAL_NOTES['alike']}." in nurses
    assert "Scores held by the prior" in nurses
    assert " to " not in nurses.split("<tbody>")[1], "no interval of no width"
    assert nurses.split("<tbody>")[1].count('<td class="num">-</td>') == len(ORDER)
    hca = page[page.index("<h2>hca</h2>"):]
    assert "No interval" not in hca[:hca.index("</section>")]


def test_the_ranking_chart_of_a_group_that_ranked_alike_says_why(desk: Desk) -> None:
    svg = desk.client.get(f"/api/v1/studies/{STUDY}/charts/ranking", params={"group": "nurse", "format": "svg"})
    assert svg.status_code == 200, svg.text
    assert "no interval" in svg.text and INTERVAL_NOTES["alike"] in svg.text
