"""``chorus erase NUMBER --channel sms``: a number written as people write it (in a letter or an
e-mail asking for erasure) finds the participant Twilio's E.164 address made, rather than
"no participant has that address" while their data stays. A number without its country code is
refused with a reason, not taken for nobody; the output never repeats the number."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import text

from bot.cli import cli
from bot.service import ConversationService, ReceiveResult
from channels.addresses import AddressError, stored_address
from storage.database import Database
from tests.db_fixtures import TEST_DATA_KEY

Say = Callable[..., ReceiveResult]
PHONE = "+447700900321"


@pytest.mark.parametrize("typed", ["+447700900321", " +44 7700 900321 ", "+44 (0)7700 900321", "+44-7700-900-321",
                                   "0044 7700 900321", "447700900321", "whatsapp:+447700900321", "tel:+44.7700.900321"])
def test_a_number_written_any_usual_way_is_the_one_twilio_sends(typed: str) -> None:
    assert stored_address("sms", typed) == PHONE
    assert stored_address("whatsapp", typed) == PHONE


@pytest.mark.parametrize("typed", ["07700 900321", "07700900321", "call me", "+44", ""])
def test_a_number_without_its_country_code_is_refused_without_repeating_it(typed: str) -> None:
    with pytest.raises(AddressError) as raised:
        stored_address("sms", typed)
    assert "900321" not in str(raised.value)


def test_a_telegram_chat_id_is_its_digits() -> None:
    assert stored_address("telegram", " 555 000 321 ") == "555000321"
    assert stored_address("telegram", "-100123") == "-100123"
    with pytest.raises(AddressError):
        stored_address("telegram", "@pat")


def _env(database: Database, example_study_path: Path) -> dict[str, str]:
    return {"CHORUS_DATABASE_URL": database.url, "CHORUS_HASH_KEY": "test-address-key",
            "CHORUS_DATA_KEYS": TEST_DATA_KEY, "CHORUS_STUDIES_DIR": str(example_study_path)}


def _participants(database: Database) -> int:
    with database.transaction() as connection:
        return int(connection.execute(text("SELECT COUNT(*) FROM participants")).scalar_one())


@pytest.mark.parametrize("typed", ["+44 7700 900321", "whatsapp:+447700900321", "0044 7700 900321"])
def test_chorus_erase_finds_a_whatsapp_participant_by_a_number_written_with_spaces(
        service: ConversationService, database: Database, say: Say, example_study_path: Path, typed: str) -> None:
    pid = say("JOIN WAIT", address=PHONE, channel="whatsapp").participant_id
    assert pid is not None and _participants(database) == 1
    result = CliRunner().invoke(cli, ["erase", typed, "--channel", "whatsapp", "--yes"], env=_env(database, example_study_path))
    assert result.exit_code == 0, result.output
    assert f"erased {pid}" in result.output and "900321" not in result.output
    assert _participants(database) == 0


def test_chorus_erase_says_why_a_national_number_finds_nobody(
        service: ConversationService, database: Database, say: Say, example_study_path: Path) -> None:
    say("JOIN WAIT", address=PHONE)
    result = CliRunner().invoke(cli, ["erase", "07700 900321", "--channel", "sms", "--yes"], env=_env(database, example_study_path))
    assert result.exit_code != 0
    assert "country code" in result.output and "no participant" not in result.output and "900321" not in result.output
    assert _participants(database) == 1
