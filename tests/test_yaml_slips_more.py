"""YAML slips reported where they are, in words a coordinator can act on: a slip further down
a file whose texts have a '?' inside { } (as the README's own example has, which PyYAML's
own parser cannot read though libyaml can), a key indented more than the one above it
(README: "a key indented less (or more) than the step it belongs to, with how many spaces to
add and which key to line it up with"), and a key with no space after its ':'."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

from flows.loader import Problem, read_yaml
from flows.validate import validate_paths
from flows.yaml_errors import _clearer_error

README = Path(__file__).parent.parent / "README.md"


def _readme_flow() -> list[str]:
    """The lines of the README's example flow file (understand.yaml), as a coordinator copies them."""
    block = re.search(r"```yaml\n# understand\.yaml\n(.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert block is not None, "the README's example understand.yaml is gone"
    return block[1].splitlines()


def _problems(tmp_path: Path, lines: list[str]) -> list[Problem]:
    path = tmp_path / "understand.yaml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return read_yaml(path)[2]


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def _number(lines: list[str], start: str) -> int:
    """The 1-based number of the first line starting (after its indentation) with ``start``."""
    return next(number for number, line in enumerate(lines, 1) if line.lstrip().startswith(start))


# ----------------------------------------------------------------------------- a '?' inside { }


def test_the_readme_example_has_a_question_mark_in_braces_and_loads_clean(tmp_path: Path) -> None:
    lines = _readme_flow()
    assert any(re.search(r"\{[^}]*\?,", line) for line in lines), "the example no longer tests what this file is about"
    assert _problems(tmp_path, lines) == []
    assert validate_paths([tmp_path / "understand.yaml"])[0] == []


def test_a_slip_below_a_question_mark_in_braces_is_reported_at_the_slip(tmp_path: Path) -> None:
    lines = _readme_flow()
    slip = _number(lines, "next: thanks")
    lines[slip - 1] = " " + lines[slip - 1]
    problem = _only(_problems(tmp_path, lines))
    assert (problem.line, problem.column) == (slip, 6)
    assert problem.message == ("YAML syntax: 'next:' is indented 1 space more than 'text:' on line "
                               f"{slip - 1}, so YAML reads it as part of the value of 'text:'")
    assert problem.hint == f"indent it 1 fewer space, to line up with 'text:' on line {slip - 1}"


@pytest.mark.parametrize(("start", "broken", "expected"), [
    ("- {value: carer", lambda line: line.replace("carer, label", "carer label"), "a comma is missing before 'label'"),
    ("options: [Days", lambda line: line.replace("]", ""), "this '[' is never closed with ']'"),
    ("multiple: true", lambda line: line.replace(": ", ":"), "'multiple:true' has no space after the ':'"),
    ("type: end", lambda line: line[2:], "'type:' is indented only as far as the '-' that starts each step"),
])
def test_each_kind_of_slip_below_the_question_mark_is_found_where_it_is(
    tmp_path: Path, start: str, broken: Callable[[str], str], expected: str
) -> None:
    lines = _readme_flow()
    number = _number(lines, start)
    lines[number - 1] = broken(lines[number - 1])
    problem = _only(_problems(tmp_path, lines))
    assert problem.line == number and expected in problem.message, str(problem)


def test_a_slip_at_the_question_mark_itself_is_still_reported_there(tmp_path: Path) -> None:
    lines = _readme_flow()
    number = _number(lines, "text: {en: Which")
    lines[number - 1] = lines[number - 1].replace("you?, cy:", "you? cy:")
    problem = _only(_problems(tmp_path, lines))
    assert problem.line == number and "a comma is missing before 'cy'" in problem.message, str(problem)


def test_pyyamls_complaint_is_taken_only_where_libyaml_stopped() -> None:
    text = "a: {en: Why?, cy: Pam?}\nb: [1, 2\n"
    later = yaml.MarkedYAMLError(problem="did not find expected ',' or ']'",
                                 problem_mark=yaml.Mark("", len(text), 2, 0, None, 0))
    agreed = _clearer_error(text, later)
    assert isinstance(agreed, yaml.MarkedYAMLError) and agreed is not later and "'<stream end>'" in str(agreed.problem)
    elsewhere = yaml.MarkedYAMLError(problem="something libyaml says", problem_mark=yaml.Mark("", 3, 0, 3, None, 0))
    assert _clearer_error("a: [b c]\n", elsewhere) is elsewhere, "PyYAML stopped somewhere else: libyaml's word stands"


# ----------------------------------------------------------------------------- indented more


SCALE = ["flow: pulse", "steps:", "  - id: week", "    type: scale", "    text: How was your week?",
         "    min: 1", "    max: 5", "    unsure: true", "  - id: bye", "    type: end", "    text: Thanks."]


@pytest.mark.parametrize(("number", "spaces", "key", "above", "line_up"), [
    (8, 1, "unsure", "max", 7),
    (8, 2, "unsure", "max", 7),
    (8, 4, "unsure", "max", 7),
    (4, 2, "type", "id", 3),
    (2, 2, "steps", "flow", 1),
])
def test_a_key_indented_more_than_the_one_above_says_how_many_spaces_to_take_away(
    tmp_path: Path, number: int, spaces: int, key: str, above: str, line_up: int
) -> None:
    lines = list(SCALE)
    lines[number - 1] = " " * spaces + lines[number - 1]
    problem = _only(_problems(tmp_path, lines))
    assert (problem.line, problem.column) == (number, len(lines[number - 1]) - len(lines[number - 1].lstrip()) + 1)
    plural = "s" if spaces > 1 else ""
    assert f"'{key}:' is indented {spaces} space{plural} more than '{above}:' on line {line_up}" in problem.message
    assert problem.hint == f"indent it {spaces} fewer space{plural}, to line up with '{above}:' on line {line_up}"


def test_translations_and_numbered_labels_indented_more_are_keys_too(tmp_path: Path) -> None:
    text = ["flow: f", "steps:", "  - id: q", "    type: scale", "    text:", "      en: How?", "        cy: Sut?",
            "    labels:", "      1: Bad", "       5: Good"]
    problem = _only(_problems(tmp_path, text))
    assert problem.line == 7 and problem.hint == "indent it 2 fewer spaces, to line up with 'en:' on line 6"
    text[6] = "      cy: Sut?"
    problem = _only(_problems(tmp_path, text))
    assert problem.line == 10 and problem.hint == "indent it 1 fewer space, to line up with '1:' on line 9"


def test_words_with_a_colon_that_go_on_from_a_text_are_told_to_be_quoted(tmp_path: Path) -> None:
    problem = _only(_problems(tmp_path, ["flow: f", "steps:", "  - id: q", "    type: open", "    text: Please tell us",
                                         "      Note: it is anonymous"]))
    assert (problem.line, problem.column) == (6, 11)
    assert "'Note:' is read as part of the text of 'text:' on line 5, and a text containing ': ' must be in quotes" in problem.message
    assert problem.hint.startswith("put the whole text in quotes; or, if 'Note:' is a key, indent it 2 fewer spaces")


def test_a_list_item_indented_more_than_the_key_above_lines_up_with_the_item_before(tmp_path: Path) -> None:
    problem = _only(_problems(tmp_path, ["flow: f", "steps:", "  - id: q", "    type: choice", "    options:",
                                         "      - value: a", "        label: A", "         - value: b"]))
    assert (problem.line, problem.column) == (8, 10)
    assert "this '-' is indented 1 space more than 'label:' on line 7" in problem.message
    assert problem.hint == "indent it 3 fewer spaces, to line up with the '-' on line 6"


def test_a_key_indented_more_below_a_quoted_or_bracketed_value_is_still_explained(tmp_path: Path) -> None:
    problem = _only(_problems(tmp_path, ["flow: f", "steps:", "  - id: q", "    type: choice",
                                         "    options: [A, B]", "      next: bye"]))
    assert problem.line == 6 and "to line up with 'options:' on line 5" in problem.hint


# ----------------------------------------------------------------------------- no space after ':'


@pytest.mark.parametrize(("lines", "where", "said", "hint"), [
    (["flow: f", "steps:", "  - id:q", "    type: open"], (3, 7), "'id:q' has no space after the ':'", "'id: q'"),
    (["flow: f", "steps:", "  - id: q", "    type:open", "    text: Hi"], (4, 9), "'type:open' has no space", "'type: open'"),
    (["flow: f", "steps:", "  - id: q", "    type: open", "    text:Hi"], (5, 9), "'text:Hi' has no space", "'text: Hi'"),
    (["flow: f", "steps:", "  - id: q", "    type: open", "    text:{en: Hi, cy: Helo}"], (5, 10),
     "'text:' has no space after the ':', so YAML cannot read the '{' after it", "'text: {...'"),
])
def test_a_key_with_no_space_after_its_colon_is_named(
    tmp_path: Path, lines: list[str], where: tuple[int, int], said: str, hint: str
) -> None:
    problem = _only(_problems(tmp_path, lines))
    assert (problem.line, problem.column) == where, str(problem)
    assert said in problem.message and problem.hint.endswith(hint), str(problem)
