"""The outbox dispatcher: send what the conversation service queued, and lose nothing.

* Rows are claimed with a conditional UPDATE (``queued`` -> ``sending``), so two
  dispatchers never send the same row, and the claim gives each row its delivery key
  (an idempotency key) in the same commit, before any provider is called.
* A row found still ``sending`` after the lease (``stale_after``; the process died
  mid-send) is in doubt: it may or may not have reached the provider. It is sent again
  with the SAME key (at least once), so a provider that deduplicates by key delivers it
  once. Telegram and Twilio's Messages API document no such key, so there a message
  whose send was cut off by a crash may arrive twice (see "Crash safety" in README).
  Until then that participant's later rows wait, so their order holds.
* One participant's messages go in order (one task per participant at a time);
  different participants in parallel, within each channel's rate limits.
* Each channel is claimed and paced on its own, with its own room (``max_in_flight``
  participants in hand) and at most ``claim_ahead`` seconds of its rate claimed ahead: a
  backlog on one (an SMS round at 1 message a second) never holds up another (a Telegram
  reply goes within a second), and a slow channel holds a few rows ``sending``, not hundreds.
* Retryable errors (throttling, 5xx, timeouts) go back in the queue with exponential
  backoff (or the provider's retry-after) until ``storage.outbox.MAX_ATTEMPTS``.
* Before sending, :func:`bot.dispatch_rules.decide` holds what must not go now: anything
  to an opted-out participant, anything non-urgent during quiet hours (released when
  they end), and a WhatsApp message outside the 24-hour window without a template, or
  behind a template that awaits the participant's reply. Left unanswered ``template_resends.after``
  (a day), the next message due goes as another template, at most ``template_resends.most``
  times (:meth:`Dispatcher._resend_templates`).
* The web simulator's rows (channel ``web``) are left alone: the simulator takes them.
* The confirmation of an erasure (``farewells``, storage/outbox.py) belongs to no participant:
  it is claimed on its own, sent once, and deleted with its address (:meth:`Dispatcher._start_farewells`).
* Dispatchers sharing one database (``chorus worker`` processes, ``chorus serve
  --processes N``) count themselves there (storage/peers.py) every ``heartbeat_every``
  seconds, and each paces its sends at its share of every rate limit: together they keep to it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections import Counter
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import Connection, and_, select, update

from bot import metrics
from bot.delivery_status import env_address_key, opt_out, record_status
from bot.dispatch_rules import (
    BEHIND_TEMPLATE,
    NO_LONGER_ASKED,
    OPTED_OUT,
    TEMPLATES_UNANSWERED,
    WHATSAPP_WINDOW,
    Candidate,
    StudyRules,
    TemplateResends,
    WhatsAppConfig,
    decide,
    outside_window,
    quiet_release_time,
)
from bot.farewell_sending import FarewellSending
from bot.outage import Outage, is_database_error
from bot.outbox_claims import give_keys, in_turn, load_candidates, queued_on
from bot.pacing import DEFAULT_LIMITS, Pacer, RateLimit
from bot.studies import StudyRegistry
from channels.base import Capabilities, OutboundMessage, SendError
from channels.errors import ContactStopped, Throttled
from channels.twilio import OUTSIDE_WINDOW, Content
from flows.model import Study, resolve_text
from flows.words import OptionTexts, Words
from storage import outbox, peers, template_resends
from storage.database import Database
from storage.database_clock import database_time
from storage.tables import OUTBOUND

__all__ = ["DEFAULT_LIMITS", "DispatchStats", "Dispatcher", "Pacer", "RateLimit", "SendingChannel", "opt_out", "record_status"]

log = logging.getLogger("chorus.dispatcher")
Clock = Callable[[], datetime]


class SendingChannel(Protocol):
    name: str
    capabilities: Capabilities

    async def send(self, message: OutboundMessage) -> str: ...


@dataclass
class DispatchStats:
    sent: int = 0
    held: int = 0
    failed: int = 0
    retried: int = 0
    cancelled: int = 0
    """Questions held through quiet hours and not sent when they ended: see ``_release_quiet``."""


@dataclass
class Dispatcher(FarewellSending):
    database: Database
    channels: Mapping[str, SendingChannel]
    studies: StudyRegistry | None = None
    limits: Mapping[str, RateLimit] = field(default_factory=lambda: dict(DEFAULT_LIMITS))
    whatsapp: Mapping[str, WhatsAppConfig] = field(default_factory=dict)
    """WhatsApp templates by study id; by default read from each study's ``whatsapp`` block."""
    clock: Clock = lambda: datetime.now(UTC)
    batch: int = 200
    """Rows claimed at most at once on a channel."""
    max_in_flight: int = 64
    """Participants in hand at most on each channel."""
    claim_ahead: float = 4.0
    """Seconds of a channel's rate limit claimed ahead at most: SMS at 1/s claims a handful of
    rows at a time, so they are not held 'sending' for minutes (a stop waits for them)."""
    poll_interval: float = 1.0
    reply_window: timedelta = timedelta(minutes=10)
    stale_after: timedelta = timedelta(minutes=2)
    """The lease on a claim: a row still ``sending`` this long after it was claimed (or last
    stamped, see :meth:`_send_one`) belongs to a dead dispatcher and is sent again."""
    backoff_base: float = 1.0
    backoff_cap: float = 300.0
    stats: DispatchStats = field(default_factory=DispatchStats)
    exclusive: bool = False
    """Several dispatchers share the outbox (``chorus worker`` processes): every claim already
    skips participants with a row 'sending'; this one also looks again whenever it finishes
    a participant, since another dispatcher may have skipped their next message meanwhile."""
    heartbeat_every: float = 5.0
    """Seconds between counts of the dispatchers alive (:mod:`storage.peers`); one not seen
    for three of these no longer counts."""
    min_share: int = 1
    """Share the limits at least this many ways (``chorus serve --processes N``: N), also
    before the other processes have been counted."""
    nudge_gap: float = 1.0
    """While backing off after a failure, a nudge (something was just queued, so the database
    is likely back) cuts the wait short, but not sooner than this after the failure."""
    address_key: bytes | None = None
    """The key addresses are hashed with (the conversation service's): a provider's opt-out on
    SMS or WhatsApp finds the same number on the other channel with it. None: CHORUS_HASH_KEY,
    else the key file, as the service's default."""
    template_resends: TemplateResends = field(default_factory=TemplateResends)
    """When a WhatsApp template left unanswered is followed by another, and how many times."""
    resend_look_every: float = 60.0
    """Seconds between looks for participants due another template (:meth:`_resend_templates`)."""

    def __post_init__(self) -> None:
        self._wake = asyncio.Event()
        self.id = peers.new_dispatcher_id()
        self.sharing = self.min_share
        """How many dispatchers share the rate limits now (this one included)."""
        self._pacers = {name: Pacer(limit.shared_by(self.sharing).per_second) for name, limit in self.limits.items()}
        self._address_pacers: dict[tuple[str, str], Pacer] = {}
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._lanes: dict[str, str] = {}
        """The channel each task in flight counts against (its participant's first row's)."""
        self._paused: dict[str, float] = {}
        """Participants whose next message waits for a retry (by monotonic time): keeps their order."""
        self._rules: dict[str, tuple[Study, StudyRules]] = {}
        self._option_texts: dict[tuple[str | None, str | None], tuple[Study | None, OptionTexts]] = {}
        self._stopping = False
        self._nudged_while_busy = False
        self._nudged = False
        """A nudge came since the last claim began (it cuts a back-off short: :meth:`_pause`)."""
        self._backlog: set[str] = set()
        """Channels whose last claim took as many rows as it asked for: more are likely waiting."""
        self._idle: dict[str, float] = {}
        self._found: dict[str, int] = {}
        """Rows the last claim found on each channel it looked at."""
        self._nudges = 0
        """Channels whose last claim found nothing (since, monotonic): not looked at again for a
        poll interval unless a nudge comes, or one of theirs is done (:meth:`_claim_limits`)."""
        self._outage = Outage(log, "dispatch")
        self._counting_outage = Outage(log, "counting the dispatchers")
        every = self._recovery_every()
        self._recovery_outage = Outage(log, "recovering rows left 'sending'", first_delay=min(5.0, every), max_delay=every,
                                       remind_every=float("inf"))
        self._farewells_after = 0.0
        """When (monotonic) to look for erasure confirmations again: see :meth:`_start_farewells`."""
        self._resends_after = 0.0
        """When (monotonic) to look for WhatsApp templates to send again: see :meth:`_resend_templates`."""

    # ------------------------------------------------------------------ running

    def nudge(self) -> None:
        """Something was queued: look now rather than at the next poll."""
        self._wake.set()
        self._nudged = True
        self._nudges += 1
        self._idle.clear()
        if self._in_flight:  # it may be for someone being sent to now: look again when they are done
            self._nudged_while_busy = True

    async def run(self) -> None:
        next_recovery = next_count = 0.0
        try:
            while not self._stopping:
                if _monotonic() >= next_count:
                    await self.count_peers()
                    next_count = _monotonic() + self.heartbeat_every
                if _monotonic() >= next_recovery:  # rows a dead process (or a crashed task) left 'sending'
                    next_recovery = _monotonic() + await self._recover_or_say_why()
                self._wake.clear()  # before claiming: a nudge that comes during the claim is not lost
                self._nudged = False
                try:
                    claimed = await self.dispatch_once()
                except Exception as error:  # the database went away, say: back off, quietly (bot/outage.py)
                    await self._pause(self._outage.failed(error))
                    continue
                self._outage.succeeded()
                if claimed == 0:
                    try:
                        await asyncio.wait_for(self._wake.wait(), min(self.poll_interval, self.heartbeat_every))
                    except TimeoutError:  # a poll: every channel is looked at
                        self._idle.clear()
        finally:
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._leave)

    async def count_peers(self) -> int:
        """Record that this dispatcher is alive and share the rate limits with those that are."""
        try:
            alive = await asyncio.to_thread(self._beat)
        except Exception as error:  # logged once, then a line every 30 s while it lasts
            self._counting_outage.failed(error)
            return self.sharing
        self._counting_outage.succeeded()
        self.share_with(alive)
        return alive

    def share_with(self, alive: int) -> None:
        """Pace at one ``max(alive, min_share)``-th of each channel's limits."""
        sharing = max(alive, self.min_share)
        if sharing == self.sharing:
            return
        self.sharing = sharing
        shares = {name: limit.shared_by(sharing).per_second for name, limit in self.limits.items()}
        for name, per_second in shares.items():
            self._pacers[name].pace(per_second)
        self._address_pacers.clear()  # made again at the new rate as they are needed
        log.info("%d dispatcher(s) share the rate limits: this one sends at most %s", sharing,
                 ", ".join(f"{per_second:g}/s on {name}" for name, per_second in shares.items()),
                 extra={"event": "dispatcher.sharing", "dispatchers": sharing})

    def _beat(self) -> int:
        with self.database.transaction() as connection:
            return peers.beat(connection, self.id, timedelta(seconds=3 * self.heartbeat_every))

    def _leave(self) -> None:
        with self.database.transaction() as connection:
            peers.leave(connection, self.id)

    async def _pause(self, seconds: float) -> None:
        """Wait out a back-off after a failure. Stopping ends it; so does a nudge (since the claim
        that failed), which means a row was just queued, so the database is likely back: try
        now, though not sooner than ``nudge_gap`` after the failure, so a stream of nudges cannot
        hammer a database still down (each try that fails backs off further, bot/outage.py)."""
        start = _monotonic()
        deadline, soonest = start + seconds, start + min(seconds, self.nudge_gap)
        while not self._stopping and (now := _monotonic()) < deadline:
            if self._nudged:
                if now >= soonest:
                    return
                await asyncio.sleep(soonest - now)
                continue
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), deadline - now)

    async def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        if self._in_flight:
            await asyncio.gather(*self._in_flight.values(), return_exceptions=True)

    async def drain(self, timeout: float = 30.0) -> DispatchStats:
        """Send everything sendable now and wait for it (for tests, the CLI and benchmarks)."""
        deadline = asyncio.get_running_loop().time() + timeout
        self._farewells_after = self._resends_after = 0.0
        while asyncio.get_running_loop().time() < deadline:
            self._idle.clear()
            claimed = await self.dispatch_once()
            if self._in_flight:
                await asyncio.wait(list(self._in_flight.values()), return_when=asyncio.FIRST_COMPLETED)
            elif claimed == 0 and not self._due_retries():
                return self.stats
            elif claimed == 0:
                await asyncio.sleep(0.05)
        raise TimeoutError("the outbox did not drain in time")

    def _due_retries(self) -> bool:
        return bool(self._paused)

    async def dispatch_once(self) -> int:
        """Release due quiet-hours holds, claim what can go now on each channel with room, start
        sending it. Returns how many were claimed."""
        limits = self._claim_limits()
        if not limits:
            return 0
        nudges = self._nudges
        candidates = await asyncio.to_thread(self._claim, limits)
        self._outage.succeeded()  # (after an outage: "works again" is logged before what it sends)
        for channel, count in self._found.items():
            if count:
                self._idle.pop(channel, None)
            elif self._nudges == nudges:  # (a nudge during the claim may be for a row it did not see)
                self._idle[channel] = _monotonic()
        by_participant: dict[str, list[Candidate]] = {}
        for row in candidates:
            by_participant.setdefault(row.participant_id, []).append(row)
        for participant_id, rows in by_participant.items():
            self._start(participant_id, rows[0].channel, self._send_all(rows))
        return len(candidates) + await self._start_farewells()

    def _claim_limits(self) -> dict[str, int]:
        """How many rows to claim now on each channel with room (:meth:`_room_of`): four per free
        place, within ``batch`` and ``claim_ahead`` seconds of its share of the rate limit. A
        channel found idle is left out for a poll interval (looking for a channel's queued rows
        goes through every queued row: an SMS round's backlog, 80 ms on SQLite at 100,000)."""
        used = Counter(self._lanes.values())
        limits = {}
        now = _monotonic()
        for name in self.channels:
            room = self._room_of(name) - used[name]
            if room <= 0 or now - self._idle.get(name, -math.inf) < self.poll_interval:
                continue
            rate = self._rate(name)
            ahead = max(1, math.ceil(rate * self.claim_ahead)) if rate else self.batch
            limits[name] = min(self.batch, room * 4, ahead)
        return limits

    def _start(self, key: str, channel: str, work: Coroutine[Any, Any, None]) -> None:
        task = asyncio.create_task(work)
        self._in_flight[key] = task
        self._lanes[key] = channel
        task.add_done_callback(self._finished(key))

    def _finished(self, participant_id: str) -> Callable[[asyncio.Task[None]], None]:
        def done(task: asyncio.Task[None]) -> None:
            self._in_flight.pop(participant_id, None)
            channel = self._lanes.pop(participant_id, None)
            self._idle.pop(channel or "", None)  # their next message may have been skipped while they were busy
            # Look again if a nudge may have been for this participant; when dispatchers share the
            # outbox, always: another one may have skipped their next message while this one sent.
            # A backlog on this channel (its last claim took all it could): claim more once half its
            # room is free, before the rate limit's slots go unused waiting for the next poll.
            refill = channel in self._backlog and self._in_lane(channel) <= self._room_of(channel) // 2
            if self._nudged_while_busy or self.exclusive or refill:  # (wakes coalesce into one claim)
                self._wake.set()
            if not task.cancelled() and task.exception() is not None:
                log.error("sending to %s failed: %r", participant_id, task.exception())

        return done

    def _in_lane(self, channel: str | None) -> int:
        return sum(1 for lane in self._lanes.values() if lane == channel)

    def _room_of(self, channel: str | None) -> int:
        """Participants a channel may have in hand: ``max_in_flight``, fewer on a slow channel
        (``claim_ahead`` seconds of its rate, at least 2)."""
        rate = self._rate(channel)
        return min(self.max_in_flight, max(2, math.ceil(rate * self.claim_ahead))) if rate else self.max_in_flight

    def _rate(self, channel: str | None) -> float:
        """This dispatcher's share of the channel's rate limit (0: no limit)."""
        limit = self.limits.get(channel) if channel is not None else None
        return limit.shared_by(self.sharing).per_second if limit is not None else 0.0

    # ------------------------------------------------------------------ claiming

    def _claim(self, limits: Mapping[str, int]) -> list[Candidate]:
        """Claim up to ``limits[channel]`` queued rows on each channel, oldest first, in one
        transaction (each channel's own query, SKIP LOCKED on PostgreSQL): no channel's backlog
        takes another's places. Participants being sent to (here, or by another dispatcher: a
        row 'sending') are left for later, and so is a participant's row with an earlier one
        of theirs not claimed here (on another channel, or beyond its channel's limit)."""
        now = self.clock()
        loop_now = _monotonic()
        for pid in [pid for pid, t in self._paused.items() if t <= loop_now]:
            self._paused.pop(pid, None)
        busy = [*self._in_flight, *self._paused]
        if not busy:  # this claim sees every participant: no nudge is left waiting for one
            self._nudged_while_busy = False
        with self.database.transaction() as connection:
            self._release_quiet(connection, now)
            if "whatsapp" in self.channels and loop_now >= self._resends_after:
                self._resend_templates(connection, now)
                self._resends_after = loop_now + self.resend_look_every
            o = OUTBOUND.c
            found: dict[int, str] = {}
            backlog = set()
            self._found = {}
            for channel, limit in limits.items():
                rows = connection.execute(queued_on(channel, limit, busy, self.database.is_postgres)).all()
                found.update((row_id, pid) for row_id, pid in rows)
                if len(rows) >= limit:
                    backlog.add(channel)
                self._found[channel] = len(rows)
            self._backlog = backlog
            ids = in_turn(connection, found, self.channels)
            if not ids:
                return []
            claimed = connection.execute(
                update(OUTBOUND).where(o.id.in_(ids), o.status == "queued")
                .values(status="sending", sent_at=database_time(connection)).returning(o.id)
            ).scalars().all()
            give_keys(connection, list(claimed))
            return load_candidates(connection, sorted(claimed), self.database.sealer, self.option_texts_for)

    def _release_quiet(self, connection: Connection, now: datetime) -> None:
        """Queue again what quiet hours held, now they are over; but cancel a question its
        session has moved past meanwhile (answered, snoozed or ended), which would otherwise
        arrive after the next one and have the reply stored against it."""
        o = OUTBOUND.c
        held = connection.execute(select(o.id, o.error).where(o.status == "held", o.error.like("quiet hours:%"))).all()
        due = [row_id for row_id, error in held if (until := quiet_release_time(error)) is not None and until <= now]
        if not due:
            return
        stale = outbox.questions_no_longer_asked(connection, due)
        outbox.cancel_held(connection, stale, NO_LONGER_ASKED)
        self.stats.cancelled += len(stale)
        if stale:
            log.info("outbox %s cancelled: %s", stale, NO_LONGER_ASKED, extra={"event": "outbox.cancelled", "outbox_ids": stale})
        cancelled = set(stale)
        release = [row_id for row_id in due if row_id not in cancelled]
        if release:
            connection.execute(update(OUTBOUND).where(o.id.in_(release), o.status == "held").values(status="queued", error=None))

    def _resend_templates(self, connection: Connection, now: datetime) -> None:
        """Queue again the WhatsApp messages held behind a template their participant has left
        unanswered for ``template_resends.after``, so that the first with a template goes as
        another (the rest held behind it again: :meth:`_send_all` decides with what is sent by
        then, so dispatchers looking at once send one); once ``template_resends.most`` have gone
        unanswered, hold them for the participant to write instead. Never for anyone opted out."""
        look = template_resends.look_for_resends(connection, "whatsapp", WHATSAPP_WINDOW,
                                                 lambda sent: self.template_resends.hold(sent, now))
        for pid, ids in look.queued.items():
            log.info("outbox %s for %s queued again: their WhatsApp template went unanswered, another goes", ids, pid,
                     extra={"event": "outbox.template_again", "outbox_ids": ids, "participant_id": pid})
        for pid, ids in look.used_up.items():
            log.info("outbox %s for %s held: %s", ids, pid, TEMPLATES_UNANSWERED,
                     extra={"event": "outbox.held", "outbox_ids": ids, "channel": "whatsapp", "participant_id": pid})

    def recover_interrupted(self, busy: list[str] | None = None, now: datetime | None = None) -> int:
        """Rows left ``sending`` past the lease by a dispatcher that died (not those of ``busy``
        participants, which this one is sending now): queued again, keeping their delivery key,
        or failed once they have used up ``MAX_ATTEMPTS``. Returns how many were found.

        ``now`` is when ``busy`` was taken (by :attr:`clock`): the lease is measured from then,
        not from when a worker thread got round to this. A row claimed after that moment, for a
        participant ``busy`` could not name yet, is then never taken for a dead dispatcher's,
        however long this waited for a thread or for the database (queued again, another
        dispatcher could send it while this one still does).

        Claims are stamped by the database's clock (storage/database_clock.py), and the lease is
        measured by it too, less the time this waited (by this process's own clock: a machine's
        clock being off does not change how long it waited). A dispatcher on a machine whose
        clock is off never takes another's row early, nor leaves a dead one's late."""
        waited = max(timedelta(0), self.clock() - now) if now is not None else timedelta(0)
        o = OUTBOUND.c
        mine = set(busy or ())
        with self.database.transaction() as connection:
            cutoff = database_time(connection, -(self.stale_after + waited))
            found = connection.execute(
                select(o.id, o.participant_id, o.attempts).where(and_(o.status == "sending", o.sent_at < cutoff))
            ).all()
            found = [row for row in found if row[1] not in mine]
            again = [row[0] for row in found if row[2] + 1 < outbox.MAX_ATTEMPTS]
            spent = [row[0] for row in found if row[2] + 1 >= outbox.MAX_ATTEMPTS]
            if again:
                connection.execute(update(OUTBOUND).where(o.id.in_(again), o.status == "sending").values(
                    status="queued", attempts=o.attempts + 1, error="interrupted while sending; sent again with the same key"))
            if spent:
                connection.execute(update(OUTBOUND).where(o.id.in_(spent), o.status == "sending").values(
                    status="failed", attempts=o.attempts + 1, error="interrupted while sending, too many times"))
        if found:
            log.warning("outbox: %d row(s) left sending by a dead dispatcher: %d queued again, %d failed",
                        len(found), len(again), len(spent))
        return len(found)

    def _recovery_every(self) -> float:
        """Seconds between looks for rows left 'sending': twice per lease, at least once a minute."""
        return min(60.0, self.stale_after.total_seconds() / 2)

    async def _recover_or_say_why(self) -> float:
        """:meth:`recover_interrupted` from the loop; returns the seconds until the next look. A
        failure is counted (``chorus_errors_total{kind="outbox_recovery"}``) and logged once per
        outage, and again when it works (bot/outage.py): rows it cannot recover hold their
        participants' later messages back, so it must not fail unseen."""
        try:
            await asyncio.to_thread(self.recover_interrupted, list(self._in_flight), self.clock())
        except Exception as error:
            metrics.error("outbox_recovery")
            return self._recovery_outage.failed(error)
        self._recovery_outage.succeeded()
        return self._recovery_every()

    # ------------------------------------------------------------------ sending

    def rules_for(self, study_id: str | None) -> StudyRules | None:
        if study_id is None or self.studies is None or study_id not in self.studies:
            return None
        study = self.studies.get(study_id).study
        cached = self._rules.get(study_id)
        if cached is None or cached[0] is not study:  # new, or published again (quiet hours, time zone changed)
            raw = self.whatsapp.get(study_id) or WhatsAppConfig.from_dict(getattr(study, "whatsapp", None))
            title = resolve_text(study.title, study.default_language)
            cached = self._rules[study_id] = (study, StudyRules(study.quiet_hours, study.timezone, title, raw))
        return cached[1]

    def option_texts_for(self, study_id: str | None, language: str | None) -> OptionTexts:
        """How options read for a participant of the study in ``language`` (the study's default
        when unknown), with the study's own texts: the words around options sent as text, and
        the Done button. Remembered until the study is published again."""
        key = (study_id, language)
        study = None
        if study_id is not None and self.studies is not None and study_id in self.studies:
            study = self.studies.get(study_id).study
        cached = self._option_texts.get(key)
        if cached is None or cached[0] is not study:
            words = Words(study)
            cached = self._option_texts[key] = (study, words.option_texts(language or words.default_language))
        return cached[1]

    async def _send_all(self, rows: list[Candidate]) -> None:
        """Send one participant's rows in order. Outside WhatsApp's 24-hour window one template
        goes, the first due row's: the rows after it wait for the participant's reply to it
        (:data:`bot.dispatch_rules.BEHIND_TEMPLATE`), as do rows claimed later while it awaits
        one, until ``template_resends`` lets another go (:class:`bot.dispatch_rules.TemplateResends`)."""
        looked = False
        waits: str | None = None  # why a row needing a template waits (looked up when one first does)
        for index, row in enumerate(rows):
            now = self.clock()
            if not looked and outside_window(row, now):
                waits, looked = await asyncio.to_thread(self._template_hold, row, now), True
            decision = decide(row, self.rules_for(row.study_id), now, self.reply_window, waits is not None,
                              waits == TEMPLATES_UNANSWERED)
            if decision.hold is not None:
                await asyncio.to_thread(self._hold, row, decision.hold)
                continue
            outcome = await self._send_one(row, decision.content, decision.media)
            if outcome == "sent" and decision.template:
                waits, looked = BEHIND_TEMPLATE, True
            if outcome == "stopped":  # the rest would go to someone who has blocked us
                for rest in rows[index + 1:]:
                    await asyncio.to_thread(self._hold, rest, OPTED_OUT)
                return
            if outcome == "retry":  # keep this participant's order: the rest wait for the retry
                await asyncio.to_thread(self._requeue, [r.id for r in rows[index + 1:]])
                return

    async def _send_one(self, row: Candidate, content: Content | None, media: bool = True) -> str:
        channel = self.channels[row.channel]
        attachment = row.attachment if media and channel.capabilities.images else None
        message = OutboundMessage(row.channel, row.address, row.text, row.buttons, row.multiple, row.id, attachment,
                                  delivery_key=row.delivery_key, option_texts=row.option_texts)
        waited = _monotonic()
        await self._pace(row)
        if _monotonic() - waited > self.stale_after.total_seconds() / 4:  # a long rate-limit queue: renew the lease
            await asyncio.to_thread(self._stamp, row.id)
        try:
            if content is not None:
                provider_id = await channel.send(message, content)  # type: ignore[call-arg]
            else:
                provider_id = await channel.send(message)
        except SendError as error:
            return await asyncio.to_thread(self._failed, row, error)
        except Exception as error:  # a bug or an unexpected library error: retry, but say so
            log.exception("outbox %s: unexpected error from %s", row.id, row.channel)
            return await asyncio.to_thread(self._failed, row, SendError(type(error).__name__, retryable=True))
        await self._record_sent(lambda: self._sent(row, provider_id), f"outbox {row.id}")
        return "sent"

    async def _record_sent(self, record: Callable[[], None], what: str) -> None:
        """Record a send, trying again through a database outage: a send left unrecorded would
        go again once its lease ran out (a duplicate), and hold its participant's next messages
        until then. Given up only when stopping (the row then waits out the lease)."""
        delay = 0.05
        while True:
            try:
                await asyncio.to_thread(record)
                return
            except Exception as error:
                if self._stopping or not is_database_error(error):
                    raise
                if delay == 0.05:  # the first failure
                    log.warning("%s was sent but the database is unreachable: it is recorded when the database is back", what)
            await asyncio.sleep(delay)
            delay = min(2.0, delay * 2)

    async def _pace(self, row: Candidate) -> None:
        await self._pace_to(row.channel, row.address)

    async def _pace_to(self, channel_name: str, address: str) -> None:
        limit = self.limits.get(channel_name)
        if limit is None:
            return
        if limit.per_address:
            key = (channel_name, address)
            pacer = self._address_pacers.get(key)
            if pacer is None:
                if len(self._address_pacers) > 10_000:
                    self._address_pacers.clear()
                pacer = self._address_pacers[key] = Pacer(limit.shared_by(self.sharing).per_address or 0.0)
            await pacer.wait()
        pacer = self._pacers.get(channel_name)
        if pacer is not None:
            await pacer.wait()

    # ------------------------------------------------------------------ recording

    def _sent(self, row: Candidate, provider_id: str) -> None:
        with self.database.transaction() as connection:
            outbox.mark_sent(connection, row.id, provider_id, self.clock())
        self.stats.sent += 1
        metrics.MESSAGES_OUT.labels(row.channel).inc()

    def _stamp(self, outbox_id: int) -> None:
        with self.database.transaction() as connection:
            connection.execute(update(OUTBOUND).where(OUTBOUND.c.id == outbox_id).values(sent_at=database_time(connection)))

    def _template_hold(self, row: Candidate, now: datetime) -> str | None:
        """Why the participant's rows that need a template wait, given the templates sent to
        them since their window closed; None when one may go now."""
        closed_at = row.last_inbound_here + WHATSAPP_WINDOW if row.last_inbound_here is not None else None
        with self.database.transaction() as connection:
            sent = template_resends.templates_sent(connection, row.channel, {row.participant_id: closed_at})
        return self.template_resends.hold(sent[row.participant_id], now)

    def _hold(self, row: Candidate, reason: str) -> None:
        o = OUTBOUND.c
        with self.database.transaction() as connection:
            connection.execute(update(OUTBOUND).where(o.id == row.id).values(status="held", error=reason))
        self.stats.held += 1
        log.info("outbox %s for %s held: %s", row.id, row.participant_id, reason,
                 extra={"event": "outbox.held", "outbox_id": row.id, "channel": row.channel, "participant_id": row.participant_id})

    def _requeue(self, ids: list[int]) -> None:
        if ids:
            with self.database.transaction() as connection:
                connection.execute(update(OUTBOUND).where(OUTBOUND.c.id.in_(ids), OUTBOUND.c.status == "sending").values(status="queued"))

    def _failed(self, row: Candidate, error: SendError) -> str:
        described = f"{type(error).__name__}: {error}" + (f" (code {error.code})" if error.code else "")
        if row.channel == "whatsapp" and error.code == OUTSIDE_WINDOW:
            self._hold(row, "whatsapp 24-hour window closed (provider error 63016)")
            return "held"
        with self.database.transaction() as connection:
            status = outbox.mark_failed(connection, row.id, described, error.retryable)
            if isinstance(error, ContactStopped):
                if self.address_key is None:
                    self.address_key = env_address_key()
                opt_out(connection, row.participant_id, self.clock(), f"provider error {error.code}", self.database.sealer,
                        self.address_key)
        metrics.error("send_failed")
        log.warning("outbox %s for %s: %s -> %s", row.id, row.participant_id, described, status,
                    extra={"event": "outbox.send_failed", "outbox_id": row.id, "channel": row.channel, "outcome": status})
        if isinstance(error, ContactStopped):
            self.stats.failed += 1
            return "stopped"
        if status == "queued":
            self.stats.retried += 1
            attempts = self._attempts(row.id)
            delay = error.retry_after if isinstance(error, Throttled) and error.retry_after else self._backoff(attempts)
            self._paused[row.participant_id] = _monotonic() + delay
            return "retry"
        self.stats.failed += 1
        return "failed"

    def _attempts(self, outbox_id: int) -> int:
        with self.database.transaction() as connection:
            return int(connection.execute(select(OUTBOUND.c.attempts).where(OUTBOUND.c.id == outbox_id)).scalar_one())

    def _backoff(self, attempts: int) -> float:
        return float(min(self.backoff_cap, self.backoff_base * 2 ** max(0, attempts - 1)))


def _monotonic() -> float:
    return time.monotonic()
