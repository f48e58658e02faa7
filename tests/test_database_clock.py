"""Heartbeats and leases are judged by the database's clock (storage/database_clock.py), so a
machine whose clock is off neither miscounts the dispatchers alive nor takes over, or leaves,
another's claim (an outbox row, an erasure confirmation, a due task, a voice note), and a scrape
measures how long a row has been 'sending' by the clock that stamped it: on SQLite and
PostgreSQL, with each process's clock injected shifted."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select, update

from bot.dispatcher import Dispatcher, RateLimit
from bot.metrics import BacklogCollector
from bot.service import ConversationService
from bot.voice import STALE_CLAIM, VoicePipeline, VoiceSettings
from nlp.transcribe import WhisperSettings
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage import due_tasks, outbox, peers, repository
from storage.database import Database
from storage.tables import DUE_TASKS, FAREWELLS, INBOUND, OUTBOUND
from tests.database_time import age, database_now
from tests.db_fixtures import TEST_ADDRESS_KEY
from tests.test_dispatcher import Recorder
from tests.test_voice_conversation import VOICE, Canned, Fetcher, Say, at_story

SKEWS = (timedelta(seconds=30), timedelta(seconds=-30), timedelta(0))
PHONE = "+447700900123"


class Shifted:
    """A machine's clock ``by`` off the database's."""

    def __init__(self, by: timedelta) -> None:
        self.by = by

    def __call__(self) -> datetime:
        return datetime.now(UTC) + self.by


def _dispatcher(service: Any, skew: timedelta, **options: Any) -> Dispatcher:
    return Dispatcher(service.database, {"telegram": Recorder("telegram")}, service.studies, {"telegram": RateLimit(30, 1)},
                      clock=Shifted(skew), **options)


def test_a_peer_with_its_clock_off_counts_exactly_while_it_beats(service: Any) -> None:
    """Every 5 s (the default) each beats; one not seen for 15 s of the database's time no
    longer counts, whichever dispatcher's clock is ahead or behind."""
    ahead, behind, right = (_dispatcher(service, skew) for skew in SKEWS)
    stopped = peers.DISPATCHERS.c.id == behind.id

    async def counts() -> list[int]:
        return [await sender.count_peers() for sender in (ahead, behind, right)]

    async def run() -> list[Any]:
        seen: list[Any] = [await counts(), await counts()]  # they join in turn, then each sees the other two
        seen.append(await ahead.count_peers())  # (behind stops beating: killed)
        age(service.database, peers.DISPATCHERS, "seen_at", timedelta(seconds=14), stopped)
        seen += [await ahead.count_peers(), await right.count_peers()]  # 14 s: still counted
        age(service.database, peers.DISPATCHERS, "seen_at", timedelta(seconds=2), stopped)
        seen += [await ahead.count_peers(), await right.count_peers()]  # 16 s: gone
        return seen

    assert asyncio.run(run()) == [[1, 2, 3], [3, 3, 3], 3, 3, 3, 2, 2]
    assert ahead.sharing == right.sharing == 2


def test_a_dispatcher_with_its_clock_ahead_does_not_take_over_a_live_claim(service: Any, say: Any) -> None:
    """A row another dispatcher is sending is taken for a dead one's only once its lease has run
    out in the database's time, however far ahead the looking machine's clock is."""
    say("WAIT")
    claimer = _dispatcher(service, timedelta(minutes=-10))
    claimed_at = database_now(service.database)
    with service.database.transaction() as connection:
        connection.execute(OUTBOUND.update().values(status="sending", sent_at=claimed_at))
    looker = _dispatcher(service, timedelta(minutes=10))
    assert looker.recover_interrupted() == 0, "ten minutes ahead, but the claim is seconds old"
    assert claimer.recover_interrupted() == 0
    age(service.database, OUTBOUND, "sent_at", looker.stale_after + timedelta(seconds=1))
    assert claimer.recover_interrupted() == 1, "ten minutes behind, but the lease ran out"


def test_an_erasure_confirmation_claim_lasts_its_lease_in_the_database_time(database: Database) -> None:
    ahead = datetime.now(UTC) + timedelta(minutes=10)
    lease = timedelta(minutes=2)
    with database.transaction() as connection:
        farewell = outbox.queue_farewell(connection, "sms", database.sealer.seal(PHONE), "Erased.", datetime.now(UTC))
        assert [f.id for f in outbox.claim_farewells(connection, database.sealer, ["sms"], datetime.now(UTC), lease)] == [farewell]
        assert outbox.claim_farewells(connection, database.sealer, ["sms"], ahead, lease) == [], "still within its lease"
    age(database, FAREWELLS, "claimed_at", lease + timedelta(seconds=1))
    with database.transaction() as connection:
        assert [f.id for f in outbox.claim_farewells(connection, database.sealer, ["sms"], datetime.now(UTC), lease)] == [farewell]


# ----------------------------------------------------------------------------- due tasks

TASK_LEASE = timedelta(seconds=45)
"""Shorter than the scheduler's five minutes, so that clocks 30 s either way would decide it."""
HOLDER_AND_LOOKER = [(timedelta(seconds=-30), timedelta(seconds=30)), (timedelta(seconds=30), timedelta(seconds=-30))]


def _due_task(database: Database) -> int:
    with database.transaction() as connection:
        return int(connection.execute(insert(DUE_TASKS).values(
            kind="reminder", payload={}, due_at=datetime.now(UTC) - timedelta(minutes=5), attempts=0, done=False,
            created_at=datetime.now(UTC)).returning(DUE_TASKS.c.id)).scalar_one())


def _claim_task(database: Database, worker: str, skew: timedelta) -> list[due_tasks.ClaimedTask]:
    with database.transaction() as connection:
        return due_tasks.claim(connection, worker, Shifted(skew)(), 10, TASK_LEASE)


def _time_passes(database: Database, table: Any, by: timedelta, *columns: str) -> None:
    """``by`` goes by on every clock: each stamp moves that far into the past."""
    for column in columns:
        age(database, table, column, by)


@pytest.mark.parametrize(("holder", "looker"), HOLDER_AND_LOOKER, ids=["holder-behind", "holder-ahead"])
def test_a_scheduler_with_its_clock_off_takes_over_a_task_exactly_when_the_lease_runs_out(
        database: Database, holder: timedelta, looker: timedelta) -> None:
    """Another scheduler's claim is respected for its lease in the database's time, and a dead
    one's task is taken once the lease has run out, whichever scheduler's clock is ahead."""
    task = _due_task(database)
    assert [claimed.id for claimed in _claim_task(database, "holder", holder)] == [task]
    with database.transaction() as connection:
        held_since = connection.execute(select(DUE_TASKS.c.claimed_at).where(DUE_TASKS.c.id == task)).scalar_one()
    assert _claim_task(database, "looker", looker) == [], "claimed seconds ago"
    _time_passes(database, DUE_TASKS, TASK_LEASE - timedelta(seconds=1), "claimed_at", "leased_at")
    assert _claim_task(database, "looker", looker) == [], "the lease has a second to run"
    _time_passes(database, DUE_TASKS, timedelta(seconds=2), "claimed_at", "leased_at")
    [taken] = _claim_task(database, "looker", looker)
    assert taken.id == task and taken.attempts == 2
    assert taken.previous_claim == held_since - TASK_LEASE - timedelta(seconds=1), (
        "what the holder did is looked for from its own clock's time, the clock its service stamped it with")


def test_a_released_task_is_free_at_once_and_a_claim_made_before_leases_runs_from_its_claim(database: Database) -> None:
    task = _due_task(database)
    [claimed] = _claim_task(database, "holder", timedelta(0))
    with database.transaction() as connection:
        due_tasks.release(connection, task, claimed.due_at)
    assert [found.id for found in _claim_task(database, "looker", timedelta(0))] == [task]
    with database.transaction() as connection:  # as an earlier version claimed it: no lease stamp
        connection.execute(update(DUE_TASKS).values(claimed_at=datetime.now(UTC), leased_at=None, claimed_by="older"))
    assert _claim_task(database, "looker", timedelta(0)) == []
    age(database, DUE_TASKS, "claimed_at", TASK_LEASE + timedelta(seconds=1))
    assert [found.id for found in _claim_task(database, "looker", timedelta(0))] == [task]


# ----------------------------------------------------------------------------- voice notes


def _voice_pipeline(service: ConversationService, skew: timedelta, claimer: str, folder: Path) -> VoicePipeline:
    """A process transcribing voice notes whose clock is ``skew`` off."""
    shifted = ConversationService(service.database, service.studies, Shifted(skew), address_key=TEST_ADDRESS_KEY, publish=False)
    settings = WhisperSettings()
    return VoicePipeline(shifted, ThreadPoolTranscriptionQueue(Canned(), settings=settings), Fetcher(b"OggS"),
                         VoiceSettings(30.0, folder), settings, claimer=claimer)


@pytest.mark.parametrize(("holder", "looker"), HOLDER_AND_LOOKER, ids=["holder-behind", "holder-ahead"])
def test_a_voice_note_is_taken_over_exactly_when_its_claim_runs_out_in_the_database_time(
        service: ConversationService, say: Say, tmp_path: Path, holder: timedelta, looker: timedelta) -> None:
    at_story(say)
    note = say("", media=VOICE).inbound_id
    assert note is not None
    holding = _voice_pipeline(service, holder, "another-host:42:0a1b2c3d", tmp_path / "holder")  # (alive, as far as anyone knows)
    looking = _voice_pipeline(service, looker, "this-host:43:0a1b2c3d", tmp_path / "looker")
    try:
        assert holding._claim(note)
        assert not looking._claim(note), "being transcribed"
        _time_passes(service.database, INBOUND, STALE_CLAIM - timedelta(seconds=1), "processed_at")
        assert not looking._claim(note), "the claim has a second to run"
        with service.database.transaction() as connection:
            assert repository.voice_backlog(connection, datetime(1970, 1, 1, tzinfo=UTC), STALE_CLAIM) == []
        _time_passes(service.database, INBOUND, timedelta(seconds=2), "processed_at")
        with service.database.transaction() as connection:
            assert repository.voice_backlog(connection, datetime(1970, 1, 1, tzinfo=UTC), STALE_CLAIM) == [note]
        assert looking._claim(note), "its holder never finished: taken over"
        with service.database.transaction() as connection:
            assert connection.execute(select(INBOUND.c.claimed_by).where(INBOUND.c.id == note)).scalar_one() == looking.claimer
    finally:
        holding.queue.shutdown(wait=False)
        looking.queue.shutdown(wait=False)


# ----------------------------------------------------------------------------- the oldest 'sending' gauge


@pytest.mark.parametrize("skew", SKEWS, ids=["scraper-ahead", "scraper-behind", "scraper-right"])
def test_the_oldest_sending_gauge_is_measured_by_the_clock_that_stamped_the_claim(service: Any, say: Any, skew: timedelta) -> None:
    say("WAIT")
    claimed_at = database_now(service.database) - timedelta(seconds=95)
    with service.database.transaction() as connection:
        connection.execute(OUTBOUND.update().values(status="sending", sent_at=claimed_at))
    [gauge] = [family for family in BacklogCollector(service.database, clock=Shifted(skew)).collect()
               if family.name == "chorus_outbox_oldest_sending_seconds"]
    assert gauge.samples[0].value == pytest.approx(95, abs=3)
