"""Answers to one step of a study, ready for text analysis: (answer id, text, group),
with identifiers masked (nlp/redact.py) because analysis input must not carry them."""

from __future__ import annotations

from sqlalchemy import and_, select

from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS


def answers_for_step(database: Database, study_id: str, step_id: str) -> list[tuple[str, str, str | None]]:
    from nlp.redact import redact

    a, e = ANSWERS.c, ENROLMENTS.c
    query = (
        select(a.id, a.value, e.group)
        .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id)))
        .where(a.study_id == study_id, a.step_id == step_id, a.skipped.is_(False), a.item.is_(None), a.withdrawn_at.is_(None))
        .order_by(a.id)
    )
    with database.transaction() as connection:
        rows = list(connection.execute(query))
    return [(str(answer_id), redact(value), group) for answer_id, value, group in rows
            if isinstance(value, str) and value.strip()]
