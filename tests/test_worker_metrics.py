"""A ``chorus worker`` sends the replies, so it is where sends and send failures are counted:
with ``--metrics-port`` (``CHORUS_WORKER_METRICS_PORT``) it serves them at ``/metrics`` for
Prometheus, with ``chorus serve``'s access rules (bot/metrics.py, ``MetricsListener``).

The real thing: PostgreSQL, Redis (database 7, a namespace of its own), one ``chorus serve``
taking signed Twilio webhooks, one ``chorus worker`` sending to the fake Twilio."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import select

from bot.metrics import MESSAGES_OUT, MetricsListener
from storage.database import Database, init_database
from storage.tables import OUTBOUND
from tests.db_fixtures import PostgresDatabases
from tests.deployment import ROOT, Deployment, signed_message
from tests.fake_telegram import wait_for
from tests.fake_twilio import FakeTwilio

REDIS_DB7 = "redis://127.0.0.1:6379/7"
API_PORT, WORKER_METRICS_PORT, LISTENER_PORT, TAKEN_PORT = 8161, 8160, 8162, 8163
REFUSED_NUMBER = "+447700900777"


def samples(text: str, name: str) -> dict[tuple[tuple[str, str], ...], float]:
    """Each sample of ``name`` in a Prometheus text exposition, by its labels."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            if sample.name == name:
                found[tuple(sorted(sample.labels.items()))] = sample.value
    return found


@pytest.fixture
def deployment(tmp_path: Path, postgres_databases: PostgresDatabases, fake_twilio: FakeTwilio) -> Iterator[Deployment]:
    url = postgres_databases.url(postgres_databases.create())
    init_database(url).dispose()
    running = Deployment(url, tmp_path, fake_twilio.url, fake_twilio.account_sid, fake_twilio.auth_token, REDIS_DB7,
                         extra_env={"CHORUS_WORKER_METRICS_PORT": str(WORKER_METRICS_PORT)})
    try:
        api = running._spawn("api", ["serve", "--port", str(API_PORT)])
        api.url = f"http://127.0.0.1:{API_PORT}"
        running.start_worker("worker")
        running.wait_ready(120)
        yield running
    finally:
        running.stop()


@pytest.mark.postgres
@pytest.mark.slow
def test_a_worker_serves_the_sends_and_send_failures_it_counts(deployment: Deployment, fake_twilio: FakeTwilio) -> None:
    api = next(p for p in deployment.processes if p.url)
    scrape = f"http://127.0.0.1:{WORKER_METRICS_PORT}/metrics"
    before = httpx.get(scrape, timeout=10)
    assert before.status_code == 200, before.text
    assert samples(before.text, "chorus_errors_total")[(("kind", "send_failed"),)] == 0, "every kind reports 0 from the start"

    fake_twilio.failures[REFUSED_NUMBER] = (400, 21211, "Invalid 'To' Phone Number")
    for sid, sender in enumerate(("+447700900701", REFUSED_NUMBER), start=1):
        form, headers = signed_message(sender, "WAIT", f"SM{sid:032x}", fake_twilio.account_sid, fake_twilio.auth_token)
        assert httpx.post(api.url + "/webhooks/twilio", data=form, headers=headers, timeout=30).status_code == 200
    wait_for(lambda: fake_twilio.bodies_to("+447700900701"), 30, "the worker's reply")
    database = Database(deployment.database_url)
    try:
        def failed() -> int:
            with database.transaction() as connection:
                return len(connection.execute(select(OUTBOUND.c.id).where(OUTBOUND.c.status == "failed")).all())

        wait_for(failed, 30, "the refused send to be marked failed")
        failures = failed()
    finally:
        database.dispose()

    after = httpx.get(scrape, timeout=10).text
    sent = len(fake_twilio.messages)
    assert samples(after, "chorus_messages_sent_total") == {(("channel", "sms"),): sent}, after
    assert samples(after, "chorus_errors_total")[(("kind", "send_failed"),)] == failures == 1
    assert samples(httpx.get(api.url + "/metrics", timeout=10).text, "chorus_messages_sent_total") == {}, \
        "the API process sent nothing: the worker's port is where sends are counted"
    proxied = httpx.get(scrape, headers={"X-Forwarded-For": "203.0.113.9"}, timeout=10)
    assert proxied.status_code == 403, "through a proxy, without CHORUS_METRICS_TOKEN: refused, as serve's /metrics"
    assert httpx.get(f"http://127.0.0.1:{WORKER_METRICS_PORT}/", timeout=10).status_code == 404
    assert "+44" not in after and "7700900" not in after, "metrics name no participant"


def test_a_token_is_needed_when_one_is_set() -> None:
    MESSAGES_OUT.labels("telegram").inc()
    listener = MetricsListener("127.0.0.1", LISTENER_PORT, token="scrape-secret-123")
    listener.start()
    try:
        url = f"http://127.0.0.1:{LISTENER_PORT}/metrics"
        assert httpx.get(url, timeout=5).status_code == 403
        assert httpx.get(url, headers={"Authorization": "Bearer wrong"}, timeout=5).status_code == 403
        answer = httpx.get(url, headers={"Authorization": "Bearer scrape-secret-123"}, timeout=5)
        assert answer.status_code == 200 and answer.headers["content-type"].startswith("text/plain")
        assert samples(answer.text, "chorus_messages_sent_total")[(("channel", "telegram"),)] >= 1
    finally:
        listener.stop()


def worker_command(tmp_path: Path, *args: str, **settings: str) -> subprocess.CompletedProcess[str]:
    """``chorus worker`` with ``settings`` (CHORUS_* variables), on a database of its own, expected to stop at once."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
    env.update(CHORUS_QUEUE_URL=REDIS_DB7, CHORUS_QUEUE_NAMESPACE=f"chorus-test-{uuid.uuid4().hex[:10]}",
               CHORUS_STUDIES_DIR=str(ROOT / "flows" / "examples" / "ae-waiting"),
               CHORUS_DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.db'}", CHORUS_KEY_FILE=str(tmp_path / "chorus.key"),
               CHORUS_DATA_KEY_FILE=str(tmp_path / "chorus-data.keys"), **settings)
    return subprocess.run([sys.executable, "-c", "from bot.cli import main; main()", "worker", *args], cwd=ROOT,
                          env=env, capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize(("name", "value", "said"), [
    ("CHORUS_WORKER_METRICS_PORT", "eighty", "a whole number >= 1 and <= 65535"),
    ("CHORUS_WORKER_METRICS_PORT", "70000", "a whole number >= 1 and <= 65535"),
    ("CHORUS_WORKER_METRICS_HOST", "everywhere", "an IP address to listen on (127.0.0.1, 0.0.0.0, ::)"),
])
def test_a_bad_metrics_setting_stops_the_worker_with_one_line(tmp_path: Path, name: str, value: str, said: str) -> None:
    done = worker_command(tmp_path, **{"CHORUS_WORKER_METRICS_PORT": "8164", name: value})
    assert done.returncode != 0
    assert done.stderr.strip().splitlines() == [f"Error: {name} must be {said}, not '{value}'"], done.stderr
    assert not (tmp_path / "chorus.db").exists(), "stopped before opening anything"


def test_a_metrics_port_already_taken_stops_the_worker_before_it_starts(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", TAKEN_PORT))
        taken.listen()
        done = worker_command(tmp_path, "--metrics-port", str(TAKEN_PORT))
    assert done.returncode != 0
    assert f"cannot serve the worker's metrics on 127.0.0.1:{TAKEN_PORT}" in done.stderr, done.stderr
    assert done.stderr.strip().splitlines() == [f"Error: cannot serve the worker's metrics on 127.0.0.1:{TAKEN_PORT} "
                                                "(--metrics-port, CHORUS_WORKER_METRICS_PORT): Address already in use"]
    assert not (tmp_path / "chorus.db").exists(), "stopped before opening the database"
