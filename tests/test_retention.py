"""Each study's retention, enforced by the scheduler's tick with a controlled clock, on
SQLite and PostgreSQL: old message texts blanked, kept audio deleted, idle participants erased."""

from __future__ import annotations

import itertools
import shutil
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from bot import retention
from bot.safeguarding import checks_from_env
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage, Media
from flows.loader import LoadError, load_study
from storage.database import Database
from storage.tables import ANSWERS, AUDIT_EVENTS, INBOUND, PARTICIPANTS, TRANSCRIPTS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
RETENTION = "retention: {messages: 30d, audio: 60d, participants: 90d}\n"
A, B = "+447700900001", "+447700900002"


def study_with(folder: Path, retention: str) -> Path:
    shutil.copytree(EXAMPLE, folder)
    path = folder / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8") + retention, encoding="utf-8")
    return folder


def test_a_bad_retention_setting_is_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadError, match="unknown retention setting 'forever'"):
        load_study(study_with(tmp_path / "one", "retention: {forever: 1d}\n"))
    with pytest.raises(LoadError, match="not a duration"):
        load_study(study_with(tmp_path / "two", "retention: {messages: soon}\n"))
    assert load_study(study_with(tmp_path / "three", RETENTION)).study.retention_of("participants") == timedelta(days=90)


def test_the_tick_blanks_old_messages_deletes_old_audio_and_erases_idle_people(
    database: Database, clock: FakeClock, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    audio = tmp_path / "audio"
    monkeypatch.setenv("CHORUS_VOICE_AUDIO_DIR", str(audio))
    registry = StudyRegistry([load_study(study_with(tmp_path / "study", RETENTION))])
    service = ConversationService(database, registry, clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    scheduler = Scheduler(database, service, registry, clock)
    ids = itertools.count(1)

    def say(text: str, address: str, **extra: object) -> int:
        result = service.receive(InboundMessage("sms", address, f"in-{next(ids)}", text, **extra))  # type: ignore[arg-type]
        assert result.inbound_id is not None
        return result.inbound_id

    start = clock.now
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply, A)
    voice = say("", A, media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    kept = audio / "kept" / f"{voice}.ogg"
    kept.parent.mkdir(parents=True)
    kept.write_bytes(b"OggS")
    service.receive_transcript(voice, "We waited six hours", 0.95, {"text": "We waited six hours", "status": "heard", "audio_path": str(kept)})
    say("4", A)
    say("WAIT", B)
    pid_a, pid_b = service.participant_for("sms", A), service.participant_for("sms", B)
    assert pid_a is not None and pid_b is not None

    def texts(pid: str) -> list[str]:
        with database.transaction() as connection:
            return list(connection.execute(select(INBOUND.c.text).where(INBOUND.c.participant_id == pid).order_by(INBOUND.c.id)).scalars())

    clock.now = start + timedelta(days=20)
    say("carer", B)
    clock.now = start + timedelta(days=25)
    assert scheduler.tick().retained == {"messages": 0, "media": 0, "audio": 0, "participants": 0}
    assert texts(pid_a)[:2] == ["WAIT", "yes"]

    clock.now = start + timedelta(days=31)
    assert scheduler.tick().retained["messages"] > 0
    assert set(texts(pid_a)) == {""} and texts(pid_b) == ["", "carer"]  # B's day-20 reply is not 30 days old yet
    with database.transaction() as connection:
        assert connection.execute(select(ANSWERS.c.display).where(ANSWERS.c.participant_id == pid_a, ANSWERS.c.step_id == "story")).scalar_one()
    assert kept.exists()
    assert scheduler.tick().retained == {}  # not again within the hour

    clock.now = start + timedelta(days=61)
    assert scheduler.tick().retained["audio"] == 1
    assert not kept.exists()
    with database.transaction() as connection:
        row = connection.execute(select(TRANSCRIPTS.c.audio_path, TRANSCRIPTS.c.text)).one()
    assert tuple(row) == (None, "We waited six hours")

    clock.now = start + timedelta(days=91)
    assert scheduler.tick().retained["participants"] == 1
    with database.transaction() as connection:
        left = set(connection.execute(select(PARTICIPANTS.c.id)).scalars())
        audit = connection.execute(select(AUDIT_EVENTS.c.actor, AUDIT_EVENTS.c.subject, AUDIT_EVENTS.c.detail)
                                   .where(AUDIT_EVENTS.c.action == "erased")).one()
    assert left == {pid_b} and audit[0] == "retention" and audit[1] == pid_a and audit[2]["reason"] == "retention of ae-waiting"

    clock.now = start + timedelta(days=111)
    assert scheduler.tick().retained["participants"] == 1
    with database.transaction() as connection:
        assert connection.execute(select(PARTICIPANTS.c.id)).first() is None


def test_a_study_without_a_limit_keeps_the_people_it_shares(database: Database, clock: FakeClock, tmp_path: Path) -> None:
    from tests.desk_helpers import two_studies

    folder = two_studies(tmp_path)
    path = folder / "ae-waiting" / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8") + "retention: {participants: 90d}\n", encoding="utf-8")
    registry = StudyRegistry.from_folder(folder)
    service = ConversationService(database, registry, clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    start = clock.now
    for n, words in enumerate((["WAIT"], ["WAIT", "OTHER"], ["WAIT"])):
        for word in words:
            service.receive(InboundMessage("sms", f"+44770090010{n}", f"in-{n}-{word}", word))
    shared = service.participant_for("sms", "+447700900101")
    clock.now = start + timedelta(days=91)
    assert retention.enforce(service, registry, clock.now, batch=1)["participants"] == 2  # a page at a time
    with database.transaction() as connection:
        assert set(connection.execute(select(PARTICIPANTS.c.id)).scalars()) == {shared}


def test_old_charts_go_once_no_message_still_shows_them(database: Database, clock: FakeClock, tmp_path: Path) -> None:
    from storage import media, outbox
    from storage.tables import MEDIA, OUTBOUND

    registry = StudyRegistry([load_study(study_with(tmp_path / "study", RETENTION))])
    service = ConversationService(database, registry, clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    service.receive(InboundMessage("telegram", "42", "in-1", "WAIT"))
    pid = service.participant_for("telegram", "42")
    assert pid is not None
    start = clock.now
    with database.transaction() as connection:
        contact = connection.execute(select(OUTBOUND.c.contact_id).where(OUTBOUND.c.participant_id == pid)).scalars().first()
        charts = {name: media.store(connection, name.encode(), "image/png", start, "ae-waiting") for name in
                  ("only-old", "old-and-new", "old-but-held")}

        def shown(chart: str, status: str, days: int) -> int:
            row = {"participant_id": pid, "contact_id": contact, "channel": "telegram", "study_id": "ae-waiting",
                   "text": "The group's view", "multiple": False, "kind": "delphi_feedback", "created_at": start + timedelta(days=days),
                   "media_id": charts[chart]}
            outbox_id = outbox.queue(connection, [row])[0]
            connection.execute(OUTBOUND.update().where(OUTBOUND.c.id == outbox_id).values(status=status))
            return outbox_id

        old_sent = shown("only-old", "sent", 0)
        shown("old-and-new", "sent", 0)
        newer = shown("old-and-new", "sent", 29)
        held = shown("old-but-held", "held", 0)
    clock.now = start + timedelta(days=31)
    assert retention.enforce(service, registry, clock.now)["media"] == 1
    with database.transaction() as connection:
        left = set(connection.execute(select(MEDIA.c.id)).scalars())
        shows = dict(connection.execute(select(OUTBOUND.c.id, OUTBOUND.c.media_id).where(OUTBOUND.c.id.in_([old_sent, newer, held]))).all())
    assert left == {charts["old-and-new"], charts["old-but-held"]}
    assert shows == {old_sent: None, newer: charts["old-and-new"], held: charts["old-but-held"]}
