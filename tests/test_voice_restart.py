"""Voice notes left behind by a process that died are picked up again at once at the next start
(bot/voice.py, ``VoicePipeline.recover``): each claim names its process (``host:pid:token``),
and a claim whose process is gone does not hold its sender's later messages back for
``VOICE_HOLD``. The real test kills a real ``chorus serve`` (SIGKILL) while it transcribes."""

from __future__ import annotations

import asyncio
import itertools
import subprocess
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import select

from bot.inbound import VOICE_HOLD
from bot.service import ConversationService, ReceiveResult
from bot.voice import STALE_CLAIM, VoicePipeline, VoiceSettings, abandoned_claimers, this_claimer
from channels.base import InboundMessage, Media
from nlp.transcribe import WhisperSettings, WhisperTranscriber, shared_transcriber
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, INBOUND
from tests import voice_helpers
from tests.channel_helpers import PUBLIC_URL, sign
from tests.crash_harness import Server, providers, reader, write_study
from tests.database_time import age
from tests.db_fixtures import FakeClock
from tests.fake_telegram import wait_for

PHONE = "+447700900456"
VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)
RESTART_WAIT = 120.0
"""Far less than VOICE_HOLD (10 minutes): the note is picked up at the start, not when its claim goes stale."""
LONG_STORY = ("The waiting room was cold and nobody told us anything for hours. "
              "Parking at the hospital is far too expensive for families. "
              "The nurse was kind but we waited four hours to see a doctor. "
              "I work nights, so the morning phone queue is impossible for me. "
              "The practice should open on Saturday mornings for working people. "
              "The pharmacist was great and sorted out my prescription quickly. ")
"""About 25 seconds of speech: long enough to be killed while it is being transcribed (six
different sentences: one said six times reads as a recogniser looping, and is read back)."""


@pytest.fixture(scope="module")
def whisper() -> WhisperTranscriber:
    return shared_transcriber(WhisperSettings())


@pytest.fixture(scope="module")
def spoken(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], bytes]:
    folder = tmp_path_factory.mktemp("spoken")
    made: dict[str, bytes] = {}

    def speak(text: str) -> bytes:
        if text not in made:
            made[text] = voice_helpers.speak(text, folder / f"{len(made)}.ogg").read_bytes()
        return made[text]

    return speak


def a_dead_process() -> int:
    """The id of a process of this machine that has ended."""
    ended = subprocess.Popen(["true"])
    ended.wait()
    return ended.pid


# ----------------------------------------------------------------------------- whose claims are abandoned


def test_a_claim_of_a_process_that_is_not_running_on_this_machine_is_abandoned() -> None:
    me = this_claimer()
    host, pid, _ = me.rsplit(":", 2)
    dead = f"{host}:{a_dead_process()}:0a1b2c3d"
    alive_sibling = f"{host}:1:0a1b2c3d"  # init: running
    assert abandoned_claimers([dead, alive_sibling, me], me) == [dead]


def test_an_earlier_life_of_this_process_id_is_abandoned_but_this_process_is_not() -> None:
    me = this_claimer()
    host, pid, _ = me.rsplit(":", 2)
    earlier = f"{host}:{pid}:ffffffff"  # pid 1 again in a restarted container
    assert abandoned_claimers([earlier, me], me) == [earlier]


def test_claims_of_other_machines_are_abandoned_only_by_a_process_that_transcribes_alone() -> None:
    me = this_claimer()
    elsewhere, unsigned = "another-host:42:0a1b2c3d", None
    assert abandoned_claimers([elsewhere, unsigned], me, alone=False) == []
    assert abandoned_claimers([elsewhere, unsigned], me, alone=True) == [elsewhere, unsigned]


# ----------------------------------------------------------------------------- recover, on both databases


@pytest.fixture
def send(service: ConversationService) -> Callable[..., ReceiveResult]:
    counter = itertools.count(1)

    def one(text: str, media: tuple[Media, ...] = ()) -> ReceiveResult:
        message = InboundMessage("whatsapp", PHONE, f"SM{next(counter)}", text, media=media)
        return service.accept_many([message], process=True)[0]

    return one


def claim(database: Database, inbound_id: int | None, claimer: str) -> None:
    assert inbound_id is not None
    with database.transaction() as connection:
        assert repository.claim_voice_note(connection, inbound_id, STALE_CLAIM, claimer)


def pipeline(service: ConversationService, whisper: WhisperTranscriber, audio: bytes, folder: Path) -> VoicePipeline:
    async def fetch(channel: str, media: Mapping[str, Any]) -> bytes:
        return audio

    settings = WhisperSettings()
    queue = ThreadPoolTranscriptionQueue(whisper, settings=settings)
    return VoicePipeline(service, queue, fetch, VoiceSettings(30.0, folder), settings, turn_poll=0.02)


def recover(voice: VoicePipeline, alone: bool) -> list[int]:
    async def go() -> list[int]:
        try:
            return await voice.recover(alone=alone)
        finally:
            await voice.close()

    return asyncio.run(go())


def status_of(database: Database, inbound_id: int | None) -> str:
    with database.transaction() as connection:
        return str(connection.execute(select(INBOUND.c.status).where(INBOUND.c.id == inbound_id)).scalar_one())


def test_a_voice_note_whose_process_died_is_picked_up_at_start_and_lets_the_next_message_through(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult], clock: FakeClock,
    whisper: WhisperTranscriber, spoken: Callable[[str], bytes], tmp_path: Path,
) -> None:
    assert send("WAIT").status == "joined" and send("YES").status == "processed"
    host = this_claimer().rsplit(":", 2)[0]
    note = send("", VOICE)
    claim(database, note.inbound_id, f"{host}:{a_dead_process()}:0a1b2c3d")
    typed = send("The chairs were hard")
    assert status_of(database, typed.inbound_id) == "received", "it waits behind the voice note"

    clock.advance(STALE_CLAIM / 10)  # a restart a minute after the crash: the claim is far from stale
    picked = recover(pipeline(service, whisper, spoken("The second one"), tmp_path), alone=False)

    assert picked == [note.inbound_id]
    assert status_of(database, note.inbound_id) == "processed"
    assert status_of(database, typed.inbound_id) == "processed", "released after the transcript, not after VOICE_HOLD"


def test_a_claim_of_another_machine_waits_unless_this_process_transcribes_alone(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult], clock: FakeClock,
    whisper: WhisperTranscriber, spoken: Callable[[str], bytes], tmp_path: Path,
) -> None:
    assert send("WAIT").status == "joined" and send("YES").status == "processed"
    note = send("", VOICE)
    claim(database, note.inbound_id, "another-host:42:0a1b2c3d")
    clock.advance(STALE_CLAIM / 10)
    assert recover(pipeline(service, whisper, spoken("The second one"), tmp_path), alone=False) == []
    assert status_of(database, note.inbound_id) == "transcribing", "that machine may still be transcribing it"

    assert recover(pipeline(service, whisper, spoken("The second one"), tmp_path), alone=True) == [note.inbound_id]
    assert status_of(database, note.inbound_id) == "processed"


def test_a_live_claim_of_this_process_is_left_alone(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult], clock: FakeClock,
    whisper: WhisperTranscriber, spoken: Callable[[str], bytes], tmp_path: Path,
) -> None:
    assert send("WAIT").status == "joined"
    note = send("", VOICE)
    claim(database, note.inbound_id, this_claimer())
    assert recover(pipeline(service, whisper, spoken("The second one"), tmp_path), alone=True) == []
    clock.advance(STALE_CLAIM + VOICE_HOLD)  # unless it is stale: then anyone takes it, as before
    age(database, INBOUND, "processed_at", STALE_CLAIM + VOICE_HOLD)  # (the claim's age is the database's time)
    assert recover(pipeline(service, whisper, spoken("The second one"), tmp_path), alone=False) == [note.inbound_id]


# ----------------------------------------------------------------------------- a real server, killed


def test_a_server_killed_while_transcribing_picks_the_voice_note_up_at_once_when_started_again(tmp_path: Path) -> None:
    studies = write_study(tmp_path / "studies" / "crash", 2)
    url = f"sqlite:///{tmp_path / 'chorus.db'}"
    story = voice_helpers.speak(LONG_STORY, tmp_path / "story.ogg").read_bytes()
    sender = "whatsapp:" + PHONE
    with providers() as (_, twilio, env):
        server = Server(url, studies, tmp_path, env)
        count = itertools.count(1)

        def post(body: str = "", **extra: str) -> None:
            form = {"MessageSid": f"SM{next(count):032x}", "AccountSid": twilio.account_sid, "From": sender,
                    "To": "whatsapp:+447700900888", "Body": body, "NumMedia": "0", **extra}
            headers = {"X-Twilio-Signature": sign(PUBLIC_URL + "/webhooks/twilio", form, twilio.auth_token)}
            assert httpx.post(server.url + "/webhooks/twilio", data=form, headers=headers, timeout=30).status_code == 200

        engine = reader(url)

        def inbox() -> list[tuple[str, str, str | None]]:
            with engine.connect() as connection:
                rows = connection.execute(select(INBOUND.c.text, INBOUND.c.status, INBOUND.c.claimed_by).order_by(INBOUND.c.id)).all()
            return [(row[0], row[1], row[2]) for row in rows]

        server.start()
        try:
            post("JOIN")
            wait_for(lambda: any("Question 1" in body for body in twilio.bodies_to(sender)), 30, "the first question")
            post(NumMedia="1", MediaUrl0=twilio.add_media(story), MediaContentType0="audio/ogg")
            post("The chairs were hard")
            wait_for(lambda: inbox()[1][1] == "transcribing", 60, "the voice note being transcribed")
            server.kill()
            killed = server.process.pid if server.process else 0
            _, note_status, claimer = inbox()[1]
            assert note_status == "transcribing" and claimer is not None and claimer.split(":")[1] == str(killed)
            assert inbox()[2][1] == "received", "the typed answer waits behind the voice note"

            server.start()
            wait_for(lambda: [row[1] for row in inbox()] == ["joined", "processed", "processed"], RESTART_WAIT,
                     f"the voice note and the message after it, picked up at the start:\n{server.log_tail()}")
            with engine.connect() as connection:
                stored = dict(connection.execute(select(ANSWERS.c.step_id, ANSWERS.c.source)).all())
            assert stored == {"q1": "voice", "q2": "text"}, "the voice note answered first, the typed message second"
            wait_for(lambda: twilio.bodies_to(sender)[-1] == "Thank you.", 30, "the goodbye")
        finally:
            server.stop()
            engine.dispose()



def test_a_voice_note_whose_task_never_reached_a_worker_is_picked_up_without_a_restart(
    service: ConversationService, database: Database, send: Callable[..., ReceiveResult],
    whisper: WhisperTranscriber, spoken: Callable[[str], bytes], tmp_path: Path,
) -> None:
    """The broker was down when the webhook stored the note: no task, no claim. A worker looks
    again every so often (bot/worker.py), not only when it starts."""
    assert send("WAIT").status == "joined" and send("YES").status == "processed"
    note = send("", VOICE)
    typed = send("The chairs were hard")
    assert status_of(database, typed.inbound_id) == "received", "it waits behind the voice note"
    voice = pipeline(service, whisper, spoken("The second one"), tmp_path)

    async def go() -> None:
        looking = asyncio.create_task(voice.keep_recovering(every=0.05))
        try:
            for _ in range(600):
                if status_of(database, typed.inbound_id) == "processed":
                    return
                await asyncio.sleep(0.1)
        finally:
            looking.cancel()
            await voice.close()

    asyncio.run(go())
    assert status_of(database, note.inbound_id) == "processed"
    assert status_of(database, typed.inbound_id) == "processed", "released after the transcript"
