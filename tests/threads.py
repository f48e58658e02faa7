"""Holding something on another thread while a test checks what this one does meanwhile."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from typing import Any


@contextmanager
def held_on_another_thread(hold: Callable[[], AbstractContextManager[Any]]) -> Iterator[None]:
    """Enter ``hold()`` on another thread (a lock, a transaction...) and keep it entered while
    the block runs; then let it go and wait for that thread."""
    held, release = threading.Event(), threading.Event()

    def holding() -> None:
        with hold():
            held.set()
            release.wait(10)

    thread = threading.Thread(target=holding)
    thread.start()
    assert held.wait(10), "the other thread never got hold"
    try:
        yield
    finally:
        release.set()
        thread.join()
