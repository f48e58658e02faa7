"""A coordinator new to Chorus writes the hospice study (tests/data/hospice) and asks for a date
as survey tools do, `type: date`: `chorus validate` says which step type asks for one, and how."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from flows.validate import validate_paths

HOSPICE = Path(__file__).parent / "data" / "hospice"


def test_the_study_as_written_has_no_errors() -> None:
    problems, checked = validate_paths([HOSPICE])
    assert checked == 6
    assert [p.message for p in problems if p.severity == "error"] == []


@pytest.mark.parametrize("kind", ["date", "date_picker", "dob"])
def test_a_date_step_is_told_to_be_an_open_question_saved_to_a_field(tmp_path: Path, kind: str) -> None:
    study = tmp_path / "hospice"
    shutil.copytree(HOSPICE, study)
    flow = study / "understand.yaml"
    written = flow.read_text(encoding="utf-8")
    flow.write_text(written.replace("  - id: care_start\n    type: open", f"  - id: care_start\n    type: {kind}"), encoding="utf-8")
    problems, _ = validate_paths([study])
    errors = [p for p in problems if p.severity == "error"]
    assert len(errors) == 1
    told = f"{errors[0].message} ({errors[0].hint})"
    assert f"unknown step type '{kind}'" in told
    assert "did you mean 'open'" in told and "save_to: participant." in told and "relative_to" in told
