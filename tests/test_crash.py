"""Nothing lost: a real ``chorus serve`` killed with SIGKILL under load, and a burst above capacity.

The crash tests are ``scripts/crash_test`` at its full size: 1,000 participants send 10,000
messages over Telegram, SMS and WhatsApp while the server is killed 5 times (and once more
while the backlog drains), with 1,000 follow-ups falling due meanwhile. About 1.5 minutes
each on this machine. See tests/crash_harness.py for what is checked.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.crash_harness import crash_run, overload_run
from tests.db_fixtures import PostgresDatabases

PARTICIPANTS = 1000
MESSAGES = 10
KILLS = 5
SPREAD = 60
"""Seconds over which the follow-ups fall due (as scripts/crash_test)."""


@pytest.mark.slow
def test_killing_the_server_under_load_loses_and_doubles_nothing(tmp_path: Path) -> None:
    outcome = crash_run(tmp_path, f"sqlite:///{tmp_path / 'chorus.db'}", PARTICIPANTS, MESSAGES, KILLS,
                        follow_ups=PARTICIPANTS, spread=SPREAD, drain_timeout=600)
    print(outcome.summary())
    assert outcome.load.retries > 0, "no webhook was ever refused: the kills came at the wrong time"
    assert len(outcome.restarts) == KILLS + 1


@pytest.mark.slow
@pytest.mark.postgres
def test_killing_the_server_under_load_loses_and_doubles_nothing_on_postgresql(
    tmp_path: Path, postgres_databases: PostgresDatabases
) -> None:
    url = postgres_databases.url(postgres_databases.create())
    outcome = crash_run(tmp_path, url, PARTICIPANTS, MESSAGES, KILLS, follow_ups=PARTICIPANTS, spread=SPREAD,
                        drain_timeout=600)
    print(outcome.summary())
    assert outcome.load.retries > 0
    assert len(outcome.restarts) == KILLS + 1


@pytest.mark.slow
def test_a_burst_above_capacity_is_answered_in_time_and_drained_in_bounded_memory(tmp_path: Path) -> None:
    burst = overload_run(tmp_path, f"sqlite:///{tmp_path / 'chorus.db'}", webhooks=3000, concurrency=1000)
    assert burst.load.retries == 0, f"webhooks not answered: {dict(burst.load.errors)}"
    assert burst.load.max_latency < 15, "Twilio gives a webhook 15 seconds"
    assert burst.backlog_peak > 0, "the burst was not above capacity: nothing ever waited to be processed"
    assert burst.rss_peak_kib - burst.rss_before_kib < 150 * 1024, "memory grew with the backlog"
