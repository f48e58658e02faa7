"""The FastAPI application: health, the web chat simulator, and (later) webhooks and the dashboard."""

from __future__ import annotations

import gc
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse
from sqlalchemy import text

from bot.degraded import DeferredStart, GatedDatabase, wake_the_loops
from bot.middleware import ChorusApp
from bot.service import ConversationService
from bot.settings import Settings
from bot.studies import StudyRegistry
from bot.tasks import TaskQueue, make_queue
from storage.database import Database, init_database


@dataclass
class Chorus:
    """What request handlers share: settings, database, studies and the conversation service."""

    settings: Settings
    database: Database
    studies: StudyRegistry
    service: ConversationService


def build(settings: Settings) -> Chorus:
    """The process's parts, started on the database (migrated, the studies published)."""
    database = init_database(settings.database_url, sealer=settings.sealer())
    studies = StudyRegistry.from_folder(settings.studies_dir)
    service = ConversationService(database, studies, address_key=settings.address_key())
    return Chorus(settings, database, studies, service)


def build_or_defer(settings: Settings) -> tuple[Chorus, DeferredStart | None]:
    """:func:`build` for a serving process: when PostgreSQL is unreachable, the parts without
    the database and the start-up that finishes once it answers (bot/degraded.py)."""
    database = GatedDatabase(settings.database_url, sealer=settings.sealer())
    studies = StudyRegistry.from_folder(settings.studies_dir)
    service = ConversationService(database, studies, address_key=settings.address_key(), publish=False)
    chorus = Chorus(settings, database, studies, service)
    start = DeferredStart(database, lambda check_keys: start_on_database(chorus, check_keys))
    try:
        started = start.now_or_later()
    except BaseException:
        database.dispose()
        raise
    return chorus, None if started else start


def start_on_database(chorus: Chorus, check_keys: bool = False) -> None:
    """What a process does on the database as it starts: the schema brought up to date, the
    keys checked against the addresses stored (``check_keys``), the studies published."""
    chorus.database.upgrade()
    if check_keys:
        from storage.repository import keys_problem

        with chorus.database.transaction() as connection:
            problem = keys_problem(connection, chorus.database.sealer, chorus.settings.address_key())
        if problem is not None:
            raise KeysDoNotMatch(problem)
    chorus.studies.publish(chorus.database, chorus.service.clock(), starting=True)


class KeysDoNotMatch(Exception):
    """The keys do not open the addresses stored: the start-up stops short (nothing is stored with them)."""


def tasks_of(app: FastAPI) -> TaskQueue:
    """The app's task queue (in this process, or a broker's when CHORUS_QUEUE_URL is set)."""
    queue: TaskQueue = app.state.tasks
    return queue


def chorus_of(request: Request) -> Chorus:
    chorus: Chorus = request.app.state.chorus
    return chorus


def serving_process() -> FastAPI:
    """The app of one of ``chorus serve --processes N``'s processes (settings from the environment)."""
    from bot.logging_setup import configure as configure_logging

    settings = Settings.from_env()
    configure_logging(settings.log_level, settings.log_format)
    return create_app(settings, freeze_heap=True)


def create_app(settings: Settings | None = None, chorus: Chorus | None = None, freeze_heap: bool = False) -> FastAPI:
    """The app. ``freeze_heap`` (``chorus serve``: one app per process) moves everything alive
    once started (modules, studies, models' code) out of the garbage collector's sight
    (``gc.freeze``): its full collections then look only at what requests make, and stop
    holding up the message path for a tenth of a second every few seconds."""
    settings = settings or Settings.from_env()
    from bot import log_safety

    log_safety.install(secrets=[s.get_secret_value() for s in (settings.telegram_token, settings.telegram_secret,
                                                                settings.twilio_auth_token, settings.hash_key, settings.data_keys) if s])

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # (without the database if it is unreachable: its start-up then finishes in the background)
        app.state.chorus, app.state.start_up = (chorus, None) if chorus is not None else build_or_defer(settings)
        if getattr(app.state, "tasks", None) is None:  # a test may hand in its own queue
            app.state.tasks = make_queue(settings.queue_url, settings.queue_namespace)
        app.state.chorus.service.start_safeguarding()  # the model loads in the background, once serving
        from bot.study_watch import StudyWatch

        study_watch = StudyWatch(app.state.chorus.database, app.state.chorus.studies, app.state.chorus.settings.study_watch_interval)
        start_up: DeferredStart | None = app.state.start_up
        if start_up is None:
            study_watch.start()  # flows another process publishes are swapped in within seconds
        else:
            async def started() -> None:
                study_watch.start()
                await wake_the_loops(app.state, alone=app.state.chorus.settings.processes == 1)

            start_up.begin(started)
        if freeze_heap:
            gc.collect()
            gc.freeze()
        try:
            yield
        finally:
            if start_up is not None:
                await start_up.stop()
            await study_watch.stop()
            app.state.chorus.service.stop_safeguarding_warm_up()
            app.state.tasks.close()
            app.state.tasks = None
            app.state.chorus.database.dispose()

    app = ChorusApp(title="Chorus", version="0.1.0", lifespan=lifespan,
                    description="Listen to patients, carers and staff at scale, by chat.")

    @app.get("/health", tags=["operations"])
    def health(request: Request) -> JSONResponse:
        """Liveness and the database's state, as JSON (``/ready`` is the readiness check)."""
        state = chorus_of(request)
        try:
            with state.database.reading() as session:
                session.exec(text("SELECT 1"))  # type: ignore[call-overload]
            database = "ok"
        except Exception:
            database = "unavailable"
        status = 200 if database == "ok" else 503
        return JSONResponse({"status": "ok" if status == 200 else "degraded", "database": database,
                             "studies": state.studies.ids()}, status_code=status)

    @app.get("/", response_class=HTMLResponse, include_in_schema=False)
    async def simulator_page(request: Request) -> HTMLResponse:
        """The web chat simulator's page, for whoever ``CHORUS_SIMULATOR`` lets in (bot/simulator.py)."""
        from bot.simulator import page

        return await page(request)

    from bot.metrics import router as metrics_router
    from bot.middleware import install as install_request_layer
    from bot.readiness import router as readiness_router
    from bot.simulator import router as simulator_router

    install_request_layer(app, settings.max_body_bytes)
    app.include_router(readiness_router)
    app.include_router(metrics_router)
    app.include_router(simulator_router)
    from bot.voice_app import install as install_voice
    from bot.webhooks import install

    install(app)
    install_voice(app)
    from bot.media import install as install_media

    install_media(app)
    from bot.scheduler import install as install_scheduler

    install_scheduler(app)
    from bot.dashboard import install as install_dashboard

    install_dashboard(app)
    return app
