"""A community physiotherapy waiting-list study written by a new coordinator from the README
alone, with the slips such a coordinator makes, checked by `chorus validate`, then run and read
on the desk: what `chorus validate` let through or explained wrongly, and what the choice
experiment's results said in a way nobody could act on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.api.labels import choice_labels
from bot.charts import _fmt
from flows.display_text import ChoiceWords, trade_in_words
from flows.loader import Problem
from flows.validate import validate_paths

STUDY = """\
study: physio
title: Community physiotherapy waiting list
languages: [{languages}]
timezone: Europe/London
quiet_hours: "21:00-08:00"
groups: [patient, staff]
join:
  start_flow: waiting
  keyword: PHYSIO
flows: [waiting.yaml, options.yaml]
schedule:
  - flow: options
    after: 2d
    window: "09:00-19:00"
signposting:
  en: If you need urgent help, call NHS 111, or 999 in an emergency.
"""

WAITING = """\
flow: waiting
steps:
  - id: role
    type: choice
    text: "{consent_text}"
    options:
      - {{value: patient, label: Waiting for physio}}
      - {{value: staff, label: Physio team}}
    save_to: participant.group
    on_max_tries: flag
  - id: weeks
    type: number
    text: How many weeks have you been waiting so far?
    min: 0
    max: 104
    unit: weeks
    next:
      - if: {condition}
        goto: worse
      - if: "true"
        goto: story
  - id: worse
    type: scale
    text: "{worse_text}"
    min: 1
    max: 5
  - id: story
    type: open
    text: What has waiting been like for you?
  - id: thanks
    type: end
    text: "{end_text}"
"""

OPTIONS = """\
flow: options
steps:
  - id: dce
    type: choice_experiment
    text: Which appointment would you choose?
    attributes:
      wait_weeks:
        levels: [2, 6, 12]
        labels: {wait_labels}
        better: lower
      format: [in person, video call]
      physio: [the same physio each time, whichever physio is free]
    alternatives: 2
    opt_out: true
    tasks: 6
  - id: done
    type: end
    text: Thank you.
"""

GOOD = {
    "languages": "en",
    "consent_text": "{{ study.title }}: are you waiting for physio, or in the physio team?",
    "condition": 'answer >= 12 and participant.group == "patient"',
    "worse_text": "You have waited {{ values.weeks }} weeks. Has it got worse? 1 to 5",
    "end_text": "Thank you.",
    "wait_labels": "{2: 2 weeks, 6: 6 weeks, 12: 12 weeks}",
}


def _validate(tmp_path: Path, **slips: str) -> list[Problem]:
    values = {**GOOD, **slips}
    folder = tmp_path / "physio"
    folder.mkdir(exist_ok=True)
    (folder / "study.yaml").write_text(STUDY.format(**values), encoding="utf-8")
    (folder / "waiting.yaml").write_text(WAITING.format(**values), encoding="utf-8")
    (folder / "options.yaml").write_text(OPTIONS.format(**values), encoding="utf-8")
    problems, _ = validate_paths([folder])
    return [p for p in problems if "SMS segments" not in p.message]


def test_a_long_choice_task_on_sms_is_not_told_to_split_its_step(tmp_path: Path) -> None:
    """The hint was "shorten it, or split it over two steps": a choice task cannot be split."""
    folder = tmp_path / "physio"
    _validate(tmp_path)
    options = (folder / "options.yaml").read_text(encoding="utf-8")
    (folder / "options.yaml").write_text(options.replace("[in person, video call]", "[in person at the clinic, a video call at home]"),
                                         encoding="utf-8")
    problems, _ = validate_paths([folder])
    long = [p for p in problems if "SMS segments" in p.message]
    assert [p.message.split(" takes ")[0] for p in long] == ["on SMS, the English ('en') prompt of step 'dce'"]
    assert long[0].hint.startswith("a choice task goes as one message") and "split" not in long[0].hint


def _said(problems: list[Problem]) -> list[tuple[str, str, str]]:
    return [(Path(p.file).name, p.severity, p.message) for p in problems]


def test_the_study_as_meant_validates_without_a_word(tmp_path: Path) -> None:
    assert _validate(tmp_path) == []


def test_a_condition_on_a_step_that_comes_later_is_an_error_that_says_it_is_never_true(tmp_path: Path) -> None:
    """It was a warning that the later step 'is not always asked before' this one, with the
    fix 'if: values.story and ...', which keeps the condition never true."""
    problems = _validate(tmp_path, condition='values.story == "bad"')
    assert _said(problems) == [("waiting.yaml", "error", "'values.story' is always empty here: step 'story' is never asked "
                                "before step 'weeks', so this condition is never true")]
    assert problems[0].line == 18 and "move this to a step after 'story'" in problems[0].hint
    later_text = _validate(tmp_path, condition='values.worse == 5')
    assert [p.severity for p in later_text] == ["error"] and "step 'worse' is never asked before step 'weeks'" in later_text[0].message


def test_an_answer_asked_on_some_ways_only_is_still_a_warning(tmp_path: Path) -> None:
    """'worse' is asked on one branch before 'story': reading it at the end may be empty, not always."""
    problems = _validate(tmp_path, end_text="Thank you. You scored {{ answers.worse }}.")
    assert [(p.severity, p.message.split(":")[0]) for p in problems] == [("warning", "'answers.worse' may be empty here")]


@pytest.mark.parametrize(("slip", "message"), [
    ({"consent_text": "{{ study.name }}: are you waiting?"},
     "'study.name' is always empty: a template can read study.title and study.id, not study.name"),
    ({"end_text": "You waited {{ answer.weeks }}."},
     "'answer.weeks' reads part of this step's own answer, which has no parts; the answer to step 'weeks' is answers.weeks"),
])
def test_template_names_that_are_always_empty_are_errors(tmp_path: Path, slip: dict[str, str], message: str) -> None:
    """Both passed validation; at run time the sentence was left out for every participant."""
    assert _said(_validate(tmp_path, **slip)) == [("waiting.yaml", "error", message)]


def test_a_participant_field_no_step_saves_is_warned_of_unless_guarded(tmp_path: Path) -> None:
    problems = _validate(tmp_path, consent_text="Hello {{ participant.first_name }}. Are you waiting?")
    assert _said(problems) == [("waiting.yaml", "warning", "'participant.first_name' is always empty: no step of this study saves it")]
    assert "{{ participant.first_name or '...' }}" in problems[0].hint
    assert _validate(tmp_path, consent_text="Hello {{ participant.first_name or 'there' }}. Are you waiting?") == []
    assert _validate(tmp_path, consent_text="Hello. You joined by {{ participant.channel }}. Are you waiting?") == []


def test_a_unit_written_after_an_answer_that_already_shows_it_is_warned_of(tmp_path: Path) -> None:
    """'You've waited {{ answers.weeks }} weeks' read "You've waited 14 weeks weeks"."""
    problems = _validate(tmp_path, worse_text="You have waited {{ answers.weeks }} weeks. Has it got worse? 1 to 5")
    assert _said(problems) == [("waiting.yaml", "warning",
                                "'answers.weeks' is shown with its unit already ('14 weeks'), so this reads '14 weeks weeks'")]
    assert problems[0].hint.startswith("write '{{ values.weeks }} weeks' for the number alone")
    assert _validate(tmp_path, worse_text="You have waited {{ answers.weeks }}. Has it got worse? 1 to 5") == []


def test_choice_experiment_labels_for_a_missing_level_or_a_level_without_one(tmp_path: Path) -> None:
    """A label for a level not in 'levels' was never shown, and a level left unlabelled went out
    as a bare '12' beside '2 weeks': both passed without a word."""
    extra = _validate(tmp_path, wait_labels="{2: 2 weeks, 6: 6 weeks, 12: 12 weeks, 24: 24 weeks}")
    assert _said(extra) == [("options.yaml", "error", "attribute 'wait_weeks' of step 'dce' has a label for level 24, "
                             "which is not one of its levels (2, 6, 12), so it is never shown")]
    missing = _validate(tmp_path, wait_labels="{2: 2 weeks, 6: 6 weeks}")
    assert _said(missing) == [("options.yaml", "warning",
                               "attribute 'wait_weeks' of step 'dce' labels some levels but not 12, so it is shown as written")]


def test_a_study_title_in_one_language_of_two_is_warned_of(tmp_path: Path) -> None:
    problems = _validate(tmp_path, languages="en, cy")
    study = [p for p in problems if Path(p.file).name == "study.yaml" and p.severity == "warning"]
    assert len(study) == 1 and study[0].message.startswith("a text participants see has no Welsh ('cy') version")
    assert "the study's title (line 2)" in study[0].message


def test_a_folder_of_study_folders_is_validated_study_by_study(tmp_path: Path) -> None:
    """`chorus validate flows/examples` said "no study or flow files (*.yaml) in this folder"."""
    _validate(tmp_path)
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "study.yaml").write_text(STUDY.format(**GOOD).replace("study: physio", "study: broken"), encoding="utf-8")
    problems, checked = validate_paths([tmp_path])
    assert checked == 4, "physio's study file and its two flows, and broken's study file"
    assert {Path(p.file).parent.name for p in problems if p.severity == "error"} == {"broken"}


def test_choice_attributes_named_with_their_unit_read_once() -> None:
    """'wait_weeks' read "Wait weeks, per week" and trades were "in weeks of wait weeks"."""
    words = ChoiceWords.of([{"attributes": {
        "wait_weeks": {"levels": [2, 6], "labels": {"2": "2 weeks", "6": "6 weeks"}},
        "distance_in_miles": {"levels": [1, 5], "labels": {"1": "1 mile away", "5": "5 miles away"}},
        "travel_time": {"levels": [10, 30], "labels": {"10": "10 minutes", "30": "30 minutes"}},
        "wait": {"levels": [1, 2], "label": "Weeks waiting", "labels": {"1": "1 week", "2": "2 weeks"}},
    }}], "en")
    assert words.feature("wait_weeks") == "Wait, per week" and words.amount("wait_weeks") == "weeks of wait"
    assert words.feature("distance_in_miles") == "Distance, per mile" and words.amount("distance_in_miles") == "miles of distance"
    assert words.feature("travel_time") == "Travel time, per minute"
    assert words.attribute("wait") == "Weeks waiting", "a label the flow gives is kept as written"


def test_willingness_to_trade_is_said_in_words_with_its_doubt() -> None:
    words = ChoiceWords.of([{"attributes": {"wait_weeks": {"levels": [2, 6], "labels": {"2": "2 weeks", "6": "6 weeks"}},
                                            "format": ["in person", "video call"]}}], "en")
    assert trade_in_words(words, "wait_weeks", -2.009, -4.4, -0.5) == "evened out by 2.0 weeks less wait"
    assert trade_in_words(words, "wait_weeks", 1.04, -0.2, 2.3) == (
        "evened out by 1.0 week more wait (the interval runs either way: not yet clear)")
    report = {"coefficients": [{"feature": "wait_weeks", "estimate": -0.27}, {"feature": "format[video call]", "estimate": -0.53}],
              "importance": {"wait_weeks": 0.8, "format": 0.2}, "reference_levels": {"format": "in person"},
              "trade_offs": [{"feature": "format[video call]", "against": "wait_weeks", "estimate": -2.0, "low": -4.4, "high": 0.3}]}
    trade = choice_labels(report, words)["trade_offs"][0]
    assert trade["label"] == "Format: video call" and trade["against_label"] == "weeks of wait"
    assert trade["in_words"] == "evened out by 2.0 weeks less wait (the interval runs either way: not yet clear)"


@pytest.mark.parametrize(("value", "said"), [(-0.001, "0"), (2.001, "2"), (1.5, "1.5"), (-0.27, "-0.27"), (100.0, "100"), (0.0, "0")])
def test_chart_numbers_never_end_in_a_bare_point(value: float, said: str) -> None:
    """A ranking score of -0.001 was described to screen readers as "-0. (-0.68 to 1.09)"."""
    assert _fmt(value) == said
