"""Evaluation over time: the FFT percentage positive and mean SUS per group per period,
from the answers a study's follow-up flows collected (see flows/analysis/instruments.py).

The questions are found in the study's published flows, whatever they are called: every
choice step whose options are the six FFT answers, and every flow with steps ``sus_1`` to
``sus_10`` (:func:`instrument_steps`); a caller may name them instead.

:func:`followups` adds what a coordinator acts on: each follow-up's response rate (asked,
answered, and how the unanswered stand), every scale question over time too, and the same
people's starting answer against their later ones (flows/analysis/evaluation_paired.py)."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, func, select

from flows.analysis.evaluation_paired import Asked, MeasureAnswer, paired_rows, response_rows
from flows.analysis.instruments import (
    ALL_GROUPS,
    NO_GROUP,
    SUS_ITEMS,
    AnswerRecord,
    FftSteps,
    Period,
    PeriodSummary,
    fft_codes,
    sus_score,
    track,
)
from flows.analysis.periods import period_of
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS, SESSIONS

SUS_STEPS = frozenset(f"sus_{n}" for n in range(1, SUS_ITEMS + 1))
FFT_MEASURE = "% positive (FFT)"
SUS_MEASURE = "SUS score (0-100)"


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


# ----------------------------------------------------------------------------- follow-ups to act on


@dataclass(frozen=True)
class FollowUps:
    """What a study's follow-ups found, as rows (dicts) ready for a table: who answered each
    (``responses``), each measure per group per period (``over_time``), and the same people's
    baseline against their later answers (``paired``)."""

    responses: list[dict[str, Any]]
    over_time: list[dict[str, Any]]
    paired: list[dict[str, Any]]

    def __bool__(self) -> bool:
        return bool(self.responses or self.over_time or self.paired)


def _scale_steps(flows: Iterable[tuple[str, dict[str, Any]]]) -> set[tuple[str, str]]:
    """(flow, step) of every scale question outside a SUS flow's items, every version counted."""
    return {(flow_id, step["id"]) for flow_id, content in flows
            for step in (content or {}).get("steps", []) or []
            if isinstance(step, dict) and step.get("type") == "scale" and isinstance(step.get("id"), str)
            and step["id"] not in SUS_STEPS}


def followups(database: Database, study_id: str, period: Period = "month", zone: str = "Europe/London",
              same: Mapping[str, str] | None = None) -> FollowUps:
    """The follow-ups' response rates, measures over time and paired changes. A scale question
    is one measure wherever it is asked under the same step id (``wk2/score`` and ``wk6/score``);
    ``same`` maps other ``flow/step``s to a measure name (``{"welcome/base": "score"}``). A SUS
    flow's measure is its score, named ``sus``."""
    with database.transaction() as connection:
        contents = [(v.flow_id, v.content) for v in repository.flow_versions(connection, study_id)]
    found = find_instruments(contents)
    scales = _scale_steps(contents)
    flows = sorted({*(flow for flow, _ in found.fft), *found.sus, *(flow for flow, _ in scales)})
    if not flows:
        return FollowUps([], [], [])
    records = answer_records(database, study_id, flows)
    joined = _joined(database, study_id)
    names = dict(same or {})
    measured: list[MeasureAnswer] = []
    for record in _latest(records, scales):
        number = _number(record.value)
        if number is not None:
            measured.append(_answer(record, names.get(f"{record.flow_id}/{record.step_id}", record.step_id), number, joined))
    for flow in found.sus:
        measured += [_answer(last, names.get(f"{flow}/sus", "sus"), score, joined) for last, score in _sus_scores(records, flow)]
    over_time = _instrument_rows(records, found, period, zone) + _scale_rows(measured, found.sus, period, zone)
    return FollowUps(response_rows(_asked(database, study_id, flows, records)), over_time, paired_rows(measured))


def _answer(record: AnswerRecord, measure: str, value: float, joined: Mapping[str, datetime]) -> MeasureAnswer:
    start = joined.get(record.participant_id)
    days = (record.answered_at - start).total_seconds() / 86400 if start is not None else None
    return MeasureAnswer(record.participant_id, record.group or NO_GROUP, measure, record.flow_id, value,
                         record.answered_at, days, record.step_id)


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or value is None:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _latest(records: Iterable[AnswerRecord], steps: set[tuple[str, str]]) -> list[AnswerRecord]:
    """The last answer to each of these steps in each session (BACK may have changed one)."""
    latest: dict[tuple[Any, str, str], AnswerRecord] = {}
    for record in sorted(records, key=lambda r: r.answered_at):
        if (record.flow_id, record.step_id) in steps:
            latest[(record.session_id or record.participant_id, record.flow_id, record.step_id)] = record
    return list(latest.values())


def _sus_scores(records: Iterable[AnswerRecord], flow: str) -> list[tuple[AnswerRecord, float]]:
    """Each complete SUS response in ``flow`` (a session's ten items, each 1-5): its last answer and its score."""
    sessions: dict[Any, dict[int, AnswerRecord]] = {}
    for record in _latest(records, {(flow, step) for step in SUS_STEPS}):
        sessions.setdefault(record.session_id or record.participant_id, {})[int(record.step_id[4:])] = record
    scored = []
    for items in sessions.values():
        answers = [_number(items[n].value) if n in items else None for n in range(1, SUS_ITEMS + 1)]
        if all(a is not None and a.is_integer() and 1 <= a <= 5 for a in answers):
            scored.append((max(items.values(), key=lambda r: r.answered_at), sus_score([int(a or 0) for a in answers])))
    return scored


def _instrument_rows(records: list[AnswerRecord], found: Instruments, period: Period, zone: str) -> list[dict[str, Any]]:
    """The FFT's % positive per question and the SUS score per flow, per group per period."""
    rows: list[dict[str, Any]] = []
    for (flow, step), codes in sorted(found.fft.items()):
        for s in track(records, period, zone, fft_steps={(flow, step): codes}, sus_flows=()):
            rows.append({"flow": flow, "step": step, "measure": FFT_MEASURE, "group": s.group, "period": s.period,
                         "n": s.fft.responses, "value": s.fft.percent_positive, "percent_negative": s.fft.percent_negative})
    for flow in found.sus:
        for s in track(records, period, zone, fft_steps={}, sus_flows=(flow,)):
            rows.append({"flow": flow, "step": "sus", "measure": SUS_MEASURE, "group": s.group, "period": s.period,
                         "n": s.sus_responses, "value": s.sus_mean, "percent_negative": None})
    return rows


def _scale_rows(measured: list[MeasureAnswer], sus_flows: tuple[str, ...], period: Period, zone: str) -> list[dict[str, Any]]:
    """Each scale question's mean per group per period."""
    tz = ZoneInfo(zone)
    sums: dict[tuple[str, str, str, str], list[float]] = defaultdict(list)
    for answer in measured:
        if answer.flow in sus_flows and answer.step in SUS_STEPS:
            continue
        for group in (answer.group, ALL_GROUPS):
            sums[(answer.flow, answer.step, group, period_of(answer.answered_at, period, tz))].append(answer.value)
    return [{"flow": flow, "step": step, "measure": "mean", "group": group, "period": when, "n": len(values),
             "value": sum(values) / len(values), "percent_negative": None}
            for (flow, step, group, when), values in sorted(sums.items(), key=lambda kv: (kv[0][0], kv[0][1], kv[0][2] == ALL_GROUPS, kv[0][2], kv[0][3]))]


def _joined(database: Database, study_id: str) -> dict[str, datetime]:
    e = ENROLMENTS.c
    with database.transaction() as connection:
        rows = connection.execute(select(e.participant_id, e.enrolled_at).where(e.study_id == study_id)).all()
    return {str(participant): when for participant, when in rows}


def _asked(database: Database, study_id: str, flows: list[str], records: list[AnswerRecord]) -> list[Asked]:
    """Everyone a session of each flow was started for: their latest session's status and
    outcome, their group, and whether they answered any question of the flow."""
    s, e = SESSIONS.c, ENROLMENTS.c
    latest = (select(func.max(s.id)).where(s.study_id == study_id, s.flow_id.in_(flows))
              .group_by(s.participant_id, s.flow_id)).scalar_subquery()
    query = (select(s.participant_id, e.group, s.flow_id, s.status, s.state)
             .select_from(SESSIONS.outerjoin(ENROLMENTS, and_(e.participant_id == s.participant_id, e.study_id == s.study_id)))
             .where(s.id.in_(latest)))
    with database.transaction() as connection:
        rows = connection.execute(query).all()
    answered = {(r.participant_id, r.flow_id) for r in records}
    return [Asked(str(who), group or NO_GROUP, flow, status, (str(who), flow) in answered, (state or {}).get("outcome"))
            for who, group, flow, status, state in rows]
