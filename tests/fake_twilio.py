"""A local server speaking the parts of Twilio's REST API that Chorus uses.

``POST /2010-04-01/Accounts/{sid}/Messages.json`` (basic auth with the account SID and
auth token) answers 201 with a Message resource shaped as Twilio documents it; errors
come back in Twilio's error shape (``code``, ``message``, ``more_info``, ``status``), so
the twilio library raises its own TwilioRestException. ``MediaUrl`` (repeatable, up to
ten public http(s) URLs) is recorded as the message's ``media_urls``: Twilio would fetch
them, so a test fetches them from Chorus itself. It also serves media (voice
notes) behind the same basic auth, can refuse a number with a given error code, and can
enforce a rate limit (429, error 20429) for the broadcast benchmark.

Content templates (``ContentSid``, ``ContentVariables``) registered in ``contents`` are
rendered as Twilio documents it: a variable not given at send falls back to the template's
sample, so a quick reply with more buttons than variables shows the samples; variables that
are not a JSON object of strings, or are empty, get 21656, and ``ContentVariables`` without
``ContentSid`` gets 21654. WhatsApp's own errors (63016 outside the 24-hour window) come
after the message is accepted, in its status callback: :func:`status_form` is that form.
"""

from __future__ import annotations

import base64
import itertools
import json
import re
import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from email.utils import formatdate
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

ACCOUNT_SID = "AC" + "0" * 31 + "1"
AUTH_TOKEN = "test-auth-token-0123456789abcdef"
VOICE_BYTES = b"OggS\x00fake-whatsapp-voice-note"


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


@dataclass(frozen=True)
class FakeContent:
    """A content template as made in Twilio's Content Template Builder: a body and buttons (a
    quick reply's actions or a list picker's items: title and id), with ``{{n}}`` variables
    and their samples (which Twilio uses for any not given at send)."""

    body: str
    buttons: tuple[tuple[str, str], ...] = ()
    samples: dict[str, str] = field(default_factory=dict)

    def render(self, given: dict[str, str]) -> dict[str, Any]:
        def fill(text: str) -> str:
            return re.sub(r"\{\{\s*(\w+)\s*\}\}", lambda m: given.get(m.group(1), self.samples.get(m.group(1), m.group(0))), text)
        return {"body": fill(self.body), "buttons": [(fill(title), fill(value)) for title, value in self.buttons]}


def quick_reply(buttons: int, sample: str = "Option") -> FakeContent:
    """The quick-reply (or list-picker) template Chorus's variables fit: body {{1}}, then each
    button's title {{2n}} and id {{2n+1}}, with samples such as a coordinator gives."""
    pairs = tuple((f"{{{{{2 * n}}}}}", f"{{{{{2 * n + 1}}}}}") for n in range(1, buttons + 1))
    titles = {str(2 * n): f"{sample} {n}" for n in range(1, buttons + 1)}
    ids = {str(2 * n + 1): f"option_{n}" for n in range(1, buttons + 1)}
    return FakeContent("{{1}}", pairs, {"1": "Which one?"} | titles | ids)


def status_form(message: dict[str, Any], status: str, error_code: str | None = None) -> dict[str, str]:
    """The status callback Twilio posts about a message it accepted (``message``: one of
    :attr:`FakeTwilio.messages`), e.g. failed with 63016 outside WhatsApp's 24-hour window."""
    form = {"MessageSid": message["sid"], "MessageStatus": status, "To": message["to"], "From": message["from"] or "",
            "AccountSid": ACCOUNT_SID, "ApiVersion": "2010-04-01"}
    return form | ({"ErrorCode": error_code} if error_code else {})


@dataclass
class FakeTwilio:
    account_sid: str = ACCOUNT_SID
    auth_token: str = AUTH_TOKEN
    rate_limit: float | None = None
    """Messages per second accepted before answering 429 (None: no limit)."""
    messages: list[dict[str, Any]] = field(default_factory=list)
    failures: dict[str, tuple[int, int, str]] = field(default_factory=dict)
    """'to' address -> (HTTP status, Twilio error code, message)."""
    rejected: int = 0
    fail_next: list[tuple[str, tuple[int, int, str]]] = field(default_factory=list)
    """(form field, error): the next message that has the field gets the error, once each."""
    by_key: dict[str, dict[str, Any]] = field(default_factory=dict)
    """The Message resource created for each ``Idempotency-Key``: a request repeating a key
    gets that resource back and delivers nothing (as a provider that deduplicates by key)."""
    replayed: list[str] = field(default_factory=list)
    """Keys that came again and were not delivered twice."""
    contents: dict[str, FakeContent] = field(default_factory=dict)
    """Content templates by SID: a message naming one is recorded with what it ``shows``."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._recent: deque[float] = deque()
        self._media_ids = itertools.count(1)
        self.media: dict[str, bytes] = {}
        self.url = ""
        self.app = self._build()

    def add_media(self, data: bytes = VOICE_BYTES) -> str:
        """A media URL (on this server) for an inbound WhatsApp voice note."""
        media_id = f"ME{next(self._media_ids):032x}"
        self.media[media_id] = data
        return f"{self.url}/2010-04-01/Accounts/{self.account_sid}/Messages/MM{'0' * 32}/Media/{media_id}"

    def bodies_to(self, to: str) -> list[str]:
        return [m["body"] for m in self.messages if m["to"] == to]

    def _authorised(self, request: Request) -> bool:
        expected = base64.b64encode(f"{self.account_sid}:{self.auth_token}".encode()).decode()
        return request.headers.get("authorization", "") == f"Basic {expected}"

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.post("/2010-04-01/Accounts/{sid}/Messages.json")
        async def create(sid: str, request: Request) -> Response:
            if not self._authorised(request) or sid != self.account_sid:
                return _error(401, 20003, "Authenticate")
            items = (await request.form()).multi_items()
            form = {k: str(v) for k, v in items}
            media_urls = [str(v) for k, v in items if k == "MediaUrl"]
            if len(media_urls) > 10:
                return _error(400, 21623, "Number of media files exceeds allowed limit.")
            if any(not url.startswith(("http://", "https://")) for url in media_urls):
                return _error(400, 21620, "Invalid media URL(s).")
            if not form.get("To") or not (form.get("Body") or form.get("ContentSid") or form.get("MediaUrl")):
                return _error(400, 21602, "Message body is required.")
            if not form.get("From") and not form.get("MessagingServiceSid"):
                return _error(400, 21603, "The 'From' number is required.")
            if form.get("ContentVariables") and not form.get("ContentSid"):
                return _error(400, 21654, "ContentSid Required")
            variables = _variables(form.get("ContentVariables"))
            if variables is None:
                return _error(400, 21656, "The ContentVariables Parameter is invalid")
            if form["To"] in self.failures:
                status, code, text = self.failures[form["To"]]
                return _error(status, code, text)
            with self._lock:
                once = next((i for i, (name, _) in enumerate(self.fail_next) if form.get(name)), None)
                failure = self.fail_next.pop(once)[1] if once is not None else None
            if failure is not None:
                return _error(*failure)
            if self._over_limit():
                return _error(429, 20429, "Too Many Requests")
            key = request.headers.get("idempotency-key")
            with self._lock:
                if key is not None and key in self.by_key:
                    self.replayed.append(key)
                    return JSONResponse(self.by_key[key], 201)
                resource = self._resource(sid, form, len(media_urls))
                if key is not None:
                    self.by_key[key] = resource
                self.messages.append({"to": form["To"], "from": form.get("From"), "body": form.get("Body", ""),
                                      "content_sid": form.get("ContentSid"), "content_variables": form.get("ContentVariables"),
                                      "status_callback": form.get("StatusCallback"), "media_urls": media_urls,
                                      "sid": resource["sid"], "at": time.monotonic(),
                                      "key": key, "shows": self._shows(form.get("ContentSid"), variables)})
            return JSONResponse(resource, 201)

        @app.get("/2010-04-01/Accounts/{sid}/Messages/{message}/Media/{media_id}")
        async def media(sid: str, message: str, media_id: str, request: Request) -> Response:
            if not self._authorised(request):
                return _error(401, 20003, "Authenticate")
            if media_id not in self.media:
                return _error(404, 20404, "The requested resource was not found")
            return Response(self.media[media_id], media_type="audio/ogg")

        return app

    def _shows(self, content_sid: str | None, variables: dict[str, str]) -> dict[str, Any] | None:
        content = self.contents.get(content_sid or "")
        return content.render(variables) if content is not None else None

    def _over_limit(self) -> bool:
        if self.rate_limit is None:
            return False
        now = time.monotonic()
        with self._lock:
            while self._recent and now - self._recent[0] >= 1.0:
                self._recent.popleft()
            if len(self._recent) >= self.rate_limit:
                self.rejected += 1
                return True
            self._recent.append(now)
        return False

    def _resource(self, sid: str, form: dict[str, str], num_media: int = 0) -> dict[str, Any]:
        new_sid = message_sid()
        now = formatdate(usegmt=True)
        return {
            "account_sid": sid, "api_version": "2010-04-01", "body": form.get("Body", ""), "date_created": now,
            "date_sent": None, "date_updated": now, "direction": "outbound-api", "error_code": None, "error_message": None,
            "from": form.get("From"), "messaging_service_sid": form.get("MessagingServiceSid"), "num_media": str(num_media),
            "num_segments": "1", "price": None, "price_unit": "USD", "sid": new_sid, "status": "queued",
            "subresource_uris": {"media": f"/2010-04-01/Accounts/{sid}/Messages/{new_sid}/Media.json"},
            "to": form["To"], "uri": f"/2010-04-01/Accounts/{sid}/Messages/{new_sid}.json",
        }


def _variables(raw: str | None) -> dict[str, str] | None:
    """ContentVariables as Twilio accepts them (a JSON object of strings, none empty), or None."""
    if not raw:
        return {}
    try:
        given = json.loads(raw)
    except ValueError:
        return None
    if not isinstance(given, dict) or not all(isinstance(v, str) and v for v in given.values()):
        return None
    return given


def _error(status: int, code: int, message: str) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, "more_info": f"https://www.twilio.com/docs/errors/{code}",
                         "status": status}, status)
