"""Writing what one sprint of the engine produced: answers, fields, session state, outbox rows,
flags and due tasks, in the caller's transaction (part of
:class:`bot.service.ConversationService`)."""

from __future__ import annotations

import logging
import re
import threading
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection

from bot import metrics
from bot.population import (
    delphi_chart,
    details_note,
    personal_details,
    shown_text,
    store_submissions,
)
from bot.same_number import stop_same_number
from flows.engine import (
    Engine,
    SessionState,
    Sprint,
    TextInput,
)
from flows.engine_opt_out import STOP_ASKED
from flows.events import (
    AnswersWithdrawn,
    LanguageChanged,
    OptedIn,
    OptedOut,
    RaiseFlag,
    RecordAnswer,
    RecordComment,
    ScheduleTask,
    SendMessage,
    SessionEnded,
    SetField,
    WaitForInput,
)
from flows.population import SUBMISSION_ITEM
from flows.session_state import LIVE, position
from flows.steps.consent import NOT_CONSENTED
from flows.words import BUILT_IN_WORDS, ERASE_KINDS, POLITE, listed, normalised_word
from storage import batching, due_tasks, media, outbox, repository
from storage.database import Database
from storage.repository import ContactRef, EnrolmentRef, ParticipantRef, SessionRef

if TYPE_CHECKING:
    from bot.studies import StudyRegistry

log = logging.getLogger("chorus.service")
IMAGE_CHANNELS = frozenset({"telegram", "whatsapp"})
"""Channels that show an image with the text; elsewhere (SMS, the simulator) the text stands alone."""
AFTER_END = "after_end"
"""The desk alert for words written to a conversation that had ended (low priority: no risk seen in them)."""
PLEASANTRIES = POLITE | {
    "bye", "goodbye", "cheers", "ta", "great", "good", "cool", "fine", "lovely", "brilliant", "welcome", "very", "much",
    "many", "a", "lot", "x", "xx", "xxx", "yes", "yep", "yeah", "ty", "thankyou", "tnx", "hwyl", "iawn", "da", "yn", "fawr",
}
"""Words that say nothing for the team to read after the end: 'Thanks!', 'ok bye', 'Diolch yn fawr'."""


@dataclass
class Target:
    """Where one sprint's events are written."""

    participant_id: str
    contact: ContactRef
    enrolment: EnrolmentRef
    session: SessionRef
    version: str
    inbound_id: int | None = None
    participant: ParticipantRef | None = None


@dataclass
class Writes:
    answers: list[dict[str, Any]] = field(default_factory=list)
    comments: list[dict[str, Any]] = field(default_factory=list)
    flags: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[dict[str, Any]] = field(default_factory=list)
    sends: list[SendMessage] = field(default_factory=list)
    profile_changed: bool = False



class SprintWrites:
    """The service's writing of a sprint (a mixin of :class:`bot.service.ConversationService`)."""

    database: Database
    _key: bytes
    _uncommitted: threading.local

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py)
        studies: StudyRegistry

        def _held_writes(self) -> batching.Deferred | None: ...

        def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]: ...

        def _population(self, connection: Connection, study_id: str, participant_id: str) -> object: ...

    def _apply(self, connection: Connection, target: Target, sprint: Sprint, now: datetime) -> list[int]:
        """Write everything one sprint produced; the caller's transaction makes it all-or-nothing."""
        writes, opted_out = Writes(), target.enrolment.opted_out
        if opted_out and sprint.command == "start" and not any(isinstance(e, OptedOut | OptedIn) for e in sprint.events):
            # stopped from elsewhere (the same number's STOP on the other channel, or the provider's
            # opt-out): the conversation was never 'stopped', so the engine only asks again
            opted_out = target.enrolment.opted_out = False
            self._set_opted_out(connection, target.participant_id, False, now)
        for event in sprint.events:
            if isinstance(event, OptedOut | OptedIn):
                opted_out = target.enrolment.opted_out = isinstance(event, OptedOut)
                self._set_opted_out(connection, target.participant_id, opted_out, now, event.reason if isinstance(event, OptedOut) else "")
            elif isinstance(event, SetField | LanguageChanged):
                self._change_profile(connection, target, event)
                writes.profile_changed = True
            elif isinstance(event, AnswersWithdrawn):
                repository.withdraw_answers(connection, target.session.id, event.step_ids, now, event.items,
                                            event.from_position, event.own_answer)
            else:
                collect_event(target, event, now, writes)
        voiced = {a["step_id"] for a in writes.answers if a["source"] == "voice" and not a["skipped"]}
        # in a quick batch a message's answers, session and replies are written with the batch's
        held = self._held_writes() if not voiced else None
        if held is None or target.inbound_id is None:
            held = None
            repository.add_answers(connection, writes.answers)
        store_submissions(connection, sprint.events, target.participant_id, target.session.study_id, target.session.flow_id, now)
        if voiced:
            repository.link_voice_answers(connection, target.participant_id, target.session.id, voiced)
        repository.add_comments(connection, writes.comments)
        said = {c["step_id"] for c in writes.comments if c["source"] == "voice"}
        if said:
            repository.link_voice_comments(connection, target.participant_id, target.session.id, said)
        repository.add_flags(connection, writes.flags)
        self._count_flags(writes.flags)
        due_tasks.cancel_replaced_snoozes(connection, writes.tasks, now)
        repository.add_due_tasks(connection, writes.tasks)
        if writes.profile_changed and target.participant is not None and held is not None:
            held.hold_profile(target.participant, target.enrolment)
        elif writes.profile_changed and target.participant is not None:
            repository.save_participant(connection, target.participant)
            repository.save_enrolment(connection, target.enrolment)
        was_live = target.session.status in LIVE
        target.session.state = sprint.state.model_dump(mode="json")
        target.session.status = stored_status(sprint.state)
        if held is None:
            repository.save_session(connection, target.session, now)
        if was_live and target.session.status not in LIVE:  # what waited for this conversation looks again now
            if held is not None:
                held.ended.add(target.participant_id)
            else:
                due_tasks.release_held(connection, [target.participant_id], now)
        sends = [m for m in writes.sends if m.kind == "stopped" or m.kind in ERASE_KINDS] if opted_out else writes.sends
        rows = [outbound_row(target, message, now) for message in sends]
        if target.contact.channel in IMAGE_CHANNELS:
            for row, message in zip(rows, sends, strict=True):
                if message.attachment is not None:
                    row["media_id"] = self._attach(connection, target, message, now)
        if held is not None and target.inbound_id is not None:
            held.hold(target.inbound_id, writes.answers, target.session, rows)
            return []  # the batch reports their ids once it has written them
        return outbox.queue(connection, rows)

    def _count_flags(self, flags: list[dict[str, Any]]) -> None:
        uncounted: list[dict[str, Any]] | None = getattr(self._uncommitted, "flags", None)
        if uncounted is None:
            metrics.count_flags(flags)
        else:  # a batch counts them once it commits (the quick way may be rolled back and redone)
            uncounted.extend(flags)

    def _attach(self, connection: Connection, target: Target, message: SendMessage, now: datetime) -> int | None:
        """Draw the image a message names and store it; None (the text goes alone) if it cannot be drawn."""
        attachment = message.attachment or {}
        study_id = target.session.study_id
        try:
            engine, _ = self._engine(connection, target.session.flow_version_id, study_id)
            step = engine.flow.step(message.step_id) if message.step_id else None
            rule = getattr(step, "rule", None)
            if rule is None:
                return None
            language = str(attachment.get("language") or target.enrolment.language or engine.words.default_language)
            population = self._population(connection, study_id, target.participant_id)
            png = delphi_chart(population, attachment, rule(), lambda key: engine.words.text(key, language))  # type: ignore[arg-type]
        except Exception:  # a chart is a nicety: never let it stop the conversation
            log.exception("could not draw the %s for %s", attachment.get("kind"), target.participant_id)
            return None
        return None if png is None else media.store(connection, png, "image/png", now, study_id)

    def _change_profile(self, connection: Connection, target: Target, event: SetField | LanguageChanged) -> None:
        if target.participant is None:
            target.participant = repository.load_participant(connection, target.participant_id)
        if isinstance(event, LanguageChanged):
            target.participant.language = target.enrolment.language = event.language
            return
        target.participant.fields[event.name] = event.value
        if event.name == "group":
            target.enrolment.group = None if event.value is None else str(event.value)

    def _set_opted_out(self, connection: Connection, participant_id: str, opted_out: bool, now: datetime, reason: str = "") -> None:
        """Opted out or back in, audited (with the ``reason`` an opt-out gave other than STOP:
        'wrong number')."""
        repository.set_opted_out(connection, participant_id, opted_out, now)
        if opted_out:
            outbox.hold_queued(connection, participant_id)
        else:  # (imported here: planning imports the service)
            from bot.opt_in_resume import resume_after_opt_in
            resume_after_opt_in(connection, self.studies, participant_id, now)
        detail = {"reason": reason} if reason else {}
        repository.audit(connection, "participant", "opted_out" if opted_out else "opted_in", now, participant_id, **detail)
        log.info("participant %s %s", participant_id, "opted out" if opted_out else "opted back in")
        if opted_out:
            self._stop_same_number(connection, participant_id, now, reason)

    def _stop_same_number(self, connection: Connection, participant_id: str, now: datetime, reason: str = "") -> None:
        """STOP by SMS stops WhatsApp to the same number too, and the other way round
        (bot/same_number.py). START applies only to the channel it is sent on."""
        stop_same_number(connection, self.database.sealer, self._key, participant_id, now, "participant", reason or "STOP")


def collect_event(target: Target, event: object, now: datetime, writes: Writes) -> None:
    """Turn one event into the row it writes (answers, flags, due tasks) or a message to send."""
    session, pid = target.session, target.participant_id
    where = {"participant_id": pid, "study_id": session.study_id, "flow_id": session.flow_id}
    if isinstance(event, SendMessage):
        writes.sends.append(event)
    elif isinstance(event, RecordAnswer):
        writes.answers.append({
            **where, "flow_version_id": session.flow_version_id, "flow_version": target.version, "session_id": session.id,
            "step_id": event.step_id, "raw": event.raw, "value": event.value, "display": event.display,
            "source": event.source, "skipped": event.skipped, "inbound_id": target.inbound_id, "answered_at": now, "item": event.item,
            "path_position": event.path_position, "language": event.language or target.enrolment.language,
        })
    elif isinstance(event, RecordComment):
        writes.comments.append({
            **where, "flow_version": target.version, "session_id": session.id, "step_id": event.step_id, "item": event.item,
            "text": event.text, "source": event.source, "inbound_id": target.inbound_id, "created_at": now,
        })
    elif isinstance(event, RaiseFlag):
        writes.flags.append({**where, "kind": event.kind, "message": event.message, "step_id": event.step_id,
                             "acknowledged": False, "created_at": now})
    elif isinstance(event, ScheduleTask):
        writes.tasks.append({**where, "kind": event.kind, "session_id": session.id, "payload": event.payload,
                             "due_at": event.at, "attempts": 0, "done": False, "created_at": now})


def plain_event(event: object) -> bool:
    """An event the batch start writes in bulk: a message (without an image to draw), an answer
    (not a submission), a flag, a task, or one that writes nothing (waiting, ended)."""
    if isinstance(event, SendMessage):
        return event.attachment is None
    if isinstance(event, RecordAnswer):
        return event.item != SUBMISSION_ITEM and event.source != "voice"
    return isinstance(event, RaiseFlag | ScheduleTask | WaitForInput | SessionEnded)


def store_transcript(connection: Connection, participant_id: str, inbound_id: int, record: dict[str, Any], now: datetime) -> None:
    """A transcript row, placed at the question being asked when the voice note came in."""
    session = repository.latest_session(connection, participant_id)
    live = session is not None and session.status in LIVE
    place = {"study_id": session.study_id, "session_id": session.id, "step_id": session.state.get("step") if live else None} if session else {}
    repository.add_transcript(connection, {**record, **place, "inbound_id": inbound_id, "participant_id": participant_id, "created_at": now})


def outbound_row(target: Target, message: SendMessage, now: datetime) -> dict[str, object]:
    return {
        "participant_id": target.participant_id, "contact_id": target.contact.contact_id, "channel": target.contact.channel,
        "study_id": target.session.study_id, "session_id": target.session.id, "text": message.text,
        "buttons": [{"label": b.label, "value": b.value, "at": b.at} if b.at else {"label": b.label, "value": b.value}
                    for b in message.buttons], "multiple": message.multiple,
        "kind": message.kind, "step_id": message.step_id, "created_at": now,
    }


def stored_status(state: SessionState) -> str:
    """The session's status as the desk counts it: a conversation that had ended stays ended
    when STOP comes after it (the opt-out is kept on the enrolment; the state keeps
    ``stopped``, so START still opts back in). Only a STOP before the end stops a conversation."""
    return "ended" if state.status == "stopped" and state.before_stop == "ended" else state.status


def after_the_end(engine: Engine, before: SessionState, sprint: Sprint, given: TextInput, command: str | None) -> Sprint:
    """Words written to a conversation that had already ended, which the engine answers only
    with 'that's all for now': a correction, the rest of a split answer (unless the engine
    added it to the free-text answer given just before the end). The coordinator sees
    them as a low-priority ``after_end`` alert (masked, as moderation alerts are), unless
    they are only thanks or OK; someone who ended at consent without a YES (declined, or no
    clear answer) is told instead how to begin again, and nothing of theirs is shown. Not
    for global words (``command``), a language, a join keyword or a tapped button, which the
    engine answers itself."""
    if before.status != "ended" or sprint.state.status != "ended" or command is not None or given.button is not None:
        return sprint
    if before.erase_pending or any(isinstance(e, LanguageChanged) for e in sprint.events) or engine.words.is_join_keyword(given.text):
        return sprint
    if before.fields.get(STOP_ASKED) == position(before):
        return sprint  # the answer to 'Do you want us to stop messaging you?', not words for the coordinator
    if any(isinstance(e, RecordAnswer) for e in sprint.events):
        return sprint  # (the rest of the last free-text answer, sent in a second text: added to it)
    if before.outcome in NOT_CONSENTED:
        again = _begin_again(engine, sprint.state.language)
        return replace(sprint, events=[replace(e, text=again) if isinstance(e, SendMessage) and e.kind == "info" else e
                                       for e in sprint.events])
    said = set(re.findall(r"[^\W_]+", normalised_word(given.text).replace("'", "")))
    if not said or said <= PLEASANTRIES or any(isinstance(e, RaiseFlag) and e.kind == "safeguarding" for e in sprint.events):
        return sprint
    return replace(sprint, events=[*sprint.events, RaiseFlag(AFTER_END, after_end_alert(given.text))])


def after_end_alert(text: str) -> str:
    """The alert's words: what they wrote, masked as the desk masks every alert, with a note
    when it held personal details (as a moderation alert has)."""
    shown = " ".join(shown_text(text).split())
    shown = shown if len(shown) <= 300 else shown[:299] + "…"
    note = details_note(personal_details(text))
    return f'written after the conversation ended: "{shown}"' + (f" ({note}, masked here)" if note else "")


def _begin_again(engine: Engine, language: str) -> str:
    """'... reply START or WAIT.': START in the participant's language, and the study's join keyword."""
    start = BUILT_IN_WORDS["start"].get(language, BUILT_IN_WORDS["start"]["en"])[0].upper()
    keyword = engine.study.join.keyword if engine.study is not None else None
    words = listed([start, keyword.upper()] if keyword else [start], engine.words.text("or", language))
    return engine.words.text("ended_not_consented", language).replace("{start}", words)
