"""REST API: reports, charts (SVG and PNG), exports and long jobs with progress."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Query
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from starlette.background import BackgroundTask

from bot import charts
from bot.api import catalogue, figures, reports
from bot.api.context import Ctx, StudyCtx, api_context, api_study
from bot.api.jobs import Job, Progress

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
    Rows of rank options, ideas, statements and Delphi items carry the ``label`` participants saw beside the code."""
    return {"study": s.study_id, "kind": kind, "report": reports.report(s.database, s.loaded, kind, period)}


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
    chart = figures.build(query, chart_report(s, query, period))
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
    return s.desk.jobs.submit("export", s.study_id, s.principal.token_id, work)


@router.post("/studies/{study_id}/exports", tags=["exports"], status_code=202)
def create_export(body: ExportRequest, s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Start an export (a zip of the answers as CSV and/or Parquet with the data dictionary); poll the job."""
    return start_export(s, body.format).as_dict()


def start_themes(s: StudyCtx) -> Job:
    from bot.api.answers import load_answers

    frame, _ = load_answers(s.database, s.loaded)
    open_steps = frame[(frame["type"] == "open") & ~frame["skipped"].astype(bool)]
    texts = [(str(r.id), str(r.display or r.value or ""), r.group) for r in open_steps.itertuples(index=False)
             if str(r.display or r.value or "").strip()]
    finder = s.desk.theme_finder

    def work(progress: Progress, folder: Path) -> dict[str, Any]:
        if len(texts) < 3:
            return {"themes": [], "answers": len(texts), "note": "themes need at least three answers to open questions"}
        if finder is None:
            from nlp.themes import find_themes

            find: Callable[..., Any] = find_themes
        else:
            find = finder
        progress(0.1, f"reading {len(texts)} answers")
        result = find(texts)
        themes = [{"id": t.id, "label": t.label, "keywords": t.keywords, "size": t.size, "quotes": t.quotes[:3],
                   "quote_counts": list(getattr(t, "quote_counts", []))[:3]}
                  for t in result.themes]
        return {"themes": themes, "answers": len(texts), "prevalence": result.as_dict()["prevalence"]}

    s.audit("themes", s.study_id, answers=len(texts))
    return s.desk.jobs.submit("themes", s.study_id, s.principal.token_id, work)


@router.post("/studies/{study_id}/themes", tags=["reports"], status_code=202)
def create_themes(s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Start finding themes (with quotes) in the answers to open questions; poll the job."""
    return start_themes(s).as_dict()


def visible_job(ctx: Ctx, job_id: str) -> Job:
    job = ctx.desk.jobs.get(job_id)
    if job is None or not ctx.principal.can_see(job.study_id):
        raise HTTPException(404, "no such job")
    return job


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
