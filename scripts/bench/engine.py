"""Engine steps per second: the pure engine, then through ConversationService on SQLite.

Run: .venv/bin/python scripts/bench/engine.py [--seconds 3]

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


def pure_engine(seconds: float) -> float:
    loaded = load_study(STUDY)
    flow = loaded.start_flow()
    engine = Engine(flow.flow, loaded.study, flow.version)
    now = datetime(2025, 1, 1, tzinfo=UTC)
    steps, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sprint = engine.start(now)
        steps += 1
        for reply in REPLIES:
            sprint = engine.handle(sprint.state, TextInput(reply), now)
            steps += 1
        assert sprint.state.status == "ended", sprint.state
    return steps / (time.perf_counter() - started)


def persisted(seconds: float) -> tuple[float, int]:
    with tempfile.TemporaryDirectory() as folder:
        database = init_database(f"sqlite:///{folder}/bench.db")
        moment = [datetime(2025, 1, 1, tzinfo=UTC)]

        def clock() -> datetime:
            moment[0] += timedelta(milliseconds=1)
            return moment[0]

        service = ConversationService(database, StudyRegistry.from_folder(STUDY), clock, address_key=b"bench")
        ids = itertools.count()
        steps, people, started = 0, 0, time.perf_counter()
        while time.perf_counter() - started < seconds:
            address = f"+4477009{people:05d}"
            for text in [JOIN, *REPLIES]:
                result = service.receive(InboundMessage("sms", address, f"bench-{next(ids)}", text))
                assert result.status in ("joined", "processed"), result
                steps += 1
            people += 1
        rate = steps / (time.perf_counter() - started)
        database.dispose()
    return rate, people


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="how long to run each measurement")
    args = parser.parse_args()
    pure = pure_engine(args.seconds)
    stored, people = persisted(args.seconds)
    print(f"pure engine:      {pure:10,.0f} steps/s  (goal >= 20,000)")
    print(f"with persistence: {stored:10,.0f} steps/s  (goal >= 2,000; SQLite, {people} conversations)")
    print(f"ratio pure/persisted: {pure / stored:.1f}x")


if __name__ == "__main__":
    main()
