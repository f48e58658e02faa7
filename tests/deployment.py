"""Chorus as real processes on loopback: ``chorus serve`` API processes and ``chorus worker``
processes, started with the same settings, against the fake Twilio in this process.

Used by tests/test_distributed.py and scripts/bench/load.py. Each deployment gets its own
broker namespace (queue names), so runs sharing one RabbitMQ or Redis never take each
other's tasks; :func:`delete_queues` removes the queues afterwards.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from twilio.request_validator import RequestValidator

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "flows" / "examples" / "ae-waiting"
PUBLIC_URL = "https://chorus.example.org"
SMS_FROM = "+447700900999"
WHATSAPP_FROM = "+447700900888"
AMQP_URL = os.environ.get("CHORUS_TEST_AMQP", "amqp://guest:guest@127.0.0.1:5672")
REDIS_URL = os.environ.get("CHORUS_TEST_REDIS", "redis://127.0.0.1:6379/0")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Process:
    name: str
    popen: subprocess.Popen[bytes]
    log: Path
    url: str = ""
    args: tuple[str, ...] = ()

    def output(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@dataclass
class Deployment:
    """API and worker processes with one database and (when distributed) one broker."""

    database_url: str
    workdir: Path
    twilio_url: str
    account_sid: str
    auth_token: str
    queue_url: str | None = None
    namespace: str = field(default_factory=lambda: f"chorus-test-{uuid.uuid4().hex[:10]}")
    extra_env: dict[str, str] = field(default_factory=dict)
    processes: list[Process] = field(default_factory=list)

    def env(self) -> dict[str, str]:
        env = {key: value for key, value in os.environ.items() if not key.startswith(("CHORUS_", "TWILIO_", "TELEGRAM_"))}
        env.update({
            "CHORUS_DATABASE_URL": self.database_url, "CHORUS_HASH_KEY": "test-key", "CHORUS_STUDIES_DIR": str(EXAMPLE),
            "CHORUS_KEY_FILE": str(self.workdir / "chorus.key"), "CHORUS_VOICE_AUDIO_DIR": str(self.workdir / "audio"),
            "CHORUS_SAFEGUARDING": "patterns", "CHORUS_PUBLIC_URL": PUBLIC_URL, "CHORUS_LOG_LEVEL": "INFO",
            "TWILIO_ACCOUNT_SID": self.account_sid, "TWILIO_AUTH_TOKEN": self.auth_token, "TWILIO_SMS_FROM": SMS_FROM,
            "TWILIO_WHATSAPP_FROM": WHATSAPP_FROM, "CHORUS_TWILIO_WHATSAPP_RATE": "1000",
            "CHORUS_TWILIO_API_BASE": self.twilio_url, "CHORUS_TWILIO_SMS_RATE": "1000", "PYTHONUNBUFFERED": "1",
        })
        if self.queue_url:
            env.update(CHORUS_QUEUE_URL=self.queue_url, CHORUS_QUEUE_NAMESPACE=self.namespace)
        env.update(self.extra_env)
        return env

    def _spawn(self, name: str, args: list[str]) -> Process:
        log = self.workdir / f"{name}.log"
        with log.open("wb") as out:
            popen = subprocess.Popen([sys.executable, "-c", "from bot.cli import main; main()", *args], cwd=ROOT, env=self.env(),
                                     stdout=out, stderr=subprocess.STDOUT)
        process = Process(name, popen, log)
        self.processes.append(process)
        return process

    def start_api(self, name: str, *args: str) -> Process:
        port = free_port()
        process = self._spawn(name, ["serve", "--port", str(port), *args])
        process.url, process.args = f"http://127.0.0.1:{port}", args
        return process

    def start_worker(self, name: str, *args: str) -> Process:
        return self._spawn(name, ["worker", "--threads", "4", *args])

    def wait_ready(self, timeout: float = 60.0) -> None:
        """Until every API answers /health and every worker says it is ready."""
        deadline = time.monotonic() + timeout
        waiting = list(self.processes)
        while waiting:
            for process in list(waiting):
                if process.popen.poll() is not None and process.url and "address already in use" in process.output():
                    # another program took the free port first: try another one
                    self.processes.remove(process)
                    waiting.remove(process)
                    waiting.append(self.start_api(process.name, *process.args))
                    continue
                if process.popen.poll() is not None:
                    raise RuntimeError(f"{process.name} exited with {process.popen.returncode}:\n{process.output()[-3000:]}")
                if _ready(process):
                    waiting.remove(process)
            if time.monotonic() > deadline:
                raise RuntimeError("not ready in time: " + ", ".join(f"{p.name}:\n{p.output()[-2000:]}" for p in waiting))
            time.sleep(0.1)

    def stop(self) -> None:
        for process in self.processes:
            if process.popen.poll() is None:
                process.popen.send_signal(signal.SIGTERM)
        for process in self.processes:
            try:
                process.popen.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.popen.kill()
                process.popen.wait()
        if self.queue_url:
            delete_queues(self.queue_url, self.namespace)


def _ready(process: Process) -> bool:
    if process.url:
        try:
            return httpx.get(process.url + "/health", timeout=2).status_code == 200
        except httpx.HTTPError:
            return False
    return "ready" in process.output()


def delete_queues(url: str, namespace: str) -> None:
    """Remove a namespace's queues from the broker (the test and benchmark make new ones each run)."""
    from bot.distributed import QUEUES

    names = [f"{namespace}.{short}" for short in QUEUES.values()]
    if url.startswith("amqp"):
        import pika

        connection = pika.BlockingConnection(pika.URLParameters(url))
        try:
            channel = connection.channel()
            for name in names:
                for queue in (name, f"{name}.DQ", f"{name}.XQ"):
                    channel.queue_delete(queue)
        finally:
            connection.close()
    else:
        import redis

        client = redis.Redis.from_url(url)
        keys = list(client.scan_iter(f"{namespace}:*"))
        if keys:
            client.delete(*keys)
        client.close()


def signed_message(sender: str, text: str, message_sid: str, account_sid: str, auth_token: str,
                   **extra: str) -> tuple[dict[str, str], dict[str, str]]:
    """A Twilio message webhook's form and headers, signed as Twilio signs them for PUBLIC_URL.
    ``sender`` is ``+44...`` for SMS or ``whatsapp:+44...`` for WhatsApp."""
    to = f"whatsapp:{WHATSAPP_FROM}" if sender.startswith("whatsapp:") else SMS_FROM
    form = {"MessageSid": message_sid, "AccountSid": account_sid, "From": sender, "To": to, "Body": text,
            "NumMedia": "0", **extra}
    signature = RequestValidator(auth_token).compute_signature(PUBLIC_URL + "/webhooks/twilio", form)
    return form, {"X-Twilio-Signature": signature}
