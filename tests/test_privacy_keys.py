"""Addresses encrypted at rest: sealing, the migration of plaintext rows, key rotation."""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import cli
from bot.service import ConversationService, ReceiveResult
from bot.settings import Settings
from storage import outbox
from storage.crypto import DataKeyError, Sealer, generate_key
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, TEST_DATA_KEY

PHONE = "+447700900123"


def test_a_sealed_address_opens_only_with_a_configured_key() -> None:
    old, new = generate_key(), generate_key()
    sealed = Sealer([old]).seal(PHONE)
    assert PHONE not in sealed and Sealer([old]).open(sealed) == PHONE
    assert Sealer([old]).seal(PHONE) != sealed  # a fresh IV each time: equal numbers look different
    assert Sealer([new, old]).open(sealed) == PHONE
    with pytest.raises(DataKeyError) as raised:
        Sealer([new]).open(sealed)
    assert old not in str(raised.value) and PHONE not in str(raised.value)
    resealed = Sealer([new, old]).reseal(sealed)
    assert resealed is not None and Sealer([new]).open(resealed) == PHONE
    assert Sealer([new, old]).reseal(resealed) is None  # already under the newest key


def test_a_bad_key_is_named_by_position_not_shown() -> None:
    with pytest.raises(DataKeyError, match="data key 2 is not a Fernet key") as raised:
        Sealer([generate_key(), "not-a-key-at-all"])
    assert "not-a-key-at-all" not in str(raised.value)


def test_without_keys_a_key_file_is_made_once_with_a_log_line(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings.from_env({"CHORUS_DATA_KEY_FILE": str(tmp_path / "var" / "data.keys")})
    with caplog.at_level(logging.WARNING, logger="chorus.crypto"):
        first = settings.sealer()
    assert "generated a data key" in caplog.text and str(tmp_path / "var" / "data.keys") in caplog.text
    assert (tmp_path / "var" / "data.keys").stat().st_mode & 0o777 == 0o600
    assert settings.sealer().open(first.seal(PHONE)) == PHONE  # the same key, read back
    key = generate_key()
    assert Settings.from_env({"CHORUS_DATA_KEYS": f"{key}, {generate_key()}"}).sealer().count == 2


def test_the_migration_encrypts_existing_plaintext_addresses(database_url: str) -> None:
    sealer = Sealer([TEST_DATA_KEY])
    database = Database(database_url, sealer=sealer)
    database.upgrade("0004")
    with database.transaction() as connection:
        connection.execute(text("INSERT INTO participants (id, language, fields, created_at) VALUES "
                                "('p-1', 'en', '{}', '2025-01-01 00:00:00'), ('p-2', 'en', '{}', '2025-01-01 00:00:00')"))
        connection.execute(text("INSERT INTO contacts (participant_id, channel, address_hash, address, created_at) VALUES "
                                "('p-1', 'sms', 'h1', :one, '2025-01-01 00:00:00'), ('p-2', 'telegram', 'h2', '987654321', '2025-01-01 00:00:00')"),
                           {"one": PHONE})
    database.upgrade()
    with database.transaction() as connection:
        rows = connection.execute(text("SELECT participant_id, address_sealed FROM contacts ORDER BY id")).all()
        columns = list(connection.execute(text("SELECT * FROM contacts")).keys())
    assert "address" not in columns
    assert [(pid, sealer.open(sealed)) for pid, sealed in rows] == [("p-1", PHONE), ("p-2", "987654321")]
    assert not any(PHONE in sealed or "987654321" in sealed for _, sealed in rows)
    database.downgrade("0004")  # and back: the plain text returns
    with database.transaction() as connection:
        assert connection.execute(text("SELECT address FROM contacts ORDER BY id")).scalars().all() == [PHONE, "987654321"]
    database.dispose()


def test_keys_rotate_reseals_every_address_with_the_newest_key(
    service: ConversationService, database: Database, say: Callable[..., ReceiveResult]
) -> None:
    for n in range(3):
        say("WAIT", address=f"+44770090{n:04d}")
    new = generate_key()
    env = {"CHORUS_DATA_KEYS": f"{new},{TEST_DATA_KEY}", "CHORUS_DATABASE_URL": database.url}
    result = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert "re-encrypted 3 of 3 addresses" in result.output
    with database.transaction() as connection:
        sealed = connection.execute(text("SELECT address_sealed FROM contacts ORDER BY id")).scalars().all()
    assert [Sealer([new]).open(s) for s in sealed] == [f"+44770090{n:04d}" for n in range(3)]
    again = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert "re-encrypted 0 of 3" in again.output
    wrong = CliRunner().invoke(cli, ["keys", "rotate"], env={**env, "CHORUS_DATA_KEYS": generate_key()})
    assert wrong.exit_code != 0 and "nothing was changed" in wrong.output


def test_keys_add_puts_a_new_key_first_in_the_key_file(tmp_path: Path) -> None:
    path = tmp_path / "data.keys"
    env = {"CHORUS_DATA_KEY_FILE": str(path), "CHORUS_DATA_KEYS": ""}
    first = Settings.from_env(env).sealer().seal(PHONE)
    assert CliRunner().invoke(cli, ["keys", "add"], env=env).exit_code == 0
    sealer = Settings.from_env(env).sealer()
    assert sealer.count == 2 and sealer.open(first) == PHONE and sealer.reseal(first) is not None


def test_keys_rehash_moves_every_address_to_a_new_hash_key(
    service: ConversationService, database: Database, say: Callable[..., ReceiveResult]
) -> None:
    from storage import repository

    pid = say("WAIT", address=PHONE).participant_id
    env = {"CHORUS_DATA_KEYS": TEST_DATA_KEY, "CHORUS_DATABASE_URL": database.url, "CHORUS_HASH_KEY": "a-brand-new-hash-key"}
    result = CliRunner().invoke(cli, ["keys", "rehash"], env=env)
    assert result.exit_code == 0 and "re-hashed 1 of 1" in result.output, result.output
    with database.transaction() as connection:
        assert repository.find_contact(connection, repository.address_hash(b"test-address-key", "sms", PHONE)) is None
        found = repository.find_contact(connection, repository.address_hash(b"a-brand-new-hash-key", "sms", PHONE))
    assert found is not None and found.participant_id == pid


def test_the_migration_takes_the_chat_id_out_of_telegram_provider_ids(
    service: ConversationService, database: Database, say: Callable[..., ReceiveResult]
) -> None:
    telegram = say("WAIT", channel="telegram", address="987654321")
    sms = say("WAIT", address=PHONE)
    with database.transaction() as connection:
        outbox.mark_sent(connection, telegram.outbox_ids[0], "987654321:17", service.clock())  # as sent before 0011
        outbox.mark_sent(connection, sms.outbox_ids[0], "SM" + "a" * 32, service.clock())
    database.downgrade("0010_dispatchers")
    database.upgrade()
    with database.transaction() as connection:
        rows = connection.execute(text("SELECT channel, provider_id FROM outbound_messages WHERE provider_id IS NOT NULL")).all()
    found = {str(channel): str(provider_id) for channel, provider_id in rows}
    assert found == {"telegram": "17", "sms": "SM" + "a" * 32}


def test_serve_refuses_keys_that_do_not_fit_the_addresses_stored(
    service: ConversationService, database: Database, say: Callable[..., ReceiveResult], tmp_path: Path,
) -> None:
    from storage import repository

    say("WAIT")
    with database.transaction() as connection:
        assert repository.keys_problem(connection, database.sealer, TEST_ADDRESS_KEY) is None
        assert "hash key" in (repository.keys_problem(connection, database.sealer, b"a new key") or "")
        assert "data keys" in (repository.keys_problem(connection, Sealer([generate_key()]), TEST_ADDRESS_KEY) or "")
    env = {"CHORUS_DATABASE_URL": database.url, "CHORUS_DATA_KEYS": TEST_DATA_KEY,
           "CHORUS_KEY_FILE": str(tmp_path / "lost" / "chorus.key")}  # the key file is gone: a new one is made
    refused = CliRunner().invoke(cli, ["serve", "--port", "8133"], env=env)
    assert refused.exit_code == 1 and "the hash key" in refused.output and "restore it from your backup" in refused.output
