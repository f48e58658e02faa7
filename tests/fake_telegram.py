"""A local server speaking the parts of the Telegram Bot API that Chorus uses.

python-telegram-bot talks real HTTP to it (``Bot(token, base_url=f"{url}/bot")``):
getMe, setWebhook, deleteWebhook, getUpdates (long polling), sendMessage, sendPhoto
(a multipart upload, a file_id or a URL, checked as the real API does: the caption's
length, a real image), editMessageReplyMarkup, answerCallbackQuery, getFile and file download. It also makes
the updates a participant's app would produce, and can be told to fail a chat.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import socket
import struct
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response
from starlette.datastructures import UploadFile

BOT_ID = 700000001
VOICE_BYTES = b"OggS\x00fake-opus-voice-note"


class LocalServer:
    """Run an ASGI app with uvicorn in a thread on a free loopback port."""

    def __init__(self, app: Any) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.url = f"http://127.0.0.1:{self.port}"
        self.server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="on"))
        self.thread = threading.Thread(target=self.server.run, kwargs={"sockets": [self.sock]}, daemon=True)

    def __enter__(self) -> LocalServer:
        self.thread.start()
        deadline = time.monotonic() + 20
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("the local server did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=20)
        self.sock.close()


def wait_for(condition: Callable[[], Any], timeout: float = 10.0, what: str = "condition") -> Any:
    """Poll until ``condition()`` is truthy; return it."""
    deadline = time.monotonic() + timeout
    while True:
        found = condition()
        if found:
            return found
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


@dataclass
class FakeTelegram:
    token: str = "123456:TEST-token"
    calls: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    sent: list[dict[str, Any]] = field(default_factory=list)
    """Every message the bot sent, as Telegram's Message objects."""
    webhook: dict[str, Any] = field(default_factory=dict)
    failures: dict[int, tuple[int, str, dict[str, Any]]] = field(default_factory=dict)
    """chat_id -> (error_code, description, parameters) returned by every sendMessage to it."""
    fail_next: dict[str, list[tuple[int, str, dict[str, Any]]]] = field(default_factory=dict)
    """Method name -> errors returned by its next calls, one per call (e.g. one 429 for sendMessage)."""
    held: set[str] = field(default_factory=set)
    """Methods whose calls are recorded at once but answered only once no longer held (a slow network)."""

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self._updates: list[dict[str, Any]] = []
        self._update_ids = itertools.count(1000)
        self._message_ids = itertools.count(1)
        self._files: dict[str, bytes] = {}
        self.app = self._build()

    # ------------------------------------------------------------------ what a participant does

    def _user(self, chat_id: int) -> dict[str, Any]:
        return {"id": chat_id, "is_bot": False, "first_name": "Pat"}

    def message_update(self, chat_id: int, text: str | None = None, **extra: Any) -> dict[str, Any]:
        message = {"message_id": next(self._message_ids), "date": int(time.time()), "from": self._user(chat_id),
                   "chat": {"id": chat_id, "type": "private", "first_name": "Pat"}, **extra}
        if text is not None:
            message["text"] = text
            if text.startswith("/"):
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(text.split()[0])}]
        return {"update_id": next(self._update_ids), "message": message}

    def voice_update(self, chat_id: int, kind: str = "voice") -> dict[str, Any]:
        file_id = f"file-{next(self._message_ids)}"
        self._files[file_id] = VOICE_BYTES
        item: dict[str, Any] = {"file_id": file_id, "file_unique_id": file_id + "u", "file_size": len(VOICE_BYTES)}
        if kind == "video_note":
            item.update(length=240, duration=3)
        else:
            item.update(duration=3, mime_type="audio/ogg")
        return self.message_update(chat_id, None, **{kind: item})

    def callback_update(self, chat_id: int, data: str, message: dict[str, Any] | None = None) -> dict[str, Any]:
        """A tap on a button of the last message sent to the chat (or of ``message``): ``data``
        names the button by its callback data, or by the value Chorus put after its place
        ('ab12~yes'); the update carries the button's callback data, as Telegram's does."""
        message = message or self.last_to(chat_id)
        keyboard = message.get("reply_markup", {}).get("inline_keyboard", [])
        data = next((b["callback_data"] for row in keyboard for b in row
                     if b.get("callback_data") == data or str(b.get("callback_data", "")).endswith("~" + data)), data)
        query = {"id": f"cq{next(self._update_ids)}", "from": self._user(chat_id), "chat_instance": "ci",
                 "message": message, "data": data}
        return {"update_id": next(self._update_ids), "callback_query": query}

    def queue_update(self, update: dict[str, Any]) -> None:
        with self._lock:
            self._updates.append(update)

    # ------------------------------------------------------------------ what the test inspects

    def texts_to(self, chat_id: int) -> list[str]:
        """Each message's text, or a photo's caption."""
        return [m.get("text", m.get("caption", "")) for m in self.sent if m["chat"]["id"] == chat_id]

    def photo_bytes(self, message: dict[str, Any]) -> bytes:
        """The uploaded image of a sent photo message (its largest size)."""
        return self._files[message["photo"][-1]["file_id"]]

    def last_to(self, chat_id: int) -> dict[str, Any]:
        return [m for m in self.sent if m["chat"]["id"] == chat_id][-1]

    def calls_to(self, method: str) -> list[dict[str, Any]]:
        return [params for name, params in self.calls if name == method]

    # ------------------------------------------------------------------ the Bot API

    def _build(self) -> FastAPI:
        app = FastAPI()

        @app.api_route("/bot{token}/{method}", methods=["GET", "POST"])
        async def api(token: str, method: str, request: Request) -> Response:
            if token != self.token:
                return JSONResponse({"ok": False, "error_code": 401, "description": "Unauthorized"}, 401)
            params = await _params(request)
            with self._lock:
                self.calls.append((method, params))
            while method in self.held:
                await asyncio.sleep(0.01)
            with self._lock:
                queued = self.fail_next.get(method)
                failure = queued.pop(0) if queued else None
            if failure is not None:
                return _error(*failure)
            handler = getattr(self, f"_api_{method}", None)
            if handler is None:
                return JSONResponse({"ok": False, "error_code": 404, "description": "Not Found"}, 404)
            result = await handler(params) if method == "getUpdates" else handler(params)
            if isinstance(result, Response):
                return result
            return JSONResponse({"ok": True, "result": result})

        @app.get("/file/bot{token}/{path:path}")
        async def download(token: str, path: str) -> Response:
            file_id = path.rsplit("/", 1)[-1].split(".")[0]
            if token != self.token or file_id not in self._files:
                return Response(status_code=404)
            return Response(self._files[file_id], media_type="application/octet-stream")

        return app

    def _api_getMe(self, params: dict[str, Any]) -> dict[str, Any]:
        return {"id": BOT_ID, "is_bot": True, "first_name": "Chorus", "username": "chorus_test_bot",
                "can_join_groups": False, "can_read_all_group_messages": False, "supports_inline_queries": False}

    def _api_setWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = params
        return True

    def _api_deleteWebhook(self, params: dict[str, Any]) -> bool:
        self.webhook = {}
        return True

    async def _api_getUpdates(self, params: dict[str, Any]) -> Any:
        if self.webhook.get("url"):
            return _error(409, "Conflict: can't use getUpdates method while webhook is active")
        offset = int(params.get("offset") or 0)
        deadline = time.monotonic() + min(float(params.get("timeout") or 0), 0.3)
        while True:
            with self._lock:
                self._updates = [u for u in self._updates if u["update_id"] >= offset]
                ready = list(self._updates)
            if ready or time.monotonic() >= deadline:
                return ready
            await asyncio.sleep(0.02)

    def _api_sendMessage(self, params: dict[str, Any]) -> Any:
        chat_id = int(params["chat_id"])
        if chat_id in self.failures:
            code, description, extra = self.failures[chat_id]
            return _error(code, description, extra)
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "from": self._api_getMe({}), "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
                                   "text": params["text"]}
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            self.sent.append(message)
        return message

    def _api_sendPhoto(self, params: dict[str, Any]) -> Any:
        """Like the real API: the photo is an upload (multipart), a known file_id or a URL;
        the caption is at most 1024 characters; an upload that is not an image fails."""
        chat_id = int(params["chat_id"])
        if chat_id in self.failures:
            code, description, extra = self.failures[chat_id]
            return _error(code, description, extra)
        photo = params.get("photo")
        if isinstance(photo, str) and photo.startswith("attach://"):
            photo = params.get(photo[len("attach://"):])  # the upload is another part of the same request
        caption = params.get("caption")
        if caption is not None and len(str(caption).encode("utf-16-le")) // 2 > 1024:
            return _error(400, "Bad Request: message caption is too long")
        if isinstance(photo, bytes):
            size = _image_size(photo)
            if size is None:
                return _error(400, "Bad Request: IMAGE_PROCESS_FAILED")
            file_id = f"photo-{next(self._message_ids)}"
            self._files[file_id] = photo
        elif isinstance(photo, str) and photo in self._files:
            file_id, size = photo, _image_size(self._files[photo]) or (1, 1)
        elif isinstance(photo, str) and photo.startswith(("http://", "https://")):
            return _error(400, "Bad Request: wrong file identifier/HTTP URL specified")  # the fake fetches nothing
        else:
            return _error(400, "Bad Request: there is no photo in the request")
        width, height = size
        sizes = [{"file_id": file_id, "file_unique_id": file_id + "u", "width": width, "height": height,
                  "file_size": len(self._files[file_id])}]
        message: dict[str, Any] = {"message_id": next(self._message_ids), "date": int(time.time()),
                                   "from": self._api_getMe({}), "chat": {"id": chat_id, "type": "private", "first_name": "Pat"},
                                   "photo": sizes}
        if caption:
            message["caption"] = caption
        if params.get("reply_markup"):
            message["reply_markup"] = params["reply_markup"]
        with self._lock:
            self.sent.append(message)
        return message

    def _api_editMessageReplyMarkup(self, params: dict[str, Any]) -> Any:
        chat_id, message_id = int(params["chat_id"]), int(params["message_id"])
        for message in self.sent:
            if message["chat"]["id"] == chat_id and message["message_id"] == message_id:
                if params.get("reply_markup"):
                    message["reply_markup"] = params["reply_markup"]
                else:
                    message.pop("reply_markup", None)
                return message
        return _error(400, "Bad Request: message to edit not found")

    def _api_answerCallbackQuery(self, params: dict[str, Any]) -> Any:
        """As the real API: a notice (``text``) of at most 200 characters."""
        if len(str(params.get("text") or "")) > 200:
            return _error(400, "Bad Request: MESSAGE_TOO_LONG")
        return True

    def _api_getFile(self, params: dict[str, Any]) -> Any:
        file_id = params["file_id"]
        if file_id not in self._files:
            return _error(400, "Bad Request: invalid file_id")
        return {"file_id": file_id, "file_unique_id": file_id + "u", "file_size": len(self._files[file_id]),
                "file_path": f"voice/{file_id}.oga"}


def _error(code: int, description: str, parameters: dict[str, Any] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"ok": False, "error_code": code, "description": description}
    if parameters:
        body["parameters"] = parameters
    return JSONResponse(body, code)


def _image_size(data: bytes) -> tuple[int, int] | None:
    """Width and height of a PNG (from its IHDR chunk) or (1, 1) for a JPEG; None for anything else."""
    if data.startswith(b"\x89PNG\r\n\x1a\n") and data[12:16] == b"IHDR":
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if data.startswith(b"\xff\xd8\xff"):
        return 1, 1
    return None


async def _params(request: Request) -> dict[str, Any]:
    """PTB sends form fields (complex values JSON-encoded) and files as multipart parts;
    other clients may send JSON. An uploaded file comes back as its bytes."""
    if request.headers.get("content-type", "").startswith("application/json"):
        data = await request.json()
        return dict(data or {})
    form = await request.form()
    params: dict[str, Any] = {}
    for key, value in form.multi_items():
        if isinstance(value, UploadFile):
            params[key] = await value.read()
            continue
        text = str(value)
        try:
            params[key] = json.loads(text) if text[:1] in "{[" else text
        except ValueError:
            params[key] = text
    params.update(request.query_params)
    return params
