"""Who is no one's follow-up to count: people who declined a study's consent.

A study whose first flow asks for consent sends its follow-ups only to those who said yes
(bot/firing.py ``_check_consented``), yet planning plans them for everyone who joined, so
someone who said no stood in the Evaluate results with follow-ups "still to come" that
firing will never send (and, should Chorus be down when one falls due, "missed"). They are
not taking part: like a send dropped because the schedule changed, their follow-ups were
never theirs to answer, and the evaluation leaves them out (bot/evaluation.py ``followups``).

Declined is what firing reads, at this moment: the person's standing answer to the start
flow's consent step is not yes, and they are not being asked it now (someone still in the
consent conversation, or asked again after START, may yet say yes)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from flows.session_state import LIVE
from storage.database import Database
from storage.tables import ANSWERS, SESSIONS


def consent_steps(study: Mapping[str, Any] | None, flows: Iterable[tuple[str, Mapping[str, Any] | None]]) -> set[str]:
    """The consent steps of the study's start flow (``join.start_flow``), every version counted."""
    join = (study or {}).get("join")
    start = join.get("start_flow") if isinstance(join, dict) else None
    return {str(step["id"]) for flow_id, content in flows if start and flow_id == start
            for step in (content or {}).get("steps", []) or []
            if isinstance(step, dict) and step.get("type") == "consent" and step.get("id")}


def declined(database: Database, study_id: str, study: Mapping[str, Any] | None,
             flows: Iterable[tuple[str, Mapping[str, Any] | None]], people: Iterable[str]) -> set[str]:
    """Of ``people``, those firing sends no follow-up to for want of consent (see the module's words)."""
    steps, people = consent_steps(study, flows), set(people)
    if not steps or not people:
        return set()
    start = (study or {})["join"]["start_flow"]  # (there are consent steps: the start flow is named)
    a, s = ANSWERS.c, SESSIONS.c
    answers = (select(a.participant_id, a.value)
               .where(a.study_id == study_id, a.step_id.in_(sorted(steps)), a.item.is_(None), a.skipped.is_(False),
                      a.withdrawn_at.is_(None))
               .order_by(a.id))
    asked = select(s.participant_id).distinct().where(s.study_id == study_id, s.flow_id == start, s.status.in_(LIVE))
    with database.transaction() as connection:
        standing = {str(who): value for who, value in connection.execute(answers)}  # (the last answer stands)
        being_asked = {str(who) for who in connection.execute(asked).scalars()}
    return {who for who in people if standing.get(who) != "yes" and who not in being_asked}
