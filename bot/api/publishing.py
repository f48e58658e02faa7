"""Validate and publish flows from the desk.

Validating pasted YAML copies the study's folder to a scratch folder, puts the text in
place of the flow file it names (by its ``flow:`` id) and runs the same checks as
``chorus validate`` on the whole study, so a flow that names an unknown group is caught
too. Publishing reloads the study from its folder, stores any new flow versions
(``flow_versions``, by content hash) and swaps the live study, so new sessions start
on the new versions while running sessions stay on theirs; every other process swaps it
within seconds (bot/study_watch.py). A changed schedule plans the
participants already enrolled again (bot/studies.py); :func:`publish_notes` says what that
changed and warns of an ``at:`` or ``closes:`` date already past, and of what the new version
splits or mixes among answers already given (bot/api/live_changes.py: a choice or rank value no
longer offered, a scale's range changed, a step gone);
:func:`published_result` adds the warnings validation found, so the API and the desk give every
warning about what was published. Pasted text is
taken with plain line breaks (a browser's textarea sends CRLF), so the file it rewrites keeps
them.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml

from bot.api.live_changes import kept_apart, new_changes
from bot.publish_checks import errors_in, full_check
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
    touches_answers: list[Problem] = field(default_factory=list)
    """The warnings of what this version would split or mix among answers already given that
    the live version does not already (bot/api/live_changes.py); ``problems`` has them too."""

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


def _relabel(problems: list[Problem], folder: Path) -> list[Problem]:
    """``problems`` named from within ``folder`` (the folder of study folders): "<study>/<file>",
    never a path of the server's."""
    prefix = str(folder) + os.sep
    return [Problem(p.file.removeprefix(prefix), p.line, p.column, p.message, p.hint, p.severity) for p in problems]


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
            warned, new = _kept_apart(database, copy, loaded, _flow_id(loaded, target))
            problems += warned
        else:
            new = []
        return Checked(_relabel(problems, Path(scratch)), target, _relabel(new, Path(scratch)))


def _kept_apart(database: Database, folder: Path, live: LoadedStudy,
                only_flow: str | None = None) -> tuple[list[Problem], list[Problem]]:
    """The warnings of what the flows in ``folder`` split or mix among answers already given,
    and those of them the ``live`` study does not already (bot/api/live_changes.py)."""
    try:
        candidate = load_study(folder)
    except LoadError:  # already reported by validate_paths
        return [], []
    return kept_apart(database, candidate, only_flow), new_changes(database, candidate, live, only_flow)


def _flow_id(loaded: LoadedStudy, target: str) -> str | None:
    return next((fid for fid, flow in loaded.flows.items() if Path(flow.path).name == target), None)


def validate_deployed(loaded: LoadedStudy, database: Database | None = None) -> Checked:
    folder = Path(loaded.path).parent
    problems, _ = validate_paths([folder])
    new: list[Problem] = []
    if database is not None and not any(p.severity == "error" for p in problems):
        warned, new = _kept_apart(database, folder, loaded)
        problems += warned
    return Checked(_relabel(problems, folder.parent), folder.name, _relabel(new, folder.parent))


def confirmation(text: str) -> str:
    """What a coordinator's "Publish anyway" carries: it confirms this text and no other."""
    return hashlib.sha256(plain_lines(text).encode("utf-8")).hexdigest()[:16]


def replace_study(registry: StudyRegistry, loaded: LoadedStudy) -> None:
    """Swap one study in the live registry (shared by the service, webhooks and scheduler)."""
    registry.replace(loaded)


def publish_from_disk(registry: StudyRegistry, database: Database, study_id: str, actor: str,
                      now: datetime) -> list[dict[str, Any]]:
    """Reload a study from its folder and publish it; LoadError if its files do not load or the
    full checks (``chorus validate``) find errors in them (its errors and warnings)."""
    current = registry.get(study_id)
    fresh = load_study(Path(current.path).parent)
    if fresh.study.study != study_id:
        raise LoadError([Problem(fresh.path, 1, 1, f"the study id changed to '{fresh.study.study}'; keep '{study_id}'")])
    problems = full_check(fresh)
    if errors_in(problems):  # refused as a pasted flow with errors is: nothing is published
        raise LoadError(_relabel(problems, Path(current.path).parent.parent))
    before = {fid: f.version for fid, f in current.flows.items()}
    replace_study(registry, fresh)
    registry.refused.pop(study_id, None)
    registry.publish(database, now, only=study_id, checked=True)  # other processes notice within seconds (bot/study_watch.py)
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
    replanned, loaded = registry.replanned.get(study_id), registry.get(study_id)
    warnings = past_dates(loaded, now)
    if database is not None:
        warnings += kept_apart(database, loaded)
    warnings = _relabel(warnings, Path(loaded.path).parent.parent)  # named as validating names them: <study>/<file>
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
