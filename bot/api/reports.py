"""Every report the desk shows, by name, computed from the database and kept while the
data it came from has not changed (a stamp of the answers and flow versions).

The method reports carry the labels participants saw beside the codes (bot.api.labels)."""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import Any

from sqlalchemy import func, select

from bot.api import queries
from flows.loader import LoadedStudy
from storage.database import Database
from storage.tables import ANSWERS, FLAGS, FLOW_VERSIONS, SESSIONS

REPORTS = ("overview", "funnel", "results", "delphi", "ranking", "pairwise", "choice", "statements", "spc")
FILTERABLE = ("delphi", "ranking", "pairwise", "choice", "statements")
Only = tuple[str | None, str | None]
"""The (flow, step) a method's report is limited to; None: every one."""
_CACHE: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
_LOCK = threading.Lock()
CACHE_SIZE = 64


def _stamp(database: Database, study_id: str) -> tuple[Any, ...]:
    with database.reading() as session:
        answers = session.execute(select(func.count(), func.max(ANSWERS.c.id)).where(ANSWERS.c.study_id == study_id)).one()
        versions = session.execute(select(func.max(FLOW_VERSIONS.c.id)).where(FLOW_VERSIONS.c.study_id == study_id)).scalar()
        sessions = session.execute(select(func.count(), func.max(SESSIONS.c.updated_at)).where(SESSIONS.c.study_id == study_id)).one()
        flags = session.execute(select(func.count(), func.max(FLAGS.c.id)).where(FLAGS.c.study_id == study_id)).one()
    return (database.url, study_id, *answers, versions, *sessions, *flags)  # flags: a concern's answers are never quoted


def _compute(database: Database, loaded: LoadedStudy, kind: str, period: str, only: Only) -> Any:
    if kind == "overview":
        return queries.study_overview(database, loaded)
    if kind == "funnel":
        return queries.funnel(database, loaded)
    # pandas and the analyses load with the first report that needs them, not at startup
    from bot.analysis_input import delphi_rounds_sent
    from bot.api import methods, results
    from bot.api.answers import load_answers

    everything, steps = load_answers(database, loaded)
    frame = _only(everything, *only)
    makers: dict[str, Callable[[], Any]] = {
        "results": lambda: results.step_results(frame, steps, loaded.study.default_language),
        "delphi": lambda: methods.delphi_report(frame, steps, delphi_rounds_sent(database, loaded.study.study),
                                                methods.safeguarding_held(database, loaded.study.study)),
        "ranking": lambda: methods.ranking_report(frame, steps),
        "pairwise": lambda: methods.pairwise_report(frame),
        "choice": lambda: methods.choice_report(frame, steps),
        "statements": lambda: methods.statements_report(frame),
        "spc": lambda: results.measures(frame, steps, period, loaded.study.timezone),  # type: ignore[arg-type]
    }
    return _labelled(database, loaded, kind, makers[kind](), steps)


def _only(frame: Any, flow: str | None, step: str | None) -> Any:
    """The answers (a pandas table) of ``flow`` and ``step``; None for either means any."""
    if flow is not None:
        frame = frame[frame["flow"] == flow]
    if step is not None:
        frame = frame[frame["step"] == step]
    return frame


def _labelled(database: Database, loaded: LoadedStudy, kind: str, found: Any, steps: dict[Any, Any]) -> Any:
    from bot.api import labels
    from bot.api.catalogue import latest_steps

    study_id = loaded.study.study
    submissions = labels.approved_submissions(database, study_id) if kind in ("pairwise", "statements") else {}
    every_version = [info for _, info in sorted(steps.items(), key=lambda item: item[0][0])]
    return labels.Labeller(latest_steps(steps), loaded.study.default_language, submissions, every_version).label(found, kind)


def report(database: Database, loaded: LoadedStudy, kind: str, period: str = "week",
           flow: str | None = None, step: str | None = None) -> Any:
    """The named report for a study (see REPORTS); cached until the study's data changes.

    A method's report (FILTERABLE) may read only the answers of one ``flow`` and/or ``step``;
    the other reports are per flow and step already, and read every answer."""
    if kind not in REPORTS:
        raise KeyError(kind)
    only: Only = (flow, step) if kind in FILTERABLE else (None, None)
    key = (*_stamp(database, loaded.study.study), kind, period, only, tuple((f, v.version) for f, v in loaded.flows.items()))
    with _LOCK:
        if key in _CACHE:
            _CACHE.move_to_end(key)
            return _CACHE[key]
    value = _compute(database, loaded, kind, period, only)
    with _LOCK:
        _CACHE[key] = value
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return value
