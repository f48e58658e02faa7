"""Dashboard pages for the engagement methods: rankings, pairwise, choice experiments,
statement voting and themes."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse

from bot.api import figures, reports
from bot.api.context import StudyCtx
from bot.dashboard.render import inline, page_study, render

router = APIRouter(include_in_schema=False)
BASE = "/dashboard/studies/{study_id}"


@router.get(BASE + "/ranking", response_class=HTMLResponse)
def ranking_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    options = reports.report(s.database, s.loaded, "ranking")["options"]
    groups = list(dict.fromkeys(o["group"] for o in options))
    sections = [(g, [o for o in options if o["group"] == g], inline(figures.ranking_chart(options, g))) for g in groups]
    return render(s, "ranking.html", "ranking", sections=sections)


@router.get(BASE + "/pairwise", response_class=HTMLResponse)
def pairwise_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    groups = reports.report(s.database, s.loaded, "pairwise")["groups"]
    sections = [(g, rows, inline(figures.pairwise_chart(groups, g))) for g, rows in groups.items()]
    return render(s, "pairwise.html", "pairwise", sections=sections)


@router.get(BASE + "/choice", response_class=HTMLResponse)
def choice_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    data = reports.report(s.database, s.loaded, "choice")
    chart = inline(figures.choice_chart(data["coefficients"])) if data["coefficients"] else None
    return render(s, "choice.html", "choice", data=data, chart=chart)


@router.get(BASE + "/statements", response_class=HTMLResponse)
def statements_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    data = reports.report(s.database, s.loaded, "statements")
    return render(s, "statements.html", "statements", data=data)


@router.get(BASE + "/themes", response_class=HTMLResponse)
def themes_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    return render(s, "themes.html", "themes")
