"""Validate and publish flows from the desk.

Validating pasted YAML copies the study's folder to a scratch folder, puts the text in
place of the flow file it names (by its ``flow:`` id) and runs the same checks as
``chorus validate`` on the whole study, so a flow that names an unknown group is caught
too. Publishing reloads the study from its folder, stores any new flow versions
(``flow_versions``, by content hash) and swaps the live study, so new sessions start
on the new versions while running sessions stay on theirs; every other process swaps it
within seconds (bot/study_watch.py). A changed schedule plans the
participants already enrolled again (bot/studies.py); :func:`publish_notes` says what that
changed and warns of an ``at:`` or ``closes:`` date already past, and of a choice value that
answers hold but the new version no longer offers (bot/api/live_changes.py);
:func:`published_result` adds the warnings validation found, so the API and the desk give every
warning about what was published. Pasted text is
taken with plain line breaks (a browser's textarea sends CRLF), so the file it rewrites keeps
them.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.api.live_changes import kept_apart
from bot.studies import StudyRegistry
from flows.loader import LoadedStudy, LoadError, Problem, load_study
from flows.validate import past_dates, validate_paths
from storage import repository
from storage.database import Database

MAX_YAML = 200_000
FLOW_LINE = re.compile(r"^flow:[ \t]*[\"']?([\w.-]+)", re.MULTILINE)
"""The ``flow:`` line of a flow whose YAML does not parse, to say which file it is."""

log = logging.getLogger("chorus.publishing")


@dataclass(frozen=True)
class Checked:
    problems: list[Problem]
    target: str
    """The file the text was checked as (relative to the study folder)."""

    @property
    def ok(self) -> bool:
        return not any(p.severity == "error" for p in self.problems)


def problem_dict(problem: Problem) -> dict[str, Any]:
    return {"file": problem.file, "line": problem.line, "column": problem.column, "severity": problem.severity,
            "message": problem.message, "hint": problem.hint, "text": str(problem)}


def _target_file(loaded: LoadedStudy, text: str) -> str:
    """The flow file (name within the study folder) that the pasted flow replaces."""
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError:
        raw = None
    flow_id = raw.get("flow") if isinstance(raw, dict) else None
    if raw is None and (found := FLOW_LINE.search(text)):  # broken YAML: named by its flow: line
        flow_id = found.group(1)
    if isinstance(flow_id, str) and flow_id in loaded.flows:
        return Path(loaded.flows[flow_id].path).name
    return "pasted.yaml"


def _relabel(problems: list[Problem], scratch: Path) -> list[Problem]:
    prefix = str(scratch) + os.sep
    return [Problem(p.file.replace(prefix, ""), p.line, p.column, p.message, p.hint, p.severity) for p in problems]


def plain_lines(text: str) -> str:
    return text.replace("\r\n", "\n")


def validate_text(loaded: LoadedStudy, text: str, database: Database | None = None) -> Checked:
    """Check pasted YAML as the study's flow it names; with ``database``, also warn of choice
    values that answers hold and this text no longer offers."""
    text = plain_lines(text)
    if len(text) > MAX_YAML:
        return Checked([Problem("pasted.yaml", 1, 1, f"the text is longer than {MAX_YAML} characters")], "pasted.yaml")
    target = _target_file(loaded, text)
    folder = Path(loaded.path).parent
    with tempfile.TemporaryDirectory(prefix="chorus-validate-") as scratch:
        copy = Path(scratch) / folder.name
        shutil.copytree(folder, copy)
        (copy / target).write_text(text, encoding="utf-8")
        checked = copy if target != "pasted.yaml" else copy / target
        problems, _ = validate_paths([checked])
        if database is not None and target != "pasted.yaml" and not any(p.severity == "error" for p in problems):
            problems += _kept_apart(database, copy, _flow_id(loaded, target))
        return Checked(_relabel(problems, Path(scratch)), target)


def _kept_apart(database: Database, folder: Path, only_flow: str | None = None) -> list[Problem]:
    try:
        return kept_apart(database, load_study(folder), only_flow)
    except LoadError:  # already reported by validate_paths
        return []


def _flow_id(loaded: LoadedStudy, target: str) -> str | None:
    return next((fid for fid, flow in loaded.flows.items() if Path(flow.path).name == target), None)


def validate_deployed(loaded: LoadedStudy, database: Database | None = None) -> Checked:
    folder = Path(loaded.path).parent
    problems, _ = validate_paths([folder])
    if database is not None and not any(p.severity == "error" for p in problems):
        problems += _kept_apart(database, folder)
    return Checked(problems, folder.name)


def replace_study(registry: StudyRegistry, loaded: LoadedStudy) -> None:
    """Swap one study in the live registry (shared by the service, webhooks and scheduler)."""
    registry.replace(loaded)


def publish_from_disk(registry: StudyRegistry, database: Database, study_id: str, actor: str,
                      now: datetime) -> list[dict[str, Any]]:
    """Reload a study from its folder and publish it; LoadError if its files have problems."""
    current = registry.get(study_id)
    fresh = load_study(Path(current.path).parent)
    if fresh.study.study != study_id:
        raise LoadError([Problem(fresh.path, 1, 1, f"the study id changed to '{fresh.study.study}'; keep '{study_id}'")])
    before = {fid: f.version for fid, f in current.flows.items()}
    replace_study(registry, fresh)
    registry.publish(database, now, only=study_id)  # other processes notice within seconds (bot/study_watch.py)
    changed = [{"flow": fid, "version": f.version, "new": before.get(fid) != f.version} for fid, f in fresh.flows.items()]
    replanned = registry.replanned.get(study_id)
    with database.transaction() as connection:
        repository.audit(connection, actor, "study_published", now, study_id,
                         flows={c["flow"]: c["version"] for c in changed if c["new"]},
                         **({"schedule": replanned.as_dict()} if replanned else {}))
    return changed


def publish_notes(registry: StudyRegistry, study_id: str, now: datetime, database: Database | None = None) -> dict[str, Any]:
    """What a publication just made of the study's schedule: ``schedule``, the plans of
    enrolled participants it changed (None if the schedule did not change), and ``problems``,
    warnings of an ``at:`` or ``closes:`` date already past and (with ``database``) of choice
    values that answers hold and the published flows no longer offer."""
    replanned = registry.replanned.get(study_id)
    warnings = past_dates(registry.get(study_id), now)
    if database is not None:
        warnings += kept_apart(database, registry.get(study_id))
    return {"schedule": replanned.as_dict() if replanned else None, "problems": [problem_dict(p) for p in warnings]}


def published_result(registry: StudyRegistry, study_id: str, now: datetime, database: Database,
                     checked: Checked | None = None) -> dict[str, Any]:
    """:func:`publish_notes` and ``warnings``: every warning about what was just published, each
    once and shaped as the validate route's problems: those validating it found (``checked``, the
    pasted text's check; None: the deployed files, checked now) and those of the notes."""
    notes = publish_notes(registry, study_id, now, database)
    found = checked.problems if checked is not None else validate_deployed(registry.get(study_id)).problems
    found_dicts = [problem_dict(p) for p in found if p.severity == "warning"]
    return {**notes, "warnings": _once(found_dicts + notes["problems"])}


def _once(problems: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Each problem once: one named by the scratch copy's path and by the deployed file's is one."""
    seen: set[tuple[Any, ...]] = set()
    kept = []
    for problem in problems:
        key = (Path(problem["file"]).name, problem["line"], problem["column"], problem["message"])
        if key not in seen:
            seen.add(key)
            kept.append(problem)
    return kept


def publish_text(registry: StudyRegistry, database: Database, study_id: str, text: str, actor: str,
                 now: datetime) -> tuple[Checked, list[dict[str, Any]]]:
    """Validate pasted YAML as a new version of one of the study's flows and, if clean, publish it."""
    loaded = registry.get(study_id)
    text = plain_lines(text)
    checked = validate_text(loaded, text)
    if not checked.ok:
        return checked, []
    if checked.target == "pasted.yaml":
        problem = Problem("pasted.yaml", 1, 1, "this is not one of the study's flows",
                          f"start with 'flow: <id>' using one of: {', '.join(loaded.flows)}")
        return Checked([problem], checked.target), []
    path = Path(loaded.path).parent / checked.target
    temporary = path.with_suffix(".publishing")
    temporary.write_text(text, encoding="utf-8")
    temporary.replace(path)
    log.info("study %s: %s rewritten with the flow published by %s", study_id, path, actor)
    return checked, publish_from_disk(registry, database, study_id, actor, now)
