"""A Delphi score given a reason is recorded twice (alone, then with the reason), but every
table Chorus writes for analysis outside it holds each rating once: `chorus report`'s ratings
(with the reason as a column) and reasons, and the export's answers. Counted against the
answers the participants actually gave, through the conversation service."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pandas as pd
import pytest

from bot.export import export_study
from bot.report import gather, write_report
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY_YAML = """\
study: panel
title: Panel
languages: [en]
groups: [patient]
join:
  start_flow: round1
  keyword: PANEL
"""
ROUND_YAML = """\
flow: round1
steps:
  - id: rate
    type: delphi
    text: Score each from 1 to 9
    delphi: care
    round: 1
    items:
      - {id: parking, text: Parking near the clinic}
      - {id: waiting, text: Short waits}
      - {id: letters, text: Letters on time}
    unsure: true
    ask_reason: true
  - id: done
    type: end
    text: Thank you.
"""
# Per participant: (item, score or None for unsure, reason or None for "no reason").
ANSWERS: dict[str, list[tuple[str, int | None, str | None]]] = {
    "+447700900101": [("parking", 9, "I can never park"), ("waiting", 3, None), ("letters", None, None)],
    "+447700900102": [("parking", 7, "it matters"), ("waiting", 8, "hours in A&E"), ("letters", 2, "email is fine")],
    "+447700900103": [("parking", 1, None), ("waiting", 9, "call me on 07700 900123"), ("letters", 5, None)],
}


def _replies(given: list[tuple[str, int | None, str | None]]) -> list[str]:
    """What a participant sends: a score (or NOT SURE), then its reason (or 'no') for a score."""
    replies: list[str] = []
    for _, score, reason in given:
        replies.append("not sure" if score is None else str(score))
        if score is not None:
            replies.append(reason or "no")
    return replies


@pytest.fixture
def panel(database: Database, clock: FakeClock, tmp_path: Path) -> ConversationService:
    folder = tmp_path / "panel"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    (folder / "round1.yaml").write_text(ROUND_YAML, encoding="utf-8")
    service = ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY)
    for n, (address, text) in enumerate((a, t) for a, given in ANSWERS.items() for t in ["PANEL", *_replies(given)]):
        service.receive(InboundMessage("sms", address, f"sms-{n}", text))
    return service


def _given() -> list[tuple[str, str, int | None, str | None]]:
    return [(address, item, score, reason) for address, given in ANSWERS.items() for item, score, reason in given]


def test_the_engine_records_a_reasoned_score_twice_which_is_why_this_matters(panel: ConversationService, database: Database) -> None:
    from sqlalchemy import func, select

    from storage.tables import ANSWERS as ANSWERS_TABLE

    with database.transaction() as connection:
        rows = connection.execute(select(func.count()).where(ANSWERS_TABLE.c.step_id == "rate",
                                                             ANSWERS_TABLE.c.item.is_not(None))).scalar_one()
    reasons = sum(1 for *_, reason in _given() if reason)
    assert rows == len(_given()) + reasons


def test_the_reports_ratings_hold_one_row_per_rating_with_its_reason(panel: ConversationService, database: Database, tmp_path: Path) -> None:
    written = {p.name: p for p in write_report(gather(database, "panel"), tmp_path / "report")}
    ratings = pd.read_csv(written["delphi-care-ratings.csv"], keep_default_na=False)
    assert len(ratings) == len(_given()), "one row per participant, round and item"
    assert not ratings.duplicated(["participant", "round", "item"]).any()
    pid = {address: panel.participant_for("sms", address) for address in ANSWERS}
    expected = {(pid[a], item): ("" if score is None else str(score), reason or "") for a, item, score, reason in _given()}
    found = {(r.participant, r.item): (r.score, r.reason) for r in ratings.itertuples()}
    assert found == {key: (score, reason.replace("07700 900123", "[PHONE]")) for key, (score, reason) in expected.items()}

    reasons = pd.read_csv(written["delphi-care-reasons.csv"])
    assert len(reasons) == sum(1 for *_, reason in _given() if reason), "each reason once"
    summary = pd.read_csv(written["delphi-care-summary.csv"])
    parking = summary[(summary["item"] == "parking") & (summary["group"] == "all")].iloc[0]
    assert (parking["n"], parking["median"]) == (3, 7), "9, 7 and 1: counted once each"


def test_the_export_holds_one_row_per_rating_the_one_with_the_reason(panel: ConversationService, database: Database, tmp_path: Path) -> None:
    result = export_study(database, "panel", tmp_path / "export")
    with result.answers.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["step"] == "rate" and r["item"]]
    assert len(rows) == len(_given())
    pid = {address: panel.participant_for("sms", address) for address in ANSWERS}
    values = {(r["participant"], r["item"]): json.loads(r["value"]) for r in rows}
    for address, item, score, reason in _given():
        value = values[(pid[address], item)]
        assert value["score"] == score and value.get("reason", "").replace("[PHONE]", "07700 900123") == (reason or "")
    with result.dictionary_csv.open(encoding="utf-8", newline="") as handle:
        rate = next(e for e in csv.DictReader(handle) if e["section"] == "step" and e["name"] == "rate")
    assert "one row per participant, round and item" in rate["codes"]


def test_a_round_done_again_leaves_one_row_per_rating_the_last(panel: ConversationService, database: Database, tmp_path: Path) -> None:
    address = "+447700900101"
    pid = panel.participant_for("sms", address)
    assert pid is not None and panel.start_flow(pid, "panel", "round1")
    for n, text in enumerate(["4", "no", "5", "no", "6", "no"]):
        panel.receive(InboundMessage("sms", address, f"again-{n}", text))
    written = {p.name: p for p in write_report(gather(database, "panel"), tmp_path / "report")}
    ratings = pd.read_csv(written["delphi-care-ratings.csv"], keep_default_na=False)
    assert len(ratings) == len(_given())
    mine = ratings[ratings["participant"] == pid].set_index("item")
    assert mine["score"].to_dict() == {"parking": 4, "waiting": 5, "letters": 6}, "the round done again stands"
    assert (mine["reason"] == "").all(), "the old reason went with the old score"
    sent = pd.read_csv(written["delphi-care-rounds-sent.csv"])
    assert len(sent) == len(ANSWERS) and not sent.duplicated(["participant", "round"]).any(), "sent twice, listed once"

    result = export_study(database, "panel", tmp_path / "export")
    with result.answers.open(encoding="utf-8", newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if r["step"] == "rate" and r["item"] and r["participant"] == pid]
    assert sorted((r["item"], json.loads(r["value"])["score"]) for r in rows) == [("letters", 6), ("parking", 4), ("waiting", 5)]
