"""What a new coordinator ran into with a study nobody on the team had seen."""

from __future__ import annotations

from pathlib import Path

from flows.loader import load_flow

MIXED_LEVELS = """\
flow: choices
steps:
  - id: appointment
    type: choice_experiment
    text: Which would you choose?
    attributes:
      wait:
        levels: [1, 2, 4+]
        labels: {1: 1 week, 2: 2 weeks, 4+: 4 weeks or more}
      who: [your own nurse, any nurse]
    alternatives: 2
    tasks: 4
  - id: done
    type: end
    text: Thank you.
"""


def test_a_choice_experiment_whose_levels_mix_numbers_and_text_loads(tmp_path: Path) -> None:
    path = tmp_path / "choices.yaml"
    path.write_text(MIXED_LEVELS, encoding="utf-8")
    loaded = load_flow(path)
    assert len(loaded.version) == 12, "the version hash sorts keys as text: 1, 2 and '4+' together"
    assert loaded.flow.steps[0].id == "appointment"


def test_fields_named_for_what_identifies_someone_are_withheld_from_exports() -> None:
    from bot.export import identifying_field

    for name in ("birth_date", "baby_birth_date", "date_of_birth", "dob", "mothers_name", "nhs_no", "home_address",
                 "email", "phone_number", "name"):
        assert identifying_field(name), name
    for name in ("discharge_date", "group", "role", "shift", "named_nurse_wanted"):
        assert not identifying_field(name), name


def test_a_choice_saved_to_the_group_must_save_the_study_s_group_ids(tmp_path: Path) -> None:
    from flows.validate import validate_paths

    folder = tmp_path / "crisis"
    folder.mkdir()
    (folder / "study.yaml").write_text(
        "study: crisis\ntitle: Crisis line\nlanguages: [en]\ngroups: [caller, staff]\n"
        "join: {start_flow: hello, keyword: CALL}\nflows: [hello.yaml]\n", encoding="utf-8")
    (folder / "hello.yaml").write_text(
        "flow: hello\nsteps:\n  - id: who\n    type: choice\n    text: Who are you?\n"
        "    options: [Caller, {value: staff, label: Staff}, Visitor]\n    save_to: participant.group\n"
        "  - id: bye\n    type: end\n    text: Thanks.\n", encoding="utf-8")
    problems = [p for p in validate_paths([folder])[0] if p.severity == "error"]
    messages = [(p.message, p.hint) for p in problems]
    assert len(problems) == 2, messages
    caller = next(p for p in problems if "'Caller'" in p.message)
    assert caller.file.endswith("hello.yaml") and caller.line == 6
    assert "value: caller, label: Caller" in caller.hint
    assert any("'Visitor'" in p.message for p in problems)


def test_the_desk_rounds_halves_up_alike() -> None:
    from bot.dashboard.render import half_up

    assert half_up(62.5, "%.0f%%") == 63 and half_up(87.5, "%.0f%%") == 88, "printf alone gives 62 and 88"
    assert half_up(0.25, "%.1f") == 0.3 and half_up(2.35, "%.1f") == 2.4


def test_count_charts_tick_whole_people() -> None:
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from bot.charts import Bars, _bars_png

    for horizontal in (False, True):
        fig = Figure()
        FigureCanvasAgg(fig)
        ax = fig.add_subplot()
        _bars_png(ax, Bars("Scores", ["1", "2", "3"], [("all", [1.0, 0.0, 2.0])], horizontal=horizontal, axis="people"))
        fig.canvas.draw()
        ticks = ax.get_xticks() if horizontal else ax.get_yticks()
        assert len(ticks) > 1 and all(float(t).is_integer() for t in ticks), ticks
