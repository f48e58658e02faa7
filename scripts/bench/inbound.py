"""Inbound benchmark: signed Twilio SMS webhooks posted on loopback to a real ``chorus serve``.

For each database (a temporary SQLite file, then a fresh PostgreSQL database that is dropped
afterwards) it starts ``chorus serve`` as a subprocess (dispatcher and scheduler off, so only
webhook -> reply in the outbox is measured), and a concurrent load generator (one coroutine
per simulated sender) posts signed, form-encoded SMS webhooks for --seconds. Each
sender plays one new participant after another: WAIT (join), then the answers to the example
study's first flow, each message sent only after the previous one was answered, as a person
would; every message has a unique MessageSid. With the same uvicorn settings and the
same load generator it measures a bare FastAPI endpoint that only returns 200, before the
Chorus servers and again after them; the share is taken against the faster of the two (on a
shared machine the rate drifts within a run).

How end-to-end latency is measured: under ordinary load the webhook's transaction stores the
message and writes its reply, and the answer's ``X-Chorus-Inbox`` header says so
(``processed``, ``joined``...): the reply was committed before the answer, so its latency is
post -> answer. A message only stored (``received``: a burst) gets its reply from the inbox
worker later, in the transaction that changes its status from ``received``; for those (and
only those: watching every message in flight cost the database server more CPU than the
messages did) this script watches the database once the answer came: one poller (every
--poll ms, on its own connection) reads which of them are no longer ``received``, and the
latency is "post sent -> its reply seen committed in the outbox" (an upper bound, by up to
one poll interval). A sender sends its next message
only once the reply to the previous one is there, as a person would. The webhook's own
round trip (post -> 200) is shown too. After the run it is *verified* against the database:
every message answered 200 has its inbound row (none failed), and the outbox holds at least
one reply per answered message. Throughput counts replies seen in the measurement window
(after --warmup). Server CPU per message is the server process's user+system CPU time over
the window (from /proc) divided by the replies in it: it holds up on a shared machine where
wall-clock figures do not; beside it, PostgreSQL's backends' CPU for the benchmark's database,
the load generator's own, and how many of the machine's cores were busy (a run far from all
of them is waiting on its chain of round trips, not short of CPU). The CPU ceiling line bounds
the share from that: the messages/s Chorus would reach if it kept the machine as busy as the
bare run did, at its measured machine-wide CPU per message. ``--code DIR`` runs the server from another checkout as well
(e.g. ``git archive main | tar -x -C DIR``), for a before/after in the same run.

The load generator uses aiohttp (installed with the twilio library) by default: on this
machine httpx.AsyncClient tops out at a few hundred requests/s and gets *slower* with more
concurrent connections, which would cap the bare endpoint and make the ratio meaningless
(``--client httpx`` shows it). The generator shares the 2 cores with the server, as the
issue's setting implies, so both figures include its cost.

    .venv/bin/python scripts/bench/inbound.py [--seconds 20] [--concurrency 32]
        [--database sqlite|postgresql|both] [--warmup 2] [--safeguarding patterns|full] [--code DIR ...]
        [--processes N]   (PostgreSQL: chorus serve --processes N, and the bare endpoint in N processes)

Goals (issue 3, this 2-core machine): >= 1,000 messages/s end to end, p99 <= 100 ms, and
>= 30% of the bare endpoint's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import os
import secrets
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import httpx
from cryptography.fernet import Fernet
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parents[2]
STUDIES = ROOT / "flows" / "examples" / "ae-waiting"
POSTGRES_ADMIN = "postgresql://postgres@127.0.0.1:5432/test"
ACCOUNT_SID = "AC" + "0" * 32
AUTH_TOKEN = "bench-auth-token-" + "0" * 15
SMS_FROM = "+15005550006"
PATH = "/webhooks/twilio"
SCRIPT = ["WAIT", "YES", "1", "3", "Four hours on a plastic chair and nobody told us anything.", "2"]
"""A participant's messages: join, consent, role (patient), visits, story, informed (then the end)."""
GOAL_RATE, GOAL_P99_MS, GOAL_SHARE = 1000.0, 100.0, 0.30
INBOX_HEADER = "X-Chorus-Inbox"
PROCESSED = {"processed", "joined", "not_enrolled", "failed", "erased"}
"""X-Chorus-Inbox values meaning the message was processed (its reply committed) before the webhook was answered."""
_children: list[subprocess.Popen[bytes]] = []


# ----------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _stop(process: subprocess.Popen[bytes]) -> None:
    """Stop one child (and its process group) that this script started."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _stop_all() -> None:
    for process in list(_children):
        _stop(process)


def _processes() -> Iterator[tuple[Path, int, int]]:
    """Each process's /proc entry, parent's pid and user + system CPU ticks so far (Linux)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            except OSError:  # gone meanwhile
                continue
            yield entry, int(fields[1]), int(fields[11]) + int(fields[12])


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and the processes it started (Linux /proc):
    with --processes the server's work is done by uvicorn's children."""
    parents: dict[int, int] = {}
    times: dict[int, int] = {}
    for entry, parent, ticks in _processes():
        parents[int(entry.name)], times[int(entry.name)] = parent, ticks
    tree, grown = {pid}, True
    while grown:
        more = {child for child, parent in parents.items() if parent in tree} - tree
        tree |= more
        grown = bool(more)
    return sum(times.get(member, 0) for member in tree) / os.sysconf("SC_CLK_TCK")


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path, cwd: Path = ROOT) -> Iterator[tuple[str, int]]:
    """Run a server subprocess in its own process group until /health answers; stop it after.
    Yields its URL and process id."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                   start_new_session=True)
    _children.append(process)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            if process.poll() is not None:
                raise RuntimeError(f"server exited ({process.returncode}):\n{log.read_text()[-3000:]}")
            try:
                if httpx.get(url + "/health", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError(f"server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield url, process.pid
    finally:
        _stop(process)
        _children.remove(process)


def chorus_env(port: int, workdir: Path, safeguarding: str = "patterns") -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
    env.update(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_SMS_FROM=SMS_FROM,
        CHORUS_PUBLIC_URL=f"http://127.0.0.1:{port}", CHORUS_DISPATCHER="off", CHORUS_SCHEDULER="off",
        CHORUS_TWILIO_API_BASE="http://127.0.0.1:9", CHORUS_HASH_KEY="bench-hash-key-" + secrets.token_hex(8),
        CHORUS_KEY_FILE=str(workdir / "chorus.key"), PYTHONUNBUFFERED="1", CHORUS_SAFEGUARDING=safeguarding,
        CHORUS_DATA_KEYS=Fernet.generate_key().decode(),
    )
    return env


def chorus_command(port: int, database_url: str, processes: int = 1) -> list[str]:
    # bot.cli run from the checkout (the server's cwd), not the venv's ``chorus`` script, which
    # imports the installed package: another checkout's code
    extra = ["--processes", str(processes)] if processes > 1 else []
    return [sys.executable, "-c", "from bot.cli import main; main()", "serve", "--host", "127.0.0.1", "--port", str(port),
            "--studies", str(STUDIES), "--database", database_url, *extra]


def bare_command(port: int, processes: int = 1) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port), "--processes", str(processes)]


def run_bare_server(port: int, processes: int = 1) -> None:
    """The baseline: uvicorn serving a FastAPI endpoint that only returns 200 (as chorus serve
    does), in as many processes."""
    import uvicorn

    if processes > 1:
        uvicorn.run("inbound:bare_app", factory=True, app_dir=str(Path(__file__).parent), workers=processes,
                    host="127.0.0.1", port=port, log_level="warning", access_log=False)
    else:
        uvicorn.run(bare_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def bare_app() -> Any:
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.post(PATH)
    async def webhook() -> Response:
        return Response(status_code=200)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    return app


def database_cpu_seconds(database_url: str | None) -> float:
    """CPU time so far of the PostgreSQL server processes serving the benchmark's database
    (their process titles name it; the server runs on this machine). 0 for SQLite, whose
    work is done inside the server process."""
    if not database_url or not database_url.startswith("postgresql"):
        return 0.0
    name = b" " + database_url.rsplit("/", 1)[1].encode() + b" "
    ticks = 0
    for entry, _, used in _processes():
        try:
            title = (entry / "cmdline").read_bytes()
        except OSError:  # gone meanwhile
            continue
        if title.startswith(b"postgres:") and name in title:  # "postgres: USER DATABASE HOST(PORT) STATE"
            ticks += used
    return ticks / os.sysconf("SC_CLK_TCK")


def machine_busy_seconds() -> float:
    """CPU seconds all of this machine's cores have spent busy so far (/proc/stat: all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


# ----------------------------------------------------------------------------- load


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    """Seconds from post to the reply seen in the outbox, for messages sent inside the window."""
    acks: list[float] = field(default_factory=list)
    """Seconds from post to the webhook's 200, same messages."""
    answered: int = 0
    """Every message answered 200, warm-up included (for the database check)."""
    errors: int = 0
    processed_at_once: int = 0
    """Messages whose webhook answer said they were processed in the storing transaction."""
    participants: int = 0
    cpu: float = 0.0
    """The server's CPU seconds over the window."""
    database_cpu: float = 0.0
    """PostgreSQL's CPU seconds over the window, for the benchmark's database."""
    load_cpu: float = 0.0
    """This script's (the load generator's) CPU seconds over the window."""
    busy: float = 0.0
    """CPU seconds the whole machine was busy over the window."""

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        values = self.latencies if values is None else values
        if len(values) < 2:
            return float("nan")
        return statistics.quantiles(values, n=1000, method="inclusive")[round(q * 1000) - 1] * 1000


class ReplyWatcher:
    """Polls the database for messages no longer ``received`` (their reply is then committed
    in the outbox, in the same transaction) and wakes whoever waits for them."""

    def __init__(self, database_url: str | None, interval: float) -> None:
        self.interval = interval
        self.waiting: dict[str, asyncio.Future[float]] = {}
        self._database = None
        if database_url is not None:
            sys.path.insert(0, str(ROOT))
            from storage.database import Database

            self._database = Database(database_url)

    def expect(self, provider_id: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[provider_id] = future
        return future

    def _done(self, sids: list[str]) -> list[str]:
        from sqlalchemy import bindparam, text

        assert self._database is not None
        query = text("SELECT provider_id FROM inbound_messages WHERE channel = 'sms' AND provider_id IN :sids"
                     " AND status <> 'received'").bindparams(bindparam("sids", expanding=True))
        # a reader's deferred BEGIN: on SQLite a plain connect() would BEGIN IMMEDIATE (storage/database.py)
        # and take the write lock from the server every poll
        with self._database.read_transaction() as connection:
            return [str(row[0]) for row in connection.execute(query, {"sids": sids})]

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            if self.waiting:
                for provider_id in await asyncio.to_thread(self._done, list(self.waiting)):
                    future = self.waiting.pop(provider_id, None)
                    if future is not None and not future.done():
                        future.set_result(time.perf_counter())
            await asyncio.sleep(self.interval)

    def close(self) -> None:
        if self._database is not None:
            self._database.engine.dispose()


class Poster:
    """POST a form and return the status code, through aiohttp (default) or httpx."""

    def __init__(self, url: str, concurrency: int, client: str) -> None:
        self.url, self.concurrency, self.client = url, concurrency, client
        self._aio: aiohttp.ClientSession | None = None
        self._httpx: httpx.AsyncClient | None = None

    async def __aenter__(self) -> Poster:
        if self.client == "httpx":
            limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency)
            self._httpx = httpx.AsyncClient(base_url=self.url, limits=limits, timeout=30)
        else:
            connector = aiohttp.TCPConnector(limit=self.concurrency)
            self._aio = aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30))
        return self

    async def __aexit__(self, *_: object) -> None:
        if self._httpx is not None:
            await self._httpx.aclose()
        if self._aio is not None:
            await self._aio.close()

    async def post(self, form: dict[str, str], headers: dict[str, str]) -> tuple[int, str | None]:
        """The status code and the ``X-Chorus-Inbox`` header (what became of the message)."""
        if self._httpx is not None:
            answer = await self._httpx.post(PATH, data=form, headers=headers)
            return answer.status_code, answer.headers.get(INBOX_HEADER)
        assert self._aio is not None
        async with self._aio.post(self.url + PATH, data=form, headers=headers) as response:
            await response.read()
            return response.status, response.headers.get(INBOX_HEADER)


async def load(url: str, public_url: str, args: argparse.Namespace, database_url: str | None = None,
               pid: int | None = None) -> Result:
    """``args.concurrency`` senders, each a stream of participants replying one message at a
    time, each after the reply to the previous one (with a ``database_url``; otherwise, for the
    bare endpoint, after the response)."""
    validator = RequestValidator(AUTH_TOKEN)
    signed_url = public_url + PATH
    result = Result(args.seconds)
    start = time.perf_counter()
    window, stop = start + args.warmup, start + args.warmup + args.seconds
    numbers = iter(range(10**8))
    run = secrets.randbelow(90) + 10
    watcher = ReplyWatcher(database_url, args.poll / 1000)
    stopping = asyncio.Event()

    async def sender(poster: Poster) -> None:
        while time.perf_counter() < stop:
            phone = f"+447{run:02d}{next(numbers):07d}"
            result.participants += 1
            for body in SCRIPT:
                sid = "SM" + secrets.token_hex(16)
                form = {"MessageSid": sid, "AccountSid": ACCOUNT_SID, "From": phone,
                        "To": SMS_FROM, "Body": body, "NumMedia": "0", "SmsStatus": "received"}
                headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, form)}
                sent = time.perf_counter()
                if sent >= stop:
                    return
                try:
                    code, inbox = await poster.post(form, headers)
                    ok = code == 200
                except (TimeoutError, httpx.HTTPError, aiohttp.ClientError):
                    ok, inbox = False, None
                acked = done = time.perf_counter()
                if ok and inbox in PROCESSED:  # committed with its reply before the answer
                    result.processed_at_once += 1
                elif ok and database_url:  # only stored: watch for the inbox worker's reply
                    try:
                        done = await asyncio.wait_for(watcher.expect(sid), max(stop - time.perf_counter(), 0) + 30)
                    except TimeoutError:
                        ok = False
                if not ok:
                    watcher.waiting.pop(sid, None)
                    result.errors += 1
                    break  # this participant's conversation is broken: start a new one
                result.answered += 1
                if sent >= window and done <= stop:
                    result.latencies.append(done - sent)
                    result.acks.append(acked - sent)

    async def cpu_window() -> None:
        if pid is None:
            return
        await asyncio.sleep(max(window - time.perf_counter(), 0))
        before = cpu_seconds(pid), database_cpu_seconds(database_url), time.process_time(), machine_busy_seconds()
        await asyncio.sleep(max(stop - time.perf_counter(), 0))
        result.cpu = cpu_seconds(pid) - before[0]
        result.database_cpu = database_cpu_seconds(database_url) - before[1]
        result.load_cpu = time.process_time() - before[2]
        result.busy = machine_busy_seconds() - before[3]

    poller = asyncio.create_task(watcher.run(stopping))
    try:
        async with Poster(url, args.concurrency, args.client) as poster:
            await asyncio.gather(cpu_window(), *(sender(poster) for _ in range(args.concurrency)))
    finally:
        stopping.set()
        await poller
        watcher.close()
    return result


# ----------------------------------------------------------------------------- databases


@contextmanager
def sqlite_database(workdir: Path) -> Iterator[str]:
    yield f"sqlite:///{workdir / 'bench.db'}"


@contextmanager
def postgres_database() -> Iterator[str]:
    import psycopg

    name = "chorus_bench_" + secrets.token_hex(4)
    with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield POSTGRES_ADMIN.rsplit("/", 1)[0] + "/" + name
    finally:
        with psycopg.connect(POSTGRES_ADMIN, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def verify(database_url: str, result: Result) -> str:
    """Check the run against the database: every answered message stored and replied to."""
    sys.path.insert(0, str(ROOT))
    from sqlalchemy import func, select

    from storage.database import Database
    from storage.tables import INBOUND, OUTBOUND

    database = Database(database_url)
    try:
        with database.transaction() as connection:
            inbound = int(connection.execute(select(func.count()).select_from(INBOUND)).scalar_one())
            failed = int(connection.execute(
                select(func.count()).select_from(INBOUND).where(INBOUND.c.status == "failed")).scalar_one())
            outbound = int(connection.execute(select(func.count()).select_from(OUTBOUND)).scalar_one())
    finally:
        database.engine.dispose()
    ok = inbound >= result.answered and failed == 0 and outbound >= result.answered
    return (f"{'OK' if ok else 'FAILED'}: {result.answered} answered, {inbound} inbound rows ({failed} failed), "
            f"{outbound} outbox rows ({outbound / max(result.answered, 1):.2f} per message)")


# ----------------------------------------------------------------------------- report


def measure(label: str, database: str, args: argparse.Namespace, workdir: Path) -> None:
    databases = {"sqlite": lambda: sqlite_database(workdir), "postgresql": postgres_database}
    runs: list[tuple[str, Result, str]] = []
    processes = 1 if database == "sqlite" else args.processes  # SQLite: one writer, one process
    bare_before = measure_bare(args, workdir, processes)
    for number, code in enumerate([ROOT, *args.code]):
        with databases[database]() as url:
            if database == "sqlite":  # a fresh file per checkout
                url = url.replace("bench.db", f"bench-{number}.db")
            port = free_port()
            public = f"http://127.0.0.1:{port}"
            with server(chorus_command(port, url, processes), chorus_env(port, workdir, args.safeguarding), port,
                        workdir / f"{database}-{number}.log", cwd=code) as (base, pid):
                chorus = asyncio.run(load(base, public, args, url, pid))
            runs.append((str(code), chorus, verify(url, chorus)))
    bare_after = measure_bare(args, workdir, processes)
    print(f"\n{label}, {processes} server process(es): bare endpoint before: {bare_before.rate:.0f} requests/s, "
          f"after: {bare_after.rate:.0f} requests/s")
    bare = max(bare_before, bare_after, key=lambda r: r.rate)
    for code, chorus, check in runs:
        report(f"{label}, code in {code}", chorus, bare, check)
    if len(runs) > 1:
        first = runs[0][1]
        for code, other, _ in runs[1:]:
            if first.cpu and other.cpu and first.latencies and other.latencies:
                ratio = (other.cpu / len(other.latencies)) / (first.cpu / len(first.latencies))
                print(f"  server CPU per message, {code} / {runs[0][0]}: {ratio:.2f}x")


def measure_bare(args: argparse.Namespace, workdir: Path, processes: int) -> Result:
    port = free_port()
    with server(bare_command(port, processes), chorus_env(port, workdir), port, workdir / "bare.log") as (base, bare_pid):
        return asyncio.run(load(base, f"http://127.0.0.1:{port}", args, pid=bare_pid))


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(label: str, chorus: Result, bare: Result, check: str) -> None:
    p50, p99, share = chorus.percentile(0.50), chorus.percentile(0.99), chorus.rate / max(bare.rate, 1e-9)
    print(f"\n== {label}: {len(chorus.latencies)} messages in {chorus.seconds:.0f} s, "
          f"{chorus.participants} participants, {chorus.errors} errors")
    print(f"  end to end        {chorus.rate:8.0f} messages/s   goal >= {GOAL_RATE:.0f}  "
          f"({chorus.rate / GOAL_RATE:.2f}x goal, {_mark(chorus.rate >= GOAL_RATE)})")
    per_message = 1000 / max(len(chorus.latencies), 1)
    print(f"  server CPU        {chorus.cpu * per_message:8.2f} ms per message "
          f"({chorus.cpu:.1f} CPU s over the window)")
    print(f"  where CPU went    per message: server {chorus.cpu * per_message:.2f} ms, database "
          f"{chorus.database_cpu * per_message:.2f} ms, load generator {chorus.load_cpu * per_message:.2f} ms; "
          f"the machine was busy {chorus.busy / chorus.seconds:.2f} of {os.cpu_count()} cores")
    print(f"  webhook answered  p50 {chorus.percentile(0.5, chorus.acks):.1f} ms, p99 {chorus.percentile(0.99, chorus.acks):.1f} ms; "
          f"{chorus.processed_at_once / max(chorus.answered, 1):.0%} of messages processed before the answer")
    print(f"  latency p50       {p50:8.1f} ms   (post -> reply committed in the outbox)")
    print(f"  latency p99       {p99:8.1f} ms            goal <= {GOAL_P99_MS:.0f}  "
          f"({p99 / GOAL_P99_MS:.2f}x goal, {_mark(p99 <= GOAL_P99_MS)})")
    print(f"  bare endpoint     {bare.rate:8.0f} requests/s   p50 {bare.percentile(0.5):.1f} ms, "
          f"p99 {bare.percentile(0.99):.1f} ms, {bare.errors} errors")
    if bare.cpu and bare.latencies and chorus.latencies:
        per_request = bare.cpu / len(bare.latencies)
        print(f"  bare server CPU   {per_request * 1000:8.3f} ms per request (a message costs "
              f"{chorus.cpu / len(chorus.latencies) / per_request:.1f}x that); load generator "
              f"{bare.load_cpu / len(bare.latencies) * 1000:.2f} ms per request; machine busy {bare.busy / bare.seconds:.2f} cores")
    print(f"  share of bare     {share:8.1%}              goal >= {GOAL_SHARE:.0%}  ({_mark(share >= GOAL_SHARE)})")
    if chorus.busy and bare.busy and chorus.latencies:
        # What the share could be if Chorus kept the machine as busy as the bare run did: its
        # machine-wide CPU per message (server, database and load generator) sets the bound.
        machine_per_message = chorus.busy / len(chorus.latencies)
        ceiling = bare.busy / bare.seconds / machine_per_message
        print(f"  CPU ceiling       {ceiling:8.0f} messages/s   ({machine_per_message * 1000:.2f} ms of machine CPU per message "
              f"at the bare run's {bare.busy / bare.seconds:.2f} busy cores: at most {ceiling / max(bare.rate, 1e-9):.1%} of bare)")
    print(f"  database check    {check}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before the window")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--client", choices=["aiohttp", "httpx"], default="aiohttp",
                        help="load generator's HTTP client (httpx's pool caps it far below the servers)")
    parser.add_argument("--poll", type=float, default=5.0, help="ms between looks at the database for replies")
    parser.add_argument("--safeguarding", choices=["full", "patterns"], default="patterns",
                        help="the server's CHORUS_SAFEGUARDING: 'patterns' (default) measures the message path; "
                             "'full' also runs the embedding model in a background thread (use --warmup 15: it loads "
                             "on the first free-text message)")
    parser.add_argument("--code", type=Path, nargs="*", default=[],
                        help="other checkouts whose server to measure too, after this one's (same load, same database kind)")
    parser.add_argument("--processes", type=int, default=1,
                        help="server processes, for Chorus (chorus serve --processes; PostgreSQL only) and the bare endpoint alike")
    parser.add_argument("--bare-server", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server is not None:
        run_bare_server(args.bare_server, args.processes)
        return
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"inbound benchmark: {args.concurrency} concurrent senders, {args.seconds:.0f} s per server "
          f"(+{args.warmup:.0f} s warm-up), {args.processes} server process(es), {args.client} client, safeguarding {args.safeguarding}, "
          f"replies polled every {args.poll:g} ms, {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, "
          "load generator on the same machine")
    with tempfile.TemporaryDirectory(prefix="chorus-inbound-") as tmp:
        for database in (["sqlite", "postgresql"] if args.database == "both" else [args.database]):
            measure({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database], database, args, Path(tmp))


if __name__ == "__main__":
    main()
