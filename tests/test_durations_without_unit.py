"""`chorus validate` warns of a number question that asks how long without saying in what: '2
weeks' and '3 days' would be stored as 2 and 3 and averaged together (flows/unit_checks.py)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer
from flows.loader import Problem
from flows.model import Flow
from flows.validate import validate_paths

NOW = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
BYE = {"id": "bye", "type": "end", "text": "Thank you."}


def _unit_warnings(tmp_path: Path, step: dict[str, Any]) -> list[Problem]:
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"flow": "f", "steps": [step, BYE]}, sort_keys=False), encoding="utf-8")
    problems, _ = validate_paths([path])
    return [p for p in problems if "asks how long" in p.message]


def test_how_long_with_no_unit_is_warned_of_with_the_fix(tmp_path: Path) -> None:
    found = _unit_warnings(tmp_path, {"id": "wait", "type": "number", "text": "How long did you wait for an appointment?"})
    assert len(found) == 1
    warning = found[0]
    assert warning.severity == "warning"
    assert "'wait'" in warning.message and "averaged together" in warning.message
    assert "unit: days" in warning.hint
    lines = (tmp_path / "f.yaml").read_text(encoding="utf-8").splitlines()
    assert "How long" in lines[warning.line - 1], "the line of the step's text"


def test_a_welsh_text_that_asks_how_long_is_warned_of_too(tmp_path: Path) -> None:
    step = {"id": "wait", "type": "number", "text": {"en": "Tell us the wait.", "cy": "Pa mor hir wnaethoch chi aros?"}}
    assert len(_unit_warnings(tmp_path, step)) == 1


@pytest.mark.parametrize("step", [
    {"id": "wait", "type": "number", "text": "How long did you wait?", "unit": "days"},
    {"id": "wait", "type": "number", "text": "How many days did you wait?"},
    {"id": "wait", "type": "number", "text": "How long did you wait (in weeks)?"},
    {"id": "calls", "type": "number", "text": "How many times did you call?"},
    {"id": "age", "type": "number", "text": "How old are you?"},
])
def test_a_question_whose_unit_is_known_is_not_warned_of(tmp_path: Path, step: dict[str, Any]) -> None:
    assert _unit_warnings(tmp_path, step) == []


def test_the_fix_the_warning_gives_converts_what_people_say() -> None:
    """With the unit the warning asks for, '2 weeks' is 14 days, not 2."""
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "wait", "type": "number", "text": "How long did you wait?", "unit": "days"}, BYE]})
    engine = Engine(flow)
    state: SessionState = engine.start(NOW).state
    sprint = engine.handle(state, TextInput("2 weeks"), NOW)
    assert [event.value for event in sprint.events if isinstance(event, RecordAnswer)] == [14]
