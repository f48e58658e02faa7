"""Safeguarding inside conversations: when what a participant wrote suggests risk, the
signposting text goes to them at once and a flag to the coordinators' dashboard.

The checks themselves are in bot/safeguarding.py: patterns at once, within the message's
transaction when it is an answer in a conversation (so the signposting goes before the next
question), otherwise after its commit; the embedding model in a background thread, batched,
for what the patterns did not catch. :class:`Concerns` is part of :class:`bot.service.ConversationService`; what it uses
of the rest of the service is declared below for the type checker.

A reply naming only options the question offers ("Can't decide", "feet, eyes and diet", "y
cyntaf, yr ail, y trydydd") is an answer, not words of the participant's own, and is not checked
(:func:`names_options`); the model never reads a reply with no words of its own besides picks
(:func:`no_words_of_its_own`). Every concern raises a flag, which quotes what was written, masked
as every alert is (:func:`flag_text`), at the step it came in; but the signposting goes to a
participant at most once in :data:`SIGNPOSTING_INTERVAL`: a second crisis text a minute after
the first tells them nothing new and makes a false alarm worse.
"""

from __future__ import annotations

import importlib
import logging
import re
import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from bot.population import details_note, personal_details, shown_text
from bot.safeguarding import (
    BackgroundChecks,
    Concern,
    SafetyChecks,
    concerns_about,
    own_words,
    worth_checking,
)
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import Event, RaiseFlag, ScheduleTask, SendMessage
from flows.model import Study, resolve_text
from flows.parsing import match_option, normalise, only_little_words, only_politeness
from flows.words import Words
from storage import outbox, privacy, repository
from storage.database import Database
from storage.repository import ContactRef
from storage.tables import ANSWERS, OUTBOUND

if TYPE_CHECKING:
    from bot.studies import StudyRegistry

log = logging.getLogger("chorus.service")

SIGNPOSTING_INTERVAL = timedelta(hours=1)
"""The signposting goes to a participant at most once in this time; each concern still raises a flag."""
NOT_SENT_AGAIN = "not sent the signposting again: it was sent within the hour"
QUOTED_CHARS = 300
"""A safeguarding alert quotes at most this much of what was written (an after_end alert as much)."""
_LIST_BREAK = re.compile(r"\s*(?:[,;/\n>]|\bthen\b)\s*", re.IGNORECASE)
"""What separates a list's parts, 'then' as the ranking step reads it ('first then third')."""
_JOIN = re.compile(r"\s*(?:&|\+|\b(?:and|or|plus|a['\u2019]r|a|ac|neu)\b)\s*", re.IGNORECASE)
"""Words joining a list's last items: English and Welsh ("a'r", 'ac', 'neu'), as the study languages may be."""
_BY_PLACE: tuple[tuple[str, ...], ...] = ((),) * 10
"""Options without words: what the parser reads against them is a pick by place only (a number,
a letter, an ordinal in English or Welsh), whatever the question's options are called. Ten, as
the ordinals go ('tenth', 'degfed'): '20' or '999' is no pick."""
_WORD = re.compile(r"\w+(?:'\w+)*")
_ARTICLE = re.compile(r"both|my|the|our|his|her|their|fy|y|yr", re.IGNORECASE)
"""Words that lead into a listed item ('my feet', 'y cyntaf') and name nothing themselves."""
_LEADING = re.compile(rf"^(?:(?:{_ARTICLE.pattern})\s+)+", re.IGNORECASE)


class Concerns:
    database: Database
    studies: StudyRegistry
    clock: Callable[[], datetime]
    safety: SafetyChecks
    _background: BackgroundChecks | None
    _background_lock: threading.Lock
    _words: Words
    _checked_inline: dict[int, bool]
    """Messages dealt with within their transaction: True when nothing more is needed (the patterns
    saw risk and it was signposted, or the message was an option the question offered), False when
    the patterns saw no risk (the model may still look, after an incident flagged too)."""

    @cached_property
    def _steps_at(self) -> dict[int, str | None]:
        """The step each message the patterns passed came in at (:meth:`_safeguarded`), until
        :meth:`_safeguard` takes it back for the model's flag: a reply the step could not read
        gave no answer to tell it by. (Made here, on first use: the service does not know of it.)"""
        return {}

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py)
        def _exclusive(self, participant_id: str) -> AbstractContextManager[Connection]: ...

        def _study(self, connection: Connection, study_id: str) -> Study: ...

    def _safeguarded(self, connection: Connection, participant_id: str, sprint: Sprint, given: TextInput, inbound_id: int,
                     study: Study, language: str, opted_out: bool, step_id: str | None, now: datetime) -> Sprint:
        """The sprint of a message in a conversation, with the safeguarding flag (naming
        ``step_id``, the step the session was at when the message came in: the one it answered)
        and the signposting put first when the patterns see risk in what was written: so the
        signposting is committed with, and sent before, the conversation's own reply (the next
        question); unless it was sent within :data:`SIGNPOSTING_INTERVAL`. Remembered
        (``_checked_inline``, taken back by ``_finish`` after the commit, whatever became of the
        message) so that :meth:`_safeguard` does not check again. A reply the engine took as a
        snooze ("remind me monday", "in 2 hours") is not checked at all."""
        if is_snooze(sprint):
            self._checked_inline[inbound_id] = True
            return sprint
        concerns = concerns_about(self.safety.quick, given.text) if given.button is None else []
        risk = any(concern.signposted for concern in concerns)
        self._checked_inline[inbound_id] = risk  # an incident alone: the model still reads it for risk
        if not risk:
            self._remember_step(inbound_id, step_id)
        if not concerns:
            return sprint
        log.warning("safeguarding flag (%s)", ", ".join(concern.category for concern in concerns))
        again = risk and signposted_lately(connection, participant_id, now)
        events: list[Event] = [RaiseFlag("safeguarding", flag_text(concern, inbound_id, given.text, again and concern.signposted),
                                         step_id) for concern in concerns]
        if risk and not opted_out and not again:
            events.append(SendMessage(self._signposting(study, language), None, (), False, "signposting"))
        return Sprint([*events, *sprint.events], sprint.state)

    def _remember_step(self, inbound_id: int, step_id: str | None) -> None:
        steps = self._steps_at
        while len(steps) >= 10_000:  # what a failed message left behind
            steps.pop(next(iter(steps)), None)
        steps[inbound_id] = step_id

    def _signposting(self, study: Study, language: str) -> str:
        own = resolve_text(study.signposting, language, study.default_language) if study.signposting else ""
        return own or self._words.text("signposting", language)

    def _safeguard(self, contact: ContactRef, inbound_id: int, text: str, now: datetime, checked: bool | None = None) -> list[int]:
        """Signposting at once and a flag for the coordinator when a message suggests risk: the
        patterns now (unless ``checked`` says whether they saw any within the message's
        transaction: :meth:`_safeguarded`), the embedding model in the background for what they
        did not catch (a patient-safety incident the patterns flagged included); never on a reply with
        no words of its own (:func:`no_words_of_its_own`)."""
        step_id = self._steps_at.pop(inbound_id, None)
        concerns = concerns_about(self.safety.quick, text) if checked is None else []
        ids = self._raise_concerns(contact, inbound_id, concerns, now, text, step_id) if concerns else []
        if checked or any(concern.signposted for concern in concerns):
            return ids  # a risk flagged and signposted already
        background = self._background_checks()
        if background is not None and worth_checking(text) and not no_words_of_its_own(text):
            background.submit((contact, inbound_id, text, step_id), own_words(text, self._add_words()))
        return ids

    def _add_words(self) -> set[str]:
        """Every study's own words for proposing a statement or an idea (a step's ``add_word``)."""
        found = (getattr(step, "add_word", None) for loaded in self.studies for flow in loaded.flows.values()
                 for step in flow.flow.steps)
        return {str(word) for word in found if word}

    def _background_checks(self) -> BackgroundChecks | None:
        batch = self.safety.thorough_batch
        if batch is None:
            return None
        with self._background_lock:
            if self._background is None:
                self._background = BackgroundChecks(batch, self._raise_background_concern, warm_up=self.safety.warm_up)
            return self._background

    def start_safeguarding(self) -> None:
        """A server has started: warm the background check's model up a moment from now
        (CHORUS_SAFEGUARDING_WARM_UP), in its own thread, so no message waits for it. The
        pattern check's module (numpy with it) is imported in a thread now too: the first
        free-text answer used to import it on the message path (a tenth of a second)."""
        if self.safety.quick is not None:
            threading.Thread(target=importlib.import_module, args=("nlp.safety",), name="chorus-safety-import",
                             daemon=True).start()
        if self.safety.warm_up_after is None:
            return  # (nothing made yet, so a test may still swap self.safety)
        background = self._background_checks()
        if background is not None:
            background.start(self.safety.warm_up_after)

    def stop_safeguarding_warm_up(self) -> None:
        """The server is stopping: do not start loading the model now."""
        if self._background is not None:
            self._background.cancel_warm_up()

    def _raise_background_concern(self, key: tuple[ContactRef, int, str, str | None], concern: Concern) -> None:
        contact, inbound_id, text, step_id = key
        if not concern.signposted:
            return  # an incident: the patterns flagged it on the request path, and it is flagged once
        with self.database.transaction() as connection:
            if not privacy.participant_exists(connection, contact.participant_id):
                return  # erased while the check ran: nothing is left to flag
        self._raise_concerns(contact, inbound_id, [concern], self.clock(), text, step_id)

    def wait_for_safeguarding(self, timeout: float = 60) -> None:
        """Wait until the background check has seen every message (for tests)."""
        if self._background is not None:
            self._background.wait(timeout)

    def _raise_concerns(self, contact: ContactRef, inbound_id: int, concerns: Sequence[Concern], now: datetime, text: str,
                        step_id: str | None = None) -> list[int]:
        """A flag for each concern (at the study, flow and step the message answered, else the latest session's
        study and flow and ``step_id``: the step it came in at) and the signposting, unless it went
        within the hour or the participant opted out. The background check flags a moment later,
        when the participant may be in the next flow: the flag still names where they wrote it, as
        the themes and Delphi reasons hold back answers by it."""
        pid = contact.participant_id
        with self._exclusive(pid) as connection:
            session = repository.latest_session(connection, pid)
            if session is None:
                return []
            study_id, flow_id, step_id = _where_answered(connection, inbound_id) or (session.study_id, session.flow_id, step_id)
            enrolment = next(e for e in repository.enrolments_of(connection, pid) if e.study_id == study_id)
            study = self._study(connection, study_id)
            risk = any(concern.signposted for concern in concerns)
            again = risk and signposted_lately(connection, pid, now)
            repository.add_flags(connection, [{
                "participant_id": pid, "study_id": study_id, "flow_id": flow_id,
                "kind": "safeguarding", "message": flag_text(concern, inbound_id, text, again and concern.signposted),
                "step_id": step_id, "acknowledged": False, "created_at": now,
            } for concern in concerns])
            log.warning("safeguarding flag for participant %s (%s)", pid, ", ".join(concern.category for concern in concerns))
            if enrolment.opted_out or again or not risk:  # an incident told: for the coordinator only
                return []
            language = enrolment.language or study.default_language
            row = {"participant_id": pid, "contact_id": contact.contact_id, "channel": contact.channel,
                   "study_id": study_id, "session_id": session.id, "step_id": None,
                   "text": self._signposting(study, language),
                   "buttons": [], "multiple": False, "kind": "signposting", "created_at": now}
            return list(outbox.queue(connection, [row]))


def _where_answered(connection: Connection, inbound_id: int) -> tuple[str, str, str] | None:
    """The study, flow and step a message answered (its first answer's), checked after its
    commit; None when it gave no answer (a message outside a conversation, or one the step could
    not read)."""
    a = ANSWERS.c
    query = select(a.study_id, a.flow_id, a.step_id).where(a.inbound_id == inbound_id).order_by(a.id).limit(1)
    row = connection.execute(query).first()
    return (str(row.study_id), str(row.flow_id), str(row.step_id)) if row is not None else None


def flag_text(concern: Concern, inbound_id: int, text: str, signposted_before: bool = False) -> str:
    """A safeguarding alert's words: the concern, and what the participant wrote, masked as
    every alert is (names, phone numbers and the like: :func:`bot.population.shown_text`, with a
    note when it held any, as an after_end alert has); no desk page lists the inbound message,
    so without the quote the coordinator could not read what raised the alert. Never logged."""
    shown = " ".join(shown_text(text).split())
    shown = shown if len(shown) <= QUOTED_CHARS else shown[: QUOTED_CHARS - 1] + "…"
    note = details_note(personal_details(text))
    named = "patient-safety incident" if not concern.signposted else concern.category.replace("_", " ")
    said = (f"possible {named} (inbound {inbound_id}): {concern.reason}; "
            f'they wrote: "{shown}"' + (f" ({note}, masked here)" if note else ""))
    return f"{said}; {NOT_SENT_AGAIN}" if signposted_before else said


def signposted_lately(connection: Connection, participant_id: str, now: datetime) -> bool:
    """Whether the signposting was queued for the participant within :data:`SIGNPOSTING_INTERVAL`
    (and has not failed: a text that never arrived is sent again). A quick batch writes a
    participant's replies before reading their next message, so this sees its own too."""
    o = OUTBOUND.c
    query = (select(o.id).where(o.participant_id == participant_id, o.kind == "signposting",
                                o.created_at >= now - SIGNPOSTING_INTERVAL, o.status.not_in(("failed", "cancelled")))
             .limit(1))
    return connection.execute(query).first() is not None


def names_options(engine: Engine, state: SessionState, text: str, now: datetime, population: Any = None) -> bool:
    """Whether a reply names only options the question being asked offers: one ("Can't
    decide", "Carer or family"), a list of them ("feet, eyes and diet", "Parking / Food",
    "my feet and my eyes"), or picks the parser reads by place, in either language ("y cyntaf,
    yr ail, y trydydd", "yr ail un a'r olaf", "2 and Parking": :func:`picks_by_place`). Such a
    reply answers the question in the question's own words; read as free text, a list of
    topics or ordinals sits near whichever risky message shares a word (a reply of three
    options, and one of three Welsh ordinals, once had a participant sent the crisis signposting)."""
    if engine.offered(state, text, now, population) or picks_by_place(text):
        return True

    def named(item: str) -> bool:
        return engine.offered(state, _bare(item), now, population) or picks_by_place(item)

    count = 0
    for part in (p for p in _LIST_BREAK.split(text.strip()) if p.strip(" .!?")):
        items = [part] if named(part) else _JOIN.split(part)
        items = [item for item in items if item.strip(" .!?")]
        if not items or not all(named(item) for item in items):
            return False
        count += len(items)
    return count > 1


def picks_by_place(text: str) -> bool:
    """Whether the flow parser reads a reply wholly as picks by place: numbers, letters and
    ordinals in English or Welsh, joined by commas, 'and', "a'r", 'then' ("1 3 2", "A and C",
    "the second one", "y cyntaf, yr ail, y trydydd", "yr ail un a'r olaf", "first then third").
    Each part is read as one pick (:func:`_one_pick`), never as letters run together: the
    parser reads 'dead' as the options D, E and A of a five-option ranking."""
    parts = [p for p in _LIST_BREAK.split(text.strip()) if p.strip(" .!?")]
    picks = [p for p in parts if not only_politeness(p)]
    return bool(picks) and all(_one_pick(p) or _picks_joined(p) for p in picks)


def _picks_joined(part: str) -> bool:
    """'first and third', "yr ail un a'r olaf", "I'd go for 2 and 3", '1 2', 'A & C': picks,
    and only the words that join them or lead into them ('and', "a'r", 'the', 'yr')."""
    items = [item for item in _JOIN.split(part) if item.strip(" .!?")]
    if len(items) > 1 and all(_one_pick(item) or only_politeness(item) for item in items):
        return True
    words = part.split()  # ('A and C': the letter A is Welsh for 'and' too)
    joining = [w for w in words if _JOIN.fullmatch(w) or _ARTICLE.fullmatch(w) or only_politeness(w)]
    return len(words) > 1 and len(joining) < len(words) and all(w in joining or _one_pick(w) for w in words)


def _one_pick(text: str) -> bool:
    """The parser reads it as one pick by place ('2', 'B', '2nd', 'the second one', 'yr ail
    un', 'y drydedd'): against options without words (:data:`_BY_PLACE`), so no word of it is
    taken for an option's name."""
    return match_option(text, _BY_PLACE) is not None


def no_words_of_its_own(text: str) -> bool:
    """A reply whose every word is a pick by place (an ordinal, a number, a letter: :func:`_one_pick`),
    politeness, or a little word that names nothing ('the', "a'r", 'and', 'then', "I'd"); at
    least one a pick ("I'd go for the second and the first"). The embedding model never reads
    it: with no word to weigh, it finds any sentence near (three Welsh ordinals read to it like
    "I think I'm having a stroke")."""
    if picks_by_place(text):
        return True
    words = [word for word in _WORD.findall(normalise(text)) if not (only_little_words(word) or only_politeness(word))]
    return bool(words) and all(_one_pick(word) for word in words)


def _bare(item: str) -> str:
    """A listed item without the words that lead into it ('my feet' -> 'feet')."""
    return _LEADING.sub("", item.strip())


def is_snooze(sprint: Sprint) -> bool:
    """Whether the engine read the message as a snooze: it asks again later, so the message
    said when, not how the participant is."""
    return any(isinstance(event, ScheduleTask) and event.kind == "snooze" for event in sprint.events)
