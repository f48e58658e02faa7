"""The words participants saw for the codes their answers record, added to the method reports.

Answers keep codes: a rank option's ``value``, an idea's, a statement's or a Delphi item's
``id``, ``sub-<n>`` for an approved submission. The reports keep them too, and each row gains a
``label``: the option's label or the item's text in the study's first language (the
submission's text; the code itself when the flow gives nothing else), so the desk shows
what people read and the code stays at hand. A template in a label reads as
:func:`flows.display_text.display_text` shows it. The choice report's model codes
(``who[any nurse]``, ``wait``) gain words the same way (:func:`choice_labels`).

Study groups are codes too (``carer``; ``all`` for everyone). What the API returns gains each
group's label as the desk shows it (:func:`group_names`): a ``group_label`` beside every
``group``, and a ``group_labels`` map for the tables keyed by group code (:func:`with_group_labels`).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy import select

from bot.api.catalogue import KINDS, StepInfo
from bot.population import group_labels
from flows.display_text import ChoiceWords, display_text, trade_in_words
from flows.model import Study
from storage.database import Database
from storage.tables import SUBMISSIONS

LISTS = ("options", "ideas", "statements", "items")
"""Where a step lists its codes: rank and choice options, pairwise ideas, statements, Delphi items."""
SUBMISSION_PREFIX = "sub-"
"""How an approved submission is recorded (bot.population.SUBMISSION_PREFIX)."""
EVERYONE = {"all": "Everyone"}
"""The rows for every participant, whatever their group, as the desk names them."""
GROUP_KEYS = {"group": "group_label", "most": "most_label", "least": "least_label"}
"""Where a row names a study group (a statement's ``most`` and ``least``: the groups agreeing most
and least) and the key its label goes in."""


def _entry(entry: Any, language: str) -> tuple[str, str] | None:
    """(code, label) of one listed option or item: ``{value, label}``, ``{id, text}`` or a bare string."""
    if isinstance(entry, dict):
        code = entry.get("value", entry.get("id"))
        text = entry.get("label", entry.get("text"))
    else:
        code = text = entry
    if code is None:
        return None
    label = display_text(text, language) if isinstance(text, str | dict) else str(code)
    return str(code), label or str(code)


def step_labels(info: StepInfo, language: str) -> dict[str, str]:
    """Code -> label for everything the step lists (a Delphi's items also as '<delphi>: <id>'; a
    scale's own id as its question)."""
    found = listed_labels(info.raw, language)
    if info.type == "scale" and info.question:  # a 1-9 scale is a Delphi item named by its step id
        found.setdefault(info.step, info.question)
    delphi = info.raw.get("delphi")
    if info.type == "delphi" and isinstance(delphi, str) and delphi:
        found.update({f"{delphi}: {code}": f"{delphi}: {label}" for code, label in list(found.items())})
    return found


def listed_labels(raw: Mapping[str, Any], language: str) -> dict[str, str]:
    """Code -> label for the options, ideas, statements or items a step's ``raw`` content lists
    (the first of a code listed twice)."""
    found: dict[str, str] = {}
    for name in LISTS:
        listed = raw.get(name)
        for entry in listed if isinstance(listed, list) else []:
            pair = _entry(entry, language)
            if pair is not None:
                found.setdefault(*pair)
    return found


def approved_submissions(database: Database, study_id: str) -> dict[str, str]:
    """``sub-<n>`` -> the text of each approved submission as participants were shown it (its
    identifiers masked: :func:`bot.population.shown_text`)."""
    from bot.population import shown_text

    s = SUBMISSIONS.c
    with database.reading() as session:
        rows = session.execute(select(s.id, s.text).where(s.study_id == study_id, s.status == "approved")).all()
    return {f"{SUBMISSION_PREFIX}{row_id}": shown_text(str(text)) for row_id, text in rows}


class Labeller:
    """Labels for the codes of one study's steps, looked up by step or across a kind's steps."""

    def __init__(self, steps: Iterable[StepInfo], language: str, submissions: Mapping[str, str] | None = None,
                 earlier: Iterable[StepInfo] = ()) -> None:
        """``steps`` as the newest versions have them; ``earlier``, oldest first, lend their labels
        to codes the newest no longer lists (a rank option a later version removed)."""
        self.steps = list(steps)
        self.language = language
        self.by_step: dict[str, dict[str, str]] = {}
        for info in [*earlier, *self.steps]:
            self.by_step.setdefault(info.step, {}).update(step_labels(info, language))
        self.submissions = dict(submissions or {})

    def of_kind(self, kind: str) -> dict[str, str]:
        """Code -> label over every step the report ``kind`` reads, approved submissions included."""
        found = dict(self.submissions)
        for info in self.steps:
            if KINDS[kind].accepts(info):
                found.update(self.by_step.get(info.step, {}))
        return found

    def label(self, report: Any, kind: str) -> Any:
        """The report with a ``label`` beside each code (see the module docstring); others as they are."""
        if kind == "ranking":
            return {**report, "options": [_labelled(r, "option", self.by_step.get(str(r.get("step")), {}))
                                          for r in report.get("options", [])]}
        if kind == "choice":
            return choice_labels(report, ChoiceWords.of([i.raw for i in self.steps if KINDS["choice"].accepts(i)], self.language))
        if kind not in ("pairwise", "statements", "delphi"):
            return report
        labels = self.of_kind(kind)
        if kind == "pairwise":
            return {**report, "groups": {g: _rows(rows, "item", labels) for g, rows in report.get("groups", {}).items()},
                    "steps": [{**entry, "groups": {g: _rows(rows, "item", labels) for g, rows in entry["groups"].items()}}
                              for entry in report.get("steps", [])]}
        if kind == "delphi":
            return {**report, "items": _rows(report.get("items", []), "item", labels),
                    "movement": _rows(report.get("movement", []), "item", labels)}
        representative = {g: _rows(rows, "statement", labels) for g, rows in report.get("representative", {}).items()}
        return {**report, "consensus": _rows(report.get("consensus", []), "statement", labels),
                "representative": representative}


def _rows(rows: list[dict[str, Any]], key: str, labels: Mapping[str, str]) -> list[dict[str, Any]]:
    return [_labelled(row, key, labels) for row in rows]


def _labelled(row: dict[str, Any], key: str, labels: Mapping[str, str]) -> dict[str, Any]:
    code = str(row.get(key))
    return {**row, "label": labels.get(code, code)}


def choice_labels(report: dict[str, Any], words: ChoiceWords) -> dict[str, Any]:
    """The choice report with words beside its codes: each coefficient's and trade-off's
    ``label`` ("Who: a community nurse"), what the trade-offs are worth in (``against_label``:
    "weeks of wait") and each trade-off in words (``in_words``: "evened out by 2.0 weeks less wait"), and ``attribute_labels`` and ``reference_level_labels`` by attribute name."""
    if not report.get("coefficients"):
        return report
    attributes = [*report.get("importance", {}), *report.get("reference_levels", {})]
    return {**report,
            "coefficients": [{**c, "label": words.feature(str(c["feature"]))} for c in report["coefficients"]],
            "trade_offs": [{**t, "label": words.feature(str(t["feature"])), "against_label": words.amount(str(t["against"])),
                            "in_words": trade_in_words(words, str(t["against"]), float(t["estimate"]), t.get("low"), t.get("high"))}
                           for t in report.get("trade_offs", [])],
            "attribute_labels": {name: words.attribute(name) for name in attributes},
            "reference_level_labels": {name: words.level(name, level) for name, level in report.get("reference_levels", {}).items()}}


def group_names(study: Study) -> dict[str, str]:
    """Each group code -> its label in the study's first language, as the desk shows it ('all':
    'Everyone'; a group with no label is named by its code)."""
    return {**EVERYONE, **group_labels(study)}


def with_group_labels(found: Any, names: Mapping[str, str]) -> Any:
    """``found`` (a report, a page of rows) with the label beside each group code a row names
    (:data:`GROUP_KEYS`; a code ``names`` has not got is its own label). A copy: reports are cached."""
    if isinstance(found, list):
        return [with_group_labels(item, names) for item in found]
    if not isinstance(found, dict):
        return found
    labelled = {key: with_group_labels(value, names) for key, value in found.items()}
    for key, label_key in GROUP_KEYS.items():
        code = found.get(key)
        if isinstance(code, str) and label_key not in found:
            labelled[label_key] = names.get(code, code)
    return labelled
