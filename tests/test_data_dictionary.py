"""The export's data dictionary explains many-item steps from their flow definitions: a
Delphi's rating scale (points and labels) for each item and round, statement vote codes,
pairwise answers, and a choice experiment's layout (attributes, levels, what each value
key holds and which options each task showed). Checked against what the engine records."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.export import DICTIONARY_COLUMNS, codes, export_study, item_codes
from bot.service import ConversationService
from bot.studies import StudyRegistry
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.loader import LoadedStudy, load_flow
from flows.steps.choice_experiment import LETTERS, ChoiceExperimentStep
from flows.steps.delphi import DelphiStep
from flows.steps.pairwise import PairwiseStep
from flows.steps.statements import StatementsStep
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)
STUDY = """\
study: {study}
title: Views
languages: {languages}
groups: [patient]
join:
  start_flow: views
  keyword: {keyword}
"""
VIEWS = """\
flow: views
steps:
  - id: rate
    type: delphi
    text: Score each
    delphi: care
    round: 2
    items:
      - {id: parking, text: Parking near the clinic}
      - {id: waiting, text: Short waits}
    scale: {min: 0, max: 10, low: 0-3, high: 8-10, low_label: not needed, high_label: essential}
    unsure: false
    ask_reason: extreme
  - id: vote
    type: statements
    text: What do you think?
    statements:
      - {id: s1, text: Evening clinics would help}
      - {id: s2, text: Letters arrive too late}
    submissions: false
  - id: compare
    type: pairwise
    text: Which matters more?
    ideas: [A named nurse, A phone line]
    pairs: 1
  - id: pick
    type: choice_experiment
    text: Which would you choose?
    attributes:
      cost: {levels: [0, 10, 20], labels: {0: free, 10: £10, 20: £20}, better: lower}
      place: [clinic, home, phone]
    alternatives: 3
    opt_out: true
    neither_label: None of these
    tasks: 2
    blocks: 2
  - id: done
    type: end
    text: Thank you.
"""
WELSH_VIEWS = """\
flow: views
steps:
  - id: rate
    type: delphi
    text: {cy: Sgoriwch, en: Score}
    items: [Parcio]
  - id: vote
    type: statements
    text: {cy: Beth ydych chi'n feddwl?, en: What do you think?}
    statements: [Mae angen mwy o nyrsys]
  - id: done
    type: end
    text: {cy: Diolch, en: Thank you}
"""


def _publish(database: Database, clock: FakeClock, folder: Path, study: str, languages: str, flow: str) -> LoadedStudy:
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(study=study, languages=languages, keyword=study.upper()), encoding="utf-8")
    (folder / "views.yaml").write_text(flow, encoding="utf-8")
    registry = StudyRegistry.from_folder(folder)
    ConversationService(database, registry, clock, address_key=TEST_ADDRESS_KEY)  # publishes the study
    return registry.get(study)


@pytest.fixture
def views(database: Database, clock: FakeClock, tmp_path: Path) -> LoadedStudy:
    return _publish(database, clock, tmp_path / "views", "views", "[en]", VIEWS)


def _dictionary(database: Database, study: str, out: Path) -> tuple[dict[str, dict[str, str]], dict[tuple[str, str], dict[str, str]]]:
    """The dictionary's step rows by step id and item rows by (step id, item)."""
    with export_study(database, study, out).dictionary_csv.open(encoding="utf-8", newline="") as handle:
        entries = list(csv.DictReader(handle))
    assert list(entries[0]) == DICTIONARY_COLUMNS
    steps = {e["name"]: e for e in entries if e["section"] == "step"}
    items = {(e["name"], e["item"]): e for e in entries if e["section"] == "item"}
    return steps, items


def _codes(entry: dict[str, str]) -> list[str]:
    return entry["codes"].split("; ")


def _recorded(loaded: LoadedStudy, replies: list[str]) -> list[RecordAnswer]:
    """What the engine records when a participant answers the flow with these replies."""
    flow = loaded.flows["views"]
    engine = Engine(flow.flow, loaded.study, flow.version)
    sprint = engine.start(NOW, seed=3)
    events, state = list(sprint.events), sprint.state
    for reply in replies:
        sprint = engine.handle(state, TextInput(reply), NOW)
        events += sprint.events
        state = sprint.state
    assert state.status == "ended", "the replies answer every step"
    return [e for e in events if isinstance(e, RecordAnswer)]


def _json_keys(code: str) -> set[str]:
    """The keys a code names in 'valued as JSON {a, b, c}'."""
    return {key.strip() for key in code[code.index("{") + 1 : code.index("}")].split(",")}


REPLIES = ["0", "too far to walk", "5", "agree", "pass", "A", "C", "N"]


def test_each_delphi_item_carries_its_rounds_scale_points_and_labels(database: Database, views: LoadedStudy, tmp_path: Path) -> None:
    steps, items = _dictionary(database, "views", tmp_path)
    rate = _codes(steps["rate"])
    assert rate[0] == "Delphi 'care', round 2"
    scale = ["score 0 to 10", "score 0-3 = not needed", "score 4-7 = important but not critical", "score 8-10 = essential"]
    assert all(code in rate for code in scale), rate
    assert not any("unsure" in code for code in rate), "the step does not allow 'not sure'"
    assert "reason = why, in the participant's words (asked after a score of 0 or 10)" in rate
    assert "an item given a reason has one row, its value carrying the score and the reason (the score alone, recorded before the reason was asked, is left out)" in rate
    for item, text in (("parking", "Parking near the clinic"), ("waiting", "Short waits")):
        entry = items[("rate", item)]
        assert entry["description"] == text and entry["flow"] == "views" and entry["step_type"] == "delphi"
        assert _codes(entry) == ["round 2", *scale]

    ratings = [a for a in _recorded(views, REPLIES) if a.step_id == "rate" and a.item is not None]
    assert {a.item for a in ratings} == {"parking", "waiting"}
    value = next(code for code in rate if "valued as JSON" in code)
    assert _json_keys(value) == {"delphi", "round", "score"} and value.endswith("plus reason where one was given")
    assert [set(a.value) for a in ratings] == [{"delphi", "round", "score"}, {"delphi", "round", "score", "reason"},
                                               {"delphi", "round", "score"}], "a reason only after an extreme score"
    assert [(a.item, a.value["score"], a.value.get("reason")) for a in ratings] == [
        ("parking", 0, None), ("parking", 0, "too far to walk"), ("waiting", 5, None)]


def test_statement_votes_and_pairwise_answers_are_explained(database: Database, views: LoadedStudy, tmp_path: Path) -> None:
    steps, items = _dictionary(database, "views", tmp_path)
    vote = _codes(steps["vote"])
    assert {"1 = agree", "-1 = disagree", "0 = pass"} <= set(vote)
    assert not any("+submission" in code for code in vote), "this step takes no statements of participants' own"
    assert items[("vote", "s1")]["description"] == "Evening clinics would help"
    assert _codes(items[("vote", "s2")]) == ["1 = agree", "-1 = disagree", "0 = pass"]

    recorded = _recorded(views, REPLIES)
    votes = [a for a in recorded if a.step_id == "vote" and a.item is not None]
    assert {a.item for a in votes} == {"s1", "s2"}
    assert all(f"{a.value} = {a.display}" in vote for a in votes), "each recorded vote reads as its code says"

    compare = _codes(steps["compare"])
    assert "value = JSON {winner, loser, tie}: winner and loser are idea ids, tie true = can't decide (winner is then A)" in compare
    assert any(code.startswith("item +submission = ") for code in compare), "pairwise takes ideas by default"
    pair = next(a for a in recorded if a.step_id == "compare" and a.item is not None)
    assert set(pair.value) == {"winner", "loser", "tie"} and pair.item == " vs ".join([pair.value["winner"], pair.value["loser"]])
    assert {("compare", pair.value["winner"]), ("compare", pair.value["loser"])} <= set(items)


def test_the_choice_experiment_layout_names_attributes_levels_and_each_tasks_options(
    database: Database, views: LoadedStudy, tmp_path: Path
) -> None:
    steps, items = _dictionary(database, "views", tmp_path)
    pick = _codes(steps["pick"])
    assert "attribute cost (number, lower is better): 0 = free, 10 = £10, 20 = £20" in pick
    assert "attribute place (levels): clinic, home, phone" in pick
    assert "choice = A, B, C, none" in pick and "chosen = 1 for A, 2 for B, 3 for C, 0 for neither" in pick
    assert "block = the participant's block of tasks, 1 to 2" in pick and "task = the design task N, 1 to 4" in pick

    step = views.flows["views"].flow.step("pick")
    assert isinstance(step, ChoiceExperimentStep)
    tasks = {item: entry for (name, item), entry in items.items() if name == "pick"}
    assert sorted(tasks) == ["task1", "task2", "task3", "task4"]
    labels = {0: "free", 10: "£10", 20: "£20"}
    for number, block in enumerate(step.design().blocks, start=1):
        shown = [f"{LETTERS[j]} = cost {labels[p['cost']]}, place {p['place']}" for j, p in enumerate(step.profiles(number - 1))]
        assert tasks[f"task{number}"]["description"] == f"choice task {number} (block {int(block) + 1})"
        assert _codes(tasks[f"task{number}"]) == [*shown, "none = None of these"]

    answers = [a for a in _recorded(views, REPLIES) if a.step_id == "pick" and a.item is not None]
    described = _json_keys(next(code for code in pick if "valued as JSON" in code))
    assert [a.value["chosen"] for a in answers] == [3, 0], "C is the third option, N is neither"
    for answer in answers:
        assert set(answer.value) == described
        options = _codes(tasks[str(answer.item)])
        for j, profile in enumerate(answer.value["alternatives"]):
            assert options[j] == f"{LETTERS[j]} = cost {labels[profile['cost']]}, place {profile['place']}"


def test_a_welsh_study_reads_its_built_in_scale_labels_and_vote_buttons_in_welsh(
    database: Database, clock: FakeClock, tmp_path: Path
) -> None:
    _publish(database, clock, tmp_path / "barn", "barn", "[cy, en]", WELSH_VIEWS)
    steps, items = _dictionary(database, "barn", tmp_path / "out")
    assert {"score 1-3 = ddim yn bwysig", "score 4-6 = pwysig ond ddim yn hanfodol", "score 7-9 = hanfodol",
            "score empty (null) = unsure"} <= set(_codes(steps["rate"]))
    assert items[("rate", "Parcio")]["description"] == "Parcio"
    assert {"1 = agree (button 'Cytuno')", "-1 = disagree (button 'Anghytuno')", "0 = pass (button 'Pasio')"} <= set(_codes(steps["vote"]))


def test_the_markdown_dictionary_lists_the_items(database: Database, views: LoadedStudy, tmp_path: Path) -> None:
    markdown = export_study(database, "views", tmp_path).dictionary_md.read_text(encoding="utf-8")
    section = markdown[markdown.index("## Items of many-item steps"):]
    assert "| views |" in section and "| rate | parking | Parking near the clinic | round 2; score 0 to 10;" in section
    assert "| pick | task1 | choice task 1 (block " in section and "none = None of these |" in section
    rows = [line for line in section.splitlines() if line.startswith("| views |")]
    assert len(rows) == 2 + 2 + 2 + 4, "two Delphi items, two statements, two ideas, four choice tasks"


def test_every_many_item_step_of_the_example_studies_is_explained() -> None:
    examples = Path(__file__).resolve().parent.parent / "flows" / "examples"
    listed = {DelphiStep: "items", StatementsStep: "statements", PairwiseStep: "ideas"}
    seen = set()
    for path in sorted(examples.glob("*/*.yaml")):
        if path.name == "study.yaml":
            continue
        for step in load_flow(path).flow.steps:
            if not isinstance(step, DelphiStep | StatementsStep | PairwiseStep | ChoiceExperimentStep):
                continue
            seen.add(step.type)
            found = codes(step, "en")
            assert found and not any("; " in code for code in found), (path.name, step.id, found)
            explained = item_codes(step, "en")
            expected = step.tasks * step.blocks if isinstance(step, ChoiceExperimentStep) else len(getattr(step, listed[type(step)]))
            assert len(explained) == expected and all(text and meaning for _, text, meaning in explained), (path.name, step.id)
    assert seen == {"delphi", "statements", "pairwise", "choice_experiment"}
