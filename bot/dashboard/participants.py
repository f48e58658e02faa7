"""Dashboard pages for participants: the study's participants by pseudonymous id, and one
participant's page, where a coordinator corrects a field the study declares (a surgery date
the schedules count from, a group, contact hours, a time zone) and sees what was re-planned.

The correction is bot/corrections.py's, as ``chorus participant set`` and the API make it:
under the participant's lock, audited as ``participant_field_set`` (which field, never its
value). No name, phone number or field value is shown: a field's value may identify someone.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from fastapi import APIRouter, Depends, Form, HTTPException
from fastapi.responses import HTMLResponse
from sqlalchemy import select

from bot.api import queries
from bot.api.context import CURSOR, StudyCtx
from bot.api.privacy import PARTICIPANT
from bot.auth import require_change
from bot.corrections import CLOCK_FIELDS, FieldError, FieldSet, set_field
from bot.dashboard.render import page_study, render
from bot.export import identifying_field, scrub
from bot.planning import NOT_A_DATE
from flows.loader import LoadedStudy
from flows.snooze import zone_of
from storage import due_tasks, repository
from storage.tables import FLAGS

router = APIRouter(include_in_schema=False)
BASE = "/dashboard/studies/{study_id}/participants"
UNREADABLE = re.compile(rf"participant\.([a-z][a-z0-9_]*) {NOT_A_DATE}")


@dataclass(frozen=True)
class FieldChoice:
    name: str
    takes: str
    """What a value looks like, said in the form's list."""


def declared_fields(loaded: LoadedStudy) -> list[FieldChoice]:
    """The fields a coordinator may correct: those the schedules count from, the group, the
    clock's own (contact hours, time zone), then any other a flow saves (``save_to``)."""
    study = loaded.study
    counting: dict[str, list[str]] = {}
    for entry in study.schedule:
        if (anchor := entry.anchor_field()) is not None:
            counting.setdefault(anchor, []).append(entry.flow)
    choices = {name: f"a date, e.g. 2026-11-01: {', '.join(dict.fromkeys(flows))} {'count' if len(set(flows)) > 1 else 'counts'}"
               " from it" for name, flows in counting.items()}
    if study.groups:
        choices["group"] = "one of " + ", ".join(study.group_ids())
    choices["contact_hours"] = "hours such as 08:00-18:00"
    choices["timezone"] = "a time zone such as Europe/London"
    if len(study.languages) > 1:
        choices["language"] = "one of " + ", ".join(study.languages)
    for flow in loaded.flows.values():
        for step in flow.flow.steps:
            name = (step.save_to or "").removeprefix("participant.")
            if name and name != "language":
                choices.setdefault(name, "text")
    return [FieldChoice(name, takes) for name, takes in choices.items()]


def outcome(done: FieldSet) -> list[str]:
    """What saving did, in the coordinator's words: '2 follow-ups moved: ...'."""
    shown = "" if identifying_field(done.name) else f" to {done.value}"
    said = [f"Set {done.name} of {done.participant_id}{shown}."]
    for verb, lines in (("planned", done.planned), ("moved", done.moved), ("dropped", done.dropped)):
        if lines:
            said.append(f"{len(lines)} follow-up{'s' if len(lines) > 1 else ''} {verb}: {'; '.join(lines)}.")
    if not (done.planned or done.moved or done.dropped):
        said.append("No follow-up needed re-planning." if done.name in CLOCK_FIELDS or done.moved is not None else "")
    said += [f"Note: {note}." for note in done.notes]
    if done.alerts_closed:
        said.append(f"Closed {done.alerts_closed} planning alert{'s' if done.alerts_closed > 1 else ''}.")
    return [line for line in said if line]


@router.get(BASE, response_class=HTMLResponse)
def participants_page(s: StudyCtx = Depends(page_study), cursor: str | None = CURSOR) -> HTMLResponse:
    page = queries.participants_page(s.database, s.study_id, 100, cursor)
    s.audit("participants", s.study_id, rows=len(page.items))
    return render(s, "participants.html", "participants", page=page)


@router.get(BASE + "/{participant_id}", response_class=HTMLResponse)
def participant_page(participant_id: str = PARTICIPANT, s: StudyCtx = Depends(page_study)) -> HTMLResponse:
    return _participant(s, participant_id)


@router.post(BASE + "/{participant_id}/fields", response_class=HTMLResponse)
def correct_field(participant_id: str = PARTICIPANT, s: StudyCtx = Depends(page_study),
                  field: str = Form("", max_length=80), value: str = Form("", max_length=500)) -> HTMLResponse:
    require_change(s.principal)
    form = {"field": field, "value": value}
    if field not in {choice.name for choice in declared_fields(s.loaded)}:
        known = ", ".join(choice.name for choice in declared_fields(s.loaded))
        said = f"'{field}' is not a field of this study: choose one of {known}" if field else "choose a field"
        return _participant(s, participant_id, form=form, errors={"field": said}, status=422)
    try:
        with s.chorus.service.holding([participant_id]) as connection:
            done = set_field(connection, s.loaded.study, participant_id, field, value, s.principal.actor, s.now())
    except LookupError:
        raise HTTPException(404, f"no participant '{participant_id}' in this study") from None
    except FieldError as error:
        return _participant(s, participant_id, form=form, errors={"value": str(error)}, status=422)
    return _participant(s, participant_id, form={"field": field, "value": ""}, saved=outcome(done))


def _participant(s: StudyCtx, participant_id: str, form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                 saved: list[str] | None = None, status: int = 200) -> HTMLResponse:
    about = _about(s, participant_id)
    s.audit("participant", s.study_id, participant=participant_id)
    fields = declared_fields(s.loaded)
    chosen = (form or {}).get("field") or next(iter(about["unreadable"]), None) or (fields[0].name if fields else "")
    response = render(s, "participant.html", "participants", participant=about, fields=fields,
                      form={"field": chosen, "value": (form or {}).get("value", "")}, errors=errors or {}, saved=saved)
    response.status_code = status
    return response


def _about(s: StudyCtx, participant_id: str) -> dict[str, Any]:
    """The participant's enrolment, follow-ups not sent yet (in their own time zone) and open
    alerts: no name, contact or field value."""
    with s.database.transaction() as connection:
        enrolment = next((e for e in repository.enrolments_of(connection, participant_id) if e.study_id == s.study_id), None)
        if enrolment is None:
            raise HTTPException(404, f"no participant '{participant_id}' in this study")
        fields = repository.load_participant(connection, participant_id).fields
        pending = due_tasks.pending_follow_ups(connection, participant_id, s.study_id)
        f = FLAGS.c
        alerts = connection.execute(select(f.kind, f.message, f.flow_id, f.step_id, f.created_at).where(
            f.participant_id == participant_id, f.study_id == s.study_id, f.acknowledged.is_(False)).order_by(f.id)).all()
    zone = zone_of(str(fields.get("timezone") or ""), s.loaded.study.timezone)
    unreadable = [m.group(1) for a in alerts if a.kind == "planning" and (m := UNREADABLE.search(str(a.message)))]
    return {"id": participant_id, "group": enrolment.group, "channel": enrolment.channel, "language": enrolment.language,
            "opted_out": enrolment.opted_out, "zone": zone.key,
            "follow_ups": [(task.flow_id, _local(task.due_at, zone)) for task in pending],
            "alerts": [(a.kind, a.flow_id, a.step_id, scrub(str(a.message))) for a in alerts], "unreadable": unreadable}


def _local(moment: datetime, zone: Any) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"
