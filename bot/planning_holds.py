"""What holds back a follow-up that is due: a Delphi round waits for the round before it,
follow-ups that fell due after such a round wait behind it, and any follow-up waits for a
conversation the participant is in the middle of.

Pure decisions (when to look again, or why never); bot/firing.py asks them before it starts
a flow, and ``chorus schedule`` says them. The looks are a safety net: when a conversation of
the participant's ends (finished, declined, stopped, closed), the transaction that ends it
brings their held follow-ups' next look forward to that moment
(storage/due_tasks.release_held), so the scheduler's next tick weighs them again, within seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot.planned_tasks import FOLLOW_UP, PLAN
from flows.model import Flow, Study
from flows.schedule_timing import say_span
from flows.steps.delphi import DelphiStep

# ----------------------------------------------------------------------------- Delphi rounds in order

ROUND_CHECK = timedelta(minutes=30)
"""The safety net: how often a round held for the one before looks again at the least (while that
round is still to be sent, say). While the participant is still answering it, the round looks
again as often as a follow-up held for that conversation does (:func:`round_look_again`), and at
once when they finish it (storage/due_tasks.release_held)."""
ROUND_WAIT = timedelta(days=2)
"""How long a round waits for a participant still answering the one before (at least)."""


@dataclass(frozen=True)
class RoundBefore:
    """The earlier round of a Delphi that a flow's round must follow, and the flows that carry it."""

    delphi: str
    round: int
    before: int
    flows: tuple[str, ...]

    def describe(self) -> str:
        return f"round {self.before} of Delphi '{self.delphi}'"


@dataclass(frozen=True)
class RoundSent:
    """When a flow carrying the earlier round was started for the participant, and whether
    they are still answering it (its session waiting or snoozed)."""

    flow_id: str
    sent_at: datetime
    live: bool


def rounds_before(flows: Mapping[str, Flow], flow_id: str) -> list[RoundBefore]:
    """For each Delphi round in ``flow_id`` after the first, the latest earlier round of that
    Delphi carried by other flows of the study (rounds may skip numbers)."""
    carried: dict[str, dict[int, set[str]]] = {}
    for name, flow in flows.items():
        for step in flow.steps:
            if isinstance(step, DelphiStep):
                carried.setdefault(step.delphi_id, {}).setdefault(step.round, set()).add(name)
    found: dict[str, RoundBefore] = {}
    this = flows.get(flow_id)
    for step in this.steps if this is not None else []:
        if not isinstance(step, DelphiStep) or step.delphi_id in found:
            continue
        earlier = [number for number in carried[step.delphi_id] if number < step.round]
        others = carried[step.delphi_id][max(earlier)] - {flow_id} if earlier else set()
        if others:
            found[step.delphi_id] = RoundBefore(step.delphi_id, step.round, max(earlier), tuple(sorted(others)))
    return list(found.values())


def round_wait(study: Study, flows: Iterable[str]) -> timedelta:
    """How long a participant still answering a round keeps the next one waiting: two days,
    or a day after the round's last reminder when that is later."""
    names = set(flows)
    reminded = [max(entry.reminders) + timedelta(days=1) for entry in study.schedule if entry.flow in names and entry.reminders]
    return max([ROUND_WAIT, *reminded])


def round_to_come(before: RoundBefore, pending: Iterable[tuple[str, str | None, datetime, Mapping[str, Any]]]) -> datetime | None:
    """When a flow carrying the round before is still to be sent to the participant: the
    earliest of its follow-ups not sent yet, and of re-checks of their plan while its
    schedule waits for their group or a date (``pending``: (kind, flow, due, payload))."""
    labels = tuple(f"({flow}, " for flow in before.flows)
    times = [due for kind, flow_id, due, payload in pending
             if (kind == FOLLOW_UP and flow_id in before.flows)
             or (kind == PLAN and any(label in str(note) for note in payload.get("waiting", []) for label in labels))]
    return min(times, default=None)


def round_hold(before: RoundBefore, sent: RoundSent | None, pending: datetime | None, wait: timedelta,
               now: datetime) -> datetime | str | None:
    """Whether a round may be sent now (None), must wait until a moment to look again, or
    can never be (why). A round follows the one before once that was sent and is over for
    the participant (finished, stopped, closed) or ``wait`` after it was sent; while the round
    before is still to be sent (``pending``: when it is due, or a re-check of the
    participant's plan) it waits for it. A moment returned is the latest to look again:
    :func:`round_look_again` says when, sooner while the round before is being answered."""
    if sent is not None:
        until = sent.sent_at + wait
        if not sent.live or now >= until:
            return None
        return min(until, now + ROUND_CHECK)
    if pending is not None:
        return max(pending, now + ROUND_CHECK)
    return f"{before.describe()} was never sent to them, so round {before.round} is not sent either"


def round_look_again(held: datetime, sent: RoundSent | None, now: datetime) -> datetime:
    """When a round held until ``held`` (:func:`round_hold`) looks again: while the participant
    is still answering the round before, as often as a follow-up held for that conversation
    (``CONVERSATION_CHECK``), else at ``held``. (The end of that round brings the look forward
    to the moment it ended: this is the net should that be missed.)"""
    return min(held, now + CONVERSATION_CHECK) if sent is not None and sent.live else held


# ----------------------------------------------------------------------------- follow-ups in the order they fell due

IN_ORDER = "in_order"
"""Payload mark of a follow-up held for the round before it (the participant is still answering
that round), or waiting behind one that is: the participant's follow-ups that fell due after it
wait for it to go first (:func:`order_hold`). It stays until the follow-up is sent or dropped."""
ORDER_STEP = timedelta(seconds=1)
"""A follow-up behind one that goes now looks again this much later: on the next tick, after it."""


@dataclass(frozen=True)
class Queued:
    """One of the participant's follow-ups not sent yet, as :func:`order_hold` weighs it."""

    task_id: int
    flow_id: str
    fell_due: datetime
    """When it first fell due (before any hold moved it)."""
    looks_again: datetime
    """When it is due now: its next look, if held."""
    in_order: bool
    """Marked :data:`IN_ORDER`."""

    def describe(self) -> str:
        return f"waits for {self.flow_id}, due before it, to go first"


def fell_due(payload: Mapping[str, Any], due_at: datetime) -> datetime:
    """When a follow-up first fell due: ``first_due`` once a hold has moved it, else ``due_at``."""
    first = payload.get("first_due")
    return datetime.fromisoformat(str(first)) if first else due_at


def order_hold(task_id: int, due: datetime, queued: Iterable[Queued], now: datetime) -> tuple[datetime, Queued] | None:
    """Whether a follow-up that fell due at ``due`` waits behind the participant's follow-ups
    marked :data:`IN_ORDER` that fell due before it (ties: the one planned first), and until
    when: the latest of their next looks, and at least :data:`ORDER_STEP` from now, so they go
    first, in the order they fell due (with the first of them). None: nothing holds it. The
    order is total, so two follow-ups never wait for each other."""
    ahead = [other for other in queued
             if other.in_order and other.task_id != task_id and (other.fell_due, other.task_id) < (due, task_id)]
    if not ahead:
        return None
    until = max([now + ORDER_STEP, *(other.looks_again for other in ahead)])
    return until, min(ahead, key=lambda other: (other.fell_due, other.task_id))


# ----------------------------------------------------------------------------- a conversation in progress

CONVERSATION_IDLE = timedelta(hours=3)
"""How long a conversation keeps a follow-up waiting after the participant's last reply (or the
question's last asking): longer, and they are taken to have left it."""
CONVERSATION_CHECK = timedelta(minutes=5)
"""How often a follow-up held for a conversation looks again, at the least: the conversation's
end brings the look forward to that moment (storage/due_tasks.release_held), and this catches
a conversation that goes idle instead."""


@dataclass(frozen=True)
class Conversation:
    """A conversation the participant is in: a session waiting for their reply, or snoozed."""

    flow_id: str
    last_active: datetime
    """When it was started, answered or asked again."""
    comes_back: datetime | None = None
    """Snoozed: when the snooze asks the question again."""
    step_timeout: timedelta | None = None
    """The waiting step's own ``timeout``: how long the flow itself waits for this answer."""

    def idle_after(self) -> timedelta:
        """Three hours without a reply, or the step's own ``timeout`` when longer (at most
        ``ROUND_WAIT``, two days: as long as a Delphi round waits for the one before)."""
        return max(CONVERSATION_IDLE, min(self.step_timeout or CONVERSATION_IDLE, ROUND_WAIT))

    def describe(self) -> str:
        if self.comes_back is not None:
            return (f"waits for the conversation in {self.flow_id}, snoozed until {self.comes_back:%Y-%m-%d %H:%M} UTC, to end,"
                    f" or to go {say_span(self.idle_after())} without a reply after that")
        return f"waits for the conversation in {self.flow_id} to end, or to go {say_span(self.idle_after())} without a reply"


def describe_idle() -> str:
    """How long a conversation keeps a follow-up waiting, as ``chorus schedule plan`` says it."""
    return f"or has gone {say_span(CONVERSATION_IDLE)} without a reply"


def conversation_hold(conversations: Iterable[Conversation], now: datetime) -> tuple[datetime, Conversation] | None:
    """When to look again at a follow-up due now for a participant in the middle of a
    conversation (None: send it). Starting it would replace that conversation, and their next
    reply, meant for its question, would be taken by the follow-up. It waits until the
    conversation ends or goes idle (:meth:`Conversation.idle_after` since it was last active;
    a snoozed one counts from when the snooze asks again), looking again every
    ``CONVERSATION_CHECK``, and at once when it ends (storage/due_tasks.release_held)."""
    holding = []
    for conversation in conversations:
        active = max(conversation.last_active, conversation.comes_back or conversation.last_active)
        until = active + conversation.idle_after()
        if now < until:
            holding.append((min(until, now + CONVERSATION_CHECK), conversation))
    return max(holding, key=lambda held: held[0], default=None)
