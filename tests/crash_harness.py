"""Crash and overload harness: a real ``chorus serve`` process, fed by simulated participants
on Telegram, SMS and WhatsApp webhooks (signed as the providers sign them), replying through
the local fake providers, killed with SIGKILL and started again while it works.

The load generator behaves as the providers do: each participant's messages go one after
another, and a webhook that is not acknowledged (connection refused or reset, timeout,
5xx) is sent again, with the same update id or MessageSid, until it is. After the last
start, the harness waits for the backlog to drain, stops the server and checks, on the
database and at the fake providers, that nothing was lost or doubled (:func:`verify`).

Used by tests/test_crash.py (smaller counts) and scripts/crash_test (any counts):
``python -m tests.crash_harness --participants 1000 --messages 10 --kills 5``.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
from sqlalchemy import create_engine, func, insert, select
from sqlalchemy.engine import Engine

from bot.studies import StudyRegistry
from storage import repository
from storage.crypto import Sealer
from storage.database import init_database, normalise_url
from storage.tables import (
    ANSWERS,
    CONTACTS,
    DUE_TASKS,
    ENROLMENTS,
    INBOUND,
    OUTBOUND,
    PARTICIPANTS,
    SESSIONS,
)
from tests.channel_helpers import PUBLIC_URL, TELEGRAM_SECRET, provider_env, sign
from tests.db_fixtures import TEST_DATA_KEY
from tests.fake_telegram import FakeTelegram, LocalServer
from tests.fake_twilio import FakeTwilio

ROOT = Path(__file__).resolve().parent.parent
CHANNELS = ("telegram", "sms", "whatsapp")
FOLLOW_UP_AFTER = timedelta(hours=1)
SEALER = Sealer([TEST_DATA_KEY])
HASH_KEY = "crash-test-key"
"""Addresses are encrypted at rest; the server gets the same key (CHORUS_DATA_KEYS)."""


# ----------------------------------------------------------------------------- the study


def write_study(folder: Path, questions: int) -> Path:
    """A study whose flow asks ``questions`` open questions (any text answers one), then says
    goodbye; a follow-up flow is scheduled an hour after each enrolment."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "study.yaml").write_text(f"""\
study: crash
title: Crash test
timezone: UTC
join:
  start_flow: talk
  keyword: JOIN
  routes:
    - telegram: join
flows: [talk.yaml, later.yaml]
schedule:
  - flow: later
    after: {int(FOLLOW_UP_AFTER.total_seconds())}s
    grace: 1d
""", encoding="utf-8")
    steps = "".join(f"  - id: q{n}\n    type: open\n    text: Question {n}, what happened?\n" for n in range(1, questions + 1))
    (folder / "talk.yaml").write_text(f"flow: talk\nsteps:\n{steps}  - id: bye\n    type: message\n    text: Thank you.\n",
                                      encoding="utf-8")
    (folder / "later.yaml").write_text("flow: later\nsteps:\n  - id: again\n    type: message\n    text: Hello again.\n",
                                       encoding="utf-8")
    return folder


# ----------------------------------------------------------------------------- participants and their webhooks


@dataclass(frozen=True)
class Participant:
    number: int
    channel: str

    @property
    def address(self) -> str:
        return str(500_000 + self.number) if self.channel == "telegram" else f"+4477{self.number:08d}"

    def webhook(self, index: int) -> tuple[str, dict[str, str], dict[str, Any] | None, dict[str, str] | None]:
        """Message ``index`` (0: joining) as (path, headers, json, form); the same every time it is sent."""
        text = ("/start join" if self.channel == "telegram" else "JOIN") if index == 0 else f"answer {index} from {self.number}"
        if self.channel == "telegram":
            chat = int(self.address)
            update_id = 1_000_000 + self.number * 1000 + index
            message = {"message_id": index + 1, "date": int(time.time()), "text": text,
                       "from": {"id": chat, "is_bot": False, "first_name": "Pat"},
                       "chat": {"id": chat, "type": "private", "first_name": "Pat"}}
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": 6}]
            return "/webhooks/telegram", {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, {"update_id": update_id,
                                                                                                 "message": message}, None
        sid = "SM" + hashlib.sha256(f"{self.number}:{index}".encode()).hexdigest()[:32]
        sender = ("whatsapp:" if self.channel == "whatsapp" else "") + self.address
        form = {"MessageSid": sid, "AccountSid": "AC" + "0" * 32, "From": sender, "To": "+447700900999", "Body": text,
                "NumMedia": "0"}
        return "/webhooks/twilio", {}, None, form

    def provider_id(self, index: int) -> tuple[str, str]:
        _, _, body, form = self.webhook(index)
        return (self.channel, str(body["update_id"])) if body is not None else (self.channel, form["MessageSid"])  # type: ignore[index]


def people(count: int) -> list[Participant]:
    return [Participant(n, CHANNELS[n % 3]) for n in range(count)]


def seed_follow_ups(database_url: str, studies: Path, count: int, spread: float) -> list[str]:
    """``count`` participants enrolled (in bulk) about an hour ago, so that their follow-ups
    fall due one after another over the next ``spread`` seconds, while the server is killed
    and started again. The server's scheduler plans and fires them. On Telegram and SMS:
    WhatsApp would hold them (outside the 24-hour window, without a template)."""
    now = datetime.now(UTC)
    database = init_database(database_url)
    try:
        StudyRegistry.from_folder(studies).publish(database, now)
        ids = [f"p-f{n:015x}" for n in range(count)]
        with database.transaction() as connection:
            connection.execute(insert(PARTICIPANTS), [{"id": pid, "language": "en", "fields": {}, "created_at": now} for pid in ids])
            addresses = [str(900_000 + n) if CHANNELS[n % 2] == "telegram" else f"+4478{n:08d}" for n in range(count)]
            connection.execute(insert(CONTACTS), [  # hashed and sealed with the keys the server gets
                {"participant_id": pid, "channel": CHANNELS[n % 2], "address_sealed": SEALER.seal(addresses[n]),
                 "address_hash": repository.address_hash(HASH_KEY.encode(), CHANNELS[n % 2], addresses[n]), "created_at": now}
                for n, pid in enumerate(ids)])
            connection.execute(insert(ENROLMENTS), [
                {"participant_id": pid, "study_id": "crash", "group": None, "language": "en", "channel": CHANNELS[n % 2],
                 "status": "active", "opted_out": False,
                 "enrolled_at": now - FOLLOW_UP_AFTER + timedelta(seconds=2 + spread * n / max(1, count))}
                for n, pid in enumerate(ids)])
    finally:
        database.dispose()
    return ids


# ----------------------------------------------------------------------------- the server process


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """``chorus serve`` in a subprocess, started and killed at will."""

    database_url: str
    studies: Path
    workdir: Path
    env: dict[str, str]
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    starts: int = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60) -> None:
        environment = {**os.environ, **self.env, "PYTHONPATH": str(ROOT), "CHORUS_HASH_KEY": HASH_KEY,
                       "CHORUS_DATA_KEYS": TEST_DATA_KEY,
                       "CHORUS_SCHEDULER_INTERVAL": "0.5", "CHORUS_OUTBOX_LEASE": "2", "CHORUS_SAFEGUARDING": "patterns",
                       "CHORUS_TELEGRAM_RATE": "5000", "CHORUS_TWILIO_SMS_RATE": "5000", "CHORUS_TWILIO_WHATSAPP_RATE": "5000"}
        command = [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--port", str(self.port),
                   "--database", self.database_url, "--studies", str(self.studies)]
        log = (self.workdir / "server.log").open("ab")
        self.process = subprocess.Popen(command, cwd=self.workdir, env=environment, stdout=log, stderr=subprocess.STDOUT)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"chorus serve exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(self.url + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise RuntimeError(f"chorus serve did not start in {timeout}s:\n{self.log_tail()}")

    def kill(self) -> None:
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)

    def rss_kib(self) -> int:
        """The server's resident memory, from /proc."""
        assert self.process is not None
        for line in Path(f"/proc/{self.process.pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
        return 0

    def cpu_seconds(self) -> float:
        """CPU time the server has used (user and system), from /proc."""
        assert self.process is not None
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def warnings(self, lines: int = 40) -> str:
        """The server log's last warnings and errors (a skipped scheduler tick aside): why rows failed."""
        path = self.workdir / "server.log"
        found = [line for line in path.read_text(errors="replace").splitlines() if (" WARNING " in line or " ERROR " in line)
                 and "maximum number of running instances" not in line] if path.exists() else []
        return "\n".join(found[-lines:])

    def lost_telegram_answers(self) -> Counter[int]:
        """Outbox rows whose Telegram send failed on the network, as the server logged them (bot/dispatcher.py)."""
        path = self.workdir / "server.log"
        text = path.read_text(errors="replace") if path.exists() else ""
        return Counter(int(found) for found in re.findall(r"outbox (\d+) for \S+: ServerError: telegram: ", text))

    def log_tail(self, chars: int = 4000) -> str:
        path = self.workdir / "server.log"
        return path.read_text(errors="replace")[-chars:] if path.exists() else ""


# ----------------------------------------------------------------------------- the load, with retries


@dataclass
class Load:
    acked: set[tuple[str, str]] = field(default_factory=set)
    retries: int = 0
    latencies: list[float] = field(default_factory=list)
    slowest: tuple[float, float] = (0.0, 0.0)
    """The slowest answer: (seconds, when it was sent, in seconds since the first)."""
    first: float = 0.0
    refused: list[str] = field(default_factory=list)
    errors: Counter[str] = field(default_factory=Counter)
    """Why webhooks had to be sent again (connection errors, timeouts, status codes)."""

    @property
    def max_latency(self) -> float:
        return max(self.latencies, default=0.0)


@dataclass(frozen=True)
class Target:
    host: str
    port: int
    timeout: float = 20.0


async def post(target: Target, path: str, headers: dict[str, str], body: bytes, content_type: str) -> tuple[int, bytes]:
    """One HTTP/1.1 POST on a new connection, as a provider sends a webhook. A small client of
    its own: httpx spends more CPU per request than the server does, which would make the
    latencies measured here the load generator's rather than the server's."""
    async def exchange() -> tuple[int, bytes]:
        reader, writer = await asyncio.open_connection(target.host, target.port)
        try:
            head = "".join(f"{name}: {value}\r\n" for name, value in headers.items())
            writer.write(f"POST {path} HTTP/1.1\r\nHost: {target.host}:{target.port}\r\nContent-Type: {content_type}\r\n"
                         f"Content-Length: {len(body)}\r\nConnection: close\r\n{head}\r\n".encode() + body)
            await writer.drain()
            response = await reader.read()
        finally:
            writer.close()
        status_line, _, rest = response.partition(b"\r\n")
        if not status_line.startswith(b"HTTP/1.1 "):
            raise ConnectionError("no HTTP answer")
        return int(status_line.split()[1]), rest.partition(b"\r\n\r\n")[2]

    return await asyncio.wait_for(exchange(), target.timeout)


async def deliver(target: Target, person: Participant, index: int, load: Load, auth_token: str,
                  gate: asyncio.Semaphore, backoff: float = 0.2) -> None:
    """Send one webhook until it is acknowledged, as a provider retries."""
    path, headers, body, form = person.webhook(index)
    if form is not None:
        headers = {"X-Twilio-Signature": sign(PUBLIC_URL + path, form, auth_token)}
        payload, content_type = urlencode(form).encode(), "application/x-www-form-urlencoded"
    else:
        payload, content_type = json.dumps(body).encode(), "application/json"
    while True:
        async with gate:
            started = time.monotonic()
            try:
                status, text = await post(target, path, headers, payload, content_type)
            except (OSError, TimeoutError) as error:
                load.errors[type(error).__name__] += 1
                status, text = 0, b""
            elapsed = time.monotonic() - started
        if status == 200:
            load.latencies.append(elapsed)
            load.first = load.first or started
            if elapsed > load.slowest[0]:
                load.slowest = (elapsed, started - load.first)
            load.acked.add(person.provider_id(index))
            return
        if 0 < status < 500:
            load.refused.append(f"{person.channel} {status}: {text[:200]!r}")
            return
        if status:
            load.errors[str(status)] += 1
        load.retries += 1
        await asyncio.sleep(backoff)
        backoff = min(2.0, backoff * 2)  # as providers do: less often the longer it fails


async def converse(client: Target, person: Participant, messages: int, load: Load, auth_token: str,
                   gate: asyncio.Semaphore) -> None:
    for index in range(messages):
        await deliver(client, person, index, load, auth_token, gate)


# ----------------------------------------------------------------------------- the run


@dataclass
class Outcome:
    participants: int
    messages: int
    kills: int
    load: Load
    in_doubt: dict[tuple[int, int], str] = field(default_factory=dict)
    """Outbox rows found ``sending`` just after a kill ((id, attempts) -> channel): sends the crashes cut off."""
    lost_answers: Counter[int] = field(default_factory=Counter)
    """Telegram sends that failed on the network (a timeout, a dropped connection, a 5xx), by
    outbox row, from the server's log: each may have arrived all the same (Telegram takes no
    key), and was sent again."""
    seconds: float = 0.0
    replayed: int = 0
    telegram_duplicates: int = 0
    follow_ups: int = 0
    restarts: list[float] = field(default_factory=list)
    """Seconds from each kill until the server answered again."""

    def summary(self) -> str:
        return (f"{self.participants} participants, {self.participants * self.messages} messages, {self.kills} kills, "
                f"{self.load.retries} webhook retries, {len(self.in_doubt)} sends in doubt at kills, "
                f"{sum(self.lost_answers.values())} Telegram sends failed on the network "
                f"({self.replayed} resent and deduplicated by key at Twilio), max webhook latency "
                f"{self.load.max_latency:.2f}s ({self.load.slowest[1]:.0f}s in), {self.follow_ups} follow-ups fired, {self.telegram_duplicates} duplicates at "
                f"Telegram, {self.seconds:.0f}s in all (restarts took {', '.join(f'{r:.1f}' for r in self.restarts)}s)")


def reader(database_url: str) -> Engine:
    """A plain engine for reading while the server writes (no BEGIN IMMEDIATE on SQLite)."""
    return create_engine(normalise_url(database_url))


def in_doubt(engine: Engine) -> dict[tuple[int, int], str]:
    """Rows left ``sending`` by a kill, by (row id, attempts): a claim each. A row in doubt at two
    kills may have gone out twice, once per claim, unless no one claimed it again in between (its
    attempts unchanged: the lease had not run out, so only one claim was cut off)."""
    with engine.connect() as connection:
        rows = connection.execute(select(OUTBOUND.c.id, OUTBOUND.c.attempts, OUTBOUND.c.channel)
                                  .where(OUTBOUND.c.status == "sending")).all()
    return {(int(r[0]), int(r[1])): str(r[2]) for r in rows}


def backlog(engine: Engine, follow_ups: int) -> tuple[int, int, int]:
    """(messages still to process, replies still to send, follow-ups not yet done)."""
    with engine.connect() as connection:
        inbox = connection.execute(select(func.count()).select_from(INBOUND).where(INBOUND.c.status == "received")).scalar_one()
        outbox = connection.execute(
            select(func.count()).select_from(OUTBOUND).where(OUTBOUND.c.status.in_(["queued", "sending"]))).scalar_one()
        done = connection.execute(select(func.count()).select_from(DUE_TASKS).where(
            DUE_TASKS.c.kind == "follow_up", DUE_TASKS.c.done.is_(True))).scalar_one()
    return int(inbox), int(outbox), follow_ups - int(done)


@contextmanager
def providers() -> Iterator[tuple[FakeTelegram, FakeTwilio, dict[str, str]]]:
    telegram, twilio = FakeTelegram(), FakeTwilio()
    with LocalServer(telegram.app) as tg, LocalServer(twilio.app) as tw:
        twilio.url = tw.url
        yield telegram, twilio, provider_env(telegram, tg.url, twilio, tw.url)


async def run_with_kills(server: Server, engine: Engine, everyone: list[Participant], messages: int, kills: int,
                         twilio: FakeTwilio, concurrency: int, drain_timeout: float, follow_ups: int) -> Outcome:
    outcome = Outcome(len(everyone), messages, kills, Load(), follow_ups=follow_ups)
    total = len(everyone) * messages
    thresholds = [total * (n + 1) // (kills + 1) for n in range(kills)]
    gate = asyncio.Semaphore(concurrency)
    started = time.monotonic()
    target = Target("127.0.0.1", server.port)
    talking = asyncio.gather(*(converse(target, p, messages, outcome.load, twilio.auth_token, gate) for p in everyone))
    for threshold in thresholds:
        while len(outcome.load.acked) < threshold and not talking.done():
            await asyncio.sleep(0.02)
        await asyncio.to_thread(crash_and_restart, server, engine, outcome)
    await talking
    if kills:  # once more while the backlog drains: replies and follow-ups in flight
        await asyncio.sleep(0.5)
        await asyncio.to_thread(crash_and_restart, server, engine, outcome)
    deadline = time.monotonic() + drain_timeout
    while (left := backlog(engine, follow_ups)) != (0, 0, 0):
        if time.monotonic() > deadline:
            raise AssertionError(f"the backlog did not drain in {drain_timeout}s: {left}\n{server.log_tail()}")
        await asyncio.sleep(0.2)
    outcome.seconds = time.monotonic() - started
    outcome.replayed = len(twilio.replayed)
    return outcome


def crash_and_restart(server: Server, engine: Engine, outcome: Outcome) -> None:
    started = time.monotonic()
    server.kill()
    outcome.in_doubt.update(in_doubt(engine))
    server.start()
    outcome.restarts.append(time.monotonic() - started)


# ----------------------------------------------------------------------------- the checks


def verify(database_url: str, everyone: list[Participant], messages: int, outcome: Outcome, telegram: FakeTelegram,
           twilio: FakeTwilio, scheduled: list[str]) -> None:
    """Nothing lost, nothing doubled. Raises AssertionError naming what is wrong."""
    questions = messages - 1
    load = outcome.load
    assert not load.refused, load.refused[:5]
    expected = {p.provider_id(i) for p in everyone for i in range(messages)}
    assert load.acked == expected, f"{len(expected - load.acked)} webhooks never acknowledged"
    engine = reader(database_url)
    try:
        with engine.connect() as connection:
            inbox = connection.execute(select(INBOUND.c.channel, INBOUND.c.provider_id, INBOUND.c.status)).all()
            answers = connection.execute(select(ANSWERS.c.participant_id, ANSWERS.c.step_id, ANSWERS.c.inbound_id)).all()
            sealed = connection.execute(select(OUTBOUND.c.id, OUTBOUND.c.participant_id, OUTBOUND.c.channel, OUTBOUND.c.step_id,
                                               OUTBOUND.c.status, OUTBOUND.c.delivery_key, OUTBOUND.c.text, CONTACTS.c.address_sealed,
                                               OUTBOUND.c.error, OUTBOUND.c.attempts)
                                        .join(CONTACTS, CONTACTS.c.id == OUTBOUND.c.contact_id)).all()
            outbox = [(*row[:7], SEALER.open(row[7])) for row in sealed]
            unsent = [(row[0], row[2], row[4], row[9], row[8]) for row in sealed if row[4] != "sent"]
            tasks = connection.execute(select(DUE_TASKS.c.participant_id, DUE_TASKS.c.done, DUE_TASKS.c.error)
                                       .where(DUE_TASKS.c.kind == "follow_up")).all()
            later = connection.execute(select(SESSIONS.c.participant_id).where(SESSIONS.c.flow_id == "later")).scalars().all()
    finally:
        engine.dispose()

    # every acknowledged message stored once (the unique key) and processed once
    stored = Counter((row[0], row[1]) for row in inbox)
    assert set(stored) == expected and set(stored.values()) == {1}
    statuses = Counter(row[2] for row in inbox)
    assert set(statuses) <= {"processed", "joined"}, statuses
    assert statuses["joined"] == len(everyone), statuses
    # every answer recorded once
    per_step = Counter((row[0], row[1]) for row in answers)
    assert len(answers) == len(everyone) * questions and set(per_step.values()) == {1}, Counter(per_step.values())
    assert len({row[2] for row in answers}) == len(answers), "two answers from one message"
    # every reply queued once per step (questions, goodbye, the follow-ups' message) and sent
    steps = Counter((row[1], row[3]) for row in outbox)
    assert set(steps.values()) == {1}, [k for k, v in steps.items() if v > 1][:5]
    assert len(outbox) == len(everyone) * (questions + 1) + len(scheduled), len(outbox)
    assert Counter(row[4] for row in outbox) == {"sent": len(outbox)}, (Counter(row[4] for row in outbox), unsent[:10])
    # every due follow-up fired once; everyone else's (due in an hour) is still there, once
    by_person = Counter(row[0] for row in tasks)
    assert len(tasks) == len(everyone) + len(scheduled) and set(by_person.values()) == {1}
    fired = {row[0] for row in tasks if row[1]}
    assert fired == set(scheduled) and all(row[2] is None for row in tasks), [t for t in tasks if t[2]][:5]
    assert sorted(later) == sorted(scheduled), "a follow-up session missing or doubled"
    assert {row[1] for row in outbox if row[3] == "again"} == set(scheduled)
    _verify_twilio(list(outbox), twilio)
    _verify_telegram(list(outbox), telegram, outcome)


def _verify_twilio(outbox: list[Any], twilio: FakeTwilio) -> None:
    """At least once and never twice: each row's key reached Twilio, and was delivered once."""
    rows = {row[5]: row for row in outbox if row[2] in ("sms", "whatsapp")}
    assert None not in rows and len(rows) == sum(1 for row in outbox if row[2] in ("sms", "whatsapp")), "a row without its own key"
    delivered = Counter(message["key"] for message in twilio.messages)
    assert set(delivered) == set(rows), f"{len(set(rows) - set(delivered))} replies never reached Twilio"
    assert set(delivered.values()) == {1}, "a key delivered twice"
    for message in twilio.messages:  # ...and each delivery is the row it claims to be
        row = rows[message["key"]]
        assert message["to"].removeprefix("whatsapp:") == row[7] and message["body"] == row[6]


def _verify_telegram(outbox: list[Any], telegram: FakeTelegram, outcome: Outcome) -> None:
    """Telegram takes no key: every reply arrives at least once; a duplicate is only possible
    for a send a crash cut off (a row found ``sending`` just after a kill), or one whose answer
    was lost on the way back (the server logged a network error and sent it again)."""
    rows = [row for row in outbox if row[2] == "telegram"]
    wanted = Counter((int(row[7]), row[6]) for row in rows)
    got = Counter((int(m["chat"]["id"]), m["text"]) for m in telegram.sent)
    assert not wanted - got, f"{sum((wanted - got).values())} replies never reached Telegram"
    extra = got - wanted
    claims_cut_off = Counter(row_id for (row_id, _), channel in outcome.in_doubt.items() if channel == "telegram")
    doubtful: Counter[tuple[int, str]] = Counter()
    for row in rows:
        doubtful[(int(row[7]), row[6])] += claims_cut_off[row[0]] + outcome.lost_answers[row[0]]
    assert not extra - doubtful, f"duplicates on Telegram not explained by a crash or a lost answer: {list((extra - doubtful).items())[:5]}"
    outcome.telegram_duplicates = sum(extra.values())


def crash_run(workdir: Path, database_url: str, participants: int, messages: int, kills: int, concurrency: int = 64,
              drain_timeout: float = 240, follow_ups: int | None = None, spread: float = 20.0) -> Outcome:
    """The whole crash test; returns what happened (raises AssertionError if something was lost or doubled).
    ``follow_ups`` (default: as many as ``participants``) more participants have a follow-up falling
    due over the first ``spread`` seconds."""
    studies = write_study(workdir / "studies" / "crash", messages - 1)
    everyone = people(participants)
    scheduled = seed_follow_ups(database_url, studies, participants if follow_ups is None else follow_ups, spread)
    with providers() as (telegram, twilio, env):
        server = Server(database_url, studies, workdir, env)
        server.start()
        engine = reader(database_url)
        try:
            outcome = asyncio.run(run_with_kills(server, engine, everyone, messages, kills, twilio, concurrency, drain_timeout,
                                                 len(scheduled)))
        finally:
            server.stop()
            engine.dispose()
        outcome.lost_answers = server.lost_telegram_answers()
        try:
            verify(database_url, everyone, messages, outcome, telegram, twilio, scheduled)
        except AssertionError as error:
            raise AssertionError(f"{error}\nthe server's warnings:\n{server.warnings()}") from None
    return outcome


def main(argv: list[str] | None = None) -> None:
    import tempfile

    parser = argparse.ArgumentParser(prog="scripts/crash_test", description=__doc__.splitlines()[0])
    parser.add_argument("--participants", type=int, default=1000)
    parser.add_argument("--messages", type=int, default=10, help="per participant (the first joins)")
    parser.add_argument("--kills", type=int, default=5)
    parser.add_argument("--concurrency", type=int, default=64, help="webhooks in flight at once")
    parser.add_argument("--database", default=None, help="a database URL (default: a new SQLite file)")
    parser.add_argument("--drain-timeout", type=float, default=900)
    parser.add_argument("--follow-ups", type=int, default=None, help="participants with a follow-up falling due (default: --participants)")
    parser.add_argument("--spread", type=float, default=60, help="seconds over which the follow-ups fall due")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="chorus-crash-") as folder:
        url = args.database or f"sqlite:///{folder}/chorus.db"
        outcome = crash_run(Path(folder), url, args.participants, args.messages, args.kills, args.concurrency, args.drain_timeout,
                            args.follow_ups, args.spread)
    print(json.dumps({"ok": True, "summary": outcome.summary()}))


if __name__ == "__main__":
    main()


# ----------------------------------------------------------------------------- overload


@dataclass
class Burst:
    webhooks: int
    load: Load
    rss_before_kib: int
    rss_peak_kib: int
    accepted_seconds: float
    drained_seconds: float
    backlog_when_answered: int
    """Messages stored but not yet processed when the last webhook was answered."""
    cpu_seconds: float = 0.0
    """The server's CPU time from the first webhook until the last reply was sent."""
    backlog_peak: int = 0
    """The most messages seen stored and waiting at once while the webhooks came (sampled): more
    than none shows the burst outran processing, even where processing caught up by the last
    answer (a busy machine slows the load generator as much as the server)."""

    def summary(self) -> str:
        latencies = sorted(self.load.latencies)
        median = latencies[len(latencies) // 2] if latencies else 0.0
        return (f"{self.webhooks} webhooks at once: all answered in {self.accepted_seconds:.1f}s (median latency "
                f"{median:.2f}s, max {self.load.max_latency:.2f}s, resent {dict(self.load.errors)}) with {self.backlog_when_answered} still to process (at most {self.backlog_peak}), all "
                f"processed and replied to in {self.drained_seconds:.1f}s; "
                f"server RSS {self.rss_before_kib // 1024} MiB before, {self.rss_peak_kib // 1024} MiB at most; "
                f"server CPU {1000 * self.cpu_seconds / self.webhooks:.1f} ms a message (webhook, processing and reply) "
                f"against {self.drained_seconds * 1000 / self.webhooks:.1f} ms of wall time")


async def _burst(server: Server, engine: Engine, everyone: list[Participant], auth_token: str, concurrency: int,
                 drain_timeout: float) -> Burst:
    load = Load()
    gate = asyncio.Semaphore(concurrency)
    rss_before = peak = server.rss_kib()
    most_waiting = 0
    sampling = True

    async def sample() -> None:
        nonlocal peak, most_waiting
        while sampling:
            peak = max(peak, server.rss_kib())
            most_waiting = max(most_waiting, (await asyncio.to_thread(backlog, engine, 0))[0])
            await asyncio.sleep(0.1)

    sampler = asyncio.create_task(sample())
    cpu = server.cpu_seconds()
    started = time.monotonic()
    target = Target("127.0.0.1", server.port, timeout=60)
    await asyncio.gather(*(deliver(target, person, 0, load, auth_token, gate) for person in everyone))
    accepted = time.monotonic() - started
    waiting = backlog(engine, 0)[0]
    deadline = time.monotonic() + drain_timeout
    while (left := backlog(engine, 0)[:2]) != (0, 0):
        if time.monotonic() > deadline:
            raise AssertionError(f"the backlog did not drain in {drain_timeout}s: {left}\n{server.log_tail()}")
        await asyncio.sleep(0.2)
    drained = time.monotonic() - started
    sampling = False
    await sampler
    return Burst(len(everyone), load, rss_before, peak, accepted, drained, waiting, server.cpu_seconds() - cpu,
                 max(most_waiting, waiting))


def overload_run(workdir: Path, database_url: str, webhooks: int, concurrency: int = 1000, drain_timeout: float = 240) -> Burst:
    """``webhooks`` new participants write at once (one webhook each, at most ``concurrency`` in
    flight): every webhook must be answered, every message processed and answered."""
    studies = write_study(workdir / "studies" / "crash", 2)
    init_database(database_url).dispose()
    warm = people(30)
    everyone = [Participant(n, CHANNELS[n % 3]) for n in range(1000, 1000 + webhooks)]
    with providers() as (_, twilio, env):
        server = Server(database_url, studies, workdir, env)
        server.start()
        engine = reader(database_url)
        try:
            async def warm_up() -> None:  # first requests load what loads lazily: not part of the burst
                target = Target("127.0.0.1", server.port, timeout=60)
                await asyncio.gather(*(deliver(target, p, 0, Load(), twilio.auth_token, asyncio.Semaphore(10)) for p in warm))

            asyncio.run(warm_up())
            burst = asyncio.run(_burst(server, engine, everyone, twilio.auth_token, concurrency, drain_timeout))
            with engine.connect() as connection:
                statuses: Counter[str] = Counter({str(status): int(count) for status, count in connection.execute(
                    select(INBOUND.c.status, func.count()).group_by(INBOUND.c.status)).all()})
                replies = connection.execute(select(func.count()).select_from(OUTBOUND).where(OUTBOUND.c.status == "sent")).scalar_one()
        finally:
            server.stop()
            engine.dispose()
    print(burst.summary())
    assert not burst.load.refused, burst.load.refused[:5]
    assert statuses == {"joined": webhooks + len(warm)}, statuses
    assert replies == webhooks + len(warm), replies
    return burst
