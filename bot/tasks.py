"""Background work goes through one small task queue, in this process or across machines.

Tasks are named and take plain arguments (ints and strings), so any queue can carry them:

* ``outbox.send``: messages were queued in the outbox; send them now (a nudge: the
  dispatcher claims rows atomically, so whoever runs it never sends a row twice);
* ``voice.transcribe`` (inbound id): fetch and transcribe a stored voice note.

:class:`InProcessQueue` is the embedded default: each task runs on this process's event
loop through the handler its lifespan registered (the dispatcher's nudge, the voice
pipeline), exactly as before there was a queue. :class:`bot.distributed.DramatiqQueue`
(``CHORUS_QUEUE_URL=amqp://...`` or ``redis://...``) sends the task to a broker instead,
for ``chorus worker`` processes to run (bot/worker.py).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

log = logging.getLogger("chorus.tasks")
SEND_OUTBOX = "outbox.send"
TRANSCRIBE_VOICE = "voice.transcribe"
TASKS = (SEND_OUTBOX, TRANSCRIBE_VOICE)
Arg = int | str
Handler = Callable[..., object]


class TaskQueue(Protocol):
    distributed: bool
    """True when another process (``chorus worker``) does the work."""

    def enqueue(self, task: str, *args: Arg) -> None:
        """Hand one task on and return; safe to call from any thread. May block briefly on
        the network when distributed, so call it off the event loop there."""
        ...

    def close(self) -> None: ...


class InProcessQueue:
    """Runs each task in this process, on the event loop its handler was registered from."""

    distributed = False

    def __init__(self) -> None:
        self._handlers: dict[str, tuple[Handler, asyncio.AbstractEventLoop | None]] = {}

    def register(self, task: str, handler: Handler) -> None:
        """``handler(*args)`` runs the task; registered from the loop it must run on (if any)."""
        try:
            loop: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        self._handlers[task] = (handler, loop)

    def unregister(self, task: str) -> None:
        self._handlers.pop(task, None)

    def enqueue(self, task: str, *args: Arg) -> None:
        if task not in TASKS:
            raise ValueError(f"no such task: {task}")
        found = self._handlers.get(task)
        if found is None:
            # e.g. no channel to send through, or no voice pipeline installed (bot.voice_app.install)
            (log.debug if task == SEND_OUTBOX else log.warning)("task %s%r: nothing in this process runs it", task, args)
            return
        handler, loop = found
        if loop is None or loop.is_closed():
            handler(*args)
            return
        try:
            same = asyncio.get_running_loop() is loop
        except RuntimeError:
            same = False
        if same:
            handler(*args)
        else:
            loop.call_soon_threadsafe(handler, *args)

    def close(self) -> None:
        self._handlers.clear()


def make_queue(url: str | None, namespace: str = "chorus") -> TaskQueue:
    """The in-process queue without a URL; else the distributed queue for that broker, published
    from a thread of its own (bot/handoff.py: a broker that does not answer holds up no request)."""
    if not url:
        return InProcessQueue()
    from bot.distributed import DramatiqQueue
    from bot.handoff import HandOff

    return HandOff(DramatiqQueue(url, namespace))


def register(queue: TaskQueue, task: str, handler: Handler) -> None:
    """Register an in-process handler (nothing to do when another process runs the tasks)."""
    if isinstance(queue, InProcessQueue):
        queue.register(task, handler)
