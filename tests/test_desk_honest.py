"""What the desk tells a new coordinator is honest: the completion funnel counts a branch not
taken as no drop-off and a NO at consent as no finish, ``chorus report`` names groups one way
in every table, and a safeguarding flag names the step the worrying message answered."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select

from bot.api import queries
from bot.report import ReportInput, write_report
from bot.safeguarding import Concern, SafetyChecks
from bot.service import ConversationService, ReceiveResult
from flows.loader import load_flow
from flows.population import ItemRecord, delphi_value
from storage.database import Database
from storage.tables import FLAGS

Say = Callable[..., ReceiveResult]
STUDY = "ae-waiting"
PRIORITIES = Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities"
STORY = "Honestly I can't go on like this, I just want to end my life"


def _converse(say: Say, address: str, *texts: str) -> None:
    for text in ("WAIT", *texts):
        say(text, address=address)


def _understand_funnel(service: ConversationService, database: Database) -> dict[str, Any]:
    return next(f for f in queries.funnel(database, service.studies.get(STUDY)) if f["flow"] == "understand")


def test_the_funnel_counts_neither_a_branch_not_taken_nor_a_no_at_consent(
    service: ConversationService, say: Say, database: Database,
) -> None:
    _converse(say, "+447700900001", "yes", "1", "2", "It was long", "4")  # a patient: visits, story, informed
    _converse(say, "+447700900002", "yes", "3", "1", "It was busy", "4")  # staff: shift, story, informed
    _converse(say, "+447700900003", "no")  # declines at consent
    _converse(say, "+447700900004", "yes", "1", "STOP")  # asked how many visits, stops
    _converse(say, "+447700900005", "yes")  # still being asked their role
    funnel = _understand_funnel(service, database)
    steps = {s["step"]: s for s in funnel["steps"]}
    assert funnel["started"] == 5 and funnel["finished"] == 2, "the NO at consent is not a finish"
    assert steps["(finished)"]["reached"] == 2
    assert funnel["outcomes"] == {"completed": 2, "declined": 1} and funnel["live"] == 1
    assert steps["shift"]["reached"] == 1 and steps["shift"]["drop_off"] == 0, "the patients' branch skips shift"
    assert steps["visits"]["reached"] == 2 and steps["visits"]["drop_off"] == 1, "only the one who stopped there"
    assert steps["story"]["drop_off"] == steps["informed"]["drop_off"] == 0, "both branches went on to the end"
    assert steps["consent"]["drop_off"] == 1 and steps["role"]["drop_off"] == steps["role"]["waiting"] == 1
    assert sum(s["drop_off"] for s in funnel["steps"]) + funnel["finished"] == funnel["started"], "everyone counted once"


def _flag_steps(database: Database) -> list[str | None]:
    with database.transaction() as connection:
        return list(connection.execute(select(FLAGS.c.step_id).where(FLAGS.c.kind == "safeguarding")).scalars())


def test_a_safeguarding_flag_names_the_step_the_message_answered(service: ConversationService, say: Say,
                                                                 database: Database) -> None:
    _converse(say, "+447700900001", "yes", "1", "2")
    say(STORY)
    assert _flag_steps(database) == ["story"], "the step asked, not the next one nor none"


def test_a_flag_raised_in_the_background_names_the_step_the_message_answered(
    service: ConversationService, say: Say, database: Database,
) -> None:
    seen = threading.Event()

    def worried_by_everything(texts: list[str]) -> list[Concern | None]:
        seen.set()
        return [Concern("self_harm", "test") if "disappeared" in text else None for text in texts]

    service.safety = SafetyChecks(quick=service.safety.quick, thorough_batch=worried_by_everything)
    _converse(say, "+447700900001", "yes", "1", "2")
    say("Nobody would notice if I just disappeared for good")
    service.wait_for_safeguarding()
    assert seen.is_set() and _flag_steps(database) == ["story"]


# ----------------------------------------------------------------------------- chorus report


def _delphi_report(tmp_path: Path) -> Path:
    """Two rounds of the example's Delphi: two patients and two staff rate two items, a reason each in round 1."""
    step = load_flow(PRIORITIES / "round2.yaml").flow.step("rate")
    scores = {("p1", "patient"): (9, 8), ("p2", "patient"): (8, 8), ("s1", "staff"): (3, 5), ("s2", "staff"): (6, 6)}
    records = []
    for (pid, group), (first, second) in scores.items():
        for item in ("Help out of hours", "Phone lines"):
            records.append(ItemRecord(pid, group, "rate", item, delphi_value("community", 1, first, f"why {pid}")))
            records.append(ItemRecord(pid, group, "rate", item, delphi_value("community", 2, second)))
    labels = {"patient": "Patients and carers", "staff": "Staff"}
    write_report(ReportInput("priorities", {"rate": step}, records, labels), tmp_path)
    return tmp_path


def test_every_delphi_table_names_groups_by_id_and_label_and_movement_is_written(tmp_path: Path) -> None:
    folder = _delphi_report(tmp_path)
    for table in ("summary", "participation", "movement", "reasons"):
        frame = pd.read_csv(folder / f"delphi-community-{table}.csv")
        pairs = set(zip(frame["group"], frame["group_label"], strict=True))
        assert pairs - {("all", "Everyone")} == {("patient", "Patients and carers"), ("staff", "Staff")}, table
    movement = pd.read_csv(folder / "delphi-community-movement.csv")
    staff = movement.query("group == 'staff' and item == 'Phone lines'").iloc[0]
    assert (staff["round"], staff["n_paired"], staff["n_changed"], staff["median_shift"]) == (2, 2, 1, 1.0)


def test_reasons_show_whole_scores_as_whole_numbers(tmp_path: Path) -> None:
    reasons = pd.read_csv(_delphi_report(tmp_path) / "delphi-community-reasons.csv", dtype=str)
    assert sorted(set(reasons["score"])) == ["3", "6", "8", "9"], "not 9.0"
