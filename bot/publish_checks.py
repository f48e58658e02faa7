"""The full checks a study's files pass before they are published.

Loading a study catches what is malformed; ``chorus validate`` (flows/validate.py) also finds
what is well-formed but wrong (a group no route gives, a flow never sent, a Delphi round out
of order). The desk and the API refuse to publish a flow with errors (a 422 with them);
publishing from the files on disk (a process starting, ``chorus db publish``, the desk's and
the API's publish of the deployed files) refuses too: a study whose files have errors is not
published, the publication before it (if any) stays live, and the errors are logged and kept
in :attr:`bot.studies.StudyRegistry.refused` for the desk's study list and the API's
``GET /studies``. Warnings do not stop a publication: they are logged, as the API lists them.
Nothing here is a participant's: the problems name the coordinator's files and lines.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flows.loader import LoadedStudy, Problem
from flows.validate import validate_paths

log = logging.getLogger("chorus.studies")
SHOWN = 20
"""The most problems a log line lists (the rest are counted)."""


@dataclass(frozen=True)
class Refused:
    """A study whose files were not published because the full checks found errors."""

    study_id: str
    problems: list[Problem]
    """Its errors and warnings, as ``chorus validate`` reports them."""
    kept: bool
    """Whether an earlier publication stays live (else the study is not run at all)."""

    @property
    def errors(self) -> list[Problem]:
        return [p for p in self.problems if p.severity == "error"]

    def as_dict(self) -> dict[str, Any]:
        from bot.api.publishing import problem_dict

        return {"study": self.study_id, "kept_published": self.kept, "problems": [problem_dict(p) for p in self.problems]}


def full_check(loaded: LoadedStudy) -> list[Problem]:
    """Every problem ``chorus validate`` finds in the study's folder (errors and warnings)."""
    problems, _ = validate_paths([Path(loaded.path).parent])
    return problems


def errors_in(problems: list[Problem]) -> list[Problem]:
    return [p for p in problems if p.severity == "error"]


def _listed(problems: list[Problem]) -> str:
    shown = "".join(f"\n  {problem}" for problem in problems[:SHOWN])
    more = len(problems) - SHOWN
    return shown + (f"\n  ... and {more} more (run chorus validate)" if more > 0 else "")


def log_refused(refused: Refused) -> None:
    """Say why the study's files were not published, and what runs instead."""
    errors = refused.errors
    runs = ("its last publication stays live" if refused.kept
            else "it was never published, so it is not running: nobody can join it")
    log.error("study %s not published: its files have %d error%s (%s); fix them and publish again:%s",
              refused.study_id, len(errors), "" if len(errors) == 1 else "s", runs, _listed(errors),
              extra={"event": "study.publish_refused", "study": refused.study_id, "errors": len(errors),
                     "kept_published": refused.kept})


def log_warnings(study_id: str, problems: list[Problem]) -> None:
    """The warnings of a study published from its files (they do not stop it)."""
    warnings = [p for p in problems if p.severity == "warning"]
    if warnings:
        log.warning("study %s published with %d warning%s:%s", study_id, len(warnings), "" if len(warnings) == 1 else "s",
                    _listed(warnings), extra={"event": "study.published_with_warnings", "study": study_id,
                                              "warnings": len(warnings)})
