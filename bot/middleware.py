"""The outermost layer of every request: a request id for the logs, the latency histogram,
and a limit on body size enforced before the body is read.

A body declared larger than ``CHORUS_MAX_BODY_BYTES`` (1 MB by default) is refused with 413
from its headers alone; a chunked body is counted as it streams in and refused as soon as it
passes the limit, so nobody can make Chorus buffer a gigabyte. Pure ASGI (no
BaseHTTPMiddleware), so streaming responses and background tasks are untouched.
"""

from __future__ import annotations

import contextvars
import re
import time
import uuid
from typing import Any

from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from bot import metrics

DEFAULT_MAX_BODY = 1_000_000
request_id: contextvars.ContextVar[str | None] = contextvars.ContextVar("chorus_request_id", default=None)
_GOOD_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


class BodyTooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"the body is larger than {limit} bytes")


class RequestLayer:
    def __init__(self, app: ASGIApp, max_body: int = DEFAULT_MAX_BODY) -> None:
        self.app = app
        self.max_body = max_body

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = _header(scope, b"x-request-id")
        rid = given if given and _GOOD_ID.match(given) else uuid.uuid4().hex
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
            await self.app(scope, self._counting(receive), sending)
        finally:
            route = getattr(scope.get("route"), "path", None) or "unmatched"
            metrics.HTTP_LATENCY.labels(scope.get("method", ""), route, str(status["code"])).observe(
                time.perf_counter() - started)
            request_id.reset(token)

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


def install(app: Any, max_body: int = DEFAULT_MAX_BODY) -> None:
    app.add_middleware(RequestLayer, max_body=max_body)
