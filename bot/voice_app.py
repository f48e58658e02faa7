"""The voice pipeline wired into a FastAPI app: one pipeline per app (bot/voice.py), built when
the app starts (:func:`voice_lifespan`), fetching media through the app's channels, and the web
chat simulator's recordings held in memory (:class:`HeldAudio`) since it has no provider to
fetch them from. :func:`install` puts it on an app (bot/app.py)."""

from __future__ import annotations

import logging
import secrets
import threading
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from typing import Any

from fastapi import APIRouter, FastAPI

from bot.outage import NotStarted
from bot.voice import Fetch, VoicePipeline, VoiceSettings
from nlp.transcribe import WhisperSettings
from nlp.voice_worker import ThreadPoolTranscriptionQueue

log = logging.getLogger("chorus.voice")

SIMULATOR_CHANNEL = "web"
"""The web chat simulator's channel (bot/simulator.py): its voice notes are held here, not fetched."""


class HeldAudio:
    """Voice notes recorded in the web chat simulator, held in this process's memory until the
    pipeline takes them (once): the simulator has no provider to fetch them from. At most
    ``limit`` wait at once (the oldest is dropped: its note then gets the "couldn't fetch" reply)."""

    PREFIX = "simulator-audio:"

    def __init__(self, limit: int = 64) -> None:
        self.limit = limit
        self._notes: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def hold(self, audio: bytes) -> str:
        """Keep ``audio``; the URL its voice note's media names, for :meth:`take`."""
        url = self.PREFIX + secrets.token_urlsafe(12)
        with self._lock:
            self._notes[url] = audio
            while len(self._notes) > self.limit:
                self._notes.pop(next(iter(self._notes)))
        return url

    def take(self, url: str) -> bytes:
        with self._lock:
            audio = self._notes.pop(url, None)
        if audio is None:
            raise LookupError("the simulator's recording is no longer held (the server restarted?)")
        return audio


def held_audio(app: FastAPI) -> HeldAudio:
    """The app's store of simulator recordings (made once)."""
    found: HeldAudio | None = getattr(app.state, "held_audio", None)
    if found is None:
        found = app.state.held_audio = HeldAudio()
    return found


def hub_fetch(app: FastAPI, max_bytes: int | None = None) -> Fetch:
    """Fetch media through the app's configured channels (looked up when a note arrives),
    refusing anything past ``max_bytes`` before it is all downloaded; a simulator recording
    from :func:`held_audio`."""
    through_channels = channel_fetch(lambda: getattr(app.state, "channels", None), max_bytes)

    async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
        if channel == SIMULATOR_CHANNEL:
            return held_audio(app).take(str(media.get("url", "")))
        return await through_channels(channel, media)

    return fetch


def channel_fetch(hub_of: Callable[[], Any], max_bytes: int | None = None) -> Fetch:
    """Fetch media through the channels of the :class:`~bot.webhooks.ChannelHub` ``hub_of()`` gives,
    refusing anything past ``max_bytes`` before it is all downloaded."""

    async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
        from channels import twilio

        hub = hub_of()
        url = str(media.get("url", ""))
        if channel == "telegram" and hub is not None and hub.telegram is not None:
            return await hub.telegram.download(url.removeprefix("telegram-file:"), max_bytes)
        if channel in ("whatsapp", "sms") and hub is not None and hub.twilio_settings is not None:
            return await twilio.fetch_media(hub.twilio_settings, url, max_bytes=max_bytes)
        raise LookupError(f"no way to fetch media on the {channel} channel")

    return fetch


def nudger(app: FastAPI) -> Callable[[], None]:
    """The ``on_queued`` for pipelines in an app: wake the outbox dispatcher."""

    def nudge() -> None:
        hub = getattr(app.state, "channels", None)
        if hub is not None and hub.dispatcher is not None:
            hub.dispatcher.nudge()

    return nudge


def default_pipeline(app: FastAPI) -> VoicePipeline:
    """The embedded default: one thread pool (sharing the process's one model) per app."""
    whisper = WhisperSettings.from_env()
    queue = ThreadPoolTranscriptionQueue(settings=whisper)
    return VoicePipeline(app.state.chorus.service, queue, hub_fetch(app, whisper.max_bytes), VoiceSettings.from_env(), whisper,
                         nudger(app))


PipelineFactory = Callable[[FastAPI], VoicePipeline]


@asynccontextmanager
async def voice_lifespan(app: FastAPI) -> AsyncIterator[None]:
    from bot.app import tasks_of
    from bot.tasks import TRANSCRIBE_VOICE, register

    queue = tasks_of(app)
    if queue.distributed:  # `chorus worker` processes transcribe, and pick up what was left waiting
        app.state.voice = None
        yield
        return
    factory: PipelineFactory = getattr(app.state, "voice_factory", None) or default_pipeline
    pipeline = factory(app)
    app.state.voice = pipeline
    register(queue, TRANSCRIBE_VOICE, pipeline.start)
    try:
        await pipeline.recover(alone=app.state.chorus.settings.processes == 1)
    except Exception as error:
        if _waits_for_its_database(error):  # no voice problem: bot.degraded.wake_the_loops looks again once started
            log.info("the database is not there yet: looking for the voice notes left waiting once it answers "
                     "and this process has started on it", extra={"event": "voice.recover_later"})
        else:
            log.exception("could not pick up the voice notes left waiting")
    try:
        yield
    finally:
        await pipeline.close()
        app.state.voice = None


def _waits_for_its_database(error: BaseException) -> bool:
    """The process serves without its database for now (bot/degraded.py: PostgreSQL was
    unreachable at start, and the gate refuses every use until the start-up is done)."""
    return isinstance(getattr(error, "orig", None), NotStarted)


router = APIRouter(lifespan=voice_lifespan)


def install(app: FastAPI, factory: PipelineFactory | None = None) -> None:
    """Transcribe voice notes for this app (once; calling again only changes the factory,
    e.g. a test's pipeline with a shared transcriber). Webhooks hand notes to ``app.state.voice``."""
    if not getattr(app.state, "voice_installed", False):
        app.include_router(router)
        app.state.voice_installed = True
    app.state.voice_factory = factory
