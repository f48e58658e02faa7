"""Helpers for the desk's tests (dashboard, API, access control): two studies in a
folder, an app with a controlled clock, tokens, and answers written straight in."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from storage.auth import create_token
from storage.database import Database
from storage.tables import AnswerRow, FlagRow, Outbound

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
OTHER = "other-study"


class Clock:
    """A controlled UTC clock for token and session expiry."""

    def __init__(self) -> None:
        self.now = datetime.now(UTC).replace(microsecond=0)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def two_studies(root: Path) -> Path:
    """A folder of two study folders: the example study, and a copy with its own id and keywords."""
    studies = root / "studies"
    shutil.copytree(EXAMPLE, studies / "ae-waiting")
    other = studies / OTHER
    shutil.copytree(EXAMPLE, other)
    text = (other / "study.yaml").read_text(encoding="utf-8")
    text = text.replace("study: ae-waiting", f"study: {OTHER}").replace("WAITSTAFF", "OTHERSTAFF")
    text = text.replace("keyword: WAIT", "keyword: OTHER").replace("wait-staff", "other-staff").replace("telegram: wait", "telegram: other")
    text = text.replace("Waiting in A&E", "Another study")
    (other / "study.yaml").write_text(text, encoding="utf-8")
    return studies


@dataclass
class Desk:
    app: FastAPI
    client: TestClient
    clock: Clock

    @property
    def database(self) -> Database:
        database: Database = self.app.state.chorus.database
        return database

    def token(self, role: str = "coordinator", studies: tuple[str, ...] = ("ae-waiting",),
              lifetime: timedelta | None = None, name: str = "tester") -> str:
        expires = self.clock.now + lifetime if lifetime else None
        secret, _ = create_token(self.database, name, role, list(studies), self.clock.now, expires)
        return secret

    def join(self, study_id: str, group: str | None = "patient", flow: str | None = None) -> tuple[str, int]:
        """A participant who joined through the simulator's channel: (participant id, flow version id)."""
        service = self.app.state.chorus.service
        result = service.join("web", f"sim-{study_id}-{group}-{len(self.participants())}", study_id, flow_id=flow, group=group)
        version = self.app.state.chorus.studies.current(study_id, flow or "understand").id
        return result.participant_id, version

    def participants(self) -> list[str]:
        from sqlmodel import select

        from storage.tables import Participant

        with self.database.reading() as session:
            return [p.id for p in session.exec(select(Participant)).all()]


@contextmanager
def study_desk(tmp_path: Path, study_id: str, files: dict[str, str]) -> Iterator[Desk]:
    """A desk serving one study written from ``files`` (name: YAML text), logged in with a
    coordinator token for it."""
    folder = tmp_path / "studies" / study_id
    folder.mkdir(parents=True)
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    with desk_app(tmp_path, studies=tmp_path / "studies") as made:
        made.client.post("/login", data={"token": made.token(studies=(study_id,))})
        yield made


@contextmanager
def desk_app(tmp_path: Path, studies: Path | None = None, **install_options: Any) -> Iterator[Desk]:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'chorus.db'}", studies_dir=studies or two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    clock = Clock()
    app = create_app(settings)
    install(app, clock=clock, **install_options)
    with TestClient(app, base_url="https://testserver") as client:
        yield Desk(app, client, clock)


@contextmanager
def coordinator_api(app: FastAPI, studies: tuple[str, ...]) -> Iterator[Desk]:
    """``app`` (the desk installed) under a test client that carries a coordinator's token for
    ``studies`` on every request."""
    with TestClient(app, base_url="https://testserver") as client:
        made = Desk(app, client, app.state.desk.clock)
        client.headers["Authorization"] = f"Bearer {made.token('coordinator', studies)}"
        yield made


def add_answers(database: Database, rows: list[dict[str, Any]]) -> None:
    """Answers written straight in, as the engine's steps record them (a many-item step's
    ``item`` in the answers' ``item`` column)."""
    has_item = "item" in AnswerRow.model_fields
    with database.session() as session:
        for row in rows:
            row = dict(row)
            item = row.pop("item", None)
            if has_item and item is not None:
                row["item"] = item
            row.setdefault("answered_at", datetime.now(UTC))
            row.setdefault("raw", "")
            row.setdefault("display", "")
            session.add(AnswerRow(**row))


def delphi_rows(participant: str, group: str, study: str, version: int, round: int, scores: dict[str, int | None],
                flow: str = "understand") -> list[dict[str, Any]]:
    return [{"participant_id": participant, "study_id": study, "flow_id": flow, "flow_version_id": version,
             "flow_version": "test", "step_id": "delphi", "item": item,
             "value": {"delphi": "priorities", "round": round, "score": score}} for item, score in scores.items()]


def add_flag(database: Database, study: str, participant: str, kind: str = "safeguarding", message: str = "needs a call") -> int:
    with database.session() as session:
        row = FlagRow(kind=kind, message=message, participant_id=participant, study_id=study, flow_id="understand",
                      step_id="story", created_at=datetime.now(UTC))
        session.add(row)
        session.flush()
        assert row.id is not None
        return row.id


def add_held(database: Database, study: str, participant: str, reason: str) -> None:
    from sqlmodel import select

    from storage.tables import Contact

    with database.session() as session:
        contact = session.exec(select(Contact).where(Contact.participant_id == participant)).first()
        assert contact is not None and contact.id is not None
        session.add(Outbound(participant_id=participant, contact_id=contact.id, study_id=study, channel="whatsapp",
                             text="Round 2 is open", status="held", error=reason, created_at=datetime.now(UTC)))


@contextmanager
def example_desk(tmp_path: Path, study: str) -> Iterator[Desk]:
    """The desk on a copy of one example study (flows/examples/<study>), a coordinator of it logged in."""
    studies = tmp_path / "studies"
    shutil.copytree(EXAMPLE.parent / study, studies / study)
    with desk_app(tmp_path, studies=studies) as made:
        made.client.post("/login", data={"token": made.token(studies=(study,))})
        yield made


@contextmanager
def themes_found_on_the_desk(database_url: str, tmp_path: Path, study: str, answers: list[dict[str, Any]],
                             ports: Iterator[int]) -> Iterator[Any]:
    """Chromium on the desk's Themes tab of ``study``'s story step (:func:`two_studies`), with
    ``answers`` (text, group, and a language if given) stored one participant each, after Find
    themes has shown them: the page. The desk's server takes its ports from ``ports``."""
    from unittest import mock

    from tests import browser

    settings = Settings(database_url=database_url, studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    with mock.patch.object(browser, "free_port", lambda: next(ports)), browser.running_server(app) as base:
        chorus = app.state.chorus
        version = chorus.studies.current(study, "understand").id
        for n, answer in enumerate(answers):
            pid = chorus.service.join("web", f"sim-story-{n}", study, group=answer["group"]).participant_id
            add_answers(chorus.database, [{"participant_id": pid, "study_id": study, "flow_id": "understand", "flow_version_id": version,
                                           "flow_version": "v", "step_id": "story", "value": answer["text"], "display": answer["text"],
                                           **({"language": answer["language"]} if answer.get("language") else {})}])
        secret, _ = create_token(chorus.database, "Dr Rhys", "coordinator", [study], datetime.now(UTC))
        with browser.chromium_page() as page:
            browser.log_in(page, base, secret)
            page.goto(base + f"/dashboard/studies/{study}/themes?flow=understand&step=story")
            page.click("#find-themes")
            page.wait_for_selector("#themes-out section.theme", timeout=120_000)
            yield page
