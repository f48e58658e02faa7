"""Evaluation over time: the FFT percentage positive and mean SUS per group per period,
from the answers a study's follow-up flows collected (see flows/analysis/instruments.py).

The questions are found in the study's published flows, whatever they are called: every
choice step whose options are the six FFT answers, and every flow with steps ``sus_1`` to
``sus_10`` (:func:`instrument_steps`); a caller may name them instead."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import and_, select

from flows.analysis.instruments import (
    SUS_ITEMS,
    AnswerRecord,
    FftSteps,
    Period,
    PeriodSummary,
    fft_codes,
    track,
)
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS

SUS_STEPS = frozenset(f"sus_{n}" for n in range(1, SUS_ITEMS + 1))


@dataclass(frozen=True)
class Instruments:
    """Where a study asks the FFT and the SUS."""

    fft: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(flow, step) -> {value recorded: FFT code}."""
    sus: tuple[str, ...] = ()
    """Flows with the ten SUS items."""


def find_instruments(flows: Iterable[tuple[str, dict[str, Any]]]) -> Instruments:
    """The FFT questions and SUS flows among flow contents (flow id, YAML as stored), every
    version counted: a question renamed in a later version still has answers under its old id."""
    fft: dict[tuple[str, str], dict[str, str]] = {}
    sus: list[str] = []
    for flow_id, content in flows:
        steps = [s for s in (content or {}).get("steps", []) or [] if isinstance(s, dict)]
        for step in steps:
            codes = fft_codes(step.get("options")) if step.get("type") == "choice" else None
            if codes is not None and isinstance(step.get("id"), str):
                fft.setdefault((flow_id, step["id"]), {}).update(codes)
        if {s.get("id") for s in steps} >= SUS_STEPS and flow_id not in sus:
            sus.append(flow_id)
    return Instruments(fft, tuple(sus))


def instrument_steps(database: Database, study_id: str) -> Instruments:
    """:func:`find_instruments` over the study's published flow versions."""
    with database.transaction() as connection:
        versions = repository.flow_versions(connection, study_id)
        return find_instruments((v.flow_id, v.content) for v in versions)


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
    fft_flow: str | None = None, fft_step: str | None = None, sus_flow: str | None = None,
) -> list[PeriodSummary]:
    """FFT and SUS per group per period (on ``zone``'s clock). The FFT question is ``fft_flow``/
    ``fft_step`` when named, else every one the study asks; the SUS is ``sus_flow``, else every
    flow with the ten SUS steps."""
    found = instrument_steps(database, study_id)
    fft: FftSteps = found.fft
    if fft_flow is not None:
        step = fft_step or "fft"
        fft = {(fft_flow, step): found.fft.get((fft_flow, step), {})}
    sus = (sus_flow,) if sus_flow is not None else found.sus
    flows = list(dict.fromkeys([*(flow for flow, _ in fft), *sus]))
    records = answer_records(database, study_id, flows) if flows else []
    return track(records, period, zone, fft_steps=fft, sus_flows=sus)
