"""What an operator running Chorus across machines found: a voice note picked up again after its
worker was killed is acknowledged once, not twice; a failed download is logged with its reason
(no URL, no number); an orderly stop of ``chorus worker`` logs no ERROR from the broker's client;
faster-whisper's chatter is held back with the other libraries'; and ``/metrics`` shows how long
the outbox row longest 'sending' has been held."""

from __future__ import annotations

import asyncio
import logging
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql

from bot.distributed import DramatiqQueue
from bot.logging_setup import BROKER_CLIENTS, QUIET, configure
from bot.metrics import OLDEST_SENDING, BacklogCollector
from bot.service import ConversationService, ReceiveResult
from bot.tasks import SEND_OUTBOX
from bot.voice import VoicePipeline, VoiceSettings, without_urls
from bot.voice_replies import ACKNOWLEDGED
from channels.base import Media
from flows.words import BUILT_IN_TEXTS
from nlp.audio import AudioInput
from nlp.transcribe import Transcript, WhisperSettings
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import ANSWERS, INBOUND, OUTBOUND
from tests.database_time import database_now
from tests.deployment import AMQP_URL, EXAMPLE, ROOT, delete_queues

VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
LISTENING = BUILT_IN_TEXTS["voice_listening"]["en"]
Say = Callable[..., ReceiveResult]


def at_story(say: Say) -> None:
    """Join the example study and answer up to its open question, which takes voice."""
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply)


def texts(service: ConversationService, participant_id: str | None) -> list[str]:
    assert participant_id is not None
    return [entry.text for entry in service.outbox_for(participant_id)]


def inbound_row(database: Database, inbound_id: int) -> Any:
    with database.transaction() as connection:
        return connection.execute(select(INBOUND).where(INBOUND.c.id == inbound_id)).one()


# ----------------------------------------------------------------------------- 1. acknowledged once a note


class Slow:
    """A transcriber that takes its time (past the acknowledgement), or never finishes until released."""

    def __init__(self, seconds: float = 0.0, hold: threading.Event | None = None) -> None:
        self.seconds, self.hold = seconds, hold
        self.started = threading.Event()

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        self.started.set()
        if self.hold is not None:
            self.hold.wait(30)
        time.sleep(self.seconds)
        return Transcript("It was a long night", "en", 2.5, -0.2, 0.05)


async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
    return b"OggS-canned"


def a_dead_claimer() -> str:
    """How a process of this machine that has ended signed its claims."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return f"{socket.gethostname()}:{ended.pid}:0badc0de"


def test_a_voice_note_picked_up_again_after_its_worker_was_killed_is_acknowledged_once(
    service: ConversationService, database: Database, say: Say, tmp_path: Path,
) -> None:
    at_story(say)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    settings, audio = VoiceSettings(0.05, tmp_path / "audio"), WhisperSettings()
    stuck = threading.Event()
    killed_queue = ThreadPoolTranscriptionQueue(Slow(hold=stuck), settings=audio)
    killed = VoicePipeline(service, killed_queue, fetch, settings, audio, claimer=a_dead_claimer())

    async def killed_while_transcribing() -> None:
        task = killed.start(note.inbound_id)  # type: ignore[arg-type]
        while LISTENING not in texts(service, note.participant_id):
            await asyncio.sleep(0.02)
        task.cancel()  # the worker dies here: its claim stays, naming a process that is gone

    asyncio.run(killed_while_transcribing())
    stuck.set()
    killed_queue.shutdown(wait=False)
    left = inbound_row(database, note.inbound_id)
    assert (left.status, left.error) == ("transcribing", ACKNOWLEDGED)

    again = VoicePipeline(service, ThreadPoolTranscriptionQueue(Slow(0.3), settings=audio), fetch, settings, audio)

    async def picked_up_again() -> Any:
        assert await again.recover() == [note.inbound_id]
        await again.drain(30)
        await again.close()

    asyncio.run(picked_up_again())
    said = texts(service, note.participant_id)
    assert said.count(LISTENING) == 1, said
    with database.transaction() as connection:
        answer = connection.execute(select(ANSWERS.c.value, ANSWERS.c.source).where(ANSWERS.c.step_id == "story")).one()
    assert tuple(answer) == ("It was a long night", "voice"), "the transcript was the answer"
    done = inbound_row(database, note.inbound_id)
    assert (done.status, done.error) == ("processed", None), "the note's outcome replaces the mark"


def test_each_slow_voice_note_is_still_acknowledged(service: ConversationService, say: Say, tmp_path: Path) -> None:
    """The mark is per note: two slow notes in a row are each acknowledged."""
    at_story(say)
    settings, audio = VoiceSettings(0.05, tmp_path / "audio"), WhisperSettings()
    first = say("", media=VOICE)
    pipeline = VoicePipeline(service, ThreadPoolTranscriptionQueue(Slow(0.3), settings=audio), fetch, settings, audio)

    async def go(inbound_id: int | None) -> bool:
        assert inbound_id is not None
        return (await pipeline.process(inbound_id)).acknowledged

    assert asyncio.run(go(first.inbound_id))
    second = say("", media=VOICE)
    assert asyncio.run(go(second.inbound_id))
    pipeline.queue.shutdown(wait=False)
    assert texts(service, first.participant_id).count(LISTENING) == 2


# ----------------------------------------------------------------------------- 2. a failed download, with its reason


def test_a_failed_download_is_logged_with_its_reason_without_its_url_or_a_number(
    service: ConversationService, database: Database, say: Say, tmp_path: Path, caplog: pytest.LogCaptureFixture,
) -> None:
    at_story(say)
    note = say("", media=VOICE)
    assert note.inbound_id is not None
    url = "https://api.telegram.org/file/bot123456:AAH-token-in-the-path/voice/file_7.oga?for=%2B447700900123"

    async def refused(channel: str, media: Mapping[str, Any]) -> bytes:
        raise PermissionError(f"403 Forbidden for url '{url}' (asked for +447700900123)")

    audio = WhisperSettings()
    pipeline = VoicePipeline(service, ThreadPoolTranscriptionQueue(Slow(), settings=audio), refused,
                             VoiceSettings(30.0, tmp_path / "audio"), audio)

    async def go() -> Any:
        try:
            return await pipeline.process(note.inbound_id)  # type: ignore[arg-type]
        finally:
            await pipeline.close()

    caplog.set_level(logging.INFO, logger="chorus.voice")
    outcome = asyncio.run(go())
    assert (outcome.status, outcome.failure) == ("transcription_failed", "download_failed")
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "voice.failed"]
    said = record.getMessage()
    assert "download_failed" in said and "PermissionError: 403 Forbidden for url '[url]'" in said, said
    assert record.reason in said  # type: ignore[attr-defined]
    for secret in ("telegram.org", "token-in-the-path", "file_7", "447700900123", "://"):
        assert secret not in said, said
    assert inbound_row(database, note.inbound_id).error.startswith("download_failed: PermissionError: 403 Forbidden")


def test_urls_of_any_scheme_are_left_out() -> None:
    assert without_urls("ConnectError: for http://10.0.0.1:8080/x and amqp://u:p@host/%2F, then") == \
        "ConnectError: for [url] and [url], then"
    assert without_urls("MediaUnavailable: HTTP 404") == "MediaUnavailable: HTTP 404"


# ----------------------------------------------------------------------------- 3. a quiet stop, and loud errors while running

IDLE_DROPPED = f"{AMQP_URL.rstrip('/')}/%2F?heartbeat=1"
"""RabbitMQ drops a connection that misses its heartbeats: with one second, an idle connection
(dramatiq keeps one per thread that declared a queue or published) is gone within about three."""
DROPPED_AFTER = 4.5


@pytest.fixture
def namespace() -> Iterator[str]:
    name = f"chorus-test-ops-{uuid.uuid4().hex[:8]}"
    yield name
    delete_queues(AMQP_URL, name)


def pika_problems(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name.startswith(("pika", "dramatiq")) and r.levelno >= logging.WARNING]


def test_broker_errors_while_running_are_logged_and_only_the_closing_is_quiet(
    namespace: str, caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    queue = DramatiqQueue(IDLE_DROPPED, namespace)
    before = {name: logging.getLogger(name).level for name in BROKER_CLIENTS}
    try:
        queue.check()
        queue.enqueue(SEND_OUTBOX)  # this thread's connection, then idle while the broker drops it
        time.sleep(DROPPED_AFTER)
        queue.enqueue(SEND_OUTBOX)  # while running: pika says the connection was lost (dramatiq connects again)
        assert any(r.levelno >= logging.ERROR for r in pika_problems(caplog)), "a broker error while running is logged"
        caplog.clear()
        time.sleep(DROPPED_AFTER)  # the new connection is dropped too
    finally:
        queue.close()  # (quietly: bot/distributed.py)
    assert pika_problems(caplog) == []
    assert {name: logging.getLogger(name).level for name in BROKER_CLIENTS} == before, "put back as they were"


def test_closing_connections_the_broker_dropped_is_what_logged_the_errors(namespace: str, caplog: pytest.LogCaptureFixture) -> None:
    """The control of the test above: the broker closed without :func:`quiet_while` (which
    ``DramatiqQueue.close`` holds) logs ERRORs."""
    caplog.set_level(logging.WARNING)
    queue = DramatiqQueue(IDLE_DROPPED, namespace)
    queue.check()
    time.sleep(DROPPED_AFTER)
    queue.broker.close()
    assert any(r.levelno >= logging.ERROR and r.name.startswith("pika") for r in caplog.records)


def test_chorus_worker_stopped_by_sigterm_logs_no_error(namespace: str, tmp_path: Path) -> None:
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "PYTHONUNBUFFERED": "1",
           "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CHORUS_HASH_KEY": "k", "CHORUS_STUDIES_DIR": str(EXAMPLE),
           "CHORUS_DATA_KEY_FILE": str(tmp_path / "keys"), "CHORUS_QUEUE_URL": IDLE_DROPPED, "CHORUS_QUEUE_NAMESPACE": namespace,
           "CHORUS_SAFEGUARDING": "patterns", "CHORUS_SAFEGUARDING_WARM_UP": "off"}
    log = tmp_path / "worker.log"
    with log.open("wb") as out:
        worker = subprocess.Popen([sys.executable, "-m", "bot.cli", "worker", "--queues", "outbox", "--no-scheduler"],
                                  cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready" not in log.read_text() and worker.poll() is None and time.monotonic() < deadline:
            time.sleep(0.1)
        assert "ready" in log.read_text(), log.read_text()[-3000:]
        time.sleep(DROPPED_AFTER)  # the connections it opened to declare its queues are dropped meanwhile
        worker.send_signal(signal.SIGTERM)
        assert worker.wait(30) == 0
    finally:
        if worker.poll() is None:
            worker.kill()
            worker.wait()
    said = log.read_text()
    assert "stopping" in said
    assert " ERROR " not in said and "Traceback" not in said and "Connection reset" not in said, said[-3000:]


def test_faster_whisper_is_held_back_with_the_other_libraries() -> None:
    assert "faster_whisper" in QUIET
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    try:
        configure("INFO", "text", libraries="")
        assert logging.getLogger("faster_whisper").level == logging.WARNING
        assert not logging.getLogger("faster_whisper").isEnabledFor(logging.INFO)  # "Processing audio with duration ..."
        configure("INFO", "text", libraries="debug")
        assert logging.getLogger("faster_whisper").isEnabledFor(logging.INFO)
    finally:
        root = logging.getLogger()
        for handler in [h for h in root.handlers if h.get_name() == "chorus"]:
            root.removeHandler(handler)
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)


# ----------------------------------------------------------------------------- 4. the outbox row longest 'sending'

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def gauges(database: Database) -> dict[str, float]:
    found: dict[str, float] = {}
    for family in BacklogCollector(database, clock=lambda: NOW).collect():
        for sample in family.samples:
            found[sample.name if not sample.labels else f"{sample.name}{sorted(sample.labels.items())}"] = sample.value
    return found


def test_the_oldest_sending_gauge_is_how_long_the_longest_held_claim_is_held(service: ConversationService, database: Database,
                                                                              say: Say) -> None:
    for text in ("WAIT", "yes", "patient"):
        say(text)
    with database.transaction() as connection:
        ids = list(connection.execute(select(OUTBOUND.c.id).order_by(OUTBOUND.c.id)).scalars())
    assert len(ids) >= 3
    assert gauges(database)["chorus_outbox_oldest_sending_seconds"] == 0, "none sending: 0"
    claimed = database_now(database)  # claims are stamped, and their age measured, by the database's clock
    held = {ids[0]: ("sent", NOW - timedelta(days=1)), ids[1]: ("sending", claimed - timedelta(seconds=95)),
            ids[2]: ("sending", claimed - timedelta(seconds=20))}
    with database.transaction() as connection:
        for row_id, (status, sent_at) in held.items():
            connection.execute(update(OUTBOUND).where(OUTBOUND.c.id == row_id).values(status=status, sent_at=sent_at))
    found = gauges(database)
    assert found["chorus_outbox_oldest_sending_seconds"] == pytest.approx(95, abs=3), "from its claim, not from the day-old sent row"
    assert found["chorus_outbox_messages[('status', 'sending')]"] == 2


@pytest.mark.parametrize("database_kind", ["postgresql"])
def test_the_oldest_sending_query_reads_the_status_index_not_the_table(service: ConversationService, database: Database,
                                                                       say: Say) -> None:
    say("WAIT")
    claimed = database_now(database)
    with database.transaction() as connection:
        first = connection.execute(select(OUTBOUND).limit(1)).one()._asdict()
        first.pop("id")
        sent = [{**first, "status": "sent", "sent_at": NOW - timedelta(minutes=n % 5000)} for n in range(30_000)]
        connection.execute(OUTBOUND.insert(), sent)
        connection.execute(OUTBOUND.insert(), [{**first, "status": "sending", "sent_at": claimed - timedelta(seconds=n)} for n in (5, 9)])
    with database.transaction() as connection:
        connection.exec_driver_sql("ANALYZE outbound_messages")
        query = str(OLDEST_SENDING.compile(dialect=postgresql.dialect(), compile_kwargs={"literal_binds": True}))
        plan = "\n".join(row[0] for row in connection.exec_driver_sql(f"EXPLAIN {query}"))
    assert "Seq Scan" not in plan and "Index Cond: ((status)::text = 'sending'::text)" in plan, plan  # an index led by status
    # the oldest claim was 9 s old at `claimed`, and has aged since by however long the inserts
    # and ANALYZE took (seconds on a slow machine): bound it by the database's clock either side
    before = database_now(database)
    oldest = gauges(database)["chorus_outbox_oldest_sending_seconds"]
    after = database_now(database)
    assert 9 + (before - claimed).total_seconds() - 1 <= oldest <= 9 + (after - claimed).total_seconds() + 1
