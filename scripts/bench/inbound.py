"""Inbound benchmark: signed Twilio SMS webhooks posted on loopback to a real ``chorus serve``.

For each database (a temporary SQLite file, then a fresh PostgreSQL database that is dropped
afterwards) it starts ``chorus serve`` as a subprocess (dispatcher and scheduler off, so only
webhook -> reply in the outbox is measured), and a concurrent load generator (one coroutine
per simulated sender) posts signed, form-encoded SMS webhooks for --seconds. Each
sender plays one new participant after another: WAIT (join), then the answers to the example
study's first flow, each message sent only after the previous one was answered, as a person
would; every message has a unique MessageSid. Then, with the same uvicorn settings and the
same load generator, it measures a bare FastAPI endpoint that only returns 200.

How end-to-end latency is measured: ``bot/webhooks.py`` awaits ``ConversationService.receive``
before answering the webhook, and ``receive`` commits the reply row to ``outbound_messages``
in the same transaction as the answer that caused it. So the reply is durably in the outbox
*before* the response's first byte leaves the server, and "post sent -> response received" is
an upper bound on "post -> reply in the outbox" (the difference is one loopback response,
well under a millisecond). Polling the database from here would add the polling interval and
steal CPU from the server on this 2-core machine, so instead the run is *verified* against
the database afterwards: every message answered 200 must have its inbound row (none failed),
and the outbox must hold at least one reply per answered message. A run that fails the check
says so. Throughput counts messages answered in the measurement window (after --warmup).

The load generator uses aiohttp (installed with the twilio library) by default: on this
machine httpx.AsyncClient tops out at a few hundred requests/s and gets *slower* with more
concurrent connections, which would cap the bare endpoint and make the ratio meaningless
(``--client httpx`` shows it). The generator shares the 2 cores with the server, as the
issue's setting implies, so both figures include its cost.

    .venv/bin/python scripts/bench/inbound.py [--seconds 20] [--concurrency 32]
        [--database sqlite|postgresql|both] [--warmup 2]

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

import aiohttp
import httpx
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


@contextmanager
def server(command: list[str], env: dict[str, str], port: int, log: Path) -> Iterator[str]:
    """Run a server subprocess in its own process group until /health answers; stop it after."""
    with log.open("wb") as out:
        process = subprocess.Popen(command, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT,
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
        yield url
    finally:
        _stop(process)
        _children.remove(process)


def chorus_env(port: int, workdir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
    env.update(
        TWILIO_ACCOUNT_SID=ACCOUNT_SID, TWILIO_AUTH_TOKEN=AUTH_TOKEN, TWILIO_SMS_FROM=SMS_FROM,
        CHORUS_PUBLIC_URL=f"http://127.0.0.1:{port}", CHORUS_DISPATCHER="off", CHORUS_SCHEDULER="off",
        CHORUS_TWILIO_API_BASE="http://127.0.0.1:9", CHORUS_HASH_KEY="bench-hash-key-" + secrets.token_hex(8),
        CHORUS_KEY_FILE=str(workdir / "chorus.key"), PYTHONUNBUFFERED="1",
    )
    return env


def chorus_command(port: int, database_url: str) -> list[str]:
    return [str(ROOT / ".venv" / "bin" / "chorus"), "serve", "--host", "127.0.0.1", "--port", str(port),
            "--studies", str(STUDIES), "--database", database_url]


def bare_command(port: int) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), "--bare-server", str(port)]


def run_bare_server(port: int) -> None:
    """The baseline: uvicorn serving a FastAPI endpoint that only returns 200 (as chorus serve does)."""
    import uvicorn
    from fastapi import FastAPI, Response

    app = FastAPI()

    @app.post(PATH)
    async def webhook() -> Response:
        return Response(status_code=200)

    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# ----------------------------------------------------------------------------- load


@dataclass
class Result:
    seconds: float
    latencies: list[float] = field(default_factory=list)
    """Seconds from post to response, for messages answered 200 inside the window."""
    answered: int = 0
    """Every message answered 200, warm-up included (for the database check)."""
    errors: int = 0
    participants: int = 0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float) -> float:
        if len(self.latencies) < 2:
            return float("nan")
        return statistics.quantiles(self.latencies, n=1000, method="inclusive")[round(q * 1000) - 1] * 1000


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

    async def post(self, form: dict[str, str], headers: dict[str, str]) -> int:
        if self._httpx is not None:
            return (await self._httpx.post(PATH, data=form, headers=headers)).status_code
        assert self._aio is not None
        async with self._aio.post(self.url + PATH, data=form, headers=headers) as response:
            await response.read()
            return response.status


async def load(url: str, public_url: str, args: argparse.Namespace) -> Result:
    """``args.concurrency`` senders, each a stream of participants replying one message at a time."""
    validator = RequestValidator(AUTH_TOKEN)
    signed_url = public_url + PATH
    result = Result(args.seconds)
    start = time.perf_counter()
    window, stop = start + args.warmup, start + args.warmup + args.seconds
    numbers = iter(range(10**8))
    run = secrets.randbelow(90) + 10

    async def sender(poster: Poster) -> None:
        while time.perf_counter() < stop:
            phone = f"+447{run:02d}{next(numbers):07d}"
            result.participants += 1
            for body in SCRIPT:
                form = {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": ACCOUNT_SID, "From": phone,
                        "To": SMS_FROM, "Body": body, "NumMedia": "0", "SmsStatus": "received"}
                headers = {"X-Twilio-Signature": validator.compute_signature(signed_url, form)}
                sent = time.perf_counter()
                if sent >= stop:
                    return
                try:
                    ok = await poster.post(form, headers) == 200
                except (TimeoutError, httpx.HTTPError, aiohttp.ClientError):
                    ok = False
                done = time.perf_counter()
                if not ok:
                    result.errors += 1
                    break  # this participant's conversation is broken: start a new one
                result.answered += 1
                if sent >= window and done <= stop:
                    result.latencies.append(done - sent)

    async with Poster(url, args.concurrency, args.client) as poster:
        await asyncio.gather(*(sender(poster) for _ in range(args.concurrency)))
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
    with databases[database]() as url:
        port = free_port()
        public = f"http://127.0.0.1:{port}"
        with server(chorus_command(port, url), chorus_env(port, workdir), port, workdir / f"{database}.log") as base:
            chorus = asyncio.run(load(base, public, args))
        check = verify(url, chorus)
    port = free_port()
    with server(bare_command(port), chorus_env(port, workdir), port, workdir / "bare.log") as base:
        bare = asyncio.run(load(base, f"http://127.0.0.1:{port}", args))
    report(label, chorus, bare, check)


def _mark(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(label: str, chorus: Result, bare: Result, check: str) -> None:
    p50, p99, share = chorus.percentile(0.50), chorus.percentile(0.99), chorus.rate / max(bare.rate, 1e-9)
    print(f"\n== {label}: {len(chorus.latencies)} messages in {chorus.seconds:.0f} s, "
          f"{chorus.participants} participants, {chorus.errors} errors")
    print(f"  end to end        {chorus.rate:8.0f} messages/s   goal >= {GOAL_RATE:.0f}  "
          f"({chorus.rate / GOAL_RATE:.2f}x goal, {_mark(chorus.rate >= GOAL_RATE)})")
    print(f"  latency p50       {p50:8.1f} ms")
    print(f"  latency p99       {p99:8.1f} ms            goal <= {GOAL_P99_MS:.0f}  "
          f"({p99 / GOAL_P99_MS:.2f}x goal, {_mark(p99 <= GOAL_P99_MS)})")
    print(f"  bare endpoint     {bare.rate:8.0f} requests/s   p50 {bare.percentile(0.5):.1f} ms, "
          f"p99 {bare.percentile(0.99):.1f} ms, {bare.errors} errors")
    print(f"  share of bare     {share:8.1%}              goal >= {GOAL_SHARE:.0%}  ({_mark(share >= GOAL_SHARE)})")
    print(f"  database check    {check}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="measurement window per server")
    parser.add_argument("--warmup", type=float, default=2.0, help="seconds of load before the window")
    parser.add_argument("--concurrency", type=int, default=32, help="concurrent senders")
    parser.add_argument("--database", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--client", choices=["aiohttp", "httpx"], default="aiohttp",
                        help="load generator's HTTP client (httpx's pool caps it far below the servers)")
    parser.add_argument("--bare-server", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.bare_server is not None:
        run_bare_server(args.bare_server)
        return
    atexit.register(_stop_all)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    print(f"inbound benchmark: {args.concurrency} concurrent senders, {args.seconds:.0f} s per server "
          f"(+{args.warmup:.0f} s warm-up), {args.client} client, {os.cpu_count()} CPUs, "
          "load generator on the same machine")
    with tempfile.TemporaryDirectory(prefix="chorus-inbound-") as tmp:
        for database in (["sqlite", "postgresql"] if args.database == "both" else [args.database]):
            measure({"sqlite": "SQLite", "postgresql": "PostgreSQL"}[database], database, args, Path(tmp))


if __name__ == "__main__":
    main()
