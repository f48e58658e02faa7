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
from flows.loader import LoadError, load_flow, load_study
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
