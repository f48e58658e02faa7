"""The desk reads each Delphi on the scale and consensus rule its flow declares, not GRADE's 1-9."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.desk_helpers import Desk, add_answers, desk_app

STUDY = "tenpoint"
FILES = {
    "study.yaml": """\
study: tenpoint
title: A 0-10 panel
languages: [en]
join: {start_flow: panel, keyword: TEN}
flows: [panel.yaml]
""",
    "panel.yaml": """\
flow: panel
steps:
  - id: rate
    type: delphi
    delphi: ten
    round: 1
    scale: {min: 0, max: 10, low: 0-3, high: 8-10}
    consensus: {agree_pct: 60, max_opposite_pct: 20}
    items:
      - {id: wait, text: Waiting for a visit}
  - id: done
    type: end
    text: Thank you.
""",
}


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    folder = tmp_path / STUDY
    folder.mkdir()
    for name, text in FILES.items():
        (folder / name).write_text(text, encoding="utf-8")
    with desk_app(tmp_path, studies=folder) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        yield made


def test_a_zero_to_ten_delphi_keeps_its_ends_and_its_own_bands_and_rule(desk: Desk) -> None:
    version = desk.app.state.chorus.studies.current(STUDY, "panel").id
    scores = [0, 10, 10, 9, 8, 8, 5, 1]  # 5 of 8 (62.5%) in 8-10, 2 (25%) in 0-3
    rows = []
    for score in scores:
        pid, _ = desk.join(STUDY, None, flow="panel")
        rows.append({"participant_id": pid, "study_id": STUDY, "flow_id": "panel", "flow_version_id": version,
                     "flow_version": "v", "step_id": "rate", "item": "wait",
                     "value": {"delphi": "ten", "round": 1, "score": score}, "display": str(score)})
    add_answers(desk.database, rows)
    report = desk.client.get(f"/api/v1/studies/{STUDY}/reports/delphi")
    assert report.status_code == 200, report.text
    everyone = next(r for r in report.json()["report"]["items"] if r["group"] == "all")
    assert everyone["n"] == 8, "0 and 10 are scores on this scale, not out of range"
    assert len(everyone["counts"]) == 11 and everyone["counts"][0] == 1 and everyone["counts"][10] == 2
    assert everyone["pct_high"] == pytest.approx(62.5) and everyone["pct_low"] == pytest.approx(25.0)
    assert everyone["consensus"] == "none", "62.5% agree passes the flow's 60%, but 25% opposed exceeds its 20%"
    chart = desk.client.get(f"/api/v1/studies/{STUDY}/charts/delphi", params={"item": "wait", "round": 1, "format": "svg"})
    assert chart.status_code == 200
    assert "scored 8-10" in chart.text and "(0-10)" in chart.text
    page = desk.client.get(f"/dashboard/studies/{STUDY}/delphi").text
    assert "% 8-10" in page and "% 0-3" in page and "% 7-9" not in page, "the table heads name the flow's own bands"
