"""The conversation service on SQLite and PostgreSQL: inbox, joining, whole conversations,
STOP/START, version pinning, atomic writes, strangers, voice notes and the outbox API."""

from __future__ import annotations

import shutil
import threading
from collections.abc import Callable
from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage, Media
from flows.engine import Resume
from storage import outbox
from storage.database import Database
from storage.tables import ANSWERS, DUE_TASKS, ENROLMENTS, INBOUND, OUTBOUND, PARTICIPANTS, SESSIONS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

Say = Callable[..., ReceiveResult]
ALICE = "+447700900001"


def _count(database: Database, table: object, *where: object) -> int:
    with database.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())  # type: ignore[arg-type]


def _texts(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def _answers(database: Database, participant_id: str) -> dict[str, tuple[object, str, bool]]:
    with database.transaction() as connection:
        rows = connection.execute(
            select(ANSWERS.c.step_id, ANSWERS.c.value, ANSWERS.c.flow_version, ANSWERS.c.skipped)
            .where(ANSWERS.c.participant_id == participant_id).order_by(ANSWERS.c.id)
        ).all()
    return {row[0]: (row[1], row[2], row[3]) for row in rows}


def test_a_retried_webhook_is_a_no_op(service: ConversationService, database: Database) -> None:
    message = InboundMessage("sms", ALICE, "SM-retried", "WAIT")
    first = service.receive(message)
    again = service.receive(message)
    assert first.status == "joined" and first.outbox_ids
    assert again.status == "duplicate" and again.outbox_ids == ()
    assert _count(database, INBOUND) == 1
    assert _count(database, OUTBOUND) == len(first.outbox_ids)
    assert _count(database, SESSIONS) == 1


def test_a_keyword_joins_and_a_route_sets_the_group(service: ConversationService, database: Database, say: Say) -> None:
    plain = say(" join wait ", address="+447700900010")
    staff = say("waitstaff", address="+447700900011")
    telegram = say("/start wait-staff", address="5550001", channel="telegram", start_param="wait-staff")
    assert [plain.status, staff.status, telegram.status] == ["joined"] * 3
    assert "Reply YES to take part" in _texts(service, plain)[0]
    with database.transaction() as connection:
        groups = dict(connection.execute(select(ENROLMENTS.c.participant_id, ENROLMENTS.c.group)).all())
    assert groups == {plain.participant_id: None, staff.participant_id: "staff", telegram.participant_id: "staff"}


def test_a_whole_conversation_stores_answers_with_the_flow_version(service: ConversationService, database: Database, say: Say) -> None:
    replies = ["WAIT", "yes", "3", "2 3", "A long cold wait on a plastic chair", "4"]
    results = [say(text) for text in replies]
    assert all(r.status in ("joined", "processed") for r in results)
    assert "Thank you for your time" in _texts(service, results[-1])[0]
    pid = results[0].participant_id
    assert pid is not None and pid.startswith("p-")
    version = service.studies.current("ae-waiting", "understand").version
    answers = _answers(database, pid)
    assert answers == {
        "consent": ("yes", version, False), "role": ("staff", version, False), "shift": (["night", "weekend"], version, False),
        "story": ("A long cold wait on a plastic chair", version, False), "informed": (4, version, False),
    }
    assert service.session_status(pid) == "ended"
    with database.transaction() as connection:
        assert connection.execute(select(ENROLMENTS.c.group).where(ENROLMENTS.c.participant_id == pid)).scalar_one() == "staff"
    lines = service.transcript(pid)
    assert [line.direction for line in lines[:3]] == ["in", "out", "in"] and lines[0].text == "WAIT"


def test_stop_stops_all_sending_and_start_resumes(service: ConversationService, database: Database, say: Say) -> None:
    joined = say("WAIT")
    stopped = say("STOP")
    assert _texts(service, stopped) == ["You will get no more messages from us. Reply START if you change your mind."]
    pid = joined.participant_id
    assert pid is not None
    queued = {row.id for row in service.outbox_for(pid) if row.status == "queued"}
    assert queued == set(stopped.outbox_ids), "only the STOP confirmation may still go"
    assert say("yes").outbox_ids == ()
    assert service.start_flow(pid, "ae-waiting", "vision") is None
    assert _count(database, ENROLMENTS, ENROLMENTS.c.opted_out.is_(True)) == 1
    restarted = say("START")
    assert _texts(service, restarted)[0] == "Welcome back."
    assert "Reply YES to take part" in _texts(service, restarted)[1]
    assert _count(database, ENROLMENTS, ENROLMENTS.c.opted_out.is_(True)) == 0
    assert say("yes").outbox_ids != ()


def test_a_republished_flow_does_not_break_a_pinned_session(
    service: ConversationService, database: Database, say: Say, tmp_path: Path, example_study_path: Path, clock: FakeClock
) -> None:
    say("WAIT")
    say("yes")
    old_version = service.studies.current("ae-waiting", "understand").version
    changed = tmp_path / "ae-waiting"
    shutil.copytree(example_study_path, changed)
    flow = changed / "understand.yaml"
    edited = flow.read_text(encoding="utf-8").replace("How many times have you been", "How often have you been")
    flow.write_text(edited.replace("    next: story\n", "    next: thanks\n"), encoding="utf-8")
    republished = ConversationService(database, StudyRegistry.from_folder(changed), clock, address_key=TEST_ADDRESS_KEY)
    new_version = republished.studies.current("ae-waiting", "understand").version
    assert new_version != old_version
    old = republished.receive(InboundMessage("sms", ALICE, "late-1", "patient"))
    assert _texts(republished, old) == ["How many times have you been to A&E in the last year?"]
    assert "What was waiting like?" in _texts(republished, republished.receive(InboundMessage("sms", ALICE, "late-2", "2")))[0]
    assert {v[1] for v in _answers(database, old.participant_id or "").values()} == {old_version}
    newcomer = republished.receive(InboundMessage("sms", "+447700900099", "new-1", "WAIT"))
    republished.receive(InboundMessage("sms", "+447700900099", "new-2", "yes"))
    asked = republished.receive(InboundMessage("sms", "+447700900099", "new-3", "patient"))
    assert _texts(republished, asked) == ["How often have you been to A&E in the last year?"]
    assert {v[1] for v in _answers(database, newcomer.participant_id or "").values()} == {new_version}


def test_a_failure_mid_transaction_leaves_nothing_half_written(
    service: ConversationService, database: Database, say: Say, monkeypatch: pytest.MonkeyPatch
) -> None:
    pid = say("WAIT").participant_id
    assert pid is not None
    before = (_count(database, ANSWERS), _count(database, OUTBOUND), service.session_status(pid))
    with database.transaction() as connection:
        state_before = connection.execute(select(SESSIONS.c.state)).scalar_one()

    def broken_queue(*args: object, **kwargs: object) -> list[int]:
        raise RuntimeError("disk on fire")

    monkeypatch.setattr(outbox, "queue", broken_queue)
    failed = say("yes")
    assert failed.status == "failed" and failed.outbox_ids == ()
    assert (_count(database, ANSWERS), _count(database, OUTBOUND), service.session_status(pid)) == before
    with database.transaction() as connection:
        assert connection.execute(select(SESSIONS.c.state)).scalar_one() == state_before
        status, error = connection.execute(select(INBOUND.c.status, INBOUND.c.error).where(INBOUND.c.id == failed.inbound_id)).one()
    assert status == "failed" and "RuntimeError" in error
    monkeypatch.undo()
    assert say("yes").status == "processed"
    assert _count(database, ANSWERS) == 1


def test_a_stranger_gets_told_how_to_join_and_is_recorded(service: ConversationService, database: Database, say: Say) -> None:
    result = say("asdf qwerty?!", address="+447700900050")
    assert result.status == "not_enrolled"
    assert _texts(service, result) == ["Hello. To take part in Waiting in A&E, reply WAIT."]
    with database.transaction() as connection:
        assert connection.execute(select(INBOUND.c.status, INBOUND.c.text)).one() == ("not_enrolled", "asdf qwerty?!")
    assert say("STOP", address="+447700900051").outbox_ids == (), "a stranger's STOP gets no reply"
    assert _count(database, SESSIONS) == 0


def test_addresses_are_stored_only_in_contacts(service: ConversationService, database: Database, say: Say) -> None:
    for reply in ("WAIT", "yes", "1", "3", "long wait"):
        say(reply)
    with database.transaction() as connection:
        for table in ("participants", "enrolments", "sessions", "inbound_messages", "outbound_messages", "answers", "audit_events"):
            rows = connection.execute(text(f"SELECT * FROM {table}")).all()
            assert rows and not any("900001" in str(value) for row in rows for value in row), table
        sealed = connection.execute(text("SELECT address_sealed FROM contacts")).scalar_one()
    assert "900001" not in sealed and database.sealer.open(sealed) == ALICE  # encrypted at rest
    assert service.participant_for("sms", ALICE) == service.participant_for("sms", " " + ALICE)


def test_a_voice_note_waits_for_its_transcript(service: ConversationService, database: Database, say: Say) -> None:
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply)
    voice = say("", media=(Media("https://example.org/v.ogg", "audio/ogg"),))
    assert voice.status == "awaiting_transcript" and voice.inbound_id is not None
    result = service.receive_transcript(voice.inbound_id, "We waited six hours with no news", confidence=0.9)
    assert result.status == "processed"
    with database.transaction() as connection:
        row = connection.execute(select(ANSWERS.c.value, ANSWERS.c.source).where(ANSWERS.c.step_id == "story")).one()
    assert tuple(row) == ("We waited six hours with no news", "voice")


def test_language_and_timeouts_and_reminders_are_written(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("WAIT").participant_id
    cymraeg = say("CYMRAEG")
    assert "Gymraeg" in _texts(service, cymraeg)[0]
    with database.transaction() as connection:
        assert connection.execute(select(PARTICIPANTS.c.language)).scalar_one() == "cy"
        assert connection.execute(select(ENROLMENTS.c.language)).scalar_one() == "cy"
        session_id = connection.execute(select(SESSIONS.c.id)).scalar_one()
    later = say("LATER")
    assert later.status == "processed"
    assert _count(database, DUE_TASKS, DUE_TASKS.c.kind == "snooze", DUE_TASKS.c.participant_id == pid) == 1
    reminded = service.resume(session_id, Resume())
    assert len(reminded) == 1


def test_the_dispatcher_api_sends_retries_and_records_delivery(service: ConversationService, say: Say) -> None:
    joined = say("WAIT")
    pending = service.pending_outbox()
    assert [(m.id, m.address, m.channel) for m in pending] == [(joined.outbox_ids[0], ALICE, "sms")]
    assert service.mark_failed(pending[0].id, "throttled", retryable=True) == "queued"
    assert service.mark_failed(pending[0].id, "number unreachable", retryable=False) == "failed"
    second = say("yes").outbox_ids[0]
    service.mark_sent(second, "SM-out-1")
    assert service.mark_delivered("sms", "SM-out-1") is True
    statuses = {row.id: row.status for row in service.outbox_for(joined.participant_id or "")}
    assert statuses[pending[0].id] == "failed" and statuses[second] == "delivered"


def test_one_participants_messages_are_processed_one_at_a_time(service: ConversationService, database: Database) -> None:
    service.receive(InboundMessage("sms", ALICE, "c-0", "WAIT"))
    errors: list[BaseException] = []

    def send(index: int) -> None:
        try:
            service.receive(InboundMessage("sms", ALICE, f"c-{index}", "HELP"))
        except BaseException as error:  # pragma: no cover - reported below
            errors.append(error)

    threads = [threading.Thread(target=send, args=(i,)) for i in range(1, 7)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert _count(database, INBOUND, INBOUND.c.status == "processed") == 6
    assert _count(database, OUTBOUND) == 1 + 6 * 2, "each HELP gets the help text and the question again"


@pytest.mark.parametrize("written", ["Stop!!! 😡", "STOP 👋", "stop please 🙏", "STOP\u200b", "ＳＴＯＰ", "✋ stop", "stop\ufe0f"])
@pytest.mark.parametrize("channel", ["sms", "whatsapp", "telegram"])
def test_stop_with_emoji_or_invisible_characters_still_stops(service: ConversationService, database: Database, say: Say,
                                                            written: str, channel: str) -> None:
    """Whatever is around it (an emoji, a zero-width space, a full-width form), STOP stops."""
    address = "12345" if channel == "telegram" else "+447700900001"
    joined = say("WAIT", address=address, channel=channel)
    stopped = say(written, address=address, channel=channel)
    assert _texts(service, stopped) == ["You will get no more messages from us. Reply START if you change your mind."]
    assert _count(database, ENROLMENTS, ENROLMENTS.c.opted_out.is_(True)) == 1
    assert joined.participant_id == stopped.participant_id


def test_stop_by_sms_stops_whatsapp_to_the_same_number_and_start_only_its_own_channel(
    service: ConversationService, database: Database, say: Say
) -> None:
    """One person, two participants (one per channel): STOP on either stops both; START
    opts back in only the channel it came on; another number is not touched."""
    number, other = "+447700900001", "+447700900002"
    by_sms = say("WAIT", address=number, channel="sms").participant_id
    by_whatsapp = say("WAIT", address=number, channel="whatsapp").participant_id
    stranger = say("WAIT", address=other, channel="whatsapp").participant_id
    assert len({by_sms, by_whatsapp, stranger}) == 3
    say("STOP", address=number, channel="sms")

    def opted_out(pid: str | None) -> bool:
        return _count(database, ENROLMENTS, ENROLMENTS.c.participant_id == pid, ENROLMENTS.c.opted_out.is_(True)) == 1

    assert opted_out(by_sms) and opted_out(by_whatsapp) and not opted_out(stranger)
    assert all(row.status != "queued" for row in service.outbox_for(by_whatsapp or "")), "nothing left to go by WhatsApp"
    assert say("yes", address=number, channel="whatsapp").outbox_ids == ()
    say("START", address=number, channel="sms")
    assert not opted_out(by_sms) and opted_out(by_whatsapp)
