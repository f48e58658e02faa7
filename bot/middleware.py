"""The outermost layer of every request: a request id for the logs, the latency histogram,
a limit on body size enforced before the body is read, and the providers' webhooks.

The webhooks (bot/webhooks.py) are *direct routes*: a POST to one of their paths is handed
to its handler here, without FastAPI's router, dependency injection and middleware
(:class:`ChorusApp` puts this layer in front of them). They are the hot path (every
participant's message arrives through one, at up to thousands a second), take no parameters
FastAPI would validate, and are not part of the REST API's schema; on this path that
machinery cost about as much as the handler itself.
A handler takes a Starlette ``Request`` and returns a ``Response``; an ``HTTPException``
it raises becomes the same JSON error FastAPI would send.

A body declared larger than ``CHORUS_MAX_BODY_BYTES`` (1 MB by default) is refused with 413
from its headers alone; a chunked body is counted as it streams in and refused as soon as it
passes the limit, so nobody can make Chorus buffer a gigabyte. Pure ASGI (no
BaseHTTPMiddleware), so streaming responses and background tasks are untouched.
"""

from __future__ import annotations

import contextvars
import itertools
import re
import time
import uuid
from collections.abc import Awaitable, Callable, Mapping

from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics

DEFAULT_MAX_BODY = 1_000_000
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("chorus_request_id", default=None)
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")
_ID_PREFIX, _ID_COUNTER = uuid.uuid4().hex[:12], itertools.count(1)
"""Request ids made here: a random prefix per process, then a counter (no random bytes per request)."""
DirectHandler = Callable[[Request], Awaitable[Response]]


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


class RequestLayer:
    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY, direct: Mapping[str, DirectHandler] | None = None) -> None:
        self.app = app
        self.max_body = max_body
        self.direct = {} if direct is None else direct
        """POST path -> handler, served here (see the module's docstring)."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        rid = given if given and _GOOD_ID.match(given) else f"{_ID_PREFIX}-{next(_ID_COUNTER):x}"
        token = request_id.set(rid)
        started = time.perf_counter()
        status = {"code": 500}

        async def sending(message: Message) -> None:
            if message["type"] == "http.response.start":
                status["code"] = message["status"]
                message.setdefault("headers", [])
                message["headers"] = [*message["headers"], (b"x-request-id", rid.encode())]
            await send(message)

        try:
            declared = _header(scope, b"content-length")
            if declared is not None and (not declared.isdigit() or int(declared) > self.max_body):
                metrics.error("oversized")
                await JSONResponse({"detail": f"the body is larger than {self.max_body} bytes"}, 413,
                                   headers={"Connection": "close"})(scope, receive, sending)
                return
            handler = self.direct.get(scope["path"])
            if handler is not None:
                scope["direct_route"] = scope["path"]
                if scope["method"] != "POST":  # a webhook only takes POST (a browser's GET says so)
                    await JSONResponse({"detail": "Method Not Allowed"}, 405, headers={"Allow": "POST"})(scope, receive, sending)
                    return
                await self._direct(handler, scope, self._counting(receive), sending)
            else:
                await self.app(scope, self._counting(receive), sending)
        finally:
            route = scope.get("direct_route") or getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.HTTP_LATENCY.labels(scope.get("method", ""), route, str(status["code"])).observe(
                time.perf_counter() - started)
            request_id.reset(token)

    @staticmethod
    async def _direct(handler: DirectHandler, scope: Scope, receive: Receive, send: Send) -> None:
        try:
            response = await handler(Request(scope, receive))
        except HTTPException as error:
            response = JSONResponse({"detail": error.detail}, error.status_code, headers=error.headers)
        except ClientDisconnect:  # gone before its body arrived: nothing stored, nobody to answer
            return
        await response(scope, receive, send)

    def _counting(self, receive: Receive) -> Receive:
        seen = 0

        async def counted() -> Message:
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_body:
                    metrics.error("oversized")
                    raise BodyTooLarge(self.max_body)
            return message

        return counted


def _header(scope: Scope, name: bytes) -> str | None:
    headers: list[tuple[bytes, bytes]] = scope.get("headers") or []
    for key, value in headers:
        if key.lower() == name:
            return value.decode("latin-1").strip()
    return None


class ChorusApp(FastAPI):
    """FastAPI with the request layer outside everything else: a direct route's request is
    answered before FastAPI's and Starlette's own layers (exception handling, telemetry, body
    limits), which would otherwise run on every webhook for nothing. Everything else goes
    through them as usual, behind the layer."""

    request_layer: RequestLayer | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if self.request_layer is None or scope["type"] != "http":
            await super().__call__(scope, receive, send)
            return
        scope["app"] = self  # (what Starlette would set: a direct route's Request.app)
        await self.request_layer(scope, receive, send)

    async def behind_layer(self, scope: Scope, receive: Receive, send: Send) -> None:
        await super().__call__(scope, receive, send)


def install(app: ChorusApp, max_body: int = DEFAULT_MAX_BODY) -> None:
    """Put the layer in front of the app; handlers put in ``app.state.direct_routes`` (a dict)
    are its direct routes."""
    app.state.direct_routes = {}
    app.request_layer = RequestLayer(app.behind_layer, max_body=max_body, direct=app.state.direct_routes)
