"""Erasure on request: DELETE MY DATA (or DILEU FY NATA) then YES, from the participant, or a
coordinator's ``chorus erase`` and API call. Afterwards nothing of them is left: a scan of
every table and column, on SQLite and PostgreSQL, and of every file under the data folder."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import inspect, select, text

from bot.cli import cli
from bot.export import export_study
from bot.service import ConversationService, ReceiveResult
from channels.base import Media
from flows.words import BUILT_IN_TEXTS
from storage import repository
from storage.database import Database
from storage.tables import AUDIT_EVENTS, OUTBOUND
from tests.db_fixtures import FakeClock

Say = Callable[..., ReceiveResult]
PHONE, OTHER_PHONE = "+447700900321", "+447700900999"
NAME = "Gwenllian Prydderch"


def scan_database(database: Database, needles: list[str]) -> list[str]:
    """Every (table.column) holding any needle, across every table and every column."""
    found = []
    with database.transaction() as connection:
        for table in inspect(connection).get_table_names():
            result = connection.execute(text(f'SELECT * FROM "{table}"'))
            columns = list(result.keys())
            for row in result:
                for column, value in zip(columns, row, strict=True):
                    if isinstance(value, bytes | memoryview):
                        shown = bytes(value).decode("utf-8", "ignore")
                    elif isinstance(value, dict | list):
                        shown = json.dumps(value, ensure_ascii=False)
                    else:
                        shown = str(value)
                    found += [f"{table}.{column}" for needle in needles if needle in shown]
    return found


def scan_files(folder: Path, needles: list[str]) -> list[str]:
    """Every file under ``folder`` whose bytes hold any needle (UTF-8), databases included."""
    return [str(path) for path in folder.rglob("*") if path.is_file()
            for needle in needles if needle.encode() in path.read_bytes()]


def needles_of(phone: str) -> list[str]:
    return [phone, phone.lstrip("+"), phone[-10:], NAME, "Prydderch"]


def conversation(service: ConversationService, say: Say, audio_dir: Path) -> tuple[str, str]:
    """One participant who answers by text and by voice (the voice note kept on disk), and
    gives their name; another who just answers. Returns both participant ids."""
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply, address=PHONE)
    voice = say("", address=PHONE, media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    assert voice.inbound_id is not None and voice.participant_id is not None
    kept = audio_dir / "kept" / f"{voice.inbound_id}.ogg"
    kept.parent.mkdir(parents=True, exist_ok=True)
    kept.write_bytes(b"OggS fake audio of " + NAME.encode())
    spooled = audio_dir / "spool" / f"{voice.inbound_id}.ogg"
    spooled.parent.mkdir(parents=True, exist_ok=True)
    spooled.write_bytes(b"OggS spooled")
    heard = f"This is {NAME}, we waited six hours with no news"
    result = service.receive_transcript(voice.inbound_id, heard, confidence=0.95,
                                        record={"text": heard, "status": "heard", "audio_path": str(kept), "language": "en"})
    assert result.status == "processed"
    say("4", address=PHONE)
    say(f"Thanks, from {NAME} ({PHONE})", address=PHONE)
    pid = voice.participant_id
    with service.database.transaction() as connection:  # a flow that saved their name
        participant = repository.load_participant(connection, pid)
        participant.fields["name"] = NAME
        repository.save_participant(connection, participant)
    for reply in ("WAIT", "yes", "carer", "1", "The chairs were hard"):
        other = say(reply, address=OTHER_PHONE)
    assert other.participant_id is not None
    return pid, other.participant_id


def last_sent(database: Database, pid: str) -> tuple[str, str]:
    with database.transaction() as connection:
        row = connection.execute(select(OUTBOUND.c.kind, OUTBOUND.c.text).where(OUTBOUND.c.participant_id == pid)
                                 .order_by(OUTBOUND.c.id.desc()).limit(1)).one()
    return row[0], row[1]


def test_delete_my_data_then_yes_leaves_nothing_of_them_anywhere(
    service: ConversationService, database: Database, say: Say, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio_dir = tmp_path / "var" / "audio"
    monkeypatch.setenv("CHORUS_VOICE_AUDIO_DIR", str(audio_dir))
    pid, other = conversation(service, say, audio_dir)
    needles = needles_of(PHONE)
    assert scan_database(database, needles), "the scan must see the name before erasure"
    assert scan_files(tmp_path, needles)

    asked = say("Delete my data", address=PHONE)
    assert asked.status == "processed"
    kind, question = last_sent(database, pid)
    assert kind == "erase_confirm" and question.startswith("Reply YES to delete everything")
    assert say("YES", address=PHONE).status == "erased"

    export = export_study(database, "ae-waiting", tmp_path / "var" / "exports")
    assert "The chairs were hard" in export.answers.read_text(encoding="utf-8")  # the other participant stays
    assert scan_database(database, needles) == []
    assert scan_files(tmp_path, needles) == []
    assert not any(audio_dir.rglob("*.ogg"))
    with database.transaction() as connection:
        audit = connection.execute(select(AUDIT_EVENTS.c.actor, AUDIT_EVENTS.c.subject, AUDIT_EVENTS.c.detail)
                                   .where(AUDIT_EVENTS.c.action == "erased")).one()
        assert repository.find_contact(connection, repository.address_hash(b"test-address-key", "sms", PHONE)) is None
    assert audit[0] == "participant" and audit[1] == pid
    assert audit[2]["removed"]["answers"] >= 4 and audit[2]["removed"]["transcripts"] == 1 and audit[2]["audio_files"] == 2
    assert service.participant_for("sms", OTHER_PHONE) == other
    again = say("WAIT", address=PHONE)  # writing again makes a stranger, with a new id
    assert again.status == "joined" and again.participant_id not in (pid, None)


def test_anything_but_yes_cancels_and_the_conversation_carries_on(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("WAIT").participant_id
    say("yes")
    assert pid is not None
    say("DILEU FY NATA")
    assert last_sent(database, pid)[0] == "erase_confirm"
    assert say("patient").status == "processed"  # not taken as an answer: it cancels
    kinds = []
    with database.transaction() as connection:
        kinds = list(connection.execute(select(OUTBOUND.c.kind).where(OUTBOUND.c.participant_id == pid).order_by(OUTBOUND.c.id)).scalars())
    assert kinds[-2:] == ["erase_cancelled", "prompt"]
    assert say("patient").status == "processed"
    assert last_sent(database, pid)[1].startswith("How many times")  # the role was answered this time


def test_delete_my_data_works_after_stop_and_before_any_conversation(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("WAIT").participant_id
    assert pid is not None
    say("STOP")
    say("forget me")
    assert last_sent(database, pid)[0] == "erase_confirm"  # sent even though they opted out
    assert service.pending_outbox()[-1].text.startswith("Reply YES")
    assert say("yes").status == "erased"
    stranger = say("delete my data", address="+447700900555")
    assert stranger.participant_id is not None and last_sent(database, stranger.participant_id)[0] == "erase_confirm"
    assert say("no", address="+447700900555").status == "not_enrolled"
    assert last_sent(database, stranger.participant_id)[0] == "erase_cancelled"
    say("delete my data", address="+447700900555")
    assert say("Yes", address="+447700900555").status == "erased"
    with database.transaction() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM participants")).scalar_one() == 0


def test_a_voice_yes_does_not_confirm(service: ConversationService, database: Database, say: Say) -> None:
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply)
    voice = say("", media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    assert voice.participant_id is not None and voice.inbound_id is not None
    say("delete my data")
    assert service.receive_transcript(voice.inbound_id, "yes", confidence=0.99).status == "processed"
    assert last_sent(database, voice.participant_id) == ("erase_confirm", BUILT_IN_TEXTS["erase_type_yes"]["en"])
    with database.transaction() as connection:
        assert connection.execute(text("SELECT COUNT(*) FROM participants")).scalar_one() == 1


def test_chorus_erase_by_id_or_by_address(service: ConversationService, database: Database, say: Say, tmp_path: Path,
                                          clock: FakeClock, example_study_path: Path) -> None:
    first = say("WAIT", address=PHONE).participant_id
    second = say("WAIT", address=OTHER_PHONE).participant_id
    env = {"CHORUS_DATABASE_URL": database.url, "CHORUS_HASH_KEY": "test-address-key",
           "CHORUS_DATA_KEYS": "bjcUyNk_PLDnJsvbhXnlDK1l0pSwAWvR01ITfyVDDcE=", "CHORUS_STUDIES_DIR": str(example_study_path)}
    result = CliRunner().invoke(cli, ["erase", str(first), "--yes", "--by", "dpo"], env=env)
    assert result.exit_code == 0, result.output
    assert f"erased {first}" in result.output and "1 contacts" in result.output
    result = CliRunner().invoke(cli, ["erase", OTHER_PHONE, "--channel", "sms", "--yes"], env=env)
    assert result.exit_code == 0 and f"erased {second}" in result.output and OTHER_PHONE not in result.output
    missing = CliRunner().invoke(cli, ["erase", "p-0000000000000000", "--yes"], env=env)
    assert missing.exit_code != 0 and "no participant" in missing.output
    with database.transaction() as connection:
        actors = connection.execute(select(AUDIT_EVENTS.c.actor).where(AUDIT_EVENTS.c.action == "erased")).scalars().all()
        assert connection.execute(text("SELECT COUNT(*) FROM contacts")).scalar_one() == 0
    assert actors[0] == "cli:dpo" and len(actors) == 2


def test_the_api_erases_with_a_token_that_can_see_the_study(tmp_path: Path) -> None:
    from tests.desk_helpers import desk_app

    with desk_app(tmp_path) as desk:
        pid, _ = desk.join("ae-waiting")
        other_study, _ = desk.join("other-study")
        path = f"/api/v1/participants/{pid}/erase"
        assert desk.client.post(path).status_code == 401
        analyst = {"Authorization": f"Bearer {desk.token('analyst', ('ae-waiting',))}"}
        assert desk.client.post(path, headers=analyst).status_code == 403
        elsewhere = {"Authorization": f"Bearer {desk.token('coordinator', ('other-study',))}"}
        assert desk.client.post(path, headers=elsewhere).status_code == 404
        coordinator = {"Authorization": f"Bearer {desk.token('coordinator', ('ae-waiting',), name='Dr Who')}"}
        response = desk.client.post(path, headers=coordinator)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        assert body["erased"] is True and body["removed"]["participants"] == 1
        assert desk.client.post(path, headers=coordinator).status_code == 404
        assert desk.participants() == [other_study]
        with desk.database.transaction() as connection:
            actor = connection.execute(select(AUDIT_EVENTS.c.actor).where(AUDIT_EVENTS.c.action == "erased")).scalar_one()
        assert actor.endswith(":Dr Who")


def test_another_process_that_remembers_the_contact_makes_a_new_participant(
    service: ConversationService, database: Database, say: Say, example_study_path: Path, clock: FakeClock
) -> None:
    from bot.safeguarding import SafetyChecks
    from bot.studies import StudyRegistry
    from channels.base import InboundMessage
    from tests.db_fixtures import TEST_ADDRESS_KEY

    pid = say("WAIT", address=PHONE).participant_id
    assert pid is not None
    other = ConversationService(database, StudyRegistry.from_folder(example_study_path), clock, address_key=TEST_ADDRESS_KEY,
                                safety=SafetyChecks())
    assert other.erase(pid, "cli:test") is not None
    after = service.receive(InboundMessage("sms", PHONE, "sms-late", "WAIT"))  # `service` still remembers the old contact
    assert after.status == "joined" and after.participant_id not in (None, pid)


def test_a_voice_yes_from_someone_with_no_conversation_is_asked_to_type_it(
    service: ConversationService, database: Database, say: Say
) -> None:
    stranger = "+447700900556"
    asked = say("delete my data", address=stranger)
    assert asked.participant_id is not None
    voice = say("", address=stranger, media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    assert voice.inbound_id is not None
    service.receive_transcript(voice.inbound_id, "Yes.", confidence=0.99)
    assert last_sent(database, asked.participant_id) == ("erase_confirm", BUILT_IN_TEXTS["erase_type_yes"]["en"])
    assert say("YES", address=stranger).status == "erased", "still pending: a typed YES erases"
