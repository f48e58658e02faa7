"""The studies this deployment runs: loaded from folders, published as versioned flows.

Publishing copies each flow's content into ``flow_versions`` under its content hash.
A session is pinned to the version it started on and always reloads that version
from the database, so editing a flow on disk never breaks a conversation midway.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import text

from flows.loader import LoadedStudy, LoadError, Problem, load_study
from flows.model import resolve_text
from storage import repository
from storage.database import Database

STUDY_FILES = ("study.yaml", "study.yml")


@dataclass(frozen=True)
class JoinMatch:
    """A first message that matched a study's way in."""

    study_id: str
    flow_id: str
    group: str | None


@dataclass(frozen=True)
class PublishedFlow:
    id: int
    version: str


def portable(raw: dict[str, Any]) -> dict[str, Any]:
    """YAML content as plain JSON (dates become strings, integer keys become strings)."""
    result: dict[str, Any] = json.loads(json.dumps(raw, default=str, ensure_ascii=False))
    return result


def _phrases(text: str) -> set[str]:
    """'wait', ' Join  WAIT ' and 'WAIT.' all say WAIT."""
    clean = " ".join(text.split()).upper().strip(" .!")
    found = {clean}
    if clean.startswith("JOIN "):
        found.add(clean[5:].strip())
    return found


def study_folders(folder: Path) -> list[Path]:
    """The study folders ``folder`` names: itself if it holds a study.yaml, else each folder in
    it that does. Raises :class:`LoadError` when there is no such folder."""
    if any((folder / name).exists() for name in STUDY_FILES):
        return [folder]
    if not folder.is_dir():
        raise LoadError([Problem(str(folder), 1, 1, "no such folder; set CHORUS_STUDIES_DIR to your studies folder")])
    return sorted(child for child in folder.iterdir() if child.is_dir() and any((child / name).exists() for name in STUDY_FILES))


class StudyRegistry:
    def __init__(self, studies: Iterable[LoadedStudy]) -> None:
        self._studies: dict[str, LoadedStudy] = {}
        for loaded in studies:
            if loaded.study.study in self._studies:
                raise LoadError([Problem(loaded.path, 1, 1, f"study id '{loaded.study.study}' is used twice; give each study its own id")])
            self._studies[loaded.study.study] = loaded
        self.published: dict[tuple[str, str], PublishedFlow] = {}
        self._routes = [
            ((route.keyword or "").upper(), (route.telegram or "").lower(),
             JoinMatch(loaded.study.study, route.flow or loaded.study.join.start_flow, route.group))
            for loaded in self._studies.values() for route in loaded.study.join.all_routes()
        ]
        """Every join route of every study, in order: (KEYWORD, telegram parameter, what it joins).
        Worked out once: every message from someone not yet in a study is matched against them."""

    @classmethod
    def from_folder(cls, folder: str | Path) -> StudyRegistry:
        """One study folder (with study.yaml), or a folder of study folders."""
        loaded, problems = [], []
        for found in study_folders(Path(folder)):
            try:
                loaded.append(load_study(found))
            except LoadError as error:
                problems.extend(error.problems)
        if problems:
            raise LoadError(problems)
        return cls(loaded)

    def __iter__(self) -> Iterator[LoadedStudy]:
        return iter(self._studies.values())

    def __contains__(self, study_id: object) -> bool:
        return study_id in self._studies

    def ids(self) -> list[str]:
        return list(self._studies)

    def get(self, study_id: str) -> LoadedStudy:
        return self._studies[study_id]

    def match_join(self, channel: str, text: str, start_param: str | None = None) -> JoinMatch | None:
        """The study and route a first message asks to join, if any."""
        words = _phrases(text) | (_phrases(start_param) if start_param else set())
        telegram = (start_param or "").strip().lower() if channel == "telegram" else ""
        for keyword, deep_link, match in self._routes:
            if (keyword and keyword in words) or (deep_link and deep_link == telegram):
                return match
        return None

    def join_keywords(self) -> list[tuple[str, str]]:
        """Each study's main keyword and title, for telling strangers how to join."""
        found = []
        for loaded in self._studies.values():
            study = loaded.study
            keyword = study.join.keyword or next((r.keyword for r in study.join.routes if r.keyword and not r.group), None)
            if keyword:
                found.append((keyword.upper(), resolve_text(study.title, study.default_language)))
        return found

    def publish(self, database: Database, now: datetime) -> dict[tuple[str, str], PublishedFlow]:
        """Store every study and flow version (idempotent); remember each flow's current version id."""
        published: dict[tuple[str, str], PublishedFlow] = {}
        with database.transaction() as session:
            if database.is_postgres:  # processes starting together publish one at a time (each finds the other's rows)
                session.execute(text("SELECT pg_advisory_xact_lock(4242002)"))
            for loaded in self._studies.values():
                published.update(_publish_one(session, loaded, now))
        self.published = published
        return published

    def current(self, study_id: str, flow_id: str) -> PublishedFlow:
        try:
            return self.published[(study_id, flow_id)]
        except KeyError:
            raise KeyError(f"flow '{flow_id}' of study '{study_id}' is not published") from None


def _publish_one(session: Any, loaded: LoadedStudy, now: datetime) -> dict[tuple[str, str], PublishedFlow]:
    study = loaded.study
    raw = yaml.safe_load(Path(loaded.path).read_text(encoding="utf-8"))
    title = resolve_text(study.title, study.default_language)
    repository.publish_study(session, study.study, title, portable(raw), now)
    published = {}
    for flow_id, flow in loaded.flows.items():
        version_id, created = repository.publish_flow(session, study.study, flow_id, flow.version, portable(flow.raw), now)
        if created:
            repository.audit(session, "system", "flow_published", now, study.study, flow=flow_id, version=flow.version)
        published[(study.study, flow_id)] = PublishedFlow(version_id, flow.version)
    return published
