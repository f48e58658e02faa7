"""A conversation's state, which the engine carries from one message to the next, and where
in the conversation it is (:func:`position`, which a tapped button carries)."""

from __future__ import annotations

import json
import zlib
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

Status = Literal["waiting", "snoozed", "stopped", "ended"]
LIVE: tuple[Status, ...] = ("waiting", "snoozed")
"""The statuses of a live conversation, one the participant is still in: a question waits for
its answer, or was put off with LATER and will be asked again. One that leaves them has ended
(finished, declined, given up at max tries, stopped, replaced by a later flow): it takes no
answers, and the follow-ups held for it look again at once (:func:`storage.due_tasks.release_held`)."""


class OpenAnswer(BaseModel, frozen=True):
    """A typed answer to a free-text question, kept while the question after it waits: a text
    that follows it within a short window and answers nothing is the rest of it (an SMS
    answer sent in two parts; see :data:`flows.engine_second_text.CONTINUATION_WINDOW`)."""

    step: str
    text: str
    at: datetime
    """When it was given (or last added to)."""
    position: int
    """Where in the session's path it was given (:attr:`flows.events.RecordAnswer.path_position`)."""


class SessionState(BaseModel):
    """Everything the engine needs to carry on a conversation; serialisable as JSON."""

    flow: str
    version: str = ""
    step: str | None = None
    status: Status = "waiting"
    tries: int = 0
    """Unclear replies to the question since it was last asked afresh (entered, or asked
    again after a snooze or by a reminder)."""
    asked_at: datetime | None = None
    """When the current question was last shown in full."""
    history: list[str] = Field(default_factory=list)
    values: dict[str, Any] = Field(default_factory=dict)
    displays: dict[str, str] = Field(default_factory=dict)
    fields: dict[str, Any] = Field(default_factory=dict)
    language: str = "en"
    outcome: str | None = None
    seed: int = 0
    """Handed in at start; every random draw a step makes derives from it."""
    step_data: dict[str, Any] = Field(default_factory=dict)
    """The current step's working data (many-item steps), cleared when a step is entered."""
    before_stop: Status | None = None
    """The status to return to when a participant who sent STOP sends START."""
    heard: dict[str, Any] | None = None
    """A voice answer read back to the participant ("I heard: ... Is that right?"), waiting for
    YES (it counts) or NO (ask again): ``{"text": ..., "confidence": ...}``. Dropped whenever
    the question is asked afresh."""
    erase_pending: bool = False
    """DELETE MY DATA was sent and the confirmation question asked: YES erases, anything else cancels."""
    choosing_language: bool = False
    """LANGUAGE was answered by asking which language: the next reply may name one by its code
    or its name ('cy', 'Welsh', 'polski'; flows/replies.py) rather than answer the question."""
    undo: list[dict[str, Any]] = Field(default_factory=list)
    """The current many-item step before each of its parts was answered (``data``, and the
    ``items`` that part recorded): BACK within the step goes back one part."""
    last_open: OpenAnswer | None = None
    """The last typed answer to a free-text question, which a text right after it may add to."""
    last_answer: OpenAnswer | None = None
    """The last typed answer to any question: the same text again seconds later, at a free-text
    question, is that answer sent twice (flows/sent_twice.py), not the new question's answer."""
    asides: list[str] = Field(default_factory=list)
    """Where (:func:`position`) each aside kept at the question being asked came (flows/asides.py):
    only the first few use no try."""
    answered_parts: dict[str, dict[str, Any]] = Field(default_factory=dict)
    """The many-part steps answered (a Delphi round, pairs, a ranking one pick at a time), by
    where each was entered in the path (its index in :attr:`history`, as text):
    ``{"step": id, "parts": [...]}``, its parts as :attr:`undo` held them, the last included.
    BACK from the question after one goes back to its last part, not to its first."""

    def __setattr__(self, name: str, value: Any) -> None:
        # The engine sets fields many times a sprint; a plain field needs no more than what
        # pydantic does for it (no validate_assignment, not frozen), without the dispatch.
        if name in _PLAIN_FIELDS:
            self.__dict__[name] = value
            self.__pydantic_fields_set__.add(name)
        else:
            super().__setattr__(name, value)


_PLAIN_FIELDS = frozenset(SessionState.model_fields)
_NEW = object.__new__
_SET = object.__setattr__


def copy_state(state: SessionState) -> SessionState:
    """A copy the sprint may change. Containers are copied one level deep: the engine replaces
    values (answers, fields) but never mutates one in place. Much cheaper than a deep copy,
    and cheaper than ``model_construct``: every field is already there, so this only sets
    what it sets (``__dict__``, the fields set, no extras, no private attributes)."""
    data = dict(state.__dict__)
    data["history"] = list(data["history"])
    data["undo"] = list(data["undo"])
    for name in ("values", "displays", "fields", "step_data", "answered_parts"):
        data[name] = dict(data[name])
    copied = _NEW(SessionState)
    _SET(copied, "__dict__", data)
    _SET(copied, "__pydantic_fields_set__", set(_PLAIN_FIELDS))  # as model_construct(**all fields)
    _SET(copied, "__pydantic_extra__", None)
    _SET(copied, "__pydantic_private__", None)
    return copied


def position(state: SessionState) -> str:
    """Where a conversation is, in 4 characters: which conversation (the flow, and the session's
    own random seed), the question, how far the participant came to reach it and the progress
    within it (a Delphi item, a pair). The same when a question is asked again (HELP, a reminder,
    BACK to it); different once it has been answered, and in any other session: a tap on a
    message of another study, another flow or an earlier run of the same flow, whose first
    question has the same id at the same depth ('consent'), never answers the question asked now."""
    progress = json.dumps(state.step_data, sort_keys=True, default=str)
    where = f"{state.flow}|{state.seed}|{state.step}|{len(state.history)}|{progress}"
    number = zlib.crc32(where.encode())
    digits = []
    for _ in range(4):
        number, digit = divmod(number, 36)
        digits.append("0123456789abcdefghijklmnopqrstuvwxyz"[digit])
    return "".join(digits)


def tapped_elsewhere(at: str, state: SessionState) -> bool:
    """Whether a tap was on buttons offered somewhere other than where the conversation is now
    (``at``: the tapped button's place, :attr:`flows.events.Button.at`): a second tap, or a tap on
    an earlier message, answers nothing. A tap with no place is taken as it comes."""
    return bool(at) and at != position(state)
