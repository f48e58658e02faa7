"""The desk's results per step name every answer a step offers by the words participants saw,
chosen or not: "No" (not "no"), "1 (Very poorly)" (not "1"), an option's label in the study's
first language."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bot.api.catalogue import StepInfo
from bot.api.results import step_results
from tests.desk_helpers import Desk, add_answers, desk_app


def _frame(answers: list[tuple[str, Any, str]]) -> pd.DataFrame:
    """(step, value, display) answers by one participant each, in flow 'f'."""
    return pd.DataFrame([{"flow": "f", "step": step, "item": None, "skipped": False, "value": value, "display": display,
                          "participant": f"p-{n}", "group": "patient", "type": ""}
                         for n, (step, value, display) in enumerate(answers)])


STEPS = {
    (1, "consent"): StepInfo("f", "consent", "consent", "Take part?", {}),
    (1, "again"): StepInfo("f", "again", "yesno", "Again?", {"yes_label": {"en": "Yes please", "cy": "Ie os gwelwch yn dda"},
                                                              "no_label": {"en": "No thanks", "cy": "Dim diolch"}}),
    (1, "informed"): StepInfo("f", "informed", "scale", "Informed?",
                              {"labels": [{"en": "Very poorly", "cy": "Gwael iawn"}, "Poorly", "Neither", "Well", "Very well"]}),
    (1, "pain"): StepInfo("f", "pain", "scale", "Pain?", {"min": 0, "max": 3, "labels": {0: "None", 3: "Worst"}}),
    (1, "role"): StepInfo("f", "role", "choice", "Role?", {"options": [
        {"value": "patient", "label": {"en": "Patient", "cy": "Claf"}}, {"value": "carer", "label": "Carer or family"}, "Staff"]}),
}


def _labels(results: list[dict[str, Any]]) -> dict[str, list[tuple[str, str, int]]]:
    return {r["step"]: [(v["value"], v["label"], v["counts"].get("all", 0)) for v in r["values"]] for r in results}


def test_answers_nobody_gave_are_labelled_like_those_given() -> None:
    frame = _frame([("consent", "yes", "Yes"), ("again", "yes", "Yes please"), ("informed", 2, "2 (Poorly)"),
                    ("pain", 3, "3"), ("role", "carer", "Carer or family")])
    found = _labels(step_results(frame, STEPS))
    assert found["consent"] == [("yes", "Yes", 1), ("no", "No", 0)]
    assert found["again"] == [("yes", "Yes please", 1), ("no", "No thanks", 0)]
    assert found["informed"] == [("1", "1 (Very poorly)", 0), ("2", "2 (Poorly)", 1), ("3", "3 (Neither)", 0),
                                 ("4", "4 (Well)", 0), ("5", "5 (Very well)", 0)]
    assert found["pain"] == [("0", "0 (None)", 0), ("1", "1", 0), ("2", "2", 0), ("3", "3 (Worst)", 1)]
    assert found["role"] == [("patient", "Patient", 0), ("carer", "Carer or family", 1), ("Staff", "Staff", 0)]


def test_a_welsh_first_study_labels_in_welsh() -> None:
    frame = _frame([("consent", "yes", "Ydw"), ("informed", 5, "5 (Da iawn)"), ("role", "carer", "Carer or family")])
    found = _labels(step_results(frame, STEPS, "cy"))
    assert found["consent"] == [("yes", "Ydw", 1), ("no", "Nac ydw", 0)]
    assert found["informed"][0] == ("1", "1 (Gwael iawn)", 0)
    assert found["role"][0] == ("patient", "Claf", 0)


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', ('ae-waiting',))}"
        yield made


def test_the_desk_and_its_chart_show_unchosen_answers_by_their_labels(desk: Desk) -> None:
    rows = []
    for score in (4, 5):
        pid, version = desk.join("ae-waiting", "patient")
        rows += [{"participant_id": pid, "study_id": "ae-waiting", "flow_id": "understand", "flow_version_id": version,
                  "flow_version": "v", "step_id": step, "value": value, "display": display}
                 for step, value, display in (("consent", "yes", "Yes"), ("informed", score, f"{score} (Well)"))]
    add_answers(desk.database, rows)
    results = {r["step"]: r for r in desk.client.get("/api/v1/studies/ae-waiting/reports/results").json()["report"]}
    assert [v["label"] for v in results["consent"]["values"]] == ["Yes", "No"]
    assert [v["label"] for v in results["informed"]["values"]][:3] == ["1 (Very poorly)", "2 (Poorly)", "3 (Neither)"]
    chart = desk.client.get("/api/v1/studies/ae-waiting/charts/results", params={"flow": "understand", "step": "consent"}).text
    assert ">No<" in chart and ">no<" not in chart
