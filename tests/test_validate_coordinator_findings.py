"""`chorus validate` as a new coordinator met it: every mistake that can be checked in one
run (the study's, each flow's YAML slip and schema errors, and the flows' own checks), time
zones named by a UK or Irish place, conditions in plain words, ideas written as a text per
language, a field saved next to a built-in one, and SMS warnings that name the built-in
texts to override."""

from __future__ import annotations

from pathlib import Path

import click
from click.testing import CliRunner

from bot.commands.validate import register
from flows.loader import Problem
from flows.templating import syntax_error
from flows.validate import validate_paths

STUDY = """\
study: waits
title: {{en: Waits, cy: Aros}}
languages: [en, cy]
timezone: {timezone}
quiet_hours: "{quiet}"
groups:
  - id: patient
    label: {{en: Patients, cy: Cleifion}}
  - id: staff
    label: {{en: Staff, cy: Staff}}
join:
  start_flow: listen
  keyword: WAITS
flows: [listen.yaml]
"""

LISTEN = """\
flow: listen
steps:
  - id: role
    type: choice
    text: {en: Who are you?, cy: Pwy ydych chi?}
    options:
      - {value: patient, label: {en: A patient, cy: Claf}}
      - {value: staff, label: {en: Staff, cy: Staff}}
    save_to: participant.group
    next:
      - if: answer == "stafff"
        goto: shfit
  - id: story
    type: open
    text: {en: Tell us about the wait., cy: Dywedwch wrthym am yr aros.}
    accept: [text, voice]
   skip: true
  - id: coping
    type: scael
    text: {en: How are you coping?, cy: Sut ydych chi'n ymdopi?}
  - id: first
    type: choice
    text: {en: Pick one, cy: Dewiswch un}
    options: [a, b]
    optoins: [a]
  - id: done
    type: end
    text: {en: Thank you., cy: Diolch.}
"""


def _study(folder: Path, listen: str = LISTEN, timezone: str = "Europe/London", quiet: str = "21:00-08:00") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(STUDY.format(timezone=timezone, quiet=quiet), encoding="utf-8")
    (folder / "listen.yaml").write_text(listen, encoding="utf-8")
    return folder


def _said(problems: list[Problem]) -> list[str]:
    return [f"{Path(p.file).name}:{p.line}: {p.severity}: {p.message} ({p.hint})" for p in problems]


def _one(problems: list[Problem], phrase: str) -> Problem:
    found = [p for p in problems if phrase in f"{p.message} ({p.hint})"]
    assert len(found) == 1, "\n".join(_said(problems))
    return found[0]


# ----------------------------------------------------------------------------- one run


def test_one_run_reports_the_study_s_errors_and_every_stage_of_a_flow_s(tmp_path: Path) -> None:
    folder = _study(tmp_path / "s", timezone="Europe/Cardiff", quiet="9pm-8am")
    problems, files = validate_paths([folder])
    said = "\n".join(_said(problems))
    assert files == 2
    for phrase in (
        "'Europe/Cardiff' is not a time zone",
        "'9pm-8am' is not a time window",
        "'skip:' is indented 3 spaces",
        "unknown step type 'scael'",
        "unknown key 'optoins'",
        "goes to 'shfit', which is not a step of this flow (did you mean 'first'?)",
        "never answers 'stafff'",
    ):
        assert phrase in said, f"{phrase!r} not in:\n{said}"
    zone = _one(problems, "'Europe/Cardiff' is not a time zone")
    assert zone.hint == "Cardiff is on UK time: write Europe/London"
    note = _one(problems, "its flows were checked on their own")
    assert (Path(note.file).name, note.severity) == ("study.yaml", "warning")


def test_the_yaml_slip_is_reported_where_it_is_with_the_file_s_other_errors(tmp_path: Path) -> None:
    problems, _ = validate_paths([_study(tmp_path / "s")])
    slip = _one(problems, "'skip:' is indented 3 spaces")
    assert (slip.line, slip.column) == (17, 4)
    assert _one(problems, "unknown step type 'scael'").line == 19
    assert not any("checked on their own" in p.message for p in problems)  # the study loads: said only when it does not


def test_the_cli_prints_every_stage_in_one_run_with_its_summary(tmp_path: Path) -> None:
    folder = _study(tmp_path / "s", timezone="Europe/Cardiff")

    @click.group()
    def root() -> None:
        pass

    register(root)
    result = CliRunner().invoke(root, ["validate", str(folder)])
    assert result.exit_code == 1
    assert "Europe/London" in result.output and "unknown key 'optoins'" in result.output
    assert result.output.splitlines()[-1] == "2 files checked: 6 errors, 1 warning"


def test_a_flow_whose_study_is_unreadable_yaml_is_still_checked(tmp_path: Path) -> None:
    folder = _study(tmp_path / "s")
    (folder / "study.yaml").write_text("study: waits\nlanguages: [en, cy\n", encoding="utf-8")
    problems, files = validate_paths([folder])
    assert files == 2
    _one(problems, "unknown step type 'scael'")
    _one(problems, "its flows were checked on their own")


def test_a_slip_the_hint_cannot_mend_stops_that_file_as_before(tmp_path: Path) -> None:
    flow = tmp_path / "f.yaml"
    flow.write_text("flow: f\nsteps:\n  - id: q\n    type: choice\n    text: Which?\n    options: [a, b\n  - id: z\n    typo: 1\n",
                    encoding="utf-8")
    problems, _ = validate_paths([flow])
    assert len(problems) == 1 and "YAML syntax" in problems[0].message


# ----------------------------------------------------------------------------- time zones


def test_uk_and_irish_places_are_given_their_country_s_zone() -> None:
    from flows.pydantic_errors import time_zone_hint

    for place in ("Europe/Cardiff", "Europe/Swansea", "Europe/Edinburgh", "Europe/Glasgow", "Europe/Belfast", "Manchester"):
        assert "Europe/London" in time_zone_hint(place), place
    assert "Europe/Dublin" in time_zone_hint("Dublin")
    assert "Europe/Dublin" in time_zone_hint("Europe/Cork")


def test_a_zone_is_guessed_only_from_a_place_spelt_nearly_alike() -> None:
    from flows.pydantic_errors import time_zone_hint

    assert time_zone_hint("Europe/Londn") == "did you mean 'Europe/London'?"
    assert time_zone_hint("America/New_Yrok") == "did you mean 'America/New_York'?"
    assert time_zone_hint("Europe/Brussel") == "did you mean 'Europe/Brussels'?"
    assert "Paris" not in time_zone_hint("Europe/Cardiff")
    assert time_zone_hint("Europe/Narnia") == ""


# ----------------------------------------------------------------------------- conditions


def test_a_single_equals_sign_is_named() -> None:
    assert syntax_error('answer = "staff"', True) == "use == to compare (you wrote =)"
    assert syntax_error('answer == "a" or participant.group = "x"', True) == "use == to compare (you wrote =)"
    assert syntax_error('answer === "a"', True) == "use == to compare (you wrote ===)"


def test_other_common_condition_and_template_slips_are_in_plain_words() -> None:
    assert "stops too soon" in str(syntax_error('answer == "a" and', True))
    assert "small letters" in str(syntax_error('answer == "a" AND answer == "b"', True))
    assert "'(' is never closed" in str(syntax_error('(answer == "a"', True))
    assert "never closed with '}}'" in str(syntax_error("Hi {{ participant.name", False))
    assert "add '{% endif %}'" in str(syntax_error("{% if answers.role %}Hi", False))
    assert syntax_error('answer == "a"', True) is None


def test_validate_says_use_double_equals_where_the_condition_is(tmp_path: Path) -> None:
    flow = tmp_path / "f.yaml"
    flow.write_text('flow: f\nsteps:\n  - id: q\n    type: yesno\n    text: Well?\n    next:\n      - if: answer = "yes"\n'
                    "        goto: bye\n  - id: bye\n    type: end\n    text: Bye.\n", encoding="utf-8")
    problems, _ = validate_paths([flow])
    problem = _one(problems, "condition syntax")
    assert problem.message == "condition syntax: use == to compare (you wrote =)" and problem.line == 7


# ----------------------------------------------------------------------------- items by language


def test_ideas_written_as_a_text_per_language_give_one_error_each_with_the_shape(tmp_path: Path) -> None:
    flow = tmp_path / "f.yaml"
    flow.write_text(
        "flow: f\nsteps:\n  - id: compare\n    type: pairwise\n    text: {en: Which?, cy: Pa un?}\n    ideas:\n"
        "      - {en: A named worker, cy: Gweithiwr penodol}\n      - {en: A monthly text, cy: Neges fisol}\n"
        "      - {id: groups, text: {en: Groups, cy: Grwpiau}}\n  - id: done\n    type: end\n    text: {en: Thanks., cy: Diolch.}\n",
        encoding="utf-8",
    )
    problems, _ = validate_paths([flow])
    assert [(p.line, p.message) for p in problems] == [
        (7, "idea 1 is written as a text per language, but each idea needs an id and a text"),
        (8, "idea 2 is written as a text per language, but each idea needs an id and a text"),
    ], "\n".join(_said(problems))
    assert problems[0].hint.startswith("write it as {id: idea1, text: {en: ..., cy: ...}}")


def test_inline_delphi_items_by_language_give_one_error_each(tmp_path: Path) -> None:
    flow = tmp_path / "f.yaml"
    flow.write_text("flow: f\nsteps:\n  - id: rate\n    type: delphi\n    delphi: w\n    round: 1\n    items:\n"
                    "      - {en: Knowing how long, cy: Gwybod pa mor hir}\n      - {id: b, text: {en: B, cy: B}}\n",
                    encoding="utf-8")
    problems, _ = validate_paths([flow])
    errors = [p for p in problems if p.severity == "error"]
    assert [p.message for p in errors] == ["item 1 is written as a text per language, but each item needs an id and a text"]


# ----------------------------------------------------------------------------- fields


def test_a_field_named_like_group_with_the_group_ids_as_options_is_warned(tmp_path: Path) -> None:
    listen = LISTEN[: LISTEN.index("    next:")].replace("participant.group", "participant.grp")
    problems, _ = validate_paths([_study(tmp_path / "s", listen)])
    warning = _one(problems, "participant.grp")
    assert warning.severity == "warning" and "study's group ids" in warning.message
    assert warning.hint == "did you mean 'save_to: participant.group'?"
    assert not [p for p in problems if p.severity == "error"], "\n".join(_said(problems))


def test_a_field_close_to_a_built_in_one_is_warned_and_a_merely_similar_one_is_not(tmp_path: Path) -> None:
    def saved(field: str) -> list[Problem]:
        flow = tmp_path / f"{field}.yaml"
        flow.write_text(f"flow: f\nsteps:\n  - id: q\n    type: open\n    text: Well?\n    save_to: participant.{field}\n",
                        encoding="utf-8")
        return [p for p in validate_paths([flow])[0] if "close to participant." in p.message]

    assert [p.hint for p in saved("langauge")] == ["did you mean 'save_to: participant.language'?"]
    assert [p.hint for p in saved("nmae")] == ["did you mean 'save_to: participant.name'?"]
    assert saved("group_size") == [] and saved("discharge_date") == [] and saved("name") == []


# ----------------------------------------------------------------------------- built-in texts on SMS


def test_a_delphi_prompt_made_long_by_built_in_welsh_names_the_texts_to_override(tmp_path: Path) -> None:
    listen = (
        "flow: listen\nsteps:\n  - id: rate\n    type: delphi\n    delphi: w\n    round: 1\n    items:\n"
        "      - {id: a, text: {en: Knowing how long I will wait, cy: Gwybod pa mor hir y byddaf yn aros am weld meddyg teulu yn y feddygfa leol bob tro}}\n"
        "      - {id: b, text: {en: Less paperwork, cy: Llai o waith papur}}\n"
        "  - id: done\n    type: end\n    text: {en: Thanks., cy: Diolch.}\n"
    )  # (on SMS the built-in DDIM YN SIWR goes without its to bach: GSM-7, made long by the built-in words alone)
    problems, _ = validate_paths([_study(tmp_path / "s", listen)])
    warning = _one(problems, "Welsh ('cy') prompt of item 1 of step 'rate'")
    assert "'delphi.middle_label'" in warning.hint and "under 'texts:' in study.yaml" in warning.hint
    assert "shorten it, or split it" not in warning.hint


def test_a_long_text_of_the_flow_s_own_is_still_the_flow_s_to_shorten(tmp_path: Path) -> None:
    words = " ".join(["Please tell us how the long wait for therapy has been for you and your family"] * 3)
    flow = tmp_path / "f.yaml"
    flow.write_text(f"flow: f\nsteps:\n  - id: q\n    type: open\n    text: {words}\n    skip: true\n", encoding="utf-8")
    problems, _ = validate_paths([flow])
    warning = _one(problems, "prompt of step 'q' takes")
    assert warning.hint == "shorten it, or split it over two steps"
