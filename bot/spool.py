"""Inbound messages kept on local disk while the database is unreachable, so none is lost.

Twilio does not send an inbound-message webhook again, so a message that could not be stored
was gone. Now a webhook whose message cannot be stored because the database is unreachable
(a connection-level error, bot/outage.py) writes the parsed message to this spool and answers
as usual (bot/webhooks.py). Each message is one file, sealed with the deployment's data keys
(storage/crypto.py: Fernet, AES with an HMAC tag) and fsynced, with its folder, before the
webhook is answered. While anything waits here, new messages go behind it, so each
participant's messages stay in the order they came.

:class:`SpoolReplayer` stores what waits, oldest first, once the database answers (at start
too, so a restart replays what is left), and deletes each file only after its message is
committed. The inbox is unique on (channel, provider id), so a message stored twice (a crash
between commit and delete) is a harmless duplicate. A file that cannot be read (a key that is
gone, a damaged file) is moved to ``corrupt/`` beside the others and logged, never retried in
a loop. Logs give counts, never who wrote or what. ``chorus serve`` checks at start that the
folder takes a file (:func:`unwritable`), rather than finding out in the outage it is for.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import itertools
import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import make_url

from bot.inbound import ReceiveResult
from bot.outage import Outage, is_database_error
from bot.settings import Settings
from channels.base import InboundMessage, Media
from storage.crypto import Sealer
from storage.database import normalise_url

log = logging.getLogger("chorus.spool")
SUFFIX = ".spool"
UNFINISHED = ".tmp"
ASIDE = "corrupt"


def spool_folder(settings: Settings) -> Path:
    """The ``spool_dir`` setting; by default a ``spool`` folder beside the SQLite database, else ``var/spool``."""
    if settings.spool_dir is not None:
        return settings.spool_dir
    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() == "sqlite" and url.database and url.database != ":memory:" and not url.database.startswith("file:"):
        return Path(url.database).expanduser().parent / "spool"
    return Path("var/spool")


def unwritable(folder: Path) -> str | None:
    """Why messages could not be spooled in ``folder`` (made if missing, a probe file written,
    synced and removed), or None: found at start, not in the outage the spool is for."""
    probe = folder / f".probe-{os.getpid()}{UNFINISHED}"
    try:
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        with os.fdopen(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(b"probe")
            os.fsync(handle.fileno())
        probe.unlink()
    except OSError as error:
        return f"{type(error).__name__}: {error.strerror or error}"
    return None


def encode(message: InboundMessage) -> str:
    fields = dataclasses.asdict(message)
    fields["received_at"] = message.received_at.isoformat() if message.received_at else None
    return json.dumps(fields, default=str, separators=(",", ":"))


def decode(text: str) -> InboundMessage:
    fields = json.loads(text)
    fields["media"] = tuple(Media(**media) for media in fields["media"])
    fields["received_at"] = datetime.fromisoformat(fields["received_at"]) if fields["received_at"] else None
    return InboundMessage(**fields)


def waiting_in(folder: Path) -> list[Path]:
    """The messages waiting in a spool folder, oldest first."""
    try:
        return sorted(entry for entry in folder.iterdir() if entry.name.endswith(SUFFIX))
    except FileNotFoundError:
        return []


class SpoolCorrupt(Exception):
    """A spool file that cannot be opened or read as a message (only the error's kind, never its content)."""


class Spool:
    """One folder of sealed messages, a file each, named so that they sort in arrival order."""

    def __init__(self, folder: Path, sealer: Sealer) -> None:
        self.folder = folder
        self.sealer = sealer
        self.writing = 0
        """Messages being written now (on the event loop's count, so the replayer sees them)."""
        self._sequence = itertools.count()
        self._set_aside_unfinished()
        self.pending = bool(self.entries())
        """Messages wait here: new ones go behind them. A hint kept by this process."""

    def entries(self) -> list[Path]:
        """The waiting messages, oldest first."""
        return waiting_in(self.folder)

    def depth(self) -> int:
        try:
            return sum(1 for entry in os.scandir(self.folder) if entry.name.endswith(SUFFIX))
        except FileNotFoundError:
            return 0

    async def keep(self, message: InboundMessage) -> None:
        """Write the message, durably, before the webhook is answered. Named here, on the event
        loop, so messages keep the order they came in."""
        name = f"{time.time_ns():020d}-{next(self._sequence):09d}-{os.getpid()}"
        self.pending = True
        self.writing += 1
        try:
            await asyncio.to_thread(self.write, name, message)
        finally:
            self.writing -= 1

    def write(self, name: str, message: InboundMessage) -> Path:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        unfinished, path = self.folder / (name + UNFINISHED), self.folder / (name + SUFFIX)
        with os.fdopen(os.open(unfinished, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "wb") as handle:
            handle.write(self.sealer.seal(encode(message)).encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(unfinished, path)
        folder = os.open(self.folder, os.O_RDONLY)
        try:
            os.fsync(folder)  # the new name is on disk too
        finally:
            os.close(folder)
        return path

    def read(self, path: Path) -> InboundMessage:
        try:
            return decode(self.sealer.open(path.read_bytes().decode("ascii")))
        except (ValueError, KeyError, TypeError) as error:  # (DataKeyError and JSON's errors are ValueErrors)
            raise SpoolCorrupt(type(error).__name__) from None

    def remove(self, paths: Sequence[Path]) -> None:
        for path in paths:
            path.unlink(missing_ok=True)  # (another process's replayer may have stored it first)

    def set_aside(self, path: Path, why: str) -> None:
        aside = self.folder / ASIDE
        aside.mkdir(mode=0o700, exist_ok=True)
        with contextlib.suppress(FileNotFoundError):
            path.replace(aside / path.name)
            log.error("a spooled message was set aside in %s (%s)", aside, why,
                      extra={"event": "spool.set_aside"})

    def _set_aside_unfinished(self, older_than: float = 60.0) -> None:
        """Files a crash left half-written (their webhooks were never answered), kept for an operator."""
        with contextlib.suppress(FileNotFoundError):
            for entry in self.folder.iterdir():
                if entry.name.endswith(UNFINISHED) and time.time() - entry.stat().st_mtime > older_than:
                    self.set_aside(entry, "unfinished")


def reseal_spool(folder: Path, sealer: Sealer) -> tuple[int, int, int]:
    """Seal the messages waiting in ``folder`` again with the newest data key (``chorus keys
    rotate``), so that dropping the older keys afterwards loses none of them. Returns how many
    were sealed again, how many wait, and how many no configured key opens (left as they are)."""
    done = unreadable = 0
    waiting = waiting_in(folder)
    for path in waiting:
        try:
            token = sealer.reseal(path.read_bytes().decode("ascii"))
        except FileNotFoundError:  # stored meanwhile by a running replayer
            continue
        except (ValueError, UnicodeDecodeError):  # (DataKeyError is a ValueError)
            unreadable += 1
            continue
        if token is None:
            continue
        unfinished = path.with_name(path.name[: -len(SUFFIX)] + UNFINISHED)
        with os.fdopen(os.open(unfinished, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "wb") as handle:
            handle.write(token.encode("ascii"))
            handle.flush()
            os.fsync(handle.fileno())
        if path.exists():
            os.replace(unfinished, path)
            done += 1
        else:
            unfinished.unlink(missing_ok=True)
    return done, len(waiting), unreadable


class SpoolReplayer:
    """Stores the spool's messages in the inbox, oldest first, whenever the database answers."""

    def __init__(self, spool: Spool, store: Callable[[Sequence[InboundMessage]], list[ReceiveResult]],
                 on_stored: Callable[[list[ReceiveResult]], None], batch: int = 100, poll_interval: float = 1.0) -> None:
        self.spool = spool
        self.store = store
        """Stores messages in one transaction (``ConversationService.accept_many``); raises if it cannot."""
        self.on_stored = on_stored
        self.batch = batch
        self.poll_interval = poll_interval
        self.outage = Outage(log, "storing spooled messages", first_delay=0.5, max_delay=5.0, traceback=False)
        self._stopping = asyncio.Event()
        self._wake = asyncio.Event()

    async def run(self) -> None:
        while not self._stopping.is_set():
            try:
                waiting = self.spool.entries()  # (listed on the loop, where Spool.writing is counted)
                if not waiting:
                    if not self.spool.writing:
                        self.spool.pending = False
                    await self._sleep(self.poll_interval)
                    continue
                results = await asyncio.to_thread(self.replay, waiting[: self.batch])
            except Exception as error:  # the database is still away, say: back off, quietly
                await self._sleep(self.outage.failed(error))
                continue
            self.outage.succeeded()
            if results:
                log.info("stored %d spooled messages (%d still waiting)", len(results),
                         max(0, len(waiting) - self.batch), extra={"event": "spool.replayed"})
                self.on_stored(results)

    def replay(self, paths: Sequence[Path]) -> list[ReceiveResult]:
        """Store these entries and delete them; unreadable ones are set aside. Raises a database error."""
        readable: dict[Path, InboundMessage] = {}
        for path in paths:
            try:
                readable[path] = self.spool.read(path)
            except FileNotFoundError:
                continue
            except SpoolCorrupt as error:
                self.spool.set_aside(path, str(error))
        try:
            results = self.store(list(readable.values())) if readable else []
        except Exception as error:
            if is_database_error(error):
                raise
            return self._one_at_a_time(readable)
        self.spool.remove(list(readable))
        return results

    def _one_at_a_time(self, readable: dict[Path, InboundMessage]) -> list[ReceiveResult]:
        """A batch failed for another reason than the database: each message alone; one that still fails is set aside."""
        results: list[ReceiveResult] = []
        for path, message in readable.items():
            try:
                results += self.store([message])
            except Exception as error:
                if is_database_error(error):
                    raise
                self.spool.set_aside(path, type(error).__name__)
                continue
            self.spool.remove([path])
        return results

    def nudge(self) -> None:
        """Look now, not at the next poll or the end of a back-off (the database answers again)."""
        self._wake.set()

    async def _sleep(self, seconds: float) -> None:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), seconds)
        self._wake.clear()

    async def stop(self) -> None:
        self._stopping.set()
        self._wake.set()
