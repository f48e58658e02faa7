"""Handing an API process's background work to the broker without waiting for it.

``chorus serve`` with ``CHORUS_QUEUE_URL`` publishes a task after each stored message (send
its replies, transcribe its voice note). Publishing opens a connection to the broker when it
has none, and a broker that does not answer (a network partition, a broker stopped without
closing its port) holds that for about 15 seconds: on the event loop, every webhook, ``/health``
and ``/ready`` of the process waited behind it, and Twilio gave up on its webhooks.

:class:`HandOff` publishes on a thread of its own instead and returns at once. Nothing needs the
publication to succeed: the message and its replies are committed before it, the workers'
dispatchers poll the outbox every second, and they look for voice notes left waiting every
minute (bot/voice.py, ``keep_recovering``). So a task waiting behind one just like it is not
added twice, and while the broker fails, tasks are dropped rather than piled up: the first
failure is logged with its cause, then one line every 30 seconds, and one when it works again
(bot/outage.py); each dropped or failed task counts in ``chorus_errors_total{kind="broker"}``.
"""

from __future__ import annotations

import logging
import threading
from collections import deque

from bot import metrics
from bot.outage import Outage
from bot.tasks import Arg, TaskQueue

log = logging.getLogger("chorus.tasks")
MAX_WAITING = 1000
"""Tasks waiting at most to be published; more are dropped (each is a nudge the polls make up for)."""


class HandOff:
    """A distributed :class:`~bot.tasks.TaskQueue` whose :meth:`enqueue` never blocks."""

    distributed = True

    def __init__(self, queue: TaskQueue, max_waiting: int = MAX_WAITING) -> None:
        self.queue = queue
        self.max_waiting = max_waiting
        self.outage = Outage(log, "handing work to the broker (replies still go at the workers' next poll of the "
                                  "outbox; voice notes are picked up within a minute)", traceback=False)
        self._waiting: deque[tuple[str, tuple[Arg, ...]]] = deque()
        self._ready = threading.Condition()
        self._closed = False
        self._thread = threading.Thread(target=self._publish_all, name="chorus-handoff", daemon=True)
        self._thread.start()

    def enqueue(self, task: str, *args: Arg) -> None:
        """Queue the task for publishing and return at once (dropped while the broker fails)."""
        item = (task, args)
        with self._ready:
            if self._closed or item in self._waiting:
                return
            if self.outage.waiting() or len(self._waiting) >= self.max_waiting:
                metrics.error("broker")
                return
            self._waiting.append(item)
            self._ready.notify()

    def waiting(self) -> int:
        """Tasks not yet published."""
        with self._ready:
            return len(self._waiting)

    def close(self) -> None:
        """Publish what waits (for a few seconds at most), then close the broker's connections."""
        with self._ready:
            self._closed = True
            self._ready.notify()
        self._thread.join(timeout=5)
        self.queue.close()

    def _publish_all(self) -> None:
        while True:
            with self._ready:
                while not self._waiting and not self._closed:
                    self._ready.wait()
                if not self._waiting:
                    return
                task, args = self._waiting.popleft()
            try:
                self.queue.enqueue(task, *args)
            except Exception as error:
                metrics.error("broker")
                self.outage.failed(error)
                with self._ready:  # the polls make up for these: waiting out the back-off would only delay newer ones
                    dropped = len(self._waiting)
                    self._waiting.clear()
                for _ in range(dropped):
                    metrics.error("broker")
            else:
                self.outage.succeeded()
