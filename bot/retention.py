"""Each study's retention, enforced by the scheduler's tick (bot/scheduler.py).

``retention`` in study.yaml (flows/model.py): ``messages: 90d`` blanks inbox and outbox
texts older than that (the answers stay), takes what the participant wrote out of the alerts
that quote it (:data:`QUOTES`: the alert itself stays) and deletes the images (Delphi charts)
only such messages showed, ``audio: 30d`` deletes kept voice notes older than
that, ``participants: 52w`` erases everyone whose last
message is older than that, as a request would (bot/erasure.py), unless another study
still holds them. Only counts are logged.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import Connection

from bot.concerns import NOT_SENT_AGAIN
from bot.erasure import audio_dir, remove_audio
from bot.service import ConversationService
from bot.sprint_writes import AFTER_END
from bot.studies import StudyRegistry
from storage import privacy

log = logging.getLogger("chorus.retention")

QUOTES = {"safeguarding": 'they wrote: "', AFTER_END: 'written after the conversation ended: "'}
"""The alerts that quote a message of the participant's (bot/concerns.py ``flag_text``,
bot/sprint_writes.py ``after_end_alert``), by kind, and the words that open the quote. Other
kinds quote none of their words (voice_failed and voice_skipped name the note and the error,
max_tries the step), or quote what is kept as an answer whatever the retention: a
``moderation`` alert quotes the statement or idea held in ``submissions`` for the moderator."""


def enforce(service: ConversationService, studies: StudyRegistry, now: datetime, batch: int = 500) -> dict[str, int]:
    """One round for every study: returns how many messages were blanked (alerts whose quote
    was taken out count as messages), images and audio files deleted and participants erased."""
    done = {"messages": 0, "media": 0, "audio": 0, "participants": 0}
    database = service.database
    for study_id in studies.ids():
        study = studies.get(study_id).study
        period = study.retention_of("messages")
        if period is not None:
            with database.transaction() as connection:
                done["messages"] += privacy.redact_messages_before(connection, None, study_id, now - period)
                done["messages"] += _unquote_alerts(connection, study_id, now - period, removed_after(period))
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


def _unquote_alerts(connection: Connection, study_id: str, before: datetime, marker: str) -> int:
    """Take the participant's words out of the study's alerts raised before ``before``: the
    alert stays (its kind, step, time and whether it was acknowledged, the coordinator's record
    that it happened), its quote becomes ``marker``, so the words outlive their messages no longer."""
    found = privacy.flags_quoting_before(connection, study_id, before, QUOTES)
    changed = {flag_id: new for flag_id, kind, message in found if (new := without_quote(kind, message, marker)) != message}
    return privacy.set_flag_messages(connection, changed)


def without_quote(kind: str, message: str, marker: str) -> str:
    """An alert's message with everything from its quote's opening quotation mark on (the quote
    and the note on what it held) replaced by ``marker``; a safeguarding alert keeps its note
    that the signposting was not sent again. A message without the quote is returned as it is."""
    opener = QUOTES.get(kind)
    start = message.find(opener) if opener else -1
    if opener is None or start < 0:
        return message
    kept = f"; {NOT_SENT_AGAIN}" if kind == "safeguarding" and message.endswith(f"; {NOT_SENT_AGAIN}") else ""
    return message[:start] + opener.rstrip('"') + marker + kept


def removed_after(period: timedelta) -> str:
    """What stands where a quote was: '[removed after 90 days: retention]'."""
    unit, size = next((unit, size) for unit, size in (("day", timedelta(days=1)), ("hour", timedelta(hours=1)),
                                                      ("minute", timedelta(minutes=1)), ("second", timedelta(seconds=1)))
                      if not period % size or unit == "second")
    count = period // size
    return f"[removed after {count} {unit}{'' if count == 1 else 's'}: retention]"


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

