"""``chorus worker`` with a broker it cannot use stops at start with one line (bot/distributed.py
``check_broker``), on the real RabbitMQ and Redis; and the back-off tracker on its own (bot/outage.py)."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.distributed import BrokerUnavailable, DramatiqQueue
from bot.outage import Outage
from bot.settings import Settings
from bot.worker import WorkerRuntime
from tests.deployment import AMQP_URL, REDIS_URL

AMQP_HOST = AMQP_URL.split("@", 1)[1].split("/", 1)[0]  # 127.0.0.1:5672
REDIS_HOST = REDIS_URL.split("://", 1)[1].split("/", 1)[0]


def problem(url: str) -> str:
    queue = DramatiqQueue(url)
    try:
        with pytest.raises(BrokerUnavailable) as raised:
            queue.check()
    finally:
        queue.close()
    message = str(raised.value)
    assert "\n" not in message and message.startswith("CHORUS_QUEUE_URL: cannot use the broker at ")
    return message


def test_a_broker_that_works_passes_the_check() -> None:
    for url in (AMQP_URL, REDIS_URL):
        queue = DramatiqQueue(url)
        queue.check()
        queue.close()


@pytest.mark.parametrize(("url", "expected"), [
    (f"amqp://guest:s3cret-pw@{AMQP_HOST}/%2F", f"{AMQP_HOST}: login refused"),
    ("amqp://guest:guest@127.0.0.1:1/%2F", "127.0.0.1:1: connection refused"),
    (f"amqp://guest:guest@{AMQP_HOST}/no-such-vhost", "virtual host 'no-such-vhost' refused"),
    (f"redis://{REDIS_HOST}/99", f"{REDIS_HOST}: ResponseError: DB index is out of range"),
    ("redis://127.0.0.1:1/0", "127.0.0.1:1: connection refused"),
    (f"redis://nobody:s3cret-pw@{REDIS_HOST}/0", f"{REDIS_HOST}: login refused"),
])
def test_a_broker_that_cannot_be_used_is_named_in_one_line_without_its_password(url: str, expected: str) -> None:
    message = problem(url)
    assert expected in message
    assert "s3cret-pw" not in message


def test_the_worker_runtime_checks_the_broker_before_building_anything(tmp_path: Path) -> None:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'never.db'}", hash_key="k",
                                 queue_url="amqp://guest:guest@127.0.0.1:1/%2F")
    runtime = WorkerRuntime(settings)
    with pytest.raises(BrokerUnavailable, match="connection refused"):
        runtime.start()
    assert runtime.chorus is None and not (tmp_path / "never.db").exists()


def test_chorus_worker_with_a_wrong_password_exits_with_one_line(tmp_path: Path) -> None:
    env = {**os.environ, "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}", "CHORUS_HASH_KEY": "k",
           "CHORUS_QUEUE_URL": f"amqp://guest:s3cret-pw@{AMQP_HOST}/%2F", "CHORUS_DATA_KEY_FILE": str(tmp_path / "keys")}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "worker", "--no-scheduler"], env=env, cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode != 0
    lines = done.stderr.strip().splitlines()
    assert lines == [f"Error: CHORUS_QUEUE_URL: cannot use the broker at {AMQP_HOST}: login refused "
                     "(check the user name and password)"], done.stderr
    assert "ready" not in done.stdout + done.stderr


class Ticking:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now


def test_the_tracker_backs_off_logs_one_trace_then_a_line_every_30_seconds_and_says_when_it_is_back(
        caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="chorus.test")
    clock = Ticking()
    outage = Outage(logging.getLogger("chorus.test"), "reading the inbox", clock=clock)
    delays = []
    for _ in range(12):  # each retry waits the delay it was given: 1, 2, 4 ... 30
        delays.append(outage.failed(ValueError("down")))
        clock.now += delays[-1]
        assert not outage.waiting()
    assert delays[:6] == [1, 2, 4, 8, 16, 30] and set(delays[6:]) == {30}
    said = [r for r in caplog.records if r.name == "chorus.test"]
    assert [bool(r.exc_info) for r in said][:1] == [True] and not any(r.exc_info for r in said[1:])
    assert len(said) == 1 + int(sum(delays[:-1]) // 30)  # a reminder about every 30 s, never more often
    assert all(r.getMessage().startswith("reading the inbox: failing, still retrying") for r in said[1:])
    outage.failed(KeyError("another"))  # a different failure: its own traceback
    assert caplog.records[-1].exc_info is not None
    outage.succeeded()
    assert caplog.records[-1].getMessage().startswith("reading the inbox works again after 13 failed attempts")
    outage.succeeded()  # said once
    assert "works again" not in caplog.records[-2].getMessage()
    assert outage.failed(ValueError("down again")) == 1  # the back-off starts again
