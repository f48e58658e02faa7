"""Dashboard pages for the engagement methods: rankings, pairwise, choice experiments,
statement voting and themes."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from bot.api import figures, reports
from bot.api.analysis import OpenQuestion, open_questions
from bot.api.catalogue import names
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
    """Opinion groups and consensus, and how each study group voted: the statements they
    disagree on most first."""
    data = reports.report(s.database, s.loaded, "statements")
    order = {g.id: n for n, g in enumerate(s.loaded.study.groups)}
    by_gap = [{**row, "by_group": _in_study_order(row.get("by_group", []), order)} for row in data.get("consensus", [])]
    by_gap.sort(key=lambda row: -row["gap"] if row.get("gap") is not None else 1.0)
    return render(s, "statements.html", "statements", data=data, by_gap=by_gap)


def _in_study_order(rows: list[dict[str, Any]], order: dict[str, int]) -> list[dict[str, Any]]:
    """Everyone's row, then each group's in the order the study lists its groups (others after, alphabetically)."""
    return sorted(rows, key=lambda r: (r["group"] != "all", order.get(r["group"], len(order)), r["group"]))


@router.get(BASE + "/themes", response_class=HTMLResponse)
def themes_page(s: StudyCtx = Depends(page_study), flow: str | None = Query(None, max_length=100),
                step: str | None = Query(None, max_length=100)) -> HTMLResponse:
    """Themes in the answers to one open question: the one named (``step``, and ``flow`` where
    two flows share the id), else the first that has answers."""
    questions = open_questions(s.database, s.loaded)
    named = [q for q in questions if q.info.step == step and flow in (None, q.info.flow)]
    answered = [q for q in questions if q.answers]
    chosen = next(iter(named or answered or questions), None)
    notice = None
    if step is not None and not named:
        where = f" in flow '{flow}'" if flow else ""
        notice = f"No open question '{step}'{where}; its open questions: {names(q.info.step for q in questions)}."
    return render(s, "themes.html", "themes", questions=questions, chosen=chosen, notice=notice, link=_question_query)


def _question_query(question: OpenQuestion) -> str:
    """The query string naming an open question, for the page and the API alike."""
    return urlencode({"flow": question.info.flow, "step": question.info.step})
