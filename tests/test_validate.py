"""`chorus validate`: every broken file in tests/broken_flows names its one problem on its
first line (``# expect: [file] line:column severity: phrase | phrase``), and the check
must report exactly that problem, there."""

from __future__ import annotations

import re
from pathlib import Path

import click
import pytest
from click.testing import CliRunner

from bot.commands.validate import register
from flows.loader import LoadError, Problem, load_flow, load_study
from flows.readability import measure, syllables, too_hard
from flows.sms import count_segments, plain_message
from flows.validate import validate_paths

BROKEN = Path(__file__).parent / "broken_flows"
EXPECT = re.compile(
    r"#\s*expect:\s*(?:(?P<file>\S+\.ya?ml)\s+)?(?P<line>\d+):(?P<column>\d+)\s+(?P<severity>error|warning):\s*(?P<phrases>.+)"
)
CASES = sorted(p.name for p in BROKEN.iterdir() if p.suffix in (".yaml", ".yml") or p.is_dir())


def _expectation(case: Path) -> tuple[Path, int, int, str, list[str]]:
    holder = case / "study.yaml" if case.is_dir() else case
    match = EXPECT.match(holder.read_text(encoding="utf-8").splitlines()[0])
    assert match, f"{holder} must start with '# expect: line:column severity: phrase'"
    file = holder.parent / match["file"] if match["file"] else holder
    phrases = [p.strip() for p in match["phrases"].split(" | ") if p.strip()]
    return file, int(match["line"]), int(match["column"]), match["severity"], phrases


def _cli() -> click.Group:
    @click.group()
    def root() -> None:
        pass

    register(root)
    return root


@pytest.mark.parametrize("name", CASES)
def test_each_broken_file_reports_its_one_problem_where_it_is(name: str) -> None:
    case = BROKEN / name
    file, line, column, severity, phrases = _expectation(case)
    problems, _ = validate_paths([case])
    assert len(problems) == 1, "\n".join(map(str, problems))
    problem = problems[0]
    assert Path(problem.file) == file
    assert (problem.line, problem.column, problem.severity) == (line, column, severity), str(
        problem
    )
    for phrase in phrases:
        assert phrase in f"{problem.message} ({problem.hint})", f"'{phrase}' not in: {problem}"


def test_the_broken_files_cover_every_kind_of_mistake_asked_for() -> None:
    wanted = {
        "yaml_syntax.yaml",
        "unknown_key.yaml",
        "wrong_type.yaml",
        "unknown_step_type.yaml",
        "dangling_next.yaml",
        "unreachable_step.yaml",
        "loop_no_way_out.yaml",
        "missing_translation.yaml",
        "undefined_variable.yaml",
        "jinja_syntax.yaml",
        "duplicate_step_id.yaml",
        "bad_save_to.yaml",
        "study_missing_start_flow",
        "study_missing_flow_file",
        "empty.yaml",
    }
    assert wanted <= set(CASES)


def test_the_example_study_has_no_errors_and_no_warnings(example_study_path: Path) -> None:
    problems, files = validate_paths([example_study_path])
    assert problems == []
    assert files == 5


def test_the_cli_exits_0_on_the_example_and_1_on_an_error(example_study_path: Path) -> None:
    runner = CliRunner()
    good = runner.invoke(_cli(), ["validate", str(example_study_path)])
    bad = runner.invoke(_cli(), ["validate", str(BROKEN / "unknown_key.yaml")])
    assert good.exit_code == 0, good.output
    assert bad.exit_code == 1
    assert "unknown_key.yaml:6:5: error: unknown key 'txt' (did you mean 'text'?)" in bad.output


def test_warnings_alone_exit_0_unless_strict() -> None:
    runner = CliRunner()
    path = str(BROKEN / "warn_long_sms.yaml")
    assert runner.invoke(_cli(), ["validate", path]).exit_code == 0
    assert runner.invoke(_cli(), ["validate", "--strict", path]).exit_code == 1


def test_no_broken_file_makes_the_cli_print_a_traceback() -> None:
    result = CliRunner().invoke(
        _cli(), ["validate", *(str(BROKEN / name) for name in CASES), str(BROKEN / "no-such.yaml")]
    )
    assert result.exit_code == 1
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "Traceback" not in result.output
    assert len([line for line in result.output.splitlines() if ": error: " in line]) >= 12


def test_a_missing_path_is_reported_with_a_did_you_mean() -> None:
    problems, _ = validate_paths([BROKEN / "unknown_keys.yaml"])
    assert [(p.line, p.column, p.message, p.hint) for p in problems] == [
        (1, 1, "no such file or folder", "did you mean 'unknown_key.yaml'?")
    ]


def test_it_never_raises_whichever_line_of_a_flow_is_deleted(
    example_study_path: Path, tmp_path: Path
) -> None:
    lines = (
        (example_study_path / "understand.yaml")
        .read_text(encoding="utf-8")
        .splitlines(keepends=True)
    )
    target = tmp_path / "flow.yaml"
    for index in range(len(lines)):
        target.write_text("".join(lines[:index] + lines[index + 1 :]), encoding="utf-8")
        problems, _ = validate_paths([target])
        assert all(1 <= p.line <= len(lines) and p.column >= 1 for p in problems)
        assert not any("internal error" in p.message for p in problems), problems


def test_load_flow_raises_every_positioned_problem_and_load_study_still_loads_the_example(
    example_study_path: Path,
) -> None:
    with pytest.raises(LoadError) as raised:
        load_flow(BROKEN / "unknown_step_type.yaml")
    assert [(p.line, p.column) for p in raised.value.problems] == [(5, 11)]
    assert load_study(example_study_path).start_flow().flow.flow == "understand"
    assert load_flow(BROKEN / "unreachable_step.yaml").flow.step_ids() == [
        "role",
        "visits",
        "thanks",
    ]


def test_welsh_letters_that_need_ucs2_are_not_blamed_but_a_curly_apostrophe_is(
    tmp_path: Path,
) -> None:
    welsh = "Diolch. Byddwn yn rhannu'r hyn a ddywedodd pawb am yr ŵyl, ac yn anfon neges eto cyn bo hir."
    flow = tmp_path / "welsh.yaml"
    body = "flow: welsh\nlanguages: [cy]\nsteps:\n  - id: done\n    type: end\n    text: {text}\n"
    flow.write_text(body.format(text=welsh), encoding="utf-8")
    assert count_segments(welsh).segments == 2
    assert validate_paths([flow])[0] == []
    flow.write_text(body.format(text=welsh.replace("'", "’")), encoding="utf-8")
    problems, _ = validate_paths([flow])
    assert [p.severity for p in problems] == ["warning"]
    assert "'’' (U+2019) forces UCS-2" in problems[0].message


def test_sms_segments_follow_gsm7_and_ucs2_limits() -> None:
    assert count_segments("a" * 160).segments == 1
    assert count_segments("a" * 161).segments == 2
    assert count_segments("a" * 306).segments == 2
    assert count_segments("a" * 307).segments == 3
    assert count_segments("{" * 80).units == 160
    assert count_segments("a" * 152 + "€" * 5).segments == 2
    assert count_segments("a" * 152 + "€").units == 154
    assert count_segments("é" * 160).encoding == "GSM-7"
    assert count_segments("a" * 70 + "’").segments == 2
    emoji = count_segments("a" * 68 + "🙂")
    assert (emoji.encoding, emoji.units, emoji.segments, emoji.forcing) == ("UCS-2", 70, 1, "🙂")
    assert (
        plain_message("Pick one", ["Yes", "No"], multiple=True)
        == "Pick one\n\n1) Yes\n2) No\n(You can pick more than one, e.g. 1 3)"
    )


def test_an_escape_pair_never_splits_across_parts() -> None:
    # 306 septets would fit two parts, but the euro (two septets) cannot straddle the boundary
    assert count_segments("a" * 152 + "€" + "a" * 152).segments == 3
    assert count_segments("a" * 151 + "€" + "a" * 151).segments == 2


def test_reading_level_rises_with_long_words_and_sentences() -> None:
    plain = "We want to hear about your wait. Tell us what was good and what was bad. It takes five minutes."
    hard = "Considering your experiences in the department, please articulate how organisational communication influenced your perception."
    assert too_hard(plain) is None
    reading = too_hard(hard)
    assert reading is not None and reading.grade > 12
    assert too_hard("Notwithstanding institutional considerations.") is None  # too short to measure
    assert measure(plain).sentences == 3
    assert [syllables(w) for w in ("cat", "waiting", "comfortable", "made", "experience")] == [
        1,
        2,
        4,
        1,
        4,
    ]


# ----------------------------------------------------------------------------- a new coordinator's mistakes

STUDY = """study: clinic
title: The clinic
groups: [patient, carer, staff]
join:
  start_flow: start
  keyword: CLINIC
"""
END_FLOW = "flow: start\nsteps:\n  - id: bye\n    type: end\n    text: Thank you.\n"


def _flow_problems(tmp_path: Path, steps: str) -> list[Problem]:
    """The problems of a flow of ``steps`` (indented as under 'steps:') then an end step."""
    path = tmp_path / "flow.yaml"
    path.write_text(
        f"flow: start\nsteps:\n{steps}  - id: bye\n    type: end\n    text: Thank you.\n",
        encoding="utf-8",
    )
    return validate_paths([path])[0]


def _study_problems(tmp_path: Path, study: str = "", flow: str = END_FLOW) -> list[Problem]:
    """The problems of the study above with ``study`` added to it, and ``flow`` as its flow."""
    folder = tmp_path / "study"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY + study, encoding="utf-8")
    (folder / "start.yaml").write_text(flow, encoding="utf-8")
    return validate_paths([folder])[0]


def _only(problems: list[Problem]) -> tuple[int, int, str, str, str]:
    assert len(problems) == 1, "\n".join(map(str, problems))
    found = problems[0]
    return found.line, found.column, found.severity, found.message, found.hint


def test_a_number_step_whose_min_is_above_its_max_can_never_be_answered(tmp_path: Path) -> None:
    steps = "  - id: calls\n    type: number\n    text: How many calls?\n    min: 500\n    max: 0\n"
    assert _only(_flow_problems(tmp_path, steps)) == (
        7,
        10,
        "error",
        "min (500) is greater than max (0), so no number can answer this step",
        "swap them: min: 0 and max: 500",
    )
    whole = "  - id: calls\n    type: number\n    text: How many?\n    min: 0.2\n    max: 0.8\n"
    line, _, severity, message, hint = _only(_flow_problems(tmp_path, whole))
    assert (line, severity) == (7, "error")
    assert "no whole number lies between min (0.2) and max (0.8)" in message
    assert "integer: false" in hint


@pytest.mark.parametrize(
    ("schedule", "line", "column", "name"),
    [
        ("  - flow: start\n    after: 24\n", 9, 12, "schedule[0].after"),
        ("  - flow: start\n    every: 7\n", 9, 12, "schedule[0].every"),
        ("  - flow: start\n    after: 1d\n    reminders: [24]\n", 10, 17, "schedule[0].reminders"),
        ("  - flow: start\n    after: 1d\n    grace: 24\n", 10, 12, "schedule[0].grace"),
    ],
    ids=["after", "every", "reminders", "grace"],
)
def test_a_bare_number_for_a_duration_in_a_schedule_asks_for_a_unit(
    tmp_path: Path, schedule: str, line: int, column: int, name: str
) -> None:
    found = _only(_study_problems(tmp_path, "schedule:\n" + schedule))
    number = "7" if "every" in name else "24"
    path = name.replace(".reminders", ".reminders[0]")  # as pydantic's errors name a place: schedule[0].after
    assert found == (
        line,
        column,
        "warning",
        f"{path}: {number} has no unit, so it is read as {number} seconds",
        f"write '{number}h' for {number} hours or '{number}d' for {number} days ('{number}s' if seconds are meant)",
    )


def test_a_bare_number_for_a_step_timeout_or_a_retention_asks_for_a_unit(tmp_path: Path) -> None:
    steps = "  - id: story\n    type: open\n    text: Tell us.\n    timeout: 30\n    on_timeout: bye\n"
    assert _only(_flow_problems(tmp_path, steps))[:5] == (
        6,
        14,
        "warning",
        "steps[0].timeout: 30 has no unit, so it is read as 30 seconds",
        "write '30h' for 30 hours or '30d' for 30 days ('30s' if seconds are meant)",
    )
    line, column, _, message, hint = _only(_study_problems(tmp_path, "retention: {messages: 90}\n"))
    assert (line, column, message) == (7, 23, "retention.messages: 90 has no unit, so it is read as 90 seconds")
    assert "'90d'" in hint


def test_a_schedule_that_closes_before_it_opens_is_an_error(tmp_path: Path) -> None:
    schedule = "schedule:\n  - flow: start\n    at: 2036-02-02T09:00\n    closes: 2036-01-16T17:00\n"
    assert _only(_study_problems(tmp_path, schedule)) == (
        10,
        13,
        "error",
        "the flow 'start' closes (2036-01-16 17:00) before it is sent (2036-02-02 09:00), "
        "so nobody could answer it",
        "make 'closes' later than 'at'",
    )
    later = schedule.replace("2036-01-16", "2036-02-16")
    assert _study_problems(tmp_path / "later", later) == []


def test_comparing_participant_group_with_a_group_the_study_lacks_is_warned_of(
    tmp_path: Path,
) -> None:
    flow = """flow: start
steps:
  - id: ready
    type: yesno
    text: "{% if participant.group == 'carers' %}Are you caring today?{% else %}Ready?{% endif %}"
    next:
      - if: participant.group != "patients"
        goto: bye
      - if: participant.group in ["patient", "carer"] and answer == "yes"
        goto: bye
  - id: bye
    type: end
    text: Thank you.
"""
    problems = _study_problems(tmp_path, flow=flow)
    assert [(p.line, p.column, p.severity, p.hint) for p in problems] == [
        (5, 40, "warning", "did you mean 'carer'?"),
        (7, 35, "warning", "did you mean 'patient'?"),
    ]
    assert problems[1].message == (
        "participant.group is compared with 'patients', which is not one of the study's "
        "groups (patient, carer, staff)"
    )


def test_more_picks_than_options_and_an_empty_window_are_errors(tmp_path: Path) -> None:
    steps = (
        "  - id: help\n    type: choice\n    text: What helped?\n    multiple: true\n"
        "    max_picks: 9\n    options: [Calls, Visits, Leaflets]\n"
    )
    assert _only(_flow_problems(tmp_path, steps)) == (
        7,
        16,
        "error",
        "max_picks is 9 but there are only 3 options",
        "set max_picks to 3 or less, or leave it out to allow every option",
    )
    window = "schedule:\n  - flow: start\n    after: 1d\n    window: \"09:00-09:00\"\n"
    assert _only(_study_problems(tmp_path, window)) == (
        10,
        13,
        "error",
        "schedule[0].window: '09:00-09:00' starts and ends at 09:00, so no time lies inside it",
        "give the time it ends, e.g. '09:00-17:00'",
    )


def test_picks_without_multiple_do_nothing_and_are_warned_of(tmp_path: Path) -> None:
    steps = "  - id: help\n    type: choice\n    text: What helped?\n    max_picks: 2\n    options: [Calls, Visits, Leaflets]\n"
    line, column, severity, message, hint = _only(_flow_problems(tmp_path, steps))
    assert (line, column, severity) == (6, 5, "warning")
    assert message.startswith("max_picks has no effect without 'multiple: true'")
    assert "add 'multiple: true'" in hint


def test_too_few_choice_experiment_tasks_says_how_many_are_needed(tmp_path: Path) -> None:
    steps = """  - id: dce
    type: choice_experiment
    text: Which would you choose?
    opt_out: true
    tasks: 4
    attributes:
      wait: [same day, 2 days, 1 week, 2 weeks]
      who: [any GP, my usual GP, nurse]
      how: [phone, video, face to face]
      booking: [ring at 8am, online, call-back]
"""
    line, column, severity, message, hint = _only(_flow_problems(tmp_path, steps))
    assert (line, column, severity) == (7, 12, "error")
    assert message == (
        "no design can be made: too few tasks: estimating the 10 parameters of these "
        "attributes and 'neither' needs at least 5 tasks, not 4"
    )
    assert hint.startswith("set 'tasks: 5' or more")
    assert _flow_problems(tmp_path, steps.replace("tasks: 4", "tasks: 5")) == []


@pytest.mark.parametrize(
    ("kind", "wanted"),
    [
        ("text", "open"),
        ("free_text", "open"),
        ("question", "open"),
        ("multiple_choice", "choice"),
        ("select", "choice"),
        ("radio", "choice"),
        ("likert", "scale"),
        ("rating", "scale"),
        ("boolean", "yesno"),
        ("yes_no", "yesno"),
        ("Yes-No", "yesno"),
        ("ranking", "rank"),
    ],
)
def test_an_unknown_step_type_from_another_tool_suggests_the_chorus_one(
    tmp_path: Path, kind: str, wanted: str
) -> None:
    steps = f"  - id: story\n    type: {kind}\n    text: Tell us.\n"
    line, column, _, message, hint = _only(_flow_problems(tmp_path, steps))
    assert (line, column, message) == (4, 11, f"unknown step type '{kind}'")
    assert hint.startswith(f"did you mean '{wanted}'"), hint


def test_an_unknown_step_type_lists_every_type_there_is(tmp_path: Path) -> None:
    from flows.steps import known_types

    hint = _only(_flow_problems(tmp_path, "  - id: story\n    type: wibble\n    text: Hi.\n"))[4]
    assert hint == f"choose from: {', '.join(known_types())}"
    assert "..." not in hint and "yesno" in hint and "statements" in hint


def test_a_rank_step_with_one_option_says_it_needs_two(tmp_path: Path) -> None:
    steps = "  - id: order\n    type: rank\n    text: Put these in order.\n    options: [Call-back]\n"
    assert _only(_flow_problems(tmp_path, steps)) == (
        6,
        14,
        "error",
        "a rank step needs at least 2 options to put in order, not 1",
        "add more options, or use a yesno or choice step",
    )


def test_contact_hours_must_be_saved_from_a_choice_of_windows(tmp_path: Path) -> None:
    free = "  - id: hours\n    type: open\n    text: When may we message you?\n    save_to: participant.contact_hours\n"
    found = _only(_flow_problems(tmp_path, free))
    assert found[2] == "error" and "its open answer cannot be read so" in found[3]
    picked = ("  - id: hours\n    type: choice\n    text: When?\n    save_to: participant.contact_hours\n"
              "    options:\n      - {value: \"08:00-18:00\", label: 8am to 6pm}\n      - {value: evenings, label: Evenings}\n")
    found = _only(_flow_problems(tmp_path, picked))
    assert found[2] == "error" and "the option value 'evenings' is not a window" in found[3]


def test_serve_refuses_a_study_that_validation_finds_an_error_in(tmp_path: Path) -> None:
    import shutil

    from click.testing import CliRunner

    from bot.cli import cli

    study = tmp_path / "studies" / "broken"
    shutil.copytree(Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting", study)
    text = (study / "study.yaml").read_text(encoding="utf-8").replace("start_flow: understand", "start_flow: understnd")
    (study / "study.yaml").write_text(text, encoding="utf-8")
    refused = CliRunner().invoke(cli, ["serve", "--studies", str(tmp_path / "studies"), "--database", f"sqlite:///{tmp_path / 'c.db'}"])
    assert refused.exit_code == 1
    assert "start_flow 'understnd' is not a flow of this study (did you mean 'understand'?)" in refused.output
    assert not (tmp_path / "c.db").exists(), "refused before touching the database"


def test_serve_names_a_database_it_cannot_open_in_one_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from click.testing import CliRunner
    from cryptography.fernet import Fernet

    from bot.cli import cli

    monkeypatch.chdir(tmp_path)  # (no key files made in the checkout; with the keys given, none is made at all)
    keys = {"CHORUS_DATA_KEYS": Fernet.generate_key().decode(), "CHORUS_HASH_KEY": "test-hash-key"}
    refused = CliRunner().invoke(cli, ["serve", "--database", "postgresql://postgres@127.0.0.1:5432/no_such_chorus_db"],
                                 env=keys)
    assert refused.exit_code == 1
    assert refused.output.startswith("Error: cannot open the database (CHORUS_DATABASE_URL): ")
    assert 'database "no_such_chorus_db" does not exist' in refused.output and "Traceback" not in refused.output
