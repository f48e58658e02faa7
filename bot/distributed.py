"""The distributed task queue: Dramatiq on RabbitMQ (``amqp://``) or Redis (``redis://``).

API processes (``chorus serve`` with ``CHORUS_QUEUE_URL`` set) send tasks here instead of
doing the work; ``chorus worker`` processes (bot/worker.py) consume them. Each task has its
own broker queue (``<namespace>.outbox``, ``<namespace>.voice``), so a pool of GPU machines
can take only voice notes (``chorus worker --queues voice``).

Delivery is at least once (a message is acknowledged after its task ran), and that is
enough: the work itself is idempotent in the database. The outbox dispatcher claims each
row with a conditional update, and a voice note is claimed the same way before it is
transcribed, so a redelivered task finds nothing left to do.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any
from urllib.parse import unquote, urlsplit

import dramatiq
from dramatiq.broker import Broker

from bot.logging_setup import BROKER_CLIENTS, quiet_while
from bot.tasks import SEND_OUTBOX, TASKS, TRANSCRIBE_VOICE, Arg

log = logging.getLogger("chorus.tasks")
QUEUES = {SEND_OUTBOX: "outbox", TRANSCRIBE_VOICE: "voice"}
"""Each task's broker queue, without the namespace."""
RETRIES = {SEND_OUTBOX: 0, TRANSCRIBE_VOICE: 3}
"""A lost nudge costs at most the dispatcher's poll interval; a voice note is worth retrying."""
TIME_LIMITS_MS = {SEND_OUTBOX: 60_000, TRANSCRIBE_VOICE: 15 * 60_000}

_handlers: dict[str, Callable[..., object]] = {}
"""What runs each task in this process (set by the worker runtime)."""


def set_handler(task: str, handler: Callable[..., object] | None) -> None:
    if handler is None:
        _handlers.pop(task, None)
    else:
        _handlers[task] = handler


def _run(task: str) -> Callable[..., None]:
    def run(*args: Any) -> None:
        handler = _handlers.get(task)
        if handler is None:
            raise RuntimeError(f"this process does not run {task} tasks")
        handler(*args)

    run.__name__ = task.replace(".", "_")
    return run


def make_broker(url: str, namespace: str = "chorus") -> Broker:
    """A Dramatiq broker for ``amqp://`` / ``amqps://`` (RabbitMQ) or ``redis://`` / ``rediss://``."""
    scheme = url.split("://", 1)[0].lower()
    if scheme in ("amqp", "amqps"):
        from dramatiq.brokers.rabbitmq import RabbitmqBroker

        return RabbitmqBroker(url=url)
    if scheme in ("redis", "rediss", "unix"):
        from dramatiq.brokers.redis import RedisBroker

        return RedisBroker(url=url, namespace=namespace)
    raise ValueError(f"CHORUS_QUEUE_URL must start with amqp:// or redis://, not {scheme}://")


class BrokerUnavailable(ValueError):
    """The broker in CHORUS_QUEUE_URL cannot be used (refused, wrong login, no such database):
    one line, naming where it is without the password."""


def broker_address(url: str) -> str:
    """``host:port`` of a broker URL, never its user or password (for messages and logs)."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        port = None
    host = parts.hostname or "localhost"
    return f"{host}:{port}" if port else host


def _reason(error: BaseException, url: str) -> str:
    """Why a connection failed, in plain words where we know them, with any password removed."""
    import pika.exceptions
    import redis.exceptions

    if isinstance(error, pika.exceptions.ProbableAuthenticationError | redis.exceptions.AuthenticationError):
        return "login refused (check the user name and password)"
    if isinstance(error, pika.exceptions.ProbableAccessDeniedError):
        return f"access to the virtual host {unquote(urlsplit(url).path.lstrip('/')) or '/'!r} refused"
    if any("connectionrefused" in text.lower().replace(" ", "") for text in (repr(error), str(error))):  # (pika and redis wrap the socket error)
        return "connection refused"
    text = str(error) or repr(error)
    password = urlsplit(url).password
    text = " ".join(text.split())
    if password:
        text = text.replace(password, "***").replace(unquote(password), "***")
    return f"{type(error).__name__}: {text[:200]}"


def check_broker(broker: Broker, url: str) -> None:
    """Connect once, so a broker that cannot be used stops ``chorus worker`` at start with one
    line instead of letting its consumers retry and log tracebacks for ever."""
    quiet = logging.getLogger("pika")
    level = quiet.level
    quiet.setLevel(logging.CRITICAL)  # pika logs each failed attempt; the one line below says it all
    try:
        if hasattr(broker, "client"):  # Redis: PING selects the database and logs in
            broker.client.ping()
        else:
            _ = broker.connection  # type: ignore[attr-defined]  # RabbitMQ: opens this thread's connection
    except Exception as error:
        raise BrokerUnavailable(f"CHORUS_QUEUE_URL: cannot use the broker at {broker_address(url)}: "
                                f"{_reason(error, url)}") from None
    finally:
        quiet.setLevel(level)


def queue_name(task: str, namespace: str = "chorus") -> str:
    return f"{namespace}.{QUEUES[task]}"


class DramatiqQueue:
    """Sends each task to its broker queue; ``chorus worker`` runs them."""

    distributed = True

    def __init__(self, url: str, namespace: str = "chorus") -> None:
        self.url, self.namespace = url, namespace
        self.broker = make_broker(url, namespace)
        self.actors: dict[str, dramatiq.Actor[Any, Any]] = {
            task: dramatiq.actor(
                broker=self.broker, actor_name=f"{namespace}.{task}", queue_name=queue_name(task, namespace),
                max_retries=RETRIES[task], time_limit=TIME_LIMITS_MS[task], min_backoff=1000,
            )(_run(task))
            for task in TASKS
        }

    def enqueue(self, task: str, *args: Arg) -> None:
        actor = self.actors.get(task)
        if actor is None:
            raise ValueError(f"no such task: {task}")
        actor.send(*args)

    def queues(self, names: list[str] | None = None) -> set[str]:
        """Broker queue names for short names (``outbox``, ``voice``); all of them by default."""
        wanted = set(names or QUEUES.values())
        unknown = wanted - set(QUEUES.values())
        if unknown:
            raise ValueError(f"no such queue: {', '.join(sorted(unknown))} (there are {', '.join(QUEUES.values())})")
        return {queue_name(task, self.namespace) for task, short in QUEUES.items() if short in wanted}

    def check(self) -> None:
        """Raise :class:`BrokerUnavailable` (one line) unless the broker takes a connection."""
        check_broker(self.broker, self.url)

    def close(self) -> None:
        """Close the broker's connections, quietly: those RabbitMQ dropped while idle (missed
        heartbeats) would each log ERRORs as they are closed, at every ordinary stop of a
        worker or a serving process (:func:`bot.logging_setup.quiet_while`)."""
        with quiet_while(BROKER_CLIENTS):
            self.broker.close()
