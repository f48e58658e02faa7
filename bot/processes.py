"""Processes of this machine, as leases and claims name them (``host:pid``)."""

from __future__ import annotations

import os


def running(pid: int) -> bool:
    """Whether a process with this id runs on this machine. (One that reused the id only means
    waiting for the claim or lease to go stale.)"""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's: alive
        return True
    return True
