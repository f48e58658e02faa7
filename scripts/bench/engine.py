"""Engine steps per second: the pure engine, then through ConversationService on SQLite.

Run: .venv/bin/python scripts/bench/engine.py [--seconds 3]

Rates are steps per CPU second of this process (time.process_time), so they measure one
core even when other work shares the machine; wall-clock rates are printed alongside.
A "step" is one engine call (start or one reply) for the pure engine, and one inbound
message fully processed (inbox row, engine, answers, session, outbox, commit) with
persistence, measured three ways: ``receive`` (the web simulator's path, one message at a
time); as the server does it, each round's messages stored together (``accept_many``, as
the inbox writer does) and then processed one message per transaction
(``process_inbound``); and the same with group commit, a batch of participants' messages
processed in ONE ``process_batch`` transaction, as the inbox worker does. Safeguarding runs
its pattern check only (the embedding model's check runs in a background thread, off the
message path). Goals: >= 20,000 pure steps/s and >= 2,000 persisted steps/s on one core.

To compare with another commit in the same run, export it (``git archive COMMIT | tar -x
-C DIR``), copy this script to DIR/scripts/bench/ and run it there too (figures for what
that tree lacks are skipped).
"""

from __future__ import annotations

import argparse
import itertools
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from bot.safeguarding import checks_from_env  # noqa: E402
from bot.service import ConversationService  # noqa: E402
from bot.studies import StudyRegistry  # noqa: E402
from channels.base import InboundMessage  # noqa: E402
from flows.engine import Engine, TextInput  # noqa: E402
from flows.loader import load_study  # noqa: E402
from storage.database import init_database  # noqa: E402

STUDY = ROOT / "flows" / "examples" / "ae-waiting"
REPLIES = ["yes", "2", "3", "It was a long and cold wait", "4"]
JOIN = "WAIT"
PATTERNS = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"})


@dataclass
class Rate:
    steps: int = 0
    cpu: float = 0.0
    wall: float = 0.0

    @property
    def per_cpu_second(self) -> float:
        return self.steps / self.cpu if self.cpu else 0.0

    @property
    def per_wall_second(self) -> float:
        return self.steps / self.wall if self.wall else 0.0


@contextmanager
def timed(rate: Rate) -> Iterator[None]:
    cpu, wall = time.process_time(), time.perf_counter()
    yield
    rate.cpu += time.process_time() - cpu
    rate.wall += time.perf_counter() - wall


def pure_engine(seconds: float) -> Rate:
    loaded = load_study(STUDY)
    flow = loaded.start_flow()
    engine = Engine(flow.flow, loaded.study, flow.version)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    rate = Rate()
    while rate.wall < seconds:
        with timed(rate):
            sprint = engine.start(now)
            for reply in REPLIES:
                sprint = engine.handle(sprint.state, TextInput(reply), now)
        rate.steps += 1 + len(REPLIES)
        assert sprint.state.status == "ended", sprint.state
    return rate


@contextmanager
def bench_service() -> Iterator[ConversationService]:
    with tempfile.TemporaryDirectory() as folder:
        database = init_database(f"sqlite:///{folder}/bench.db")
        moment = [datetime(2025, 1, 1, tzinfo=UTC)]

        def clock() -> datetime:
            moment[0] += timedelta(milliseconds=1)
            return moment[0]

        yield ConversationService(database, StudyRegistry.from_folder(STUDY), clock, address_key=b"bench", safety=PATTERNS)
        database.dispose()


def persisted(seconds: float) -> tuple[Rate, int]:
    """``receive``, one message at a time."""
    with bench_service() as service:
        ids, rate, people = itertools.count(), Rate(), 0
        while rate.wall < seconds:
            address = f"+4477009{people:05d}"
            messages = [InboundMessage("sms", address, f"bench-{next(ids)}", text) for text in [JOIN, *REPLIES]]
            with timed(rate):
                results = [service.receive(message) for message in messages]
            assert all(r.status in ("joined", "processed") for r in results), results
            rate.steps += len(messages)
            people += 1
    return rate, people


def stored_then_processed(seconds: float, size: int, grouped: bool) -> tuple[Rate, int]:
    """As the server does it: ``size`` participants at a time, each round's messages stored in
    one ``accept_many`` transaction, then processed one per transaction (``process_inbound``)
    or, ``grouped``, all in one ``process_batch`` transaction."""
    with bench_service() as service:
        ids, rate, people = itertools.count(), Rate(), 0
        while rate.wall < seconds:
            addresses = [f"+4477009{people + i:05d}" for i in range(size)]
            for text in [JOIN, *REPLIES]:
                messages = [InboundMessage("sms", a, f"bench-{next(ids)}", text) for a in addresses]
                with timed(rate):
                    accepted = service.accept_many(messages)
                    work = [(r.inbound_id, r.participant_id) for r in accepted if r.inbound_id and r.participant_id]
                    if grouped:
                        results = service.process_batch(work)
                    else:
                        results = [service.process_inbound(inbound_id) for inbound_id, _ in work]
                assert all(r.status in ("joined", "processed") for r in results), results
                rate.steps += len(results)
            people += size
    return rate, people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run each measurement")
    parser.add_argument("--batch", type=int, default=16, help="participants per round for the server's paths")
    args = parser.parse_args()
    pure = pure_engine(args.seconds)
    print(f"pure engine:         {pure.per_cpu_second:10,.0f} steps/s per CPU second ({pure.per_wall_second:,.0f}/s wall)"
          "  goal >= 20,000")
    stored, people = persisted(args.seconds)
    print(f"receive, one by one: {stored.per_cpu_second:10,.0f} steps/s per CPU second ({stored.per_wall_second:,.0f}/s wall)"
          f"  goal >= 2,000  [SQLite, {people} conversations]")
    single, people = stored_then_processed(args.seconds, args.batch, grouped=False)
    print(f"server, 1 per txn:   {single.per_cpu_second:10,.0f} steps/s per CPU second ({single.per_wall_second:,.0f}/s wall)"
          f"  [stored {args.batch} at a time, processed one message per transaction; {people} conversations]")
    if hasattr(ConversationService, "process_batch"):
        grouped, people = stored_then_processed(args.seconds, args.batch, grouped=True)
        print(f"server, group commit:{grouped.per_cpu_second:10,.0f} steps/s per CPU second "
              f"({grouped.per_wall_second:,.0f}/s wall)  [batches of {args.batch} participants; {people} conversations]")
        print(f"group commit / one per transaction: {grouped.per_cpu_second / single.per_cpu_second:.2f}x per CPU second")
    print(f"ratio pure/receive: {pure.per_cpu_second / stored.per_cpu_second:.1f}x")
    print(f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs (CPU-second rates hold up under load; wall rates do not)")


if __name__ == "__main__":
    main()
