"""The web chat simulator: try a study as a participant would.

It is a channel like any other ('web'): messages go through the conversation service,
and the replies it queues are handed straight back to the page and marked sent.

Its participants and answers are study data like any other, so who may use it is a setting
(``CHORUS_SIMULATOR``, see :func:`simulator_mode`): ``open`` (anyone), ``coordinators``
(someone signed in to the desk, who starts only studies they may see; the page needs a
dashboard session and sends its CSRF token, the API a token or session) or ``off`` (404).
"""

from __future__ import annotations

import html
import secrets
import uuid
from functools import cache
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field

from bot.app import Chorus, chorus_of
from bot.auth import BEARER, api_principal, csrf_token, page_principal
from channels.base import InboundMessage
from flows.model import resolve_text
from storage import repository
from storage.auth import Principal

router = APIRouter(prefix="/api/simulator", tags=["simulator"])
CHANNEL = "web"
MAX_TEXT = 4096
MAX_BUTTON = 256
Mode = Literal["open", "coordinators", "off"]
CSRF_META = '<meta name="csrf-token" content="">'
"""The page's placeholder for the dashboard session's CSRF token (filled in as it is served)."""


def simulator_mode(request: Request) -> Mode:
    """``CHORUS_SIMULATOR``; unset, ``open`` only while no messaging channel is configured
    (``scripts/run``'s local try-out), else ``coordinators``: on a server that talks to real
    participants the simulator writes into live study data."""
    chorus = chorus_of(request)
    if chorus.settings.simulator is not None:
        return chorus.settings.simulator
    return "coordinators" if _channel_configured(request) else "open"


def _channel_configured(request: Request) -> bool:
    """A Telegram token or Twilio account in the settings, or channels the app runs
    (TELEGRAM_BOT_TOKEN, TWILIO_ACCOUNT_SID and TWILIO_AUTH_TOKEN: bot/webhooks.py, ChannelHub)."""
    settings = chorus_of(request).settings
    if settings.telegram_token is not None or settings.twilio_account_sid:
        return True
    hub = getattr(request.app.state, "channels", None)
    return hub is not None and (hub.telegram_settings is not None or hub.twilio_settings is not None)


async def simulator_access(request: Request, _: HTTPAuthorizationCredentials | None = Depends(BEARER)) -> Principal | None:
    """FastAPI dependency for the simulator's API: None when it is open to anyone; the
    principal in ``coordinators`` mode (401 without a token or session, 403 for a cookie
    session's write without its CSRF token); 404 when it is off."""
    mode = simulator_mode(request)
    if mode == "off":
        raise HTTPException(404, "Not Found")
    if mode == "open":
        return None
    return await api_principal(request, None)


async def page(request: Request) -> HTMLResponse:
    """The simulator's page (``GET /``): for anyone, for the desk's signed-in users (others
    are sent to log in and back) with their session's CSRF token in it, or 404."""
    mode = simulator_mode(request)
    if mode == "off":
        raise HTTPException(404, "Not Found")
    csrf = ""
    if mode == "coordinators":
        await page_principal(request)  # LoginRequired: the desk's handler redirects to /login?next=/
        csrf = csrf_token(request)
    body = _page_html().replace(CSRF_META, f'<meta name="csrf-token" content="{html.escape(csrf, quote=True)}">', 1)
    return HTMLResponse(body, headers={"Cache-Control": "no-store"})


@cache
def _page_html() -> str:
    text = resources.files("bot").joinpath("static/simulator.html").read_text(encoding="utf-8")
    assert CSRF_META in text, "static/simulator.html lost its csrf-token meta tag"
    return text


class StartRequest(BaseModel):
    study: str
    flow: str | None = None
    group: str | None = None
    language: str | None = None


class ReplyRequest(BaseModel):
    # Lengths are checked in ``reply``: pydantic's own 422 would echo the whole text back.
    text: str = Field(default="", json_schema_extra={"maxLength": MAX_TEXT})
    button: str | None = Field(default=None, json_schema_extra={"maxLength": MAX_BUTTON})


@router.get("/studies")
def list_studies(request: Request, principal: Principal | None = Depends(simulator_access)) -> dict[str, Any]:
    studies = []
    for loaded in chorus_of(request).studies:
        study = loaded.study
        if principal is not None and not principal.can_see(study.study):
            continue
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
def start_session(body: StartRequest, request: Request, principal: Principal | None = Depends(simulator_access)) -> dict[str, Any]:
    chorus = chorus_of(request)
    if body.study not in chorus.studies or (principal is not None and not principal.can_see(body.study)):
        raise HTTPException(404, f"no study '{body.study}'")  # a study they may not see: as if there were none
    loaded = chorus.studies.get(body.study)
    if body.flow and body.flow not in loaded.flows:
        raise HTTPException(404, f"study '{body.study}' has no flow '{body.flow}'")
    if body.group and body.group not in loaded.study.group_ids():
        raise HTTPException(422, f"study '{body.study}' has no group '{body.group}'")
    address = "sim-" + secrets.token_urlsafe(12)
    result = chorus.service.join(CHANNEL, address, body.study, flow_id=body.flow, group=body.group, language=body.language)
    return {"session": address, **_delivered(chorus, result.participant_id)}


@router.post("/sessions/{session}/messages")
def reply(session: str, body: ReplyRequest, request: Request, principal: Principal | None = Depends(simulator_access)) -> dict[str, Any]:
    if len(body.text) > MAX_TEXT:
        raise HTTPException(422, f"a message may be at most {MAX_TEXT} characters")
    if body.button is not None and len(body.button) > MAX_BUTTON:
        raise HTTPException(422, f"a button's value may be at most {MAX_BUTTON} characters")
    chorus = chorus_of(request)
    participant = chorus.service.participant_for(CHANNEL, session) if session.startswith("sim-") else None
    if participant is None or (principal is not None and not _visible(chorus, participant, principal)):
        raise HTTPException(404, "no such simulator session; start a new one")
    message = InboundMessage(CHANNEL, session, provider_id=uuid.uuid4().hex, text=body.text, button=body.button)
    result = chorus.service.receive(message)
    return _delivered(chorus, result.participant_id)


def _visible(chorus: Chorus, participant_id: str, principal: Principal) -> bool:
    """Whether the principal may see a study this simulator participant is in."""
    with chorus.database.read_transaction() as connection:
        enrolments = repository.enrolments_of(connection, participant_id)
    return any(principal.can_see(e.study_id) for e in enrolments)


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
