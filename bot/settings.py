"""Settings, read from ``CHORUS_*`` environment variables.

``CHORUS_DATABASE_URL=postgresql://...`` switches to PostgreSQL; ``CHORUS_QUEUE_URL=amqp://...``
(or ``redis://...``) hands background work to ``chorus worker`` processes; ``CHORUS_HASH_KEY`` is
the secret for the keyed hash of participants' addresses. Without it, a random key
is created once in ``CHORUS_KEY_FILE`` (default ``var/chorus.key``) and reused:
change or lose it and existing participants can no longer be found by address.
``CHORUS_DATA_KEYS`` (Fernet keys, newest first) encrypt the addresses themselves; without
it, a key file is made once in ``CHORUS_DATA_KEY_FILE`` (default ``var/chorus-data.keys``).
See storage/crypto.py.
"""

from __future__ import annotations

import os
import secrets
import types
from collections.abc import Mapping
from importlib import resources
from pathlib import Path
from typing import Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator
from pydantic.fields import FieldInfo
from pydantic_core import ErrorDetails

from storage.crypto import Sealer, keys_from_file, parse_keys

PREFIX = "CHORUS_"
QUEUE_SCHEMES = ("amqp", "amqps", "redis", "rediss", "unix")
"""The brokers bot/distributed.py (``make_broker``) knows."""
BOUNDS = (("ge", ">="), ("gt", ">"), ("le", "<="), ("lt", "<"))


def example_studies() -> Path:
    """The example studies shipped inside the ``flows`` package, wherever Chorus is installed
    (flows/examples in a checkout), so the default does not depend on the working directory."""
    return Path(str(resources.files("flows").joinpath("examples")))


class SettingsError(ValueError):
    """A setting that cannot be used, named by its environment variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    database_url: str = "sqlite:///./var/chorus.db"
    hash_key: SecretStr | None = None
    key_file: Path = Path("var/chorus.key")
    data_keys: SecretStr | None = None
    data_key_file: Path = Path("var/chorus-data.keys")
    spool_dir: Path | None = None
    """Where inbound messages wait, sealed with the data keys, while the database is unreachable
    (bot/spool.py). Unset: a ``spool`` folder beside the SQLite database, else ``var/spool``."""
    studies_dir: Path = Field(default_factory=example_studies)
    public_url: str | None = None
    """The address the world reaches this server at, for webhooks (https://chorus.example.org)."""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object a line, for log shippers (bot/logging_setup.py)."""
    metrics_token: SecretStr | None = None
    """Bearer token for ``GET /metrics``; without one, only direct loopback clients may scrape."""
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)
    """``chorus worker`` serves its counters at ``/metrics`` on this port (bot/metrics.py); unset: it does not."""
    worker_metrics_host: str = "127.0.0.1"
    """The address of that port: an IP address (``0.0.0.0``: every interface)."""
    max_body_bytes: int = Field(default=1_000_000, gt=0)
    """Requests with a larger body are refused with 413 before it is read."""
    simulator: Literal["open", "coordinators", "off"] | None = None
    """Who may use the web chat simulator (``/`` and ``/api/simulator``): ``open`` (anyone),
    ``coordinators`` (someone signed in to the desk, by token or dashboard session) or ``off``
    (404). Unset: ``open`` only while no messaging channel is configured (the local try-out),
    else ``coordinators`` (bot/simulator.py, ``simulator_mode``)."""
    telegram_token: SecretStr | None = None
    telegram_secret: SecretStr | None = None
    twilio_account_sid: str | None = None
    twilio_auth_token: SecretStr | None = None
    twilio_sms_from: str | None = None
    twilio_whatsapp_from: str | None = None
    queue_url: str | None = None
    """A broker (``amqp://...`` or ``redis://...``): background work goes to ``chorus worker``
    processes instead of running in this one (bot/tasks.py). Unset: everything in one process."""
    processes: int = Field(default=1, ge=1)
    """``chorus serve`` processes sharing the port (PostgreSQL only): each runs the webhooks,
    the inbox and (without a broker) a dispatcher whose rate limits are its share of the channel's."""
    process_health_timeout: int = Field(default=30, ge=1, le=600)
    """Seconds a ``chorus serve --processes`` process may take to start, and to answer the
    supervisor's health check, before it is replaced: uvicorn's own 5 s killed processes that
    were only slow to start on a loaded machine."""
    queue_namespace: str = "chorus"
    """Prefix of the broker's queue names, so several deployments can share one broker."""
    scheduler: Literal["embedded", "off", "0", "false", "no"] | None = None
    """Where the clock ticks (bot/scheduler.py reads it): in ``chorus serve`` (``embedded``, the
    default without a broker) or not (``off``, the default with one: the workers tick)."""
    scheduler_interval: float = Field(default=5.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds between the scheduler's ticks."""
    study_watch_interval: float = Field(default=5.0, ge=0, le=3600, allow_inf_nan=False)
    """Seconds between looks for flows another process published (bot/study_watch.py); 0: none."""
    safeguarding: Literal["full", "patterns", "off", "0", "false", "no"] = "full"
    """bot/safeguarding.py reads it: the patterns and the embedding model, the patterns alone, or neither."""

    # Read by other modules from the environment themselves, and declared here so that a value
    # they could not use stops `chorus serve` and `chorus worker` with one line, not a traceback.
    safeguarding_threads: str | None = None
    """Torch threads for the safeguarding model (bot/safeguarding.py): a whole number, or ``all``."""
    safeguarding_warm_up: str | None = None
    """Seconds after start to load the safeguarding model (bot/safeguarding.py), or ``off``."""
    embedding_threads: int | None = Field(default=None, ge=1)
    """Worker threads for embedding (nlp/embed.py)."""
    telegram_rate: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Telegram messages a second, for a bot allowed more than 30 (bot/webhooks.py)."""
    twilio_sms_rate: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """SMS messages a second per sender (channels/twilio.py)."""
    twilio_whatsapp_rate: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """WhatsApp messages a second per sender (channels/twilio.py)."""
    outbox_lease: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Seconds before a message left ``sending`` by a dead process is sent again (bot/webhooks.py)."""
    whatsapp_resend_hours: float | None = Field(default=None, gt=0, allow_inf_nan=False)
    """Hours after an unanswered WhatsApp template before the next message due goes as another
    (bot/webhooks.py, bot.dispatch_rules.TemplateResends); unset: 24."""
    whatsapp_resends: int | None = Field(default=None, ge=0)
    """WhatsApp templates sent again at most to a participant who answers none; unset: 3."""
    dispatcher: Literal["embedded", "off"] = "embedded"
    """Whether this process sends the outbox (bot/webhooks.py)."""
    telegram_polling: Literal["1", "true", "yes", "0", "false", "no"] | None = None
    """Fetch Telegram updates with getUpdates (bot/webhooks.py; ``chorus serve --telegram-polling``)."""
    log_libraries: Literal["debug", "off"] | None = None
    """``debug``: libraries log at DEBUG too (bot/log_safety.py)."""

    @field_validator("scheduler", "safeguarding", "safeguarding_threads", "safeguarding_warm_up", "dispatcher",
                     "telegram_polling", "log_libraries", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.strip().upper() if isinstance(value, str) else value

    @field_validator("safeguarding_threads")
    @classmethod
    def _threads(cls, value: str | None) -> str | None:
        if value is not None and value != "all" and not value.isdigit():
            raise ValueError(f"must be a whole number >= 0 or all, not {value!r}")
        return value

    @field_validator("safeguarding_warm_up")
    @classmethod
    def _warm_up(cls, value: str | None) -> str | None:
        if value is None or value in ("off", "no", "false", "never"):
            return value
        try:
            seconds = float(value)
        except ValueError:
            seconds = -1.0
        if not 0 <= seconds < float("inf"):
            raise ValueError(f"must be a number of seconds >= 0 or off, not {value!r}")
        return value

    @field_validator("queue_url")
    @classmethod
    def _queue_scheme(cls, value: str | None) -> str | None:
        """A broker Chorus knows; only the scheme is repeated in the error (the URL holds a password)."""
        scheme = value.split("://", 1)[0].lower() if value and "://" in value else None
        if value and scheme not in QUEUE_SCHEMES:
            given = f"{scheme}://" if scheme else "an address without a scheme"
            raise ValueError(f"must start with amqp:// or redis:// (or amqps://, rediss://, unix://), not {given}")
        return value

    @field_validator("worker_metrics_host")
    @classmethod
    def _ip_address(cls, value: str) -> str:
        import ipaddress

        try:
            return str(ipaddress.ip_address(value.strip()))
        except ValueError:
            raise ValueError(f"must be an IP address to listen on (127.0.0.1, 0.0.0.0, ::), not {value!r}") from None

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: object) -> Settings:
        """Settings from ``CHORUS_*`` variables; keyword overrides win (e.g. from CLI options)."""
        environ = os.environ if environ is None else environ
        values: dict[str, object] = {
            key[len(PREFIX):].lower(): value for key, value in environ.items() if key.startswith(PREFIX) and value != ""
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        try:
            return cls.model_validate(values)
        except ValidationError as error:
            raise SettingsError("; ".join(dict.fromkeys(map(_problem, error.errors())))) from None

    def address_key(self) -> bytes:
        """The secret for hashing addresses: CHORUS_HASH_KEY, else a key file made once."""
        if self.hash_key is not None:
            return self.hash_key.get_secret_value().encode()
        return _key_from_file(self.key_file)

    def sealer(self) -> Sealer:
        """What encrypts addresses: CHORUS_DATA_KEYS, else a key file made once."""
        if self.data_keys is not None:
            return Sealer(parse_keys(self.data_keys.get_secret_value()))
        return Sealer(keys_from_file(self.data_key_file))


def serving_settings(environ: Mapping[str, str] | None = None, *, spool: bool = False, **overrides: object) -> Settings:
    """:meth:`Settings.from_env` for ``chorus serve`` and ``chorus worker``, with the voice-note
    settings that bot/voice.py and nlp/transcribe.py read for themselves checked too: every
    setting that cannot work is named in one :class:`SettingsError`, before anything starts.
    ``spool`` (``chorus serve``): the spool's folder must take a file too."""
    from bot.voice import VoiceSettings
    from nlp.transcribe import WhisperSettings

    environ = os.environ if environ is None else environ
    problems: list[str] = []
    settings: Settings | None = None
    try:
        settings = Settings.from_env(environ, **overrides)
    except SettingsError as error:
        problems.append(str(error))
    for read in (WhisperSettings.from_env, VoiceSettings.from_env):
        try:
            read(environ)
        except ValueError as error:  # (each reader names its variable and what it accepts)
            problems.append(str(error))
    if settings is not None and spool:
        problems += _sqlite_folder_problem(settings) or _spool_problem(settings)
    if settings is None or problems:
        raise SettingsError("; ".join(problems))
    return settings


def _sqlite_folder_problem(settings: Settings) -> list[str]:
    """A SQLite database whose folder cannot be made or written (a path under a file, a read-only
    folder): named as the database's problem, not as the spool's that lives beside it."""
    from sqlalchemy.engine import make_url

    from bot.spool import unwritable
    from storage.database import normalise_url

    url = make_url(normalise_url(settings.database_url))
    if url.get_backend_name() != "sqlite" or not url.database or url.database == ":memory:" or url.database.startswith("file:"):
        return []
    folder = Path(url.database).expanduser().parent
    found = next((above for above in (folder, *folder.parents) if above.exists()), None)
    why = f"{found} is a file, not a folder" if found is not None and not found.is_dir() else unwritable(folder)
    return [] if why is None else [f"CHORUS_DATABASE_URL's SQLite file {url.database} cannot be made: its folder {folder} cannot be written ({why})"]


def _spool_problem(settings: Settings) -> list[str]:
    """The spool's folder cannot be written: said at start, not in the outage it is kept for (bot/spool.py)."""
    from bot.spool import spool_folder, unwritable

    folder = spool_folder(settings)
    why = unwritable(folder)
    if why is None:
        return []
    named = f"CHORUS_SPOOL_DIR {folder}" if settings.spool_dir is not None else f"the spool folder {folder} (CHORUS_SPOOL_DIR unset)"
    return [f"{named} cannot be written ({why}): webhooks are kept there while the database is unreachable; "
            "point CHORUS_SPOOL_DIR at a writable folder"]


def _problem(error: ErrorDetails) -> str:
    """One invalid setting: ``CHORUS_PORT must be a whole number >= 1 and <= 65535, not 'eighty'``."""
    field = str(error["loc"][0])
    name = PREFIX + field.upper()
    if error["type"] == "value_error":  # a validator's own words, naming what is allowed and the value
        return f"{name} {error.get('ctx', {}).get('error', error['msg'])}"
    info = Settings.model_fields.get(field)
    shown = "" if info is None or _secret(info.annotation) else f", not {str(error['input'])[:60]!r}"
    return f"{name} must be {_allowed(info)}{shown}"


def _allowed(info: FieldInfo | None) -> str:
    """What a field accepts, in words: 'a number > 0', 'text or json'."""
    if info is None:
        return "a valid value"
    kinds = [arg for arg in _members(info.annotation) if arg is not type(None)]
    words = " or ".join(_kind(kind) for kind in kinds) or "a valid value"
    bounds = [f"{symbol} {getattr(rule, attr)}" for rule in info.metadata for attr, symbol in BOUNDS if hasattr(rule, attr)]
    return f"{words} {' and '.join(bounds)}" if bounds else words


def _members(annotation: Any) -> tuple[Any, ...]:
    return get_args(annotation) if get_origin(annotation) in (Union, types.UnionType) else (annotation,)


def _kind(annotation: Any) -> str:
    if get_origin(annotation) is Literal:
        options = [str(option) for option in get_args(annotation)]
        return ", ".join(options[:-1]) + f" or {options[-1]}" if len(options) > 1 else options[0]
    return {int: "a whole number", float: "a number", bool: "true or false"}.get(annotation, "a valid value")


def _secret(annotation: Any) -> bool:
    return SecretStr in _members(annotation)


def _key_from_file(path: Path) -> bytes:
    if path.exists():
        return path.read_text(encoding="utf-8").strip().encode()
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_hex(32)
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return path.read_text(encoding="utf-8").strip().encode()
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write(key + "\n")
    return key.encode()
