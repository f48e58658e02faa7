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
from collections.abc import Mapping
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, ValidationError, field_validator

from storage.crypto import Sealer, keys_from_file, parse_keys

PREFIX = "CHORUS_"


class SettingsError(ValueError):
    """A setting that cannot be used, named by its environment variable."""


class Settings(BaseModel):
    model_config = ConfigDict(frozen=True, extra="ignore")

    database_url: str = "sqlite:///./var/chorus.db"
    hash_key: SecretStr | None = None
    key_file: Path = Path("var/chorus.key")
    data_keys: SecretStr | None = None
    data_key_file: Path = Path("var/chorus-data.keys")
    studies_dir: Path = Path("flows/examples")
    public_url: str | None = None
    """The address the world reaches this server at, for webhooks (https://chorus.example.org)."""
    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=1, le=65535)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    """``json``: one JSON object a line, for log shippers (bot/logging_setup.py)."""
    metrics_token: SecretStr | None = None
    """Bearer token for ``GET /metrics``; without one, only direct loopback clients may scrape."""
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
    queue_namespace: str = "chorus"
    """Prefix of the broker's queue names, so several deployments can share one broker."""
    scheduler: Literal["embedded", "off", "0", "false", "no"] | None = None
    """Where the clock ticks (bot/scheduler.py reads it): in ``chorus serve`` (``embedded``, the
    default without a broker) or not (``off``, the default with one: the workers tick)."""
    scheduler_interval: float = Field(default=5.0, gt=0, le=3600, allow_inf_nan=False)
    """Seconds between the scheduler's ticks."""
    safeguarding: Literal["full", "patterns", "off", "0", "false", "no"] = "full"
    """bot/safeguarding.py reads it: the patterns and the embedding model, the patterns alone, or neither."""

    @field_validator("scheduler", "safeguarding", mode="before")
    @classmethod
    def _lower(cls, value: object) -> object:
        return value.strip().lower() if isinstance(value, str) else value

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
            problems = "; ".join(f"{PREFIX}{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}" for e in error.errors())
            raise SettingsError(problems) from None

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
