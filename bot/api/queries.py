"""Read-only questions the desk asks of the database, shared by the API and the pages.

Everything here names participants only by their pseudonymous id; nothing reads
``contacts``. Lists are paged by an opaque cursor (the last row's id, base64url).
"""

from __future__ import annotations

import base64
import binascii
from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import HTTPException
from sqlalchemy import Select, and_, func, select

from flows.loader import LoadedStudy
from flows.session_state import LIVE
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS, FLAGS, FLOW_VERSIONS, OUTBOUND, SESSIONS, STUDIES

MAX_LIMIT = 500


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"id:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> int | None:
    """The id a cursor points past; 422 for anything that is not one of ours."""
    if not cursor:
        return None
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if text.startswith("id:") and text[3:].isascii() and text[3:].isdigit() and len(text) <= 3 + 18:
            return int(text[3:])
    except (binascii.Error, UnicodeDecodeError, ValueError):
        pass
    raise HTTPException(422, "cursor is not valid; use next_cursor from the previous page")


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"items": self.items, "next_cursor": self.next_cursor}


def _paged(database: Database, query: Select[Any], id_column: Any, limit: int, cursor: str | None,
           newest_first: bool = False) -> tuple[list[Any], str | None]:
    after = decode_cursor(cursor)
    if after is not None:
        query = query.where(id_column < after if newest_first else id_column > after)
    query = query.order_by(id_column.desc() if newest_first else id_column).limit(limit + 1)
    with database.reading() as session:
        rows = list(session.execute(query))
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, encode_cursor(rows[-1].id) if more and rows else None


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat().replace("+00:00", "Z") if moment else None


# ----------------------------------------------------------------------------- a study at a glance


def study_overview(database: Database, loaded: LoadedStudy) -> dict[str, Any]:
    """Status, participants by group and channel, sessions by status."""
    study_id = loaded.study.study
    e, s = ENROLMENTS.c, SESSIONS.c
    with database.reading() as session:
        published = session.execute(select(STUDIES.c.published_at).where(STUDIES.c.id == study_id)).scalar()
        groups = session.execute(select(e.group, e.channel, e.opted_out, func.count()).where(e.study_id == study_id)
                                 .group_by(e.group, e.channel, e.opted_out)).all()
        statuses = dict(session.execute(select(s.status, func.count()).where(s.study_id == study_id)  # type: ignore[arg-type]
                                        .group_by(s.status)).all())
        answers = session.execute(select(func.count()).select_from(ANSWERS).where(ANSWERS.c.study_id == study_id)).scalar()
    by_group: Counter[str] = Counter()
    by_channel: Counter[str] = Counter()
    table: Counter[tuple[str, str]] = Counter()
    opted_out = 0
    for group, channel, out, count in groups:
        by_group[group or "unspecified"] += count
        by_channel[channel] += count
        table[(group or "unspecified", channel)] += count
        opted_out += count if out else 0
    participants = sum(by_group.values())
    live = sum(statuses.get(k, 0) for k in LIVE)
    status = "not published" if published is None else "running" if live else "open" if not participants else "quiet"
    return {
        "id": study_id, "status": status, "published_at": _iso(published), "participants": participants,
        "opted_out": opted_out, "answers": int(answers or 0), "sessions": statuses, "live_sessions": live,
        "by_group": dict(sorted(by_group.items())), "by_channel": dict(sorted(by_channel.items())),
        "by_group_and_channel": [{"group": g, "channel": c, "participants": n} for (g, c), n in sorted(table.items())],
    }


UNFINISHED_OUTCOMES = ("declined", "no_consent", "max_tries", "loop", "closed")
"""How a conversation can end without being finished: NO at consent (or an end step with this
outcome), no clear YES at consent (unclear after every try, or no reply before its timeout),
no clear answer after the step's tries, a runaway flow, or a round closed by its
schedule while it still waited for answers (storage/due_tasks.close_session)."""


STOPPED = ("stopped", "replaced")
"""Session statuses the funnel counts as stopped: STOP, or a later flow took over an idle one
(storage/repository marks it ``replaced``); so live + stopped + ended add up to started."""


@dataclass(frozen=True)
class _Whereabouts:
    """One participant's latest session of a flow, as the funnel needs it."""

    participant: str
    status: str
    step: str | None
    history: tuple[str, ...]
    outcome: str | None

    @property
    def finished(self) -> bool:
        return self.status == "ended" and self.outcome not in UNFINISHED_OUTCOMES

    @property
    def live(self) -> bool:
        return self.status in LIVE


def _latest_sessions(database: Database, study_id: str) -> dict[str, list[_Whereabouts]]:
    """By flow: each participant's latest session of it."""
    s = SESSIONS.c
    latest = (select(func.max(s.id)).where(s.study_id == study_id).group_by(s.participant_id, s.flow_id)).scalar_subquery()
    with database.reading() as session:
        rows = session.execute(select(s.participant_id, s.flow_id, s.status, s.state).where(s.id.in_(latest))).all()
    by_flow: dict[str, list[_Whereabouts]] = {}
    for participant, flow_id, status, state in rows:
        state = state or {}
        if status == "stopped" and state.get("before_stop") == "ended":
            status = "ended"  # STOP after finishing (stored so before bot/sprint_writes.stored_status): still finished
        by_flow.setdefault(flow_id, []).append(
            _Whereabouts(str(participant), status, state.get("step"), tuple(state.get("history") or ()), state.get("outcome")))
    return by_flow


def _stopped_at(where: _Whereabouts, listed: list[str]) -> str:
    """The listed step a participant left the flow at (or is still waiting at): the step the
    session is on, else the last listed step on its own path, else the start."""
    for step_id in (where.step, *reversed(where.history)):
        if step_id in listed:
            return step_id
    return "(started)"


def _funnel_of(flow_id: str, flow: Any, sessions: list[_Whereabouts], answered: dict[tuple[str, str], set[str]]) -> dict[str, Any]:
    """One flow's funnel. Each participant who started is counted once: as finished, or as a
    drop-off at the step where their session ended, stopped or sits waiting (``waiting``
    counts those still live). A step on a branch somebody did not take is no drop-off.
    ``reached`` counts who got to a step: answered it (a many-item step: any part of it), or
    left or wait there without an answer (still at a Delphi's first item, say); ``answered``
    only the first. So on a path a step's ``reached`` is the next step's plus its ``drop_off``.
    How the conversations stand: ``live`` (may yet go on), ``stopped`` (STOP, or another flow
    took over: ``replaced``, counted in ``stopped`` too) and, of those that ended, ``outcomes``
    (completed, declined, closed, ...)."""
    listed = [step.id for step in flow.flow.steps if (flow_id, step.id) in answered or step.type not in ("message", "end")]
    types = {step.id: step.type for step in flow.flow.steps}
    dropped: Counter[str] = Counter()
    waiting: Counter[str] = Counter()
    there: dict[str, set[str]] = {}
    for where in sessions:
        if not where.finished:
            place = _stopped_at(where, listed)
            dropped[place] += 1
            waiting[place] += where.live
            there.setdefault(place, set()).add(where.participant)
    began, finished = len(sessions), sum(where.finished for where in sessions)
    rows: list[dict[str, Any]] = [{"step": "(started)", "type": "start", "reached": began, "answered": began}]
    for step_id in listed:
        did = answered.get((flow_id, step_id), set())
        rows.append({"step": step_id, "type": types[step_id], "reached": len(did | there.get(step_id, set())), "answered": len(did)})
    rows.append({"step": "(finished)", "type": "end", "reached": finished, "answered": finished})
    for row in rows:
        row["drop_off"], row["waiting"] = dropped[row["step"]], waiting[row["step"]]
    outcomes = Counter(where.outcome or "completed" for where in sessions if where.status == "ended")
    return {"flow": flow_id, "version": flow.version, "started": began, "finished": finished,
            "live": sum(where.live for where in sessions), "stopped": sum(where.status in STOPPED for where in sessions),
            "replaced": sum(where.status == "replaced" for where in sessions),
            "outcomes": dict(sorted(outcomes.items())), "steps": rows}


def funnel(database: Database, loaded: LoadedStudy) -> list[dict[str, Any]]:
    """Per flow: who started, who answered each step (in flow order), where those who did not
    finish left (or wait), and who finished (ended other than by declining or giving up)."""
    study_id = loaded.study.study
    a = ANSWERS.c
    with database.reading() as session:
        answered = session.execute(select(a.flow_id, a.step_id, a.participant_id).distinct()
                                   .where(a.study_id == study_id, a.withdrawn_at.is_(None))).all()
    who: dict[tuple[str, str], set[str]] = {}
    for flow_id, step_id, participant in answered:
        who.setdefault((flow_id, step_id), set()).add(str(participant))
    sessions = _latest_sessions(database, study_id)
    return [_funnel_of(flow_id, flow, sessions.get(flow_id, []), who) for flow_id, flow in loaded.flows.items()]


def versions_in_use(database: Database, study_id: str) -> list[dict[str, Any]]:
    """Every published version of each flow, with how many sessions are live on it."""
    v, s = FLOW_VERSIONS.c, SESSIONS.c
    live = (select(s.flow_version_id, func.count().label("n")).where(s.study_id == study_id, s.status.in_(LIVE))
            .group_by(s.flow_version_id).subquery())
    query = (select(v.id, v.flow_id, v.version, v.published_at, func.coalesce(live.c.n, 0))
             .select_from(FLOW_VERSIONS.outerjoin(live, live.c.flow_version_id == v.id))
             .where(v.study_id == study_id).order_by(v.flow_id, v.id))
    with database.reading() as session:
        rows = session.execute(query).all()
    return [{"id": i, "flow": f, "version": ver, "published_at": _iso(at), "live_sessions": int(n)} for i, f, ver, at, n in rows]


# ----------------------------------------------------------------------------- lists, paged


def sessions_page(database: Database, study_id: str, limit: int, cursor: str | None, live_only: bool = True) -> Page:
    s, v = SESSIONS.c, FLOW_VERSIONS.c
    query = (select(s.id, s.participant_id, s.flow_id, v.version, s.status, s.started_at, s.updated_at)
             .select_from(SESSIONS.join(FLOW_VERSIONS, v.id == s.flow_version_id)).where(s.study_id == study_id))
    if live_only:
        query = query.where(s.status.in_(LIVE))
    rows, after = _paged(database, query, s.id, limit, cursor, newest_first=True)
    items = [{"id": r.id, "participant": r.participant_id, "flow": r.flow_id, "version": r.version, "status": r.status,
              "started_at": _iso(r.started_at), "updated_at": _iso(r.updated_at)} for r in rows]
    return Page(items, after)


def participants_page(database: Database, study_id: str, limit: int, cursor: str | None) -> Page:
    e = ENROLMENTS.c
    query = select(e.id, e.participant_id, e.group, e.channel, e.language, e.status, e.opted_out, e.enrolled_at)
    rows, after = _paged(database, query.where(e.study_id == study_id), e.id, limit, cursor)
    items = [{"participant": r.participant_id, "group": r.group, "channel": r.channel, "language": r.language,
              "status": r.status, "opted_out": bool(r.opted_out), "enrolled_at": _iso(r.enrolled_at)} for r in rows]
    return Page(items, after)


def answers_page(database: Database, study_id: str, limit: int, cursor: str | None,
                 flow: str | None = None, step: str | None = None) -> Page:
    """Answers, oldest first, masked as exports mask them (:func:`_masked`)."""
    a, e = ANSWERS.c, ENROLMENTS.c
    query = (select(a.id, a.participant_id, e.group, a.flow_id, a.flow_version_id, a.flow_version, a.step_id, a.value,
                    a.display, a.source, a.skipped, a.answered_at, a.withdrawn_at)
             .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id)))
             .where(a.study_id == study_id))
    if flow:
        query = query.where(a.flow_id == flow)
    if step:
        query = query.where(a.step_id == step)
    if "item" in a:
        query = query.add_columns(a.item)
    rows, after = _paged(database, query, a.id, limit, cursor)
    identifying = _identifying_steps(database, {r.flow_version_id for r in rows})
    items = [{"id": r.id, "participant": r.participant_id, "group": r.group, "flow": r.flow_id, "version": r.flow_version,
              "step": r.step_id, "item": getattr(r, "item", None),
              **_masked(r.value, r.display, (r.flow_version_id, r.step_id) in identifying),
              "source": r.source, "skipped": bool(r.skipped), "answered_at": _iso(r.answered_at),
              "withdrawn_at": _iso(r.withdrawn_at)} for r in rows]
    return Page(items, after)


def _masked(value: Any, display: str | None, identifying: bool) -> dict[str, Any]:
    """An answer's value and display as the export has them: withheld for a step that saves a
    name, contact detail, NHS number or birth date; otherwise with phone numbers, e-mails, NHS
    numbers, postcodes and dates of birth in its text masked. The API is read by people and
    programs outside the database just as exports are, so it shows no more than they do."""
    from bot.export import masked_answer

    shown, label = masked_answer(value, display, identifying)
    return {"value": shown, "display": label}


def _identifying_steps(database: Database, version_ids: set[int]) -> set[tuple[int, str]]:
    """(flow version id, step id) of the steps in those versions that save an identifying field."""
    from bot.export import saves_identifying

    if not version_ids:
        return set()
    v = FLOW_VERSIONS.c
    with database.reading() as session:
        versions = session.execute(select(v.id, v.content).where(v.id.in_(sorted(version_ids)))).all()
    return {(version_id, raw["id"]) for version_id, content in versions for raw in (content or {}).get("steps", []) or []
            if isinstance(raw, dict) and saves_identifying(raw.get("save_to"))}


def flags_page(database: Database, study_id: str, limit: int, cursor: str | None, open_only: bool = False,
               kind: str | None = None) -> Page:
    f = FLAGS.c
    query = select(f.id, f.kind, f.message, f.participant_id, f.flow_id, f.step_id, f.acknowledged,
                   f.acknowledged_by, f.acknowledged_at, f.created_at).where(f.study_id == study_id)
    if open_only:
        query = query.where(f.acknowledged.is_(False))
    if kind:
        query = query.where(f.kind == kind)
    rows, after = _paged(database, query, f.id, limit, cursor, newest_first=True)
    items = [{"id": r.id, "kind": r.kind, "message": _scrubbed(r.message), "participant": r.participant_id, "flow": r.flow_id,
              "step": r.step_id, "acknowledged": bool(r.acknowledged), "acknowledged_by": r.acknowledged_by,
              "acknowledged_at": _iso(r.acknowledged_at), "created_at": _iso(r.created_at)} for r in rows]
    return Page(items, after)


def _scrubbed(message: str) -> str:
    """An alert's message with identifiers masked as in exports: a moderation alert quotes the
    statement or idea a participant wrote."""
    from bot.export import scrub

    return scrub(message)


def held_page(database: Database, study_id: str, limit: int, cursor: str | None) -> Page:
    o = OUTBOUND.c
    query = select(o.id, o.participant_id, o.channel, o.kind, o.step_id, o.text, o.error, o.created_at).where(
        o.study_id == study_id, o.status == "held")
    rows, after = _paged(database, query, o.id, limit, cursor, newest_first=True)
    items = [{"id": r.id, "participant": r.participant_id, "channel": r.channel, "kind": r.kind, "step": r.step_id,
              "text": r.text, "reason": r.error or "", "created_at": _iso(r.created_at)} for r in rows]
    return Page(items, after)


def acknowledge_flag(database: Database, study_id: str, flag_id: int, actor: str, now: datetime) -> bool:
    """Mark a flag of this study acknowledged; False if there is no such flag in the study."""
    from sqlalchemy import update

    from storage import repository

    with database.transaction() as connection:
        done = connection.execute(update(FLAGS).where(FLAGS.c.id == flag_id, FLAGS.c.study_id == study_id)
                                  .values(acknowledged=True, acknowledged_by=actor, acknowledged_at=now)).rowcount
        if done:
            repository.audit(connection, actor, "flag_acknowledged", now, study_id, flag=flag_id)
    return bool(done)


def audit_view(database: Database, actor: str, what: str, study_id: str, now: datetime, **detail: Any) -> None:
    """Every view of participant-level data goes in the audit log."""
    from storage import repository

    with database.transaction() as connection:
        repository.audit(connection, actor, f"viewed_{what}", now, study_id, **detail)
