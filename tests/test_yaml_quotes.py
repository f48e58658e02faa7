"""`chorus validate` on a quoted text that ends before its writer meant it to (flows/yaml_quotes.py):
an apostrophe inside single quotes, which Welsh has in almost every sentence ('i'r', 'mae'n'),
a quote inside double quotes, and a quote never closed. PyYAML blames what follows the early
end, so these were reported as an indentation slip or a missing comma. And a key indented
between two levels (flows/yaml_layout.py), lined up with a key of its own kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from flows.loader import Problem
from flows.validate import validate_paths
from tests.desk_helpers import desk_app

APOSTROPHE = "inside single quotes write an apostrophe twice, {word}, or put the whole text in double quotes instead"


def _flow(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_paths([path])[0]


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def _question(text_line: str) -> str:
    return f"flow: f\nsteps:\n  - id: q\n    type: open\n{text_line}\n  - id: bye\n    type: end\n    text: Bye.\n"


@pytest.mark.parametrize(
    ("line", "place", "message", "hint"),
    [
        (
            "    text: 'Fyddai danfon i'r cartref yn help?'",
            (5, 27),
            "the text in single quotes that starts on line 5 ends at the apostrophe in \"i'r\"",
            APOSTROPHE.format(word="i''r"),
        ),
        (
            "    text: {en: 'Would it help?', cy: 'Fyddai i'r cartref yn help?'}",
            (5, 47),
            "the text in single quotes that starts on line 5 ends at the apostrophe in \"i'r\"",
            APOSTROPHE.format(word="i''r"),
        ),
        (
            '    text: "Would it help? Reply "YES" or "NO""',
            (5, 33),
            "the text in double quotes that starts on line 5 ends at the \" before 'YES'",
            'inside double quotes write \\" for each " in the text, or put the whole text in single quotes instead',
        ),
    ],
)
def test_a_quote_inside_a_quoted_text_is_named_with_how_to_write_it(
    tmp_path: Path, line: str, place: tuple[int, int], message: str, hint: str
) -> None:
    problem = _only(_flow(tmp_path, _question(line)))
    assert ((problem.line, problem.column), problem.hint) == (place, hint)
    assert problem.message == f"YAML syntax: {message}, so YAML cannot read the words after it"
    assert "indent" not in problem.message + problem.hint and "comma" not in problem.message + problem.hint


def test_an_option_in_single_quotes_with_an_apostrophe_is_not_called_a_missing_comma(tmp_path: Path) -> None:
    text = "flow: f\nsteps:\n  - id: q\n    type: choice\n    text: Do you?\n    options: [Yes, 'Don't know']\n"
    problem = _only(_flow(tmp_path, text))
    assert (problem.line, problem.column) == (6, 24)
    assert problem.message == (
        "YAML syntax: the text in single quotes that starts on line 6 ends at the apostrophe in \"Don't\", "
        "so YAML cannot read the words after it"
    )
    assert problem.hint == APOSTROPHE.format(word="Don''t")


def test_words_after_a_closed_quote_are_told_to_go_inside_it(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, _question("    text: 'Thank you' for your time")))
    assert problem.message == (
        "YAML syntax: the text in single quotes that starts on line 5 ends at the ' after 'you', and more words follow it"
    )
    assert problem.hint == "put the whole text inside the single quotes"


def test_a_quote_not_closed_on_its_line_is_shown_where_it_opens(tmp_path: Path) -> None:
    text = 'flow: f\nsteps:\n  - id: q\n    type: open\n    text: "How was it?\n  - id: bye\n    type: end\n    text: "Bye."\n'
    problem = _only(_flow(tmp_path, text))
    assert (problem.line, problem.column) == (5, 11)
    assert problem.message == (
        'YAML syntax: the " that opens the text on line 5 is not closed on that line, so YAML reads on to the " on '
        "line 8 and cannot read what follows it"
    )
    assert problem.hint == 'close the text with " at the end of line 5'


def test_a_quote_never_closed_is_shown_where_it_opens(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, _question("    text: 'How was it?").replace("text: Bye.", "text: Bye")))
    assert ((problem.line, problem.column), problem.message) == ((5, 11), "YAML syntax: the ' that opens the text on line 5 is never closed")
    assert problem.hint == "close the text with ' at the end of line 5"


def test_a_quoted_text_written_right_still_loads(tmp_path: Path) -> None:
    lines = "    text: {en: \"Don't know\", cy: 'Dw i''n gwybod'}"
    assert not [p for p in _flow(tmp_path, _question(lines)) if p.severity == "error"]


def test_the_desks_validate_route_explains_the_apostrophe_as_chorus_validate_does(tmp_path: Path) -> None:
    pasted = ("flow: understand\nsteps:\n  - id: story\n    type: open\n"
              "    text: {en: What happened?, cy: 'Beth ddigwyddodd i'r claf?'}\n"
              "  - id: bye\n    type: end\n    text: Thank you.\n")
    with desk_app(tmp_path) as desk:
        desk.client.headers["Authorization"] = f"Bearer {desk.token('coordinator', ('ae-waiting',))}"
        response = desk.client.post("/api/v1/studies/ae-waiting/flows/validate", json={"yaml": pasted})
    body: dict[str, Any] = response.json()
    assert response.status_code == 200 and not body["ok"], body
    errors = [p for p in body["problems"] if p["severity"] == "error"]
    assert len(errors) == 1 and errors[0]["file"].endswith("understand.yaml"), errors
    assert "ends at the apostrophe in \"i'r\"" in errors[0]["message"] and errors[0]["line"] == 5
    assert errors[0]["hint"] == APOSTROPHE.format(word="i''r")


# ----------------------------------------------------------------------------- a key between two levels


def test_a_steps_key_one_space_short_of_a_texts_language_lines_up_with_the_steps_keys(tmp_path: Path) -> None:
    """``min:`` indented 5 spaces, below a text given per language (``cy:`` at 6) in a step whose
    keys are at 4: it is the step's, not the text's (it used to be told to line up with 'cy:',
    and then reported as "'text.min' should be text")."""
    text = ("flow: f\nsteps:\n  - id: trips\n    type: number\n    text:\n      en: How many times?\n"
            "      cy: Sawl gwaith?\n     min: 0\n    max: 40\n")
    problem = _only(_flow(tmp_path, text))
    assert (problem.line, problem.column) == (8, 6)
    assert problem.hint == "indent it 1 fewer space, to line up with 'text:' on line 5"


def test_a_language_one_space_short_of_the_other_lines_up_with_it(tmp_path: Path) -> None:
    text = "flow: f\nsteps:\n  - id: q\n    type: open\n    text:\n      en: How was it?\n     cy: Sut oedd hi?\n"
    problem = _only(_flow(tmp_path, text))
    assert problem.hint == "indent it 1 more space, to line up with 'en:' on line 6"
