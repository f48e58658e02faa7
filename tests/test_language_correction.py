"""A coordinator corrects the language a participant is written to in (``chorus participant set
ID language cy``, the API, the desk): before, it was only written among their fields, and Chorus
went on writing in the old language. Now it is their language, in the conversation they are in
too, and the next message is in it."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bot.commands.participant import participant as participant_cli
from bot.service import ConversationService
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage import repository
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY = """study: bilingual
title: {en: Clinic check-in, cy: Gwirio'r clinig}
languages: [en, cy]
timezone: Europe/London
join: {start_flow: welcome, keyword: CLINIC}
flows: [welcome.yaml]
"""
WELCOME = """flow: welcome
steps:
  - id: mood
    type: scale
    text: {en: How are you today?, cy: Sut ydych chi heddiw?}
    min: 1
    max: 5
  - id: thanks
    type: end
    text: {en: Thank you., cy: Diolch.}
"""


@pytest.fixture
def clinic(database: Database, tmp_path: Path) -> tuple[ConversationService, Database]:
    folder = tmp_path / "bilingual"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "welcome.yaml").write_text(WELCOME, encoding="utf-8")
    service = ConversationService(database, StudyRegistry([load_study(folder)]), FakeClock(datetime.now(UTC)),
                                  address_key=TEST_ADDRESS_KEY)
    return service, database


_ids = itertools.count(1)


def say(service: ConversationService, text: str) -> str:
    result = service.receive(InboundMessage("sms", "+447700900777", f"lang-{next(_ids)}", text))
    assert result.participant_id is not None
    return result.participant_id


def set_field(database: Database, *args: str) -> Result:
    return CliRunner().invoke(participant_cli, ["set", *args, "--study", "bilingual", "--database", database.url, "--by", "nurse"])


def test_a_corrected_language_is_the_one_the_next_message_is_in(clinic: tuple[ConversationService, Database]) -> None:
    service, database = clinic
    pid = say(service, "CLINIC")
    assert service.outbox_for(pid)[-1].text.startswith("How are you today?")
    result = set_field(database, pid, "language", "CY")
    assert result.exit_code == 0, result.output
    with database.transaction() as connection:
        assert repository.load_participant(connection, pid).language == "cy"
        assert [e.language for e in repository.enrolments_of(connection, pid)] == ["cy"]
        assert "language" not in repository.load_participant(connection, pid).fields
    say(service, "HELP")
    assert "Sut ydych chi heddiw?" in service.outbox_for(pid)[-1].text, "the question asked again, in Welsh"
    say(service, "4")
    assert service.outbox_for(pid)[-1].text == "Diolch."


def test_a_language_the_study_has_not_got_is_refused_and_nothing_changes(clinic: tuple[ConversationService, Database]) -> None:
    service, database = clinic
    pid = say(service, "CLINIC")
    result = set_field(database, pid, "language", "fr")
    assert result.exit_code != 0 and "'fr' is not a language of bilingual: en, cy" in result.output
    with database.transaction() as connection:
        assert repository.load_participant(connection, pid).language in (None, "en")
