"""The service side of many-item steps: item answers and submissions in the database, the
population view read back from them, moderation, and `chorus report` writing tables and
charts for each method of the example priorities study."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from bot.commands.moderate import register as register_moderation
from bot.commands.report import register
from bot.population import (
    PopulationSource,
    load_population,
    moderate,
    store_submissions,
    submissions,
)
from bot.service import ConversationService
from bot.studies import StudyRegistry
from flows.analysis.delphi import summarise
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.loader import load_flow
from flows.population import SUBMISSION_ITEM, delphi_ratings
from storage import repository
from storage.database import Database
from storage.tables import FLAGS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

ROOT = Path(__file__).resolve().parent.parent
PRIORITIES = ROOT / "flows" / "examples" / "priorities"
NOW = datetime(2030, 5, 1, 10, 0, tzinfo=UTC)


def _service(database: Database, clock: FakeClock) -> ConversationService:
    return ConversationService(database, StudyRegistry.from_folder(PRIORITIES), clock, address_key=TEST_ADDRESS_KEY)


def _replies(flow_id: str, rng: np.random.Generator, staff: bool) -> list[str]:
    """What a simulated participant answers in each flow of the example (enough for any path)."""
    if flow_id == "round1":
        scores = [str(int(np.clip((6 if staff else 8) + rng.integers(-2, 2), 2, 8))) for _ in range(6)]
        return ["yes", "2" if staff else "1", *scores[:3], "next", *scores[3:], ", ".join(rng.permutation(list("ABCD"))[:3])]
    if flow_id == "ideas":
        pairs = [str(rng.choice(["A", "B", "can't decide"])) for _ in range(4)]
        return [*pairs[:1], "ADD Evening visits for people who work", *pairs[1:], *[str(rng.choice(["A", "D", "P"])) for _ in range(5)]]
    return [str(rng.choice(["A", "B", "N"])) for _ in range(6)]


def _take_part(service: ConversationService, database: Database, pid: str, flow_id: str, replies: list[str], group: str) -> list[RecordAnswer]:
    """Run a flow in memory and write its answers as the service will once it stores
    ``RecordAnswer.item`` and submissions (see the report to the integrator)."""
    with database.transaction() as connection:
        version = next(v for v in reversed(repository.flow_versions(connection, "priorities")) if v.flow_id == flow_id)
    engine = Engine(load_flow(f"priorities/{flow_id}", raw=version.content).flow, service.studies.get("priorities").study, version.version)
    sprint = engine.start(NOW, fields={"group": group}, seed=hash(pid) % 1000)
    events, state = list(sprint.events), sprint.state
    for reply in replies:
        if state.status == "ended":
            break
        sprint = engine.handle(state, TextInput(reply), NOW)
        events += sprint.events
        state = sprint.state
    answers = [e for e in events if isinstance(e, RecordAnswer)]
    with database.transaction() as connection:
        repository.add_answers(connection, [{
            "participant_id": pid, "study_id": "priorities", "flow_id": flow_id, "flow_version_id": version.id,
            "flow_version": version.version, "session_id": None, "step_id": e.step_id, "raw": e.raw, "value": e.value,
            "display": e.display, "source": e.source, "skipped": e.skipped, "inbound_id": None, "answered_at": NOW, "item": e.item,
        } for e in answers])
        store_submissions(connection, answers, pid, "priorities", flow_id, NOW)
    return answers


@pytest.fixture
def filled(database: Database, clock: FakeClock) -> tuple[ConversationService, list[str]]:
    service = _service(database, clock)
    rng = np.random.default_rng(5)
    people = []
    for i in range(12):
        staff = i % 3 == 0
        result = service.join("sms", f"+447700900{i:03d}", "priorities", group="staff" if staff else "patient")
        assert result.participant_id is not None
        people.append(result.participant_id)
        for flow_id in ("round1", "ideas", "choices"):
            _take_part(service, database, result.participant_id, flow_id, _replies(flow_id, rng, staff), "staff" if staff else "patient")
    return service, people


def test_submissions_wait_for_moderation_and_only_approved_ones_join_the_pool(database: Database, filled: tuple) -> None:
    with database.transaction() as connection:
        pending = submissions(connection, "priorities", "pending")
        assert len(pending) == 12 and {s.kind for s in pending} == {"idea"} and pending[0].step_id == "compare"
        flags = connection.execute(select(FLAGS.c.kind, FLAGS.c.message)).all()
        assert load_population(connection, "priorities").approved_entries == {}
        assert moderate(connection, pending[0].id, True, "coordinator", NOW)
        assert moderate(connection, pending[1].id, False, "coordinator", NOW)
        assert not moderate(connection, 99999, True, "coordinator", NOW)
        data = load_population(connection, "priorities")
    assert sum(kind == "moderation" and "Evening visits" in message for kind, message in flags) == 12
    entries = data.approved_entries["compare"]
    assert [(e.id, e.text) for e in entries] == [(f"sub-{pending[0].id}", "Evening visits for people who work")]
    assert all(r.item != SUBMISSION_ITEM for r in data.records)

    @click.group()
    def root() -> None:
        pass

    register_moderation(root)
    listed = CliRunner().invoke(root, ["submissions", "priorities", "--database", database.url])
    assert listed.exit_code == 0 and "10 waiting for moderation" in listed.output and f"{pending[2].id}\tidea\tcompare" in listed.output
    approved = CliRunner().invoke(root, ["submissions", "priorities", "--approve", str(pending[2].id), "--database", database.url])
    assert approved.exit_code == 0 and f"{pending[2].id}: approved" in approved.output
    with database.transaction() as connection:
        assert len(load_population(connection, "priorities").approved_entries["compare"]) == 2


def test_the_population_view_reads_delphi_results_and_groups_from_the_database(database: Database, filled: tuple) -> None:
    source = PopulationSource(ttl=60)
    with database.transaction() as connection:
        view = source.view(connection, "priorities", filled[1][1], _service_study())
        step = load_flow(PRIORITIES / "round2.yaml").flow.step("rate")
        feedback = view.delphi_feedback("community", 1, "Help out of hours", step.rule())  # type: ignore[attr-defined]
    assert feedback is not None and feedback.own_score is not None
    ratings = delphi_ratings(view.data.records, "community")
    assert len(ratings) == 72 and set(ratings["group"]) == {"patient", "staff"}
    expected = summarise(ratings).query("item == 'Help out of hours' and group == 'all'").iloc[0]
    assert feedback.everyone is not None, "72 ratings: everyone's figure is shown"
    assert feedback.everyone.n == expected["n"] and feedback.everyone.median == expected["median"]
    assert [g.label for g in feedback.groups] == ["Patients and carers", "Staff"]

    service, people = filled  # within its ttl the source keeps what it read; forget() refreshes it
    with database.transaction() as connection:
        before = len(source.view(connection, "priorities", people[0]).data.records)
    _take_part(service, database, people[0], "choices", ["A"] * 6, "patient")
    with database.transaction() as connection:
        assert len(source.view(connection, "priorities", people[0]).data.records) == before
        source.forget("priorities")
        assert len(source.view(connection, "priorities", people[0]).data.records) == before + 6


def _service_study() -> Any:
    return StudyRegistry.from_folder(PRIORITIES).get("priorities").study


def test_chorus_report_writes_tables_and_charts_for_every_method(database: Database, filled: tuple, tmp_path: Path) -> None:
    @click.group()
    def root() -> None:
        pass

    register(root)
    result = CliRunner().invoke(root, ["report", "priorities", "--out", str(tmp_path), "--database", database.url])
    assert result.exit_code == 0, result.output
    names = {Path(line).name for line in result.output.splitlines()}
    for stem in ("delphi-community-round1", "rank-first", "pairwise-compare", "statements-views-groups", "choice_experiment-appointment-estimates"):
        assert {f"{stem}.png", f"{stem}.svg"} <= names, stem
        assert (tmp_path / f"{stem}.png").read_bytes()[:4] == b"\x89PNG"
    for table in ("delphi-community-summary", "delphi-community-participation", "rank-first", "pairwise-compare",
                  "statements-views-consensus", "statements-views-groups", "choice_experiment-appointment-estimates"):
        assert f"{table}.csv" in names, table
    summary = pd.read_csv(tmp_path / "delphi-community-summary.csv")
    assert set(zip(summary["group"], summary["group_label"], strict=True)) == {
        ("all", "Everyone"), ("patient", "Patients and carers"), ("staff", "Staff")}, "ids, with their labels (the desk's)"
    assert "delphi-community-movement.csv" in names
    assert (summary.query("group == 'all'")[["n", "n_unsure"]].sum(axis=1) == 12).all()  # everyone rated every item
    ranking = pd.read_csv(tmp_path / "rank-first.csv")
    assert set(ranking["option"]) == {"waits", "phone", "continuity", "carers"} and ranking.query("group == 'all'")["borda"].sum() > 0
    assert set(zip(ranking["group"], ranking["group_label"], strict=True)) == {
        ("all", "Everyone"), ("patient", "Patients and carers"), ("staff", "Staff")}, "the same convention as the Delphi tables"
    pairwise = pd.read_csv(tmp_path / "pairwise-compare.csv").query("group == 'all'")
    assert ((pairwise["low"] <= pairwise["score"]) & (pairwise["score"] <= pairwise["high"])).all()
    by_group = pd.read_csv(tmp_path / "pairwise-compare.csv").query("group != 'all'")
    assert (by_group["comparisons"] > 0).all(), "a group is scored over the ideas it compared, as on the desk"
    estimates = pd.read_csv(tmp_path / "choice_experiment-appointment-estimates.csv")
    assert list(estimates["feature"]) == ["wait", "who[any nurse]", "who[a pharmacist]", "how[video call]", "how[phone call]", "opt_out"]
    assert (estimates["n_choice_sets"] == 72).all()
    missing = CliRunner().invoke(root, ["report", "nosuch", "--out", str(tmp_path / "x"), "--database", database.url])
    assert missing.exit_code != 0 and "no study 'nosuch'" in missing.output


def test_report_scores_each_group_over_the_ideas_it_compared_as_the_desk_does(tmp_path: Path) -> None:
    """Carers never saw 'photo': it is not in their scores (not 50 with no comparisons), and
    their scores are the desk's: the same fit over the same comparisons."""
    from bot.report import _Out, _pairwise
    from flows.analysis.pairwise import Comparison, score_items
    from flows.population import ItemRecord

    def said(group: str, winner: str, loser: str, n: int) -> list[ItemRecord]:
        return [ItemRecord(f"p-{group}-{n}-{i}", group, "compare", f"{winner}|{loser}", {"winner": winner, "loser": loser})
                for i in range(n)]

    records = [*said("carer", "walkin", "shoes", 2), *said("carer", "shoes", "class", 2), *said("carer", "class", "walkin", 1),
               *said("patient", "photo", "walkin", 2), *said("patient", "shoes", "photo", 1), *said("patient", "class", "shoes", 1)]
    _pairwise(_Out(tmp_path), "pairwise-compare", records, {}, {"photo": "Send a photo of your feet [PHONE]"})
    table = pd.read_csv(tmp_path / "pairwise-compare.csv")
    assert table.query("item == 'photo'")["text"].unique().tolist() == ["Send a photo of your feet [PHONE]"], "what participants saw"
    assert table.query("item == 'shoes'")["text"].unique().tolist() == ["shoes"]
    carers = table.query("group == 'carer'").set_index("item")
    assert set(carers.index) == {"walkin", "shoes", "class"}
    desk = {s.item: s.score for s in score_items([Comparison(r.value["winner"], r.value["loser"]) for r in records if r.group == "carer"])}
    assert carers["score"].round(6).to_dict() == {item: round(score, 6) for item, score in desk.items()}


def test_report_counts_a_rank_option_over_those_shown_it_and_names_a_removed_one_by_its_label(
        database: Database, filled: tuple, tmp_path: Path) -> None:
    """The twelve ranked waits, phone, continuity and carers; then a live change swaps carers
    for transport and three more rank. Carers is shown by its label (not its code), each option
    counts only the people whose version showed it, and everyone is "Everyone", as on the desk."""
    import shutil

    service, _ = filled
    changed = tmp_path / "studies" / "priorities"
    shutil.copytree(PRIORITIES, changed)
    flow = changed / "round1.yaml"
    carers = "      - value: carers\n        label: Support for carers\n"
    assert carers in flow.read_text(encoding="utf-8")
    flow.write_text(flow.read_text(encoding="utf-8").replace(carers, "      - value: transport\n        label: Transport to clinics\n"),
                    encoding="utf-8")
    StudyRegistry.from_folder(changed.parent).publish(database, NOW)
    rng = np.random.default_rng(8)
    for i in range(3):
        joined = service.join("sms", f"+447700900{100 + i:03d}", "priorities", group="patient")
        assert joined.participant_id is not None
        _take_part(service, database, joined.participant_id, "round1", _replies("round1", rng, False), "patient")

    @click.group()
    def root() -> None:
        pass

    register(root)
    out = tmp_path / "out"
    result = CliRunner().invoke(root, ["report", "priorities", "--out", str(out), "--database", database.url])
    assert result.exit_code == 0, result.output
    ranking = pd.read_csv(out / "rank-first.csv")
    everyone = ranking.query("group == 'all'").set_index("option")
    assert everyone.loc["carers", "text"] == "Support for carers", "the words it was offered in, not its code"
    assert everyone.loc["transport", "text"] == "Transport to clinics"
    assert everyone["n_offered"].to_dict() == {"waits": 15, "phone": 15, "continuity": 15, "carers": 12, "transport": 3}
    assert everyone.loc["transport", "borda_mean"] == pytest.approx(everyone.loc["transport", "borda"] / 3)
    assert set(everyone["group_label"]) == {"Everyone"}
    patients = ranking.query("group == 'patient'").set_index("option")
    assert patients.loc["transport", "n_offered"] == 3 and patients.loc["carers", "n_offered"] == 8
