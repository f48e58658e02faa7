"""Group commit: the inbox worker processes a batch of stored messages in ONE transaction
(ConversationService.process_batch), exactly once, each participant's messages in order,
a failing message alone. On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import contextlib
import threading
from typing import Any

import pytest
from sqlalchemy import func, select

from bot.inbox import InboxWorker
from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage
from storage.batching import Deferred
from storage.database import Database
from storage.tables import (
    ANSWERS,
    AUDIT_EVENTS,
    ENROLMENTS,
    INBOUND,
    OUTBOUND,
    PARTICIPANTS,
    SESSIONS,
)


def _count(database: Database, table: Any, *where: Any) -> int:
    with database.transaction() as connection:
        return int(connection.execute(select(func.count()).select_from(table).where(*where)).scalar_one())


def _stored(service: ConversationService, address: str, sid: str, text: str) -> tuple[int, str]:
    result = service.accept(InboundMessage("sms", address, sid, text))
    assert result.inbound_id is not None and result.participant_id is not None
    return result.inbound_id, result.participant_id


def _steps(database: Database) -> list[str]:
    with database.transaction() as connection:
        return list(connection.execute(select(ANSWERS.c.step_id).order_by(ANSWERS.c.id)).scalars())


def _statuses(database: Database) -> list[str]:
    with database.transaction() as connection:
        return list(connection.execute(select(INBOUND.c.status).order_by(INBOUND.c.id)).scalars())


def _calls(monkeypatch: pytest.MonkeyPatch, *names: str) -> list[str]:
    """The names of these storage.repository functions, each time one is called from now on."""
    from storage import repository

    calls: list[str] = []
    for name in names:
        real = getattr(repository, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            calls.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(repository, name, counted)
    return calls


def test_a_batch_is_one_transaction_and_processes_each_message_once(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = [_stored(service, f"+4477009000{i:02d}", f"j-{i}", "WAIT") for i in range(5)]
    opened = 0
    real = database.transaction

    def counted() -> Any:
        nonlocal opened
        opened += 1
        return real()

    monkeypatch.setattr(database, "transaction", counted)
    results = service.process_batch([*work, work[0]])
    monkeypatch.undo()
    assert opened == 1
    assert [r.status for r in results] == ["joined"] * 5 + ["duplicate"]
    assert all(r.outbox_ids for r in results[:5]) and results[5].outbox_ids == ()
    assert _count(database, OUTBOUND) == 5
    assert [r.status for r in service.process_batch(work)] == ["duplicate"] * 5, "claimed already"
    assert _count(database, OUTBOUND) == 5 and _statuses(database) == ["joined"] * 5


def test_one_participants_messages_in_a_batch_run_in_order(service: ConversationService, database: Database) -> None:
    address = "+447700900001"
    work = [_stored(service, address, f"a-{n}", text) for n, text in enumerate(["WAIT", "yes", "1"])]
    results = service.process_batch(work)
    assert [r.status for r in results] == ["joined", "processed", "processed"]
    assert _steps(database) == ["consent", "role"]


def test_a_failing_message_fails_alone(service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch) -> None:
    service.process_batch([_stored(service, "+447700900001", "j-1", "WAIT"), _stored(service, "+447700900002", "j-2", "WAIT")])
    route = service._route

    def broken(connection: Any, contact: Any, given: Any, *args: Any) -> tuple[str, list[int]]:
        status, ids = route(connection, contact, given, *args)  # writes, then fails: all of it must be undone
        if given.text == "boom":
            raise RuntimeError("disk on fire")
        return status, ids

    monkeypatch.setattr(service, "_route", broken)
    answers = _count(database, ANSWERS)
    results = service.process_batch([_stored(service, "+447700900001", "b-1", "boom"),
                                     _stored(service, "+447700900002", "b-2", "yes")])
    assert [r.status for r in results] == ["failed", "processed"]
    assert results[0].outbox_ids == () and results[1].outbox_ids
    assert _count(database, ANSWERS) == answers + 1, "only the good message's answer"
    with database.transaction() as connection:
        status, error = connection.execute(
            select(INBOUND.c.status, INBOUND.c.error).where(INBOUND.c.id == results[0].inbound_id)).one()
    assert status == "failed" and "RuntimeError" in error
    monkeypatch.undo()
    assert service.process_batch([_stored(service, "+447700900001", "b-3", "yes")])[0].status == "processed"


def test_a_crash_in_a_batch_leaves_every_message_received(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = [_stored(service, f"+4477009000{i:02d}", f"c-{i}", "WAIT") for i in range(3)]
    route, seen = service._route, []

    def dies(*args: Any) -> Any:
        seen.append(route(*args))
        if len(seen) == 2:
            raise SystemExit("killed")  # the process dies before the commit
        return seen[-1]

    monkeypatch.setattr(service, "_route", dies)
    with pytest.raises(SystemExit):
        service.process_batch(work)
    monkeypatch.undo()
    assert _statuses(database) == ["received"] * 3 and _count(database, OUTBOUND) == 0
    assert [r.status for r in service.process_batch(work)] == ["joined"] * 3


def test_two_workers_taking_the_same_batch_process_it_once(service: ConversationService, database: Database) -> None:
    work = [_stored(service, f"+4477009000{i:02d}", f"t-{i}", text) for i in range(4) for text in ["WAIT"]]
    results: list[list[ReceiveResult]] = []
    start = threading.Barrier(2)

    def take() -> None:
        start.wait()
        results.append(service.process_batch(work))

    threads = [threading.Thread(target=take) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    statuses = sorted(r.status for batch in results for r in batch)
    assert statuses == ["duplicate"] * 4 + ["joined"] * 4
    assert _count(database, OUTBOUND) == 4


def test_the_worker_takes_a_backlog_in_few_batches(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [f"+4477009001{i:02d}" for i in range(10)]
    for n, text in enumerate(["WAIT", "yes", "1"]):
        for i, address in enumerate(people):
            service.accept(InboundMessage("sms", address, f"w-{n}-{i}", text))
    sizes: list[int] = []
    real = service.process_batch

    def counted(work: Any) -> Any:
        sizes.append(len(work))
        return real(work)

    monkeypatch.setattr(service, "process_batch", counted)

    async def run() -> int:
        worker = InboxWorker(database, service)
        stats = await worker.drain()
        await worker.stop()
        return stats.processed

    assert asyncio.run(run()) == 30
    assert sum(sizes) == 30 and len(sizes) <= 4
    assert _steps(database).count("role") == 10 and set(_statuses(database)) == {"joined", "processed"}


def test_a_batch_that_cannot_be_written_is_retried_one_message_at_a_time(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    for i in range(3):
        service.accept(InboundMessage("sms", f"+4477009002{i:02d}", f"r-{i}", "WAIT"))
    calls: list[int] = []
    real = service.process_batch

    def flaky(work: Any) -> Any:
        calls.append(len(work))
        if len(work) > 1:
            raise RuntimeError("commit failed")
        return real(work)

    monkeypatch.setattr(service, "process_batch", flaky)

    async def run() -> None:
        worker = InboxWorker(database, service, threads=1)  # one batch (on PostgreSQL too)
        await worker.drain()
        await worker.stop()

    asyncio.run(run())
    assert calls == [3, 1, 1, 1]
    assert _statuses(database) == ["joined"] * 3


def test_messages_after_an_erasure_in_the_same_batch_go_with_their_sender(service: ConversationService, database: Database) -> None:
    address, other = "+447700900001", "+447700900002"
    service.process_batch([_stored(service, address, "e-1", "WAIT"), _stored(service, address, "e-2", "delete my data")])
    work = [_stored(service, address, "e-3", "yes"), _stored(service, other, "e-4", "WAIT"), _stored(service, address, "e-5", "1")]
    results = service.process_batch(work)
    assert [r.status for r in results] == ["erased", "joined", "duplicate"]
    with database.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(INBOUND)).scalar_one() == 1, "only the other's message"
    assert service.process_batch(work)[2].status == "duplicate"


def test_a_batch_writes_its_messages_answers_sessions_and_replies_together(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = [f"+4477009003{i:02d}" for i in range(4)]
    service.process_batch([_stored(service, address, f"w-{n}", "WAIT") for n, address in enumerate(people)])
    written: list[tuple[int, int, int]] = []
    real = Deferred.write

    def counted(self: Deferred, connection: Any, commit: bool = False, reread: Any = ()) -> Any:
        written.append((len(self.answers), len(self.sessions), len(self.replies)))
        return real(self, connection, commit, reread)

    monkeypatch.setattr(Deferred, "write", counted)
    results = service.process_batch([_stored(service, address, f"y-{n}", "yes") for n, address in enumerate(people)])
    assert written == [(4, 4, 4)], "one write for the four messages' answers, sessions and replies"
    with database.transaction() as connection:
        for result in results:  # each result names its own reply, and the reply is the next question
            assert result.status == "processed" and len(result.outbox_ids) == 1
            row = connection.execute(select(OUTBOUND.c.participant_id, OUTBOUND.c.step_id)
                                     .where(OUTBOUND.c.id == result.outbox_ids[0])).one()
            assert row == (result.participant_id, "role")
        states = connection.execute(select(SESSIONS.c.state)).scalars().all()
    assert [s["step"] for s in states] == ["role"] * 4
    assert _steps(database) == ["consent"] * 4


def test_a_participants_second_message_in_a_batch_sees_what_the_first_wrote(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    address, other = "+447700900401", "+447700900402"
    service.process_batch([_stored(service, address, "s-1", "WAIT"), _stored(service, other, "s-2", "WAIT")])
    work = [_stored(service, address, "s-3", "yes"), _stored(service, other, "s-4", "yes"), _stored(service, address, "s-5", "1")]
    results = service.process_batch(work)
    assert [r.status for r in results] == ["processed"] * 3
    ids = [r.outbox_ids for r in results]
    assert all(len(i) == 1 for i in ids) and ids[0][0] < ids[2][0], "the first reply is queued (and sent) first"
    assert sorted(_steps(database)) == ["consent", "consent", "role"]


def test_a_batch_whose_held_writes_fail_is_redone_message_by_message(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    people = ["+447700900501", "+447700900502"]
    service.process_batch([_stored(service, address, f"f-{n}", "WAIT") for n, address in enumerate(people)])
    outbox_before, answers_before = _count(database, OUTBOUND), _count(database, ANSWERS)

    def fails(self: Deferred, connection: Any, commit: bool = False, reread: Any = ()) -> None:
        raise RuntimeError("lost connection")

    monkeypatch.setattr(Deferred, "write", fails)
    results = service.process_batch([_stored(service, address, f"g-{n}", "yes") for n, address in enumerate(people)])
    assert [r.status for r in results] == ["processed"] * 2 and all(len(r.outbox_ids) == 1 for r in results)
    assert _count(database, OUTBOUND) == outbox_before + 2 and _count(database, ANSWERS) == answers_before + 2


def test_a_held_write_the_database_refuses_redoes_the_batch_and_loses_nothing(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL the held writes go in one pipeline, so the refusal surfaces only when its
    results are read: the batch must still be rolled back whole and redone carefully."""
    from storage import repository

    people = ["+447700900511", "+447700900512"]
    service.process_batch([_stored(service, address, f"h-{n}", "WAIT") for n, address in enumerate(people)])
    outbox_before, answers_before = _count(database, OUTBOUND), _count(database, ANSWERS)
    real, calls = repository.add_answers, []

    def once_with_an_orphan(connection: Any, rows: list[dict[str, Any]]) -> None:
        calls.append(len(rows))
        orphan = [{**rows[0], "participant_id": "p-nobody"}] if len(calls) == 1 else []
        real(connection, rows + orphan)  # the first time, an answer whose participant does not exist

    monkeypatch.setattr(repository, "add_answers", once_with_an_orphan)
    results = service.process_batch([_stored(service, address, f"i-{n}", "yes") for n, address in enumerate(people)])
    assert calls[0] == 2 and len(calls) > 1, "the quick batch was refused and redone"
    assert [r.status for r in results] == ["processed"] * 2 and all(len(r.outbox_ids) == 1 for r in results)
    assert _count(database, OUTBOUND) == outbox_before + 2 and _count(database, ANSWERS) == answers_before + 2
    with database.transaction() as connection:
        assert connection.execute(select(ANSWERS.c.id).where(ANSWERS.c.participant_id == "p-nobody")).first() is None


def test_a_batch_that_waits_for_a_senders_lock_reads_what_the_holder_committed(
    service: ConversationService, database: Database
) -> None:
    """The locks are taken with the batch's reads, in one round trip to PostgreSQL: the reads
    must still run only once the locks are held (another process's batch of the same sender)."""
    from sqlalchemy import update

    from storage import batching

    inbound_id, pid = _stored(service, "+447700900521", "l-1", "WAIT")
    service.process_batch([(inbound_id, pid)])
    locked, finished = threading.Event(), threading.Event()

    def other_batch() -> None:
        with database.transaction() as connection:
            batching.lock_participants(connection, [pid])
            connection.execute(update(SESSIONS).where(SESSIONS.c.participant_id == pid).values(state={"step": "elsewhere"}))
            locked.set()
            finished.wait(0.3)  # still holding the lock when the batch below asks for it

    holder = threading.Thread(target=other_batch)
    holder.start()
    assert locked.wait(10)
    with database.transaction() as connection:
        known = batching.preload(connection, [pid], lock=[pid]).take(pid)
    holder.join()
    assert known is not None and known.session is not None and known.session.state == {"step": "elsewhere"}


def test_a_batch_reads_what_it_needs_of_its_senders_together(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    from storage import outbox, repository

    one_by_one: list[str] = []
    for module, name in ((repository, "load_participant"), (repository, "enrolments_of"), (repository, "latest_session"),
                         (outbox, "last_kind"), (repository, "replace_live_sessions")):
        real = getattr(module, name)

        def counted(*args: Any, _real: Any = real, _name: str = name, **kwargs: Any) -> Any:
            one_by_one.append(_name)
            return _real(*args, **kwargs)

        monkeypatch.setattr(module, name, counted)
    people = [f"+4477009006{i:02d}" for i in range(3)]
    for n, text in enumerate(["WAIT", "yes"]):  # joining, consenting
        results = service.process_batch([_stored(service, address, f"r-{n}-{i}", text) for i, address in enumerate(people)])
        assert len({r.status for r in results}) == 1 and results[0].status in {"joined", "processed"}
    roles = ["1", "2", "1"]  # the answer is saved to participant.group: a change to the profile, held with the batch's
    results = service.process_batch([_stored(service, address, f"r-2-{i}", role) for i, (address, role) in enumerate(zip(people, roles, strict=True))])
    assert one_by_one == [], "nothing read one participant at a time"
    monkeypatch.undo()
    assert _steps(database).count("role") == 3
    with database.transaction() as connection:
        groups = [(repository.load_participant(connection, r.participant_id or "").fields.get("group"),
                   repository.enrolments_of(connection, r.participant_id or "")[0].group) for r in results]
    assert groups == [("patient", "patient"), ("carer", "carer"), ("patient", "patient")]


def test_new_senders_arriving_together_are_looked_up_and_created_together(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    one_by_one = _calls(monkeypatch, "find_contact", "create_participant")
    known = service.accept_many([InboundMessage("sms", "+447700900700", "n-0", "WAIT")], process=True)[0]
    service._contacts.clear()  # as another process would: it has never met this sender
    burst = [InboundMessage("sms", address, f"n-{n}", "WAIT") for n, address in
             enumerate(["+447700900701", "+447700900702", "+447700900700", "+447700900701"], start=1)]
    results = service.accept_many(burst, process=True)
    assert one_by_one == []
    assert results[2].participant_id == known.participant_id, "a known sender is found, not made again"
    assert results[0].participant_id == results[3].participant_id != results[1].participant_id
    assert [r.status for r in results] == ["joined", "joined", "processed", "processed"]
    with database.transaction() as connection:
        assert connection.execute(select(func.count()).select_from(PARTICIPANTS)).scalar_one() == 3
        joins = connection.execute(select(AUDIT_EVENTS.c.subject, AUDIT_EVENTS.c.detail)
                                   .where(AUDIT_EVENTS.c.action == "enrolled").order_by(AUDIT_EVENTS.c.id)).all()
    assert [subject for subject, _ in joins] == [known.participant_id, results[0].participant_id, results[1].participant_id]
    studies = {detail["study"] for _, detail in joins}
    assert len(studies) == 1 and studies <= set(service.studies.ids()), "each join is in the audit trail, held or not"


def test_a_sender_erased_by_another_process_is_made_anew_and_their_message_kept(
    service: ConversationService, database: Database
) -> None:
    """This process remembers the sender; another erased them meanwhile. Storing the message
    then breaks a constraint: the sender is looked up again, made anew, and the message
    stored for the inbox worker."""
    from bot.service import ConversationService as Service
    from tests.db_fixtures import TEST_ADDRESS_KEY

    first = service.accept_many([InboundMessage("sms", "+447700900801", "e-1", "WAIT")], process=True)[0]
    assert first.status == "joined" and first.participant_id is not None
    other = Service(database, service.studies, service.clock, address_key=TEST_ADDRESS_KEY)
    assert other.erase(first.participant_id, "test") is not None
    again = service.accept_many([InboundMessage("sms", "+447700900801", "e-2", "WAIT"),
                                 InboundMessage("sms", "+447700900802", "e-3", "WAIT")], process=True)
    assert again[0].participant_id not in {None, first.participant_id}
    assert [r.status for r in again] == ["received", "received"], "stored for the inbox worker"
    with database.transaction() as connection:
        rows = connection.execute(select(INBOUND.c.provider_id, INBOUND.c.participant_id, INBOUND.c.status)
                                  .order_by(INBOUND.c.id)).all()
    assert [(r[0], r[2]) for r in rows] == [("e-2", "received"), ("e-3", "received")]
    assert rows[0][1] == again[0].participant_id


def test_joining_a_second_study_amid_newcomers_makes_the_new_conversation_the_latest(database: Database, clock: Any) -> None:
    from pathlib import Path

    from bot.safeguarding import checks_from_env
    from bot.studies import StudyRegistry
    from storage import repository
    from tests.db_fixtures import TEST_ADDRESS_KEY

    examples = Path(__file__).resolve().parent.parent / "flows" / "examples"
    service = ConversationService(database, StudyRegistry.from_folder(examples), clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    veteran = "+447700900800"
    service.process_batch([_stored(service, veteran, "v-1", "WAIT"), _stored(service, veteran, "v-2", "yes")])
    newcomers = [f"+4477009008{i:02d}" for i in range(1, 4)]
    work = [_stored(service, address, f"v-n{i}", "PRIORITY") for i, address in enumerate(newcomers)]
    work.insert(1, _stored(service, veteran, "v-3", "PRIORITY"))  # the veteran joins the second study among them
    results = service.process_batch(work)
    assert [r.status for r in results] == ["joined"] * 4
    with database.transaction() as connection:
        for result in results:
            latest = repository.latest_session(connection, result.participant_id or "")
            assert latest is not None and (latest.study_id, latest.flow_id) == ("priorities", "round1")
            assert {e.study_id for e in repository.enrolments_of(connection, result.participant_id or "")} >= {"priorities"}
    follow_up = service.process_batch([_stored(service, veteran, "v-4", "yes")])[0]
    assert follow_up.status == "processed"
    with database.transaction() as connection:
        asked = connection.execute(select(OUTBOUND.c.step_id).where(OUTBOUND.c.id == follow_up.outbox_ids[0])).scalar_one()
    assert asked == "role", "the veteran's YES went to the new study's consent, not the old conversation"


def test_joins_in_a_quick_batch_are_written_with_its_other_writes(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On PostgreSQL a quick batch takes its joins' enrolment and session ids from the
    sequences with its reads, and inserts them with its answers and replies (no single-row
    INSERT per join); SQLite inserts them as it goes. Either way each newcomer ends up with
    one enrolment and one session in the state the flow left it, and their next answer is
    recorded against that session."""
    from storage import repository

    one_by_one = _calls(monkeypatch, "enrol", "create_session")
    addresses = [f"+4477009009{i:02d}" for i in range(4)]
    veteran = service.accept_many([InboundMessage("sms", "+447700900999", "q-0", "WAIT")], process=True)[0]
    one_by_one.clear()
    joined = service.accept_many([InboundMessage("sms", a, f"q-{n}", "WAIT") for n, a in enumerate(addresses, start=1)]
                                 + [InboundMessage("sms", "+447700900999", "q-5", "WAIT")], process=True)
    assert [r.status for r in joined] == ["joined"] * 4 + ["processed"], "the veteran's WAIT is an answer, not a join"
    assert one_by_one == ([] if database.is_postgres else ["enrol", "create_session"] * 4)
    answered = service.accept_many([InboundMessage("sms", a, f"q-{n}", "YES") for n, a in enumerate(addresses, start=6)],
                                   process=True)
    assert [r.status for r in answered] == ["processed"] * 4
    with database.transaction() as connection:
        for result in joined[:4]:
            pid = result.participant_id or ""
            enrolments, session = repository.enrolments_of(connection, pid), repository.latest_session(connection, pid)
            assert len(enrolments) == 1 and session is not None
            assert session.status == "waiting" and session.state.get("step") not in {None, ""}, "inserted as the flow left it"
            steps = connection.execute(select(ANSWERS.c.session_id).where(ANSWERS.c.participant_id == pid)).scalars().all()
            assert steps == [session.id], "the next answer is the session's"
        sessions = connection.execute(select(SESSIONS.c.id)).scalars().all()
    assert len(sessions) == len(set(sessions)) == 5 and veteran.participant_id not in {r.participant_id for r in joined[:4]}


def test_a_quick_batch_with_no_reserved_id_left_inserts_its_joins_as_it_goes(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(Deferred, "reserve", lambda self, table: None)
    results = service.accept_many([InboundMessage("sms", f"+4477009010{i:02d}", f"r-{i}", "WAIT") for i in range(3)], process=True)
    assert [r.status for r in results] == ["joined"] * 3 and all(r.outbox_ids for r in results)
    assert _count(database, SESSIONS) == 3 and _count(database, ENROLMENTS) == 3


def test_a_new_sender_another_process_created_meanwhile_is_stored_once_under_theirs(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The look-up did not find the address; another process created it before this batch
    stored its new sender. Creating it again breaks the unique address: the batch is rolled
    back and stored again, the sender found this time; nothing is lost or doubled."""
    from bot.service import ConversationService as Service
    from storage import batching
    from tests.db_fixtures import TEST_ADDRESS_KEY

    other = Service(database, service.studies, service.clock, address_key=TEST_ADDRESS_KEY)
    theirs = other.accept_many([InboundMessage("sms", "+447700901100", "s-1", "WAIT")], process=True)[0]
    real, looks = batching.find_senders, []

    def before_they_committed(connection: Any, hashes: Any, ids: Any) -> Any:
        looks.append(hashes)  # the first look-up misses theirs; a look-up again finds it
        found, waiting = real(connection, hashes, ids)
        return ({} if len(looks) == 1 else found), waiting

    monkeypatch.setattr(batching, "find_senders", before_they_committed)
    results = service.accept_many([InboundMessage("sms", "+447700901100", "s-2", "YES"),
                                   InboundMessage("sms", "+447700901101", "s-3", "WAIT")], process=True)
    monkeypatch.undo()
    assert len(looks) >= 2, "the batch was stored again after the broken constraint"
    assert results[0].participant_id == theirs.participant_id and results[1].participant_id != theirs.participant_id
    assert _count(database, PARTICIPANTS) == 2
    assert _statuses(database) == ["joined", "received", "received"], "stored for the inbox worker, once each"


def _round_trips(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """What Chorus waits for the database server for, from now on: a batch of statements sent
    together (storage/wire.py), a statement sent on its own through psycopg (its BEGIN too,
    when it opens a transaction), a psycopg pipeline or a wait for results within one (a
    "sync"), a COMMIT or ROLLBACK that has a transaction to end."""
    import psycopg
    from psycopg._pipeline_base import BasePipeline
    from psycopg.pq import TransactionStatus

    from storage.wire import Batch

    trips: list[str] = []
    execute, pipeline, commit = psycopg.Cursor.execute, psycopg.Connection.pipeline, psycopg.Connection.commit
    sync, send = BasePipeline._sync_gen, Batch.send

    def counted_execute(self: Any, *args: Any, **kwargs: Any) -> Any:
        if self.connection._pipeline is None:
            idle = self.connection.info.transaction_status == TransactionStatus.IDLE
            trips.extend(["begin"] if idle and not self.connection.autocommit else [])
            trips.append("statement")
        return execute(self, *args, **kwargs)

    @contextlib.contextmanager
    def counted_pipeline(self: Any) -> Any:
        outermost = self._pipeline is None
        with pipeline(self) as opened:
            yield opened
        trips.extend(["pipeline"] if outermost else [])

    def counted_sync(self: Any) -> Any:
        trips.append("sync")
        return (yield from sync(self))

    def counted_send(self: Any) -> None:
        trips.append("batch")
        send(self)

    def counted_commit(self: Any) -> None:
        trips.extend(["commit"] if self.info.transaction_status != TransactionStatus.IDLE else [])
        commit(self)

    monkeypatch.setattr(psycopg.Cursor, "execute", counted_execute)
    monkeypatch.setattr(psycopg.Connection, "pipeline", counted_pipeline)
    monkeypatch.setattr(psycopg.Connection, "commit", counted_commit)
    monkeypatch.setattr(BasePipeline, "_sync_gen", counted_sync)
    monkeypatch.setattr(Batch, "send", counted_send)
    return trips


@pytest.mark.parametrize("database_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_on_postgresql_a_webhook_batch_is_three_round_trips_whoever_sends_it(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Answers from known senders, a new sender joining and one whose earlier message still
    waits for the inbox worker: one round trip to look them up, one to store and lock and
    read, one to write and commit."""
    from storage import repository

    people = [f"+4477009012{i:02d}" for i in range(3)]
    service.accept_many([InboundMessage("sms", a, f"t-{n}", "WAIT") for n, a in enumerate(people)], process=True)
    waiting = service.accept(InboundMessage("sms", people[2], "t-3", "YES"))
    assert waiting.status == "received"
    trips = _round_trips(monkeypatch)
    results = service.accept_many([InboundMessage("sms", people[0], "t-4", "YES"), InboundMessage("sms", people[1], "t-5", "NO"),
                                   InboundMessage("sms", "+447700901299", "t-6", "WAIT"),
                                   InboundMessage("sms", people[2], "t-7", "1")], process=True)
    monkeypatch.undo()
    assert [r.status for r in results] == ["processed", "processed", "joined", "received"]
    assert trips == ["batch"] * 3
    with database.transaction() as connection:  # committed, and whole
        new = repository.latest_session(connection, results[2].participant_id or "")
        assert new is not None and new.state["step"] == "consent"
        assert connection.execute(select(func.count()).select_from(OUTBOUND).where(OUTBOUND.c.id.in_(
            [i for r in results for i in r.outbox_ids]))).scalar_one() == 3


@pytest.mark.parametrize("database_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])
def test_on_postgresql_an_inbox_worker_batch_takes_a_round_trip_per_step_not_per_message(
    service: ConversationService, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A burst stored for the inbox worker: answers, a second message from one sender and a
    new sender joining. One round trip locks the senders and claims their messages (with the
    BEGIN), one reads them, one reads what was last sent to the newcomer (who has no session
    yet), one writes what came before the second message and reads its sender again, and the
    last writes the rest with the COMMIT."""
    people = [f"+4477009013{i:02d}" for i in range(2)]
    service.accept_many([InboundMessage("sms", a, f"w-{n}", "WAIT") for n, a in enumerate(people)], process=True)
    stored = [service.accept(InboundMessage("sms", people[0], "w-2", "YES")), service.accept(InboundMessage("sms", people[1], "w-3", "NO")),
              service.accept(InboundMessage("sms", "+447700901399", "w-4", "WAIT")), service.accept(InboundMessage("sms", people[0], "w-5", "1"))]
    assert {r.status for r in stored} == {"received"}
    trips = _round_trips(monkeypatch)
    results = service.process_batch([(r.inbound_id or 0, r.participant_id or "") for r in stored])
    monkeypatch.undo()
    assert [r.status for r in results] == ["processed", "processed", "joined", "processed"]
    assert trips == ["batch"] * 5
    assert _statuses(database) == ["joined", "joined", "processed", "processed", "joined", "processed"], "committed, and whole"
    with database.transaction() as connection:  # the second message ran on what the first one wrote
        from storage import repository
        session = repository.latest_session(connection, stored[0].participant_id or "")
        assert session is not None and session.state["values"].get("role") and session.state["step"] not in ("consent", "role")
    assert service.process_batch([(r.inbound_id or 0, r.participant_id or "") for r in stored])[0].status == "duplicate"


@pytest.mark.parametrize("database_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])
@pytest.mark.parametrize("ending", ["its own COMMIT", "SQLAlchemy's commit", "an error"])
def test_on_postgresql_a_transaction_the_driver_began_leaves_its_connection_transactional(database: Database, ending: str) -> None:
    """The driver sends a transaction's BEGIN itself, past psycopg. However the transaction
    ends, psycopg ends it (or finds it ended), and the connection goes back to the pool idle
    and out of autocommit mode: what the next user writes on it is still one transaction."""
    from psycopg.pq import TransactionStatus

    from storage.driver import Driver

    with contextlib.suppress(RuntimeError), database.transaction() as connection:
        raw: Any = connection.connection.driver_connection
        driver = Driver.of(connection)
        with driver.pipelined():
            driver.execute("INSERT INTO audit_events (at, actor, action, detail) VALUES (now(), 'test', 'began', '{}')")
        assert not raw.autocommit and raw.info.transaction_status == TransactionStatus.INTRANS
        if ending == "its own COMMIT":
            with driver.pipelined():
                driver.execute("COMMIT")
        elif ending == "an error":
            raise RuntimeError("the batch failed")
    assert not raw.autocommit and raw.info.transaction_status == TransactionStatus.IDLE
    raw.execute("INSERT INTO audit_events (at, actor, action, detail) VALUES (now(), 'test', 'not kept', '{}')")
    raw.rollback()
    with database.transaction() as connection:
        kept = connection.execute(select(AUDIT_EVENTS.c.action).where(AUDIT_EVENTS.c.actor == "test")).scalars().all()
    assert kept == ([] if ending == "an error" else ["began"])
