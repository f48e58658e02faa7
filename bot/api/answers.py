"""A study's answers as one pandas table, with each step's type, for the analyses.

Many-item steps (Delphi, ranking, pairwise, choice tasks, statement voting) are read
tolerantly, because their answers may name their item in an ``item`` column (when the
answers table has one) or inside the JSON value. See :mod:`bot.api.methods` for the
shapes each method accepts.
"""

from __future__ import annotations

import pandas as pd
from sqlalchemy import and_, select

from bot.api.catalogue import StepInfo, step_catalogue
from flows.loader import LoadedStudy
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS

COLUMNS = ["id", "participant", "group", "channel", "flow", "version_id", "step", "item", "value", "display",
           "skipped", "answered_at"]


def load_answers(database: Database, loaded: LoadedStudy) -> tuple[pd.DataFrame, dict[tuple[int, str], StepInfo]]:
    """Every standing answer of the study (one row each; not those withdrawn by BACK) with group, channel and step type."""
    a, e = ANSWERS.c, ENROLMENTS.c
    item = a.item if "item" in a else None
    columns = [a.id, a.participant_id, e.group, e.channel, a.flow_id, a.flow_version_id, a.step_id,
               *([item] if item is not None else []), a.value, a.display, a.skipped, a.answered_at]
    query = (select(*columns)
             .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id)))
             .where(a.study_id == loaded.study.study, a.withdrawn_at.is_(None)).order_by(a.id))
    with database.reading() as session:
        rows = [tuple(r) for r in session.execute(query)]
    if item is None:
        rows = [(*r[:7], None, *r[7:]) for r in rows]
    frame = pd.DataFrame(rows, columns=COLUMNS)
    frame["group"] = frame["group"].fillna("unspecified")
    frame["item"] = frame["item"].astype(object).where(frame["item"].notna(), None)
    steps = step_catalogue(database, loaded)
    frame["type"] = [steps[(v, s)].type if (v, s) in steps else "" for v, s in zip(frame["version_id"], frame["step"], strict=True)]
    return frame, steps
