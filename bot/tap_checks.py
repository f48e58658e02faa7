"""What a tap on Telegram's buttons is told at once, in a pop-up over the chat
(answerCallbackQuery), in the participant's language and the study's words:

* a tick past a multiple choice's ``max_picks`` is refused (:meth:`TapChecks.tick_check`):
  the limit is read from the step the session is at, and only when the tapped button was
  offered there (its place, :attr:`flows.events.Button.at`, is where the conversation is), so
  it is the limit of the very question that showed the keyboard. No copy of it is kept with
  the message: flow versions never change, and the session is read once per tick. Done is
  still checked by the step itself, so a tick this cannot judge is let through as before;
* read the same way, the options of that question that go alone (``exclusive: true``: "None of
  these"): a tick of one clears the other ticks, and a tick of another option clears it, as apps
  do (:func:`channels.telegram.exclusive_tick`). Ticks are kept in the keyboard itself, so the
  keyboard sent back is the cleared one; where this cannot be read, Done is asked again by the step;
* a tap on the buttons of a question answered already (typed, or moved past) answers nothing,
  as the engine has always decided (:func:`flows.session_state.tapped_elsewhere`); its inbox
  row keeps the status :data:`STALE_TAP`, and the tap is told why (:meth:`TapChecks.tap_notice`;
  one only stored, for the inbox worker, :meth:`TapChecks.stale_notice`). A tick on such a
  question's keyboard ticks nothing, and is told the same (:meth:`TapChecks.tick_check`);
* "done" typed under a keyboard with ticks sends them only while their question is the one
  asked, with nothing of the sender's still waiting to be read (:meth:`TapChecks.asks_at`):
  otherwise the words go as typed, to the question asked now.

:class:`TapChecks` is part of :class:`bot.service.ConversationService`; what it uses of the rest
of the service is declared below for the type checker.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, select

from bot.inbound import VOICE_HOLD
from flows.engine import Engine, SessionState
from flows.session_state import tapped_elsewhere
from flows.steps.base import StepBase
from flows.steps.choice import ChoiceStep
from flows.words import built_in
from storage import repository
from storage.database import Database
from storage.repository import PENDING_VOICE, ContactRef, SessionRef
from storage.tables import INBOUND

STALE_TAP = "stale_tap"
"""An inbox row's status: a tap on buttons of a question the conversation has moved past (or of
another conversation); nothing was answered."""


@dataclass(frozen=True)
class TickRules:
    """How many options the question asked now lets a participant tick (None: no limit), what a
    tap past it is told, and the values of its options that go alone (``exclusive: true``)."""

    most: int | None
    notice: str
    alone: tuple[str, ...] = ()


@dataclass(frozen=True)
class StaleTick:
    """A tick on the keyboard of a question answered already (or moved past), and what it is told."""

    notice: str


def most_ticks(step: StepBase | None) -> int | None:
    """The most options a step shown as ticks takes (a multiple choice's ``max_picks``); None: no limit."""
    if isinstance(step, ChoiceStep) and step.multiple and step.max_picks is not None:
        return step.max_picks
    return None


def ticked_alone(step: StepBase | None) -> tuple[str, ...]:
    """The values of a multiple choice's options that go alone (``exclusive: true``)."""
    if isinstance(step, ChoiceStep) and step.multiple:
        return tuple(option.value for option in step.options if option.exclusive)
    return ()


class TapChecks:
    database: Database
    _key: bytes
    _contacts: dict[str, ContactRef]
    clock: Callable[[], datetime]

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py)
        def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]: ...

    def tick_check(self, channel: str, address: str, place: str) -> TickRules | StaleTick | None:
        """For a tap on a multiple choice's keyboard offered at ``place`` that changes only the
        keyboard: :class:`StaleTick` when its question is not the one this sender is asked now;
        otherwise the question's limit on ticks and its options that go alone, when it has either;
        None when nothing can be said (no conversation, a keyboard that does not say its place, a
        multiple choice without ``max_picks`` or an exclusive option)."""
        with self.database.read_transaction() as connection:
            contact = self._contact_at(connection, channel, address)
            found = self._latest(connection, contact.participant_id) if contact is not None else None
            if found is None:
                return None
            session, state = found
            engine = self._engine(connection, session.flow_version_id, session.study_id)[0]
            if tapped_elsewhere(place, state):
                return StaleTick(engine.words.text("tap.answered", state.language))
            if state.step is None:
                return None
            try:
                step = engine.flow.step(state.step)
            except KeyError:
                return None
            most, alone = most_ticks(step), ticked_alone(step)
            if most is None and not alone:
                return None
            notice = "" if most is None else engine.words.text("tap.too_many", state.language).format(most=most)
            return TickRules(most, notice, alone)

    def asks_at(self, channel: str, address: str, place: str) -> bool:
        """Whether this sender's conversation is at ``place`` (the question whose keyboard was
        offered there is the one asked now), with no earlier message of theirs still waiting to be
        read, which could move it on: only then are a typed "done"'s ticks that question's answer."""
        with self.database.read_transaction() as connection:
            contact = self._contact_at(connection, channel, address)
            found = self._latest(connection, contact.participant_id) if contact is not None else None
            if contact is None or found is None or tapped_elsewhere(place, found[1]):
                return False
            waiting = (INBOUND.c.status == "received") | (
                INBOUND.c.status.in_(PENDING_VOICE) & (INBOUND.c.received_at >= self.clock() - VOICE_HOLD))
            query = select(INBOUND.c.id).where(INBOUND.c.participant_id == contact.participant_id, waiting).limit(1)
            return connection.execute(query).first() is None

    def stale_notice(self, participant_id: str, place: str) -> str | None:
        """For a tap only stored (a burst, for the inbox worker): what it is told when its buttons,
        offered at ``place``, are not of the question asked now (:meth:`tap_notice`); None otherwise."""
        with self.database.read_transaction() as connection:
            found = self._latest(connection, participant_id)
            if found is None or not tapped_elsewhere(place, found[1]):
                return None
            session, state = found
            return self._engine(connection, session.flow_version_id, session.study_id)[0].words.text("tap.answered", state.language)

    def tap_notice(self, participant_id: str) -> str:
        """What a tap on a question answered already is told (:data:`STALE_TAP`), in the language of
        the participant's conversation; the built-in English if they have none."""
        with self.database.read_transaction() as connection:
            found = self._latest(connection, participant_id)
            if found is None:
                return built_in("tap.answered")
            session, state = found
            engine = self._engine(connection, session.flow_version_id, session.study_id)[0]
            return engine.words.text("tap.answered", state.language)

    def _contact_at(self, connection: Connection, channel: str, address: str) -> ContactRef | None:
        hashed = repository.address_hash(self._key, channel, address)
        return self._contacts.get(hashed) or repository.find_contact(connection, hashed)

    @staticmethod
    def _latest(connection: Connection, participant_id: str) -> tuple[SessionRef, SessionState] | None:
        """The participant's latest conversation (the one their messages go to) and its state."""
        session = repository.latest_session(connection, participant_id)
        if session is None or not session.state:
            return None
        return session, SessionState.model_validate(session.state)
