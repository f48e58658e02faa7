"""Several processes on one database run the same studies: a flow published by one (the desk,
the API, ``chorus db publish``) is what every other one starts new conversations on within
the watch's interval (bot/study_watch.py), and a process starting with older files does not
undo it. Each "process" here is a service or app with its own registry, built from its own
copy of the study's files (as on another machine)."""

from __future__ import annotations

import itertools
import logging
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from bot.api.publishing import publish_text
from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry
from bot.study_watch import StudyWatch, recorded_state
from channels.base import InboundMessage
from storage.database import Database
from tests.conftest import EXAMPLE_STUDY
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

STUDY = "ae-waiting"
OLD_GREETING = "The A&E team wants to hear about waiting."
NEW_GREETING = "The A&E team would like to hear how the wait went."
_messages = itertools.count(1)


def machine(root: Path, name: str) -> Path:
    """A machine's own copy of the study's files."""
    folder = root / name / STUDY
    shutil.copytree(EXAMPLE_STUDY, folder)
    return folder


def process(database: Database, folder: Path, clock: FakeClock) -> ConversationService:
    """A process starting on ``folder``'s files: it publishes them, as every process does."""
    return ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY,
                               safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def say(service: ConversationService, text: str, address: str) -> list[str]:
    result = service.receive(InboundMessage("sms", address, f"sms-{next(_messages)}", text))
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def new_understand(folder: Path) -> str:
    return (folder / "understand.yaml").read_text(encoding="utf-8").replace(OLD_GREETING, NEW_GREETING)


@pytest.fixture
def two(database: Database, tmp_path: Path, clock: FakeClock) -> tuple[ConversationService, ConversationService]:
    return process(database, machine(tmp_path, "a"), clock), process(database, machine(tmp_path, "b"), clock)


def test_a_flow_published_in_one_process_is_what_the_other_starts_new_conversations_on(
        two: tuple[ConversationService, ConversationService], database: Database, clock: FakeClock,
        caplog: pytest.LogCaptureFixture) -> None:
    a, b = two
    watch = StudyWatch(database, b.studies, interval=5)
    assert watch.check() == [], "nothing published since b started: nothing to swap"
    assert OLD_GREETING in say(b, "WAIT", "+447700900101")[0]  # a conversation running on the old version
    folder_a = Path(a.studies.get(STUDY).path).parent
    checked, flows = publish_text(a.studies, database, STUDY, new_understand(folder_a), "token:tester", clock())
    assert checked.ok and [f["flow"] for f in flows if f["new"]] == ["understand"]

    assert OLD_GREETING in say(b, "WAIT", "+447700900102")[0], "before b looks, it still runs what it started with"
    with caplog.at_level(logging.INFO, logger="chorus.studies"):
        assert watch.check() == [STUDY]
    new_version = a.studies.current(STUDY, "understand")
    assert b.studies.current(STUDY, "understand") == new_version
    assert [r.getMessage() for r in caplog.records if "published elsewhere" in r.getMessage()] == [
        f"study {STUDY}: now running what was published elsewhere: understand {new_version.version}"]

    assert NEW_GREETING in say(b, "WAIT", "+447700900103")[0], "a new participant on b gets the new text"
    assert "Which best describes you?" in say(b, "yes", "+447700900101")[0], "the running conversation goes on"
    assert watch.check() == [] and b.studies.current(STUDY, "understand") == new_version, "swapped once"


def test_nothing_is_swapped_or_read_again_while_nothing_changes(
        two: tuple[ConversationService, ConversationService], database: Database, clock: FakeClock) -> None:
    a, b = two
    watch = StudyWatch(database, b.studies, interval=5)
    before = b.studies.get(STUDY)
    for _ in range(3):
        assert watch.check() == []
    assert b.studies.get(STUDY) is before, "the same study object: caches keyed by it stay warm"
    a.studies.publish(database, clock())  # publishing the same files again changes nothing anywhere
    assert watch.check() == [] and b.studies.get(STUDY) is before


def test_a_join_keyword_published_elsewhere_is_used(
        two: tuple[ConversationService, ConversationService], database: Database, clock: FakeClock) -> None:
    a, b = two
    study_file = Path(a.studies.get(STUDY).path)
    study_file.write_text(study_file.read_text(encoding="utf-8").replace("keyword: WAIT\n", "keyword: QUEUE\n"), encoding="utf-8")
    from bot.api.publishing import publish_from_disk

    publish_from_disk(a.studies, database, STUDY, "token:tester", clock())
    assert b.studies.match_join("sms", "QUEUE") is None
    assert StudyWatch(database, b.studies, interval=5).check() == [STUDY]
    assert b.studies.match_join("sms", "QUEUE") is not None and b.studies.match_join("sms", "WAIT") is None
    assert b.studies.get(STUDY).study.join.keyword == "QUEUE"
    assert Path(b.studies.get(STUDY).path).parent != study_file.parent, "b keeps its own folder for the desk"


def test_a_process_starting_with_older_files_runs_the_newer_publication_and_undoes_nothing(
        two: tuple[ConversationService, ConversationService], database: Database, clock: FakeClock, tmp_path: Path,
        caplog: pytest.LogCaptureFixture) -> None:
    a, b = two
    folder_a = Path(a.studies.get(STUDY).path).parent
    publish_text(a.studies, database, STUDY, new_understand(folder_a), "token:tester", clock())
    with database.transaction() as connection:
        published = recorded_state(connection, STUDY)

    with caplog.at_level(logging.WARNING, logger="chorus.studies"):
        late = process(database, machine(tmp_path, "late"), clock)  # a machine deployed with the old files
    assert late.studies.current(STUDY, "understand") == a.studies.current(STUDY, "understand")
    assert any("older than its last publication" in r.getMessage() for r in caplog.records)
    with database.transaction() as connection:
        assert recorded_state(connection, STUDY) == published, "its start published nothing over the newer flows"
    assert StudyWatch(database, a.studies, interval=5).check() == [], "a keeps the flow it published"
    assert NEW_GREETING in say(late, "WAIT", "+447700900111")[0]


def test_publishing_older_files_on_purpose_reaches_every_process(
        two: tuple[ConversationService, ConversationService], database: Database, clock: FakeClock) -> None:
    a, b = two
    old_version = a.studies.current(STUDY, "understand")
    folder_a = Path(a.studies.get(STUDY).path).parent
    publish_text(a.studies, database, STUDY, new_understand(folder_a), "token:tester", clock())
    StudyWatch(database, b.studies, interval=5).check()
    assert b.studies.current(STUDY, "understand") != old_version

    # `chorus db publish` from a folder with the old files: an operator going back on purpose
    StudyRegistry.from_folder(Path(b.studies.get(STUDY).path).parent).publish(database, clock())
    assert StudyWatch(database, a.studies, interval=5).check() == [STUDY]
    assert a.studies.current(STUDY, "understand") == old_version
    assert OLD_GREETING in say(a, "WAIT", "+447700900121")[0]


# ----------------------------------------------------------------------------- two apps, polling


def app_on(database_url: str, studies: Path, tmp_path: Path, name: str) -> TestClient:
    from bot.app import create_app
    from bot.settings import Settings

    settings = Settings.from_env(database_url=database_url, studies_dir=studies, key_file=tmp_path / "chorus.key",
                                 data_key_file=tmp_path / "chorus-data.keys")
    return TestClient(create_app(settings), base_url=f"https://{name}")


@pytest.fixture
def fast_watch(monkeypatch: pytest.MonkeyPatch) -> Iterator[float]:
    monkeypatch.setenv("CHORUS_STUDY_WATCH_INTERVAL", "0.2")
    yield 0.2


def test_two_apps_on_one_database_see_a_publication_within_the_interval(
        migrated_database_url: str, tmp_path: Path, fast_watch: float, caplog: pytest.LogCaptureFixture) -> None:
    from storage.auth import create_token

    with app_on(migrated_database_url, machine(tmp_path, "a"), tmp_path, "a") as one, \
            app_on(migrated_database_url, machine(tmp_path, "b"), tmp_path, "b") as other:
        database = one.app.state.chorus.database  # type: ignore[attr-defined]
        secret, _ = create_token(database, "tester", "coordinator", [STUDY], one.app.state.chorus.service.clock())  # type: ignore[attr-defined]
        folder_a = Path(one.app.state.chorus.studies.get(STUDY).path).parent  # type: ignore[attr-defined]
        with caplog.at_level(logging.INFO, logger="chorus.publishing"):
            response = one.post(f"/api/v1/studies/{STUDY}/flows/publish", json={"yaml": new_understand(folder_a)},
                                headers={"Authorization": f"Bearer {secret}"})
        assert response.status_code == 200 and response.json()["ok"], response.text
        assert [r.getMessage() for r in caplog.records if r.name == "chorus.publishing"] == [
            f"study {STUDY}: {folder_a / 'understand.yaml'} rewritten with the flow published by token:1:tester"
        ], "the deployed file the publication rewrote is named in the log"
        published = one.app.state.chorus.studies.current(STUDY, "understand")  # type: ignore[attr-defined]

        registry = other.app.state.chorus.studies  # type: ignore[attr-defined]
        deadline = time.monotonic() + 10 * fast_watch + 5
        while registry.current(STUDY, "understand") != published and time.monotonic() < deadline:
            time.sleep(0.05)
        assert registry.current(STUDY, "understand") == published, "the other app swapped the flow in by itself"
        service = other.app.state.chorus.service  # type: ignore[attr-defined]
        assert NEW_GREETING in say(service, "WAIT", "+447700900131")[0]
