"""What an operator meets: settings that cannot work stop `chorus serve` and `chorus worker`
with one line (never a traceback), the studies folder served is named, a voice note's failure
reaches the coordinator without the server's file paths, and moderating from the command line
closes the submission's alert as the desk does."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from click.testing import CliRunner
from sqlalchemy import select

from bot.cli import cli
from bot.population import store_submissions
from bot.service import ConversationService, ReceiveResult
from bot.settings import Settings, SettingsError, example_studies, serving_settings
from bot.voice import VoicePipeline, VoiceSettings
from channels.base import Media
from flows.events import RecordAnswer
from flows.population import SUBMISSION_ITEM
from nlp.audio import AudioInput, decode_audio
from nlp.transcribe import LANGUAGES, Transcript, WhisperSettings
from nlp.voice_worker import ThreadPoolTranscriptionQueue
from storage.database import Database
from storage.tables import AUDIT_EVENTS, FLAGS
from tests.conftest import ROOT

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
Say = Callable[..., ReceiveResult]

# ----------------------------------------------------------------------------- settings that cannot work

BAD_VALUES = [
    ("CHORUS_WHISPER_BEAM_SIZE", "x", "a whole number >= 1"),
    ("CHORUS_TELEGRAM_RATE", "abc", "a number > 0"),
    ("CHORUS_TELEGRAM_RATE", "0", "a number > 0"),
    ("CHORUS_TWILIO_SMS_RATE", "fast", "a number > 0"),
    ("CHORUS_TWILIO_WHATSAPP_RATE", "-1", "a number > 0"),
    ("CHORUS_OUTBOX_LEASE", "nan", "a number > 0"),
    ("CHORUS_WHATSAPP_RESEND_HOURS", "a day", "a number > 0"),
    ("CHORUS_WHATSAPP_RESENDS", "-1", "a whole number >= 0"),
    ("CHORUS_DISPATCHER", "sometimes", "embedded or off"),
    ("CHORUS_TELEGRAM_POLLING", "perhaps", "1, true, yes, 0, false or no"),
    ("CHORUS_SAFEGUARDING_THREADS", "many", "a whole number >= 0 or all"),
    ("CHORUS_SAFEGUARDING_WARM_UP", "soon", "a number of seconds >= 0 or off"),
    ("CHORUS_EMBEDDING_THREADS", "0", "a whole number >= 1"),
    ("CHORUS_LOG_LEVEL", "loud", "DEBUG, INFO, WARNING, ERROR or CRITICAL"),
    ("CHORUS_LOG_LIBRARIES", "verbose", "debug or off"),
    ("CHORUS_LOG_FORMAT", "xml", "text or json"),
    ("CHORUS_PORT", "eighty", "a whole number >= 1 and <= 65535"),
    ("CHORUS_PROCESSES", "0", "a whole number >= 1"),
    ("CHORUS_MAX_BODY_BYTES", "lots", "a whole number > 0"),
    ("CHORUS_SIMULATOR", "everyone", "open, coordinators or off"),
    ("CHORUS_SCHEDULER_INTERVAL", "-5", "a number > 0"),
    ("CHORUS_STUDY_WATCH_INTERVAL", "-1", "a number >= 0"),
    ("CHORUS_WHISPER_DEVICE", "gpu", "cpu, cuda or auto"),
    ("CHORUS_WHISPER_COMPUTE_TYPE", "int4", "int8"),
    ("CHORUS_WHISPER_LANGUAGE", "english", "a language code Whisper knows"),
    ("CHORUS_WHISPER_TIMESTAMPS", "maybe", "true or false"),
    ("CHORUS_WHISPER_CPU_THREADS", "-2", "a whole number >= 0"),
    ("CHORUS_VOICE_MAX_BYTES", "16MB", "a whole number >= 1"),
    ("CHORUS_VOICE_MAX_SECONDS", "long", "a positive number"),
    ("CHORUS_VOICE_ACK_SECONDS", "-1", "a number of seconds >= 0"),
    ("CHORUS_VOICE_DOWNLOAD_SECONDS", "half a minute", "a number of seconds >= 0"),
]


@pytest.mark.parametrize(("name", "value", "allowed"), BAD_VALUES)
def test_a_setting_that_cannot_work_is_named_with_its_value_and_what_is_allowed(name: str, value: str, allowed: str) -> None:
    with pytest.raises(SettingsError) as raised:
        serving_settings({name: value})
    message = str(raised.value)
    assert message.startswith(f"{name} must be ") and allowed in message and repr(value).lower() in message.lower()
    assert "\n" not in message


def test_every_numeric_or_enumerated_setting_the_code_reads_is_checked_before_starting() -> None:
    """Any CHORUS_* variable named in the packages is either free text (a path, an address, a
    secret, a model) or refused when it makes no sense: a new setting cannot slip past."""
    text_settings = {"CHORUS_DATABASE_URL", "CHORUS_DATA_KEYS", "CHORUS_DATA_KEY_FILE", "CHORUS_EMBEDDING_MODEL",
                     "CHORUS_HASH_KEY", "CHORUS_HOST", "CHORUS_KEY_FILE", "CHORUS_METRICS_TOKEN", "CHORUS_PUBLIC_URL",
                     "CHORUS_QUEUE_NAMESPACE", "CHORUS_SPOOL_DIR", "CHORUS_STUDIES_DIR", "CHORUS_TELEGRAM_API_BASE", "CHORUS_TWILIO_API_BASE",
                     "CHORUS_VOICE_AUDIO_DIR", "CHORUS_WHISPER_MODEL"}
    named = {match for folder in ("bot", "channels", "nlp", "storage", "flows") for path in (ROOT / folder).rglob("*.py")
             for match in re.findall(r"\bCHORUS_[A-Z][A-Z0-9_]*[A-Z0-9]\b", path.read_text(encoding="utf-8"))}
    checked = named - text_settings
    assert {"CHORUS_TELEGRAM_RATE", "CHORUS_WHISPER_BEAM_SIZE", "CHORUS_OUTBOX_LEASE"} <= checked
    unchecked = []
    for name in sorted(checked):
        try:
            serving_settings({name: "nonsense"})
        except SettingsError as error:
            if name not in str(error):
                unchecked.append(name)
        else:
            unchecked.append(name)
    assert unchecked == []


def test_usable_values_are_taken_as_they_were() -> None:
    settings = serving_settings({
        "CHORUS_TELEGRAM_RATE": "45", "CHORUS_OUTBOX_LEASE": "2", "CHORUS_DISPATCHER": "OFF", "CHORUS_LOG_LEVEL": "debug",
        "CHORUS_SAFEGUARDING_THREADS": "all", "CHORUS_SAFEGUARDING_WARM_UP": "off", "CHORUS_EMBEDDING_THREADS": "2",
        "CHORUS_QUEUE_URL": "amqp://chorus:pw@broker:5672/%2F", "CHORUS_TELEGRAM_POLLING": "yes",
        "CHORUS_WHISPER_BEAM_SIZE": "5", "CHORUS_WHISPER_LANGUAGE": "CY", "CHORUS_VOICE_ACK_SECONDS": "0",
    })
    assert (settings.telegram_rate, settings.outbox_lease, settings.dispatcher, settings.log_level) == (45.0, 2.0, "off", "DEBUG")
    assert WhisperSettings.from_env({"CHORUS_WHISPER_LANGUAGE": "CY", "CHORUS_WHISPER_DEVICE": "CUDA"}).language == "cy"


def test_the_whisper_languages_are_the_ones_faster_whisper_knows() -> None:
    from faster_whisper.tokenizer import _LANGUAGE_CODES

    assert set(LANGUAGES) == set(_LANGUAGE_CODES)


def test_a_bad_broker_address_is_refused_without_repeating_its_password() -> None:
    with pytest.raises(SettingsError, match="CHORUS_QUEUE_URL must start with amqp://") as raised:
        Settings.from_env({"CHORUS_QUEUE_URL": "http://chorus:hunter2@broker/"})
    assert "hunter2" not in str(raised.value) and "http://" in str(raised.value)


@pytest.mark.parametrize("command", [["serve"], ["worker", "--queue", "redis://127.0.0.1:9/0"]])
def test_serve_and_worker_stop_with_one_line_naming_every_bad_setting(command: list[str], tmp_path: Path,
                                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(uvicorn, "run", lambda *args, **kwargs: pytest.fail("started with settings that cannot work"))
    env = {"CHORUS_WHISPER_BEAM_SIZE": "x", "CHORUS_TELEGRAM_RATE": "abc", "CHORUS_DATABASE_URL": f"sqlite:///{tmp_path / 'c.db'}"}
    result = CliRunner().invoke(cli, command, env=env)
    assert result.exit_code == 1 and isinstance(result.exception, SystemExit)
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "CHORUS_WHISPER_BEAM_SIZE must be a whole number >= 1, not 'x'" in lines[0]
    assert "CHORUS_TELEGRAM_RATE must be a number > 0, not 'abc'" in lines[0]


# ----------------------------------------------------------------------------- which studies are served


def test_the_default_studies_are_the_packaged_examples_whatever_the_working_directory(tmp_path: Path,
                                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    folder = Settings.from_env({}).studies_dir
    assert folder.is_absolute() and folder == example_studies() == ROOT / "flows" / "examples"
    assert {"ae-waiting", "priorities", "evaluation"} <= {child.name for child in folder.iterdir()}


def _serve_elsewhere(tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """`chorus serve` started in an empty folder, in a fresh interpreter, stopping where uvicorn would serve."""
    environment = {k: v for k, v in os.environ.items() if not k.startswith("CHORUS_")}
    environment.update(CHORUS_DATABASE_URL=f"sqlite:///{tmp_path / 'chorus.db'}", CHORUS_KEY_FILE=str(tmp_path / "chorus.key"),
                       CHORUS_DATA_KEY_FILE=str(tmp_path / "chorus-data.keys"), CHORUS_SAFEGUARDING="patterns",
                       PYTHONPATH=str(ROOT), **env)
    code = ("import sys, uvicorn\nuvicorn.run = lambda *a, **k: print('SERVING', file=sys.stderr)\n"
            "sys.argv = ['chorus', 'serve']\nfrom bot.cli import main\nmain()")
    return subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=environment, capture_output=True, text=True, timeout=120)


def test_serve_names_the_studies_folder_it_serves(tmp_path: Path) -> None:
    done = _serve_elsewhere(tmp_path)
    assert done.returncode == 0, done.stderr
    said = next(line for line in done.stderr.splitlines() if line.startswith("Studies from "))
    assert said.startswith(f"Studies from {example_studies()} (the example studies")
    assert said.endswith("ae-waiting, evaluation, priorities") and "CHORUS_STUDIES_DIR" in said
    assert "SERVING" in done.stderr


def test_serve_says_which_studies_folder_it_could_not_find(tmp_path: Path) -> None:
    done = _serve_elsewhere(tmp_path, CHORUS_STUDIES_DIR="my-studies")
    assert done.returncode == 1 and "Traceback" not in done.stderr and "SERVING" not in done.stderr
    assert done.stderr.strip() == (f"Error: no studies folder at {tmp_path.resolve() / 'my-studies'} (CHORUS_STUDIES_DIR): "
                                   "point CHORUS_STUDIES_DIR or --studies at your studies")


# ----------------------------------------------------------------------------- a voice note's failure, as the coordinator sees it


@pytest.fixture
def database_kind() -> str:
    return "sqlite"


class Decoding:
    """A transcriber that only decodes (as Whisper's first step does): enough to fail on a corrupt note."""

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        decode_audio(audio, max_seconds=60)
        raise AssertionError("a corrupt note decoded")


class Unreadable:
    """A transcriber whose spooled file is gone: the error names its path, as Python's do."""

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        raise FileNotFoundError(2, "No such file or directory", str(audio))


def _at_story(say: Say) -> ReceiveResult:
    for reply in ("WAIT", "yes", "patient", "2"):
        say(reply)
    return say("", media=(Media("https://media.example.org/note.ogg", "audio/ogg"),))


def _run_voice(service: ConversationService, transcriber: Any, audio_dir: Path, inbound_id: int) -> None:
    async def fetch(channel: str, media: Any) -> bytes:
        return b"OggS\x00this is not really a voice note"

    pipeline = VoicePipeline(service, ThreadPoolTranscriptionQueue(transcriber, settings=WhisperSettings()), fetch,
                             VoiceSettings(30.0, audio_dir), WhisperSettings())

    async def go() -> None:
        try:
            await pipeline.process(inbound_id)
        finally:
            await pipeline.close()

    asyncio.run(go())


@pytest.mark.parametrize(("transcriber", "said"), [(Decoding(), "voice note {id}: corrupt: not a readable audio file:"),
                                                   (Unreadable(), "voice note {id} could not be transcribed: FileNotFoundError:")])
def test_a_voice_failed_flag_says_what_failed_without_the_servers_file_path(
    transcriber: Any, said: str, service: ConversationService, database: Database, say: Say, tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    note = _at_story(say)
    assert note.inbound_id is not None
    _run_voice(service, transcriber, Path("var/audio"), note.inbound_id)
    with database.transaction() as connection:
        flags = connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "voice_failed")).scalars().all()
    assert len(flags) == 1 and flags[0].startswith(said.format(id=note.inbound_id)), flags
    assert "the audio file" in flags[0]
    assert "var/audio" not in flags[0] and "spool" not in flags[0] and str(tmp_path) not in flags[0]


# ----------------------------------------------------------------------------- moderating from the command line


def _submit(database: Database, pid: str, text: str) -> int:
    answer = RecordAnswer("story", text, {"kind": "statement", "text": text}, text, item=SUBMISSION_ITEM)
    with database.transaction() as connection:
        return store_submissions(connection, [answer], pid, "ae-waiting", "understand", NOW)[0]


def _alerts(database: Database) -> dict[str, tuple[bool, str | None]]:
    with database.transaction() as connection:
        rows = connection.execute(select(FLAGS.c.message, FLAGS.c.acknowledged, FLAGS.c.acknowledged_by)).all()
    return {row.message.split(":")[0]: (bool(row.acknowledged), row.acknowledged_by) for row in rows}


def test_approving_or_rejecting_on_the_command_line_closes_that_submissions_alert(database: Database, say: Say) -> None:
    pid = say("WAIT").participant_id
    assert pid is not None
    first, second, third = (_submit(database, pid, text) for text in ("More chairs", "Free parking", "Water on the wards"))
    moderating = ["submissions", "ae-waiting", "--database", database.url, "--by", "sam"]
    result = CliRunner().invoke(cli, [*moderating, "--approve", str(first), "--reject", str(third)])
    assert result.exit_code == 0, result.output
    assert f"{first}: approved, its alert closed" in result.output and f"{third}: rejected, its alert closed" in result.output
    assert _alerts(database) == {f"new statement #{first} to check": (True, "sam"),
                                 f"new statement #{second} to check": (False, None),
                                 f"new statement #{third} to check": (True, "sam")}
    with database.transaction() as connection:
        audited = connection.execute(select(AUDIT_EVENTS.c.action).where(AUDIT_EVENTS.c.actor == "sam")).scalars().all()
    assert audited.count("flag_acknowledged") == 2


def test_a_submission_of_another_study_is_not_moderated(database: Database, say: Say) -> None:
    pid = say("WAIT").participant_id
    assert pid is not None
    number = _submit(database, pid, "More chairs")
    result = CliRunner().invoke(cli, ["submissions", "priorities", "--database", database.url, "--approve", str(number)])
    assert result.exit_code == 1 and f"no submission {number} in study priorities" in result.output
    assert _alerts(database) == {f"new statement #{number} to check": (False, None)}


@pytest.mark.parametrize(("url", "said", "code"), [
    ("postgresql://postgres@127.0.0.1:1/nowhere", "Error: the database could not be used: ", 1),
    ("mysql://someone:secret-password@db.example/chorus", "is a mysql URL: Chorus speaks SQLite", 2),
])
def test_a_command_given_a_database_it_cannot_use_says_so_in_one_line(url: str, said: str, code: int) -> None:
    """Not `serve` alone: every command (here `schedule list`) answers a bad database in one line."""
    import subprocess
    import sys

    env = {**os.environ, "CHORUS_DATABASE_URL": url}
    done = subprocess.run([sys.executable, "-m", "bot.cli", "schedule", "list", "--study", "x"], env=env,
                          capture_output=True, text=True, timeout=60, check=False)
    assert done.returncode == code and said in done.stderr, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and "Traceback" not in done.stderr and "secret-password" not in done.stderr
