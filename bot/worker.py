"""A ``chorus worker`` process: runs the background work that API processes enqueue.

It builds what the embedded app would (database, studies, conversation service, channels),
then consumes the broker's queues with a Dramatiq :class:`~dramatiq.Worker`:

* ``outbox``: an outbox dispatcher runs here, polling as the embedded one does, and an
  ``outbox.send`` task makes it look at once. Several workers share the outbox safely: rows
  are claimed atomically (SKIP LOCKED on PostgreSQL), and a participant another dispatcher
  is sending to is skipped, so each participant's messages stay in order. The dispatchers
  count each other in the database and share every channel's rate limit.
* ``voice``: voice notes are fetched and transcribed here (the model loads on the first
  note); notes left waiting by a stopped process are picked up at start.
* the scheduler tick, unless ``--no-scheduler``: safe with any number of processes.

With ``--metrics-port`` (``CHORUS_WORKER_METRICS_PORT``) the worker serves its counters
(messages sent per channel, errors such as ``send_failed``, transcription time) at
``/metrics`` on that port (bot/metrics.py, :class:`~bot.metrics.MetricsListener`).

The async parts (dispatcher, voice pipeline) share one event loop on a thread of their own;
Dramatiq's worker threads hand tasks to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable, Coroutine
from concurrent.futures import Future
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from bot.app import Chorus, build
from bot.distributed import DramatiqQueue, set_handler
from bot.settings import Settings
from bot.tasks import SEND_OUTBOX, TRANSCRIBE_VOICE

log = logging.getLogger("chorus.worker")
VOICE_TIMEOUT = 15 * 60.0


@dataclass
class WorkerRuntime:
    settings: Settings
    queues: list[str] = field(default_factory=lambda: ["outbox", "voice"])
    scheduler: bool = True
    threads: int = 8
    poll_interval: float = 1.0

    def __post_init__(self) -> None:
        if not self.settings.queue_url:
            raise ValueError("chorus worker needs CHORUS_QUEUE_URL (amqp://... or redis://...)")
        self.queue = DramatiqQueue(self.settings.queue_url, self.settings.queue_namespace)
        self.broker_queues = self.queue.queues(self.queues)
        self.loop = asyncio.new_event_loop()
        self._loop_thread = threading.Thread(target=self.loop.run_forever, name="chorus-worker-loop", daemon=True)
        self._background: list[Future[Any]] = []
        self.chorus: Chorus | None = None
        self.dispatcher: Any = None
        self.pipeline: Any = None
        self._scheduler: Any = None
        self._worker: Any = None
        self._sweeping: Future[Any] | None = None
        self._study_watch: Any = None

    # ------------------------------------------------------------------ start and stop

    def start(self) -> None:
        from dramatiq import Worker

        from bot.webhooks import ChannelHub

        try:  # before anything else: a broker that cannot work is one line and a non-zero exit
            self.queue.check()
        except ValueError:
            with contextlib.suppress(Exception):
                self.queue.close()
            raise
        self.chorus = chorus = build(self.settings)
        self.hub = hub = ChannelHub.from_env()
        self._loop_thread.start()
        from bot.study_watch import StudyWatch

        self._study_watch = StudyWatch(chorus.database, chorus.studies, self.settings.study_watch_interval)  # flows published elsewhere, within seconds
        self._call(self._study_watch.begin())
        if "outbox" in self.queues:
            from bot.dispatcher import Dispatcher

            self.dispatcher = Dispatcher(chorus.database, hub.sending, chorus.studies, hub.limits,
                                         poll_interval=self.poll_interval, exclusive=True, address_key=chorus.settings.address_key(),
                                         template_resends=hub.template_resends)  # CHORUS_WHATSAPP_RESEND_HOURS, _RESENDS
            if hub.outbox_lease is not None:  # CHORUS_OUTBOX_LEASE, as the embedded dispatcher keeps it
                self.dispatcher.stale_after = timedelta(seconds=hub.outbox_lease)
            self._sign_whatsapp_images(hub)
            self._background.append(self._submit(self.dispatcher.run()))
            set_handler(SEND_OUTBOX, self.nudge)
        if "voice" in self.queues:
            self.pipeline = self._call(self._make_pipeline())
            set_handler(TRANSCRIBE_VOICE, self.transcribe)
            self._preload()
            chorus.service.start_safeguarding()  # transcripts are free text: their model loads now too
            try:
                picked = self._call(self.pipeline.recover())
                if picked:
                    log.info("picked up %d voice notes left waiting", len(picked))
            except Exception:
                log.exception("could not pick up the voice notes left waiting")
            self._sweeping = self._submit(self.pipeline.keep_recovering())  # and those a broker outage leaves
        if self.scheduler:
            from bot.scheduler import DEFAULT_INTERVAL, Scheduler

            self._scheduler = Scheduler(chorus.database, chorus.service, chorus.studies, on_queued=self.queued)
            self._scheduler.start(float(os.environ.get("CHORUS_SCHEDULER_INTERVAL", DEFAULT_INTERVAL)))
        # worker_timeout: how long a consumer waits for a message before checking whether to stop
        self._worker = Worker(self.queue.broker, queues=self.broker_queues, worker_threads=self.threads, worker_timeout=250)
        self._worker.start()
        log.info("worker %d consuming %s%s", os.getpid(), ", ".join(sorted(self.broker_queues)),
                 " and ticking the scheduler" if self.scheduler else "")

    def stop(self) -> None:
        """Finish the tasks in hand, then close everything (SIGTERM / SIGINT). The broker's
        connections are closed last, without pika's errors about those RabbitMQ already dropped
        (:func:`bot.logging_setup.quiet_while`): a normal stop logs no ERROR."""
        if self._worker is not None:
            self._worker.stop()
        if self.chorus is not None:
            self.chorus.service.stop_safeguarding_warm_up()
        if self._scheduler is not None:
            self._scheduler.shutdown()
        set_handler(SEND_OUTBOX, None)
        set_handler(TRANSCRIBE_VOICE, None)
        if self._sweeping is not None:
            self._sweeping.cancel()
        if self._study_watch is not None:
            self._call(self._study_watch.stop())
        if self.pipeline is not None:
            self._call(self.pipeline.close())
        if self.dispatcher is not None:
            self._call(self.dispatcher.stop())
        for future in self._background:  # the dispatcher's run() ends once stopped, removing its heartbeat row
            with contextlib.suppress(Exception):
                future.result(timeout=10)
            future.cancel()
        if getattr(self, "hub", None) is not None and self.hub.telegram is not None:
            self._call(self.hub.telegram.close())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._loop_thread.join(timeout=10)
        self.queue.close()  # quietly (bot/distributed.py): RabbitMQ may have dropped idle connections
        if self.chorus is not None:
            self.chorus.database.dispose()

    # ------------------------------------------------------------------ tasks

    def nudge(self) -> None:
        """``outbox.send``: look at the outbox now."""
        self.loop.call_soon_threadsafe(self.dispatcher.nudge)

    def transcribe(self, inbound_id: int) -> None:
        """``voice.transcribe``: one voice note, start to finish (a redelivered one finds it claimed)."""
        outcome = self._call(self.pipeline.process(int(inbound_id)), VOICE_TIMEOUT)
        if outcome.status == "skipped":  # a redelivered task: the note is another's, or already being picked up
            log.info("voice note %s: already claimed, left to its claimer", outcome.inbound_id)
        else:
            log.info("voice note %s: %s", outcome.inbound_id, outcome.status)

    def queued(self) -> None:
        """Messages were queued here (by a voice note or a scheduler tick): have them sent."""
        if self.dispatcher is not None:
            self.nudge()
        else:  # a worker that only transcribes: another one sends
            self.queue.enqueue(SEND_OUTBOX)

    # ------------------------------------------------------------------ helpers

    def _sign_whatsapp_images(self, hub: Any) -> None:
        """WhatsApp images (Delphi charts) go as links Twilio fetches from ``GET /media/{id}`` on
        the API processes: signed here with the key they check them with (bot/media.py), or
        the charts would be left out of every WhatsApp message a worker sends."""
        from channels.media_links import MediaLinks, derive_key
        from channels.twilio import TwilioChannel

        whatsapp = hub.sending.get("whatsapp")
        if isinstance(whatsapp, TwilioChannel) and whatsapp.media_links is None and hub.twilio_settings is not None:
            public_url = hub.twilio_settings.public_url or self.settings.public_url or ""
            whatsapp.media_links = MediaLinks(derive_key(self.settings.address_key()), public_url)

    def _preload(self) -> None:
        """Load the transcription model in the background now, so the first voice note need not wait."""
        transcriber = getattr(self.pipeline.queue, "transcriber", None)

        def load() -> None:
            try:
                _ = transcriber.model  # type: ignore[union-attr]
            except Exception:
                log.exception("could not load the transcription model; voice notes will say so")

        if transcriber is not None and hasattr(type(transcriber), "model"):
            threading.Thread(target=load, name="chorus-model-load", daemon=True).start()

    async def _make_pipeline(self) -> Any:
        from bot.voice import VoicePipeline, VoiceSettings
        from bot.voice_app import channel_fetch
        from nlp.transcribe import WhisperSettings
        from nlp.voice_worker import ThreadPoolTranscriptionQueue

        whisper = WhisperSettings.from_env()
        loop = asyncio.get_running_loop()

        def on_queued() -> None:  # on the loop: publishing may block, so off it
            loop.run_in_executor(None, self.queued)

        return VoicePipeline(self._service(), ThreadPoolTranscriptionQueue(settings=whisper), channel_fetch(lambda: self.hub, whisper.max_bytes),
                             VoiceSettings.from_env(), whisper, on_queued)

    def _service(self) -> Any:
        assert self.chorus is not None
        return self.chorus.service

    def _submit(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop)

    def _call(self, coroutine: Coroutine[Any, Any, Any], timeout: float = 60.0) -> Any:
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


def run(settings: Settings, queues: list[str] | None = None, scheduler: bool = True, threads: int = 8,
        stop: threading.Event | None = None, ready: Callable[[], None] | None = None) -> None:
    """Run a worker until ``stop`` is set (``chorus worker`` sets it on SIGTERM or SIGINT). With
    ``settings.worker_metrics_port``, its counters are served there (a port already taken is a
    ValueError, before any work starts)."""
    listener = _metrics_listener(settings)  # scraped from now on (zeros while the rest starts)
    try:
        runtime = WorkerRuntime(settings, queues or ["outbox", "voice"], scheduler, threads)
        runtime.start()
    except BaseException:
        if listener is not None:
            listener.stop()
        raise
    stop = stop or threading.Event()
    if ready is not None:
        ready()
    try:
        while not stop.wait(1.0):
            pass
    finally:
        log.info("worker %d stopping", os.getpid())
        runtime.stop()
        if listener is not None:
            listener.stop()


def _metrics_listener(settings: Settings) -> Any:
    if settings.worker_metrics_port is None:
        return None
    from bot.metrics import MetricsListener

    token = settings.metrics_token.get_secret_value() if settings.metrics_token is not None else None
    listener = MetricsListener(settings.worker_metrics_host, settings.worker_metrics_port, token)
    listener.start()
    return listener
