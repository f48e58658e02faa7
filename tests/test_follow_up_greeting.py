"""A scheduled follow-up that comes days after the last message opens with the study's title
("Clinic check-in: hello again."), in the participant's language: a question out of the blue,
from a number they may not know, says who is asking (bot/starting.py). Not when they heard
from the study lately, nor when the message names the study already, nor when the study sets
the greeting to nothing. On SQLite and PostgreSQL, through the real scheduler."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path

from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.studies import StudyRegistry
from flows.loader import load_study
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY = """study: clinic
title: {{en: Clinic check-in, cy: Gwirio'r clinig}}
languages: [en, cy]
timezone: Europe/London
join: {{start_flow: welcome, keyword: CLINIC}}
flows: [welcome.yaml, check.yaml]
schedule:
  - flow: check
    after: {after}
{texts}"""
WELCOME = """flow: welcome
steps:
  - id: hello
    type: end
    text: {en: Thanks for joining., cy: Diolch am ymuno.}
"""
CHECK = """flow: check
steps:
  - id: better
    type: yesno
    text: {{en: "{question}", cy: Ydy pethau'n well?}}
  - id: bye
    type: end
    text: Thank you.
"""
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)


class Clinic:
    def __init__(self, database: Database, folder: Path) -> None:
        self.clock = FakeClock(NOW)
        self.registry = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, self.registry, self.clock, address_key=TEST_ADDRESS_KEY)
        self.scheduler = Scheduler(database, self.service, self.registry, self.clock)
        self._addresses = itertools.count(1)

    def join(self, language: str = "en") -> str:
        result = self.service.join("sms", f"+4477009007{next(self._addresses):02d}", "clinic", language=language)
        assert result.status == "joined" and result.participant_id is not None
        self.clock.now += timedelta(seconds=5)
        self.scheduler.tick()  # plans the follow-up
        return result.participant_id

    def later(self, delta: timedelta) -> None:
        self.clock.now += delta
        self.scheduler.tick()

    def sent(self, pid: str) -> list[str]:
        return [m.text for m in self.service.outbox_for(pid)]


def _clinic(database: Database, tmp_path: Path, after: str = "7d", question: str = "Are things better?", texts: str = "") -> Clinic:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY.format(after=after, texts=texts), encoding="utf-8")
    (folder / "welcome.yaml").write_text(WELCOME, encoding="utf-8")
    (folder / "check.yaml").write_text(CHECK.format(question=question), encoding="utf-8")
    return Clinic(database, folder)


def test_a_follow_up_a_week_later_says_which_study_is_asking(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    pid = clinic.join()
    clinic.later(timedelta(days=7, minutes=1))
    assert clinic.sent(pid) == ["Thanks for joining.", "Clinic check-in: hello again.\nAre things better?"]


def test_the_greeting_is_in_the_participants_language(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path)
    pid = clinic.join("cy")
    clinic.later(timedelta(days=7, minutes=1))
    assert clinic.sent(pid)[-1].startswith("Gwirio'r clinig: helo eto.\nYdy pethau'n well?")


def test_a_follow_up_soon_after_the_last_message_needs_no_greeting(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, after="1d")
    pid = clinic.join()
    clinic.later(timedelta(days=1, minutes=1))
    assert clinic.sent(pid)[-1].startswith("Are things better?"), "a daily follow-up: they heard from us yesterday"


def test_a_message_that_names_the_study_is_not_greeted_again(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, question="Clinic check-in here. Are things better?")
    pid = clinic.join()
    clinic.later(timedelta(days=7, minutes=1))
    assert clinic.sent(pid)[-1].startswith("Clinic check-in here. Are things better?")


def test_a_study_may_reword_the_greeting(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, texts='texts:\n  follow_up.greeting: "Hi, {title} again."\n')
    pid = clinic.join()
    clinic.later(timedelta(days=7, minutes=1))
    assert clinic.sent(pid)[-1] == "Hi, Clinic check-in again.\nAre things better?"


def test_a_study_may_turn_the_greeting_off(database: Database, tmp_path: Path) -> None:
    clinic = _clinic(database, tmp_path, texts='texts:\n  follow_up.greeting: ""\n')
    pid = clinic.join()
    clinic.later(timedelta(days=7, minutes=1))
    assert clinic.sent(pid)[-1] == "Are things better?"
