"""Participants' addresses encrypted at rest.

A phone number, WhatsApp number or Telegram chat id is stored only as a Fernet token
(AES-128-CBC with an HMAC-SHA256 tag, from the ``cryptography`` package) in
``contacts.address_sealed``; it is found by ``contacts.address_hash`` (HMAC-SHA256 with a
separate key, storage/repository.py), so an inbound message finds its participant without
decrypting any row. Several keys may be given, newest first: the newest seals, any opens
(``MultiFernet``), so keys rotate without downtime and ``chorus keys rotate`` then re-seals
every row with the newest key.

Keys come from ``CHORUS_DATA_KEYS`` (comma-separated Fernet keys, newest first) or, in the
embedded default with nothing configured, from a key file made once (``CHORUS_DATA_KEY_FILE``,
default ``var/chorus-data.keys``, one key a line, newest first).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Sequence
from pathlib import Path

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

log = logging.getLogger("chorus.crypto")


class DataKeyError(ValueError):
    """A data key that cannot be used (the message never includes the key)."""


class Sealer:
    """Seals and opens addresses with the deployment's data keys (newest first)."""

    def __init__(self, keys: Sequence[str | bytes]) -> None:
        if not keys:
            raise DataKeyError("no data keys given")
        fernets = []
        for number, key in enumerate(keys, 1):
            try:
                fernets.append(Fernet(key.strip() if isinstance(key, bytes) else key.strip().encode()))
            except (ValueError, TypeError):
                raise DataKeyError(f"data key {number} is not a Fernet key (32 url-safe base64-encoded bytes); "
                                "make one with `chorus keys generate`") from None
        self._newest = fernets[0]
        self._all = MultiFernet(fernets)
        self.count = len(fernets)

    def seal(self, address: str) -> str:
        return self._all.encrypt(address.strip().encode()).decode("ascii")

    def open(self, sealed: str) -> str:
        try:
            return self._all.decrypt(sealed.encode("ascii")).decode()
        except InvalidToken:
            raise DataKeyError("an address could not be decrypted with any configured data key") from None

    def reseal(self, sealed: str) -> str | None:
        """The token sealed again with the newest key, or None if it already is."""
        try:
            self._newest.decrypt(sealed.encode("ascii"))
            return None
        except InvalidToken:
            pass
        try:
            return self._all.rotate(sealed.encode("ascii")).decode("ascii")
        except InvalidToken:
            raise DataKeyError("an address could not be decrypted with any configured data key") from None


def generate_key() -> str:
    return Fernet.generate_key().decode("ascii")


def parse_keys(text: str) -> list[str]:
    """Keys from ``CHORUS_DATA_KEYS`` or a key file: separated by commas, spaces or lines; '#' comments."""
    keys = []
    for line in text.splitlines():
        line = line.split("#", 1)[0]
        keys += [part for part in line.replace(",", " ").split() if part]
    return keys


def keys_from_file(path: Path, create: bool = True) -> list[str]:
    """The keys in ``path``; with ``create``, a new file holding one fresh key if there is none."""
    if path.exists():
        return parse_keys(path.read_text(encoding="utf-8"))
    if not create:
        return []
    path.parent.mkdir(parents=True, exist_ok=True)
    key = generate_key()
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another process made it first
        return parse_keys(path.read_text(encoding="utf-8"))
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# Chorus data keys, newest first. Losing them loses every participant's address.\n" + key + "\n")
    log.warning("no CHORUS_DATA_KEYS set: generated a data key for participants' addresses in %s "
                "(keep it safe and back it up; set CHORUS_DATA_KEYS in production)", path)
    return [key]


def add_key_to_file(path: Path) -> str:
    """Put a fresh key first in ``path`` (the older ones stay, to open what they sealed)."""
    old = keys_from_file(path, create=False)
    key = generate_key()
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_suffix(path.suffix + ".new")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "w", encoding="utf-8") as handle:
        handle.write("# Chorus data keys, newest first. Losing them loses every participant's address.\n")
        handle.write("\n".join([key, *old]) + "\n")
    temporary.replace(path)
    return key


def sealer_from_env(environ: dict[str, str] | None = None) -> Sealer:
    """``CHORUS_DATA_KEYS``, else the key file ``CHORUS_DATA_KEY_FILE`` (made once if missing)."""
    env = dict(os.environ) if environ is None else environ
    given = env.get("CHORUS_DATA_KEYS", "").strip()
    if given:
        return Sealer(parse_keys(given))
    return Sealer(keys_from_file(Path(env.get("CHORUS_DATA_KEY_FILE", "").strip() or "var/chorus-data.keys")))
