"""What an operator is told: a serving process of ``chorus serve --processes N`` that dies or
hangs (a WARNING naming it and how it ended, its replacement at INFO), a broker ``chorus serve``
cannot use (one line at start, a non-zero exit), the outbox's recovery of rows left 'sending'
failing (logged once per outage, counted), and what the scheduler's "planned" counts."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client import REGISTRY
from sqlalchemy import func, select, text, update

from bot.dispatcher import Dispatcher, RateLimit
from bot.scheduler import Scheduler, TickStats, describe_tick
from bot.settings import Settings
from channels.base import Capabilities, OutboundMessage
from storage.tables import DUE_TASKS, OUTBOUND
from tests.db_fixtures import PostgresDatabases
from tests.deployment import AMQP_URL, EXAMPLE
from tests.fake_telegram import wait_for

SERVE_PORT = 8130
BROKER_PORT = 8139
"""Nothing listens here: a broker that refuses connections."""


def _env(workdir: Path, database_url: str, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
    env.update({"CHORUS_DATABASE_URL": database_url, "CHORUS_HASH_KEY": "test-key", "CHORUS_STUDIES_DIR": str(EXAMPLE),
                "CHORUS_KEY_FILE": str(workdir / "chorus.key"), "CHORUS_LOG_LEVEL": "INFO",
                "CHORUS_SAFEGUARDING": "patterns", "PYTHONUNBUFFERED": "1", **extra})
    return env


def _serving_processes(parent: int) -> list[int]:
    """uvicorn's serving processes of ``parent`` (not multiprocessing's resource tracker)."""
    found = []
    for entry in Path("/proc").iterdir():
        try:
            stat, command = (entry / "stat").read_text(), (entry / "cmdline").read_text(errors="replace")
        except (OSError, ValueError):
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) == parent and "spawn_main" in command:
            found.append(int(entry.name))
    return sorted(found)


def _healthy() -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{SERVE_PORT}/health", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False


# ----------------------------------------------------------------------------- serving processes


def test_a_serving_process_that_dies_or_hangs_is_named_in_a_warning_and_its_replacement_at_info(
        tmp_path: Path, postgres_databases: PostgresDatabases) -> None:
    log = tmp_path / "serve.log"
    env = _env(tmp_path, postgres_databases.url(postgres_databases.create()))
    env["CHORUS_PROCESS_HEALTH_TIMEOUT"] = "10"  # (30 s by default: a hung process is replaced sooner here)
    with log.open("wb") as out:
        server = subprocess.Popen([sys.executable, "-m", "bot.cli", "serve", "--port", str(SERVE_PORT), "--processes", "2"],
                                  cwd=tmp_path, env=env, stdout=out, stderr=subprocess.STDOUT)
    try:
        wait_for(lambda: len(_serving_processes(server.pid)) == 2 and _healthy(), 180, "two serving processes")
        killed, stopped = _serving_processes(server.pid)

        os.kill(killed, signal.SIGKILL)
        replaced = f"INFO chorus.serve serving process (\\d+) started in place of {killed}"
        wait_for(lambda: f"started in place of {killed}" in log.read_text(), 60, "the restart")
        said = log.read_text()
        assert f" WARNING chorus.serve serving process {killed} was killed by SIGKILL; starting another\n" in said
        found = re.search(replaced, said)
        assert found is not None, said[-2000:]
        wait_for(lambda: int(found[1]) in _serving_processes(server.pid), 30, "the replacement running")
        wait_for(_healthy, 60, "serving again")

        os.kill(stopped, signal.SIGSTOP)  # alive but not answering: killed after CHORUS_PROCESS_HEALTH_TIMEOUT
        wait_for(lambda: f"started in place of {stopped}" in log.read_text(), 60, "the hung process replaced")
        assert (f" WARNING chorus.serve serving process {stopped} stopped answering uvicorn's health check for 10s and "
                "was killed; starting another\n") in log.read_text()
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(60)
    said = log.read_text()
    assert said.count("WARNING chorus.serve") == 2, "stopping the server on purpose is not a death to warn about"
    assert "+44" not in said


def test_uvicorn_exit_codes_are_said_in_words() -> None:
    from bot.commands.serve import _how_it_ended

    assert _how_it_ended(-signal.SIGKILL) == "was killed by SIGKILL"
    assert _how_it_ended(-signal.SIGSEGV) == "was killed by SIGSEGV"
    assert _how_it_ended(1) == "exited with code 1"
    assert _how_it_ended(None) == "ended (exit status unknown)"


# ----------------------------------------------------------------------------- the broker at start


def _refused(port: int) -> bool:
    with socket.socket() as probe:
        return probe.connect_ex(("127.0.0.1", port)) != 0


@pytest.mark.parametrize("queue_url", [f"amqp://guest:s3cret-pw@127.0.0.1:{BROKER_PORT}/%2F",
                                       f"redis://:s3cret-pw@127.0.0.1:{BROKER_PORT}/0"])
def test_chorus_serve_with_a_broker_it_cannot_reach_stops_at_start_in_one_line(tmp_path: Path, queue_url: str) -> None:
    assert _refused(BROKER_PORT)
    env = _env(tmp_path, f"sqlite:///{tmp_path / 'chorus.db'}", CHORUS_QUEUE_URL=queue_url)
    done = subprocess.run([sys.executable, "-m", "bot.cli", "serve", "--port", str(SERVE_PORT + 1)], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().splitlines() == [
        f"Error: CHORUS_QUEUE_URL: cannot use the broker at 127.0.0.1:{BROKER_PORT}: connection refused"], done.stderr
    assert "Chorus on http" not in done.stderr and not (tmp_path / "chorus.db").exists(), "stopped before building anything"


def test_the_embedded_default_and_a_broker_that_answers_pass_the_check(tmp_path: Path) -> None:
    from bot.commands.serve import _check_broker

    database = f"sqlite:///{tmp_path / 'never.db'}"
    _check_broker(Settings.from_env({}, database_url=database, hash_key="k"))  # no CHORUS_QUEUE_URL: nothing to reach
    _check_broker(Settings.from_env({}, database_url=database, hash_key="k", queue_url=AMQP_URL))


# ----------------------------------------------------------------------------- recovering rows left 'sending'


class Channel:
    name = "sms"
    capabilities = Capabilities()

    def __init__(self) -> None:
        self.sent: list[int | None] = []

    async def send(self, message: OutboundMessage) -> str:
        self.sent.append(message.outbox_id)
        return f"SM{message.outbox_id}"


def _recovery_errors() -> float:
    return REGISTRY.get_sample_value("chorus_errors_total", {"kind": "outbox_recovery"}) or 0.0


@pytest.mark.parametrize("database_kind", ["sqlite"])
def test_recovering_rows_left_sending_that_fails_is_logged_once_counted_and_said_when_it_works_again(
        service: Any, say: Callable[..., Any], clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    say("WAIT")
    o = OUTBOUND.c
    with service.database.transaction() as connection:  # a process died while sending it, an hour ago
        connection.execute(update(OUTBOUND).values(status="sending", sent_at=clock.now - timedelta(hours=1)))
        connection.execute(text("CREATE TRIGGER recovery_breaks BEFORE UPDATE ON outbound_messages "
                                "WHEN NEW.status = 'queued' BEGIN SELECT RAISE(ABORT, 'the disk is full'); END"))
    caplog.set_level(logging.INFO, logger="chorus.dispatcher")
    channel = Channel()
    dispatcher = Dispatcher(service.database, {"sms": channel}, service.studies, {"sms": RateLimit(1000)}, clock=clock,
                            poll_interval=0.02, stale_after=timedelta(seconds=0.2))
    before = _recovery_errors()

    def about_recovery() -> list[logging.LogRecord]:
        return [r for r in caplog.records if r.getMessage().startswith("recovering rows left 'sending'")]

    async def scenario() -> None:
        running = asyncio.create_task(dispatcher.run())
        deadline = time.monotonic() + 30
        while _recovery_errors() - before < 4 and time.monotonic() < deadline:  # it keeps trying, every 0.1 s here
            await asyncio.sleep(0.05)
        assert _recovery_errors() - before >= 4, "each failed attempt counted"
        said = about_recovery()
        assert [(r.levelname, bool(r.exc_info)) for r in said] == [("ERROR", True)], "said once, with its traceback"
        assert "the disk is full" in said[0].getMessage()
        assert channel.sent == [], "the participant's messages wait behind the row in doubt"
        with service.database.transaction() as connection:
            connection.execute(text("DROP TRIGGER recovery_breaks"))
        while not channel.sent and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        await dispatcher.stop()
        await running

    asyncio.run(scenario())
    with service.database.transaction() as connection:
        assert connection.execute(select(o.status)).scalars().all() == ["sent"], "recovered, then sent"
    said = about_recovery()
    assert [r.levelname for r in said] == ["ERROR", "WARNING"]
    assert said[1].getMessage().startswith("recovering rows left 'sending' works again after ")


# ----------------------------------------------------------------------------- what "planned" counts


def test_a_tick_says_how_many_enrolments_it_planned_and_that_tasks_are_not_messages() -> None:
    stats = TickStats(planned=11, enrolments=4, claimed=3, outcomes={"fired": 2, "dropped": 1})
    assert describe_tick(stats) == ("planned 4 new enrolments (11 scheduled tasks: follow-ups, reminders, closings and a "
                                    "planning check each); claimed 3 due tasks: dropped 1, fired 2")
    assert describe_tick(TickStats(claimed=1, outcomes={"fired": 1})) == "claimed 1 due task: fired 1"


def test_the_scheduler_logs_the_enrolments_it_planned_and_the_task_rows_it_added(
        service: Any, say: Callable[..., Any], clock: Any, caplog: pytest.LogCaptureFixture) -> None:
    say("WAIT")
    say("WAIT", address="+447700900002")
    caplog.set_level(logging.INFO, logger="chorus.scheduler")
    Scheduler(service.database, service, service.studies, clock).run_tick()
    with service.database.transaction() as connection:
        rows = connection.execute(select(func.count()).select_from(DUE_TASKS)).scalar_one()
    ticks = [r for r in caplog.records if r.getMessage().startswith("tick: ")]
    assert [r.getMessage() for r in ticks] == [f"tick: planned 2 new enrolments ({rows} scheduled tasks: follow-ups, "
                                               "reminders, closings and a planning check each)"]
    assert rows > 2, "more tasks than people: the two numbers count different things"
    assert (ticks[0].enrolments_planned, ticks[0].tasks_planned) == (2, rows)  # type: ignore[attr-defined]
