"""Each study's retention, enforced by the scheduler's tick (bot/scheduler.py).

``retention`` in study.yaml (flows/model.py): ``messages: 90d`` blanks inbox and outbox
texts older than that (the answers stay), ``audio: 30d`` deletes kept voice notes older than
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
    """One round for every study: returns how many messages were blanked, audio files
    deleted and participants erased."""
    done = {"messages": 0, "audio": 0, "participants": 0}
    database = service.database
    for study_id in studies.ids():
        study = studies.get(study_id).study
        period = study.retention_of("messages")
        if period is not None:
            with database.transaction() as connection:
                done["messages"] += privacy.redact_messages_before(connection, None, study_id, now - period)
        period = study.retention_of("audio")
        if period is not None:
            with database.transaction() as connection:
                old = privacy.audio_before(connection, study_id, now - period)
                privacy.forget_audio(connection, [row_id for row_id, _ in old])
            done["audio"] += remove_audio([path for _, path in old], [], audio_dir())
        period = study.retention_of("participants")
        if period is not None:
            while True:
                with database.transaction() as connection:
                    due = privacy.idle_participants(connection, study_id, now - period, batch)
                for pid in due:
                    if service.erase(pid, "retention", f"retention of {study_id}") is not None:
                        done["participants"] += 1
                if len(due) < batch:
                    break
    if done["messages"]:
        database.checkpoint()
    if any(done.values()):
        log.info("retention: %s", done)
    return done

