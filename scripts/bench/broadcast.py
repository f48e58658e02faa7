"""Broadcast benchmark: queue one message to 100,000 participants, then dispatch it by SMS
through the twilio library to a local fake Twilio limited to 100 messages/s.

Prints: queueing time (goal: within 30 s), dispatch rate against the limit (goal: within
5%), duplicates (goal: none), messages to opted-out participants (goal: none), and 429s.
Dispatching all 100,000 at 100/s takes about 17 minutes, so by default the dispatch rate
is measured over --seconds (20); --all sends everything.

    .venv/bin/python scripts/bench/broadcast.py [--participants 100000] [--seconds 20] [--all]
        [--database postgresql://postgres@127.0.0.1:5432/bench]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import tempfile
import time
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import insert  # noqa: E402

from bot.dispatcher import Dispatcher, RateLimit  # noqa: E402
from bot.studies import StudyRegistry  # noqa: E402
from channels.twilio import TwilioChannel, TwilioSettings  # noqa: E402
from storage import outbox  # noqa: E402
from storage.database import init_database  # noqa: E402
from storage.tables import CONTACTS, ENROLMENTS, PARTICIPANTS  # noqa: E402
from tests.fake_telegram import LocalServer  # noqa: E402
from tests.fake_twilio import FakeTwilio  # noqa: E402

LIMIT = 100.0
STUDY = "ae-waiting"


def make_participants(database: object, count: int, opted_out_every: int) -> tuple[list[tuple[str, int]], set[str]]:
    """Participants, contacts and enrolments in bulk (not timed: they exist before a broadcast)."""
    now = datetime.now(UTC)
    people: list[dict[str, Any]] = []
    contacts: list[dict[str, Any]] = []
    enrolments: list[dict[str, Any]] = []
    stopped: set[str] = set()
    sealer = database.sealer  # type: ignore[attr-defined]
    for n in range(count):
        pid, address = f"p-{n:016x}", f"+4470{n:08d}"
        people.append({"id": pid, "language": "en", "fields": {}, "created_at": now})
        contacts.append({"id": n + 1, "participant_id": pid, "channel": "sms", "address_hash": f"{n:064x}", "address_sealed": sealer.seal(address), "created_at": now})
        opted = n % opted_out_every == 0
        if opted:
            stopped.add(address)
        enrolments.append({"participant_id": pid, "study_id": STUDY, "group": None, "language": "en", "channel": "sms",
                           "status": "active", "opted_out": opted, "enrolled_at": now, "opted_out_at": now if opted else None})
    with database.transaction() as connection:  # type: ignore[attr-defined]
        for table, rows in ((PARTICIPANTS, people), (CONTACTS, contacts), (ENROLMENTS, enrolments)):
            for i in range(0, len(rows), 5000):
                connection.execute(insert(table), rows[i:i + 5000])
    return [(p["id"], c["id"]) for p, c in zip(people, contacts, strict=True)], stopped


def queue_broadcast(database: object, targets: list[tuple[str, int]]) -> float:
    started = time.perf_counter()
    now = datetime.now(UTC)
    rows = [{"participant_id": pid, "contact_id": cid, "channel": "sms", "study_id": STUDY, "text": "Round 2 is open: reply to start.",
             "buttons": [], "multiple": False, "kind": "prompt", "created_at": now} for pid, cid in targets]
    with database.transaction() as connection:  # type: ignore[attr-defined]
        outbox.queue(connection, rows)
    return time.perf_counter() - started


async def dispatch(database: object, fake: FakeTwilio, url: str, seconds: float | None, total: int) -> tuple[int, float]:
    settings = TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+447700900999", api_base=url)
    sender = Dispatcher(database, {"sms": TwilioChannel("sms", settings)}, None, {"sms": RateLimit(LIMIT)},  # type: ignore[arg-type]
                        batch=200, max_in_flight=64)
    task = asyncio.create_task(sender.run())
    await asyncio.sleep(2.0)  # warm up: the first batch, connection pools, threads
    start_count, started = len(fake.messages), time.perf_counter()
    if seconds is None:
        while sender.stats.sent + sender.stats.held + sender.stats.failed < total:
            await asyncio.sleep(0.5)
    else:
        await asyncio.sleep(seconds)
    sent, elapsed = len(fake.messages) - start_count, time.perf_counter() - started
    await sender.stop()
    task.cancel()
    return sent, elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--participants", type=int, default=100_000)
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--all", action="store_true")
    parser.add_argument("--database", default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.ERROR)  # 429 retries are expected near the limit; the summary counts them
    folder = tempfile.mkdtemp()
    url = args.database or f"sqlite:///{folder}/broadcast.db"
    database = init_database(url)
    StudyRegistry.from_folder(ROOT / "flows" / "examples" / STUDY).publish(database, datetime.now(UTC))
    targets, stopped = make_participants(database, args.participants, opted_out_every=100)
    queued_in = queue_broadcast(database, targets)
    print(f"database: {database.engine.dialect.name}; participants: {len(targets):,} ({len(stopped):,} opted out)")
    print(f"queueing {len(targets):,} messages: {queued_in:.1f} s (goal: within 30 s) -> {'OK' if queued_in <= 30 else 'MISSED'}")
    fake = FakeTwilio(rate_limit=LIMIT)
    with LocalServer(fake.app) as server:
        fake.url = server.url
        sent, elapsed = asyncio.run(dispatch(database, fake, server.url, None if args.all else args.seconds, len(targets)))
    rate = sent / elapsed
    off = abs(rate - LIMIT) / LIMIT
    duplicates = sum(n - 1 for n in Counter(m["to"] for m in fake.messages).values() if n > 1)
    to_stopped = sum(1 for m in fake.messages if m["to"] in stopped)
    print(f"dispatch: {sent:,} in {elapsed:.1f} s = {rate:.1f}/s against a limit of {LIMIT:.0f}/s "
          f"({off:.1%} off; goal within 5%) -> {'OK' if off <= 0.05 else 'MISSED'}")
    print(f"ratio to the limit: {rate / LIMIT:.3f}; refused by the provider (429): {fake.rejected}")
    print(f"duplicates: {duplicates} (goal 0); sent to opted-out participants: {to_stopped} (goal 0)")
    database.dispose()


if __name__ == "__main__":
    main()
