"""Analysis inputs read from a study's database.

* :func:`answers_for_step`: answers to one step (of one flow, if named), ready for text
  analysis: (answer id, text, group), with identifiers masked (nlp/redact.py) because analysis
  input must not carry them. ``chorus analyse themes --study`` and the desk's themes both read it
  through :func:`bot.theme_inputs.theme_input`, which also says which texts may be quoted.
* :func:`delphi_rounds_sent`: who was sent which round of which Delphi, so that
  :func:`flows.analysis.delphi.participation` counts as dropped out only those who had the
  round and did not answer it; :func:`rounds_sent_to` keeps one Delphi's.
* :func:`options_shown`: the options each participant was shown at a rank step, by the flow
  version they answered it under, so that an option added or removed live counts only those
  shown it (:func:`flows.analysis.ranking.analyse_rankings`' ``offered``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
from sqlalchemy import and_, select
from sqlalchemy.engine import Connection

from flows.session_state import LIVE
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS, FLOW_VERSIONS, SESSIONS


def answers_for_step(database: Database, study_id: str, step_id: str,
                     flow_id: str | None = None) -> list[tuple[str, str, str | None]]:
    """The standing answers to ``step_id`` (in ``flow_id`` only, if given) as (answer id, text
    masked by :func:`nlp.redact.redact`, group), oldest first; skipped and empty ones left out."""
    from nlp.redact import redact

    a, e = ANSWERS.c, ENROLMENTS.c
    query = (
        select(a.id, a.value, e.group)
        .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id)))
        .where(a.study_id == study_id, a.step_id == step_id, a.skipped.is_(False), a.item.is_(None), a.withdrawn_at.is_(None))
        .order_by(a.id)
    )
    if flow_id is not None:
        query = query.where(a.flow_id == flow_id)
    with database.transaction() as connection:
        rows = list(connection.execute(query))
    return [(str(answer_id), redact(value), group) for answer_id, value, group in rows
            if isinstance(value, str) and value.strip()]


def options_shown(connection: Connection, study_id: str,
                  listed: Mapping[tuple[int, str], list[str]]) -> dict[str, dict[str, list[str]]]:
    """Step id -> participant -> the options listed (``listed``: (flow version id, step id) ->
    option values) by the flow version of their standing answers to that step; the latest
    answer's where they answered under several versions, as the latest answers count."""
    if not listed:
        return {}
    a = ANSWERS.c
    query = (select(a.participant_id, a.step_id, a.flow_version_id)
             .where(a.study_id == study_id, a.step_id.in_(sorted({step for _, step in listed})), a.skipped.is_(False),
                    a.withdrawn_at.is_(None))
             .order_by(a.id))
    found: dict[str, dict[str, list[str]]] = {}
    for participant, step, version_id in connection.execute(query):
        options = listed.get((int(version_id), str(step)))
        if options is not None:
            found.setdefault(str(step), {})[str(participant)] = options
    return found


def delphi_rounds_sent(database: Database, study_id: str, delphi: str | None = None) -> pd.DataFrame:
    """(participant, round, open) for each Delphi round a participant was sent: they have a
    session on a flow version holding that round's step (of ``delphi`` only, if named). ``open``
    while that session waits for them (not ended, closed, stopped or replaced by another flow)
    and they have not left the study. Someone who left the study before a round reached them
    is listed for it too, not open, once the round has been sent to anyone: they will not
    answer it, so they have dropped out. A round sent to nobody yet lists nobody, so nobody
    has dropped out of it (and it has no attrition figure).

    Each row's index is its Delphi's id (an index named ``delphi``): round 2 of one Delphi is
    not round 2 of another, so a table of every Delphi in a study splits into each one's."""
    rounds_of, sessions, left = _delphi_sessions(database, study_id, delphi)
    rows = [(d, pid, r, status in LIVE and pid not in left) for pid, version, status in sessions for d, r in sorted(rounds_of[version])]
    sent = {(d, pid, r) for d, pid, r, _ in rows}
    under_way = sorted({(d, r) for d, _, r in sent})
    rows += [(d, pid, r, False) for pid in sorted(left) for d, r in under_way if (d, pid, r) not in sent]
    table = pd.DataFrame(rows, columns=["delphi", "participant", "round", "open"])
    return table.astype({"delphi": str, "round": int, "open": bool}).set_index("delphi")


def rounds_sent_to(sent: pd.DataFrame | None, delphi: str) -> pd.DataFrame | None:
    """Who was sent ``delphi``'s rounds: the rows of ``sent`` for that Delphi where it names
    each row's (a ``delphi`` column, or the index :func:`delphi_rounds_sent` gives), or all of
    it where it names none (a table of one Delphi)."""
    if sent is None:
        return None
    table = sent.reset_index() if sent.index.name == "delphi" else sent
    if "delphi" not in table.columns:
        return sent
    return table[table["delphi"].fillna("").astype(str) == delphi].drop(columns="delphi").reset_index(drop=True)


def _delphi_sessions(database: Database, study_id: str, delphi: str | None
                     ) -> tuple[dict[int, set[tuple[str, int]]], list[tuple[str, int, str]], set[str]]:
    """The Delphi rounds of each flow version that asks any, the sessions on those versions
    as (participant, version, status), and who opted out of the study."""
    s, e = SESSIONS.c, ENROLMENTS.c
    with database.reading() as session:
        versions = session.execute(select(FLOW_VERSIONS.c.id, FLOW_VERSIONS.c.content).where(FLOW_VERSIONS.c.study_id == study_id)).all()
        rounds_of = {int(v): found for v, content in versions if (found := delphi_rounds(content, delphi))}
        on_rounds = (select(s.participant_id, s.flow_version_id, s.status)
                     .where(s.study_id == study_id, s.flow_version_id.in_(list(rounds_of))))
        sessions = [(str(pid), int(version), str(status)) for pid, version, status in session.execute(on_rounds)]
        left = {str(pid) for pid in session.execute(select(e.participant_id).where(e.study_id == study_id, e.opted_out.is_(True))).scalars()}
    return rounds_of, sessions, left


def delphi_rounds(content: Mapping[str, Any] | None, delphi: str | None = None) -> set[tuple[str, int]]:
    """The (Delphi, round) pairs a published flow asks (of ``delphi`` only, if named): its
    ``delphi`` steps' ``round`` (1 when not given), each Delphi named by ``delphi:`` or else its
    step id."""
    found = set()
    for raw in (content or {}).get("steps", []) or []:
        if not isinstance(raw, dict) or raw.get("type") != "delphi":
            continue
        name = str(raw.get("delphi") or raw.get("id"))
        if delphi in (None, name):
            found.add((name, int(raw.get("round") or 1)))
    return found
