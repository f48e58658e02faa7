"""The web chat simulator: anyone can try a study as a participant would.

It is a channel like any other ('web'): messages go through the conversation service,
and the replies it queues are handed straight back to the page and marked sent.
"""

from __future__ import annotations

import secrets
import uuid
from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from bot.app import Chorus, chorus_of
from channels.base import InboundMessage
from flows.model import resolve_text

router = APIRouter(prefix="/api/simulator", tags=["simulator"])
CHANNEL = "web"


class StartRequest(BaseModel):
    study: str
    flow: str | None = None
    group: str | None = None
    language: str | None = None


class ReplyRequest(BaseModel):
    text: str = Field(default="", max_length=4096)
    button: str | None = Field(default=None, max_length=256)


@router.get("/studies")
def list_studies(request: Request) -> dict[str, Any]:
    studies = []
    for loaded in chorus_of(request).studies:
        study = loaded.study
        language = study.default_language
        studies.append({
            "id": study.study,
            "title": resolve_text(study.title, language),
            "languages": study.languages,
            "groups": study.group_ids(),
            "start_flow": study.join.start_flow,
            "flows": [{"id": fid, "title": resolve_text(f.flow.title, language) or fid} for fid, f in loaded.flows.items()],
        })
    return {"studies": studies}


@router.post("/sessions")
def start_session(body: StartRequest, request: Request) -> dict[str, Any]:
    chorus = chorus_of(request)
    if body.study not in chorus.studies:
        raise HTTPException(404, f"no study '{body.study}'")
    loaded = chorus.studies.get(body.study)
    if body.flow and body.flow not in loaded.flows:
        raise HTTPException(404, f"study '{body.study}' has no flow '{body.flow}'")
    if body.group and body.group not in loaded.study.group_ids():
        raise HTTPException(422, f"study '{body.study}' has no group '{body.group}'")
    address = "sim-" + secrets.token_urlsafe(12)
    result = chorus.service.join(CHANNEL, address, body.study, flow_id=body.flow, group=body.group, language=body.language)
    return {"session": address, **_delivered(chorus, result.participant_id)}


@router.post("/sessions/{session}/messages")
def reply(session: str, body: ReplyRequest, request: Request) -> dict[str, Any]:
    chorus = chorus_of(request)
    if not session.startswith("sim-") or chorus.service.participant_for(CHANNEL, session) is None:
        raise HTTPException(404, "no such simulator session; start a new one")
    message = InboundMessage(CHANNEL, session, provider_id=uuid.uuid4().hex, text=body.text, button=body.button)
    result = chorus.service.receive(message)
    return _delivered(chorus, result.participant_id)


def _delivered(chorus: Chorus, participant_id: str | None) -> dict[str, Any]:
    """The messages queued for this web participant, marked sent as the page shows them."""
    if participant_id is None:
        return {"messages": [], "finished": False}
    messages = []
    for row in chorus.service.outbox_for(participant_id):
        if row.status != "queued" or row.id is None:
            continue
        messages.append({"text": row.text, "buttons": row.buttons, "multiple": row.multiple, "kind": row.kind})
        chorus.service.mark_sent(row.id, f"web-{row.id}")
    return {"messages": messages, "finished": chorus.service.session_status(participant_id) == "ended"}
