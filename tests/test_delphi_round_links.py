"""`chorus validate` on Delphi rounds that do not link up (flows/validate.py): a round after
the first whose ``delphi:`` is misspelt, or whose number skips one, has no round just before
it and so shows no earlier results; and two flows that are the same round of one Delphi, sent
to the same people, would have them rate its items twice. One round split between groups, or
its items between flows, is how a study may be meant, and is not warned of."""

from __future__ import annotations

import shutil
from pathlib import Path

from flows.loader import Problem
from flows.validate import validate_paths

EXAMPLE = Path(__file__).parent.parent / "flows" / "examples" / "priorities"
STUDY = """study: panel
title: The panel
languages: [en]
groups: [patient, staff]
join:
  start_flow: welcome
  keyword: PANEL
{routes}flows: [welcome.yaml, {files}]
schedule:
{schedule}"""
WELCOME = "flow: welcome\nsteps:\n  - id: hello\n    type: message\n    text: Welcome to the panel.\n"


def _round(name: str, number: int, delphi: str | None = "care", items: str = "[Shorter waits, Kinder staff]",
           step: str = "rate") -> str:
    named = f"    delphi: {delphi}\n" if delphi is not None else ""
    return (f"flow: {name}\nsteps:\n  - id: {step}\n    type: delphi\n{named}    round: {number}\n    items: {items}\n"
            "  - id: done\n    type: end\n    text: Thank you.\n")


def _check(tmp_path: Path, flows: dict[str, str], schedule: str = "", routes: str = "") -> list[Problem]:
    """Validate a study of a welcome flow and ``flows``, each sent a week after the one before
    (unless ``schedule`` says otherwise)."""
    folder = tmp_path / "panel"
    folder.mkdir(exist_ok=True)
    schedule = schedule or "".join(f"  - flow: {name}\n    after: {7 * n}d\n" for n, name in enumerate(flows, 1))
    files = ", ".join(f"{name}.yaml" for name in flows)
    (folder / "study.yaml").write_text(STUDY.format(routes=routes, files=files, schedule=schedule), encoding="utf-8")
    (folder / "welcome.yaml").write_text(WELCOME, encoding="utf-8")
    for name, text in flows.items():
        (folder / f"{name}.yaml").write_text(text, encoding="utf-8")
    return validate_paths([folder])[0]


def _only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


# ----------------------------------------------------------------------------- no round before


def test_rounds_that_link_up_raise_nothing(tmp_path: Path) -> None:
    assert _check(tmp_path, {"round1": _round("round1", 1), "round2": _round("round2", 2), "round3": _round("round3", 3)}) == []


def test_a_misspelt_delphi_name_in_a_later_round_is_named_with_the_one_meant(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, {"round1": _round("round1", 1, "maternity"), "round2": _round("round2", 2, "maternty")}))
    assert (Path(problem.file).name, problem.line, problem.column, problem.severity) == ("round2.yaml", 5, 13, "warning")
    assert problem.message == ("round 2 of Delphi 'maternty' has no round before it: no flow of this study has an earlier "
                               "round of a Delphi called 'maternty', so it shows no earlier results and is analysed as a "
                               "Delphi of its own")
    assert problem.hint == ("did you mean 'delphi: maternity', as in flow 'round1', its round 1? "
                            "Every round of one Delphi needs the same 'delphi:'")


def test_a_misspelt_name_in_round_one_is_shown_from_the_round_that_misses_it(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, {"round1": _round("round1", 1, "maternty"), "round2": _round("round2", 2, "maternity")}))
    assert Path(problem.file).name == "round2.yaml"
    assert problem.hint.startswith("did you mean 'delphi: maternty', as in flow 'round1', its round 1?")


def test_a_round_named_by_its_step_id_says_so(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, {"round1": _round("round1", 1, None), "round2": _round("round2", 2, None, step="rate2")}))
    assert (Path(problem.file).name, problem.line) == ("round2.yaml", 3), "no 'delphi:' to point at: the step"
    assert "round 2 of Delphi 'rate2' (it has no 'delphi:', so it is named by the step's id) has no round before it" in problem.message
    assert problem.hint.startswith("did you mean 'delphi: rate', as in flow 'round1', its round 1?")


def test_a_later_round_with_nothing_like_it_suggests_round_one(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, {"round2": _round("round2", 2)}))
    assert problem.hint == "if it is the first round, write 'round: 1'; otherwise give it the 'delphi:' of the round before"


def test_a_skipped_round_number_is_warned_of_at_the_round(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, {"round1": _round("round1", 1), "round3": _round("round3", 3)}))
    assert (Path(problem.file).name, problem.line, problem.column) == ("round3.yaml", 6, 12)
    assert problem.message == ("round 3 of Delphi 'care' follows round 1 (flow 'round1'), with no round 2: it shows no "
                               "earlier results, as they come from round 2")
    assert problem.hint == "number the rounds one after another: did you mean 'round: 2'?"


def test_a_broken_flow_file_may_hold_the_missing_round_so_nothing_is_said_of_it(tmp_path: Path) -> None:
    problems = _check(tmp_path, {"round1": _round("round1", 1).replace("type: delphi", "type: delphy"),
                                 "round2": _round("round2", 2)})
    assert [p.message for p in problems] == ["unknown step type 'delphy'"]


def test_a_typo_in_the_shipped_example_is_caught(tmp_path: Path) -> None:
    study = tmp_path / "priorities"
    shutil.copytree(EXAMPLE, study)
    assert validate_paths([study])[0] == []
    round2 = study / "round2.yaml"
    round2.write_text(round2.read_text(encoding="utf-8").replace("delphi: community", "delphi: comunity"), encoding="utf-8")
    problem = _only(validate_paths([study])[0])
    assert "round 2 of Delphi 'comunity' has no round before it" in problem.message
    assert problem.hint.startswith("did you mean 'delphi: community'")


# ----------------------------------------------------------------------------- one round twice


def test_two_flows_both_round_one_for_everyone_are_warned_of(tmp_path: Path) -> None:
    problem = _only(_check(tmp_path, {"round1": _round("round1", 1), "round2": _round("round2", 1)}))
    assert (Path(problem.file).name, problem.line, problem.column, problem.severity) == ("round2.yaml", 6, 12, "warning")
    assert problem.message == ("flows 'round1' and 'round2' are both round 1 of Delphi 'care' and may be sent to the same "
                               "people, who would then rate 'Shorter waits' and 1 more item twice in round 1")
    assert problem.hint.startswith("did you mean 'round: 2'? If the two are for different people")


def test_a_round_twice_when_the_next_number_is_taken_asks_for_numbers_of_their_own(tmp_path: Path) -> None:
    problems = _check(tmp_path, {"a": _round("a", 1), "b": _round("b", 1), "c": _round("c", 2)})
    problem = _only(problems)
    assert problem.hint.startswith("give each round its own number.")


def test_one_round_split_between_groups_is_fine(tmp_path: Path) -> None:
    by_schedule = ("  - flow: patients\n    after: 7d\n    groups: [patient]\n"
                   "  - flow: staff\n    after: 7d\n    groups: [staff]\n")
    flows = {"patients": _round("patients", 1), "staff": _round("staff", 1)}
    assert _check(tmp_path, flows, schedule=by_schedule) == []
    shared = by_schedule.replace("groups: [staff]", "groups: [staff, patient]")
    assert "both round 1 of Delphi 'care'" in _only(_check(tmp_path, flows, schedule=shared)).message


def test_one_round_split_between_join_routes_of_different_groups_is_fine(tmp_path: Path) -> None:
    routes = ("  routes:\n    - keyword: PANELP\n      group: patient\n      flow: patients\n"
              "    - keyword: PANELS\n      group: staff\n      flow: staff\n")
    flows = {"patients": _round("patients", 1), "staff": _round("staff", 1)}
    assert _check(tmp_path, flows, schedule="  - flow: welcome\n    after: 1d\n", routes=routes) == []
    anyone = routes.replace("      group: staff\n", "")
    assert "both round 1 of Delphi 'care'" in _only(_check(tmp_path, flows, schedule="  - flow: welcome\n    after: 1d\n",
                                                                routes=anyone)).message


def test_one_round_whose_items_are_split_between_flows_is_fine(tmp_path: Path) -> None:
    flows = {"part1": _round("part1", 1, items="[Shorter waits]"), "part2": _round("part2", 1, items="[Kinder staff]")}
    assert _check(tmp_path, flows) == []
