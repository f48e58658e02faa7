"""Every process runs the flows last published, whichever process published them.

Publishing (the desk, the API, ``chorus db publish``, a process starting with new files)
records each study's published state, the study file's content hash and the version id of
each of its flows, as a ``study_state`` audit event, and stamps the study's row in
``studies`` with the time. Every serving and worker process runs a :class:`StudyWatch`: every
``CHORUS_STUDY_WATCH_INTERVAL`` seconds (5 by default; 0 turns it off) it reads the rows of
``studies`` (a handful, never the audit table) and, only when they changed, each study's last
recorded state; a study whose state is not the one this process runs is rebuilt from the
published rows and swapped in, as an in-process publication swaps it
(:meth:`bot.studies.StudyRegistry.sync`). New sessions start on the new versions at once;
running sessions stay pinned to theirs.

A process starting publishes its files, as before, unless they are a state published once
and replaced since (a machine deployed with older files): it then runs the last publication
and logs a warning, rather than taking every other process back. ``chorus db publish`` (and
the desk) publish whatever files they are given: going back on purpose reaches everyone.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, func, select, update

from flows.loader import LoadedFlow, LoadedStudy, LoadError, load_flow, version_of
from flows.model import Study
from storage import repository
from storage.database import Database
from storage.tables import AUDIT_EVENTS, FLOW_VERSIONS, STUDIES

if TYPE_CHECKING:
    from bot.studies import StudyRegistry

log = logging.getLogger("chorus.studies")
STATE_ACTION = "study_state"
DEFAULT_INTERVAL = 5.0


@dataclass(frozen=True)
class PublishedState:
    """What a study runs: its study file (by content hash) and each flow's version id."""

    study: str
    flows: Mapping[str, int]

    def as_detail(self) -> dict[str, Any]:
        return {"study_hash": self.study, "flows": dict(sorted(self.flows.items()))}

    @classmethod
    def from_detail(cls, detail: Any) -> PublishedState | None:
        if not isinstance(detail, dict) or not isinstance(detail.get("flows"), dict):
            return None
        return cls(str(detail.get("study_hash", "")), {str(k): int(v) for k, v in detail["flows"].items()})

    def __eq__(self, other: object) -> bool:
        return isinstance(other, PublishedState) and (self.study, dict(self.flows)) == (other.study, dict(other.flows))

    def __hash__(self) -> int:
        return hash((self.study, tuple(sorted(self.flows.items()))))


def study_hash(content: dict[str, Any]) -> str:
    return version_of(content)


def _states(connection: Connection, study_id: str, latest: bool) -> list[PublishedState]:
    query = (select(AUDIT_EVENTS.c.detail).where(AUDIT_EVENTS.c.action == STATE_ACTION, AUDIT_EVENTS.c.subject == study_id)
             .order_by(AUDIT_EVENTS.c.id.desc()))
    rows = connection.execute(query.limit(1) if latest else query).scalars()
    return [state for detail in rows if (state := PublishedState.from_detail(_json(detail))) is not None]


def _json(value: Any) -> Any:
    return json.loads(value) if isinstance(value, str) else value


def recorded_state(connection: Connection, study_id: str) -> PublishedState | None:
    """The study's state as last published (None before any publication recorded one)."""
    found = _states(connection, study_id, latest=True)
    return found[0] if found else None


def published_before(connection: Connection, study_id: str, state: PublishedState) -> bool:
    """Whether ``state`` was published once and has been replaced since (files older than the
    last publication): read only when a process starts."""
    found = _states(connection, study_id, latest=False)
    return bool(found) and found[0] != state and state in found[1:]


def record_state(connection: Connection, study_id: str, state: PublishedState, now: datetime) -> None:
    """Record the study's new published state, and stamp its row so every process notices."""
    repository.audit(connection, "system", STATE_ACTION, now, study_id, **state.as_detail())
    connection.execute(update(STUDIES).where(STUDIES.c.id == study_id).values(published_at=now))


def existing_version(connection: Connection, study_id: str, flow_id: str, version: str) -> int | None:
    found = connection.execute(select(FLOW_VERSIONS.c.id).where(
        FLOW_VERSIONS.c.study_id == study_id, FLOW_VERSIONS.c.flow_id == flow_id, FLOW_VERSIONS.c.version == version)).scalar()
    return int(found) if found is not None else None


def studies_version(connection: Connection) -> tuple[Any, ...]:
    """A cheap fingerprint of what is published: each study's publication time and the newest
    flow version. Every publication that changes a study's state changes it."""
    stamps = tuple(connection.execute(select(STUDIES.c.id, STUDIES.c.published_at).order_by(STUDIES.c.id)).all())
    newest = connection.execute(select(func.max(FLOW_VERSIONS.c.id))).scalar()
    return stamps, newest


@dataclass(frozen=True)
class PublishedStudy:
    """A study rebuilt from the published rows, as a process that did not publish it runs it."""

    loaded: LoadedStudy
    content: dict[str, Any]
    """The study file as published (a later publication of another study stores this, not the
    files here)."""
    versions: dict[str, tuple[int, str]]
    """Flow id -> (flow version id, version)."""
    state: PublishedState


def published_study(connection: Connection, study_id: str, state: PublishedState, here: LoadedStudy) -> PublishedStudy:
    """The study as ``state`` says it was published. The paths stay those of the study's files
    on this machine (``here``), so the desk can still validate and publish from them."""
    content = repository.study_content(connection, study_id) or {}
    study = Study.model_validate(content)
    folder = Path(here.path).parent
    flows: dict[str, LoadedFlow] = {}
    versions: dict[str, tuple[int, str]] = {}
    for flow_id, version_id in state.flows.items():
        row = repository.flow_version(connection, version_id)
        if row is None:
            raise LookupError(f"flow version {version_id} of study '{study_id}' is missing")
        path = here.flows[flow_id].path if flow_id in here.flows else str(folder / f"{flow_id}.yaml")
        loaded = load_flow(path, raw=dict(row.content))
        loaded.version = row.version
        flows[flow_id] = loaded
        versions[flow_id] = (row.id, row.version)
    return PublishedStudy(LoadedStudy(study, here.path, flows), content, versions, state)


def newer_publication(connection: Connection, loaded: LoadedStudy, content: dict[str, Any]) -> PublishedStudy | None:
    """The study as last published, when its files here (``loaded``, ``content``) were
    published before and replaced since; None when they are what was last published, or new."""
    study_id = loaded.study.study
    versions = {flow_id: existing_version(connection, study_id, flow_id, flow.version) for flow_id, flow in loaded.flows.items()}
    if any(version_id is None for version_id in versions.values()):
        return None  # a flow version never published: new files
    here = PublishedState(study_hash(content), {flow_id: int(v) for flow_id, v in versions.items() if v is not None})
    latest = recorded_state(connection, study_id)
    if latest is None or not published_before(connection, study_id, here):
        return None
    return published_study(connection, study_id, latest, loaded)


def published_elsewhere(connection: Connection, studies: list[LoadedStudy], running: Mapping[str, PublishedState],
                        unreadable: set[PublishedState]) -> list[PublishedStudy]:
    """Each study whose last recorded publication is not the one ``running`` says this process
    runs, rebuilt from the published rows. One this process cannot read (a step type a newer
    Chorus published, say) is said once, added to ``unreadable`` and left."""
    found = []
    for here in studies:
        study_id = here.study.study
        recorded = recorded_state(connection, study_id)
        if recorded is None or recorded == running.get(study_id) or recorded in unreadable:
            continue
        try:
            newer = published_study(connection, study_id, recorded, here)
        except (LoadError, LookupError, ValueError) as error:
            unreadable.add(recorded)
            log.warning("study %s was published elsewhere, but this process cannot run it, so it keeps its flows: %s",
                        study_id, str(error).splitlines()[0] if str(error) else type(error).__name__,
                        extra={"event": "study.reload_failed", "study": study_id})
            continue
        if study_hash(newer.content) == recorded.study:  # else published again meanwhile: the next look
            found.append(newer)
    return found


# ----------------------------------------------------------------------------- the watch


class StudyWatch:
    """Polls the published studies and swaps in those another process published."""

    def __init__(self, database: Database, registry: StudyRegistry, interval: float | None = None) -> None:
        from bot.outage import Outage

        self.database, self.registry = database, registry
        self.interval = DEFAULT_INTERVAL if interval is None else interval
        self._seen: tuple[Any, ...] | None = None
        self._task: asyncio.Task[None] | None = None
        self._outage = Outage(log, "checking for studies published elsewhere", first_delay=self.interval, max_delay=60.0)

    def check(self) -> list[str]:
        """One look: the studies swapped in (nothing unless a publication changed something)."""
        with self.database.read_transaction() as connection:
            seen = studies_version(connection)
        if seen == self._seen:
            return []
        reloaded = self.registry.sync(self.database)
        self._seen = seen
        return reloaded

    async def run(self) -> None:
        """Check every ``interval`` seconds until cancelled; a database outage is logged once."""
        wait = self.interval
        while True:
            await asyncio.sleep(wait)
            try:
                await asyncio.to_thread(self.check)
            except asyncio.CancelledError:
                raise
            except Exception as error:
                wait = self._outage.failed(error)
                continue
            self._outage.succeeded()
            wait = self.interval

    def start(self) -> None:
        """Run in the current event loop (a no-op when the interval is 0)."""
        if self.interval > 0 and self._task is None:
            self._task = asyncio.get_running_loop().create_task(self.run(), name="chorus-study-watch")

    async def begin(self) -> None:
        """:meth:`start`, from another thread: ``run_coroutine_threadsafe(watch.begin(), loop)``."""
        self.start()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await self._task
            self._task = None
