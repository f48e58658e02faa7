"""`chorus export`: long answers CSV, data dictionary with codes, nothing identifying."""

from __future__ import annotations

import csv
import json
from collections.abc import Callable
from pathlib import Path

from click.testing import CliRunner

from bot.cli import cli
from bot.export import ANSWER_COLUMNS, DICTIONARY_COLUMNS, export_study
from bot.service import ConversationService, ReceiveResult
from storage.database import Database

Say = Callable[..., ReceiveResult]
ALICE, BOB = "+447700900001", "+447700900002"


def _read(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


def _two_conversations(say: Say) -> None:
    for reply in ("WAIT", "yes", "staff", "1 3", "Call me on 07700 900123 about the wait", "5"):
        say(reply, address=ALICE)
    for reply in ("WAITSTAFF", "yes", "patient", "4"):
        say(reply, address=BOB)


def test_answers_are_exported_one_row_per_answer(service: ConversationService, database: Database, say: Say, tmp_path: Path) -> None:
    _two_conversations(say)
    result = export_study(database, "ae-waiting", tmp_path / "out")
    rows = _read(result.answers)
    assert list(rows[0]) == [name for name, _ in ANSWER_COLUMNS]
    assert result.rows == len(rows) == 5 + 3
    alice = [r for r in rows if r["participant"] == service.participant_for("sms", ALICE)]
    by_step = {r["step"]: r for r in alice}
    assert by_step["shift"]["value"] == json.dumps(["day", "weekend"])
    assert by_step["shift"]["step_type"] == "choice" and by_step["shift"]["question"] == "Which shifts do you usually work?"
    assert by_step["informed"]["value"] == "5" and by_step["informed"]["display"] == "5 (Very well)"
    assert by_step["role"]["group"] == "staff" and by_step["role"]["channel"] == "sms"
    assert by_step["consent"]["flow_version"] == service.studies.current("ae-waiting", "understand").version
    assert by_step["consent"]["answered_at"].endswith("Z") and "T" in by_step["consent"]["answered_at"]
    bob = [r for r in rows if r["participant"] == service.participant_for("sms", BOB)]
    assert {r["group"] for r in bob} == {"patient"}, "the role answer updates the group from the join route"


def test_the_export_holds_no_address_or_phone_number(service: ConversationService, database: Database, say: Say, tmp_path: Path) -> None:
    _two_conversations(say)
    result = export_study(database, "ae-waiting", tmp_path)
    for path in (result.answers, result.dictionary_csv, result.dictionary_md):
        content = path.read_text(encoding="utf-8")
        assert "900001" not in content and "900002" not in content and "900123" not in content, path.name
    story = next(r for r in _read(result.answers) if r["step"] == "story")
    assert story["raw"] == "Call me on [PHONE] about the wait"


def test_the_data_dictionary_describes_columns_and_codes(service: ConversationService, database: Database, say: Say, tmp_path: Path) -> None:
    _two_conversations(say)
    result = export_study(database, "ae-waiting", tmp_path)
    entries = _read(result.dictionary_csv)
    assert list(entries[0]) == DICTIONARY_COLUMNS
    columns = {e["name"] for e in entries if e["section"] == "column"}
    assert columns == {name for name, _ in ANSWER_COLUMNS}
    steps = {(e["flow"], e["name"]): e for e in entries if e["section"] == "step"}
    assert steps[("understand", "role")]["codes"] == "patient = Patient; carer = Carer or family; staff = Staff"
    assert steps[("understand", "consent")]["codes"] == "yes = Yes; no = No"
    assert "1 = Very poorly" in steps[("understand", "informed")]["codes"]
    assert steps[("vision", "rate_pain")]["codes"].startswith("min = 1; max = 9; 1 = Not important; 9 = Critical")
    assert steps[("evaluate", "better")]["codes"] == "min = 0; max = 10"
    assert steps[("understand", "visits")]["step_type"] == "number"
    markdown = result.dictionary_md.read_text(encoding="utf-8")
    assert "| understand |" in markdown and "staff = Staff" in markdown


def test_the_export_command_writes_the_files(service: ConversationService, database: Database, say: Say, tmp_path: Path) -> None:
    _two_conversations(say)
    outcome = CliRunner().invoke(cli, ["export", "--study", "ae-waiting", "--out", str(tmp_path), "--database", database.url])
    assert outcome.exit_code == 0, outcome.output
    assert "8 answers" in outcome.output
    assert len(_read(tmp_path / "ae-waiting-answers.csv")) == 8
    missing = CliRunner().invoke(cli, ["export", "--study", "nope", "--out", str(tmp_path), "--database", database.url])
    assert missing.exit_code != 0 and "no study 'nope'" in missing.output


def test_answers_left_behind_by_back_are_exported_as_withdrawn_and_left_out_of_results(
    service: ConversationService, database: Database, say: Say, tmp_path: Path,
) -> None:
    from bot.api.answers import load_answers
    from bot.api.exports import to_parquet

    for reply in ("WAIT", "yes", "patient", "4", "back", "back", "staff", "1 3"):  # a patient's branch, then staff's
        say(reply, address=ALICE)
    exported = export_study(database, "ae-waiting", tmp_path / "out")
    rows = _read(exported.answers)
    withdrawn = [(r["step"], r["value"]) for r in rows if r["withdrawn_at"]]
    standing = [(r["step"], r["value"]) for r in rows if not r["withdrawn_at"]]
    assert withdrawn == [("role", "patient"), ("visits", "4")]
    assert standing == [("consent", "yes"), ("role", "staff"), ("shift", json.dumps(["day", "weekend"]))]
    assert all(r["withdrawn_at"].endswith("Z") for r in rows if r["withdrawn_at"])
    frame, _ = load_answers(database, service.studies.get("ae-waiting"))
    assert sorted(frame["step"]) == ["consent", "role", "shift"], "results count only standing answers"
    assert to_parquet(exported.answers, tmp_path / "answers.parquet").exists()


def test_a_voice_answer_carries_the_recognisers_confidence(service: ConversationService, database: Database, say: Say,
                                                            tmp_path: Path) -> None:
    """Transcripts link to the answers they gave (bot/voice.py); the export shows how sure the
    recogniser was, so an analyst can tell the uncertain voice answers from the rest."""
    from sqlalchemy import insert, select

    from storage.tables import ANSWERS, INBOUND, TRANSCRIPTS

    _two_conversations(say)
    alice, now = service.participant_for("sms", ALICE), service.clock()
    with database.transaction() as connection:
        answer_id, inbound_id = connection.execute(
            select(ANSWERS.c.id, ANSWERS.c.inbound_id).where(ANSWERS.c.participant_id == alice, ANSWERS.c.step_id == "story")).one()
        other = connection.execute(select(INBOUND.c.id).where(INBOUND.c.participant_id == alice, INBOUND.c.id != inbound_id)).scalar()
        connection.execute(insert(TRANSCRIPTS), [
            {"inbound_id": inbound_id, "participant_id": alice, "study_id": "ae-waiting", "answer_id": answer_id, "status": "heard",
             "text": "call me about the wait", "confidence": 0.416, "low_confidence": True, "created_at": now},
            {"inbound_id": other, "participant_id": alice, "study_id": "ae-waiting", "answer_id": None, "status": "failed",
             "text": "", "confidence": None, "low_confidence": False, "created_at": now},
        ])
    rows = _read(export_study(database, "ae-waiting", tmp_path).answers)
    story = next(r for r in rows if r["step"] == "story")
    assert (story["voice_confidence"], story["voice_low_confidence"]) == ("0.42", "true")
    assert all(r["voice_confidence"] == r["voice_low_confidence"] == "" for r in rows if r["step"] != "story"), \
        "a typed answer (or a voice note that gave no answer) has no confidence"


def _welsh_part_way(say: Say) -> None:
    """Alice answers the first questions in English, then changes to Welsh and answers the rest."""
    for reply in ("WAIT", "yes", "staff", "CYMRAEG", "1 3", "Roedd yr aros yn hir", "5"):
        say(reply, address=ALICE)


def test_each_answer_is_exported_in_the_language_it_was_given_in(service: ConversationService, database: Database, say: Say,
                                                                  tmp_path: Path) -> None:
    """A participant who changes language part way through: the answers before the change
    are in English, those after in Welsh (the column used to say Welsh for every answer)."""
    _welsh_part_way(say)
    rows = _read(export_study(database, "ae-waiting", tmp_path).answers)
    languages = {r["step"]: r["language"] for r in rows}
    assert languages == {"consent": "en", "role": "en", "shift": "cy", "story": "cy", "informed": "cy"}


def test_answers_stored_before_languages_were_kept_take_the_participants_language(
    service: ConversationService, database: Database, say: Say, tmp_path: Path,
) -> None:
    """The migration gives an answer stored before it the participant's language in the study
    at the upgrade, as the export said of it before."""
    from sqlalchemy import select

    from storage.tables import ANSWERS

    _welsh_part_way(say)
    database.downgrade("0017_answers_session_index")
    database.upgrade()
    with database.read_transaction() as connection:
        stored = set(connection.execute(select(ANSWERS.c.language)).scalars())
    assert stored == {"cy"}
    rows = _read(export_study(database, "ae-waiting", tmp_path).answers)
    assert {r["language"] for r in rows} == {"cy"} and len(rows) == 5
