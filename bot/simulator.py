"""The web chat simulator: try a study as a participant would.

It is a channel like any other ('web'): messages go through the conversation service,
and the replies it queues are handed straight back to the page and marked sent.

Like a phone, it takes voice notes (``POST .../voice``, the recording as the body): they are
transcribed as a participant's are (bot/voice.py), and a message typed meanwhile waits for the
transcript, in the order it came, as on the webhooks (bot/inbound.py). What the conversation
says later (the transcript's reply, a message that waited) comes with the next call, or from
``GET .../messages``, which the page asks while ``waiting`` is true.

Its participants and answers are study data like any other, so who may use it is a setting
(``CHORUS_SIMULATOR``, see :func:`simulator_mode`): ``open`` (anyone), ``coordinators``
(someone signed in to the desk, who starts only studies they may see; the page needs a
dashboard session and sends its CSRF token, the API a token or session) or ``off`` (404).
"""

from __future__ import annotations

import html
import secrets
import threading
import uuid
from functools import cache
from importlib import resources
from typing import Any, Literal

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import HTMLResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel, Field
from sqlalchemy import Connection
from starlette.concurrency import run_in_threadpool

from bot.app import Chorus, chorus_of
from bot.auth import BEARER, api_principal, csrf_token, page_principal
from bot.voice_app import SIMULATOR_CHANNEL, held_audio
from channels.base import InboundMessage, Media, render_plain
from flows.events import Button
from flows.model import resolve_text
from flows.words import OptionTexts, Words
from storage import batching, repository
from storage.auth import Principal

router = APIRouter(prefix="/api/simulator", tags=["simulator"])
CHANNEL = SIMULATOR_CHANNEL
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
    """A typed message or a tapped button: handled at once, unless a voice note (or another
    message) of this participant's is still waiting, when it waits its turn as on a webhook."""
    if len(body.text) > MAX_TEXT:
        raise HTTPException(422, f"a message may be at most {MAX_TEXT} characters")
    if body.button is not None and len(body.button) > MAX_BUTTON:
        raise HTTPException(422, f"a button's value may be at most {MAX_BUTTON} characters")
    chorus = chorus_of(request)
    participant = _participant(chorus, session, principal)
    message = InboundMessage(CHANNEL, session, provider_id=uuid.uuid4().hex, text=body.text, button=body.button)
    result = chorus.service.accept_many([message], process=True)[0]
    if result.status == "erased":  # they are gone: what is left is the confirmation, queued to this page alone
        said = chorus.service.take_farewells(CHANNEL, session)
        return {"messages": [{"text": text, "buttons": [], "multiple": False, "kind": "erased"} for text in said],
                "finished": True, "waiting": False}
    if result.status == "received":  # its turn may have come meanwhile (a voice note just done, or too old to wait for)
        chorus.service.process_in_turn(participant)
    return _delivered(chorus, participant)


@router.post("/sessions/{session}/voice")
async def voice_note(session: str, request: Request, principal: Principal | None = Depends(simulator_access)) -> dict[str, Any]:
    """A voice note: the body is the recording (``Content-Type: audio/...``, e.g. audio/ogg or
    the browser's audio/webm), transcribed off the request as a participant's would be. Its
    replies come later (``waiting`` is true until then)."""
    pipeline = getattr(request.app.state, "voice", None)
    if pipeline is None:
        raise HTTPException(503, "this server does not transcribe voice notes itself (CHORUS_QUEUE_URL hands them to "
                                 "`chorus worker`), so the simulator cannot take them; type instead")
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if not content_type.startswith("audio/"):
        raise HTTPException(415, "send the recording as the body, with its audio type (Content-Type: audio/ogg, audio/webm...)")
    audio = await request.body()
    if not audio:
        raise HTTPException(422, "the voice note is empty")
    if len(audio) > pipeline.whisper.max_bytes:
        raise HTTPException(413, f"a voice note may be at most {pipeline.whisper.max_bytes} bytes")
    chorus = chorus_of(request)
    participant = await run_in_threadpool(_participant, chorus, session, principal)
    media = Media(held_audio(request.app).hold(audio), content_type, len(audio))
    message = InboundMessage(CHANNEL, session, provider_id=uuid.uuid4().hex, media=(media,))
    result = (await run_in_threadpool(chorus.service.accept_many, [message], True))[0]
    if result.status == "awaiting_transcript" and result.inbound_id is not None:
        pipeline.start(result.inbound_id)
    return await run_in_threadpool(_delivered, chorus, participant)


@router.get("/sessions/{session}/messages")
def new_messages(session: str, request: Request, principal: Principal | None = Depends(simulator_access)) -> dict[str, Any]:
    """What the conversation has said since the last call: after a voice note's transcript, and
    the messages that waited for it. Asked again while ``waiting`` is true."""
    chorus = chorus_of(request)
    participant = _participant(chorus, session, principal)
    chorus.service.process_in_turn(participant)  # (the voice pipeline does this itself; here in case it could not)
    return _delivered(chorus, participant)


def _participant(chorus: Chorus, session: str, principal: Principal | None) -> str:
    """The simulator session's participant, or 404 (also for one whose study the principal may not see)."""
    participant = chorus.service.participant_for(CHANNEL, session) if session.startswith("sim-") else None
    if participant is None or (principal is not None and not _visible(chorus, participant, principal)):
        raise HTTPException(404, "no such simulator session; start a new one")
    return participant


def _visible(chorus: Chorus, participant_id: str, principal: Principal) -> bool:
    """Whether the principal may see a study this simulator participant is in."""
    with chorus.database.read_transaction() as connection:
        enrolments = repository.enrolments_of(connection, participant_id)
    return any(principal.can_see(e.study_id) for e in enrolments)


_delivering = threading.Lock()
"""One call at a time hands messages over, so that a poll and a reply never both show one."""


def _delivered(chorus: Chorus, participant_id: str | None) -> dict[str, Any]:
    """The messages queued for this web participant, marked sent as the page shows them, and
    whether something they sent still waits (a voice note being transcribed, or a message behind it)."""
    if participant_id is None:
        return {"messages": [], "finished": False, "waiting": False}
    messages = []
    with _delivering:
        for row in chorus.service.outbox_for(participant_id):
            if row.status != "queued" or row.id is None:
                continue
            messages.append({"text": row.text, "buttons": row.buttons, "multiple": row.multiple, "kind": row.kind})
            chorus.service.mark_sent(row.id, f"web-{row.id}")
    with chorus.database.read_transaction() as connection:
        waiting = bool(batching.still_received(connection, [participant_id]))
        language = _language(connection, participant_id)
        texts = _option_texts(chorus, connection, participant_id, language) if any(m["multiple"] for m in messages) else None
    for message in messages:
        message["language"] = language
        if message["multiple"] and message["buttons"] and texts is not None:
            _as_numbered_text(message, texts)
    return {"messages": messages, "finished": chorus.service.session_status(participant_id) == "ended", "waiting": waiting}


def _language(connection: Connection, participant_id: str) -> str | None:
    """The language the conversation is in now (the page marks its messages with it): its
    session's, which CYMRAEG / ENGLISH change, else the participant's enrolment's."""
    session = repository.latest_session(connection, participant_id)
    if session is not None and session.state.get("language"):
        return str(session.state["language"])
    enrolments = repository.enrolments_of(connection, participant_id)
    return enrolments[-1].language if enrolments else None


def _as_numbered_text(message: dict[str, Any], texts: OptionTexts) -> None:
    """A multiple choice as SMS shows it, numbered lines and no buttons: the page sends a tapped
    button alone, and has no ticks and Done as Telegram has (the hints after it say the numbers:
    bot.dispatch_rules.WEB_KEYBOARD)."""
    buttons = tuple(Button(str(b["label"]), str(b["value"])) for b in message["buttons"])
    message["text"], message["buttons"] = render_plain(message["text"], buttons, True, texts), []


def _option_texts(chorus: Chorus, connection: Connection, participant_id: str, language: str | None) -> OptionTexts:
    """How options read as text for this participant: in their language, with their study's own texts."""
    enrolments = repository.enrolments_of(connection, participant_id)
    study_id = enrolments[-1].study_id if enrolments else None
    study = chorus.studies.get(study_id).study if study_id is not None and study_id in chorus.studies else None
    words = Words(study)
    return words.option_texts(language or words.default_language)
