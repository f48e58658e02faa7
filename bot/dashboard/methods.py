"""Dashboard pages for the engagement methods: rankings, pairwise, choice experiments,
statement voting and themes."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query
from fastapi.responses import HTMLResponse

from bot.api import figures, reports
from bot.api.analysis import OpenQuestion, open_questions
from bot.api.catalogue import names
from bot.api.context import StudyCtx
from bot.api.labels import group_names
from bot.comments import comment_count
from bot.dashboard.render import groups_in_study_order, in_study_order, inline, page_study, render
from flows.display_text import display_text

router = APIRouter(include_in_schema=False)
BASE = "/dashboard/studies/{study_id}"


@router.get(BASE + "/ranking", response_class=HTMLResponse)
def ranking_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    """Each rank step on its own (its options were ranked only against each other), by group
    (Everyone, then the study's groups in its order, as every tab lists them)."""
    report = reports.report(s.database, s.loaded, "ranking")
    options, named = report["options"], group_names(s.loaded.study)
    steps = []
    for step_id in dict.fromkeys(str(o["step"]) for o in options):
        of_step = [o for o in options if o["step"] == step_id]
        groups = groups_in_study_order(list(dict.fromkeys(o["group"] for o in of_step)), s.loaded.study)
        sections = [(g, [o for o in of_step if o["group"] == g], inline(figures.ranking_chart(of_step, g, report.get("notes"), named)))
                    for g in groups]
        steps.append((step_id, step_question(s, step_id), sections))
    return render(s, "ranking.html", "ranking", steps=steps, notes=report.get("notes", {}))


@router.get(BASE + "/pairwise", response_class=HTMLResponse)
def pairwise_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    """Each pairwise step on its own (its ideas were compared only with each other), by group
    (Everyone, then the study's groups in its order, as every tab lists them)."""
    steps, named = [], group_names(s.loaded.study)
    for entry in reports.report(s.database, s.loaded, "pairwise")["steps"]:
        groups = entry["groups"]
        sections = [(g, groups[g], inline(figures.pairwise_chart(groups, g, named))) for g in groups_in_study_order(list(groups), s.loaded.study)]
        steps.append((entry["step"], step_question(s, entry["step"]), sections))
    return render(s, "pairwise.html", "pairwise", steps=steps)


def step_question(s: StudyCtx, step_id: str) -> str:
    """A step's question as the coordinator reads it (the study's first language), to head its results."""
    language = s.loaded.study.default_language
    for loaded in s.loaded.flows.values():
        for step in loaded.flow.steps:
            if step.id == step_id:
                return display_text(step.text, language, display_text(s.loaded.study.title, language))
    return ""


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
    by_gap = [{**row, "by_group": in_study_order(row.get("by_group", []), s.loaded.study)} for row in data.get("consensus", [])]
    by_gap.sort(key=lambda row: -row["gap"] if row.get("gap") is not None else 1.0)
    return render(s, "statements.html", "statements", data=data, by_gap=by_gap)


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
    return render(s, "themes.html", "themes", questions=questions, chosen=chosen, notice=notice, link=_question_query,
                  comments=comment_count(s.database, s.study_id))


def _question_query(question: OpenQuestion) -> str:
    """The query string naming an open question, for the page and the API alike."""
    return urlencode({"flow": question.info.flow, "step": question.info.step})
