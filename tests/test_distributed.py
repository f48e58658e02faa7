"""The distributed mode for real: PostgreSQL, RabbitMQ, two ``chorus serve`` API processes and
two ``chorus worker`` processes, with participants' messages posted as signed Twilio
webhooks alternately to both APIs, and the fake Twilio Messages API receiving the replies.

What must hold: every reply reaches the provider exactly once and in order, every answer is
stored once, a webhook retried by Twilio to the other API process changes nothing, and a
voice note is transcribed by a worker (the API processes have no transcriber).
"""

from __future__ import annotations

import functools
import itertools
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from storage.database import Database, init_database
from storage.peers import DISPATCHERS
from storage.tables import ANSWERS, INBOUND, OUTBOUND, TRANSCRIPTS
from tests import voice_helpers
from tests.db_fixtures import PostgresDatabases
from tests.deployment import AMQP_URL, Deployment, signed_message
from tests.fake_telegram import wait_for
from tests.fake_twilio import FakeTwilio

pytestmark = [pytest.mark.postgres, pytest.mark.slow]

SCRIPT = [("WAIT", "Hello"), ("YES", "Which best describes you?"), ("1", "How many times"), ("3", "What was waiting like?")]
STORY_NEXT = "How well were you kept informed"
PEOPLE = 6
"""Participant 0 tells the story by WhatsApp voice note; the others by SMS text."""


@pytest.fixture
def deployment(tmp_path: Path, postgres_databases: PostgresDatabases, fake_twilio: FakeTwilio) -> Iterator[Deployment]:
    url = postgres_databases.url(postgres_databases.create())
    init_database(url).dispose()
    running = Deployment(url, tmp_path, fake_twilio.url, fake_twilio.account_sid, fake_twilio.auth_token, AMQP_URL,
                         extra_env={"CHORUS_SCHEDULER_INTERVAL": "1"})
    try:
        for name in ("api-a", "api-b"):
            running.start_api(name)
        for name in ("worker-a", "worker-b"):
            running.start_worker(name)
        running.wait_ready(180)  # four processes starting at once on a busy 2-core machine take a while
        yield running
    finally:
        running.stop()


def test_two_apis_and_two_workers_deliver_every_reply_exactly_once(deployment: Deployment, fake_twilio: FakeTwilio,
                                                                   tmp_path: Path) -> None:
    fake = fake_twilio
    apis = [p for p in deployment.processes if p.url]
    clients = [httpx.Client(base_url=api.url, timeout=30) for api in apis]
    turn, sids, lock = itertools.count(), itertools.count(1), threading.Lock()
    posted: dict[str, list[str]] = {}
    note = voice_helpers.speak(voice_helpers.PHRASES["waiting"], tmp_path / "note.ogg").read_bytes()

    def post(sender: str, text: str, **extra: str) -> str:
        with lock:
            index, sid = next(turn), f"SM{next(sids):032x}"
        form, headers = signed_message(sender, text, sid, fake.account_sid, fake.auth_token, **extra)
        response = clients[index % 2].post("/webhooks/twilio", data=form, headers=headers)
        assert response.status_code == 200 and "<Response/>" in response.text
        posted.setdefault(sender, []).append(sid)
        return sid

    def say(sender: str, text: str, expected: str, timeout: float = 20, **extra: str) -> None:
        """Post one message and wait for the reply that starts with ``expected``."""
        before = len(fake.bodies_to(sender))
        post(sender, text, **extra)
        wait_for(lambda: any(b.startswith(expected) for b in fake.bodies_to(sender)[before:]), timeout, repr(expected))

    def converse(person: int) -> None:
        sender = f"whatsapp:+4477009{person:05d}" if person == 0 else f"+4477009{person:05d}"
        for text, expected in SCRIPT:
            say(sender, text, expected)
        if person == 0:  # the worker loads the model for this one: give it time on a busy machine
            say(sender, "", STORY_NEXT, 40, NumMedia="1", MediaUrl0=fake.add_media(note), MediaContentType0="audio/ogg")
        else:
            say(sender, "The waiting room was cold and nobody told us anything", STORY_NEXT)

    with ThreadPoolExecutor(PEOPLE) as pool:
        list(pool.map(converse, range(PEOPLE)))

    # Twilio retries a webhook it thinks failed: here to the other API process. Nothing changes.
    retried_sender = "+447700900001"
    form, headers = signed_message(retried_sender, "3", posted[retried_sender][3], fake.account_sid, fake.auth_token)
    sent_before = len(fake.messages)
    assert clients[1 - 3 % 2].post("/webhooks/twilio", data=form, headers=headers).status_code == 200

    database = Database(deployment.database_url)
    try:
        def settled() -> bool:
            with database.transaction() as connection:
                left = connection.execute(select(func.count()).select_from(OUTBOUND).where(OUTBOUND.c.status.in_(["queued", "sending"])))
                return left.scalar_one() == 0

        wait_for(settled, 10, "the outbox to settle")
        time.sleep(1.5)  # longer than the workers' poll interval: a duplicate send would show now
        check_exactly_once(database, fake, posted, sent_before)
        check_voice(database, deployment)
        deployment.stop()  # SIGTERM: each worker's dispatcher leaves, so the others' shares grow at once
        with database.transaction() as connection:
            assert connection.execute(select(func.count()).select_from(DISPATCHERS)).scalar_one() == 0
    finally:
        database.dispose()
        for client in clients:
            client.close()


def check_exactly_once(database: Database, fake: FakeTwilio, posted: dict[str, list[str]], sent_before: int) -> None:
    assert len(fake.messages) == sent_before, "the retried webhook sent nothing more"
    with database.transaction() as connection:
        o = OUTBOUND.c
        rows = connection.execute(select(o.participant_id, o.status, o.provider_id, o.text).order_by(o.id)).all()
        inbound = connection.execute(select(func.count()).select_from(INBOUND)).scalar_one()
        answers = connection.execute(
            select(ANSWERS.c.participant_id, ANSWERS.c.step_id, func.count()).group_by(ANSWERS.c.participant_id, ANSWERS.c.step_id)
        ).all()
    assert inbound == sum(len(sids) for sids in posted.values()), "one inbound row per webhook, the retry included in none"
    assert {status for _, status, _, _ in rows} == {"sent"}, "every reply was sent; none failed or is left"
    provider_ids = [pid for _, _, pid, _ in rows]
    fake_sids = [m["sid"] for m in fake.messages]
    assert sorted(provider_ids) == sorted(fake_sids), "each outbox row is one message at the provider, and back"
    assert len(set(fake_sids)) == len(fake_sids)
    for sender in posted:
        bodies = fake.bodies_to(sender)
        assert len(bodies) == len(set(bodies)), f"no reply went twice to participant {sender[-2:]}"
        starts = [next(i for i, b in enumerate(bodies) if b.startswith(expected)) for _, expected in SCRIPT]
        assert starts == sorted(starts), "the questions arrived in order"
    per_person: dict[str, set[str]] = {}
    for pid, step, count in answers:
        assert count == 1, f"answer to {step} stored {count} times"
        per_person.setdefault(pid, set()).add(step)
    assert len(per_person) == PEOPLE
    assert all({"consent", "role", "visits", "story"} <= steps for steps in per_person.values())


def check_voice(database: Database, deployment: Deployment) -> None:
    with database.transaction() as connection:
        voice = connection.execute(select(ANSWERS.c.raw, ANSWERS.c.inbound_id).where(ANSWERS.c.source == "voice")).all()
        transcripts = connection.execute(select(TRANSCRIPTS.c.inbound_id, TRANSCRIPTS.c.status)).all()
    assert len(voice) == 1 and "waiting" in voice[0][0].lower(), "the story was heard from the voice note"
    assert transcripts == [(voice[0][1], "heard")]
    logs = {p.name: p.output() for p in deployment.processes}
    line = f"voice note {voice[0][1]}: processed"
    assert [name for name, text in logs.items() if line in text] in (["worker-a"], ["worker-b"]), "one worker transcribed it"


def test_one_serve_with_two_processes_runs_every_conversation_once(tmp_path: Path, postgres_databases: PostgresDatabases,
                                                                   fake_twilio: FakeTwilio) -> None:
    """``chorus serve --processes 2``, no broker: both processes take webhooks from one port and
    each runs its own inbox worker and dispatcher on the one database."""
    fake = fake_twilio
    running = Deployment(postgres_databases.url(postgres_databases.create()), tmp_path, fake.url, fake.account_sid,
                         fake.auth_token)
    try:
        api = running.start_api("api", "--processes", "2")
        running.wait_ready(120)
        assert len(_children(api.popen.pid)) == 2, "uvicorn started two serving processes"
        sids = itertools.count(1)

        def converse(person: int) -> list[str]:
            sender = f"+4477009{person:05d}"
            for text, expected in SCRIPT:
                with httpx.Client(base_url=api.url, timeout=30) as client:  # a new connection: either process may take it
                    before = len(fake.bodies_to(sender))
                    form, headers = signed_message(sender, text, f"SM{person:04d}{next(sids):028x}", fake.account_sid,
                                                   fake.auth_token)
                    assert client.post("/webhooks/twilio", data=form, headers=headers).status_code == 200
                wait_for(functools.partial(_replied, fake, sender, expected, before), 20, repr(expected))
            return fake.bodies_to(sender)

        with ThreadPoolExecutor(4) as pool:
            conversations = list(pool.map(converse, range(4)))
        time.sleep(1.5)  # longer than a dispatcher's poll interval: a duplicate send would show now
        for bodies in conversations:
            assert len(bodies) == len(set(bodies)) == len(SCRIPT), "each question went once, in order"
            assert [next(i for i, b in enumerate(bodies) if b.startswith(e)) for _, e in SCRIPT] == list(range(len(SCRIPT)))
        for _ in range(4):  # a new connection each time: either process may answer the scrape
            with httpx.Client(base_url=api.url, timeout=30) as client:
                scraped = client.get("/metrics").text
            received = [line for line in scraped.splitlines() if line.startswith('chorus_messages_received_total{channel="sms"}')]
            assert received and float(received[0].split()[-1]) == 4 * len(SCRIPT), "every process's messages, summed"
    finally:
        running.stop()


def _replied(fake: FakeTwilio, sender: str, expected: str, before: int) -> bool:
    """A reply beginning ``expected`` reached ``sender`` after their first ``before`` messages."""
    return any(body.startswith(expected) for body in fake.bodies_to(sender)[before:])


def _children(pid: int) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                stat = (entry / "stat").read_text()
            except OSError:
                continue
            if int(stat.rsplit(")", 1)[1].split()[1]) == pid and "spawn" in (entry / "cmdline").read_text(errors="replace"):
                found.append(int(entry.name))
    return found
