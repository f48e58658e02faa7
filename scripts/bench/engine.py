"""Engine steps per second: the pure engine, then through ConversationService on SQLite.

Run: .venv/bin/python scripts/bench/engine.py [--seconds 3]

Rates are steps per CPU second of this process (time.process_time), so they measure one
core even when other work shares the machine; wall-clock rates are printed alongside.
A "step" is one engine call (start or one reply) for the pure engine, and one inbound
message fully processed (inbox row, engine, answers, session, outbox, commit) with
persistence. Goals: >= 20,000 pure steps/s and >= 2,000 persisted steps/s on one core.
"""

from __future__ import annotations

import argparse
import itertools
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

from bot.service import ConversationService  # noqa: E402
from bot.studies import StudyRegistry  # noqa: E402
from channels.base import InboundMessage  # noqa: E402
from flows.engine import Engine, TextInput  # noqa: E402
from flows.loader import load_study  # noqa: E402
from storage.database import init_database  # noqa: E402

STUDY = ROOT / "flows" / "examples" / "ae-waiting"
REPLIES = ["yes", "2", "3", "It was a long and cold wait", "4"]
JOIN = "WAIT"


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


def persisted(seconds: float) -> tuple[Rate, int]:
    with tempfile.TemporaryDirectory() as folder:
        database = init_database(f"sqlite:///{folder}/bench.db")
        moment = [datetime(2025, 1, 1, tzinfo=UTC)]

        def clock() -> datetime:
            moment[0] += timedelta(milliseconds=1)
            return moment[0]

        service = ConversationService(database, StudyRegistry.from_folder(STUDY), clock, address_key=b"bench")
        ids, rate, people = itertools.count(), Rate(), 0
        while rate.wall < seconds:
            address = f"+4477009{people:05d}"
            messages = [InboundMessage("sms", address, f"bench-{next(ids)}", text) for text in [JOIN, *REPLIES]]
            with timed(rate):
                results = [service.receive(message) for message in messages]
            assert all(r.status in ("joined", "processed") for r in results), results
            rate.steps += len(messages)
            people += 1
        database.dispose()
    return rate, people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run each measurement")
    args = parser.parse_args()
    pure = pure_engine(args.seconds)
    stored, people = persisted(args.seconds)
    print(f"pure engine:      {pure.per_cpu_second:10,.0f} steps/s per CPU second ({pure.per_wall_second:,.0f}/s wall)  goal >= 20,000")
    print(f"with persistence: {stored.per_cpu_second:10,.0f} steps/s per CPU second ({stored.per_wall_second:,.0f}/s wall)  goal >= 2,000"
          f"  [SQLite, {people} conversations]")
    print(f"ratio pure/persisted: {pure.per_cpu_second / stored.per_cpu_second:.1f}x")


if __name__ == "__main__":
    main()
