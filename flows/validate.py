"""``chorus validate``: everything the models cannot see on their own.

The loader reports what is malformed (syntax, unknown keys, wrong types, each with its
line and column); :mod:`flows.flow_checks` what is well-formed but wrong in a flow; this
module what is wrong in a study and walks the paths given on the command line. The study's
checks are in :mod:`flows.study_checks` (names, ways in, texts), :mod:`flows.schedule_checks`
(its schedule), :mod:`flows.delphi_checks` (rounds across flows) and :mod:`flows.timing_checks`
(hours that never meet, flows due together). Warnings about how messages will look (SMS
segments, buttons, reading level) are in :mod:`flows.message_checks`; texts asking for a reply
that cannot be sent (a voice note by SMS) or would not be read (a yes/no step's words) in
:mod:`flows.reply_checks`, which :func:`check_flow` runs. The desk's
validate and publish pages use this module too (bot/api/publishing.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path

from flows.delphi_checks import delphi_consistency, delphi_links, delphi_timing
from flows.flow_checks import bare_durations, check_flow
from flows.loader import (
    LoadedStudy,
    Marks,
    Problem,
    partial_flow,
    read_flow,
    read_study,
    read_yaml,
    study_file,
)
from flows.pydantic_errors import did_you_mean
from flows.schedule_checks import (
    past_dates,
    past_times,
    repeats_once,
    scheduled_twice,
    unsent_flows,
    windows_in_quiet_hours,
)
from flows.schedule_close_checks import closes_before_due
from flows.study_checks import (
    built_in_texts,
    group_answers,
    schedule_anchors,
    signposting_names_crisis_help,
    study_translations,
    unknown_names,
    unknown_word_meanings,
    ways_in,
)
from flows.template_order import saved_fields
from flows.timing_checks import due_together, windows_missing_contact_hours
from flows.whatsapp_checks import whatsapp_content

__all__ = ["check_flow", "check_study", "past_dates", "validate_paths"]


# ----------------------------------------------------------------------------- studies


def _schedule_problems(loaded: LoadedStudy, intended: dict[str, str], marks: Marks, now: datetime) -> list[Problem]:
    """The study's schedule: windows, flows sent twice or together, dates passed, Delphi
    rounds out of order and flows never sent."""
    study = loaded.study
    problems = windows_in_quiet_hours(study, marks) + scheduled_twice(study, marks) + repeats_once(study, marks)
    problems += past_times(study, marks, now) + closes_before_due(study, marks, now)
    problems += due_together(loaded, marks) + windows_missing_contact_hours(loaded, marks)
    named = {study.join.start_flow, *(route.flow for route in study.join.routes if route.flow), *(e.flow for e in study.schedule)}
    if not set(intended.values()) - set(loaded.flows):  # (a broken flow file: its steps are not known)
        problems += delphi_timing(loaded, marks)
        if named <= set(loaded.flows):  # (a misspelt name: the flow meant is not "never sent")
            problems += unsent_flows(loaded, intended, marks)
    return problems


def check_study(loaded: LoadedStudy, intended: dict[str, str], now: datetime | None = None) -> list[Problem]:
    """Every semantic problem of a study file (its flows are checked by :func:`check_flow`);
    ``now`` (default: the clock) tells which dates have passed."""
    study, marks = loaded.study, loaded.marks or Marks(loaded.path)
    known = set(loaded.flows) | set(intended.values())
    problems = unknown_names(study, known, marks) + ways_in(study, marks) + built_in_texts(study, marks) + bare_durations(marks)
    problems += schedule_anchors(loaded, intended, marks) + group_answers(loaded) + delphi_consistency(loaded)
    problems += delphi_links(loaded, intended)
    problems += _schedule_problems(loaded, intended, marks, now or datetime.now(UTC))
    problems += study_translations(study, marks) + signposting_names_crisis_help(study, marks)
    problems += whatsapp_content(study, marks) + unknown_word_meanings(study, marks)
    return problems


# ----------------------------------------------------------------------------- entry point


def _check_study_path(path: Path, now: datetime | None) -> tuple[list[Problem], list[str]]:
    loaded, problems, intended = read_study(path)
    if loaded is None:
        files = _flows_of_broken_study(study_file(path))
        checked = [str(study_file(path).resolve())] + [str(p.resolve()) for p in files]
        found = [problem for file in files for problem in _check_flow_path(file)]
        if found:  # (said once: what is reported for the flows may not be all)
            problems.append(Problem(str(study_file(path)), 1, 1, ON_THEIR_OWN, CHECKED_LATER, "warning"))
        return problems + found, checked
    checked = [str(study_file(path).resolve())] + [str(Path(p).resolve()) for p in intended]
    problems += check_study(loaded, intended, now)
    for name, flow in loaded.flows.items():
        problems += check_flow(flow, loaded.study.languages, loaded.study, _saved_by_others(loaded, name))
    read = {str(Path(flow.path).resolve()) for flow in loaded.flows.values()}
    for file in intended:
        if str(Path(file).resolve()) not in read:
            problems += _partial_checks(Path(file), loaded)
    return problems, checked


ON_THEIR_OWN = "this file has errors, so its flows were checked on their own"
CHECKED_LATER = "their group ids, languages and links to the study are checked once it loads"


def _flows_of_broken_study(path: Path) -> list[Path]:
    """The flow files of a study whose own file does not load: those its ``flows:`` lists,
    if it can be read that far, else every other YAML file beside it."""
    data, _, _ = read_yaml(path)
    named = data.get("flows") if isinstance(data, dict) else None
    if isinstance(named, list) and named and all(isinstance(name, str) for name in named):
        return [path.parent / name for name in named if (path.parent / name).is_file()]
    beside = [p for p in path.parent.glob("*.y*ml") if p.is_file() and p != path]
    named_items = {name for p in beside for name in _items_files_named(p)}
    return sorted(p for p in beside if p.name not in named_items)


_ITEMS_FILE = re.compile(r"^\s*-?\s*items_file\s*:\s*['\"]?([^'\"#\s]+)", re.M)


def _items_files_named(path: Path) -> set[str]:
    """The items files a flow file names (``items_file: items.yaml``), by a cheap look that
    works on a flow with errors too: a list of items, not a flow to check on its own."""
    try:
        return set(_ITEMS_FILE.findall(path.read_text(encoding="utf-8")))
    except (OSError, UnicodeDecodeError):
        return set()


def _saved_by_others(loaded: LoadedStudy, name: str) -> set[str]:
    """The participant fields the study's flows other than ``name`` save."""
    found: set[str] = set()
    for other, flow in loaded.flows.items():
        if other != name:
            found |= saved_fields(flow.flow)
    return found


def _check_flow_path(path: Path) -> list[Problem]:
    loaded, problems = read_flow(path)
    return problems + (check_flow(loaded) if loaded is not None else _partial_checks(path, None))


def _partial_checks(path: Path, study: LoadedStudy | None) -> list[Problem]:
    """The checks of a flow whose steps have errors, on its well-formed steps: what is
    found in a broken step, or names one, is left to that step's own errors."""
    partial = partial_flow(path)
    if partial is None:
        return []
    if study is None:
        found = check_flow(partial.loaded)
    else:
        found = check_flow(partial.loaded, study.study.languages, study.study, _saved_by_others(study, partial.loaded.flow.flow))
    named = [(f"'{name}'", f".{name}'", f"'{name}.") for name in partial.broken]
    return [
        problem
        for problem in found
        if not any(first <= problem.line <= last for first, last in partial.lines)
        and not any(needle in problem.message for needles in named for needle in needles)
    ]


def _is_study(path: Path) -> bool:
    """A study file has a top-level 'study:' (or 'join:') and no 'flow:'; a cheap look."""
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    if re.search(r"^flow\s*:", text, re.M):
        return False
    return bool(re.search(r"^(study|join|schedule)\s*:", text, re.M))


def _files(path: Path) -> list[Path]:
    """The files to check at ``path``: a study folder's study file, a folder's flow files, or,
    in a folder of study folders (what ``CHORUS_STUDIES_DIR`` may name), each study's file."""
    if path.is_dir():
        if (path / "study.yaml").exists() or (path / "study.yml").exists():
            return [study_file(path)]
        found = sorted(p for p in path.glob("*.y*ml") if p.is_file())
        studies = sorted(study_file(d) for d in path.iterdir() if d.is_dir() and any(d.glob("study.y*ml")))
        return found or studies
    return [path]


def validate_paths(paths: Iterable[str | Path], now: datetime | None = None) -> tuple[list[Problem], int]:
    """Check study files, flow files and folders of either; every problem and the number
    of files checked (``now``: see :func:`check_study`). Never raises: an unexpected failure
    becomes a problem of its file."""
    problems: list[Problem] = []
    checked: set[str] = set()
    for given in paths:
        path = Path(given)
        if not path.exists():
            siblings = [p.name for p in path.parent.iterdir()] if path.parent.is_dir() else []
            problems.append(
                Problem(
                    str(path),
                    1,
                    1,
                    "no such file or folder",
                    did_you_mean(path.name, siblings, listing=False),
                )
            )
            continue
        files = _files(path)
        if not files:
            problems.append(
                Problem(str(path), 1, 1, "no study or flow files (*.yaml) in this folder")
            )
        for file in files:
            if str(file.resolve()) in checked:
                continue
            try:
                if _is_study(file):
                    found, covered = _check_study_path(file, now)
                    checked.update(covered)
                else:
                    found = _check_flow_path(file)
                    checked.add(str(file.resolve()))
            except Exception as error:  # never a traceback for a coordinator
                found = [
                    Problem(
                        str(file),
                        1,
                        1,
                        f"internal error while checking this file: {type(error).__name__}: {error}",
                        "this is a bug in chorus; please report it",
                    )
                ]
            problems += found
    return _ordered(problems), len(checked)


def _ordered(problems: list[Problem]) -> list[Problem]:
    """Files in the order met, each file's problems by position; the same message repeated
    in one file (one missing language, say) is shown once with a count."""
    files = list(dict.fromkeys(p.file for p in problems))
    ordered = sorted(dict.fromkeys(problems), key=lambda p: (files.index(p.file), p.line, p.column))
    repeats: dict[tuple[str, str, str, str], list[Problem]] = {}
    for problem in ordered:
        repeats.setdefault(
            (problem.file, problem.severity, problem.message, problem.hint), []
        ).append(problem)
    shown: list[Problem] = []
    for same in repeats.values():
        first = same[0]
        if len(same) > 1:
            lines = ", ".join(str(p.line) for p in same[1:6]) + (", ..." if len(same) > 6 else "")
            first = Problem(
                first.file,
                first.line,
                first.column,
                f"{first.message}; also on line{'s' if len(same) > 2 else ''} {lines}",
                first.hint,
                first.severity,
            )
        shown.append(first)
    return sorted(shown, key=lambda p: (files.index(p.file), p.line, p.column))
