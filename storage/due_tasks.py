"""Due tasks: timers as rows, claimed atomically so that no two schedulers fire one task.

A claim stamps ``claimed_at``/``leased_at``/``claimed_by`` on due, unfinished rows whose
claim is free or stale (older than the lease, i.e. its scheduler died). Two clocks, each for what
it decides: the lease is stamped and judged by the database's (``leased_at``,
storage/database_clock.py), which every scheduler shares, so one whose clock is off neither takes
over a task another still holds nor leaves a dead one's waiting past the lease; ``claimed_at`` is
the claiming scheduler's own time, the clock its service stamps what it sends and starts with, so
that what a dead scheduler did is looked for from there (:attr:`ClaimedTask.previous_claim`).
Due times stay on the scheduler's clock. PostgreSQL picks the
rows with ``FOR UPDATE SKIP LOCKED``, so concurrent schedulers take different rows
without waiting; SQLite's transactions begin ``BEGIN IMMEDIATE`` (storage/database.py),
so one claim runs at a time, and the UPDATE re-checks the claim so a row is never
taken twice. A task is finished by setting ``done`` (with a reason in ``error`` when it
was dropped rather than fired). Task keys (``payload.key``) make planning idempotent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from storage.database_clock import database_time_sql
from storage.driver import Driver

PLANNING_LOCK = 740_501_734
"""PostgreSQL advisory lock held while planning new enrolments (one planner at a time)."""
_COLUMNS = "id, kind, participant_id, study_id, flow_id, session_id, payload, due_at, attempts"


@dataclass(frozen=True)
class ClaimedTask:
    id: int
    kind: str
    participant_id: str | None
    study_id: str | None
    flow_id: str | None
    session_id: int | None
    payload: dict[str, Any]
    due_at: datetime
    attempts: int
    previous_claim: datetime | None
    """When an earlier (dead) scheduler claimed it, by that scheduler's clock (``claimed_at``), the
    clock its service stamped what it sent and started with: what it may already have done is
    checked from here. (Not the lease's database time: compared with those stamps, a scheduler
    whose clock ran behind would look as if it had done nothing, and its reminder would go twice.)"""


@dataclass(frozen=True)
class TaskRow:
    """One task as ``chorus schedule`` shows it."""

    id: int
    kind: str
    participant_id: str | None
    study_id: str | None
    flow_id: str | None
    session_id: int | None
    payload: dict[str, Any]
    due_at: datetime
    claimed_at: datetime | None
    attempts: int
    error: str | None
    done: bool
    done_at: datetime | None


@dataclass(frozen=True)
class EnrolledPerson:
    participant_id: str
    study_id: str
    enrolled_at: datetime
    group: str | None
    opted_out: bool
    status: str
    fields: dict[str, Any]
    given_at: dict[str, datetime] = field(default_factory=dict)
    """When the participant gave the fields a schedule counts from (see :func:`with_given_at`)."""


def moment(value: Any) -> datetime:
    """A stored time as an aware UTC datetime (SQLite hands back text)."""
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    return datetime.fromisoformat(str(value)).replace(tzinfo=UTC)


def _maybe(value: Any) -> datetime | None:
    return None if value is None else moment(value)


def _marks(count: int) -> str:
    return ", ".join("?" for _ in range(count))


# ----------------------------------------------------------------------------- claiming


def claim(connection: Connection, worker: str, now: datetime, limit: int, lease: timedelta,
          abandoned: Sequence[str] = ()) -> list[ClaimedTask]:
    """Claim up to ``limit`` tasks due by ``now`` (the scheduler's clock) for ``worker``, oldest
    first. Call inside a transaction. A claim is free when its lease, stamped by the database's
    clock, is older than ``lease`` in the database's time, or its claimer is in ``abandoned``
    (schedulers known to be dead: see :func:`claimers_on`). A claim made before leases were
    stamped (no ``leased_at``) runs from its ``claimed_at``."""
    driver = Driver.of(connection)
    lock = " FOR UPDATE SKIP LOCKED" if driver.postgres else ""
    lapsed, lapsed_params = database_time_sql(connection, -lease)
    stamp, stamp_params = database_time_sql(connection)
    dead = f" OR claimed_by IN ({_marks(len(abandoned))})" if abandoned else ""
    free = f"(claimed_at IS NULL OR COALESCE(leased_at, claimed_at) < {lapsed}{dead})"
    sql = f"SELECT id, claimed_at FROM due_tasks WHERE done = ? AND due_at <= ? AND {free} ORDER BY due_at, id LIMIT ?{lock}"
    found = driver.execute(sql, (False, driver.when(now), *lapsed_params, *abandoned, limit)).fetchall()
    if not found:
        return []
    previous = {row[0]: _maybe(row[1]) for row in found}
    ids = list(previous)
    update = (f"UPDATE due_tasks SET claimed_at = ?, leased_at = {stamp}, claimed_by = ?, attempts = attempts + 1"
              f" WHERE id IN ({_marks(len(ids))}) AND done = ? AND {free} RETURNING {_COLUMNS}")
    rows = driver.execute(update, (driver.when(now), *stamp_params, worker, *ids, False, *lapsed_params, *abandoned)).fetchall()
    tasks = [
        ClaimedTask(r[0], r[1], r[2], r[3], r[4], r[5], dict(driver.from_json(r[6]) or {}), moment(r[7]), r[8], previous[r[0]])
        for r in rows
    ]
    return sorted(tasks, key=lambda task: (task.due_at, task.id))


def claimers_on(connection: Connection, host: str) -> list[str]:
    """The schedulers on ``host`` (``host:pid:tag``) that hold claims on unfinished tasks."""
    sql = "SELECT DISTINCT claimed_by FROM due_tasks WHERE done = ? AND claimed_by LIKE ?"
    return [str(row[0]) for row in Driver.of(connection).execute(sql, (False, f"{host}:%")).fetchall()]


def finish(connection: Connection, task_id: int, now: datetime, reason: str | None = None) -> None:
    """Done: fired, or dropped with a reason (kept in ``error``)."""
    driver = Driver.of(connection)
    driver.execute("UPDATE due_tasks SET done = ?, done_at = ?, error = ? WHERE id = ?", (True, driver.when(now), reason, task_id))


def finish_many(connection: Connection, task_ids: Sequence[int], now: datetime) -> None:
    """Done, all fired."""
    driver = Driver.of(connection)
    for start in range(0, len(task_ids), 500):
        chunk = list(task_ids[start:start + 500])
        sql = f"UPDATE due_tasks SET done = ?, done_at = ?, error = NULL WHERE id IN ({_marks(len(chunk))})"
        driver.execute(sql, (True, driver.when(now), *chunk))


def refresh_statistics(connection: Connection) -> None:
    """After adding many tasks at once, let PostgreSQL's planner see them (it would otherwise
    plan the next sweep as if the table were empty, and scan it once per enrolment)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("ANALYZE due_tasks"))


def release(connection: Connection, task_id: int, due_at: datetime, payload: dict[str, Any] | None = None, error: str | None = None) -> None:
    """Give a claimed task back, due again at ``due_at`` (moved out of quiet hours, or a retry)."""
    driver = Driver.of(connection)
    params: tuple[Any, ...] = (driver.when(due_at), error, task_id)
    sql = "UPDATE due_tasks SET due_at = ?, claimed_at = NULL, leased_at = NULL, claimed_by = NULL, error = ? WHERE id = ?"
    if payload is not None:
        sql = "UPDATE due_tasks SET due_at = ?, claimed_at = NULL, leased_at = NULL, claimed_by = NULL, error = ?, payload = ? WHERE id = ?"
        params = (driver.when(due_at), error, driver.to_json(payload), task_id)
    driver.execute(sql, params)


# ----------------------------------------------------------------------------- snoozes

REPLACED_SNOOZE = "dropped: replaced by a later snooze"
"""The reason kept on a snooze that a newer one of its session made obsolete."""


def cancel_replaced_snoozes(connection: Connection, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """Before writing ``rows``: finish every pending snooze of a session that one of them
    snoozes again, so that only a session's latest snooze can fire."""
    sessions = {(row["participant_id"], row["session_id"]) for row in rows
                if row["kind"] == "snooze" and row.get("session_id") is not None}
    driver = Driver.of(connection)
    sql = ("UPDATE due_tasks SET done = ?, done_at = ?, error = ?"
           " WHERE participant_id = ? AND session_id = ? AND kind = 'snooze' AND done = ?")
    for participant_id, session_id in sorted(sessions):
        driver.execute(sql, (True, driver.when(now), REPLACED_SNOOZE, participant_id, session_id, False))


def snoozed_again(connection: Connection, task: ClaimedTask) -> bool:
    """Whether the task's session was snoozed again after this snooze was made (a newer
    snooze row exists, whether pending or finished): then this one must not fire."""
    sql = "SELECT 1 FROM due_tasks WHERE participant_id = ? AND session_id = ? AND kind = 'snooze' AND id > ? LIMIT 1"
    params = (task.participant_id, task.session_id, task.id)
    return Driver.of(connection).execute(sql, params).fetchone() is not None


# ----------------------------------------------------------------------------- adding


def add(connection: Connection, rows: Sequence[dict[str, Any]], now: datetime, new_series_only: bool = False) -> int:
    """Insert tasks (kind, participant_id, study_id, flow_id, session_id, payload with a key,
    due_at, and optionally done/error), skipping any whose key the participant already has
    in that study; with ``new_series_only`` also any of a schedule (``payload.series``) that
    already has a task. A row whose payload holds a ``flag`` (a date planning could not read)
    is written done and raises that flag for the coordinator; one holding ``not_sent`` (a
    follow-up that will not go, and why) is written done, dropped for that reason. Returns how
    many were inserted."""
    if not rows:
        return 0
    driver = Driver.of(connection)
    have = existing_keys(connection, {(row["participant_id"], row["study_id"]) for row in rows})
    series = {(pid, study, key.split(":", 2)[0] + ":" + key.split(":", 2)[1]) for pid, study, key in have if key.count(":") >= 2}
    fresh, seen, kept = [], set(), []
    for row in rows:
        where, payload = (row["participant_id"], row["study_id"]), row["payload"]
        key = (*where, payload.get("key"))
        if key[2] is not None and (key in have or key in seen):
            continue
        if new_series_only and payload.get("series") and (*where, payload["series"]) in series:
            continue
        seen.add(key)
        kept.append(row)
        recorded = payload.get("not_sent")  # (a follow-up planning knows will not go: bot/planning_not_sent.py)
        done = bool(row.get("done", False)) or "flag" in payload or isinstance(recorded, str)
        error = row.get("error") or (f"dropped: {recorded}" if isinstance(recorded, str) else None)
        fresh.append({
            "kind": row["kind"], "participant_id": row["participant_id"], "study_id": row["study_id"],
            "flow_id": row.get("flow_id"), "session_id": row.get("session_id"), "payload": driver.to_json(payload),
            "due_at": driver.when(row["due_at"]), "attempts": 0, "error": error, "done": done,
            "done_at": driver.when(now) if done else None, "created_at": driver.when(now),
        })
    driver.insert_many("due_tasks", fresh)
    _raise_planning_flags(driver, [row for row in kept if "flag" in row["payload"]], now)
    return len(fresh)


def _raise_planning_flags(driver: Driver, rows: Sequence[dict[str, Any]], now: datetime) -> None:
    """A ``planning`` flag on the coordinator's dashboard for each row that carries one."""
    driver.insert_many("flags", [{
        "kind": "planning", "message": row["payload"]["flag"], "participant_id": row["participant_id"],
        "study_id": row["study_id"], "flow_id": row.get("flow_id") or None, "step_id": None,
        "acknowledged": False, "created_at": driver.when(now),
    } for row in rows])


def existing_keys(connection: Connection, pairs: Iterable[tuple[str, str]]) -> set[tuple[str, str, str]]:
    """(participant, study, key) of every task these participants have."""
    driver, found = Driver.of(connection), set()
    pids = sorted({pid for pid, _ in pairs})
    for start in range(0, len(pids), 500):
        chunk = pids[start:start + 500]
        sql = f"SELECT participant_id, study_id, payload FROM due_tasks WHERE participant_id IN ({_marks(len(chunk))})"
        for pid, study_id, payload in driver.execute(sql, chunk).fetchall():
            key = (driver.from_json(payload) or {}).get("key")
            if key is not None:
                found.add((pid, study_id, str(key)))
    return found


# ----------------------------------------------------------------------------- who to plan for


def lock_planning(connection: Connection) -> None:
    """One planner at a time: an advisory lock on PostgreSQL (SQLite's BEGIN IMMEDIATE already is one)."""
    if connection.dialect.name == "postgresql":
        connection.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": PLANNING_LOCK})


_PERSON = ('SELECT e.participant_id, e.study_id, e.enrolled_at, e."group", e.opted_out, e.status, p.fields'
           " FROM enrolments e JOIN participants p ON p.id = e.participant_id")


def _person(driver: Driver, row: Sequence[Any]) -> EnrolledPerson:
    return EnrolledPerson(row[0], row[1], moment(row[2]), row[3], bool(row[4]), row[5], dict(driver.from_json(row[6]) or {}))


def unplanned(connection: Connection, studies: Sequence[str], limit: int) -> list[EnrolledPerson]:
    """Active enrolments in these studies that have never been planned (no 'plan' task yet)."""
    if not studies:
        return []
    driver = Driver.of(connection)
    sql = (f"{_PERSON} WHERE e.study_id IN ({_marks(len(studies))}) AND e.opted_out = ? AND NOT EXISTS ("
           "SELECT 1 FROM due_tasks d WHERE d.participant_id = e.participant_id AND d.study_id = e.study_id AND d.kind = 'plan')"
           " ORDER BY e.id LIMIT ?")
    return [_person(driver, row) for row in driver.execute(sql, (*studies, False, limit)).fetchall()]


def people(connection: Connection, pairs: Iterable[tuple[str, str]]) -> dict[tuple[str, str], EnrolledPerson]:
    """Enrolments (with the participant's fields) by (participant, study)."""
    driver, wanted = Driver.of(connection), set(pairs)
    pids = sorted({pid for pid, _ in wanted})
    found: dict[tuple[str, str], EnrolledPerson] = {}
    for start in range(0, len(pids), 500):
        chunk = pids[start:start + 500]
        for row in driver.execute(f"{_PERSON} WHERE e.participant_id IN ({_marks(len(chunk))})", chunk).fetchall():
            if (row[0], row[1]) in wanted:
                found[(row[0], row[1])] = _person(driver, row)
    return found


def with_given_at(connection: Connection, found: Sequence[EnrolledPerson],
                  steps: Mapping[str, Mapping[tuple[str, str], str]]) -> list[EnrolledPerson]:
    """``found`` with ``given_at`` filled: for each field a schedule counts from, when its
    standing answer was given. ``steps`` names, per study, the (flow, step) that save each such
    field (bot/planning.anchor_steps); the latest answer to one of them counts."""
    wanted = [person for person in found if steps.get(person.study_id)]
    if not wanted:
        return list(found)
    driver = Driver.of(connection)
    times: dict[tuple[str, str], dict[str, datetime]] = {}
    step_ids = sorted({step for by_step in steps.values() for _, step in by_step})
    pids = sorted({person.participant_id for person in wanted})
    for start in range(0, len(pids), 500):
        chunk = pids[start:start + 500]
        sql = (f"SELECT participant_id, study_id, flow_id, step_id, answered_at FROM answers WHERE participant_id IN ({_marks(len(chunk))})"
               f" AND step_id IN ({_marks(len(step_ids))}) AND item IS NULL AND skipped = ? AND withdrawn_at IS NULL ORDER BY id")
        for pid, study_id, flow_id, step_id, answered_at in driver.execute(sql, (*chunk, *step_ids, False)).fetchall():
            name = steps.get(study_id, {}).get((flow_id, step_id))
            if name is not None:
                times.setdefault((pid, study_id), {})[name] = moment(answered_at)
    return [replace(person, given_at=times[key]) if (key := (person.participant_id, person.study_id)) in times else person
            for person in found]


# ----------------------------------------------------------------------------- sessions: what happened already


def consented(connection: Connection, participant_id: str, study_id: str, consent_steps: Sequence[str]) -> bool:
    """Whether the participant's standing answer to one of the study's consent steps is yes."""
    driver = Driver.of(connection)
    sql = (f"SELECT value FROM answers WHERE participant_id = ? AND study_id = ? AND step_id IN ({_marks(len(consent_steps))})"
           " AND item IS NULL AND skipped = ? AND withdrawn_at IS NULL ORDER BY id DESC LIMIT 1")
    row = driver.execute(sql, (participant_id, study_id, *consent_steps, False)).fetchone()
    return row is not None and driver.from_json(row[0]) == "yes"


def session_status(connection: Connection, session_id: int) -> tuple[str, str | None] | None:
    """The session's status and current step."""
    driver = Driver.of(connection)
    row = driver.execute("SELECT status, state FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        return None
    state = driver.from_json(row[1]) or {}
    return str(row[0]), state.get("step")


def latest_session(connection: Connection, participant_id: str, study_id: str, flow_id: str, since: datetime | None = None) -> int | None:
    """The newest session of this flow for the participant, started at or after ``since``."""
    driver = Driver.of(connection)
    sql = "SELECT id FROM sessions WHERE participant_id = ? AND study_id = ? AND flow_id = ?"
    params: list[Any] = [participant_id, study_id, flow_id]
    if since is not None:
        sql += " AND started_at >= ?"
        params.append(driver.when(since))
    row = driver.execute(sql + " ORDER BY id DESC LIMIT 1", params).fetchone()
    return None if row is None else int(row[0])


def flow_started(connection: Connection, participant_id: str, study_id: str, flow_ids: Sequence[str]) -> tuple[str, datetime, str] | None:
    """(flow, started at, status) of the participant's newest session of any of these flows."""
    driver = Driver.of(connection)
    sql = (f"SELECT flow_id, started_at, status FROM sessions WHERE participant_id = ? AND study_id = ? AND flow_id IN ({_marks(len(flow_ids))})"
           " ORDER BY id DESC LIMIT 1")
    row = driver.execute(sql, (participant_id, study_id, *flow_ids)).fetchone()
    return None if row is None else (str(row[0]), moment(row[1]), str(row[2]))


def pending_for(connection: Connection, participant_id: str, study_id: str) -> list[tuple[str, str | None, datetime, dict[str, Any]]]:
    """(kind, flow, due at, payload) of the participant's follow-ups and plan re-checks not done yet."""
    driver = Driver.of(connection)
    sql = ("SELECT kind, flow_id, due_at, payload FROM due_tasks WHERE participant_id = ? AND study_id = ? AND done = ?"
           " AND kind IN ('follow_up', 'plan') ORDER BY due_at, id")
    rows = driver.execute(sql, (participant_id, study_id, False)).fetchall()
    return [(str(r[0]), r[1], moment(r[2]), dict(driver.from_json(r[3]) or {})) for r in rows]


@dataclass(frozen=True)
class LiveSession:
    """A conversation a participant is in: a session waiting for their reply, or snoozed."""

    participant_id: str
    session_id: int
    study_id: str
    flow_id: str
    status: str
    step: str | None
    updated_at: datetime
    """Started, answered or asked again (a reminder, a snooze ending) at."""
    snooze_due: datetime | None = None
    """Snoozed: when its pending snooze asks again."""


def live_sessions(connection: Connection, participant_ids: Sequence[str]) -> dict[str, list[LiveSession]]:
    """The sessions, in any study, that these participants are still in (waiting or snoozed)."""
    driver, found = Driver.of(connection), dict[str, list[LiveSession]]()
    pids = sorted(set(participant_ids))
    for start in range(0, len(pids), 500):
        chunk = pids[start:start + 500]
        sql = (f"SELECT participant_id, id, study_id, flow_id, status, state, updated_at FROM sessions WHERE participant_id IN"
               f" ({_marks(len(chunk))}) AND status IN ('waiting', 'snoozed') ORDER BY id")
        for row in driver.execute(sql, chunk).fetchall():
            state = driver.from_json(row[5]) or {}
            found.setdefault(row[0], []).append(LiveSession(row[0], int(row[1]), row[2], row[3], row[4], state.get("step"), moment(row[6])))
    snoozed = [live.session_id for lives in found.values() for live in lives if live.status == "snoozed"]
    comes_back = _snoozes_due(driver, snoozed)
    return {pid: [replace(live, snooze_due=comes_back.get(live.session_id)) for live in lives] for pid, lives in found.items()}


def _snoozes_due(driver: Driver, session_ids: Sequence[int]) -> dict[int, datetime]:
    """When each session's pending snooze asks again."""
    found: dict[int, datetime] = {}
    for start in range(0, len(session_ids), 500):
        chunk = list(session_ids[start:start + 500])
        sql = (f"SELECT session_id, MIN(due_at) FROM due_tasks WHERE session_id IN ({_marks(len(chunk))}) AND kind = 'snooze'"
               " AND done = ? GROUP BY session_id")
        found.update({int(row[0]): moment(row[1]) for row in driver.execute(sql, (*chunk, False)).fetchall()})
    return found


def session_statuses(connection: Connection, session_ids: Iterable[int]) -> dict[int, str]:
    """Each session's status (waiting, snoozed, ended, stopped, replaced), by id."""
    driver, ids, found = Driver.of(connection), sorted(set(session_ids)), dict[int, str]()
    for start in range(0, len(ids), 500):
        chunk = ids[start:start + 500]
        rows = driver.execute(f"SELECT id, status FROM sessions WHERE id IN ({_marks(len(chunk))})", chunk).fetchall()
        found.update({int(row[0]): str(row[1]) for row in rows})
    return found


def sent_since(connection: Connection, session_id: int, kind: str, since: datetime) -> bool:
    """Whether the session queued a message of ``kind`` (e.g. 'reminder') at or after ``since``."""
    driver = Driver.of(connection)
    sql = "SELECT 1 FROM outbound_messages WHERE session_id = ? AND kind = ? AND created_at >= ? LIMIT 1"
    return driver.execute(sql, (session_id, kind, driver.when(since))).fetchone() is not None


def snoozed_until(connection: Connection, session_id: int) -> datetime | None:
    """When the session's snooze (the latest the participant asked for) will ask again, if one is pending."""
    driver = Driver.of(connection)
    sql = "SELECT MAX(due_at) FROM due_tasks WHERE session_id = ? AND kind = 'snooze' AND done = ?"
    found = driver.execute(sql, (session_id, False)).fetchone()
    return moment(found[0]) if found is not None and found[0] is not None else None


def timed_out_since(connection: Connection, session_id: int, step_id: str, since: datetime) -> bool:
    driver = Driver.of(connection)
    sql = "SELECT 1 FROM answers WHERE session_id = ? AND step_id = ? AND source = 'timeout' AND answered_at >= ? LIMIT 1"
    return driver.execute(sql, (session_id, step_id, driver.when(since))).fetchone() is not None


def close_session(connection: Connection, session_id: int, now: datetime) -> bool:
    """End a round still waiting for answers: later replies get 'this conversation has ended'.
    On PostgreSQL the participant's row is locked first, as the conversation service does.
    Their held follow-ups look again at once (:func:`release_held`)."""
    driver = Driver.of(connection)
    row = driver.execute("SELECT participant_id FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if row is None:
        return False
    if driver.postgres:
        driver.execute("SELECT id FROM participants WHERE id = ? FOR UPDATE", (row[0],))
    found = driver.execute("SELECT status, state FROM sessions WHERE id = ?", (session_id,)).fetchone()
    if found is None or found[0] not in ("waiting", "snoozed"):
        return False
    state = {**(driver.from_json(found[1]) or {}), "status": "ended", "outcome": "closed"}
    sql = "UPDATE sessions SET status = 'ended', state = ?, updated_at = ? WHERE id = ?"
    driver.execute(sql, (json.dumps(state), driver.when(now), session_id))
    release_held(connection, [str(row[0])], now)
    return True


# ----------------------------------------------------------------------------- a conversation that ended

HELD = "waits_for"
"""The payload key of a follow-up held back while it waits for something (bot/planning_holds.py:
the round before it, a follow-up due before it, a conversation in progress): what it waits for."""


def release_held(connection: Connection, participant_ids: Sequence[str], now: datetime) -> None:
    """A conversation of each of these participants ended just now (finished, stopped, closed):
    their held follow-ups look again at once, on the scheduler's next tick, instead of at the
    look their hold set (minutes away, or half an hour for a Delphi round). Firing weighs every
    hold again then (the round before, the order, quiet hours and windows, a conversation still
    going), so this only brings the look forward: a task not held, due sooner, or being fired
    now is left as it is. Only these participants' rows are read (by ``participant_id``)."""
    people = sorted(set(participant_ids))
    if not people:
        return
    driver = Driver.of(connection)
    held = f"payload ->> '{HELD}'" if driver.postgres else f"json_extract(payload, '$.{HELD}')"
    for start in range(0, len(people), 500):
        chunk = people[start:start + 500]
        sql = (f"UPDATE due_tasks SET due_at = ? WHERE participant_id IN ({_marks(len(chunk))}) AND done = ?"
               f" AND kind = 'follow_up' AND claimed_at IS NULL AND due_at > ? AND {held} IS NOT NULL")
        driver.execute(sql, (driver.when(now), *chunk, False, driver.when(now)))


# ----------------------------------------------------------------------------- a schedule published again


@dataclass(frozen=True)
class ScheduledTask:
    """A task planned from one of a study's schedules (a follow-up, its reminder or its closing)."""

    id: int
    kind: str
    participant_id: str
    flow_id: str | None
    payload: dict[str, Any]
    due_at: datetime
    done: bool
    claimed: bool
    """Being fired right now (or by a scheduler that died): not to be changed under it."""
    error: str | None = None
    """Why it finished without firing (``dropped: ...``), if it did."""


def scheduled_tasks(connection: Connection, study_id: str) -> list[ScheduledTask]:
    """Every follow-up, reminder and closing of the study, sent or not, oldest first."""
    driver = Driver.of(connection)
    sql = ("SELECT id, kind, participant_id, flow_id, payload, due_at, done, claimed_at, error FROM due_tasks"
           " WHERE study_id = ? AND kind IN ('follow_up', 'reminder', 'close') ORDER BY id")
    return [ScheduledTask(r[0], r[1], r[2], r[3], dict(driver.from_json(r[4]) or {}), moment(r[5]), bool(r[6]), r[7] is not None, r[8])
            for r in driver.execute(sql, (study_id,)).fetchall()]


def scheduled_tasks_of(connection: Connection, participant_id: str, study_id: str) -> list[ScheduledTask]:
    """One participant's follow-ups, reminders and closings in the study, sent or not, oldest first."""
    driver = Driver.of(connection)
    sql = ("SELECT id, kind, participant_id, flow_id, payload, due_at, done, claimed_at, error FROM due_tasks"
           " WHERE participant_id = ? AND study_id = ? AND kind IN ('follow_up', 'reminder', 'close') ORDER BY id")
    return [ScheduledTask(r[0], r[1], r[2], r[3], dict(driver.from_json(r[4]) or {}), moment(r[5]), bool(r[6]), r[7] is not None, r[8])
            for r in driver.execute(sql, (participant_id, study_id)).fetchall()]


def pending_follow_ups(connection: Connection, participant_id: str, study_id: str) -> list[ScheduledTask]:
    """One participant's follow-ups not sent yet in the study, soonest first."""
    driver = Driver.of(connection)
    sql = ("SELECT id, kind, participant_id, flow_id, payload, due_at, done, claimed_at FROM due_tasks"
           " WHERE participant_id = ? AND study_id = ? AND kind = 'follow_up' AND done = ? ORDER BY due_at, id")
    return [ScheduledTask(r[0], r[1], r[2], r[3], dict(driver.from_json(r[4]) or {}), moment(r[5]), bool(r[6]), r[7] is not None)
            for r in driver.execute(sql, (participant_id, study_id, False)).fetchall()]


def close_planning_flags(connection: Connection, participant_id: str, study_id: str, about: str, actor: str, now: datetime) -> int:
    """Acknowledge the participant's open ``planning`` alerts whose message says ``about`` (the
    problem just corrected), by ``actor``; how many."""
    driver = Driver.of(connection)
    sql = ("SELECT id, message FROM flags WHERE participant_id = ? AND study_id = ? AND kind = 'planning' AND acknowledged = ?")
    ids = [int(r[0]) for r in driver.execute(sql, (participant_id, study_id, False)).fetchall() if about in str(r[1])]
    if ids:
        driver.execute(f"UPDATE flags SET acknowledged = ?, acknowledged_by = ?, acknowledged_at = ? WHERE id IN ({_marks(len(ids))})",
                       (True, actor, driver.when(now), *ids))
    return len(ids)


def planned_enrolments(connection: Connection, study_id: str) -> tuple[list[EnrolledPerson], set[str]]:
    """The study's active enrolments (not opted out) already planned, and which of them have a
    re-check of their plan pending (a schedule waits for their group or a date)."""
    driver = Driver.of(connection)
    sql = (f"{_PERSON} WHERE e.study_id = ? AND e.opted_out = ? AND e.status = 'active' AND EXISTS ("
           "SELECT 1 FROM due_tasks d WHERE d.participant_id = e.participant_id AND d.study_id = e.study_id AND d.kind = 'plan')"
           " ORDER BY e.id")
    found = [_person(driver, row) for row in driver.execute(sql, (study_id, False)).fetchall()]
    sql = "SELECT DISTINCT participant_id FROM due_tasks WHERE study_id = ? AND kind = 'plan' AND done = ?"
    return found, {str(row[0]) for row in driver.execute(sql, (study_id, False)).fetchall()}


def rewrite_payloads(connection: Connection, changes: Sequence[tuple[int, dict[str, Any]]]) -> None:
    """Give tasks new payloads (their schedule's new place: sent or not, their times stay)."""
    driver = Driver.of(connection)
    driver.executemany("UPDATE due_tasks SET payload = ? WHERE id = ?", [(driver.to_json(payload), task_id) for task_id, payload in changes])


def retime_pending(connection: Connection, changes: Sequence[tuple[int, datetime, dict[str, Any]]]) -> int:
    """Move tasks not yet fired nor claimed to a new time and payload; how many were moved."""
    driver = Driver.of(connection)
    sql = "UPDATE due_tasks SET due_at = ?, payload = ?, error = NULL WHERE id = ? AND done = ? AND claimed_at IS NULL RETURNING id"
    moved = driver.fetch_together([(sql, (driver.when(due), driver.to_json(payload), task_id, False)) for task_id, due, payload in changes])
    return sum(1 for rows in moved if rows)


def drop_pending(connection: Connection, drops: Sequence[tuple[int, str]], now: datetime) -> int:
    """Finish tasks not yet fired nor claimed without firing them, each with its reason; how many."""
    driver = Driver.of(connection)
    sql = "UPDATE due_tasks SET done = ?, done_at = ?, error = ? WHERE id = ? AND done = ? AND claimed_at IS NULL RETURNING id"
    dropped = driver.fetch_together([(sql, (True, driver.when(now), f"dropped: {why}", task_id, False)) for task_id, why in drops])
    return sum(1 for rows in dropped if rows)


# ----------------------------------------------------------------------------- listing


def listing(
    connection: Connection, study_id: str | None = None, participant_id: str | None = None,
    include_done: bool = False, limit: int = 200,
) -> list[TaskRow]:
    """Tasks, soonest first (finished ones too with ``include_done``); planning markers left out."""
    driver = Driver.of(connection)
    sql = ("SELECT id, kind, participant_id, study_id, flow_id, session_id, payload, due_at, claimed_at, attempts, error, done,"
           " done_at FROM due_tasks WHERE NOT (kind = 'plan' AND done = ?)")
    params: list[Any] = [True]
    if not include_done:
        sql += " AND done = ?"
        params.append(False)
    if study_id:
        sql += " AND study_id = ?"
        params.append(study_id)
    if participant_id:
        sql += " AND participant_id = ?"
        params.append(participant_id)
    rows = driver.execute(sql + " ORDER BY due_at, id LIMIT ?", (*params, limit)).fetchall()
    return [
        TaskRow(r[0], r[1], r[2], r[3], r[4], r[5], dict(driver.from_json(r[6]) or {}), moment(r[7]), _maybe(r[8]), r[9], r[10],
                bool(r[11]), _maybe(r[12]))
        for r in rows
    ]
