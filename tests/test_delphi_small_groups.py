"""Consensus on too few scores: an item scored by fewer than ``consensus.min_scores`` people
(default 5) is "too few scores" (status ``few``), neither in nor out, in the analysis, the desk,
``chorus report``, ``chorus analyse delphi`` and the data dictionary; and ``drop_consensus``
keeps asking it, so no item leaves round 2 on one person's score."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
import pydantic
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.export import codes
from bot.service import ConversationService
from flows.analysis.delphi import ConsensusRule, items_for_next_round, summarise
from flows.engine import Engine, TextInput
from flows.model import Flow
from flows.population import ItemRecord, PopulationData, delphi_value
from flows.steps.delphi import DelphiStep
from storage.database import Database
from storage.tables import FLOW_VERSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.desk_helpers import Desk, add_answers, delphi_rows, desk_app

COLUMNS = ["participant", "group", "round", "item", "score"]
PRIORITIES = Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities"
NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)


def _ratings(scores: dict[str, list[float | None]], group: str = "patient", prefix: str = "p") -> pd.DataFrame:
    rows = [(f"{prefix}{n}", group, 1, item, s) for item, given in scores.items() for n, s in enumerate(given)]
    return pd.DataFrame(rows, columns=COLUMNS)


def _status(summary: pd.DataFrame, item: str, group: str = "all") -> str:
    return str(summary[(summary["item"] == item) & (summary["group"] == group)]["consensus"].iloc[0])


# ----------------------------------------------------------------------------- the analysis


def test_one_score_is_too_few_to_call_consensus_either_way() -> None:
    summary = summarise(_ratings({"high": [9], "low": [1]}))
    assert (_status(summary, "high"), _status(summary, "low")) == ("few", "few")
    assert _status(summary, "high", "patient") == "few"


def test_five_scores_are_enough_and_four_are_not() -> None:
    summary = summarise(_ratings({"four": [8, 8, 9, 7], "five": [8, 8, 9, 7, 8]}))
    assert (_status(summary, "four"), _status(summary, "five")) == ("few", "in")


def test_unsure_answers_are_no_score_towards_the_minimum() -> None:
    summary = summarise(_ratings({"A": [8, 8, 9, 7, None, None]}))
    row = summary[(summary["item"] == "A") & (summary["group"] == "all")].iloc[0]
    assert (row["n"], row["n_unsure"], row["consensus"]) == (4, 2, "few")


def test_the_minimum_is_the_rule_s_to_set() -> None:
    lenient = ConsensusRule(min_scores=1)
    assert _status(summarise(_ratings({"A": [9]}), lenient), "A") == "in"
    with pytest.raises(ValueError, match="min_scores must be at least 1"):
        ConsensusRule(min_scores=0)


def test_with_per_group_a_group_too_small_to_call_leaves_everyone_too_few() -> None:
    ratings = pd.concat([_ratings({"A": [8] * 8}), _ratings({"A": [8, 9]}, "staff", "s")], ignore_index=True)
    summary = summarise(ratings, ConsensusRule(per_group=True))
    assert (_status(summary, "A", "patient"), _status(summary, "A", "staff"), _status(summary, "A")) == ("in", "few", "few")
    ignoring_small_groups = summarise(ratings, ConsensusRule(per_group=True, min_group_n=3))
    assert _status(ignoring_small_groups, "A") == "in", "min_group_n still leaves small groups out of the rule"


def test_an_item_with_too_few_scores_stays_for_the_next_round() -> None:
    summary = summarise(_ratings({"agreed": [8] * 6, "one": [9]}))
    assert items_for_next_round(summary, 1, ["agreed", "one"], drop=("in", "out")) == ["one"]


# ----------------------------------------------------------------------------- the flow and the engine


def _round(number: int, **consensus: int) -> Flow:
    step = {"id": "rate", "type": "delphi", "delphi": "community", "round": number, "items": ["agreed", "one", "other"],
            "drop_consensus": True, **({"consensus": consensus} if consensus else {})}
    return Flow.model_validate({"flow": f"round{number}", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]})


def test_a_delphi_step_sets_its_minimum_under_consensus() -> None:
    step = _round(2).steps[0]
    assert isinstance(step, DelphiStep) and step.rule().min_scores == 5
    lenient = _round(2, min_scores=1).steps[0]
    assert isinstance(lenient, DelphiStep) and lenient.rule().min_scores == 1
    with pytest.raises(pydantic.ValidationError):
        _round(2, min_scores=0)


def _asked_in_round_two(flow: Flow, records: list[ItemRecord]) -> list[str]:
    engine, population = Engine(flow), PopulationData(records).view("newcomer")
    sprint = engine.start(NOW, seed=1, population=population)
    asked = []
    for _ in range(10):
        prompts = [m.text for m in sprint.messages() if m.kind == "prompt"]
        found = re.search(r"^\d+/\d+: (\w+)", prompts[-1], re.MULTILINE) if prompts else None
        if found is None:
            break
        asked.append(found.group(1))
        sprint = engine.handle(sprint.state, TextInput("5"), NOW, population=population)
    return asked


def test_drop_consensus_keeps_an_item_only_one_person_scored() -> None:
    records = [ItemRecord(f"p{n}", "patient", "rate", "agreed", delphi_value("community", 1, 8)) for n in range(6)]
    records.append(ItemRecord("p0", "patient", "rate", "one", delphi_value("community", 1, 9)))
    records += [ItemRecord(f"p{n}", "patient", "rate", "other", delphi_value("community", 1, 5)) for n in range(6)]
    assert _asked_in_round_two(_round(2), records) == ["one", "other"], "'agreed' left on six scores; 'one' stays"
    assert _asked_in_round_two(_round(2, min_scores=1), records) == ["other"], "a flow may allow one score"


# ----------------------------------------------------------------------------- the desk


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token()})
        yield made


def _consensus_cell(html: str, item: str) -> str:
    section = re.search(rf'id="item-{item}">(.*?)</section>', html, re.S)
    assert section is not None, item
    row = re.search(r"<tr><td>Everyone</td>(.*?)</tr>", section.group(1))
    assert row is not None
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))[-1]


def test_the_desk_says_too_few_scores_where_one_person_scored(desk: Desk) -> None:
    pid, version = desk.join("ae-waiting", "patient")
    add_answers(desk.database, delphi_rows(pid, "patient", "ae-waiting", version, 1, {"Baby checks": 8}))
    for _ in range(5):
        pid, version = desk.join("ae-waiting", "patient")
        add_answers(desk.database, delphi_rows(pid, "patient", "ae-waiting", version, 1, {"Clear updates": 8}))
    page = desk.client.get("/dashboard/studies/ae-waiting/delphi").text
    few = _consensus_cell(page, "Baby checks")
    assert "too few scores" in few and 'title="fewer than 5 scores' in few
    assert "consensus in" in _consensus_cell(page, "Clear updates")
    assert "consensus.min_scores" in page, "the page says what the minimum is and where it is set"


# ----------------------------------------------------------------------------- chorus report, analyse and the dictionary


def test_chorus_report_and_analyse_delphi_call_too_few_scores_few(database: Database, clock: FakeClock, tmp_path: Path) -> None:
    from bot.report import gather, write_report
    from bot.safeguarding import checks_from_env
    from bot.studies import StudyRegistry

    service = ConversationService(database, StudyRegistry.from_folder(PRIORITIES), clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    with database.reading() as session:
        version = session.execute(select(FLOW_VERSIONS.c.id).where(FLOW_VERSIONS.c.flow_id == "round1")).scalar()
    for n in range(2):
        service.join("web", f"sim-{n}", "priorities", group="patient")
        pid = service.participant_for("web", f"sim-{n}")
        add_answers(database, [{"participant_id": pid, "study_id": "priorities", "flow_id": "round1", "flow_version_id": version,
                                "flow_version": "test", "step_id": "rate", "item": "waits", "value": delphi_value("community", 1, 2)}])
    written = {p.name: p for p in write_report(gather(database, "priorities"), tmp_path)}
    summary = pd.read_csv(written["delphi-community-summary.csv"])
    assert set(summary["consensus"]) == {"few"}, "two scores of 2: not 'consensus out'"
    notes = written["delphi-community-notes.md"].read_text(encoding="utf-8")
    assert "called only on at least 5 scores" in notes and "'few' (too few scores)" in notes

    ratings = str(written["delphi-community-ratings.csv"])
    result = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", ratings, "--format", "json"])
    assert result.exit_code == 0, result.output
    found = json.loads(result.output)
    assert {i["consensus"] for i in found["items"]} == {"few"}, "the CLI's default is the flow's"
    assert "fewer than 5 scores" in found["notes"]["few"]
    lenient = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", ratings, "--min-scores", "2", "--format", "json"])
    assert {i["consensus"] for i in json.loads(lenient.output)["items"]} == {"out"}
    table = CliRunner().invoke(cli, ["analyse", "delphi", "--ratings", ratings])
    assert "consensus 'few': fewer than 5 scores" in table.output


def test_the_data_dictionary_says_consensus_needs_the_minimum() -> None:
    step = _round(2, min_scores=7).steps[0]
    assert isinstance(step, DelphiStep)
    consensus = next(code for code in codes(step, "en") if code.startswith("consensus in"))
    assert "called only on 7 or more scores" in consensus
