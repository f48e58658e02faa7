"""Each study's retention, enforced by the scheduler's tick (bot/scheduler.py).

``retention`` in study.yaml (flows/model.py): ``messages: 90d`` blanks inbox and outbox
texts older than that (the answers stay) and deletes the images (Delphi charts) only such
messages showed, ``audio: 30d`` deletes kept voice notes older than
that, ``participants: 52w`` erases everyone whose last
message is older than that, as a request would (bot/erasure.py), unless another study
still holds them. Only counts are logged.
"""

from __future__ import annotations

import logging
from datetime import datetime

from bot.erasure import audio_dir, remove_audio
from bot.service import ConversationService
from bot.studies import StudyRegistry
from storage import privacy

log = logging.getLogger("chorus.retention")


def enforce(service: ConversationService, studies: StudyRegistry, now: datetime, batch: int = 500) -> dict[str, int]:
    """One round for every study: returns how many messages were blanked, images and audio
    files deleted and participants erased."""
    done = {"messages": 0, "media": 0, "audio": 0, "participants": 0}
    database = service.database
    for study_id in studies.ids():
        study = studies.get(study_id).study
        period = study.retention_of("messages")
        if period is not None:
            with database.transaction() as connection:
                done["messages"] += privacy.redact_messages_before(connection, None, study_id, now - period)
                done["media"] += privacy.forget_media_before(connection, study_id, now - period)
        period = study.retention_of("audio")
        if period is not None:
            with database.transaction() as connection:
                old = privacy.audio_before(connection, study_id, now - period)
                privacy.forget_audio(connection, [row_id for row_id, _ in old])
            done["audio"] += remove_audio([path for _, path in old], [], audio_dir())
        period = study.retention_of("participants")
        if period is not None:
            after = ""
            while True:
                with database.transaction() as connection:
                    found = privacy.idle_participants(connection, study_id, now - period, after, batch)
                    due = _past_every_retention(privacy.activity(connection, found), studies, now)
                for pid in due:
                    if service.erase(pid, "retention", f"retention of {study_id}") is not None:
                        done["participants"] += 1
                if len(found) < batch:
                    break
                after = found[-1]
    if done["messages"]:
        database.checkpoint()
    if any(done.values()):
        log.info("retention: %s", done)
    return done


def _past_every_retention(
    activity: dict[str, tuple[datetime | None, dict[str, datetime]]], studies: StudyRegistry, now: datetime
) -> list[str]:
    """Those idle past the participants retention of every study they are in: a study with
    no such limit (or not loaded here) keeps them."""
    due = []
    for pid, (last, enrolled) in activity.items():
        keep = False
        for study_id, joined in enrolled.items():
            period = studies.get(study_id).study.retention_of("participants") if study_id in studies else None
            latest = max(joined, last) if last is not None else joined
            if period is None or latest >= now - period:
                keep = True
                break
        if not keep:
            due.append(pid)
    return due

