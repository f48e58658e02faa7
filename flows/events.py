"""What the engine says happened. Events are the engine's only output."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any


@dataclass(frozen=True)
class Button:
    label: str
    value: str
    at: str = ""
    """Where the conversation was when the button was offered (:func:`flows.engine.position`):
    a channel that can send it back with a tap (Telegram) does, so that a second tap, or a tap
    on an earlier message, is not taken for an answer to the question asked now."""


def tap_data(button: Button) -> str:
    """What a tap on ``button`` sends back: its value, after its place if it has one."""
    return f"{button.at}~{button.value}" if button.at else button.value


@dataclass(frozen=True)
class SendMessage:
    text: str
    step_id: str | None = None
    buttons: tuple[Button, ...] = ()
    multiple: bool = False
    kind: str = "prompt"
    """prompt, retry, info, help, stopped, end, erase_confirm, erase_cancelled, erased."""
    attachment: dict[str, Any] | None = None
    """Something to show beside the text on channels with images, named rather than rendered:
    e.g. ``{"kind": "delphi_chart", "delphi": ..., "item": ..., "round": ...}``. The service
    draws it; channels without images send the text alone (which must stand on its own)."""


@dataclass(frozen=True)
class RecordAnswer:
    step_id: str
    raw: str
    value: Any
    display: str
    source: str = "text"
    skipped: bool = False
    item: str | None = None
    """For a many-item step (Delphi, pairwise, choice tasks): which item this answer is about."""
    path_position: int | None = field(default=None, compare=False)
    """Where in the session's path it was given: how many steps the session had entered then
    (set by the engine). A flow that loops back to a step gives each pass its own position,
    so BACK withdraws the pass it undoes and not the earlier ones. (Bookkeeping: not compared.)"""
    language: str | None = field(default=None, compare=False)
    """The language the conversation was in when it was given (set by the engine): an answer
    keeps it when the participant later changes language. (Bookkeeping: not compared.)"""


@dataclass(frozen=True)
class RecordComment:
    """Words a participant wrote at a question that could not read them as its answer, kept as
    a comment on the step (an aside: flows/asides.py). Not an answer: results count none."""

    step_id: str
    text: str
    source: str = "text"
    item: str | None = None
    """The part of a many-item step being asked (a Delphi item, a pair), when there is one."""


@dataclass(frozen=True)
class SetField:
    name: str
    value: Any


@dataclass(frozen=True)
class WaitForInput:
    step_id: str
    timeout: timedelta | None = None


@dataclass(frozen=True)
class ScheduleTask:
    kind: str
    """reminder, timeout, snooze, follow_up."""
    at: datetime
    payload: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RaiseFlag:
    kind: str
    """template_error, max_tries, safeguarding, unclear."""
    message: str
    step_id: str | None = None


@dataclass(frozen=True)
class OptedOut:
    reason: str = ""
    """Why, when it is not a plain STOP: 'wrong number' (the number is someone else's now).
    Kept in the ``opted_out`` audit event's detail for the coordinator."""


@dataclass(frozen=True)
class OptedIn:
    pass


@dataclass(frozen=True)
class ErasureConfirmed:
    """The participant asked to have their data deleted and said YES: the service erases it."""


@dataclass(frozen=True)
class LanguageChanged:
    language: str


@dataclass(frozen=True)
class SessionEnded:
    outcome: str = "completed"
    """completed, declined, max_tries."""


@dataclass(frozen=True)
class AnswersWithdrawn:
    """BACK left these steps' answers behind (the step asked again, and those after it; or the
    last part of a many-item step): they no longer count, in results and analyses, unless given again."""

    step_ids: tuple[str, ...]
    items: tuple[str, ...] = ()
    """Only these items of the steps, the latest answer of each: a many-item step's last part,
    asked again (a part answers an item once; a Delphi item's reason comes in a part after its
    score's, and BACK to the reason leaves the score standing). All the steps' answers when
    empty and :attr:`own_answer` is not set."""
    from_position: int = 0
    """Only answers given from this point of the session's path on (:attr:`RecordAnswer.path_position`):
    an earlier pass through the same step, in a flow that loops back to it, still stands."""
    own_answer: bool = False
    """The steps' own answer too (the one without an item: a Delphi round's "3 of 3 rated", a
    ranking's order): BACK into the last part of a step already finished, with ``items``."""


Event = (
    SendMessage | RecordAnswer | RecordComment | SetField | WaitForInput | ScheduleTask | RaiseFlag | OptedOut
    | OptedIn | LanguageChanged | SessionEnded | ErasureConfirmed | AnswersWithdrawn
)
