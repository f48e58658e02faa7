"""Shared by the tests of participants' own ideas and statements: a study folder served by a
conversation service, a participant who texts it, and `chorus submissions` run on its database."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
import yaml
from click.testing import CliRunner

from bot.commands.moderate import register
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY_ID = "ideas-study"


def ideas_service_for(database: Database, folder: Path, study: dict[str, Any], flow: dict[str, Any]) -> ConversationService:
    """A service for a study of one flow (``ideas.yaml``), written to ``folder``."""
    folder.mkdir()
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    (folder / "ideas.yaml").write_text(yaml.safe_dump(flow), encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder), FakeClock(), address_key=TEST_ADDRESS_KEY)


def sender(service: ConversationService, address: str, channel: str = "sms") -> Callable[[str], ReceiveResult]:
    """A participant at ``address``: each text a new inbound message with its own provider id."""
    counter = iter(range(1, 1000))

    def say(text: str) -> ReceiveResult:
        return service.receive(InboundMessage(channel, address, f"{address}-{next(counter)}", text))

    return say


def run_submissions(database: Database, *args: str) -> str:
    """What `chorus submissions ideas-study ARGS` prints; it must succeed."""
    @click.group()
    def root() -> None:
        pass

    register(root)
    ran = CliRunner().invoke(root, ["submissions", STUDY_ID, *args, "--database", database.url])
    assert ran.exit_code == 0, ran.output
    return ran.output
