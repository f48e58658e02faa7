"""Evaluation over time: the FFT percentage positive and mean SUS per group per period,
from the answers a study's follow-up flows collected (see flows/analysis/instruments.py).

The questions are found in the study's published flows, whatever they are called: every
choice step whose options are the six FFT answers, and every flow with steps ``sus_1`` to
``sus_10`` (:func:`instrument_steps`); a caller may name them instead.

:func:`followups` adds what a coordinator acts on: each follow-up's response rate per send
(the times it was sent, those answered, and how the unanswered stand), every follow-up's scale
questions over time too, and the same people's starting answer against their later ones
(flows/analysis/evaluation_paired.py). Follow-ups are the flows the study's ``schedule:``
sends (:class:`FollowUpFlows`): the flow people join by has a "response rate" of 100% by
construction and its questions are a baseline, not a result."""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, select

from bot.evaluation_consent import declined
from bot.planning_not_sent import CLOSED_BEFORE_DUE, SKIPPED_OPTED_OUT
from flows.analysis.evaluation_paired import (
    Asked,
    MeasureAnswer,
    NotSent,
    paired_rows,
    response_rows,
)
from flows.analysis.evaluation_weeks import series_flows, weekly_rows
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
from flows.model import resolve_text
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, DUE_TASKS, ENROLMENTS, SESSIONS

SUS_STEPS = frozenset(f"sus_{n}" for n in range(1, SUS_ITEMS + 1))
FFT_MEASURE = "% positive (FFT)"
SUS_MEASURE = "SUS score (0-100)"
ON_JOINING = timedelta(minutes=10)
"""A session of a flow people join by, started this soon after they joined, was their joining, not a send."""


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
class FollowUpFlows:
    """Which of a study's flows are follow-ups: the flows its ``schedule:`` sends. A study that
    schedules nothing (its later flows sent by hand) has every flow but those people join by.
    A flow people join by is no follow-up: everyone who joined was "asked" it, and its
    questions are a starting point (a baseline), not a result."""

    scheduled: frozenset[str] = frozenset()
    joining: frozenset[str] = frozenset()

    def __contains__(self, flow: object) -> bool:
        return flow in self.scheduled if self.scheduled else flow not in self.joining

    def charted(self, measure: Mapping[str, Any]) -> bool:
        """Whether a measure over time (bot.api.results.measures) is an evaluation result: a
        follow-up's question, or the FFT or the SUS wherever they are asked (an FFT on joining,
        say, at discharge)."""
        return measure.get("flow") in self or measure.get("measure") in (FFT_MEASURE, SUS_MEASURE)


def follow_up_flows(content: Mapping[str, Any] | None) -> FollowUpFlows:
    """The follow-ups of a study file's content (as published): its schedule's flows, and the
    flows people join by (``join.start_flow`` and each route's ``flow``)."""
    content = content or {}
    given = content.get("join")
    join: Mapping[str, Any] = given if isinstance(given, dict) else {}
    routes = [r for r in join.get("routes", []) or [] if isinstance(r, dict)]
    joining = {str(f) for f in [join.get("start_flow"), *(r.get("flow") for r in routes)] if f}
    scheduled = {str(e["flow"]) for e in content.get("schedule", []) or [] if isinstance(e, dict) and e.get("flow")}
    return FollowUpFlows(frozenset(scheduled), frozenset(joining))


@dataclass(frozen=True)
class FollowUps:
    """What a study's follow-ups found, as rows (dicts) ready for a table: each follow-up's
    sends and how many were answered (``responses``), each measure per group per period
    (``over_time``), and the same people's baseline against their later answers (``paired``);
    with which flows are follow-ups and each flow's title."""

    responses: list[dict[str, Any]]
    over_time: list[dict[str, Any]]
    paired: list[dict[str, Any]]
    flows: FollowUpFlows = field(default_factory=FollowUpFlows)
    titles: dict[str, str] = field(default_factory=dict)
    weeks: list[dict[str, Any]] = field(default_factory=list)
    """A repeating follow-up's sends, answers and sends not made, week by week (flows/analysis/evaluation_weeks.py)."""

    def __bool__(self) -> bool:
        return bool(self.responses or self.over_time or self.paired or self.weeks)


def _scale_steps(flows: Iterable[tuple[str, dict[str, Any]]]) -> set[tuple[str, str]]:
    """(flow, step) of every scale question outside a SUS flow's items, every version counted."""
    return {(flow_id, step["id"]) for flow_id, content in flows
            for step in (content or {}).get("steps", []) or []
            if isinstance(step, dict) and step.get("type") == "scale" and isinstance(step.get("id"), str)
            and step["id"] not in SUS_STEPS}


def _titles(flows: Iterable[tuple[str, dict[str, Any]]], language: str) -> dict[str, str]:
    """Each flow's title (its latest version's) in ``language``; the flow id when it has none."""
    titles: dict[str, str] = {}
    for flow_id, content in flows:
        titles[flow_id] = resolve_text((content or {}).get("title"), language, language) or flow_id
    return titles


def followups(database: Database, study_id: str, period: Period = "month", zone: str = "Europe/London",
              same: Mapping[str, str] | None = None) -> FollowUps:
    """The follow-ups' response rates (per send), measures over time and paired changes. A
    scale question is one measure wherever it is asked under the same step id (``wk2/score``
    and ``wk6/score``), the joining flow's included as a baseline; ``same`` maps other
    ``flow/step``s to a measure name (``{"welcome/base": "score"}``). A SUS flow's measure is
    its score, named ``sus``. Only follow-ups (:class:`FollowUpFlows`) get a response rate, a
    scale question charted over time, or the later side of a pair. Follow-ups planned for
    someone who declined consent, never to be sent, are in no count (bot/evaluation_consent.py)."""
    with database.transaction() as connection:
        study = repository.study_content(connection, study_id)
        contents = [(v.flow_id, v.content) for v in repository.flow_versions(connection, study_id)]
    languages = (study or {}).get("languages") or ["en"]
    follow_ups = follow_up_flows(study)
    titles = _titles(contents, str(languages[0]))
    sent = [flow for flow in dict.fromkeys(flow for flow, _ in contents) if flow in follow_ups]
    found = find_instruments(contents)
    scales = _scale_steps(contents)
    measured_flows = sorted({*(flow for flow, _ in found.fft), *found.sus, *(flow for flow, _ in scales)})
    records = answer_records(database, study_id, measured_flows) if measured_flows else []
    sends, not_sent = (_sends(database, study_id, sent, follow_ups), _not_sent(database, study_id, sent)) if sent else ([], [])
    left_out = declined(database, study_id, study, contents, {n.participant for n in not_sent})
    not_sent = [n for n in not_sent if n.participant not in left_out]  # (never theirs to answer: bot/evaluation_consent.py)
    responses = response_rows(sends, not_sent) if sent else []
    weeks = weekly_rows(sends, not_sent, series_flows(study), zone)
    if not measured_flows:
        return FollowUps(responses, [], [], follow_ups, titles, weeks)
    joined = _joined(database, study_id)
    names = dict(same or {})
    measured: list[MeasureAnswer] = []
    for record in _latest(records, scales):
        number = _number(record.value)
        if number is not None:
            measured.append(_answer(record, names.get(f"{record.flow_id}/{record.step_id}", record.step_id), number, joined))
    for flow in found.sus:
        measured += [_answer(last, names.get(f"{flow}/sus", "sus"), score, joined) for last, score in _sus_scores(records, flow)]
    over_time = (_instrument_rows(records, found, period, zone)
                 + _scale_rows([m for m in measured if m.flow in follow_ups], found.sus, period, zone))
    return FollowUps(responses, over_time, paired_rows(measured, follow_ups), follow_ups, titles, weeks)


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


def _sends(database: Database, study_id: str, flows: list[str], follow_ups: FollowUpFlows) -> list[Asked]:
    """Each time one of these follow-ups was sent (a session of it started): the session's
    status and outcome, the participant's group, and whether any answer was given in it. A
    flow people also join by leaves out a session started on joining (within :data:`ON_JOINING`).
    An answer stored without its session counts for the person's latest session of the flow
    started by then (else their first)."""
    s, e, a = SESSIONS.c, ENROLMENTS.c, ANSWERS.c
    query = (select(s.id, s.participant_id, e.group, s.flow_id, s.status, s.state["outcome"].as_string(), s.started_at)
             .select_from(SESSIONS.outerjoin(ENROLMENTS, and_(e.participant_id == s.participant_id, e.study_id == s.study_id)))
             .where(s.study_id == study_id, s.flow_id.in_(flows)).order_by(s.started_at, s.id))
    given = and_(a.study_id == study_id, a.flow_id.in_(flows), a.skipped.is_(False), a.withdrawn_at.is_(None))
    with database.transaction() as connection:
        sessions = connection.execute(query).all()
        answered = {int(i) for i in connection.execute(select(a.session_id).distinct().where(given, a.session_id.is_not(None))).scalars()}
        loose = connection.execute(select(a.participant_id, a.flow_id, a.answered_at).distinct()
                                   .where(given, a.session_id.is_(None))).all()
    mine: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for row in sessions:
        mine[(str(row.participant_id), row.flow_id)].append(row)
    for who, flow, when in loose:
        theirs = mine.get((str(who), flow), [])
        started = [row for row in theirs if _utc(row.started_at) <= _utc(when)]
        if theirs:
            answered.add(int((started or theirs)[-1 if started else 0].id))
    joined = _joined(database, study_id) if follow_ups.joining & set(flows) else {}
    sends: list[Asked] = []
    for (who, flow), theirs in mine.items():
        start = joined.get(who) if flow in follow_ups.joining else None
        kept = [row for row in theirs if start is None or _utc(row.started_at) - _utc(start) > ON_JOINING]
        sends += [Asked(who, row.group or NO_GROUP, flow, row.status, int(row.id) in answered, row[5], _utc(row.started_at))
                  for row in kept]
    return sends


def _utc(moment: datetime) -> datetime:
    """A stored time made comparable (SQLite gives it back without its zone, in UTC)."""
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


NOT_SENT_BECAUSE = (("dropped: the participant opted out", "stopped"), ("dropped: missed:", "missed"),
                    ("dropped: the round closed", "closed"), (f"dropped: {CLOSED_BEFORE_DUE}", "closed_before_due"),
                    (f"dropped: {SKIPPED_OPTED_OUT}", "stopped"))
"""How firing marks a follow-up it dropped (bot/firing.py), and how the evaluation counts it."""


def _not_sent(database: Database, study_id: str, flows: list[str]) -> list[NotSent]:
    """The follow-ups the scheduler planned for someone and did not send: still to come, or
    dropped because they had opted out, past its grace, or closed. A send planned again after
    a drop (START, a changed schedule) counts once, as it stands now: sent ones are sends.
    (:func:`followups` leaves out those of people who declined consent.)"""
    t, e = DUE_TASKS.c, ENROLMENTS.c
    query = (select(t.participant_id, e.group, t.flow_id, t.payload, t.done, t.error, t.due_at)
             .select_from(DUE_TASKS.outerjoin(ENROLMENTS, and_(e.participant_id == t.participant_id, e.study_id == t.study_id)))
             .where(t.study_id == study_id, t.kind == "follow_up", t.flow_id.in_(flows)).order_by(t.id))
    with database.transaction() as connection:
        rows = connection.execute(query).all()
    latest: dict[tuple[str, Any, Any], tuple[str, str, str | None, datetime]] = {}
    sent: set[tuple[str, Any, Any]] = set()
    for who, group, flow, payload, done, error, due_at in rows:
        found = payload if isinstance(payload, dict) else {}
        send = (str(who), found.get("schedule"), found.get("occurrence"))
        if done and error is None:
            sent.add(send)
        standing = "to_come" if not done else next((why for start, why in NOT_SENT_BECAUSE if (error or "").startswith(start)), None)
        latest[send] = (str(flow), group or NO_GROUP, standing, _utc(due_at))
    return [NotSent(send[0], group, flow, standing, due) for send, (flow, group, standing, due) in latest.items()
            if standing is not None and send not in sent]
