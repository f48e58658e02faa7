"""`chorus validate` on mistakes it used to miss or explain badly: a schedule timed from a
field nobody saves, an option with nothing to show, an answer read before it is asked,
commas and brackets out of place, and keys indented too little."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.loader import Problem, load_flow
from flows.template_order import known_before
from flows.validate import validate_paths

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = sorted((ROOT / "flows" / "examples").iterdir()) + [ROOT / "tests" / "flows"]

STUDY = """study: clinic
title: The clinic
languages: [en]
join:
  start_flow: welcome
  keyword: CLINIC
"""
WELCOME = """flow: welcome
steps:
  - id: left
    type: open
    text: What day did you leave hospital?
    save_to: participant.discharge_date
  - id: bye
    type: end
    text: Thank you.
"""
LATER = "flow: later\nsteps:\n  - id: bye\n    type: end\n    text: Thank you.\n"


def _flow(tmp_path: Path, text: str) -> list[Problem]:
    path = tmp_path / "flow.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_paths([path])[0]


def _study(tmp_path: Path, schedule: str, flows: dict[str, str] | None = None) -> list[Problem]:
    folder = tmp_path / "study"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY + schedule, encoding="utf-8")
    for name, text in (flows or {"welcome": WELCOME, "later": LATER}).items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return validate_paths([folder])[0]


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def _steps(steps: str) -> str:
    """A flow of ``steps`` (indented as under 'steps:') and a closing end step."""
    return f"flow: f\nsteps:\n{steps}  - id: bye\n    type: end\n    text: Thank you.\n"


# ----------------------------------------------------------------------------- relative_to


def test_a_schedule_timed_from_a_field_no_step_saves_is_an_error(tmp_path: Path) -> None:
    problem = _only(_study(tmp_path, "schedule:\n  - flow: later\n    after: 28d\n    relative_to: participant.left_on\n"))
    assert (problem.line, problem.column, problem.severity) == (10, 18, "error")
    assert problem.message == (
        "the flow 'later' is timed from participant.left_on, but no step of this study saves "
        "participant.left_on, so the flow would never be sent"
    )
    assert problem.hint.startswith("add 'save_to: participant.left_on' to the step that asks for this date")


def test_a_misspelt_anchor_field_suggests_the_saved_one(tmp_path: Path) -> None:
    problem = _only(_study(tmp_path, "schedule:\n  - flow: later\n    every: 7d\n    relative_to: discharge_dat\n"))
    assert "timed from participant.discharge_dat" in problem.message
    assert problem.hint == "did you mean 'participant.discharge_date'?"


@pytest.mark.parametrize(
    "when",
    [
        "after: 28d\n    relative_to: participant.discharge_date",
        "after: 28d\n    relative_to: discharge_date",
        "after: 28d\n    relative_to: Enrolment",
        "every: 7d\n    relative_to: joined",
        "at: 2030-01-01T09:00\n    relative_to: participant.never_saved",
    ],
)
def test_a_schedule_timed_from_a_saved_field_or_from_joining_is_fine(tmp_path: Path, when: str) -> None:
    assert _study(tmp_path, f"schedule:\n  - flow: later\n    {when}\n") == []


def test_a_broken_flow_file_does_not_also_blame_the_schedule(tmp_path: Path) -> None:
    broken = WELCOME.replace("type: open", "type: opne")
    problems = _study(
        tmp_path,
        "schedule:\n  - flow: later\n    after: 28d\n    relative_to: participant.discharge_date\n",
        {"welcome": broken, "later": LATER},
    )
    assert [p.message for p in problems] == ["unknown step type 'opne'"]


# ----------------------------------------------------------------------------- options


@pytest.mark.parametrize(
    ("options", "place", "message"),
    [
        (
            "    options:\n      - value: very_good\n      - value: poor\n        label: Poor\n",
            (7, 16),
            "option 'very_good' of step 'q' has a value but no label, so participants would see 'very_good'",
        ),
        ('    options: [Patient, ""]\n', (6, 24), "option 2 of step 'q' is empty: participants would see a blank option"),
        (
            '    options:\n      - value: a\n        label: ""\n',
            (8, 16),
            "the label of option 'a' of step 'q' is empty: participants would see a blank option",
        ),
        (
            '    options:\n      - value: a\n        label: {en: " "}\n',
            (8, 16),
            "the label of option 'a' of step 'q' is empty: participants would see a blank option",
        ),
    ],
)
def test_an_option_with_nothing_to_show_is_an_error(
    tmp_path: Path, options: str, place: tuple[int, int], message: str
) -> None:
    problem = _only(_flow(tmp_path, _steps(f"  - id: q\n    type: choice\n    text: Pick one\n{options}")))
    assert ((problem.line, problem.column), problem.severity, problem.message) == (place, "error", message)


def test_options_written_as_plain_text_or_with_labels_are_fine(tmp_path: Path) -> None:
    steps = (
        "  - id: q\n    type: choice\n    text: Pick one\n    options: [Patient, Carer]\n"
        "  - id: r\n    type: rank\n    text: Put them in order\n"
        "    options: [{value: a, label: Waits}, {value: b, label: Parking}]\n"
    )
    assert _flow(tmp_path, _steps(steps)) == []


def test_a_rank_option_without_a_label_is_an_error_too(tmp_path: Path) -> None:
    steps = "  - id: r\n    type: rank\n    text: Put them in order\n    options:\n      - value: waits\n      - Parking\n"
    problem = _only(_flow(tmp_path, _steps(steps)))
    assert problem.message == "option 'waits' of step 'r' has a value but no label, so participants would see 'waits'"


def test_an_empty_translation_of_a_label_in_a_study_is_reported_once(tmp_path: Path) -> None:
    flow = WELCOME.replace(
        "  - id: bye\n",
        "  - id: q\n    type: choice\n    text: Pick one\n    options:\n      - value: a\n        label: {en: ''}\n  - id: bye\n",
    )
    problem = _only(_study(tmp_path, "", {"welcome": flow}))
    assert problem.message == "'options[0].label' of step 'q' is empty in 'en'"


# ----------------------------------------------------------------------------- read before asked

BRANCH = """\
  - id: consent
    type: consent
    text: Can we ask about your visit?
    next:
      - if: answer == "yes"
        goto: story
  - id: role
    type: choice
    text: Which best describes you?
    options: [Patient, Carer]
    save_to: participant.role
  - id: story
    type: open
    text: "{text}"
"""


def test_an_answer_read_where_a_branch_skips_its_step_is_warned_of(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, _steps(BRANCH.format(text="Tell us more, {{ answers.role }}."))))
    assert (problem.line, problem.column, problem.severity) == (16, 29, "warning")
    assert problem.message == (
        "'answers.role' may be empty here: step 'role' is not always asked before step 'story' "
        "(a participant can go 'consent', then 'story')"
    )
    assert problem.hint == (
        "ask 'role' earlier on every way to 'story', or allow for it being empty: {{ answers.role or '...' }}"
    )


def test_a_field_this_flow_saves_read_before_it_is_saved_is_warned_of(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, _steps(BRANCH.format(text="Tell us more, {{ values.story }} {{ participant.role }}."))))
    assert problem.message.startswith(
        "'participant.role' may be empty here: step 'role', which saves it, is not always asked before step 'story'"
    )


@pytest.mark.parametrize(
    "text",
    [
        "Tell us more, {{ answers.role or 'friend' }}.",
        "Tell us more{% if answers.role %}, {{ answers.role }}{% endif %}.",
        "Tell us more, {{ answers.role | default('friend') }}.",
        "Tell us more, {{ answers.role if answers.role is defined else 'friend' }}.",
        "Tell us more, {{ participant.group }} who speaks {{ participant.language }}.",
        "Tell us more, {{ participant.name or 'friend' }}.",
        "Tell us more, {{ participant.nickname }}.",
    ],
)
def test_values_a_text_checks_first_or_that_may_come_from_elsewhere_are_not_warned_of(
    tmp_path: Path, text: str
) -> None:
    assert _flow(tmp_path, _steps(BRANCH.format(text=text))) == []


def test_an_answer_asked_on_every_branch_is_not_warned_of(tmp_path: Path) -> None:
    steps = """\
  - id: staff
    type: yesno
    text: Do you work here?
    next:
      - if: answer == "yes"
        goto: ward
  - id: visit
    type: open
    text: Which ward did you visit?
    save_to: participant.ward
    next: thanks
  - id: ward
    type: open
    text: Which ward do you work on?
    save_to: participant.ward
  - id: thanks
    type: message
    text: "Thanks, we will pass it to {{ participant.ward }} ({{ answers.staff }})."
"""
    assert _flow(tmp_path, _steps(steps)) == []


def test_in_a_loop_only_what_the_first_time_round_has_asked_is_sure(tmp_path: Path) -> None:
    steps = """\
  - id: idea
    type: open
    text: "An idea? (Last one: {{ answers.idea_more }})"
  - id: idea_more
    type: yesno
    text: "Another after {{ answers.idea }}?"
    next:
      - if: answer == "yes"
        goto: idea
"""
    problem = _only(_flow(tmp_path, _steps(steps)))
    assert problem.line == 5
    assert problem.message.startswith("'answers.idea_more' may be empty here: step 'idea_more' is not always asked before step 'idea'")


def test_a_condition_reading_an_answer_a_branch_skips_is_warned_of(tmp_path: Path) -> None:
    steps = BRANCH.format(text="Tell us more.") + '    next:\n      - if: values.role == "Carer" and answer\n        goto: bye\n'
    problem = _only(_flow(tmp_path, _steps(steps)))
    assert (problem.line, problem.severity) == (18, "warning")
    assert problem.hint.endswith("'if: values.role and ...'")


def test_a_condition_may_read_its_own_steps_answer(tmp_path: Path) -> None:
    steps = "  - id: visits\n    type: number\n    text: How many visits?\n    next:\n      - if: values.visits > 3\n        goto: bye\n"
    assert _flow(tmp_path, _steps(steps)) == []


def test_a_field_another_flow_of_the_study_saves_is_not_warned_of(tmp_path: Path) -> None:
    later = _steps(BRANCH.format(text="Since {{ participant.discharge_date }}?").replace("participant.role", "participant.discharge_date"))
    later = later.replace("flow: f", "flow: later")
    assert _study(tmp_path, "schedule:\n  - flow: later\n    after: 7d\n", {"welcome": WELCOME, "later": later}) == []
    alone = _flow(tmp_path, later)
    assert [p.message.split(":")[0] for p in alone] == ["'participant.discharge_date' may be empty here"]


def test_the_answer_of_a_step_that_asks_nothing_is_an_error(tmp_path: Path) -> None:
    steps = "  - id: intro\n    type: message\n    text: Hello.\n  - id: q\n    type: open\n    text: \"About {{ answers.intro }}?\"\n"
    problem = _only(_flow(tmp_path, _steps(steps)))
    assert (problem.severity, problem.message) == (
        "error",
        "'answers.intro' is always empty: step 'intro' is a message step, which asks nothing",
    )


def test_known_before_meets_branches_at_what_both_asked() -> None:
    flow = load_flow(ROOT / "tests" / "flows" / "branching.yaml").flow
    known = known_before(flow)
    assert known["hello"] == frozenset()
    assert known["summary"] == {"answers.role", "answers.visits", "participant.group"}
    assert known["ward"] == frozenset()  # staff_gate jumps here before 'role' is asked
    assert known["bye"] == {"answers.ward"}


@pytest.mark.parametrize("folder", EXAMPLES, ids=lambda path: path.name)
def test_the_example_studies_and_test_flows_stay_clean(folder: Path) -> None:
    problems = validate_paths([folder])[0]
    if folder.name == "evaluation":  # its staff get 'sus' with the 2nd weekly 'pulse' on day 14, on purpose:
        # the example shows how the two are sent one after the other (tests/test_contact_hours.py), and
        # validate has warned of a later send of a series meeting another flow since session 20
        assert [(p.line, p.severity) for p in problems] == [(41, "warning")]
        assert "the 2nd of 'pulse' every 7 days" in problems[0].message
        return
    assert problems == []


# ----------------------------------------------------------------------------- commas and brackets


@pytest.mark.parametrize(
    ("value", "place", "message", "hint"),
    [
        (
            "{en: Hello there. cy: Helo.}",
            (3, 23),
            "a comma is missing before 'cy'",
            "separate the items with commas: ..., cy: ...",
        ),
        (
            '["Yes" "No"]',
            (3, 12),
            "a comma is missing before this item of the list in [ ] that starts on line 3",
            "separate the items with commas, e.g. [Yes, No] or {en: Hello, cy: Helo}",
        ),
        ("[Yes,, No]", (3, 10), "two commas in a row leave an empty item between them", "remove this comma"),
        ("{, en: Hi}", (3, 6), "a comma straight after '{' leaves the first item empty", "remove this comma"),
        ("[Yes, No}", (3, 13), "the '[' on line 3 is closed with '}'", "close a list in [ ] with ']'"),
        ("[Yes, No]]", (3, 14), "this ']' closes nothing: there is no '[' open before it", "remove it, or add the '[' it belongs to"),
        ("[Yes, No],", (3, 14), "a comma after the value has ended", "remove it; to give several items, put them all inside [ ], e.g. [Yes, No]"),
        ("{en: Note: it is short}", (3, 14), "a text with ': ' in it, inside [ ] or { }, must be in quotes", 'put the text in quotes, e.g. {en: "Note: we ask a few questions"}'),
    ],
)
def test_a_comma_or_bracket_out_of_place_is_explained(
    tmp_path: Path, value: str, place: tuple[int, int], message: str, hint: str
) -> None:
    problem = _only(_flow(tmp_path, f"flow: f\nsteps:\n  - {value}\n"))
    assert ((problem.line, problem.column), problem.message, problem.hint) == (place, f"YAML syntax: {message}", hint)


def test_a_bracket_never_closed_is_shown_where_it_opens(tmp_path: Path) -> None:
    steps = "  - id: q\n    type: choice\n    text: Pick one\n    options: [Patient, Carer\n    save_to: participant.group\n"
    problem = _only(_flow(tmp_path, _steps(steps)))
    assert (problem.line, problem.column) == (6, 14)
    assert problem.message == "YAML syntax: this '[' is never closed with ']'"


def test_options_written_as_a_map_are_shown_as_the_list_they_should_be(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, _steps("  - id: q\n    type: choice\n    text: Pick one\n    options: {a: Yes, b: No, }\n")))
    assert problem.message == "'options' should be a list, not a mapping"
    assert problem.hint == '{ } makes a map; options are a list in [ ]: options: [{value: a, label: "Yes"}, {value: b, label: "No"}]'


# ----------------------------------------------------------------------------- indentation


def test_a_steps_key_at_the_indentation_of_its_dash_says_which_step_and_how_far(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, "flow: f\nsteps:\n  - id: q\n    type: choice\n    text: Pick one\n  options: [a, b]\n"))
    assert (problem.line, problem.column) == (6, 3)
    assert problem.message == (
        "YAML syntax: 'options:' is indented only as far as the '-' that starts each step, "
        "so YAML cannot tell it belongs to step 'q'"
    )
    assert problem.hint == "indent it 2 more spaces, to line up with 'text:' on line 5"


def test_a_rules_key_at_the_indentation_of_its_dash_names_the_list(tmp_path: Path) -> None:
    text = "flow: f\nsteps:\n  - id: q\n    type: yesno\n    text: Ok?\n    next:\n      - if: answer == 'no'\n      goto: q\n"
    problem = _only(_flow(tmp_path, text))
    assert (problem.line, problem.column) == (8, 7)
    assert "the '-' that starts each item of 'next', so YAML cannot tell it belongs to the item on line 7" in problem.message
    assert problem.hint == "indent it 2 more spaces, to line up with 'if:' on line 7"


def test_a_key_between_levels_is_told_which_key_to_line_up_with(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, "flow: f\nsteps:\n  - id: q\n    type: open\n   text: Hello\n"))
    assert (problem.line, problem.column) == (5, 4)
    assert problem.message == "YAML syntax: 'text:' is indented 3 spaces, in line with no key above it, so YAML cannot tell what it belongs to"
    assert problem.hint == "indent it 1 more space, to line up with 'type:' on line 4"


def test_a_list_item_out_of_line_is_told_how_far(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, "flow: f\nsteps:\n  - id: q\n    type: choice\n    options:\n      - a\n     - b\n"))
    assert (problem.line, problem.column) == (7, 6)
    assert problem.message.endswith("the items of one list must line up")
    assert problem.hint == "indent it 1 more space"


def test_a_steps_key_at_the_left_edge_is_not_called_unknown_to_the_flow(tmp_path: Path) -> None:
    text = "flow: f\nsteps:\n- id: q\n  type: open\n- id: bye\n  type: end\ntext: Bye\n"
    problem = _only(_flow(tmp_path, text))
    assert (problem.line, problem.column) == (7, 1)
    assert problem.message == "'text:' is not indented, so YAML reads it as a key of the flow, not of step 'bye' above it"
    assert problem.hint == "indent it 2 spaces, to line up with 'id:' on line 5"


def test_a_list_item_under_a_key_it_is_less_indented_than_is_told_how_far(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, "flow: f\nsteps:\n  - id: q\n    type: choice\n    options:\n   - a\n"))
    assert (problem.line, problem.column) == (6, 4)
    assert problem.message == "YAML syntax: this '-' is indented less than 'options:' on line 5, the key it is listed under"
    assert problem.hint == "indent it 3 more spaces"


def test_a_key_under_a_plain_list_item_is_explained_without_a_key_to_line_up_with(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, "flow: f\nsteps:\n  - id: q\n    type: choice\n    options:\n      - a\n      label: A\n"))
    assert "the '-' that starts each item of 'options'" in problem.message
    assert problem.hint == "indent it 2 more spaces"


def test_a_new_step_without_its_dash_says_to_start_it_with_one(tmp_path: Path) -> None:
    problems = _flow(tmp_path, "flow: f\nsteps:\n- id: a\n  type: open\n  text: Hi\nid: b\n")
    problem = _only(problems)
    assert (problem.line, problem.column) == (6, 1)
    assert problem.message == "'id:' is not indented and has no '-' before it, so YAML reads it as a key of the flow, not as a new step"


# ----------------------------------------------------------------------------- unknown filters


def test_a_misspelt_filter_is_named_with_the_one_meant(tmp_path: Path) -> None:
    problem = _only(_flow(tmp_path, _steps('  - id: q\n    type: open\n    text: "Hello {{ participant.name | uper }}"\n')))
    assert (problem.line, problem.column, problem.severity) == (5, 40, "error")
    assert (problem.message, problem.hint) == ("template: there is no filter called 'uper'", "did you mean 'upper'?")


def test_rendering_a_misspelt_filter_fails_as_a_template_failure_not_a_crash() -> None:
    from flows.templating import TemplateFailure, render

    with pytest.raises(TemplateFailure, match="No filter named 'uper'"):
        render("Hello {{ participant.name | uper }}", {"participant": {"name": "Ann"}})
