"""Three slips a new coordinator makes, each explained with the line as it should be written: a
text with ': ' in it and no quotes (YAML said "mapping values are not allowed here", sending
them to the indentation), options written as one text ("Yes, No") and a scale whose min is
above its max (no way out was said)."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from flows.loader import Problem
from flows.validate import validate_paths
from flows.yaml_colons import quoted


def _problems(tmp_path: Path, step: str) -> list[Problem]:
    path = tmp_path / "f.yaml"
    path.write_text(f"flow: f\nsteps:\n  - id: q\n{step}  - id: bye\n    type: end\n    text: Thanks\n", encoding="utf-8")
    return validate_paths([path])[0]


@pytest.mark.parametrize(("line", "before", "fixed"), [
    ("    text: Note: we will not share your answers\n", "Note", 'text: "Note: we will not share your answers"'),
    ("    text: Say \"hi\": or not\n", 'Say "hi"', "text: 'Say \"hi\": or not'"),
    ("    text: Time: 10:30 at the clinic\n", "Time", 'text: "Time: 10:30 at the clinic"'),
])
def test_a_text_with_a_colon_and_no_quotes_is_shown_quoted(tmp_path: Path, line: str, before: str, fixed: str) -> None:
    [problem] = _problems(tmp_path, "    type: open\n" + line)
    assert (problem.line, problem.column, problem.severity) == (5, line.index(": ", 10) + 1, "error"), "at its second ': '"
    assert problem.message == f"YAML syntax: the text of 'text' has ': ' in it (after '{before}'), so YAML reads it as another key"
    assert problem.hint == f"put the whole text in quotes: {fixed}"


def test_a_key_indented_wrongly_is_still_called_indentation(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "    type: open\n    text: Hello\n     cy: Helo\n")
    assert problems and all("has ': ' in it" not in p.message for p in problems)


def test_the_quoted_line_reads_back_as_the_text() -> None:
    for text in ('Note: a "b" c', "it's: fine", 'back\\slash: "x" and \'y\''):
        assert yaml.safe_load(f"text: {quoted(text)}") == {"text": text}


def test_options_written_as_one_text_are_shown_as_a_list(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "    type: choice\n    text: Which?\n    options: Yes, No, Not sure\n")
    assert problem.message == "'options' should be a list, not 'Yes, No, Not sure'"
    assert problem.hint == 'a list is written in [ ]: options: ["Yes", "No", Not sure], or as lines that start with \'- \''
    assert yaml.safe_load(problem.hint.split("options: ")[1].split("], ")[0] + "]") == ["Yes", "No", "Not sure"], "as text"


def test_choice_experiment_levels_yes_and_no_are_not_read_as_1_and_0(tmp_path: Path) -> None:
    step = ("    type: choice_experiment\n    text: Which?\n    attributes:\n      break_cover: [yes, no]\n"
            "      shift: [8, 12]\n    tasks: 2\n")
    [problem] = _problems(tmp_path, step)
    assert problem.line == 7 and problem.message.startswith("YAML reads yes, no, on, off, true and false as true/false")
    assert _problems(tmp_path, step.replace("[yes, no]", '["yes", "no"]')) == []


def test_a_scale_the_wrong_way_round_says_to_swap_at_its_max(tmp_path: Path) -> None:
    [problem] = _problems(tmp_path, "    type: scale\n    text: How?\n    min: 10\n    max: 1\n")
    assert (problem.line, problem.message) == (7, "max (1) must be greater than min (10)")
    assert problem.hint == "swap them: min: 1 and max: 10"
