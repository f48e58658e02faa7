"""``chorus keys generate|add|rotate|rehash``: the data keys that encrypt participants' addresses.

Rotating: make a new key (``chorus keys generate``), put it FIRST in ``CHORUS_DATA_KEYS``
with the old ones after it (or ``chorus keys add`` for the key file), restart Chorus so it
seals with the new key and still opens the old, then ``chorus keys rotate`` re-seals every
stored address with the new key. Once that reports nothing left, drop the old keys.

The hash key (``CHORUS_HASH_KEY``) that finds participants by address changes in one go:
stop Chorus, set the new key, run ``chorus keys rehash`` (it decrypts each address to hash
it afresh, so the old hash key is not needed), start Chorus.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

import click

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from storage.crypto import Sealer

DATABASE = click.option("--database", "database_url", default=None, help="Database URL (default CHORUS_DATABASE_URL).")


@click.group("keys")
def keys() -> None:
    """Encryption keys for participants' addresses."""


@keys.command("generate")
def generate() -> None:
    """Print a new data key (for CHORUS_DATA_KEYS: put it first, keep the old ones after it)."""
    from storage.crypto import generate_key

    click.echo(generate_key())


@keys.command("add")
def add() -> None:
    """Put a new key first in the key file (CHORUS_DATA_KEY_FILE), when CHORUS_DATA_KEYS is not set."""
    from storage.crypto import add_key_to_file

    settings = _settings(None)
    if settings.data_keys is not None:
        raise click.ClickException("CHORUS_DATA_KEYS is set: add the new key there (chorus keys generate prints one)")
    add_key_to_file(settings.data_key_file)
    click.echo(f"a new data key is first in {settings.data_key_file}; restart Chorus, then run: chorus keys rotate", err=True)


@keys.command("rotate")
@DATABASE
def rotate(database_url: str | None) -> None:
    """Re-encrypt every stored address with the newest data key: the participants', those
    of the erasure confirmations waiting to be sent, and the messages waiting in this
    machine's spool (CHORUS_SPOOL_DIR) for a database that was unreachable."""
    from bot.spool import reseal_spool, spool_folder
    from storage.privacy import reseal_contacts

    with _contacts(database_url) as (settings, sealer, connection):
        done, total = reseal_contacts(connection, sealer)
        farewells, waiting, unreadable = reseal_farewells(connection, sealer)
    folder = spool_folder(settings).resolve()
    spooled, in_spool, unopened = reseal_spool(folder, sealer)
    click.echo(f"re-encrypted {done} of {total} addresses with the newest key ({sealer.count} key(s) configured)")
    click.echo(f"re-encrypted {farewells} of {waiting} erasure confirmations waiting to be sent")
    click.echo(f"re-encrypted {spooled} of {in_spool} messages waiting in the spool {folder}")
    if unreadable:
        click.echo(f"{unreadable} erasure confirmation(s) open with no configured key: they cannot be sent "
                   "and are deleted when the dispatcher comes to them", err=True)
    if unopened:
        click.echo(f"{unopened} spooled message(s) open with no configured key: they will be set aside in "
                   f"{folder / 'corrupt'} when Chorus comes to them", err=True)
    if sealer.count > 1:
        click.echo("every address now opens with the newest key alone: the older keys may be removed (run "
                   "`chorus keys rotate` on every machine that serves webhooks first, for its own spool)", err=True)


def reseal_farewells(connection: Connection, sealer: Sealer) -> tuple[int, int, int]:
    """Re-encrypt the addresses of the erasure confirmations waiting to be sent (``farewells``,
    storage/outbox.py) with the newest key: once the old keys are removed, one still sealed
    with them could not be opened, and would be deleted unsent. One that no configured key
    opens now is left as it is (it was never going to go; the dispatcher deletes it) rather
    than stopping the rotation of every other address. Returns (re-sealed, total, unreadable)."""
    from sqlalchemy import select, update

    from storage.crypto import DataKeyError
    from storage.tables import FAREWELLS

    f = FAREWELLS.c
    done = unreadable = 0
    rows = connection.execute(select(f.id, f.address_sealed).order_by(f.id)).all()  # a day's erasures at most
    for row_id, sealed in rows:
        try:
            fresh = sealer.reseal(sealed)
        except DataKeyError:
            unreadable += 1
            continue
        if fresh is not None:
            connection.execute(update(FAREWELLS).where(f.id == row_id).values(address_sealed=fresh))
            done += 1
    return done, len(rows), unreadable


@keys.command("rehash")
@DATABASE
def rehash(database_url: str | None) -> None:
    """Recompute every address's lookup hash with the current hash key (after changing CHORUS_HASH_KEY)."""
    from storage.privacy import rehash_contacts

    with _contacts(database_url) as (settings, sealer, connection):
        done, total = rehash_contacts(connection, sealer, settings.address_key())
    click.echo(f"re-hashed {done} of {total} addresses with the current hash key")


@contextmanager
def _contacts(database_url: str | None) -> Iterator[tuple[Settings, Sealer, Connection]]:
    """The settings, the data keys and one transaction on the database, for rewriting every
    contact row: a bad key is a clear error, and a failure part-way changes nothing."""
    from storage.crypto import DataKeyError
    from storage.database import init_database

    settings = _settings(database_url)
    try:
        sealer = settings.sealer()
        database = init_database(settings.database_url, sealer=sealer)
    except DataKeyError as error:
        raise click.ClickException(str(error)) from None
    try:
        with database.transaction() as connection:
            yield settings, sealer, connection
    except DataKeyError as error:
        raise click.ClickException(f"{error}; nothing was changed") from None
    finally:
        database.dispose()


def _settings(database_url: str | None) -> Settings:
    try:
        return Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def register(cli: click.Group) -> None:
    cli.add_command(keys)
