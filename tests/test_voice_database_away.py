"""A voice note whose handling the database cut short (a connection dropped, a server
restarting) is taken again once the database answers, not failed. It used to be marked
``transcription_failed``, its sender told "sorry, we couldn't use your voice note" and the
coordinator flagged, though nothing was wrong with the note. On SQLite and PostgreSQL, the
transcriber stubbed as in tests/test_voice_order.py."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import OperationalError

from bot.service import ConversationService
from bot.voice import DATABASE_AWAY, VoicePipeline
from storage.database import Database
from storage.tables import FLAGS
from tests.test_voice_order import VOICE, Send, answers, at_story, pipeline, sent, status_of
from tests.test_voice_order import send as send  # noqa: F401 (the fixture: a webhook's message on WhatsApp)

STORY = "We waited six hours with no news"


def _fails(service: ConversationService, monkeypatch: pytest.MonkeyPatch, times: int) -> list[int]:
    """The service's ``receive_transcript`` fails ``times`` times as a dropped connection does."""
    real = service.receive_transcript
    failed: list[int] = []

    def flaky(*args: Any, **kwargs: Any) -> Any:
        if len(failed) < times:
            failed.append(1)
            raise OperationalError("UPDATE inbound SET text = %(text)s", {"text": STORY}, Exception("server closed the connection unexpectedly"))
        return real(*args, **kwargs)

    monkeypatch.setattr(service, "receive_transcript", flaky)
    return failed


def _process(voice: VoicePipeline, inbound_id: int) -> str:
    async def go() -> str:
        try:
            return (await voice.process(inbound_id)).status
        finally:
            await voice.close()
    return asyncio.run(go())


def test_a_note_the_database_cut_short_is_heard_once_it_answers(
    service: ConversationService, database: Database, send: Send, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    at_story(send)
    note = send("", VOICE)
    assert note.inbound_id is not None
    failed = _fails(service, monkeypatch, 2)
    voice = pipeline(service, {note.inbound_id: STORY}, tmp_path)
    voice.database_retry = 0.01
    assert _process(voice, note.inbound_id) == "processed" and len(failed) == 2
    assert answers(database)["story"] == (STORY, "voice")
    assert status_of(database, note.inbound_id) == "processed"
    assert not any(kind.startswith("voice") and "couldn" in text.lower() for kind, text in sent(database)), sent(database)
    with database.transaction() as connection:
        assert connection.execute(select(FLAGS.c.kind).where(FLAGS.c.kind == "voice_failed")).all() == []
    assert STORY not in caplog.text and "the database failed" in caplog.text, "logged, without what was said"


def test_a_database_still_away_leaves_the_note_to_be_recovered(
    service: ConversationService, database: Database, send: Send, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
) -> None:
    at_story(send)
    note = send("", VOICE)
    assert note.inbound_id is not None
    _fails(service, monkeypatch, 10_000)
    voice = pipeline(service, {note.inbound_id: STORY}, tmp_path)
    voice.database_retry, voice.database_patience = 0.01, 0.05  # (the claim's lease, 10 minutes, in the app)
    assert _process(voice, note.inbound_id) == DATABASE_AWAY
    assert status_of(database, note.inbound_id) == "awaiting_transcript", "handed back, for recover() to take"
    assert "story" not in answers(database)
