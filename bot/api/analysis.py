"""REST API: reports, charts (SVG and PNG), exports, themes in the answers to one open question
(identifiers masked first), and long jobs with progress."""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from sqlalchemy import func, select
from starlette.background import BackgroundTask

from bot import charts
from bot.api import catalogue, figures, labels, reports
from bot.api.catalogue import StepInfo
from bot.api.context import Ctx, StudyCtx, api_context, api_study
from bot.api.jobs import Job, Progress
from bot.api.labels import group_names
from bot.theme_inputs import TOO_FEW, Text, quoted_themes, theme_input
from flows.loader import LoadedStudy
from storage.database import Database
from storage.tables import ANSWERS, AUDIT_EVENTS

router = APIRouter(prefix="/api/v1")
ReportKind = Literal["overview", "funnel", "results", "delphi", "ranking", "pairwise", "choice", "statements", "spc"]
ChartKind = Literal["funnel", "results", "delphi", "ranking", "pairwise", "choice", "spc"]
PeriodName = Literal["day", "week", "month"]
ExportName = Literal["answers.csv", "answers.parquet", "data-dictionary.csv", "data-dictionary.md"]
MEDIA = {".csv": "text/csv", ".parquet": "application/vnd.apache.parquet", ".md": "text/markdown", ".zip": "application/zip"}


class ExportRequest(BaseModel):
    format: Literal["csv", "parquet", "both"] = "both"


def chart_report(s: StudyCtx, query: figures.ChartQuery, period: str) -> Any:
    """The report a chart is drawn from: a method's only from the flow and step named, if any."""
    return reports.report(s.database, s.loaded, query.kind, period, flow=query.flow, step=query.step)


@router.get("/studies/{study_id}/reports/{kind}", tags=["reports"])
def get_report(kind: ReportKind, s: StudyCtx = Depends(api_study), period: PeriodName = "week") -> Any:
    """A report as JSON: overview, funnel, results per step, Delphi, ranking, pairwise, choice, statements or spc.
    Rows of rank options, ideas, statements and Delphi items carry the ``label`` participants saw beside the code;
    rows naming a study group its label beside the code (``group_label``; ``all`` is "Everyone"), and
    ``group_labels`` names the group codes that key tables (counts, ``by_group``, ``groups``)."""
    names = labels.group_names(s.loaded.study)
    found = labels.with_group_labels(reports.report(s.database, s.loaded, kind, period), names)
    return {"study": s.study_id, "kind": kind, "report": found, "group_labels": names}


@router.get("/studies/{study_id}/charts/{kind}", tags=["reports"], response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}, "image/png": {}}},
                       400: {"description": "A flow, step or item the chart needs was not named"},
                       404: {"description": "No such flow, step (of this kind), round, item or group; the message names those there are"}})
def get_chart(kind: ChartKind, s: StudyCtx = Depends(api_study), format: Literal["svg", "png"] = "svg",
              flow: str | None = Query(None, max_length=100), step: str | None = Query(None, max_length=100),
              item: str | None = Query(None, max_length=200), round: int = Query(1, ge=1, le=1000),
              group: str = Query("all", max_length=100), period: PeriodName = "week") -> Response:
    """A chart as SVG or PNG, e.g. ``delphi?item=updates&round=2&format=png``. A ``step`` (and ``flow``)
    limits a method's chart to that step's answers; ``results`` and ``spc`` need one."""
    query = figures.check(figures.ChartQuery(kind, flow, step, item, round, group), catalogue.study_steps(s.database, s.loaded))
    chart = figures.build(query, chart_report(s, query, period), labels.group_names(s.loaded.study))
    name = "-".join(str(p) for p in (s.study_id, kind, query.flow, step, item) if p) + (f"-r{round}" if kind == "delphi" else "")
    disposition = {"Content-Disposition": f'inline; filename="{_safe(name)}.{format}"'}
    if format == "png":
        return Response(charts.png(chart), media_type="image/png", headers=disposition)
    return Response(charts.svg(chart), media_type="image/svg+xml", headers=disposition)


def _safe(name: str) -> str:
    return "".join(c if (c.isascii() and c.isalnum()) or c in "-_." else "_" for c in name)[:120]


@router.get("/studies/{study_id}/exports/{name}", tags=["exports"], response_class=FileResponse,
            responses={200: {"content": {"text/csv": {}, "application/vnd.apache.parquet": {}, "text/markdown": {}}}})
def download_export(name: ExportName, s: StudyCtx = Depends(api_study)) -> FileResponse:
    """One export file, made now: the long answers (CSV or Parquet) or the data dictionary. Audited."""
    from bot.api import exports  # pandas and pyarrow: loaded by the first export, not at startup

    folder = s.desk.jobs.scratch()
    fmt = ("parquet",) if name.endswith(".parquet") else ("csv",)
    files = exports.export_bundle(s.database, s.study_id, folder, fmt, now=s.now())
    wanted = next(f for f in files if f.name == f"{s.study_id}-{name}")
    s.audit("export", s.study_id, file=name)
    return FileResponse(wanted, media_type=MEDIA[wanted.suffix], filename=wanted.name,
                        background=BackgroundTask(shutil.rmtree, folder, ignore_errors=True))


def start_export(s: StudyCtx, fmt: str) -> Job:
    from bot.api import exports

    formats = exports.FORMATS if fmt == "both" else (fmt,)
    database, study_id, now = s.database, s.study_id, s.now()

    def work(progress: Progress, folder: Path) -> Path:
        files = exports.export_bundle(database, study_id, folder, formats, progress, now)
        return exports.zip_bundle(files, folder / f"{study_id}-export.zip", progress)

    s.audit("export", s.study_id, format=fmt)
    return s.desk.jobs.submit("export", s.study_id, s.principal.token_id, work, audit_mark(s.database))


@router.post("/studies/{study_id}/exports", tags=["exports"], status_code=202)
def create_export(body: ExportRequest, s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Start an export (a zip of the answers as CSV and/or Parquet with the data dictionary); poll the job."""
    return start_export(s, body.format).as_dict()


OPEN = catalogue.StepKind("open", lambda info: info.type == "open")
"""The steps themes are found in: open questions, one at a time."""


@dataclass(frozen=True)
class OpenQuestion:
    """An open question of the study and how many standing answers it has."""

    info: StepInfo
    answers: int


def open_questions(database: Database, loaded: LoadedStudy) -> list[OpenQuestion]:
    """The study's open questions in the order first published, each with its answer count."""
    counts = answer_counts(database, loaded.study.study)
    return [OpenQuestion(info, counts.get((info.flow, info.step), 0))
            for info in catalogue.study_steps(database, loaded).steps if OPEN.accepts(info)]


def answer_counts(database: Database, study_id: str) -> dict[tuple[str, str], int]:
    """(flow, step) -> how many standing, not skipped answers it has."""
    a = ANSWERS.c
    query = (select(a.flow_id, a.step_id, func.count())
             .where(a.study_id == study_id, a.skipped.is_(False), a.withdrawn_at.is_(None))
             .group_by(a.flow_id, a.step_id))
    with database.reading() as session:
        return {(str(flow), str(step)): int(n) for flow, step, n in session.execute(query)}


def start_themes(s: StudyCtx, question: StepInfo, with_comments: bool = False) -> Job:
    """A job finding themes in the answers to one open question, read, masked and held back
    exactly as ``chorus analyse themes --study`` reads them (:mod:`bot.theme_inputs`), so that no
    quote or keyword carries a phone number, e-mail or name. Answers (and comments) told where
    their participant raised a safeguarding flag count in their theme but are never quoted;
    ``held_back`` says how many. ``with_comments`` reads the study's comments too (stories told
    at questions that take no free text, bot/comments.py), masked alike: the result then counts
    them (``comments``), and each theme says how many of its texts are comments and whether
    each quote is an answer's words or a comment's. Answers in more than one language are themed
    as :mod:`nlp.themes_languages` says: ``languages`` counts how each language's answers were
    themed and ``languages_note`` says it in words; a theme found among one language's answers
    set apart names it (``language``), and each theme's shares are of the group's answers that
    could be themed with it."""
    given = theme_input(s.database, s.study_id, question.step, question.flow, with_comments)
    texts, answered = given.texts, given.answers
    finder = s.desk.theme_finder
    group_answers = given.group_answers
    names = group_names(s.loaded.study)
    about = {"flow": question.flow, "step": question.step, "question": question.question, "group_answers": group_answers,
             "group_labels": names, **given.counts()}
    read = f"{answered} answers" + (f" and {given.comments} comments" if with_comments else "")

    def work(progress: Progress, folder: Path) -> dict[str, Any]:
        if len(texts) < TOO_FEW:
            wanted = "answers and comments together" if with_comments else "answers to the question"
            return {**about, "themes": [], "note": f"themes need at least {TOO_FEW} {wanted}"}
        progress(0.1, f"reading {read}")
        if finder is None:
            from nlp.themes import find_themes

            result = find_themes(texts, languages=given.languages)
        else:
            result = finder(texts)
        from nlp.themes import said_nothing_note

        themes = [{"id": t.id, "label": t.label, "keywords": t.keywords, "size": t.size, **shown,
                   "language": getattr(t, "language", None),
                   **shares_by_group(t.members, texts, getattr(t, "group_answers", None) or group_answers, names)}
                  for t, shown in zip(result.themes, quoted_themes(result.themes, given), strict=True)]
        said_nothing = len(getattr(result, "non_answers", []))
        return {**about, "themes": themes, "prevalence": result.as_dict()["prevalence"],
                "non_answers": said_nothing, "non_answers_note": said_nothing_note(said_nothing),
                "languages": [c.__dict__ for c in getattr(result, "languages", [])],
                "languages_note": getattr(result, "languages_note", "")}

    s.audit("themes", s.study_id, flow=question.flow, step=question.step, answers=answered,
            **({"comments": given.comments} if with_comments else {}))
    return s.desk.jobs.submit("themes", s.study_id, s.principal.token_id, work, audit_mark(s.database))


def shares_by_group(members: list[str], texts: Sequence[Text], group_answers: dict[str, int],
                    labels: dict[str, str]) -> dict[str, Any]:
    """A theme's part of each group's answers: ``groups`` (group, its label, answers in the theme,
    of how many, share), the largest share first, and ``by_group`` in words ("Patient 42% of 31 ·
    Carer 18% of 11"). Answers that said nothing of substance count in each group's number;
    ``group_answers`` are the group's answers that could be themed with this theme."""
    from nlp.themes import describe_shares, group_shares

    shares = group_shares(members, {answer_id: group for answer_id, _, group in texts}, group_answers)
    return {"groups": [{"group": g.group, "label": labels.get(g.group, g.group), "group_label": labels.get(g.group, g.group),
                        "answers": g.answers, "of": g.of, "share": round(g.share, 4)} for g in shares],
            "by_group": describe_shares(shares, lambda group: labels.get(group, group))}


@router.post("/studies/{study_id}/themes", tags=["reports"], status_code=202,
             responses={400: {"description": "No open step was named, or the step is in several flows and no flow was"},
                        404: {"description": "No such flow or open step in the study; the message names those there are"}})
def create_themes(s: StudyCtx = Depends(api_study), flow: str | None = Query(None, max_length=100),
                  step: str | None = Query(None, max_length=100), comments: bool = Query(
                      False, description="Read the study's comments (stories told at questions that take no free text) "
                                         "alongside the answers; each theme then counts its comments and marks each quote's source")
                  ) -> dict[str, Any]:
    """Start finding themes (with quotes) in the answers to one open question, ``step`` (with
    ``flow`` where two flows have a step of that id), and with ``comments=true`` the study's
    comments alongside them; poll the job. Phone numbers, e-mails, names and other identifiers
    are masked before the answers are read, as in exports."""
    study = catalogue.study_steps(s.database, s.loaded)
    if step is None:
        known = [info.step for info in study.steps if OPEN.accepts(info) and flow in (None, info.flow)]
        raise HTTPException(400, f"name an open step with step=...; the study's open steps: {catalogue.names(known)}")
    return start_themes(s, study.require_one_step(step, flow, OPEN), comments).as_dict()


def visible_job(ctx: Ctx, job_id: str) -> Job:
    job = ctx.desk.jobs.get(job_id)
    if job is None or not ctx.principal.can_see(job.study_id):
        raise HTTPException(404, "no such job")
    if erased_since(ctx.database, job.audit_mark):
        ctx.desk.jobs.discard(job.id)
        raise HTTPException(410, "this job was started before a participant's data was erased, so its result may "
                                 "still hold it and has been deleted; start it again")
    return job


def audit_mark(database: Database) -> int:
    """The last audit event's id (0 for none), to tell later erasures from earlier ones."""
    with database.transaction() as connection:
        return int(connection.execute(select(func.max(AUDIT_EVENTS.c.id))).scalar() or 0)


def erased_since(database: Database, mark: int) -> bool:
    """Whether an erasure (by request, ``chorus erase``, the API or retention) was recorded after ``mark``."""
    a = AUDIT_EVENTS.c
    with database.transaction() as connection:
        return connection.execute(select(a.id).where(a.id > mark, a.action == "erased").limit(1)).first() is not None


@router.get("/jobs/{job_id}", tags=["jobs"])
def get_job(job_id: str, ctx: Ctx = Depends(api_context)) -> dict[str, Any]:
    """A job's status and progress (0-1); when done, its result or a download link."""
    return visible_job(ctx, job_id).as_dict()


@router.get("/jobs/{job_id}/download", tags=["jobs"], response_class=FileResponse,
            responses={200: {"content": {"application/zip": {}}}})
def download_job(job_id: str, ctx: Ctx = Depends(api_context)) -> FileResponse:
    """The file a finished job made."""
    job = visible_job(ctx, job_id)
    if job.status != "done" or not isinstance(job.result, Path):
        raise HTTPException(409, f"the job is {job.status}; nothing to download yet")
    return FileResponse(job.result, media_type=MEDIA.get(job.result.suffix, "application/octet-stream"),
                        filename=job.result.name)
