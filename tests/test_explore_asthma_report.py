"""`chorus report` on the children's asthma clinic study (tests/data/asthma): its choice
experiment names each attribute by its ``label`` ("who you see", "cost to family"), as the desk
does. The report used to drop the labels and print the attributes' ids ("Who: a consultant",
"Cost, per £1") beside the desk's "Who you see: a consultant"."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat import open_target
from bot.report import _choice_words
from flows.display_text import ChoiceWords
from flows.loader import read_yaml
from flows.steps.choice_experiment import ChoiceExperimentStep

STUDY = Path(__file__).resolve().parent / "data" / "asthma"


def _step() -> ChoiceExperimentStep:
    step = open_target(STUDY, "choices").flows["choices"].flow.step("clinic")
    assert isinstance(step, ChoiceExperimentStep)
    return step


@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_reports_choice_words_are_the_desks_with_each_attributes_label(language: str) -> None:
    data, _, problems = read_yaml(STUDY / "choices.yaml")
    assert problems == []
    raw = next(step for step in data["steps"] if step["id"] == "clinic")  # as the desk reads a published flow
    desk = ChoiceWords.of([raw], language)
    report = _choice_words(_step(), language)
    codes = ["time[after_school]", "time[saturday]", "distance", "who[any_nurse]", "who[consultant]", "cost", "opt_out"]
    assert [report.feature(code) for code in codes] == [desk.feature(code) for code in codes]
    assert [report.amount(name) for name in ("distance", "cost")] == [desk.amount(name) for name in ("distance", "cost")]
    expected = {"en": "Who you see: a consultant", "cy": "Pwy rydych chi'n ei weld: meddyg ymgynghorol"}[language]
    assert report.feature("who[consultant]") == expected
