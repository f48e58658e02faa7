"""REST API: studies, flows, participants, answers, alerts and held messages."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Query, Response
from pydantic import BaseModel, Field

from bot.api import catalogue, labels, publishing, queries, reports
from bot.api.context import CURSOR, ID, LIMIT, Ctx, StudyCtx, api_context, api_study
from bot.api.privacy import PARTICIPANT
from bot.auth import require_change
from bot.corrections import FieldError, set_field
from flows.loader import LoadError, Problem
from flows.model import resolve_text

router = APIRouter(prefix="/api/v1")


class FlowText(BaseModel):
    yaml: str = Field(default="", max_length=publishing.MAX_YAML,
                      description="A flow's YAML; empty means the files deployed on the server.")


def study_summary(ctx: Ctx, study_id: str) -> dict[str, Any]:
    """A study's overview: its rows by group carry each group's label (``group_label``), and
    ``group_labels`` names the codes of ``groups`` and ``by_group``."""
    loaded = ctx.chorus.studies.get(study_id)
    language = loaded.study.default_language
    names = labels.group_names(loaded.study)
    overview = labels.with_group_labels(reports.report(ctx.database, loaded, "overview"), names)
    return {**overview, "title": resolve_text(loaded.study.title, language), "groups": loaded.study.group_ids(),
            "group_labels": names, "flows": list(loaded.flows)}


@router.get("/me", tags=["access"])
def me(ctx: Ctx = Depends(api_context)) -> dict[str, Any]:
    """Who this token is: name, role and the studies it may see."""
    p = ctx.principal
    return {"name": p.name, "role": p.role, "studies": ctx.principal.visible(ctx.chorus.studies.ids())}


@router.get("/studies", tags=["studies"])
def list_studies(ctx: Ctx = Depends(api_context)) -> dict[str, Any]:
    """The studies this token may see, each with its status and participants; ``refused``: those
    whose files on the server were not published because ``chorus validate`` finds errors in them
    (``kept_published``: whether their last publication stays live), with every problem."""
    registry = ctx.chorus.studies
    return {"items": [study_summary(ctx, s) for s in ctx.principal.visible(registry.ids())],
            "refused": [registry.refused[s].as_dict() for s in ctx.principal.visible(list(registry.refused))]}


@router.get("/studies/{study_id}", tags=["studies"])
def get_study(s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Status, participants by group and channel, and the completion funnel of each flow."""
    return {**study_summary(s, s.study_id), "funnel": reports.report(s.database, s.loaded, "funnel")}


@router.get("/studies/{study_id}/flows", tags=["flows"])
def list_flows(s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Each flow's current version, and every published version with its live sessions."""
    language = s.loaded.study.default_language
    flows = [{"flow": fid, "title": resolve_text(f.flow.title, language) or fid, "version": f.version,
              "steps": [{"id": st.id, "type": st.type} for st in f.flow.steps]} for fid, f in s.loaded.flows.items()]
    return {"flows": flows, "versions": queries.versions_in_use(s.database, s.study_id)}


@router.post("/studies/{study_id}/flows/validate", tags=["flows"])
def validate_flow(body: FlowText, s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Check a pasted flow (or, with no text, the deployed files): problems with file, line and column."""
    checked = (publishing.validate_text(s.loaded, body.yaml, s.database) if body.yaml.strip()
               else publishing.validate_deployed(s.loaded, s.database))
    return {"ok": checked.ok, "file": checked.target, "problems": [publishing.problem_dict(p) for p in checked.problems]}


REFUSED: dict[int | str, dict[str, Any]] = {422: {"description": (
    "Not published: the flow did not validate, or the study's files did not load. The body is the success body's "
    "`ok` (false), `problems` (errors and warnings, each with file, line and column, as the validate route gives "
    "them) and `flows` (empty), as the desk answers 422. A body the API cannot read (a text over 200,000 "
    "characters) is a 422 with `detail`, as on every route.")}}
"""The publish route's refusal, documented in its OpenAPI schema."""


@router.post("/studies/{study_id}/flows/publish", tags=["flows"], responses=REFUSED)
def publish_flow(body: FlowText, response: Response, s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Publish the study's files as they are on disk, or a pasted new version of one flow. Published:
    the flows and their versions, ``schedule`` (what a changed schedule re-planned), ``warnings`` (every
    warning about what was published: what validating it found and the notes below) and ``problems``
    (the notes alone: a date already past, and what the new version splits or mixes among answers already given: a choice or rank value no longer offered, a scale's changed range, a step no longer there).
    Refused: 422 (see its response)."""
    require_change(s.principal)
    registry, actor, now = s.chorus.studies, s.principal.actor, s.now()
    checked: publishing.Checked | None = None
    try:
        if body.yaml.strip():
            checked, flows = publishing.publish_text(registry, s.database, s.study_id, body.yaml, actor, now)
            if not checked.ok or not flows:
                return _refused(response, checked.problems)
        else:
            flows = publishing.publish_from_disk(registry, s.database, s.study_id, actor, now)
    except LoadError as error:
        return _refused(response, error.problems)
    return {"ok": True, "flows": flows, **publishing.published_result(registry, s.study_id, now, s.database, checked)}


def _refused(response: Response, problems: list[Problem]) -> dict[str, Any]:
    """A publication refused for ``problems``: 422, as the desk answers."""
    response.status_code = 422
    return {"ok": False, "problems": [publishing.problem_dict(p) for p in problems], "flows": []}


@router.get("/studies/{study_id}/sessions", tags=["flows"])
def list_sessions(s: StudyCtx = Depends(api_study), limit: int = LIMIT, cursor: str | None = CURSOR,
                  live_only: bool = Query(True, description="Only sessions still waiting or snoozed.")) -> dict[str, Any]:
    """Sessions (newest first) with the flow version each is pinned to. Audited."""
    page = queries.sessions_page(s.database, s.study_id, limit, cursor, live_only)
    s.audit("sessions", s.study_id, rows=len(page.items))
    return page.as_dict()


@router.get("/studies/{study_id}/participants", tags=["participants"])
def list_participants(s: StudyCtx = Depends(api_study), limit: int = LIMIT, cursor: str | None = CURSOR) -> dict[str, Any]:
    """Participants by pseudonymous id, with group (and its label, ``group_label``), channel and language. Audited."""
    page = queries.participants_page(s.database, s.study_id, limit, cursor)
    s.audit("participants", s.study_id, rows=len(page.items))
    labelled: dict[str, Any] = labels.with_group_labels(page.as_dict(), labels.group_names(s.loaded.study))
    return labelled


class FieldValue(BaseModel):
    field: str = Field(max_length=80, description="A participant field, e.g. birth_date, group, contact_hours, timezone.")
    value: str = Field(max_length=500, description="Its new value, e.g. 2026-11-01.")


@router.post("/studies/{study_id}/participants/{participant_id}/fields", tags=["participants"])
def set_participant_field(body: FieldValue, participant_id: str = PARTICIPANT, s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Correct one field of a participant (a date that could not be read, a group): their
    follow-ups are planned again and the planning alert it answers is closed. Audited."""
    require_change(s.principal)
    try:
        with s.chorus.service.holding([participant_id]) as connection:
            return set_field(connection, s.loaded.study, participant_id, body.field, body.value, s.principal.actor, s.now()).as_dict()
    except LookupError:
        raise HTTPException(404, f"no participant '{participant_id}' in this study") from None
    except FieldError as error:
        raise HTTPException(422, str(error)) from None


@router.get("/studies/{study_id}/answers", tags=["answers"],
            responses={404: {"description": "No such flow or step in the study; the message names those there are"}})
def list_answers(s: StudyCtx = Depends(api_study), limit: int = LIMIT, cursor: str | None = CURSOR,
                 flow: str | None = Query(None, max_length=100), step: str | None = Query(None, max_length=100)) -> dict[str, Any]:
    """Answers, one per row, oldest first; a flow or step the study has not got is a 404. Audited."""
    check_answer_filter(s, flow, step)
    page = queries.answers_page(s.database, s.study_id, limit, cursor, flow, step)
    s.audit("answers", s.study_id, rows=len(page.items))
    return page.as_dict()


def check_answer_filter(s: StudyCtx, flow: str | None, step: str | None) -> None:
    """404 for a flow, or a step (of that flow, if named), that no published version of the study has."""
    if flow is None and step is None:
        return
    known = catalogue.study_steps(s.database, s.loaded)
    if step is not None:
        known.require_step(step, flow)
    elif flow is not None:
        known.require_flow(flow)


@router.get("/studies/{study_id}/flags", tags=["alerts"])
def list_flags(s: StudyCtx = Depends(api_study), limit: int = LIMIT, cursor: str | None = CURSOR,
               open_only: bool = False, kind: str | None = Query(None, max_length=40)) -> dict[str, Any]:
    """Safeguarding and other alerts, newest first. Audited."""
    page = queries.flags_page(s.database, s.study_id, limit, cursor, open_only, kind)
    s.audit("flags", s.study_id, rows=len(page.items))
    return page.as_dict()


@router.post("/studies/{study_id}/flags/{flag_id}/acknowledge", tags=["alerts"])
def acknowledge(flag_id: int = ID, s: StudyCtx = Depends(api_study)) -> dict[str, Any]:
    """Mark an alert as seen and handled, by this token's holder."""
    require_change(s.principal)
    if not queries.acknowledge_flag(s.database, s.study_id, flag_id, s.principal.actor, s.now()):
        raise HTTPException(404, f"no alert {flag_id} in this study")
    return {"id": flag_id, "acknowledged": True}


@router.get("/studies/{study_id}/held", tags=["alerts"])
def list_held(s: StudyCtx = Depends(api_study), limit: int = LIMIT, cursor: str | None = CURSOR) -> dict[str, Any]:
    """Messages held back (quiet hours, WhatsApp's 24-hour window, opted out), with the reason. Audited."""
    page = queries.held_page(s.database, s.study_id, limit, cursor)
    s.audit("held_messages", s.study_id, rows=len(page.items))
    return page.as_dict()
