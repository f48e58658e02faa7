"""The task queue (bot/tasks.py, bot/distributed.py): in this process by default, Dramatiq on a
real broker when CHORUS_QUEUE_URL is set; and the outbox shared by several dispatchers."""

from __future__ import annotations

import asyncio
import threading
import uuid
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import update

from bot.app import create_app
from bot.distributed import DramatiqQueue, make_broker, set_handler
from bot.settings import Settings
from bot.tasks import SEND_OUTBOX, TRANSCRIBE_VOICE, InProcessQueue, make_queue
from storage.tables import OUTBOUND
from tests.deployment import AMQP_URL, REDIS_URL, delete_queues
from tests.test_dispatcher import Recorder, dispatcher, rows


def test_the_default_is_the_in_process_queue_and_the_embedded_app_uses_it(tmp_path: Any) -> None:
    assert isinstance(make_queue(None), InProcessQueue) and not make_queue("").distributed
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'c.db'}", hash_key="k")
    assert settings.queue_url is None
    app = create_app(settings)

    async def lifespan() -> None:
        async with app.router.lifespan_context(app):
            assert isinstance(app.state.tasks, InProcessQueue)
            assert app.state.voice is not None, "voice notes are transcribed in this process"

    asyncio.run(lifespan())


def test_in_process_tasks_run_on_the_loop_their_handler_came_from() -> None:
    queue = InProcessQueue()
    ran: list[tuple[int, bool]] = []

    async def scenario() -> None:
        loop = asyncio.get_running_loop()
        done = asyncio.Event()

        def handler(inbound_id: int) -> None:
            ran.append((inbound_id, asyncio.get_running_loop() is loop))
            done.set()

        queue.register(TRANSCRIBE_VOICE, handler)
        queue.enqueue(TRANSCRIBE_VOICE, 1)  # from the loop: at once
        await asyncio.to_thread(queue.enqueue, TRANSCRIBE_VOICE, 2)  # from a thread: handed to the loop
        await asyncio.wait_for(done.wait(), 5)
        await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert ran == [(1, True), (2, True)]
    queue.enqueue(SEND_OUTBOX)  # nothing registered: nothing happens, nothing raised
    with pytest.raises(ValueError):
        queue.enqueue("no.such.task")


def test_a_broker_url_picks_rabbitmq_or_redis_and_nothing_else() -> None:
    assert type(make_broker(REDIS_URL)).__name__ == "RedisBroker"
    assert type(make_broker(AMQP_URL)).__name__ == "RabbitmqBroker"
    with pytest.raises(ValueError, match="amqp:// or redis://"):
        make_broker("kafka://127.0.0.1:9092")


@pytest.mark.parametrize("url", [AMQP_URL, REDIS_URL], ids=["rabbitmq", "redis"])
def test_a_task_sent_to_the_broker_runs_in_a_worker(url: str) -> None:
    from dramatiq import Worker

    namespace = f"chorus-test-{uuid.uuid4().hex[:10]}"
    queue = DramatiqQueue(url, namespace)
    assert queue.queues(["voice"]) == {f"{namespace}.voice"}
    received: list[int] = []
    arrived = threading.Event()
    def handle(inbound_id: int) -> None:
        received.append(inbound_id)
        arrived.set()

    set_handler(TRANSCRIBE_VOICE, handle)
    worker = Worker(queue.broker, queues=queue.queues(), worker_threads=1, worker_timeout=100)
    try:
        queue.enqueue(TRANSCRIBE_VOICE, 42)
        worker.start()
        assert arrived.wait(20), "the worker ran the task"
        assert received == [42]
    finally:
        worker.stop()
        set_handler(TRANSCRIBE_VOICE, None)
        queue.close()
        delete_queues(url, namespace)


def test_an_exclusive_dispatcher_leaves_a_participant_another_one_is_sending_to(
    service: Any, say: Callable[..., Any], clock: Any,
) -> None:
    say("WAIT")
    say("YES")
    first_id = rows(service)[0][0]
    with service.database.transaction() as connection:  # another worker is sending the first reply
        connection.execute(update(OUTBOUND).where(OUTBOUND.c.id == first_id).values(status="sending", sent_at=clock()))
    sms = Recorder("sms")
    asyncio.run(dispatcher(service, clock, sms, exclusive=True).drain())
    assert sms.sent == [], "the second reply waits, so it cannot overtake the first"
    with service.database.transaction() as connection:
        connection.execute(update(OUTBOUND).where(OUTBOUND.c.id == first_id).values(status="sent"))
    asyncio.run(dispatcher(service, clock, sms, exclusive=True).drain())
    assert [m.text for m, _ in sms.sent] == [rows_text(service)[1]]


def rows_text(service: Any) -> list[str]:
    from sqlalchemy import select

    with service.database.transaction() as connection:
        return list(connection.execute(select(OUTBOUND.c.text).order_by(OUTBOUND.c.id)).scalars())
