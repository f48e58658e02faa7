"""Found by an operator running Chorus across machines (API processes and `chorus worker`s on
PostgreSQL and RabbitMQ, the README's way) and breaking it:

* a broker that does not answer (a network partition) held every webhook of an API process
  about 15 seconds, and /health and /ready with them: publishing ran on the event loop;
* `chorus worker` ignored CHORUS_OUTBOX_LEASE: rows a killed worker left 'sending' waited the
  default two minutes whatever it said;
* `chorus worker` sent WhatsApp messages without their Delphi charts: it had no signer for
  the image links Twilio fetches from the API processes.
"""

from __future__ import annotations

import socket
import threading
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from sqlalchemy import select, update

from bot.app import build, create_app
from bot.settings import Settings
from bot.worker import WorkerRuntime
from channels.base import InboundMessage
from channels.media_links import MediaLinks, derive_key
from storage import media, outbox
from storage.tables import OUTBOUND
from tests.channel_helpers import EXAMPLE, PUBLIC_URL, SMS_FROM, provider_env, sign
from tests.deployment import REDIS_URL, delete_queues
from tests.fake_telegram import LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

PHONE = "+447700900321"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def form(sender: str, body: str) -> dict[str, str]:
    return {"MessageSid": f"SM{uuid.uuid4().hex}", "AccountSid": "AC" + "0" * 31 + "1", "From": sender, "To": SMS_FROM,
            "Body": body, "NumMedia": "0"}


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """An AMQP address that takes connections and never answers (as across a network partition)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(64)
        yield f"amqp://guest:guest@127.0.0.1:{listener.getsockname()[1]}/%2F"


def test_an_api_process_answers_webhooks_at_once_while_its_broker_does_not_answer(
        tmp_path: Path, silent_broker: str, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in provider_env(twilio=fake_twilio, twilio_url=fake_twilio.url).items():
        monkeypatch.setenv(name, value)
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'c.db'}", hash_key="test-key",
                                 studies_dir=str(EXAMPLE), queue_url=silent_broker)
    app = create_app(settings)
    with LocalServer(app) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        took = []
        for number in range(3):
            sender = f"+4477009004{number:02d}"
            started = time.monotonic()
            body = form(sender, "WAIT")
            response = client.post("/webhooks/twilio", data=body,
                                   headers={"X-Twilio-Signature": sign(PUBLIC_URL + "/webhooks/twilio", body, fake_twilio.auth_token)})
            took.append(time.monotonic() - started)
            assert response.status_code == 200 and response.headers["X-Chorus-Inbox"] == "joined"
        started = time.monotonic()
        assert client.get("/health").status_code == 200
        assert time.monotonic() - started < 2, "/health does not wait for the broker"
        assert max(took) < 3, f"each webhook is answered without waiting for the broker: {took}"
        ready = client.get("/ready")
        assert ready.status_code == 503 and "broker" in ready.text, "/ready says what is wrong"


@pytest.fixture
def worker_setup(tmp_path: Path, fake_twilio: FakeTwilio, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Settings, str]]:
    """Settings for a `chorus worker` sending through the fake Twilio, with one WhatsApp
    participant who joined (their welcome queued) and the namespace of its Redis queues."""
    for name, value in {**provider_env(twilio=fake_twilio, twilio_url=fake_twilio.url), "CHORUS_OUTBOX_LEASE": "5",
                        "CHORUS_TWILIO_WHATSAPP_RATE": "100"}.items():
        monkeypatch.setenv(name, value)
    namespace = f"chorus-test-{uuid.uuid4().hex[:10]}"
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'c.db'}", hash_key="test-key",
                                 studies_dir=str(EXAMPLE), queue_url=REDIS_URL, queue_namespace=namespace,
                                 public_url=PUBLIC_URL)
    chorus = build(settings)
    try:
        chorus.service.receive(InboundMessage("whatsapp", PHONE, "SMwait0001", "WAIT"))
    finally:
        chorus.database.dispose()
    try:
        yield settings, namespace
    finally:
        delete_queues(REDIS_URL, namespace)


def run_worker(settings: Settings) -> WorkerRuntime:
    runtime = WorkerRuntime(settings, ["outbox"], scheduler=False, threads=1)
    runtime.start()
    return runtime


def test_a_worker_sends_again_what_a_killed_worker_left_sending_after_chorus_outbox_lease(
        worker_setup: tuple[Settings, str], fake_twilio: FakeTwilio) -> None:
    settings, _ = worker_setup
    chorus = build(settings)
    left_at = datetime.now(UTC) - timedelta(seconds=30)  # claimed 30 s ago by a worker since killed
    with chorus.database.transaction() as connection:
        connection.execute(update(OUTBOUND).values(status="sending", sent_at=left_at, delivery_key="chorus-left-sending"))
    chorus.database.dispose()
    runtime = run_worker(settings)
    try:
        wait_for(lambda: fake_twilio.bodies_to(f"whatsapp:{PHONE}"), 10,
                 "the welcome sent again once the 5-second lease (not the default two minutes) ran out")
        assert [m["key"] for m in fake_twilio.messages] == ["chorus-left-sending"], "once, with the same delivery key"
    finally:
        runtime.stop()


def test_a_worker_sends_a_delphi_chart_on_whatsapp_as_a_link_the_api_accepts(
        worker_setup: tuple[Settings, str], fake_twilio: FakeTwilio) -> None:
    settings, _ = worker_setup
    chorus = build(settings)
    now = datetime.now(UTC)
    with chorus.database.transaction() as connection:
        row = connection.execute(select(OUTBOUND).limit(1)).mappings().one()
        media_id = media.store(connection, PNG, "image/png", now, "ae-waiting")
        outbox.queue(connection, [{**{k: row[k] for k in ("participant_id", "contact_id", "channel", "study_id", "session_id")},
                                   "text": "How the group scored item 1", "buttons": [], "multiple": False, "kind": "info",
                                   "created_at": now, "media_id": media_id}])
    chorus.database.dispose()
    runtime = run_worker(settings)
    try:
        wait_for(lambda: len(fake_twilio.bodies_to(f"whatsapp:{PHONE}")) == 2, 10, "the welcome and the chart")
    finally:
        runtime.stop()
    chart = fake_twilio.messages[-1]
    assert chart["media_urls"], "the chart goes with its text"
    link = urlsplit(chart["media_urls"][0])
    assert link.geturl().startswith(PUBLIC_URL + "/media/")
    query = {key: values[0] for key, values in parse_qs(link.query).items()}
    api_links = MediaLinks(derive_key(settings.address_key()), PUBLIC_URL)  # as every API process signs and checks them
    assert api_links.valid(int(link.path.rsplit("/", 1)[1]), query.get("exp"), query.get("sig"))


def test_the_broker_hand_off_coalesces_nudges_and_drops_work_while_the_broker_fails() -> None:
    from bot.handoff import HandOff
    from bot.tasks import SEND_OUTBOX, TRANSCRIBE_VOICE

    release, published = threading.Event(), []

    class Broker:
        distributed = True

        def enqueue(self, task: str, *args: int | str) -> None:
            release.wait(10)
            if task == "fail":
                raise ConnectionError("broker gone")
            published.append((task, *args))

        def close(self) -> None:
            pass

    handoff = HandOff(Broker())
    try:
        started = time.monotonic()
        for _ in range(50):
            handoff.enqueue(SEND_OUTBOX)
        handoff.enqueue(TRANSCRIBE_VOICE, 7)
        handoff.enqueue(TRANSCRIBE_VOICE, 7)
        assert time.monotonic() - started < 0.5, "enqueue never waits for the broker"
        release.set()
        wait_for(lambda: handoff.waiting() == 0, 5, "the hand-off to publish")
        time.sleep(0.05)
        assert len(published) <= 3 and (TRANSCRIBE_VOICE, 7) in published and (SEND_OUTBOX,) in published
        handoff.enqueue("fail")
        wait_for(lambda: handoff.outage.failures == 1, 5, "the failure")
        handoff.enqueue(TRANSCRIBE_VOICE, 8)  # within the back-off: dropped, a worker's sweep picks the note up
        time.sleep(0.1)
        assert (TRANSCRIBE_VOICE, 8) not in published
    finally:
        handoff.close()

