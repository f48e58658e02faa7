"""Dashboard pages: log in and out, the studies, a study's overview, its flows, results per
step and Delphi rounds."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Query, Request, UploadFile
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from bot.api import catalogue, figures, publishing, queries, reports
from bot.api.catalogue import names
from bot.api.context import Ctx, StudyCtx
from bot.api.labels import group_names
from bot.api.studies import study_summary
from bot.auth import COOKIE, _unauthenticated_limit, desk_of, require_change, safe_next
from bot.comments import SHOWN_PER_STEP, desk_comments
from bot.dashboard.render import (
    TEMPLATES,
    groups_in_study_order,
    in_study_order,
    inline,
    page_context,
    page_study,
    render,
)
from flows.loader import LoadError
from flows.model import Study
from storage import auth as tokens

router = APIRouter(include_in_schema=False)


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request, next: str = "/dashboard") -> HTMLResponse:
    return TEMPLATES.TemplateResponse(request, "login.html", {"next": safe_next(next), "error": None})


@router.post("/login", response_model=None)
def login(request: Request, token: str = Form("", max_length=200), next: str = Form("/dashboard", max_length=500)) -> Response:
    desk = desk_of(request)
    now = desk.clock()
    principal = tokens.authenticate(desk.database, token.strip(), now)
    if principal is None:
        _unauthenticated_limit(request)
        context = {"next": safe_next(next), "error": "That token is not valid: it may have expired or been revoked."}
        return TEMPLATES.TemplateResponse(request, "login.html", context, status_code=401)
    session_id = tokens.start_session(desk.database, principal, now, now + desk.session_ttl)
    response = RedirectResponse(safe_next(next), status_code=303)
    response.set_cookie(COOKIE, desk.sign(session_id), max_age=int(desk.session_ttl.total_seconds()), path="/",
                        secure=True, httponly=True, samesite="strict")
    return response


@router.post("/logout")
def logout(request: Request, ctx: Ctx = Depends(page_context)) -> RedirectResponse:
    session_id = request.state.session_id
    if session_id:
        tokens.end_session(ctx.database, session_id, ctx.now())
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(COOKIE, path="/", secure=True, httponly=True, samesite="strict")
    return response


@router.get("/dashboard", response_class=HTMLResponse)
def studies(ctx: Ctx = Depends(page_context)) -> HTMLResponse:
    rows = [study_summary(ctx, s) for s in ctx.principal.visible(ctx.chorus.studies.ids())]
    refused = [ctx.chorus.studies.refused[s] for s in ctx.principal.visible(list(ctx.chorus.studies.refused))]
    return render(ctx, "studies.html", studies=rows, refused=refused)


OUTCOMES = {"completed": "completed", "declined": "declined (said no)",
            "no_consent": "not consented (no clear yes to consent)", "max_tries": "no clear answer after every try",
            "loop": "ended by a runaway flow", "closed": "closed before they finished (its round closed)"}
"""How an ended conversation ended, in plain words; an end step's own outcome is shown as the flow names it."""


@router.get("/dashboard/studies/{study_id}", response_class=HTMLResponse)
def overview(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    funnel = reports.report(s.database, s.loaded, "funnel")
    charts = [(f, inline(figures.funnel_chart(f))) for f in funnel]
    return render(s, "study.html", "overview", summary=study_summary(s, s.study_id), funnel=charts, outcomes=OUTCOMES)


def _flows_page(s: StudyCtx, checked: publishing.Checked | None = None, published: list[dict[str, Any]] | None = None,
                text: str = "", status: int = 200, notes: dict[str, Any] | None = None, confirm: str = "") -> HTMLResponse:
    versions = queries.versions_in_use(s.database, s.study_id)
    sessions = queries.sessions_page(s.database, s.study_id, 50, None).items
    s.audit("sessions", s.study_id, rows=len(sessions))
    response = render(s, "flows.html", "flows", flows=s.loaded.flows, versions=versions, sessions=sessions,
                      checked=checked, published=published, text=text, notes=notes, confirm=confirm)
    response.status_code = status
    return response


@router.get("/dashboard/studies/{study_id}/flows", response_class=HTMLResponse)
def flows_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    return _flows_page(s)


async def _text(yaml_text: str, upload: UploadFile | None) -> str:
    if upload is not None and upload.filename:
        data = await upload.read(publishing.MAX_YAML + 1)
        return data.decode("utf-8", errors="replace")
    return yaml_text


@router.post("/dashboard/studies/{study_id}/flows/validate", response_class=HTMLResponse)
async def validate_page(s: StudyCtx = Depends(page_study), yaml_text: str = Form("", max_length=publishing.MAX_YAML),
                        upload: UploadFile | None = None) -> HTMLResponse:
    text = await _text(yaml_text, upload)
    checked = (publishing.validate_text(s.loaded, text, s.database) if text.strip()
               else publishing.validate_deployed(s.loaded, s.database))
    return _flows_page(s, checked=checked, text=text)


@router.post("/dashboard/studies/{study_id}/flows/publish", response_class=HTMLResponse)
async def publish_page(s: StudyCtx = Depends(page_study), yaml_text: str = Form("", max_length=publishing.MAX_YAML),
                       upload: UploadFile | None = None, confirm: str = Form("", max_length=64)) -> HTMLResponse:
    """Publish; a version that would split or mix answers already given (bot/api/live_changes.py)
    is first shown with its warnings and published only by "Publish anyway", which confirms that text."""
    require_change(s.principal)
    text = await _text(yaml_text, upload)
    registry, actor, now = s.chorus.studies, s.principal.actor, s.now()
    if confirm != publishing.confirmation(text):
        first = (publishing.validate_text(s.loaded, text, s.database) if text.strip()
                 else publishing.validate_deployed(s.loaded, s.database))
        if first.ok and first.touches_answers:
            return _flows_page(s, checked=first, text=text, status=409, confirm=publishing.confirmation(text))
    checked: publishing.Checked | None = None
    try:
        if text.strip():
            checked, flows = publishing.publish_text(registry, s.database, s.study_id, text, actor, now)
            if not flows:
                return _flows_page(s, checked=checked, text=text, status=422)
        else:
            flows = publishing.publish_from_disk(registry, s.database, s.study_id, actor, now)
    except LoadError as error:
        return _flows_page(s, checked=publishing.Checked(error.problems, "study"), text=text, status=422)
    s.loaded = registry.get(s.study_id)
    return _flows_page(s, published=flows, notes=publishing.published_result(registry, s.study_id, now, s.database, checked))


@router.get("/dashboard/studies/{study_id}/results", response_class=HTMLResponse)
def results_page(s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    """Each step's results and, beside them, the comments told at it (bot/comments.py)."""
    steps = [{**r, "groups": groups_in_study_order(r["groups"], s.loaded.study)} if r.get("groups") else r
             for r in reports.report(s.database, s.loaded, "results")]
    shown = [(r, inline(figures.results_chart(r)) if r.get("values") else None) for r in steps]
    comments = desk_comments(s.database, s.study_id)
    shown += [(r, None) for r in _commented_only(s, comments, {(r["flow"], r["step"]) for r in steps})]
    if comments:
        s.audit("comments", s.study_id, rows=sum(len(c.shown) for c in comments.values()))
    return render(s, "results.html", "results", steps=shown, comments=comments, shown_per_step=SHOWN_PER_STEP)


def _commented_only(s: StudyCtx, comments: dict[tuple[str, str], Any], answered: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """A section for each step with comments but no answers yet, in the order the study asks them."""
    missing = set(comments) - answered
    if not missing:
        return []
    known = {(info.flow, info.step): info for info in catalogue.study_steps(s.database, s.loaded).steps}
    order = list(known)
    sections = []
    for flow, step in sorted(missing, key=lambda key: (order.index(key) if key in known else len(order), key)):
        info = known.get((flow, step))
        sections.append({"flow": flow, "step": step, "type": info.type if info else "", "question": info.question if info else "",
                         "n": 0, "skipped": 0})
    return sections


@router.get("/dashboard/studies/{study_id}/delphi", response_class=HTMLResponse)
def delphi_page(s: StudyCtx = Depends(page_study), round: int | None = None,
                delphi: str | None = Query(None, max_length=200)) -> HTMLResponse:
    """Each Delphi on its own, with its own rounds and response: the ``round`` asked for (of the
    ``delphi`` named, if one is), else its latest."""
    data = reports.report(s.database, s.loaded, "delphi")
    shown = [_delphi_shown(data, d["delphi"], d["rounds"], round if delphi in (None, d["delphi"]) else None, s.loaded.study)
             | {"rule": d.get("rule")} for d in data["delphis"]]
    return render(s, "delphi.html", "delphi", delphis=shown, notices=_delphi_notices(data["delphis"], delphi, round))


def _delphi_notices(delphis: list[dict[str, Any]], delphi: str | None, round: int | None) -> list[str]:
    """What the page could not show as asked, in the API's words: a Delphi or round it has not got."""
    notices = []
    if delphi is not None and delphi not in [d["delphi"] for d in delphis]:
        notices.append(f"No Delphi '{delphi}'; its Delphis: {names(d['delphi'] or '1-9 scale questions' for d in delphis)}. "
                       "Each is shown at its latest round.")
    for d in delphis:
        if round is not None and delphi in (None, d["delphi"]) and round not in d["rounds"]:
            which = f"Delphi '{d['delphi']}'" if d["delphi"] else "the 1-9 scale questions"
            latest = f" Round {d['rounds'][-1]} is shown." if d["rounds"] else ""
            notices.append(f"No round {round} in {which}; its rounds so far: {names(d['rounds'])}.{latest}")
    return notices


def _delphi_shown(data: dict[str, Any], delphi: str, rounds: list[int], asked: int | None, study: Study) -> dict[str, Any]:
    """One Delphi's round as the page shows it: its items with their charts and everyone's reasons, and who
    responded; every table's groups in the study's order."""
    chosen = asked if asked in rounds else (rounds[-1] if rounds else None)
    mine = [r for r in data["items"] if r["delphi"] == delphi and r["round"] == chosen]
    items: list[dict[str, Any]] = []
    for item in dict.fromkeys(r["item"] for r in mine):
        rows = [r for r in mine if r["item"] == item]
        moved = [m for m in data["movement"] if m["delphi"] == delphi and m["item"] == item and m["round"] == chosen]
        everyone: dict[str, Any] = next((r for r in rows if r["group"] == "all"), {})
        ordered = in_study_order(rows, study)
        items.append({"item": item, "label": rows[0].get("label", item), "rows": ordered,
                      "movement": in_study_order(moved, study),
                      "chart": inline(figures.delphi_chart(ordered, item, int(chosen or 1), group_names(study))),
                      "reasons": everyone.get("reasons")})  # why they scored so, masked (bot.api.methods.delphi_reasons)
    participation = in_study_order([p for p in data["participation"] if p["delphi"] == delphi and p["round"] == chosen], study)
    return {"delphi": delphi, "rounds": rounds, "round": chosen, "items": items, "participation": participation}
