"""Load benchmark: the distributed mode against the embedded default, in the same run.

Measured from a signed Twilio SMS webhook to the reply arriving at the (fake) Twilio Messages
API, so it includes the outbox and, when distributed, the broker hop to a worker:

* **embedded**: one ``chorus serve`` on SQLite, no broker (the default);
* **embedded-pg**: the same one process on PostgreSQL, to tell the database's share of the
  difference from the broker's and the extra processes';
* **distributed**: two ``chorus serve`` API processes and two ``chorus worker`` processes on
  a fresh PostgreSQL database and RabbitMQ (or Redis with ``--broker redis``); webhooks go to
  the API processes in turn, as a round-robin load balancer would send them.

The fake Twilio runs on this script's event loop, so each reply's arrival resolves the sender
waiting for it: a sender posts one message, waits for the reply that message should bring
(the next question), then posts the next, as a person would; each sender plays one new
participant after another. Throughput counts replies that arrived inside the measurement
window (after --warmup); p99 is over their latencies. Server CPU per message (from
/proc, all server processes together) is printed too: on a shared machine it moves less than
wall-clock figures.

This machine has 2 cores shared with other work, and the distributed mode runs four server
processes, PostgreSQL and RabbitMQ on them, so the ratio says what scale-out *costs* on one
small machine; the point of the mode is adding machines. Not a test.

    .venv/bin/python scripts/bench/load.py [--seconds 20] [--warmup 3] [--concurrency 16]
        [--broker amqp|redis] [--only embedded|embedded-pg|distributed]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import secrets
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))  # this tree's code, not another checkout's

import aiohttp  # noqa: E402
import uvicorn  # noqa: E402

from tests.deployment import AMQP_URL, REDIS_URL, Deployment, free_port, signed_message  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402

SCRIPT = [("WAIT", "Hello"), ("YES", "Which best describes you?"), ("1", "How many times"),
          ("3", "What was waiting like?"), ("Four hours on a plastic chair and nobody told us anything.", "How well were you kept")]
"""Each message and the start of the reply it should bring."""
REPLY_TIMEOUT = 20.0
MODES = ("embedded", "embedded-pg", "distributed")


class Provider:
    """The fake Twilio, served on this loop; tells waiting senders when their reply arrives."""

    def __init__(self) -> None:
        self.fake = FakeTwilio()
        self.waiting: dict[str, tuple[str, asyncio.Future[float]]] = {}
        provider = self

        class Notifying(list[dict[str, Any]]):
            def append(self, message: dict[str, Any]) -> None:
                super().append(message)
                provider.arrived(message)

        self.fake.messages = Notifying()
        self.port = free_port()
        self.fake.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(self.fake.app, host="127.0.0.1", port=self.port, log_level="warning",
                                                    lifespan="off"))

    def arrived(self, message: dict[str, Any]) -> None:
        found = self.waiting.get(message["to"])
        if found is not None and message["body"].startswith(found[0]) and not found[1].done():
            found[1].set_result(time.perf_counter())

    def expect(self, to: str, prefix: str) -> asyncio.Future[float]:
        future: asyncio.Future[float] = asyncio.get_running_loop().create_future()
        self.waiting[to] = (prefix, future)
        return future


@dataclass
class Result:
    label: str
    seconds: float
    latencies: list[float] = field(default_factory=list)
    answered: list[float] = field(default_factory=list)
    """Webhook round trips (post -> 200): the API processes' share of the latency."""
    lost: int = 0
    errors: int = 0
    cpu_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return len(self.latencies) / self.seconds

    def percentile(self, q: float, of: list[float] | None = None) -> float:
        values = self.latencies if of is None else of
        if len(values) < 2:
            return float("nan")
        return statistics.quantiles(values, n=100, method="inclusive")[round(q * 100) - 1] * 1000

    @property
    def cpu_ms_per_message(self) -> float:
        return self.cpu_seconds / len(self.latencies) * 1000 if self.latencies else float("nan")


async def load(label: str, provider: Provider, apis: list[str], pids: list[int], args: argparse.Namespace) -> Result:
    result = Result(label, args.seconds)
    start = time.perf_counter()
    window, stop = start + args.warmup, start + args.warmup + args.seconds
    turn, numbers, run = itertools.count(), itertools.count(), secrets.randbelow(90) + 10
    fake = provider.fake
    cpu_at_window: list[float] = []

    async def sender(session: aiohttp.ClientSession) -> None:
        while time.perf_counter() < stop:
            phone = f"+447{run:02d}{next(numbers):07d}"
            for text, expected in SCRIPT:
                form, headers = signed_message(phone, text, "SM" + secrets.token_hex(16), fake.account_sid, fake.auth_token)
                reply = provider.expect(phone, expected)
                sent = time.perf_counter()
                if sent >= stop:
                    return
                try:
                    async with session.post(apis[next(turn) % len(apis)] + "/webhooks/twilio", data=form, headers=headers) as response:
                        await response.read()
                        ok = response.status == 200
                        answered = time.perf_counter()
                except (TimeoutError, aiohttp.ClientError):
                    ok = False
                if not ok:
                    result.errors += 1
                    break
                try:
                    arrived = await asyncio.wait_for(reply, REPLY_TIMEOUT)
                except TimeoutError:
                    result.lost += 1
                    break
                if sent >= window and arrived <= stop:
                    result.latencies.append(arrived - sent)
                    result.answered.append(answered - sent)

    async def measure_cpu() -> None:
        await asyncio.sleep(max(0.0, window - time.perf_counter()))
        cpu_at_window.append(cpu_seconds(pids))
        await asyncio.sleep(max(0.0, stop - time.perf_counter()))
        result.cpu_seconds = cpu_seconds(pids) - cpu_at_window[0]

    connector = aiohttp.TCPConnector(limit=args.concurrency * 2)
    async with aiohttp.ClientSession(connector=connector, timeout=aiohttp.ClientTimeout(total=30)) as session:
        await asyncio.gather(measure_cpu(), *(sender(session) for _ in range(args.concurrency)))
    return result


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (Linux /proc)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


async def run_mode(mode: str, provider: Provider, args: argparse.Namespace, workdir: Path) -> Result:
    from tests.db_fixtures import PostgresDatabases

    fake = provider.fake
    databases = PostgresDatabases() if mode != "embedded" else None
    queue: str | None = None
    if databases is not None:
        url = databases.url(databases.create())
        if mode == "distributed":
            queue = AMQP_URL if args.broker == "amqp" else REDIS_URL
    else:
        url = f"sqlite:///{workdir / 'embedded.db'}"
    folder = workdir / mode
    folder.mkdir()
    deployment = Deployment(url, folder, fake.url, fake.account_sid, fake.auth_token, queue)
    try:
        apis = ["api-a", "api-b"] if queue else ["api"]
        for name in apis:
            deployment.start_api(name)
        if queue:
            for name in ("worker-a", "worker-b"):
                deployment.start_worker(name)
        await asyncio.to_thread(deployment.wait_ready, 180)
        urls = [p.url for p in deployment.processes if p.url]
        pids = [p.popen.pid for p in deployment.processes]
        print(f"{mode}: {len(urls)} API process(es), {len(pids) - len(urls)} worker(s) ready; measuring...", file=sys.stderr)
        return await load(mode, provider, urls, pids, args)
    finally:
        await asyncio.to_thread(deployment.stop)
        if databases is not None:
            databases.drop_all()


def report(results: list[Result], args: argparse.Namespace) -> None:
    print(f"\nwebhook -> reply at the provider, {args.concurrency} senders, {args.seconds:g} s each "
          "(2 shared cores: absolute figures are pessimistic, compare the ratios)")
    print(f"{'mode':<13}{'replies/s':>10}{'p50 ms':>9}{'p99 ms':>9}{'webhook p50':>12}{'server CPU ms/msg':>19}{'lost':>6}"
          f"{'errors':>8}")
    for r in results:
        print(f"{r.label:<13}{r.rate:>10.1f}{r.percentile(0.5):>9.1f}{r.percentile(0.99):>9.1f}{r.percentile(0.5, r.answered):>12.1f}"
              f"{r.cpu_ms_per_message:>19.1f}{r.lost:>6}{r.errors:>8}")
    baseline = next((r for r in results if r.label == "embedded"), None)
    for other in results:
        if baseline is not None and other is not baseline:
            print(f"{other.label} / embedded: throughput x{other.rate / baseline.rate:.2f}, "
                  f"p99 x{other.percentile(0.99) / baseline.percentile(0.99):.2f}, "
                  f"CPU per message x{other.cpu_ms_per_message / baseline.cpu_ms_per_message:.2f}")


async def main_async(args: argparse.Namespace) -> None:
    provider = Provider()
    serving = asyncio.create_task(provider.server.serve())
    while not provider.server.started:
        await asyncio.sleep(0.05)
    results = []
    try:
        with tempfile.TemporaryDirectory(prefix="chorus-load-") as folder:
            for mode in MODES:
                if args.only in (None, mode):
                    results.append(await run_mode(mode, provider, args, Path(folder)))
    finally:
        provider.server.should_exit = True
        await serving
    report(results, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--broker", choices=["amqp", "redis"], default="amqp")
    parser.add_argument("--only", choices=MODES, default=None)
    asyncio.run(main_async(parser.parse_args()))


if __name__ == "__main__":
    main()
