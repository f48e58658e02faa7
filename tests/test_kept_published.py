"""A process that restarts with study files older than the last publication runs that
publication, and its log says so (``study.kept_published``): read here as an operator reads
it, the JSON lines of ``chorus serve``'s handler, across real restarts of the app on one
database. Each machine has its own copy of the study's files.

Publishing from the desk or the API writes the flow into the study folder of the process that
took the request: that machine's files ARE the last publication afterwards, so its restart
says nothing (an operator's exploratory test expected the warning there)."""

from __future__ import annotations

import io
import itertools
import json
import logging
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.logging_setup import QUIET, configure
from channels.base import InboundMessage
from tests.conftest import EXAMPLE_STUDY

STUDY = "ae-waiting"
OLD_GREETING = "The A&E team wants to hear about waiting."
NEW_GREETING = "The A&E team would like to hear how the wait went."
_senders = itertools.count(900301)


@pytest.fixture
def log_lines() -> Iterator[io.StringIO]:
    """What chorus serve's JSON handler writes (CHORUS_LOG_FORMAT=json)."""
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    handler = configure("INFO", "json")
    stream = io.StringIO()
    handler.setStream(stream)  # type: ignore[attr-defined]
    yield stream
    for added in [h for h in root.handlers if h.get_name() == "chorus"]:
        root.removeHandler(added)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def machine(root: Path, name: str) -> Path:
    folder = root / name / STUDY
    shutil.copytree(EXAMPLE_STUDY, folder)
    return folder


def start(database_url: str, studies: Path, tmp_path: Path) -> TestClient:
    """A process starting (or restarting) on ``studies``: the app, its lifespan and all."""
    from bot.app import create_app
    from bot.settings import Settings

    settings = Settings.from_env({}, database_url=database_url, studies_dir=studies, key_file=tmp_path / "chorus.key",
                                 data_key_file=tmp_path / "chorus-data.keys", study_watch_interval=0)
    return TestClient(create_app(settings), base_url="https://chorus.example.org")


def kept_published(stream: io.StringIO) -> list[dict[str, Any]]:
    entries = [json.loads(line) for line in stream.getvalue().splitlines() if line.startswith("{")]
    return [entry for entry in entries if entry.get("event") == "study.kept_published"]


def publish_through_the_api(client: TestClient) -> None:
    from storage.auth import create_token

    chorus = client.app.state.chorus  # type: ignore[attr-defined]
    secret, _ = create_token(chorus.database, "tester", "coordinator", [STUDY], chorus.service.clock())
    folder = Path(chorus.studies.get(STUDY).path).parent
    changed = (folder / "understand.yaml").read_text(encoding="utf-8").replace(OLD_GREETING, NEW_GREETING)
    response = client.post(f"/api/v1/studies/{STUDY}/flows/publish", json={"yaml": changed},
                           headers={"Authorization": f"Bearer {secret}"})
    assert response.status_code == 200 and response.json()["ok"], response.text


def greeting(client: TestClient) -> str:
    service = client.app.state.chorus.service  # type: ignore[attr-defined]
    result = service.receive(InboundMessage("sms", f"+447700{next(_senders)}", f"SM-kept-{next(_senders)}", "WAIT"))
    return str(next(row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids))


def test_a_restart_with_older_files_runs_the_publication_and_logs_it_once(
        migrated_database_url: str, tmp_path: Path, log_lines: io.StringIO) -> None:
    here, elsewhere = machine(tmp_path, "here"), machine(tmp_path, "elsewhere")
    with start(migrated_database_url, elsewhere, tmp_path) as other, start(migrated_database_url, here, tmp_path) as running:
        assert OLD_GREETING in greeting(running)
        publish_through_the_api(other)  # another machine publishes a changed flow
        published = other.app.state.chorus.studies.current(STUDY, "understand")  # type: ignore[attr-defined]
    assert OLD_GREETING in (here / "understand.yaml").read_text(encoding="utf-8"), "this machine's files stay older"
    assert kept_published(log_lines) == [], "no restart yet"

    with start(migrated_database_url, here, tmp_path) as restarted:  # restarted with the same, older files
        assert restarted.app.state.chorus.studies.current(STUDY, "understand") == published  # type: ignore[attr-defined]
        assert NEW_GREETING in greeting(restarted), "new conversations start on the publication"
    [entry] = kept_published(log_lines)
    assert entry["level"] == "WARNING" and entry["study"] == STUDY and entry["logger"] == "chorus.studies"
    assert entry["message"] == (f"the files of study {STUDY} here are older than its last publication: running that "
                                "instead (chorus db publish publishes these files)")

    with start(migrated_database_url, here, tmp_path):  # and again at every start until its files are brought up to date
        pass
    assert len(kept_published(log_lines)) == 2


def test_the_machine_that_published_through_the_api_has_the_publication_in_its_files(
        migrated_database_url: str, tmp_path: Path, log_lines: io.StringIO) -> None:
    here = machine(tmp_path, "here")
    with start(migrated_database_url, here, tmp_path) as running:
        publish_through_the_api(running)
        published = running.app.state.chorus.studies.current(STUDY, "understand")  # type: ignore[attr-defined]
    assert NEW_GREETING in (here / "understand.yaml").read_text(encoding="utf-8"), "the API wrote the flow here"

    with start(migrated_database_url, here, tmp_path) as restarted:
        assert restarted.app.state.chorus.studies.current(STUDY, "understand") == published  # type: ignore[attr-defined]
        assert NEW_GREETING in greeting(restarted)
    assert kept_published(log_lines) == [], "these files are the last publication: nothing is kept over them"
