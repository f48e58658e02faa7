"""Operations: /metrics, /ready and the body-size limit, on a real server on loopback."""

from __future__ import annotations

import secrets
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics
from bot.app import create_app
from bot.readiness import check_broker, check_database
from bot.settings import Settings
from storage.database import Database
from storage.tables import DUE_TASKS
from tests.channel_helpers import (
    EXAMPLE,
    PUBLIC_URL,
    Running,
    post_twilio,
    provider_env,
    running_chorus,
    sign,
)
from tests.fake_telegram import LocalServer, wait_for
from tests.fake_twilio import FakeTwilio

PHONE = "+447700900456"


@pytest.fixture
def twilio_chorus(tmp_path: Any) -> Iterator[tuple[Running, FakeTwilio]]:
    fake = FakeTwilio()
    with LocalServer(fake.app) as tw:
        fake.url = tw.url
        with running_chorus(f"sqlite:///{tmp_path / 'c.db'}", provider_env(twilio=fake, twilio_url=tw.url)) as running:
            yield running, fake


def form(body: str, sender: str = PHONE) -> dict[str, str]:
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": sender,
            "To": "+447700900999", "Body": body, "NumMedia": "0"}


def scrape(client: httpx.Client, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return {(sample.name, tuple(sorted(sample.labels.items()))): sample.value
            for family in text_string_to_metric_families(response.text) for sample in family.samples}


def value(samples: dict[Any, float], name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def test_metrics_count_messages_errors_and_backlogs_without_naming_anyone(twilio_chorus: Any) -> None:
    running, fake = twilio_chorus
    before = scrape(running.client)
    assert post_twilio(running, form("WAIT"), fake.auth_token).status_code == 200
    assert post_twilio(running, form("WAIT"), "forged").status_code == 403
    assert post_twilio(running, {"From": PHONE, "Body": "hi"}, fake.auth_token).status_code == 400
    wait_for(lambda: fake.messages, what="the reply")
    running.settle()
    with running.chorus.database.transaction() as connection:  # a reminder that should have fired ten minutes ago
        connection.execute(DUE_TASKS.insert().values(kind="reminder", payload={}, due_at=datetime.now(UTC) - timedelta(minutes=10),
                                                     attempts=0, done=False, created_at=datetime.now(UTC)))
    response = running.client.get("/metrics")
    after = scrape(running.client)

    assert value(after, "chorus_messages_received_total", channel="sms") - value(before, "chorus_messages_received_total", channel="sms") == 1
    assert value(after, "chorus_messages_sent_total", channel="sms") - value(before, "chorus_messages_sent_total", channel="sms") >= 1
    assert value(after, "chorus_errors_total", kind="signature") - value(before, "chorus_errors_total", kind="signature") == 1
    assert value(after, "chorus_errors_total", kind="malformed") - value(before, "chorus_errors_total", kind="malformed") == 1
    assert value(after, "chorus_database_up") == 1
    assert value(after, "chorus_outbox_messages", status="queued") == 0
    assert value(after, "chorus_due_tasks_backlog") == 1 and value(after, "chorus_due_tasks_oldest_seconds") >= 590
    assert ("chorus_inbox_pending", (("status", "awaiting_transcript"),)) in after
    webhook = value(after, "chorus_http_request_duration_seconds_count", method="POST", route="/webhooks/twilio", status="200")
    assert webhook - value(before, "chorus_http_request_duration_seconds_count", method="POST", route="/webhooks/twilio",
                           status="200") == 1
    assert "chorus_transcription_seconds_bucket" in response.text
    names_and_labels = "\n".join(line.rsplit(" ", 1)[0] for line in response.text.splitlines() if not line.startswith("#"))
    assert PHONE not in response.text  # the values are numbers: a timestamp may hold the digits 900456
    assert "900456" not in names_and_labels and "p-" not in names_and_labels


def test_metrics_label_routes_by_template_never_by_the_filled_in_path(twilio_chorus: Any) -> None:
    running, _ = twilio_chorus
    running.client.get("/api/v1/studies/some-study-id-4477")
    running.client.get("/no/such/page/07700900456")
    text = running.client.get("/metrics").text
    assert 'route="/api/v1/studies/{study_id}"' in text and 'route="unmatched"' in text
    assert "some-study-id-4477" not in text and "07700900456" not in text  # whole ids: a duration may hold the digits 4477


def test_metrics_need_the_token_when_one_is_set_and_loopback_otherwise(tmp_path: Any) -> None:
    settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'c.db'}", hash_key="k", studies_dir=str(EXAMPLE),
                                 metrics_token="scrape-me")
    with LocalServer(create_app(settings)) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/metrics").status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 403
        assert client.get("/metrics", headers={"Authorization": "Bearer scrape-me"}).status_code == 200
    open_settings = Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'd.db'}", hash_key="k", studies_dir=str(EXAMPLE))
    with LocalServer(create_app(open_settings)) as server, httpx.Client(base_url=server.url) as client:
        assert client.get("/metrics").status_code == 200  # we are on loopback
        # through a reverse proxy on the same machine: not published by accident
        assert client.get("/metrics", headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 403


def test_ready_checks_the_database_and_the_configured_broker(tmp_path: Any) -> None:
    def app(queue_url: str | None) -> Any:
        return create_app(Settings.from_env({}, database_url=f"sqlite:///{tmp_path / 'c.db'}", hash_key="k",
                                            studies_dir=str(EXAMPLE), queue_url=queue_url))

    with LocalServer(app(None)) as server:
        assert httpx.get(server.url + "/ready").json() == {"status": "ready"}
    with LocalServer(app("redis://127.0.0.1:6379/0")) as server:
        assert httpx.get(server.url + "/ready").status_code == 200
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    with LocalServer(app(f"amqp://guest:guest@127.0.0.1:{port}/")) as server:
        response = httpx.get(server.url + "/ready")
        assert response.status_code == 503
        assert response.json() == {"status": "not ready", "reasons": ["broker: ConnectionRefusedError"]}
        assert "guest" not in response.text
        assert httpx.get(server.url + "/health").status_code == 200, "liveness does not depend on the broker"


def test_the_broker_check_speaks_each_protocol() -> None:
    assert check_broker("redis://127.0.0.1:6379/0") is None
    assert check_broker("amqp://guest:guest@127.0.0.1:5672/") is None
    # RabbitMQ's port: it waits for the rest of a protocol header, and never says PONG
    assert check_broker("redis://127.0.0.1:5672/0", timeout=0.5) in ("broker: not a Redis server", "broker: TimeoutError")
    assert check_broker("amqp://127.0.0.1:6379/", timeout=0.5) in ("broker: not an AMQP 0-9-1 server", "broker: TimeoutError")
    assert check_broker("kafka://127.0.0.1/") == "broker: no port for scheme 'kafka'"


def test_the_database_check_names_the_failure_without_the_url() -> None:
    database = Database("postgresql+psycopg://postgres:pw@127.0.0.1:5432/chorus_no_such_database")
    try:
        reason = check_database(database)
    finally:
        database.dispose()
    assert reason is not None and reason.startswith("database: ") and "pw" not in reason


# ----------------------------------------------------------------------------- body limit


def _raw(url: str, head: bytes, body_parts: list[bytes] = [], wait: float = 10.0) -> tuple[bytes, float]:  # noqa: B006
    """Send a request by hand, then read the answer without finishing the body."""
    host, port = url.removeprefix("http://").split(":")
    started = time.monotonic()
    with socket.create_connection((host, int(port)), timeout=wait) as connection:
        connection.sendall(head)
        for part in body_parts:
            connection.sendall(part)
        answer = connection.recv(65536)
    return answer, time.monotonic() - started


def test_a_declared_oversized_body_is_refused_from_its_headers(twilio_chorus: Any) -> None:
    running, _ = twilio_chorus
    url = str(running.client.base_url).rstrip("/")
    head = (b"POST /webhooks/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Content-Length: 50000000\r\n\r\n")
    answer, seconds = _raw(url, head)  # not one byte of the 50 MB is sent: the server must not wait for it
    assert answer.startswith(b"HTTP/1.1 413") and seconds < 5
    assert running.inbound_count() == 0


def test_a_chunked_oversized_body_is_refused_once_it_passes_the_limit(twilio_chorus: Any) -> None:
    running, _ = twilio_chorus
    url = str(running.client.base_url).rstrip("/")
    head = (b"POST /webhooks/twilio HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\n"
            b"Transfer-Encoding: chunked\r\n\r\n")
    chunk = b"x" * 65536
    parts = [b"%x\r\n%s\r\n" % (len(chunk), chunk)] * 20  # 1.3 MB, and the body never ends
    answer, seconds = _raw(url, head, parts)
    assert answer.startswith(b"HTTP/1.1 413") and seconds < 5
    assert running.inbound_count() == 0


def test_a_body_under_the_limit_is_read_as_usual(twilio_chorus: Any) -> None:
    running, fake = twilio_chorus
    values = form("x" * 900_000)
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/webhooks/twilio", values, fake.auth_token)}
    assert running.client.post("/webhooks/twilio", data=values, headers=headers).status_code == 200
    too_big = form("x" * 1_100_000)
    headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/webhooks/twilio", too_big, fake.auth_token)}
    assert running.client.post("/webhooks/twilio", data=too_big, headers=headers).status_code == 413
    assert running.inbound_count() == 1


def test_a_template_error_in_a_conversation_is_counted(tmp_path: Any, database: Any) -> None:
    import shutil

    from bot.safeguarding import checks_from_env
    from bot.service import ConversationService
    from bot.studies import StudyRegistry
    from channels.base import InboundMessage
    from tests.db_fixtures import TEST_ADDRESS_KEY

    study = tmp_path / "ae-waiting"
    shutil.copytree(EXAMPLE, study)
    flow = study / "understand.yaml"
    flow.write_text(flow.read_text(encoding="utf-8").replace("{{ participant.name or 'there' }}",
                                                              "{{ participant.name.upper() }}"), encoding="utf-8")
    service = ConversationService(database, StudyRegistry.from_folder(study), address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    before = metrics.ERRORS.labels("template")._value.get()
    service.receive(InboundMessage("sms", "+447700900321", "SM-template-1", "WAIT"))
    assert metrics.ERRORS.labels("template")._value.get() - before == 1


@pytest.mark.parametrize(("extra", "refusal"), [
    ([], "needs PostgreSQL"),
    (["--telegram-polling", "--database", "postgresql://postgres@127.0.0.1:5432/test"], "runs in one process"),
])
def test_serve_refuses_several_processes_where_they_cannot_work(tmp_path: Path, extra: list[str], refusal: str) -> None:
    from click.testing import CliRunner

    from bot.cli import cli

    env = {"CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'chorus.db'}", "CHORUS_KEY_FILE": str(tmp_path / "chorus.key")}
    result = CliRunner().invoke(cli, ["serve", "--processes", "2", *extra], env=env)
    assert result.exit_code != 0 and refusal in result.output
