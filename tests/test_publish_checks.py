"""Publishing a study from its files runs the full checks (``chorus validate``) first, as the
desk and the API do for a pasted flow: files with errors are not published (the last
publication stays live, or a study never published is not run), the errors are logged and
shown to coordinators (the desk's study list, the API's ``GET /studies``); warnings publish."""

from __future__ import annotations

import html
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from bot.cli import cli
from bot.service import ConversationService
from bot.studies import StudyRegistry
from storage.auth import create_token
from storage.database import Database
from storage.tables import FLOW_VERSIONS
from tests.db_fixtures import FakeClock
from tests.test_study_reload import (
    NEW_GREETING,
    OLD_GREETING,
    STUDY,
    machine,
    new_understand,
    process,
    say,
)

TYPO = ('      - if: answer == "staff"\n        goto: shift', '      - if: answer == "staff"\n        goto: shfit')
ERROR = "step 'role' goes to 'shfit', which is not a step of this flow"
LONG = "We really do want to hear all about it. " * 12


def break_flow(folder: Path, greeting: str = NEW_GREETING) -> None:
    """A flow that still loads but that ``chorus validate`` finds an error in (a misspelt goto)."""
    text = new_understand(folder).replace(NEW_GREETING, greeting)
    assert TYPO[0] in text
    (folder / "understand.yaml").write_text(text.replace(*TYPO), encoding="utf-8")


def refusals(caplog: pytest.LogCaptureFixture) -> list[logging.LogRecord]:
    return [r for r in caplog.records if getattr(r, "event", None) == "study.publish_refused"]


def test_a_process_starting_with_files_that_have_errors_keeps_the_last_publication_live(
        database: Database, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    first = process(database, machine(tmp_path, "a"), clock)
    published = first.studies.current(STUDY, "understand")
    later = machine(tmp_path, "b")
    break_flow(later)
    with caplog.at_level(logging.INFO, "chorus.studies"):
        restarted = process(database, later, clock)
    assert restarted.studies.current(STUDY, "understand") == published, "the broken files are not published"
    assert OLD_GREETING in say(restarted, "WAIT", "+447700900401")[0], "new conversations start on the last publication"
    refusal = restarted.studies.refused[STUDY]
    assert refusal.kept and len(refusal.errors) == 1 and refusal.errors[0].message.startswith(ERROR)
    [record] = refusals(caplog)
    assert record.levelno == logging.ERROR and record.study == STUDY  # type: ignore[attr-defined]
    said = record.getMessage()
    assert said.startswith(f"study {STUDY} not published: its files have 1 error (its last publication stays live)")
    assert "understand.yaml:28:15" in said and ERROR in said and "+44" not in said


def test_a_study_never_published_whose_files_have_errors_is_not_run(
        database: Database, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    folder = machine(tmp_path, "a")
    break_flow(folder)
    with caplog.at_level(logging.INFO, "chorus.studies"):
        service = process(database, folder, clock)
    assert STUDY not in service.studies and service.studies.match_join("sms", "WAIT") is None
    assert not service.studies.refused[STUDY].kept
    assert "it was never published, so it is not running" in refusals(caplog)[0].getMessage()
    with database.read_transaction() as connection:
        assert connection.execute(select(func.count()).select_from(FLOW_VERSIONS)).scalar() == 0


def test_files_with_warnings_only_are_published_and_their_warnings_logged(
        database: Database, tmp_path: Path, clock: FakeClock, caplog: pytest.LogCaptureFixture) -> None:
    folder = machine(tmp_path, "a")
    (folder / "understand.yaml").write_text(new_understand(folder).replace(NEW_GREETING, NEW_GREETING + " " + LONG),
                                            encoding="utf-8")
    with caplog.at_level(logging.INFO, "chorus.studies"):
        service = process(database, folder, clock)
    assert NEW_GREETING in say(service, "WAIT", "+447700900402")[0] and not service.studies.refused
    [record] = [r for r in caplog.records if getattr(r, "event", None) == "study.published_with_warnings"]
    assert "SMS segments" in record.getMessage() and record.levelno == logging.WARNING


def test_fixing_the_files_publishes_them_and_clears_the_refusal(database: Database, tmp_path: Path, clock: FakeClock) -> None:
    process(database, machine(tmp_path, "a"), clock)
    folder = machine(tmp_path, "b")
    break_flow(folder)
    registry = StudyRegistry.from_folder(folder)
    registry.publish(database, clock(), starting=True)
    assert STUDY in registry.refused
    (folder / "understand.yaml").write_text(new_understand(folder).replace(TYPO[1], TYPO[0]), encoding="utf-8")
    registry.replace(StudyRegistry.from_folder(folder).get(STUDY))
    registry.publish(database, clock())
    assert not registry.refused
    service = ConversationService(database, registry, clock, address_key=b"k" * 32, publish=False)
    assert NEW_GREETING in say(service, "WAIT", "+447700900403")[0]


def test_a_study_refused_here_runs_what_another_process_publishes(database: Database, tmp_path: Path, clock: FakeClock) -> None:
    """The study watch brings in a publication made elsewhere even for a study never run here."""
    broken = machine(tmp_path, "a")
    break_flow(broken)
    here = process(database, broken, clock)
    assert STUDY not in here.studies
    process(database, machine(tmp_path, "b"), clock)  # another machine, with good files
    assert here.studies.sync(database) == [STUDY]
    assert OLD_GREETING in say(here, "WAIT", "+447700900404")[0] and here.studies.refused[STUDY].kept


def test_chorus_db_publish_refuses_files_with_errors(database: Database, tmp_path: Path) -> None:
    folder = machine(tmp_path, "a")
    break_flow(folder)
    outcome = CliRunner().invoke(cli, ["db", "publish", "--studies", str(folder), "--database", database.url])
    assert outcome.exit_code != 0 and "not published (never published)" in outcome.output and ERROR in outcome.output


# ----------------------------------------------------------------------------- the desk and the API


@pytest.fixture
def refused_app(migrated_database_url: str, tmp_path: Path) -> Iterator[tuple[TestClient, str]]:
    """An app started on files with errors after a good publication; a coordinator's token."""
    from bot.app import create_app
    from bot.settings import Settings

    def settings(folder: Path) -> Settings:
        return Settings.from_env({}, database_url=migrated_database_url, studies_dir=folder, key_file=tmp_path / "chorus.key",
                                 data_key_file=tmp_path / "chorus-data.keys", study_watch_interval=0)

    with TestClient(create_app(settings(machine(tmp_path, "a"))), base_url="https://chorus.example.org"):
        pass
    folder = machine(tmp_path, "b")
    break_flow(folder)
    with TestClient(create_app(settings(folder)), base_url="https://chorus.example.org") as client:
        chorus = client.app.state.chorus  # type: ignore[attr-defined]
        secret, _ = create_token(chorus.database, "tester", "coordinator", [STUDY], chorus.service.clock())
        yield client, secret


def test_the_api_and_the_desk_list_a_study_whose_files_were_refused(refused_app: tuple[TestClient, str]) -> None:
    client, secret = refused_app
    listed = client.get("/api/v1/studies", headers={"Authorization": f"Bearer {secret}"}).json()
    [refused] = listed["refused"]
    assert refused["study"] == STUDY and refused["kept_published"] is True
    assert [p["severity"] for p in refused["problems"]] == ["error"] and ERROR in refused["problems"][0]["message"]
    assert [item["title"] for item in listed["items"]] == ["Waiting in A&E"], "the last publication still runs"
    client.post("/login", data={"token": secret})
    page = " ".join(html.unescape(client.get("/dashboard").text).split())
    assert f"{STUDY}: files not published" in page and "its last publication stays live" in page and ERROR in page


def test_publishing_deployed_files_with_errors_is_refused_with_422(refused_app: tuple[TestClient, str]) -> None:
    client, secret = refused_app
    response = client.post(f"/api/v1/studies/{STUDY}/flows/publish", json={"yaml": ""},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 422 and response.json()["flows"] == []
    assert any(ERROR in p["message"] for p in response.json()["problems"] if p["severity"] == "error")
    chorus = client.app.state.chorus  # type: ignore[attr-defined]
    assert OLD_GREETING in say(chorus.service, "WAIT", "+447700900405")[0], "nothing was published"
