"""A scale's labels written as a list for each language (``labels: {en: [...], cy: [...]}``,
the shape ``text:`` takes) are the scale in each language: asked in Welsh with the Welsh
words, counted on the desk by point, accepted by the editors' schema. Shapes that cannot be
read say which shape to use, with an example, instead of "should be a whole number, not 'en'"."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import jsonschema
import pandas as pd
import yaml

from bot.api.catalogue import StepInfo
from bot.api.results import step_results
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.loader import load_study
from flows.schema import json_schema
from flows.steps.scale import ScaleStep
from flows.validate import validate_paths

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
STUDY = """\
study: ready
title: {en: Ready, cy: Barod}
languages: [en, cy]
join: {start_flow: welcome, keyword: READY}
"""
BY_LANGUAGE = """\
    labels:
      en: [Not at all ready, Not very ready, Somewhat ready, Ready, Very ready]
      cy: [Ddim yn barod o gwbl, Ddim yn barod iawn, Eithaf parod, Parod, Parod iawn]
"""


def a_study(folder: Path, labels: str = BY_LANGUAGE) -> Path:
    flow = ("flow: welcome\nsteps:\n  - id: ready\n    type: scale\n    text: {en: How ready were you?, cy: Pa mor barod oeddech chi?}\n"
            + labels + "  - id: bye\n    type: end\n    text: {en: Thank you., cy: Diolch.}\n")
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "welcome.yaml").write_text(flow, encoding="utf-8")
    return folder


def test_a_list_for_each_language_is_the_scale_in_each_language(tmp_path: Path) -> None:
    folder = a_study(tmp_path)
    assert validate_paths([folder])[0] == []
    loaded = load_study(folder)
    step = loaded.flows["welcome"].flow.step("ready")
    assert isinstance(step, ScaleStep) and (step.min, step.max) == (1, 5)
    assert step.labels is not None and step.labels[0] == {"en": "Not at all ready", "cy": "Ddim yn barod o gwbl"}

    engine = Engine(loaded.flows["welcome"].flow, loaded.study, loaded.flows["welcome"].version)
    started = engine.start(NOW, language="cy")
    (asked,) = [e for e in started.events if isinstance(e, SendMessage)]
    assert [b.label for b in asked.buttons] == ["Ddim yn barod o gwbl", "Ddim yn barod iawn", "Eithaf parod", "Parod", "Parod iawn"]
    answered = engine.handle(started.state, TextInput("parod iawn"), NOW)
    (recorded,) = [e for e in answered.events if isinstance(e, RecordAnswer)]
    assert (recorded.value, recorded.display) == (5, "5 (Parod iawn)")
    english = engine.start(NOW, language="en")
    assert [e for e in english.events if isinstance(e, SendMessage)][0].buttons[0].label == "Not at all ready"


def test_the_desk_counts_such_a_scale_by_its_points_in_the_studys_language() -> None:
    raw: dict[str, Any] = yaml.safe_load("id: ready\ntype: scale\n" + BY_LANGUAGE.replace("\n    ", "\n").strip())
    frame = pd.DataFrame([{"flow": "welcome", "step": "ready", "item": None, "skipped": False, "value": 4,
                           "display": "4 (Parod)", "participant": "p-1", "group": "parent", "type": "scale"}])
    (result,) = step_results(frame, {(1, "ready"): StepInfo("welcome", "ready", "scale", "How ready?", raw)}, "cy")
    assert [(v["value"], v["label"], v["counts"].get("all", 0)) for v in result["values"]] == [
        ("1", "1 (Ddim yn barod o gwbl)", 0), ("2", "2 (Ddim yn barod iawn)", 0), ("3", "3 (Eithaf parod)", 0),
        ("4", "4 (Parod)", 1), ("5", "5 (Parod iawn)", 0)]


def test_the_editors_schema_accepts_a_list_for_each_language() -> None:
    validator = jsonschema.Draft202012Validator(json_schema())
    step = {"id": "ready", "type": "scale", "text": "Ready?"}
    flow = {"flow": "f", "steps": [step | {"labels": {"en": ["No", "Yes"], "cy": ["Na", "Ie"]}}]}
    assert validator.is_valid(flow)
    assert validator.is_valid({"flow": "f", "steps": [step | {"labels": [{"en": "No", "cy": "Na"}, "Yes"]}]})


def _only_problem(folder: Path) -> str:
    (problem,) = validate_paths([folder])[0]
    assert problem.severity == "error"
    return f"{problem.line}:{problem.column}: {problem.message} ({problem.hint})"


def test_languages_with_different_numbers_of_labels_are_named(tmp_path: Path) -> None:
    folder = a_study(tmp_path, BY_LANGUAGE.replace(", Parod iawn]", "]"))
    assert _only_problem(folder) == (
        "8:11: labels.cy has 4 labels but labels.en has 5 "
        "(give every language one label per point of the scale, in the same order)")


def test_one_text_for_each_language_says_which_shapes_work(tmp_path: Path) -> None:
    folder = a_study(tmp_path, "    labels:\n      en: Not ready, Ready\n      cy: Ddim yn barod, Parod\n")
    assert _only_problem(folder) == (
        "7:11: labels.en should be a list with one label per point of the scale, not one text "
        "(write a list for each language, in the same order, e.g. 'labels: {en: [Poor, Fair, Good], cy: [Gwael, Iawn, Da]}'; "
        "or one label per point: 'labels: [{en: Poor, cy: Gwael}, {en: Good, cy: Da}]')")


def test_points_and_languages_in_one_map_are_said_to_be_mixed(tmp_path: Path) -> None:
    folder = a_study(tmp_path, "    min: 1\n    max: 5\n    labels:\n      1: Not at all\n      en: [Ready]\n")
    message = _only_problem(folder)
    assert message.startswith("10:7: each key of 'labels' should be a whole number, not 'en' (a scale's labels are a list")
    assert "'labels: {en: [Poor, Good], cy: [Gwael, Da]}'" in message and "cannot be mixed in one map" in message
    assert "should be a mapping or a whole number or text" not in message
