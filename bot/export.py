"""Export a study's answers for analysis: a long CSV (one row per answer) and a data
dictionary (CSV and Markdown) describing every column and every step with its codes.

No addresses or names leave the database: participants appear only by pseudonymous id,
answers to steps that save identifying fields (``save_to: participant.name`` ...) are
withheld, and anything in free text that looks like a phone number is removed.
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, and_, select

from flows.loader import load_flow
from flows.model import Flow, StepBase, Study, resolve_text
from flows.steps.choice import ChoiceStep
from flows.steps.number import NumberStep
from flows.steps.scale import ScaleStep
from flows.steps.yesno import YesNoStep
from flows.words import Words
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS, ENROLMENTS

ANSWER_COLUMNS: list[tuple[str, str]] = [
    ("participant", "Pseudonymous participant id (p- and hex). Never a phone number, chat id or name."),
    ("group", "The participant's group in the study (from the join route or a step saving participant.group)."),
    ("channel", "How the participant joined: sms, whatsapp, telegram, web or cli."),
    ("study", "Study id."),
    ("flow", "Flow id."),
    ("flow_version", "Content hash of the flow version the participant answered (see the data dictionary per version)."),
    ("step", "Step id within the flow."),
    ("item", "For many-item steps (Delphi, rank, pairwise, statements, choice tasks): the item answered; empty otherwise."),
    ("step_type", "Step type: choice, scale, yesno, consent, number, open, ..."),
    ("question", "The step's text in the study's default language (template source)."),
    ("raw", "What the participant sent: typed text, a tapped button's value, or a voice transcript."),
    ("value", "The coded answer (see codes in the data dictionary); lists as JSON; empty when skipped."),
    ("display", "The answer's human-readable label."),
    ("source", "text, button, voice, or timeout."),
    ("skipped", "true when the step was skipped, timed out or got no clear answer."),
    ("answered_at", "When the answer was recorded, ISO 8601 in UTC."),
    ("withdrawn_at", "When the participant went BACK past this answer (to change it, or onto another branch), "
                     "ISO 8601 in UTC; empty while it stands. Results and analyses leave withdrawn answers out."),
]
DICTIONARY_COLUMNS = ["section", "name", "flow", "flow_version", "step_type", "description", "codes"]
IDENTIFYING_FIELDS = {
    "name", "first_name", "last_name", "full_name", "surname", "phone", "mobile", "email", "address",
    "postcode", "nhs_number", "date_of_birth", "dob",
}
WITHHELD = "[withheld]"


@dataclass(frozen=True)
class ExportResult:
    answers: Path
    dictionary_csv: Path
    dictionary_md: Path
    rows: int


class UnknownStudy(LookupError):
    pass


@dataclass(frozen=True)
class _Version:
    flow: Flow
    version: str


def export_study(database: Database, study_id: str, out_dir: Path, now: datetime | None = None) -> ExportResult:
    out_dir.mkdir(parents=True, exist_ok=True)
    with database.transaction() as connection:
        content = repository.study_content(connection, study_id)
        if content is None:
            raise UnknownStudy(f"no study '{study_id}' in the database; publish it first (chorus db publish)")
        study = Study.model_validate(content)
        versions = {
            v.id: _Version(load_flow(f"{study_id}/{v.flow_id}@{v.version}", raw=v.content).flow, v.version)
            for v in repository.flow_versions(connection, study_id)
        }
        rows = [_answer_row(row, versions, study) for row in _answers(connection, study_id)]
        repository.audit(connection, "operator", "exported", now or datetime.now(UTC), study_id, rows=len(rows))
    result = ExportResult(
        out_dir / f"{study_id}-answers.csv", out_dir / f"{study_id}-data-dictionary.csv",
        out_dir / f"{study_id}-data-dictionary.md", len(rows),
    )
    _write_csv(result.answers, [name for name, _ in ANSWER_COLUMNS], rows)
    entries = _dictionary(versions, study)
    _write_csv(result.dictionary_csv, DICTIONARY_COLUMNS, entries)
    result.dictionary_md.write_text(_markdown(study, entries), encoding="utf-8")
    return result


def _answers(connection: Connection, study_id: str) -> list[Any]:
    a, e = ANSWERS.c, ENROLMENTS.c
    query = (
        select(a.participant_id, e.group, e.channel, a.flow_id, a.flow_version_id, a.flow_version, a.step_id, a.item, a.raw,
               a.value, a.display, a.source, a.skipped, a.answered_at, a.withdrawn_at)
        .select_from(ANSWERS.outerjoin(ENROLMENTS, and_(e.participant_id == a.participant_id, e.study_id == a.study_id)))
        .where(a.study_id == study_id)
        .order_by(a.answered_at, a.id)
    )
    return list(connection.execute(query))


def _answer_row(row: Any, versions: dict[int, _Version], study: Study) -> dict[str, str]:
    (participant, group, channel, flow_id, version_id, version, step_id, item, raw, value, display, source, skipped, at, withdrawn) = row
    step = _step(versions.get(version_id), step_id)
    identifying = step is not None and (step.save_to or "").removeprefix("participant.") in IDENTIFYING_FIELDS
    return {
        "participant": participant, "group": group or "", "channel": channel or "", "study": study.study,
        "flow": flow_id, "flow_version": version, "step": step_id, "item": item or "", "step_type": step.type if step else "",
        "question": resolve_text(step.text, study.default_language) if step else "",
        "raw": WITHHELD if identifying else _scrub(raw),
        "value": WITHHELD if identifying else _scrub(_encode(value)),
        "display": WITHHELD if identifying else _scrub(display),
        "source": source, "skipped": "true" if skipped else "false",
        "answered_at": _utc(at),
        "withdrawn_at": _utc(withdrawn) if withdrawn is not None else "",
    }


def _utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _step(version: _Version | None, step_id: str) -> StepBase | None:
    if version is None:
        return None
    return next((s for s in version.flow.steps if s.id == step_id), None)


def _encode(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _scrub(text: str) -> str:
    """Mask identifiers in what a participant typed or said: phone numbers, email addresses,
    NHS numbers, postcodes and dates of birth (see nlp/redact.py)."""
    from nlp.redact import redact

    return redact(text) if text else ""


# ----------------------------------------------------------------------------- the data dictionary


def _dictionary(versions: dict[int, _Version], study: Study) -> list[dict[str, str]]:
    entries = [
        {"section": "column", "name": name, "flow": "", "flow_version": "", "step_type": "", "description": text, "codes": ""}
        for name, text in ANSWER_COLUMNS
    ]
    words = Words(study)
    for version in versions.values():
        for step in version.flow.steps:
            entries.append({
                "section": "step", "name": step.id, "flow": version.flow.flow, "flow_version": version.version,
                "step_type": step.type, "description": resolve_text(step.text, study.default_language),
                "codes": "; ".join(codes(step, study.default_language, words)),
            })
    return entries


def codes(step: StepBase, language: str, words: Words | None = None) -> list[str]:
    """What each coded value of a step means, e.g. ['patient = Patient', 'carer = Carer or family']."""
    words = words or Words()
    if isinstance(step, ChoiceStep):
        found = [f"{o.value} = {o.text(language, language)}" for o in step.options]
        return found + (["(several may be picked: value is a JSON list)"] if step.multiple else [])
    if isinstance(step, YesNoStep):
        yes = resolve_text(step.yes_label, language) if step.yes_label else words.text("yes", language)
        no = resolve_text(step.no_label, language) if step.no_label else words.text("no", language)
        return [f"yes = {yes}", f"no = {no}"]
    if isinstance(step, ScaleStep):
        return _scale_codes(step, language)
    if isinstance(step, NumberStep):
        low = "" if step.min is None else f"{step.min:g}"
        high = "" if step.max is None else f"{step.max:g}"
        return [f"number from {low or 'any'} to {high or 'any'}" + (" (whole numbers)" if step.integer else "")] + (
            [f"unit: {step.unit}"] if step.unit else []
        )
    options = getattr(step, "options", None)
    if isinstance(options, list):
        return [f"{getattr(o, 'value', o)} = {resolve_text(getattr(o, 'label', None), language) or getattr(o, 'value', o)}" for o in options]
    if step.type == "open":
        return ["free text"]
    return []


def _scale_codes(step: ScaleStep, language: str) -> list[str]:
    found = [f"min = {step.low}", f"max = {step.high}"]
    if isinstance(step.labels, list):
        found += [f"{step.low + i} = {resolve_text(label, language)}" for i, label in enumerate(step.labels)]
    elif isinstance(step.labels, dict):
        found += [f"{k} = {resolve_text(label, language)}" for k, label in sorted(step.labels.items())]
    if step.unsure:
        found.append("empty value = unsure / don't know")
    return found


def _write_csv(path: Path, columns: list[str], rows: list[dict[str, str]]) -> None:
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def _markdown(study: Study, entries: list[dict[str, str]]) -> str:
    def cell(text: str) -> str:
        return text.replace("|", "\\|").replace("\n", " ")

    lines = [f"# Data dictionary: {resolve_text(study.title, study.default_language)} ({study.study})", "",
             "## Columns of the answers file", "", "| column | meaning |", "|---|---|"]
    lines += [f"| {e['name']} | {cell(e['description'])} |" for e in entries if e["section"] == "column"]
    lines += ["", "## Steps", "", "| flow | version | step | type | question | codes |", "|---|---|---|---|---|---|"]
    lines += [
        f"| {e['flow']} | {e['flow_version']} | {e['name']} | {e['step_type']} | {cell(e['description'])} | {cell(e['codes'])} |"
        for e in entries if e["section"] == "step"
    ]
    return "\n".join(lines) + "\n"
