"""Erasing a participant: the rows (storage/privacy.py), their audio files, and an audit
record that says who asked, when, the pseudonymous id and how much was removed, and
nothing personal. Used by the conversation service (DELETE MY DATA, then YES), by
``chorus erase`` and ``POST /api/participants/{id}/erase``, and by retention.

On the participant's own request, and by ``chorus erase``, the participant Chorus knows at the
same phone number on the other channel (SMS and WhatsApp) is erased too; after the request
one confirmation goes to the address it came from, kept encrypted in ``farewells`` (which
names no one) only until it is sent (bot/service.py ``_erase_on_request``, storage/outbox.py)."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path

from sqlalchemy import Connection

from storage import privacy, repository
from storage.database import Database

log = logging.getLogger("chorus.erasure")


def audio_dir() -> Path:
    """Where voice notes are spooled and kept (``CHORUS_VOICE_AUDIO_DIR``, as in bot/voice.py)."""
    return Path(os.environ.get("CHORUS_VOICE_AUDIO_DIR", "").strip() or "var/audio")


def remove_audio(paths: Iterable[str], inbound_ids: Iterable[int], folder: Path) -> int:
    """Delete the named audio files and any spooled or kept file of these voice notes
    (bot/voice.py names them by inbound id). Returns how many files went."""
    found = {Path(p) for p in paths}
    for inbound_id in inbound_ids:
        for pattern in ("spool/{}.*", "kept/{}.*", "kept/*/{}.*"):  # (kept notes are in a folder per study)
            found.update(folder.glob(pattern.format(inbound_id)))
    removed = 0
    for path in found:
        try:
            path.unlink()
            removed += 1
        except FileNotFoundError:
            pass
    return removed


def erase_within(connection: Connection, participant_id: str, actor: str, reason: str, now: datetime,
                 folder: Path | None = None) -> privacy.Erased:
    """Erase in the caller's transaction (which holds the participant's lock) and audit it."""
    erased = privacy.erase_participant(connection, participant_id)
    files = remove_audio(erased.audio_paths, erased.inbound_ids, folder or audio_dir())
    removed = {table: count for table, count in erased.counts.items() if count}
    repository.audit(connection, actor, "erased", now, participant_id, reason=reason, removed=removed, audio_files=files)
    log.info("participant %s erased by %s (%s): %s, %d audio file(s)", participant_id, actor, reason, removed, files)
    return erased


def audio_of_erased_note(database: Database, inbound_id: int, folder: Path) -> int | None:
    """For a voice note whose sender was erased while it was fetched or transcribed (its row is
    gone): delete any file of it written since the erasure (a study's kept copy), and say how many
    went. None while the note is still there."""
    with database.read_transaction() as connection:
        if repository.inbound_participant(connection, inbound_id) is not None:
            return None
    return remove_audio([], [inbound_id], folder)
