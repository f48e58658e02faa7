"""Evaluation over time: the FFT percentage positive and mean SUS per group per period,
from the answers a study's follow-up flows collected (see flows/analysis/instruments.py)."""

from __future__ import annotations

from sqlalchemy import and_, select

from flows.analysis.instruments import AnswerRecord, Period, PeriodSummary, track
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS


def answer_records(database: Database, study_id: str, flow_ids: list[str]) -> list[AnswerRecord]:
    """Every standing, non-skipped answer to these flows in the study, with the participant's group."""
    a, e = ANSWERS.c, ENROLMENTS.c
    query = (
        select(a.participant_id, e.group, a.flow_id, a.step_id, a.value, a.answered_at, a.session_id)
        .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id)))
        .where(a.study_id == study_id, a.flow_id.in_(flow_ids), a.skipped.is_(False), a.withdrawn_at.is_(None))
        .order_by(a.id)
    )
    with database.transaction() as connection:
        return [AnswerRecord(*row) for row in connection.execute(query)]


def evaluation_over_time(
    database: Database, study_id: str, period: Period = "month", zone: str = "Europe/London",
    fft_flow: str = "fft", fft_step: str = "fft", sus_flow: str = "sus",
) -> list[PeriodSummary]:
    records = answer_records(database, study_id, [fft_flow, sus_flow])
    return track(records, period, zone, fft_flow=fft_flow, fft_step=fft_step, sus_flow=sus_flow)
