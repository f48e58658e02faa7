"""What a tap on Telegram's buttons is told at once, in a pop-up over the chat
(answerCallbackQuery), in the participant's language and the study's words:

* a tick past a multiple choice's ``max_picks`` is refused (:meth:`TapChecks.tick_limit`):
  the limit is read from the step the session is at, and only when the tapped button was
  offered there (its place, :attr:`flows.events.Button.at`, is where the conversation is), so
  it is the limit of the very question that showed the keyboard. No copy of it is kept with
  the message: flow versions never change, and the session is read once per tick. Done is
  still checked by the step itself, so a tick this cannot judge is let through as before;
* a tap on the buttons of a question answered already (typed, or moved past) answers nothing,
  as the engine has always decided (:func:`flows.session_state.tapped_elsewhere`); its inbox
  row keeps the status :data:`STALE_TAP`, and the tap is told why (:meth:`TapChecks.tap_notice`).

:class:`TapChecks` is part of :class:`bot.service.ConversationService`; what it uses of the rest
of the service is declared below for the type checker.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy import Connection

from flows.engine import Engine, SessionState
from flows.session_state import tapped_elsewhere
from flows.steps.base import StepBase
from flows.steps.choice import ChoiceStep
from flows.words import built_in
from storage import repository
from storage.database import Database
from storage.repository import ContactRef, SessionRef

STALE_TAP = "stale_tap"
"""An inbox row's status: a tap on buttons of a question the conversation has moved past (or of
another conversation); nothing was answered."""


@dataclass(frozen=True)
class TickLimit:
    """How many options the question asked now lets a participant tick, and what a tap past it is told."""

    most: int
    notice: str


def most_ticks(step: StepBase | None) -> int | None:
    """The most options a step shown as ticks takes (a multiple choice's ``max_picks``); None: no limit."""
    if isinstance(step, ChoiceStep) and step.multiple and step.max_picks is not None:
        return step.max_picks
    return None


class TapChecks:
    database: Database
    _key: bytes
    _contacts: dict[str, ContactRef]

    if TYPE_CHECKING:  # provided by ConversationService (bot/service.py)
        def _engine(self, connection: Connection, flow_version_id: int, study_id: str) -> tuple[Engine, str]: ...

    def tick_limit(self, channel: str, address: str, place: str) -> TickLimit | None:
        """The limit on ticks of the question this sender is being asked, when it has one and the
        tapped button (offered at ``place``) belongs to it; None otherwise (no conversation, a
        keyboard of another question, a multiple choice without ``max_picks``)."""
        with self.database.read_transaction() as connection:
            hashed = repository.address_hash(self._key, channel, address)
            contact = self._contacts.get(hashed) or repository.find_contact(connection, hashed)
            found = self._latest(connection, contact.participant_id) if contact is not None else None
            if found is None:
                return None
            session, state = found
            if tapped_elsewhere(place, state) or state.step is None:
                return None
            engine = self._engine(connection, session.flow_version_id, session.study_id)[0]
            try:
                most = most_ticks(engine.flow.step(state.step))
            except KeyError:
                return None
            if most is None:
                return None
            return TickLimit(most, engine.words.text("tap.too_many", state.language).format(most=most))

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

    @staticmethod
    def _latest(connection: Connection, participant_id: str) -> tuple[SessionRef, SessionState] | None:
        """The participant's latest conversation (the one their messages go to) and its state."""
        session = repository.latest_session(connection, participant_id)
        if session is None or not session.state:
            return None
        return session, SessionState.model_validate(session.state)
