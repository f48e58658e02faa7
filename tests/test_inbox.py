"""The inbox: webhooks only store, the worker processes each stored message exactly once, in
order, after a crash too (bot/inbox.py). On SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from sqlalchemy import select

from bot.inbox import InboxWorker, InboxWriter
from bot.service import ConversationService
from channels.base import InboundMessage
from storage.tables import ANSWERS, INBOUND, OUTBOUND
from tests.threads import held_on_another_thread

PHONE = "+447700900001"


def sms(provider_id: str, text: str, address: str = PHONE) -> InboundMessage:
    return InboundMessage("sms", address, provider_id, text)


def statuses(service: ConversationService) -> list[str]:
    with service.database.transaction() as connection:
        return list(connection.execute(select(INBOUND.c.status).order_by(INBOUND.c.id)).scalars())


def outbox_steps(service: ConversationService) -> list[str | None]:
    with service.database.transaction() as connection:
        return list(connection.execute(select(OUTBOUND.c.step_id).order_by(OUTBOUND.c.id)).scalars())


def test_accepting_only_stores_and_a_retried_webhook_is_a_no_op(service: ConversationService) -> None:
    first = service.accept(sms("SM1", "WAIT"))
    assert first.status == "received" and first.inbound_id is not None
    assert service.accept(sms("SM1", "WAIT")).status == "duplicate"
    assert statuses(service) == ["received"] and outbox_steps(service) == []


def test_a_stored_message_is_processed_once_however_often_it_is_taken(service: ConversationService) -> None:
    inbound_id = service.accept(sms("SM1", "WAIT")).inbound_id
    assert inbound_id is not None
    assert service.process_inbound(inbound_id).status == "joined"
    assert service.process_inbound(inbound_id).status == "duplicate"
    assert statuses(service) == ["joined"] and len(outbox_steps(service)) == 1


def test_a_crash_while_processing_leaves_the_message_to_be_processed_again(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    inbound_id = service.accept(sms("SM1", "WAIT")).inbound_id
    assert inbound_id is not None
    real = ConversationService._route

    def dies_after_writing(self: ConversationService, *args: Any) -> Any:
        real(self, *args)  # answers, session and outbox written in the transaction...
        raise SystemExit("killed")  # ...and the process dies before it commits

    monkeypatch.setattr(ConversationService, "_route", dies_after_writing)
    with pytest.raises(SystemExit):
        service.process_inbound(inbound_id)
    monkeypatch.undo()
    assert statuses(service) == ["received"] and outbox_steps(service) == [], "rolled back"
    assert service.process_inbound(inbound_id).status == "joined"
    assert len(outbox_steps(service)) == 1


def test_the_worker_processes_a_backlog_in_order_per_participant(service: ConversationService) -> None:
    other = "+447700900002"
    for number, (text, address) in enumerate([("WAIT", PHONE), ("WAIT", other), ("YES", PHONE), ("YES", other),
                                              ("1", PHONE), ("2", other)]):
        service.accept(sms(f"SM{number}", text, address))

    async def run() -> None:
        worker = InboxWorker(service.database, service, max_in_flight=1, batch=2)  # a small window: back-pressure
        await worker.drain()
        assert worker.stats.processed == 6
        await worker.stop()

    asyncio.run(run())
    assert statuses(service) == ["joined", "joined", "processed", "processed", "processed", "processed"]
    with service.database.transaction() as connection:
        answers = connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.display).order_by(ANSWERS.c.id)).all()
    assert [tuple(a) for a in answers if a[0] == "role"] == [("role", "Patient"), ("role", "Carer or family")]


def test_the_writer_stores_a_burst_in_few_transactions(service: ConversationService, monkeypatch: pytest.MonkeyPatch) -> None:
    batches: list[int] = []
    real = service.accept_many

    def counted(messages: Any, process: bool = False) -> Any:
        batches.append(len(messages))
        return real(messages, process)

    monkeypatch.setattr(service, "accept_many", counted)

    async def run() -> list[str]:
        writer = InboxWriter(service, max_batch=50, max_waiting=20)
        results = await asyncio.gather(*(writer.store(sms(f"SM{n}", "WAIT", f"+4477009{n:05d}")) for n in range(120)))
        again = await writer.store(sms("SM7", "WAIT", "+447700900007"))
        await writer.stop()
        return [r.status for r in results] + [again.status]

    found = asyncio.run(run())
    assert found == ["received"] * 120 + ["duplicate"]
    assert sum(batches) == 121 and len(batches) < 20 and max(batches) <= 50
    assert statuses(service) == ["received"] * 120


# ----------------------------------------------------------------------------- stored and processed at once


def test_under_light_load_a_batch_is_stored_and_processed_in_one_transaction(service: ConversationService) -> None:
    commits: list[int] = []
    real = service.database.transaction

    def counted(wait: bool = True) -> Any:
        commits.append(1)
        return real(wait)

    service.database.transaction = counted  # type: ignore[method-assign]
    results = service.accept_many([sms("SM1", "WAIT"), sms("SM2", "WAIT", "+447700900002"), sms("SM3", "YES")], process=True)
    service.database.transaction = real  # type: ignore[method-assign]
    assert len(commits) == 1
    assert [r.status for r in results] == ["joined", "joined", "processed"]
    assert all(r.outbox_ids for r in results), "each reply queued, with its id for the dispatcher"
    assert statuses(service) == ["joined", "joined", "processed"]
    with service.database.transaction() as connection:
        assert None not in connection.execute(select(INBOUND.c.processed_at)).scalars().all(), "each marked when processed"
    assert outbox_steps(service) == ["consent", "consent", "role"]
    assert service.accept_many([sms("SM3", "YES")], process=True)[0].status == "duplicate"


def test_a_message_behind_one_still_waiting_for_the_worker_waits_its_turn(service: ConversationService) -> None:
    service.accept(sms("SM1", "WAIT"))  # stored only: the worker has not got to it yet
    later = service.accept_many([sms("SM2", "YES"), sms("SM3", "WAIT", "+447700900002")], process=True)
    assert [r.status for r in later] == ["received", "joined"], "the first sender's YES must not overtake their WAIT"

    async def run() -> None:
        worker = InboxWorker(service.database, service)
        await worker.drain()
        await worker.stop()

    asyncio.run(run())
    assert statuses(service) == ["joined", "processed", "joined"]
    assert outbox_steps(service) == ["consent", "consent", "role"]


def test_a_participant_busy_on_another_thread_is_left_to_the_worker(service: ConversationService) -> None:
    contact = service.accept_many([sms("SM1", "WAIT")], process=True)[0]
    assert contact.participant_id is not None
    pid = contact.participant_id
    with held_on_another_thread(lambda: service._locks.hold(pid)):  # e.g. a voice note being transcribed into their flow
        result = service.accept_many([sms("SM2", "YES")], process=True)[0]  # must not wait (nor deadlock)
    assert result.status == "received" and statuses(service) == ["joined", "received"]


def test_a_flow_failing_in_a_stored_and_processed_batch_leaves_the_batch_to_the_worker(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch
) -> None:
    service.accept_many([sms("SM1", "WAIT"), sms("SM2", "WAIT", "+447700900002")], process=True)
    route = service._route

    def broken(connection: Any, contact: Any, given: Any, *args: Any) -> tuple[str, list[int]]:
        status, ids = route(connection, contact, given, *args)
        if given.text == "boom":
            raise RuntimeError("disk on fire")
        return status, ids

    monkeypatch.setattr(service, "_route", broken)
    results = service.accept_many([sms("SM3", "boom"), sms("SM4", "YES", "+447700900002")], process=True)
    assert [r.status for r in results] == ["received", "received"], "stored, and nothing half-written"
    assert statuses(service) == ["joined", "joined", "received", "received"]

    async def run() -> None:
        worker = InboxWorker(service.database, service)
        await worker.drain()
        await worker.stop()

    asyncio.run(run())
    assert statuses(service) == ["joined", "joined", "failed", "processed"], "the bad one fails alone"


def test_the_writer_processes_light_load_and_only_stores_a_burst(service: ConversationService) -> None:
    async def run() -> tuple[list[str], list[str]]:
        writer = InboxWriter(service, max_batch=200, process_up_to=8)
        light = [await writer.store(sms(f"SL{n}", "WAIT", f"+4477008{n:05d}")) for n in range(3)]
        burst = await asyncio.gather(*(writer.store(sms(f"SB{n}", "WAIT", f"+4477009{n:05d}")) for n in range(100)))
        await writer.stop()
        return [r.status for r in light], [r.status for r in burst]

    light, burst = asyncio.run(run())
    assert light == ["joined"] * 3
    assert burst.count("received") >= 90, "a burst is only stored, for the worker"


def test_after_erasing_themselves_a_sender_can_join_again_at_once(service: ConversationService) -> None:
    first = service.accept_many([sms("SE1", "WAIT")], process=True)[0]
    asked = service.accept_many([sms("SE2", "DELETE MY DATA")], process=True)[0]
    erased = service.accept_many([sms("SE3", "YES")], process=True)[0]
    assert (first.status, asked.status, erased.status) == ("joined", "processed", "erased")
    again = service.accept_many([sms("SE4", "WAIT")], process=True)[0]
    assert again.status == "joined", "processed in its storing transaction, as a newcomer"
    assert again.participant_id != first.participant_id


def test_the_same_message_twice_in_one_batch_is_stored_once(service: ConversationService) -> None:
    for process in (False, True):
        n = int(process)
        results = service.accept_many([sms(f"SD{n}", "WAIT", f"+44770090{n}100"), sms(f"SD{n}", "WAIT", f"+44770090{n}100"),
                                       sms(f"SE{n}", "WAIT", f"+44770090{n}200")], process=process)
        assert [r.status for r in results][1] == "duplicate"
        assert results[0].inbound_id is not None and results[2].inbound_id is not None
        assert results[0].inbound_id < results[2].inbound_id, "ids in arrival order"
    assert len(statuses(service)) == 4


def test_the_next_batch_goes_to_the_database_before_the_last_ones_webhooks_are_answered(service: ConversationService) -> None:
    """Written in a thread (PostgreSQL's way): what arrived while a batch was written goes to
    the thread as soon as that batch is committed, so its round trips overlap the answering;
    a sender's messages still go in order."""
    first_held = threading.Event()
    real = service.accept_many

    def held(messages: Any, process: bool = False, wait: bool = True) -> Any:
        if messages[0].provider_id == "SC1":
            first_held.wait(10)
        return real(messages, process, wait)

    service.accept_many = held  # type: ignore[method-assign]
    events: list[tuple[str, list[str]]] = []

    async def run() -> list[str]:
        writer = InboxWriter(service, process_up_to=8)
        to_thread, answer = writer._in_thread, writer._answer

        def noted_to_thread(batch: Any) -> Any:
            events.append(("to thread", [message.provider_id for message, _ in batch]))
            return to_thread(batch)

        def noted_answer(batch: Any, outcome: Any) -> None:
            events.append(("answered", [message.provider_id for message, _ in batch]))
            answer(batch, outcome)

        writer._in_thread, writer._answer = noted_to_thread, noted_answer  # type: ignore[method-assign]
        first = asyncio.ensure_future(writer.store(sms("SC1", "WAIT")))
        await asyncio.sleep(0.05)  # SC1's batch is being written
        later = [asyncio.ensure_future(writer.store(sms("SC2", "YES"))),
                 asyncio.ensure_future(writer.store(sms("SC3", "WAIT", "+447700900002")))]
        await asyncio.sleep(0.05)
        first_held.set()
        results = await asyncio.gather(first, *later)
        await writer.stop()
        return [r.status for r in results]

    assert asyncio.run(run()) == ["joined", "processed", "joined"]
    assert events == [("to thread", ["SC1"]), ("to thread", ["SC2", "SC3"]), ("answered", ["SC1"]), ("answered", ["SC2", "SC3"])]
    assert statuses(service) == ["joined", "processed", "joined"] and outbox_steps(service) == ["consent", "role", "consent"]


def test_webhooks_are_stored_while_asyncios_default_thread_pool_is_busy(service: ConversationService) -> None:
    """The writer has its own thread: a pool of provider sends hanging for their whole timeout
    (or any other work in asyncio's default pool) must not keep a webhook's message from being
    stored before the provider's webhook timeout."""
    release = threading.Event()

    async def run() -> str:
        loop = asyncio.get_running_loop()
        blockers = [loop.run_in_executor(None, release.wait, 30) for _ in range(64)]  # every default thread taken
        writer = InboxWriter(service, process_up_to=8)
        try:
            result = await asyncio.wait_for(writer.store(sms("SB1", "WAIT")), 10)
        finally:
            release.set()
            await asyncio.gather(*blockers)
            await writer.stop()
        return result.status

    assert asyncio.run(run()) == "joined"
    assert statuses(service) == ["joined"]


def test_on_sqlite_the_writer_writes_on_the_event_loop_unless_another_writer_is_busy(service: ConversationService) -> None:
    """On PostgreSQL every batch goes to a thread: its round trips must not hold up the loop."""
    threads: list[str] = []
    real = service.accept_many

    def noted(messages: Any, process: bool = False, wait: bool = True) -> Any:
        threads.append(threading.current_thread().name)
        return real(messages, process, wait)

    service.accept_many = noted  # type: ignore[method-assign]

    async def run() -> tuple[str, str, bool]:
        writer = InboxWriter(service, process_up_to=8, on_loop=True)
        writer.slow_batch = 60  # however slow this machine, no batch sends the next to a thread here
        first = await writer.store(sms("SW1", "WAIT"))
        with held_on_another_thread(service.database.transaction):  # e.g. the scheduler's tick, in its own thread
            pending = asyncio.ensure_future(writer.store(sms("SW2", "YES")))
            await asyncio.sleep(0.2)
            loop_free = not pending.done()
        second = await pending
        await writer.stop()
        return first.status, second.status, loop_free

    first, second, loop_free = asyncio.run(run())
    assert (first, second) == ("joined", "processed")
    main = threading.main_thread().name
    if service.database.is_sqlite:
        assert loop_free, "the loop ran on while the batch waited in a thread"
        assert threads[0] == main, "a free database: written on the loop"
        assert threads[-1] != main and threads[-2:-1] == [main], "busy: tried on the loop, then waited for in a thread"
    else:
        assert len(threads) == 2 and main not in threads
    assert statuses(service) == ["joined", "processed"] and outbox_steps(service) == ["consent", "role"]


def test_after_a_batch_that_held_the_event_loop_too_long_batches_go_to_a_thread(service: ConversationService) -> None:
    threads: list[str] = []
    real = service.accept_many

    def slow_first(messages: Any, process: bool = False, wait: bool = True) -> Any:
        threads.append(threading.current_thread().name)
        if len(threads) == 1:  # e.g. the first Delphi chart of a round being drawn: 0.15 s of CPU
            busy_until = time.thread_time() + 0.15
            while time.thread_time() < busy_until:
                pass
        return real(messages, process, wait)

    service.accept_many = slow_first  # type: ignore[method-assign]

    async def run() -> list[str]:
        writer = InboxWriter(service, process_up_to=8, on_loop=True)
        results = [await writer.store(sms(f"SL{n}", "WAIT", f"+4477008{n:05d}")) for n in range(3)]
        await writer.stop()
        return [r.status for r in results]

    assert asyncio.run(run()) == ["joined"] * 3
    main = threading.main_thread().name
    if service.database.is_sqlite:
        assert threads[0] == main and main not in threads[1:], "after a slow batch, a thread for a while"
    else:
        assert main not in threads
