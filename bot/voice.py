"""Voice notes inside the conversation: fetched and transcribed off the request path.

The webhook stores a voice note (status ``awaiting_transcript``) and is answered at once;
:meth:`VoicePipeline.start` then carries on in the background, on the app's event loop:

1. claim the note (``transcribing``, signed by this process, ``host:pid:token``; claim-by-update,
   so two workers never both take it), and ask the service who sent it, whether the question
   takes voice, and whether the study keeps audio (``retention: {audio: keep}``), and find the
   sender's language;
2. fetch the bytes with the channel's own download function (Telegram getFile, Twilio
   media with the account's credentials); a failure is ``download_failed``;
3. spool them to ``CHORUS_VOICE_AUDIO_DIR`` (owner-only file) and hand the file, with the
   sender's language, to the :class:`~nlp.voice_worker.TranscriptionQueue` (the in-process
   thread pool by default);
4. if that takes longer than ``CHORUS_VOICE_ACK_SECONDS`` (2 s), say "Thanks, listening
   to your voice note…" (once a note: not again when it is picked up again after its
   worker was killed, :data:`bot.voice_replies.ACKNOWLEDGED`);
5. once any earlier voice note of the sender's is done (each in its place), hand the
   transcript to ``service.receive_transcript`` (the engine reads it as a voice
   answer and the transcript row is stored with it), or, when the model cannot hear the
   sender's language (Welsh, say, and the English-only tiny.en: its "transcript" is English
   words made up from other speech), ask them in their language to type instead and tell the
   coordinator why (unless the note says only STOP or DELETE MY DATA, honoured as ever), or,
   when the sender's language is one it hears but the note may be in another of the study's
   languages, one it cannot (most of its words improbable: ``sounds_foreign``), say so in both
   and offer that language ("Am Gymraeg, atebwch CYMRAEG"; :meth:`VoicePipeline._not_understood`),
   or, when the note gave nothing,
   reply kindly (keyed by the failure's ``message_key``), mark the inbound message
   ``transcription_failed`` and raise a ``voice_failed`` flag for the coordinator.
   A note sent with a caption (Telegram) or a message body (WhatsApp, MMS) answers with the
   caption first, then the transcript (:func:`captioned`); when it gives no transcript, the
   caption alone is its answer (read as typed, after a short "we couldn't play your voice note;
   we've kept what you wrote") and the flag says so;
   a caption that is a global word (STOP, HELP...), or one from someone in no study or at a
   question that wants typing, is read alone as typed, and the note is not transcribed;
6. delete the spooled audio, because a voice identifies a person, unless the study keeps it;
7. process what the sender sent after the note: it waited, still ``received``, for the note
   (``service.process_in_turn``; the inbox worker leaves it alone until then).

Installed on an app by :func:`bot.voice_app.install` (see bot/app.py), which builds one pipeline and one
transcription pool per app in its lifespan. At start-up (:meth:`VoicePipeline.recover`) it
picks up the notes left waiting, however old: at once those whose process is gone (killed,
crashed), so that their senders' later messages are not held back for ``VOICE_HOLD``. One that
waited longer than ``TOO_OLD`` is not transcribed but recorded as skipped (status
``voice_skipped``, a ``voice_skipped`` flag saying why), never left waiting in silence.

The web chat simulator's voice notes (bot/simulator.py) are held in memory
(:class:`bot.voice_app.HeldAudio`) and go through the same pipeline.
"""

from __future__ import annotations

import asyncio
import logging
import math
import os
import re
import secrets
import socket
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, select, update

from bot import erasure, metrics
from bot.concerns import flag_text
from bot.log_safety import scrub
from bot.outage import is_database_error
from bot.processes import running
from bot.safeguarding import concern_in_unheard
from bot.service import ConversationService
from bot.voice_replies import VoiceContext, store_transcript
from channels.media import MediaTooLarge
from flows.engine import SPOKEN_COMMANDS
from flows.session_state import LIVE
from flows.words import Words
from nlp.audio import FailureKind, TranscriptionError
from nlp.transcribe import Transcript, WhisperSettings, model_hears, whisper_language
from nlp.voice_worker import TranscriptionQueue, TranscriptionResult
from storage import repository
from storage.tables import INBOUND

log = logging.getLogger("chorus.voice")
Fetch = Callable[[str, Mapping[str, Any]], Awaitable[bytes]]
"""``fetch(channel, media)``: the bytes of one stored media item (url, content_type, size)."""

STALE_CLAIM = timedelta(minutes=10)
"""The lease on a claim (a note being transcribed), stamped and measured by the database's clock
(storage/database_clock.py): after it, another process may take the note over."""
TOO_OLD = timedelta(hours=24)
"""A voice note found still waiting this long after it came (the server was down for a weekend,
its task was lost) is not transcribed: VOICE_HOLD has long let its sender's later messages
through, so it would answer whatever is being asked now. It is recorded as skipped, with a
flag for the coordinator, who can ask for it again."""
EVER = datetime(1970, 1, 1, tzinfo=UTC)
"""How far back :meth:`VoicePipeline.recover` looks: to the first note. Cheap: the notes still
waiting are found by their status (index ``ix_inbound_status``), never by a scan of every message."""
UNHEARD = "language_unsupported"
"""The ``error_kind`` of a voice note in a language the model cannot transcribe."""
SUSPECTED = "language_suspected"
"""The ``error_kind`` of a voice note that may be in another of the study's languages, one the
model cannot transcribe (:attr:`nlp.transcribe.Transcript.sounds_foreign`)."""
EXTENSIONS = {"audio/ogg": ".ogg", "audio/opus": ".ogg", "audio/mpeg": ".mp3", "audio/mp4": ".m4a", "audio/aac": ".aac",
              "audio/amr": ".amr", "audio/wav": ".wav", "audio/x-wav": ".wav", "audio/webm": ".webm", "audio/flac": ".flac"}
CAPTION_KEPT = " (its caption was taken as the answer)"
"""Said in the flag of a captioned voice note that gave no transcript."""
SENTENCE_ENDS = ".!?…:;,"
"""A caption ending in one of these is followed by the transcript after a space; otherwise after ". "."""
RECOVER_EVERY = 60.0
DATABASE_AWAY = "database_away"
"""A voice note's outcome when the database failed while it was handled: nothing of it was kept,
and it is taken again from the start once the database answers (1 s, doubling to 30 s, for up to
:data:`STALE_CLAIM`; after that :meth:`VoicePipeline.recover` finds it)."""
"""Seconds between a worker's looks for voice notes left waiting (their task never queued)."""
ERASED = "erased"
"""A voice note's outcome when its sender was erased while it was fetched or transcribed."""


@dataclass(frozen=True)
class VoiceSettings:
    """``CHORUS_VOICE_ACK_SECONDS`` (2), ``CHORUS_VOICE_AUDIO_DIR`` (var/audio) and
    ``CHORUS_VOICE_DOWNLOAD_SECONDS`` (30). Size and duration limits are the transcriber's
    (``CHORUS_VOICE_MAX_BYTES``, ``CHORUS_VOICE_MAX_SECONDS``)."""

    acknowledge_after: float = 2.0
    audio_dir: Path = Path("var/audio")
    download_timeout: float = 30.0

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> VoiceSettings:
        env = os.environ if environ is None else environ

        def number(name: str, default: float) -> float:
            raw = env.get(name, "").strip()
            try:
                value = float(raw) if raw else default
            except ValueError:
                value = -1.0
            if not value >= 0:
                raise ValueError(f"{name} must be a number of seconds >= 0, not {raw!r}")
            return value

        return cls(
            acknowledge_after=number("CHORUS_VOICE_ACK_SECONDS", cls.acknowledge_after),
            audio_dir=Path(env.get("CHORUS_VOICE_AUDIO_DIR", "").strip() or cls.audio_dir),
            download_timeout=number("CHORUS_VOICE_DOWNLOAD_SECONDS", cls.download_timeout) or cls.download_timeout,
        )


@dataclass(frozen=True)
class VoiceOutcome:
    """What became of one voice note (for logs and tests)."""

    inbound_id: int
    status: str
    """processed (or another ReceiveResult status), transcription_failed, voice_not_accepted,
    caption_kept (its caption is its answer, read as typed: the note gave no transcript, or was not
    to be transcribed, see :meth:`VoicePipeline._caption_alone`), skipped (another worker has it)
    or :data:`DATABASE_AWAY` (the database failed: tried again, then left to :meth:`VoicePipeline.recover`)."""
    failure: str | None = None
    acknowledged: bool = False
    audio_path: str | None = None


@dataclass
class VoicePipeline:
    service: ConversationService
    queue: TranscriptionQueue
    fetch: Fetch
    settings: VoiceSettings = field(default_factory=VoiceSettings)
    whisper: WhisperSettings = field(default_factory=WhisperSettings)
    on_queued: Callable[[], None] = lambda: None
    """Called (on the event loop) after messages were queued: nudges the outbox dispatcher."""
    model_name: str = ""
    turn_poll: float = 0.25
    """Seconds between looks at whether an earlier voice note of the sender's is done (:meth:`_wait_turn`)."""
    claimer: str = ""
    """How this pipeline signs its claims on voice notes: this process (:func:`this_claimer`) by default."""
    database_retry: float = 1.0
    """Seconds before a note the database failed is taken again (doubling, at most 30: :data:`DATABASE_AWAY`)."""
    database_patience: float = STALE_CLAIM.total_seconds()
    """How long a note the database failed is tried again here before it is left to :meth:`recover`."""

    def __post_init__(self) -> None:
        self._tasks: set[asyncio.Task[VoiceOutcome]] = set()
        self._abandoned: list[str | None] = []
        self.model_name = self.model_name or _model_name(self.queue, self.whisper)
        self.claimer = self.claimer or this_claimer()

    # ------------------------------------------------------------------ running

    def start(self, inbound_id: int) -> asyncio.Task[VoiceOutcome]:
        """Carry on with a stored voice note in the background; call from the event loop."""
        task = asyncio.get_running_loop().create_task(self.process(inbound_id), name=f"chorus-voice-{inbound_id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def recover(self, alone: bool = False) -> list[int]:
        """Start the voice notes a stopped or crashed process left waiting (at start-up), however
        old: those never claimed, and those whose claim belonged to a process that is gone
        (:func:`abandoned_claimers`; ``alone``: this is the only process transcribing), at once,
        so that their senders' later messages are not held back; any other claim once it is
        ``STALE_CLAIM`` old (its process may still be at work on it). Those ``TOO_OLD`` to answer
        are recorded as skipped (:meth:`_skip_too_old`). The ids of the notes started."""
        now = self.service.clock()
        with self.service.database.transaction() as connection:
            self._abandoned = abandoned_claimers(repository.voice_claimers(connection), self.claimer, alone)
            waiting = repository.voice_backlog(connection, EVER, STALE_CLAIM, abandoned=self._abandoned)
            ids = repository.voice_backlog(connection, now - TOO_OLD, STALE_CLAIM, abandoned=self._abandoned) if waiting else []
        too_old = [inbound_id for inbound_id in waiting if inbound_id not in ids]
        skipped = [inbound_id for inbound_id in too_old if await asyncio.to_thread(self._skip_too_old, inbound_id)]
        if skipped:
            log.warning("skipped %d voice notes that waited more than %s for a transcript", len(skipped), TOO_OLD,
                        extra={"event": "voice.too_old", "count": len(skipped)})
        if ids:
            log.info("picking up %d voice notes left waiting", len(ids), extra={"event": "voice.recovered", "count": len(ids)})
        for inbound_id in ids:
            self.start(inbound_id)
        return ids

    async def keep_recovering(self, every: float = RECOVER_EVERY) -> None:
        """:meth:`recover` every ``every`` seconds, for a worker: a voice note whose task never
        reached the broker (it was down when the webhook stored the note) is picked up within
        that time, not at the next restart. (A note its task did reach is claimed by whoever
        gets to it first; the other finds it taken.)"""
        while True:
            await asyncio.sleep(every)
            try:
                await self.recover()
            except Exception as error:  # the database may be away: the next look will do
                log.warning("could not look for voice notes left waiting (%s); looking again in %.0f s", type(error).__name__, every)

    async def drain(self, timeout: float = 60.0) -> None:
        """Wait for the voice notes in hand (at shutdown); cancel what is still going after ``timeout``."""
        if self._tasks:
            _, pending = await asyncio.wait(set(self._tasks), timeout=timeout)
            for task in pending:
                task.cancel()

    async def close(self) -> None:
        await self.drain()
        self.queue.shutdown(wait=False)

    # ------------------------------------------------------------------ one voice note

    async def process(self, inbound_id: int) -> VoiceOutcome:
        """One voice note, start to end; then what its sender sent after it, which waited for it
        (:meth:`_release`)."""
        outcome = await self._carry_on(inbound_id, time.monotonic())
        waited, delay = 0.0, self.database_retry
        while outcome.status == DATABASE_AWAY and waited < self.database_patience:
            await asyncio.sleep(delay)  # the database's fault, not the note's: once it answers, the note again
            waited, delay = waited + delay, min(delay * 2, 30.0)
            if await asyncio.to_thread(self._unclaim, inbound_id):
                outcome = await self._carry_on(inbound_id, time.monotonic())
        if outcome.status == DATABASE_AWAY:  # still: handed back (if the database lets it) for :meth:`recover`
            await asyncio.to_thread(self._unclaim, inbound_id)
        elif outcome.status not in ("skipped", ERASED):
            await self._release(inbound_id)
        return outcome

    def _unclaim(self, inbound_id: int) -> bool:
        """Hand back this process's claim on a note whose handling the database cut short, so it
        is taken again from the start; False while the database is still away."""
        try:
            with self.service.database.transaction() as connection:
                connection.execute(update(INBOUND).where(INBOUND.c.id == inbound_id, INBOUND.c.status == "transcribing",
                                                         INBOUND.c.claimed_by == self.claimer)
                                   .values(status="awaiting_transcript", claimed_by=None))
        except Exception as error:
            if not is_database_error(error):
                raise
            return False
        return True

    async def _carry_on(self, inbound_id: int, started: float) -> VoiceOutcome:
        caption = ""
        try:
            if not await asyncio.to_thread(self._claim, inbound_id):
                return VoiceOutcome(inbound_id, "skipped")
            caption = await asyncio.to_thread(self._caption_of, inbound_id)
            context = await asyncio.to_thread(self.service.voice_context, inbound_id)
            if await asyncio.to_thread(self._caption_alone, context, caption):
                await asyncio.to_thread(self._keep_caption, inbound_id)
                return VoiceOutcome(inbound_id, "caption_kept")
            if context.study_id is None:  # someone in no study: their voice is neither fetched nor kept
                if await asyncio.to_thread(self.service.answer_stranger, inbound_id):
                    self.on_queued()
                return VoiceOutcome(inbound_id, "not_enrolled")
            if not context.accepts_voice:
                await self._reply(inbound_id, "voice.not_accepted", status="voice_not_accepted")
                return VoiceOutcome(inbound_id, "voice_not_accepted")
            language = await asyncio.to_thread(self._language_of, context.participant_id, context.study_id)
            return await self._transcribe(context, started, language, caption)
        except Exception as error:  # a bug or a missing model: the participant still hears back
            if is_database_error(error):  # a connection dropped, a server restarting: not the note's fault
                log.warning("voice note %s: the database failed (%s); it is taken again once the database answers",
                            inbound_id, type(error).__name__)  # (no SQL: its parameters hold what was said)
                return VoiceOutcome(inbound_id, DATABASE_AWAY)
            if await asyncio.to_thread(self._erased_meanwhile, inbound_id):
                return VoiceOutcome(inbound_id, ERASED)
            return await self._broken(inbound_id, error, caption)

    def _erased_meanwhile(self, inbound_id: int) -> bool:
        """Whether the note's sender was erased while it was handled (its row is gone): then what
        was written since (a kept copy) goes too, and nobody is told, nor the failure logged as one."""
        try:
            removed = erasure.audio_of_erased_note(self.service.database, inbound_id, self.settings.audio_dir)
        except Exception:  # the database away too: the note is handled as a failure, as before
            return False
        if removed is not None:
            log.info("voice note %s: its sender was erased while it was handled; dropped (%d audio file(s) deleted)",
                     inbound_id, removed, extra={"event": "voice.erased", "inbound_id": inbound_id})
        return removed is not None

    async def _broken(self, inbound_id: int, error: Exception, caption: str) -> VoiceOutcome:
        """A voice note that failed inside Chorus: the coordinator is told; the participant is too,
        or, when they wrote a caption, it is their answer (:meth:`_keep_caption`)."""
        log.exception("voice note %s failed", inbound_id)
        detail = f"{type(error).__name__}: {str(error).splitlines()[0] if str(error) else ''}"[:300]
        shown = without_paths(detail, self.settings.audio_dir)
        flag = f"voice note {inbound_id} could not be transcribed: {shown}"
        try:
            if caption:
                await self._caption_instead(inbound_id, caption, f"internal: {detail}", f"{flag}{CAPTION_KEPT}")
                return VoiceOutcome(inbound_id, "caption_kept", "internal")
        except Exception:
            log.exception("voice note %s: could not keep its caption", inbound_id)
        try:
            await self._reply(inbound_id, "voice.failed", status="transcription_failed", error=f"internal: {detail}",
                              flag=("voice_failed", flag))
        except Exception:
            log.exception("voice note %s: could not tell the participant", inbound_id)
        return VoiceOutcome(inbound_id, "transcription_failed", "internal")

    async def _transcribe(self, context: VoiceContext, started: float, language: str | None = None, caption: str = "") -> VoiceOutcome:
        media = _voice_media(context.media)
        record: dict[str, Any] = {"model": self.model_name, "content_type": media.get("content_type")}
        try:
            audio = await self._download(context, media)
        except TranscriptionError as error:
            return await self._failed(context, error, {**record, "seconds": time.monotonic() - started}, False, caption)
        path = self._spool(context, audio, media)
        record.update(audio_bytes=len(audio), audio_path=str(path) if context.keep_audio else None)
        del audio
        fetching = time.monotonic() - started
        try:
            job = self.queue.submit(f"inbound-{context.inbound_id}", path, {"inbound_id": context.inbound_id, "language": language})
            result, acknowledged = await self._wait(job.result_async(), context.inbound_id, started)
        finally:
            if not context.keep_audio:
                path.unlink(missing_ok=True)
        record["seconds"] = round(fetching + result.seconds, 3)  # the work on this note, not its wait behind others
        metrics.TRANSCRIPTION.observe(record["seconds"])
        _count_wait(context.inbound_id, result)
        if result.transcript is None:
            failure = result.error or TranscriptionError(FailureKind.CORRUPT, "no transcript and no error")
            return await self._failed(context, failure, record, acknowledged, caption)
        return await self._answer(context, result.transcript, record, acknowledged, caption)

    async def _answer(self, context: VoiceContext, transcript: Transcript, record: dict[str, Any], acknowledged: bool,
                      caption: str = "") -> VoiceOutcome:
        """The transcript as the answer, after the ``caption`` if the note had one (:func:`captioned`);
        the transcript row keeps what was said alone, and its confidence is the answer's."""
        if transcript.unheard_language and not await asyncio.to_thread(self._only_a_command, context.study_id, transcript.text):
            return await self._unheard(context, transcript, record, acknowledged, caption)
        others = self._unheard_languages(context.study_id, transcript.multilingual) if transcript.sounds_foreign else ()
        if others and not await asyncio.to_thread(self._only_a_command, context.study_id, transcript.text):
            return await self._not_understood(context, transcript, record, acknowledged, caption, others)
        record.update(_metadata(transcript), status="heard")
        await self._wait_turn(context.inbound_id)
        given = (context.inbound_id, captioned(caption, transcript.text), transcript.weighed_confidence, record)
        result = await asyncio.to_thread(self.service.receive_transcript, *given)
        if result.outbox_ids:
            self.on_queued()
        log.info("voice note %s from %s: %s (%.1f s audio, confidence %.2f)", context.inbound_id, context.participant_id,
                 result.status, transcript.duration, transcript.confidence,
                 extra={"event": "voice.transcribed", "inbound_id": context.inbound_id, "participant_id": context.participant_id,
                        "seconds": record["seconds"], "confidence": transcript.confidence, "doubts": list(transcript.doubts)})
        return VoiceOutcome(context.inbound_id, result.status, None, acknowledged, record["audio_path"])

    async def _failed(self, context: VoiceContext, error: TranscriptionError, record: dict[str, Any], acknowledged: bool,
                      caption: str = "") -> VoiceOutcome:
        kind = error.kind.value
        metrics.error("voice")
        record.update(status="failed", error_kind=kind, low_confidence=False)
        shown = without_paths(error.detail, self.settings.audio_dir)
        reason = scrub(without_urls(shown))  # what the inbound row keeps, but no link (it may carry a token) and no number
        log.info("voice note %s from %s gave no transcript: %s (%s)", context.inbound_id, context.participant_id, kind, reason,
                 extra={"event": "voice.failed", "inbound_id": context.inbound_id, "participant_id": context.participant_id,
                        "failure": kind, "reason": reason})
        if caption:
            flag = f"voice note {context.inbound_id}: {kind}{CAPTION_KEPT}: {shown}"[:500]
            await self._caption_instead(context.inbound_id, caption, f"{kind}: {error.detail}"[:300], flag, record, context.study_id)
            return VoiceOutcome(context.inbound_id, "caption_kept", kind, acknowledged, record.get("audio_path"))
        # speech it made no words of may be another of the study's languages: offered, in that language, with typing
        offer = self._unheard_languages(context.study_id, self._model_multilingual()) if error.kind is FailureKind.NO_SPEECH else ()
        await self._reply(context.inbound_id, error.message_key, status="transcription_failed", error=f"{kind}: {error.detail}"[:300],
                          flag=("voice_failed", f"voice note {context.inbound_id}: {kind}: {shown}"[:500]), transcript=record,
                          offer=offer)
        return VoiceOutcome(context.inbound_id, "transcription_failed", kind, acknowledged, record.get("audio_path"))

    async def _unheard(self, context: VoiceContext, transcript: Transcript, record: dict[str, Any], acknowledged: bool,
                       caption: str = "") -> VoiceOutcome:
        """A voice note in a language the model cannot transcribe: its words are not taken as an
        answer (an English-only model makes English words up from Welsh speech). The sender is
        asked, in their language, to type instead (or, with a caption, it is their answer); the
        coordinator is told why, and a failed, low-confidence transcript row (``language_unsupported``)
        keeps what the model wrote."""
        language = str(transcript.unheard_language)
        why = "it hears English only" if whisper_language(language) else "Whisper knows no such language"
        detail = f"the speech model ({self.model_name}) cannot transcribe speech in {language!r}: {why}"
        record.update(_metadata(transcript), status="failed", error_kind=UNHEARD)
        log.info("voice note %s from %s: the model cannot transcribe its language", context.inbound_id, context.participant_id,
                 extra={"event": "voice.unheard", "inbound_id": context.inbound_id, "participant_id": context.participant_id,
                        "language": language})
        return await self._asked_to_type(context, UNHEARD, detail, "voice.language_unsupported", record, acknowledged, caption)

    async def _not_understood(self, context: VoiceContext, transcript: Transcript, record: dict[str, Any], acknowledged: bool,
                              caption: str, others: tuple[str, ...]) -> VoiceOutcome:
        """A voice note that may be in another of the study's languages, one the model cannot
        transcribe (``others``): the sender speaks a language it hears, but it believed few of the
        words it wrote (:class:`nlp.transcribe.ForeignSpeech`). Not read back as English made up
        from Welsh: the sender is told, in their language and in each of ``others``, that we could
        not understand it, asked to type, and offered each of those languages ("Am Gymraeg,
        atebwch CYMRAEG"); with a caption, the caption is their answer (:meth:`_caption_instead`).
        The coordinator is told why, and a failed transcript row (``language_suspected``) keeps
        what the model wrote."""
        detail = (f"most of its words were improbable to the speech model ({self.model_name}), which cannot transcribe "
                  f"{', '.join(map(repr, others))}: it may have been in {'that language' if len(others) == 1 else 'one of them'}")
        record.update(_metadata(transcript), status="failed", error_kind=SUSPECTED)
        log.info("voice note %s from %s: may be in a language the model cannot transcribe", context.inbound_id, context.participant_id,
                 extra={"event": "voice.language_suspected", "inbound_id": context.inbound_id,
                        "participant_id": context.participant_id, "languages": list(others)})
        return await self._asked_to_type(context, SUSPECTED, detail, "voice.not_understood", record, acknowledged, caption, others)

    async def _asked_to_type(self, context: VoiceContext, kind: str, detail: str, text: str, record: dict[str, Any],
                             acknowledged: bool, caption: str, offer: tuple[str, ...] = ()) -> VoiceOutcome:
        """A note not taken as an answer for ``kind`` (``detail`` says why, to the coordinator): with
        a caption, the caption is the answer (:meth:`_caption_instead`); otherwise the sender gets
        ``text`` (and each language of ``offer``) asking them to type, and a flag is raised."""
        if caption:
            flag = f"voice note {context.inbound_id}: {kind}{CAPTION_KEPT}: {detail}"
            await self._caption_instead(context.inbound_id, caption, f"{kind}: {detail}", flag, record, context.study_id)
            return VoiceOutcome(context.inbound_id, "caption_kept", kind, acknowledged, record.get("audio_path"))
        await self._reply(context.inbound_id, text, status="transcription_failed", error=f"{kind}: {detail}",
                          flag=("voice_failed", f"voice note {context.inbound_id}: {kind}: {detail}; asked to type instead"),
                          transcript=record, offer=offer)
        return VoiceOutcome(context.inbound_id, "transcription_failed", kind, acknowledged, record.get("audio_path"))

    # ------------------------------------------------------------------ in order

    async def _wait_turn(self, inbound_id: int) -> None:
        """Wait while an earlier voice note of the same sender is still being transcribed: each
        transcript is applied in the order the notes came (at most ``VOICE_HOLD`` after the earlier one)."""
        while await asyncio.to_thread(self.service.behind_voice_note, inbound_id):
            await asyncio.sleep(self.turn_poll)

    async def _release(self, inbound_id: int) -> None:
        """Process what the sender sent after this note, which waited for it: at once, rather
        than at the inbox worker's next poll. A failure here is left to the inbox worker."""
        try:
            participant_id = await asyncio.to_thread(self.service.sender_of, inbound_id)
            results = await asyncio.to_thread(self.service.process_in_turn, participant_id) if participant_id else []
        except Exception:
            log.exception("voice note %s: could not process the messages that waited for it", inbound_id)
            return
        if any(result.outbox_ids for result in results):
            self.on_queued()

    # ------------------------------------------------------------------ helpers

    def _claim(self, inbound_id: int) -> bool:
        with self.service.database.transaction() as connection:
            return repository.claim_voice_note(connection, inbound_id, STALE_CLAIM, self.claimer, self._abandoned)

    def _skip_too_old(self, inbound_id: int) -> bool:
        """Claim a note ``TOO_OLD`` to transcribe and, in the same transaction, record it as
        skipped: status ``voice_skipped`` with the reason, and a ``voice_skipped`` flag for the
        coordinator of the sender's study. False when another worker has it."""
        now = self.service.clock()
        reason = f"too_old: waited more than {_hours(TOO_OLD)} for a transcript (the server was down, or its task was lost)"
        with self.service.database.transaction() as connection:
            if not repository.claim_voice_note(connection, inbound_id, STALE_CLAIM, self.claimer, self._abandoned):
                return False
            repository.set_inbound_status(connection, inbound_id, "voice_skipped", now, reason)
            message = f"voice note {inbound_id} was not transcribed: {reason}. Ask for it again if it still matters."
            _add_flags(connection, inbound_id, [("voice_skipped", message)], now)
        return True

    def _caption_of(self, inbound_id: int) -> str:
        """What the sender wrote with a voice note (a Telegram caption, a WhatsApp message's body); "" for none."""
        with self.service.database.read_transaction() as connection:
            found = connection.execute(select(INBOUND.c.text).where(INBOUND.c.id == inbound_id)).scalar()
        return str(found or "").strip()

    def _caption_alone(self, context: VoiceContext, caption: str) -> bool:
        """Whether a voice note's caption is read alone, as typed, and the note not transcribed:
        from someone in no study (the caption may name one to join), at a question that wants a
        typed answer, or when the caption is a global word (STOP, HELP, BACK...), obeyed as typed."""
        if not caption:
            return False
        if context.study_id is None or not context.accepts_voice:
            return True
        return self._words(context.study_id).command(caption) is not None

    async def _caption_instead(self, inbound_id: int, caption: str, error: str, flag: str, record: Mapping[str, Any] | None = None,
                               study_id: str | None = None) -> None:
        """A captioned voice note that gave no transcript: its caption is its answer
        (:meth:`_keep_caption`), and the sender is told briefly, in the same transaction, before
        the caption is read, that the note could not be played and their words were kept
        ("voice.caption_kept"), unless the caption is a global word (STOP, HELP...), answered as
        typed (in the study's words, or, with no study known, the built-in ones)."""
        notify = await asyncio.to_thread(lambda: self._words(study_id).command(caption) is None)
        await asyncio.to_thread(self._keep_caption, inbound_id, error, flag, record, notify)
        if notify:
            self.on_queued()

    def _unheard_languages(self, study_id: str | None, multilingual: bool | None) -> tuple[str, ...]:
        """The study's languages the model cannot transcribe (:func:`nlp.transcribe.model_hears`;
        ``multilingual`` None: not known, so only those Whisper does not know at all)."""
        try:
            languages = self.service.studies.get(study_id).study.languages if study_id else []
        except KeyError:
            return ()
        return tuple(code for code in languages if not model_hears(code, multilingual))

    def _model_multilingual(self) -> bool | None:
        """Whether the queue's model hears more than English, when it can tell (an in-process
        transcriber, whose model is loaded by now); None otherwise."""
        found = getattr(getattr(self.queue, "transcriber", None), "multilingual", None)
        return found if isinstance(found, bool) else None

    def _keep_caption(self, inbound_id: int, error: str | None = None, flag: str | None = None,
                      record: Mapping[str, Any] | None = None, notify: bool = False) -> None:
        """A captioned voice note's caption as its answer, read as typed: the note is ``received``
        again, for :meth:`_release` (or the inbox worker) to process in its turn. When it gave no
        transcript, in the same transaction: the ``error`` kept on the message, a ``voice_failed``
        ``flag`` for the coordinator and the failed transcript ``record``, as for any note that gave
        none, and a ``safeguarding`` flag if what the model wrote of an unheard language reads as a
        risk (:func:`bot.safeguarding.concern_in_unheard`). ``notify``: the sender is told so too
        (:meth:`_caption_instead`), by :meth:`~bot.voice_replies.VoiceReplies.voice_reply`, which
        does all of that in its transaction."""
        if notify:
            self.service.voice_reply(inbound_id, "voice.caption_kept", status="received", error=error,
                                     flag=("voice_failed", flag) if flag else None, transcript=dict(record) if record is not None else None)
            return
        now = self.service.clock()
        heard = str(record.get("text") or "") if record is not None else ""
        concern = concern_in_unheard(self.service.safety.quick, heard)
        flags = [("voice_failed", flag)] if flag else []
        if concern is not None:
            flags.append(("safeguarding", flag_text(concern, inbound_id, heard)))
        with self.service.database.transaction() as connection:
            found = repository.inbound_participant(connection, inbound_id)
            if record is not None and found is not None and found[0] is not None:
                store_transcript(connection, found[0], inbound_id, dict(record), now)
            _add_flags(connection, inbound_id, flags, now)
            repository.set_inbound_status(connection, inbound_id, "received", now, error)

    def _language_of(self, participant_id: str, study_id: str | None) -> str | None:
        """The language the sender is spoken to in: their conversation's, else their enrolment's."""
        with self.service.database.read_transaction() as connection:
            session = repository.latest_session(connection, participant_id)
            if session is not None and session.state.get("language"):
                return str(session.state["language"])
            enrolments = repository.enrolments_of(connection, participant_id)
        return next((e.language for e in enrolments if e.study_id == study_id), None)

    def _only_a_command(self, study_id: str | None, text: str) -> bool:
        """Whether a transcript says only STOP or DELETE MY DATA, in the study's words or the
        built-in ones: honoured even in a language the model cannot hear, as ever."""
        return self._words(study_id).command(text) in SPOKEN_COMMANDS

    def _words(self, study_id: str | None) -> Words:
        """The study's global words and the built-in ones (those alone for no study, or one gone)."""
        try:
            return Words(self.service.studies.get(study_id).study) if study_id else Words()
        except KeyError:
            return Words()

    async def _download(self, context: VoiceContext, media: Mapping[str, Any]) -> bytes:
        declared = media.get("size")
        if isinstance(declared, int) and declared > self.whisper.max_bytes:
            raise TranscriptionError(FailureKind.TOO_LARGE, f"the channel says {declared} bytes; the limit is {self.whisper.max_bytes}")
        try:
            return await asyncio.wait_for(self.fetch(context.channel, media), self.settings.download_timeout)
        except MediaTooLarge as error:
            raise TranscriptionError(FailureKind.TOO_LARGE, str(error)) from error
        except Exception as error:
            reason = str(error).splitlines()[0] if str(error) else ""
            raise TranscriptionError(FailureKind.DOWNLOAD_FAILED, f"{type(error).__name__}: {reason}"[:300]) from error

    def _spool(self, context: VoiceContext, audio: bytes, media: Mapping[str, Any]) -> Path:
        """Write the note where the worker can read it, readable by this user only."""
        # absolute: the path is stored, and erasure or retention may run in another folder (chorus erase)
        folder = self.settings.audio_dir.absolute()
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        for part in ("kept", context.study_id) if context.keep_audio and context.study_id else ("kept" if context.keep_audio else "spool",):
            folder = folder / part
            folder.mkdir(mode=0o700, exist_ok=True)  # the folders too: a study's name and its notes' count are not everyone's
        path = folder / f"{context.inbound_id}{EXTENSIONS.get(str(media.get('content_type', '')).split(';')[0], '.audio')}"
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(audio)
        return path

    async def _wait(self, result: Awaitable[TranscriptionResult], inbound_id: int, started: float) -> tuple[TranscriptionResult, bool]:
        """The job's result; "listening…" is said if it is not back in time, once a note (a note
        picked up again after its worker was killed is not acknowledged again)."""
        future = asyncio.ensure_future(result)
        remaining = max(0.0, self.settings.acknowledge_after - (time.monotonic() - started))
        done, _ = await asyncio.wait({future}, timeout=remaining)
        if done:
            return future.result(), False
        await self._reply(inbound_id, "voice_listening", once=True)  # not again when the note is picked up again
        return await future, True

    async def _reply(self, inbound_id: int, key: str, **options: Any) -> None:
        ids = await asyncio.to_thread(lambda: self.service.voice_reply(inbound_id, key, **options))
        if ids:
            self.on_queued()


def this_claimer() -> str:
    """This process as it signs its claims on voice notes: ``host:pid:token``. The token tells
    it from an earlier process that had the same id (pid 1 in a restarted container)."""
    return _claimer_of(os.getpid())


@cache
def _claimer_of(pid: int) -> str:
    return f"{socket.gethostname()}:{pid}:{secrets.token_hex(4)}"


def abandoned_claimers(claimers: Iterable[str | None], me: str, alone: bool = False) -> list[str | None]:
    """Of the claimers holding voice notes, those known to be gone, whose notes nobody will finish:
    on this machine, a process that is not running (or has this process's id under another token:
    an earlier life of it); on another machine, or a claim naming no process, only when this
    process is ``alone`` (the only one transcribing: ``chorus serve`` without a broker or
    ``--processes``), since we cannot tell whether it still runs."""
    host, pid, _ = me.rsplit(":", 2)
    gone: list[str | None] = []
    for claimer in claimers:
        parts = claimer.rsplit(":", 2) if claimer else []
        if claimer == me:
            continue
        if len(parts) != 3 or parts[0] != host or not parts[1].isdigit():
            if alone:
                gone.append(claimer)
        elif parts[1] == pid or not running(int(parts[1])):
            gone.append(claimer)
    return gone


def without_paths(detail: str, audio_dir: Path) -> str:
    """``detail`` with any path under ``audio_dir`` (a spooled or kept note, or the folder
    itself) said as "the audio file": a coordinator's flag says what failed, not where this
    server keeps its files. (The inbound message's own error, for operators, keeps the path.)"""
    roots = sorted({str(audio_dir), os.path.abspath(audio_dir), str(audio_dir.resolve())}, key=len, reverse=True)
    any_root = "|".join(map(re.escape, roots))
    quoted_path = rf"""['"]?(?:{any_root})(?:/[^\s'",:;)]*)?['"]?"""
    return re.sub(quoted_path, "the audio file", detail)


URL = re.compile(r"\b[A-Za-z][A-Za-z0-9+.-]*://[^\s'\"<>]*[^\s'\"<>.,;:!?)\]]")
"""A URL of any scheme (https, amqp...), up to a space, a quote or a closing bracket, without the full stop after it."""


def without_urls(detail: str) -> str:
    """``detail`` with each URL said as "[url]": a provider's error may quote the media's
    address, and a Telegram file URL holds the bot's token, a Twilio one the account's id."""
    return URL.sub("[url]", detail)


def captioned(caption: str, transcript: str) -> str:
    """The answer a voice note gives: the caption first, as the participant wrote it first, then
    what they said ("my answer. The waiting room was cold."); either alone when the other is empty."""
    caption, transcript = caption.strip(), transcript.strip()
    if not caption or not transcript:
        return caption or transcript
    return f"{caption}{' ' if caption[-1] in SENTENCE_ENDS else '. '}{transcript}"


def _add_flags(connection: Connection, inbound_id: int, flags: Sequence[tuple[str, str]], now: datetime) -> None:
    """Flags (kind, message) about a voice note for the coordinator of its sender's study, at the
    question being asked; none for a sender in no study."""
    if not flags:
        return
    found = repository.inbound_participant(connection, inbound_id)
    participant_id = found[0] if found else None
    session = repository.latest_session(connection, participant_id) if participant_id else None
    enrolments = repository.enrolments_of(connection, participant_id) if participant_id else []
    study_id = session.study_id if session else next((e.study_id for e in enrolments), None)
    if study_id is None:
        return
    live = session is not None and session.status in LIVE
    where = {"participant_id": participant_id, "study_id": study_id, "flow_id": session.flow_id if session else None,
             "step_id": session.state.get("step") if session is not None and live else None}
    repository.add_flags(connection, [{**where, "kind": kind, "message": message, "acknowledged": False, "created_at": now}
                                      for kind, message in flags])


def _voice_media(media: tuple[dict[str, Any], ...]) -> Mapping[str, Any]:
    for item in media:
        if str(item.get("content_type", "")).startswith("audio/"):
            return item
    return media[0] if media else {}


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} hours"


def _metadata(transcript: Transcript) -> dict[str, Any]:
    data = transcript.to_dict()
    data.pop("text")
    data.pop("unheard_language", None)  # not a column: low_confidence says it
    data.pop("doubts", None)  # nor this: low_confidence says there were some
    finite = {key: (value if not isinstance(value, float) or math.isfinite(value) else None) for key, value in data.items()}
    return {**finite, "text": transcript.text}


NOTICEABLE_WAIT = 1.0
"""Seconds a voice note may wait for a free transcriber before the wait is logged (it is always counted)."""


def _count_wait(inbound_id: int, result: TranscriptionResult) -> None:
    """How long a note waited for a free transcriber, behind other notes: always in
    ``chorus_transcription_wait_seconds``, and in the log when it is noticeable (the transcript
    row's ``seconds`` is the work on the note alone)."""
    metrics.TRANSCRIPTION_WAIT.observe(result.waited)
    if result.waited >= NOTICEABLE_WAIT:
        log.info("voice note %s waited %.1f s for a free transcriber, then took %.1f s", inbound_id, result.waited, result.seconds,
                 extra={"event": "voice.waited", "inbound_id": inbound_id, "wait_seconds": round(result.waited, 3),
                        "seconds": round(result.seconds, 3)})


def _model_name(queue: TranscriptionQueue, whisper: WhisperSettings) -> str:
    transcriber = getattr(queue, "transcriber", None)
    settings = getattr(transcriber, "settings", whisper)
    model = getattr(settings, "model", whisper.model)
    return "tiny.en (packaged)" if model == "packaged" else str(model)
