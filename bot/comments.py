"""Comments: what participants wrote at a question that could not read it as its answer (an
aside, flows/asides.py), as coordinators see them: in the export (``<study>-comments.csv``,
described in the data dictionary), in the report (``comments.csv``), beside each step's results
on the desk, and as theme analysis input. Masked as answers are in the export and on the desk
(:func:`bot.export.scrub`); for analysis, with identifiers redacted alike (nlp/redact.py)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, case, exists, func, select

from storage.database import Database
from storage.tables import COMMENTS, ENROLMENTS, FLAGS, TRANSCRIPTS

COMMENT_COLUMN_MEANINGS: list[tuple[str, str]] = [
    ("participant", "Pseudonymous participant id (p- and hex), as in the answers file."),
    ("group", "The participant's group in the study."),
    ("flow", "Flow id."),
    ("flow_version", "Content hash of the flow version the participant was answering."),
    ("step", "Step id of the question the comment was told at (a choice, scale, yes/no or number question: "
             "one that takes no free text)."),
    ("item", "For many-item steps: the item being asked when the comment was told; empty otherwise."),
    ("text", "The participant's own words, which the question could not read as its answer; phone numbers, "
             "e-mails, NHS numbers, postcodes, dates of birth and names masked. Never counted as an answer."),
    ("source", "How it came: text (typed) or voice (a voice note's transcript)."),
    ("written_at", "When the comment was received, ISO 8601 in UTC."),
    ("voice_confidence", "For a comment said in a voice note: how sure the speech recogniser was of its transcript, "
                         "0 to 1; empty otherwise."),
    ("voice_low_confidence", "For a comment said in a voice note: true when the recogniser was unsure (the transcript "
                             "was read back to the participant, and kept when they confirmed it); empty otherwise."),
]
"""The columns of ``<study>-comments.csv`` (and the report's ``comments.csv``) and what each means."""
COMMENT_COLUMNS = [name for name, _ in COMMENT_COLUMN_MEANINGS]
COMMENT_ID_PREFIX = "c"
"""Theme analysis input ids of comments (``c<id>``), beside answers' plain numbers."""
SHOWN_PER_STEP = 20
"""The most recent comments the desk shows beside a step's results; the export has every one."""
SAFEGUARDING = "safeguarding"


def study_comments(connection: Connection, study_id: str) -> list[dict[str, str]]:
    """Every comment kept in a study, oldest first, its words masked as the export masks answers."""
    from bot.export import scrub

    t = TRANSCRIPTS.c
    heard = (select(t.comment_id, func.max(t.confidence).label("confidence"),
                    func.max(case((t.low_confidence, 1), else_=0)).label("low"))
             .where(t.study_id == study_id, t.comment_id.is_not(None), t.status == "heard").group_by(t.comment_id).subquery())
    query = (_query(study_id).add_columns(ENROLMENTS.c.group, heard.c.confidence, heard.c.low)
             .outerjoin(heard, heard.c.comment_id == COMMENTS.c.id))
    return [{
        "participant": row.participant_id, "group": row.group or "", "flow": row.flow_id, "flow_version": row.flow_version,
        "step": row.step_id, "item": row.item or "", "text": scrub(row.text), "source": row.source,
        "written_at": _iso(row.created_at),
        "voice_confidence": f"{row.confidence:.2f}" if row.confidence is not None else "",
        "voice_low_confidence": "" if row.low is None else "true" if row.low else "false",
    } for row in connection.execute(query)]


def comments_for_step(database: Database, study_id: str, step_id: str | None = None) -> list[tuple[str, str, str | None]]:
    """Comments as theme analysis input, as :func:`bot.analysis_input.answers_for_step` gives
    answers: (``c<id>``, text redacted by :func:`nlp.redact.redact`, group); one step's, or all."""
    from nlp.redact import redact

    query = _query(study_id).add_columns(ENROLMENTS.c.group)
    if step_id is not None:
        query = query.where(COMMENTS.c.step_id == step_id)
    with database.transaction() as connection:
        rows = list(connection.execute(query))
    return [(f"{COMMENT_ID_PREFIX}{row.id}", redact(row.text), row.group) for row in rows if row.text.strip()]


def comment_count(database: Database, study_id: str) -> int:
    """How many comments a study has kept."""
    with database.transaction() as connection:
        return int(connection.execute(select(func.count()).where(COMMENTS.c.study_id == study_id)).scalar() or 0)


def is_comment(text_id: str) -> bool:
    """Whether a theme analysis input id (:func:`comments_for_step`) is a comment's, not an answer's."""
    return text_id.startswith(COMMENT_ID_PREFIX)


def flagged_comments(database: Database, study_id: str) -> set[str]:
    """The analysis ids (``c<id>``) of comments told at a question where their participant raised a
    safeguarding flag: they count in a theme but are never quoted, as such answers are not."""
    c = COMMENTS.c
    with database.transaction() as connection:
        ids = connection.execute(select(c.id).where(c.study_id == study_id, _flagged_here()))
        return {f"{COMMENT_ID_PREFIX}{comment_id}" for comment_id in ids.scalars()}


@dataclass
class ShownComment:
    written_at: datetime
    group: str
    item: str
    text: str
    """Masked as the export masks answers (:func:`bot.export.scrub`)."""


@dataclass
class StepComments:
    """A step's comments as the desk shows them beside its results."""

    total: int = 0
    """Every comment kept at the step, those held back included."""
    held_back: int = 0
    """Told by someone who raised a safeguarding concern at the step: counted, not shown (see Alerts)."""
    shown: list[ShownComment] = field(default_factory=list)
    """The most recent (:data:`SHOWN_PER_STEP`), newest first."""


def desk_comments(database: Database, study_id: str, most: int = SHOWN_PER_STEP) -> dict[tuple[str, str], StepComments]:
    """(flow, step) -> its comments for the desk: how many, how many held back for safeguarding,
    and the ``most`` recent of the others, newest first, masked, each with its group."""
    from bot.export import scrub

    c, e = COMMENTS.c, ENROLMENTS.c
    flagged = _flagged_here()
    newest = func.row_number().over(partition_by=(c.flow_id, c.step_id), order_by=(c.created_at.desc(), c.id.desc()))
    ranked = (select(c.flow_id, c.step_id, c.item, c.text, c.created_at, e.group, newest.label("rank"))
              .select_from(COMMENTS.outerjoin(ENROLMENTS, and_(e.participant_id == c.participant_id, e.study_id == c.study_id)))
              .where(c.study_id == study_id, ~flagged).subquery())
    marked = select(c.flow_id, c.step_id, flagged.label("held")).where(c.study_id == study_id).subquery()
    with database.transaction() as connection:
        counts = connection.execute(select(marked.c.flow_id, marked.c.step_id, marked.c.held, func.count())
                                    .group_by(marked.c.flow_id, marked.c.step_id, marked.c.held)).all()
        recent = connection.execute(select(ranked).where(ranked.c.rank <= most).order_by(ranked.c.rank)).all()
    found: dict[tuple[str, str], StepComments] = {}
    for flow, step, is_held, n in counts:
        entry = found.setdefault((flow, step), StepComments())
        entry.total += int(n)
        if is_held:
            entry.held_back += int(n)
    for row in recent:
        found[(row.flow_id, row.step_id)].shown.append(
            ShownComment(row.created_at, row.group or "", row.item or "", scrub(row.text)))
    return found


def _flagged_here() -> Any:
    """Whether a comment's participant raised a safeguarding flag at the comment's question."""
    c, f = COMMENTS.c, FLAGS.c
    return exists().where(f.participant_id == c.participant_id, f.study_id == c.study_id, f.flow_id == c.flow_id,
                          f.step_id == c.step_id, f.kind == SAFEGUARDING)


def _iso(when: datetime) -> str:
    return when.isoformat().replace("+00:00", "Z")


def _query(study_id: str) -> Any:
    c, e = COMMENTS.c, ENROLMENTS.c
    return (select(c.id, c.participant_id, c.flow_id, c.flow_version, c.step_id, c.item, c.text, c.source, c.created_at)
            .select_from(COMMENTS.outerjoin(ENROLMENTS, and_(e.participant_id == c.participant_id, e.study_id == c.study_id)))
            .where(c.study_id == study_id).order_by(c.created_at, c.id))
