"""The voice pipeline's look for notes left waiting, at start: a process serving without its
database for now (bot/degraded.py) says so at INFO and looks again once started; only a real
problem is an ERROR with its traceback."""

from __future__ import annotations

import asyncio
import logging
import shutil
from pathlib import Path

import pytest
from fastapi import FastAPI

from bot import voice, voice_app
from bot.app import Chorus
from bot.degraded import GatedDatabase, wake_the_loops
from bot.service import ConversationService
from bot.settings import Settings
from bot.studies import StudyRegistry
from bot.tasks import InProcessQueue
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from tests.conftest import EXAMPLE_STUDY


async def _no_fetch(channel: str, media: object) -> bytes:
    raise AssertionError("nothing is fetched at start")


def _app(database: GatedDatabase) -> FastAPI:
    """An app with the voice pipeline installed, on ``database``, as ``chorus serve`` builds it."""
    settings = Settings.from_env({}, database_url=database.url, hash_key="test-key", studies_dir=str(EXAMPLE_STUDY))
    studies = StudyRegistry.from_folder(EXAMPLE_STUDY)
    app = FastAPI()
    app.state.tasks = InProcessQueue()
    app.state.chorus = Chorus(settings, database, studies, ConversationService(database, studies, publish=False))
    voice_app.install(app, lambda app: voice.VoicePipeline(app.state.chorus.service, ThreadPoolTranscriptionQueue(), _no_fetch))
    return app


def _start_and_stop(app: FastAPI) -> None:
    async def run() -> None:
        async with voice_app.voice_lifespan(app):
            pass

    asyncio.run(run())


def _said(caplog: pytest.LogCaptureFixture, level: int) -> list[logging.LogRecord]:
    return [r for r in caplog.records if r.name == "chorus.voice" and r.levelno == level]


def test_a_process_waiting_for_its_database_says_it_looks_later_without_an_error(
        tmp_path: Path, sqlite_template: Path, caplog: pytest.LogCaptureFixture) -> None:
    shutil.copyfile(sqlite_template, tmp_path / "chorus.db")
    database = GatedDatabase(f"sqlite:///{tmp_path / 'chorus.db'}", sealer=None)
    caplog.set_level(logging.INFO)
    app = _app(database)
    _start_and_stop(app)  # the gate is shut: the process has not started on its database
    assert _said(caplog, logging.ERROR) == [], "waiting for the database is no voice problem"
    [said] = _said(caplog, logging.INFO)
    assert "once it answers" in said.getMessage() and said.exc_info is None
    database.started = True  # the start-up is done: the loops are woken, and the voice notes looked for

    async def started() -> None:
        async with voice_app.voice_lifespan(app):
            await wake_the_loops(app.state, alone=True)

    caplog.clear()
    asyncio.run(started())
    assert [r for r in caplog.records if r.levelno >= logging.WARNING] == []
    database.dispose()


def test_a_database_that_fails_otherwise_is_an_error_with_its_traceback(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    database = GatedDatabase(f"sqlite:///{tmp_path / 'never-migrated.db'}")
    database.started = True  # started, but the voice notes cannot be looked for: no tables
    _start_and_stop(_app(database))
    [said] = _said(caplog, logging.ERROR)
    assert "could not pick up the voice notes" in said.getMessage() and said.exc_info is not None
    database.dispose()
