"""Correcting a participant's field by hand, and what that changes on the clock.

A date a participant gave that nobody can read ("after my operation") raises a ``planning``
alert and plans no follow-up. A coordinator who has asked them sets the field here, with
``chorus participant set`` or the desk's API; so too a wrong group, contact hours or time
zone. The value is checked as the clock will read it, saved, and the participant's follow-ups
that depend on the field are planned again: one not sent yet moves to its new time (or is
dropped, with the reason, when it no longer applies), one that waited for the field is
planned, and nothing already sent is sent again. The ``planning`` alerts the value answers are
closed, and the audit log keeps who set which field (never the value: it may identify someone).
Setting ``language`` changes the language Chorus writes to them in, in the conversation they
are in too. The caller holds the participant's lock and transaction (the conversation service's own, in
the app), so a reply handled at the same moment cannot overwrite the change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import Connection

from bot.export import identifying_field
from bot.firing import task_row
from bot.planning import (
    NOT_A_DATE,
    Person,
    PlannedTask,
    anchor_steps,
    occurrence,
    participant_date,
    plan_person,
    schedule_of,
)
from bot.starting import person_of
from flows.model import Study, TimeWindow
from flows.session_state import LIVE
from storage import due_tasks, repository
from storage.repository import EnrolmentRef, ParticipantRef

FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,62}$")
CLOCK_FIELDS = ("timezone", "contact_hours")
"""Fields every schedule's times are placed by."""


class FieldError(ValueError):
    """A field or value the clock cannot use, said so the coordinator can put it right."""


@dataclass
class FieldSet:
    """What setting a field did: shown by the command and returned by the API."""

    participant_id: str
    study_id: str
    name: str
    value: str
    """As saved; withheld when the field's name says it identifies someone."""
    moved: list[str] = field(default_factory=list)
    planned: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    alerts_closed: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {"participant": self.participant_id, "study": self.study_id, "field": self.name, "value": self.value,
                "moved": self.moved, "planned": self.planned, "dropped": self.dropped, "notes": self.notes,
                "alerts_closed": self.alerts_closed}

    def lines(self) -> list[str]:
        said = [f"set {self.name} of {self.participant_id} in {self.study_id} to {self.value}"]
        said += [f"  planned: {line}" for line in self.planned] + [f"  moved: {line}" for line in self.moved]
        said += [f"  dropped: {line}" for line in self.dropped] + [f"  note: {line}" for line in self.notes]
        if self.alerts_closed:
            said.append(f"  closed {self.alerts_closed} planning alert{'s' if self.alerts_closed > 1 else ''}")
        return said


def field_name(raw: str) -> str:
    """``birth_date`` or ``participant.birth_date``, as a field name."""
    name = raw.strip().removeprefix("participant.")
    if not FIELD_NAME.match(name):
        raise FieldError(f"'{raw}' is not a field name: write it as the flow's save_to does, e.g. birth_date "
                         "(lower-case letters, digits and _)")
    return name


def checked_value(study: Study, name: str, raw: str, zone: ZoneInfo, now: datetime) -> str:
    """The value as it will be saved, read as the clock reads that field: a group of the study,
    hours such as 08:00-18:00, a time zone, or a date a schedule counts from (written in words
    or numbers: saved as YYYY-MM-DD so that it means the same day whenever it is read again)."""
    text = raw.strip()
    if not text:
        raise FieldError(f"give a value for {name}")
    if name == "group":
        groups = study.group_ids()
        found = next((group for group in groups if group.lower() == text.lower()), None)
        if found is None:
            raise FieldError(f"'{text}' is not a group of {study.study}: " + (", ".join(groups) or "it has none"))
        return found
    if name == "contact_hours":
        try:
            return str(TimeWindow.parse(text))
        except ValueError as error:
            raise FieldError(str(error)) from None
    if name == "language":
        found = next((code for code in study.languages if code.lower() == text.lower()), None)
        if found is None:
            raise FieldError(f"'{text}' is not a language of {study.study}: " + ", ".join(study.languages))
        return found
    if name == "timezone":
        try:
            return ZoneInfo(text).key
        except (ZoneInfoNotFoundError, ValueError):
            raise FieldError(f"'{text}' is not a time zone: write it like Europe/London") from None
    if name in {entry.anchor_field() for entry in study.schedule}:
        return _date_value(name, text, zone, now)
    return text


def _date_value(name: str, text: str, zone: ZoneInfo, now: datetime) -> str:
    moment = participant_date(text, zone, given_at=now, near=now)
    if moment is None:
        raise FieldError(f"'{text}' is not a date, and a schedule counts from {name}: write it like 2026-11-01")
    try:
        datetime.fromisoformat(text)
    except ValueError:
        return moment.astimezone(zone).date().isoformat()
    return text


def affected(study: Study, name: str) -> set[int]:
    """The schedules whose times or reach depend on the field."""
    return {index for index, entry in enumerate(study.schedule)
            if name in CLOCK_FIELDS or entry.anchor_field() == name or (name == "group" and entry.groups)}


def set_field(connection: Connection, study: Study, participant_id: str, raw_name: str, raw_value: str,
              actor: str, now: datetime) -> FieldSet:
    """Set one field of an enrolled participant and re-plan what depends on it (see the module)."""
    name = field_name(raw_name)
    enrolment = next((e for e in repository.enrolments_of(connection, participant_id) if e.study_id == study.study), None)
    if enrolment is None:
        raise LookupError(f"no participant '{participant_id}' in {study.study}")
    participant = repository.load_participant(connection, participant_id, for_update=True)
    zone = Person(participant_id, study.study, now, fields=participant.fields).zone(study)
    value = checked_value(study, name, raw_value, zone, now)
    if name != "language":  # (kept on the participant's own row, below)
        participant.fields[name] = value
        repository.save_participant(connection, participant)
    if name == "group":
        enrolment.group = value
        repository.save_enrolment(connection, enrolment)
    if name == "language":
        _set_language(connection, participant, enrolment, value, now)
    shown = "(withheld: the field identifies someone)" if identifying_field(name) else value
    result = FieldSet(participant_id, study.study, name, shown)
    _replan(connection, study, participant_id, affected(study, name), now, result)
    result.alerts_closed = due_tasks.close_planning_flags(connection, participant_id, study.study,
                                                          f"participant.{name} {NOT_A_DATE}", actor, now)
    repository.audit(connection, actor, "participant_field_set", now, study.study, participant=participant_id, field=name,
                     moved=len(result.moved), planned=len(result.planned), dropped=len(result.dropped),
                     alerts_closed=result.alerts_closed)
    return result


def _set_language(connection: Connection, participant: ParticipantRef, enrolment: EnrolmentRef, language: str,
                  now: datetime) -> None:
    """The language Chorus writes to them in: on the participant and the enrolment (as LANGUAGE
    sets it), and in the conversation they are in, so its next message is in that language."""
    participant.language = enrolment.language = language
    repository.save_participant(connection, participant)
    repository.save_enrolment(connection, enrolment)
    session = repository.latest_session(connection, participant.id)
    if session is not None and session.study_id == enrolment.study_id and session.status in LIVE:
        session.state = {**session.state, "language": language}
        repository.save_session(connection, session, now)


def planning_person(connection: Connection, study: Study, participant_id: str) -> tuple[Person, bool]:
    """The participant as planning sees them now, and whether anything may be sent to them."""
    found = due_tasks.people(connection, {(participant_id, study.study)})[(participant_id, study.study)]
    found = due_tasks.with_given_at(connection, [found], {study.study: _anchor_steps(connection, study)})[0]
    return person_of(found), found.status == "active" and not found.opted_out


def _anchor_steps(connection: Connection, study: Study) -> dict[tuple[str, str], str]:
    """The steps of the study's published flows that save a date a schedule counts from."""
    latest = {version.flow_id: version.content for version in repository.flow_versions(connection, study.study)}
    saves = [(flow_id, str(step.get("id")), step.get("save_to")) for flow_id, content in latest.items()
             for step in content.get("steps") or [] if isinstance(step, dict)]
    return anchor_steps(study, saves)


def _replan(connection: Connection, study: Study, participant_id: str, indices: set[int], now: datetime, result: FieldSet) -> None:
    """Move or drop the follow-ups not sent yet of the schedules in ``indices``, and plan those
    that had none (a date that could not be read planned nothing)."""
    if not indices:
        return
    person, reachable = planning_person(connection, study, participant_id)
    if not reachable:
        result.notes.append("nothing is planned: the participant opted out or left the study")
        return
    zone = person.zone(study)
    moves, drops = [], []
    for task in due_tasks.pending_follow_ups(connection, participant_id, study.study):
        entry = schedule_of(study, task.payload.get("schedule"), task.flow_id)
        if entry is None or entry[0] not in indices:
            continue
        if task.claimed:
            result.notes.append(f"{task.flow_id} is being sent right now: left as it was")
            continue
        found = _again(study, entry[0], task.payload, person, now)
        if isinstance(found, str):
            drops.append((task.id, f"re-planned by hand: {found}"))
            result.dropped.append(f"{task.flow_id}: {found}")
        elif found.due_at != task.due_at:
            moves.append((task.id, found.due_at, found.payload))
            result.moved.append(f"{task.flow_id}: {_local(found.due_at, zone)}")
    due_tasks.retime_pending(connection, moves)
    due_tasks.drop_pending(connection, drops, now)
    _plan_missing(connection, study, person, indices, now, result)


def _again(study: Study, index: int, payload: dict[str, Any], person: Person, now: datetime) -> PlannedTask | str:
    """A pending follow-up planned afresh: its new time, or why it no longer applies."""
    schedule = study.schedule[index]
    if schedule.groups and person.group not in schedule.groups:
        return f"only for {', '.join(schedule.groups)}"
    number = int(payload.get("occurrence", 0 if schedule.at is not None else 1))
    return occurrence(study, index, person, number, now)


def _plan_missing(connection: Connection, study: Study, person: Person, indices: set[int], now: datetime, result: FieldSet) -> None:
    have = {key for _, _, key in due_tasks.existing_keys(connection, [(person.participant_id, study.study)])}
    series = {":".join(key.split(":", 2)[:2]) for key in have if key.count(":") >= 2}
    missing = {index for index in indices if f"s{index}:{study.schedule[index].flow}" not in series}
    plan = plan_person(study, person, now)
    fresh = [task for task in plan.tasks if task.payload.get("schedule") in missing]
    due_tasks.add(connection, [task_row(task) for task in fresh], now, new_series_only=True)
    result.planned += [f"{task.flow_id}: {_local(task.due_at, person.zone(study))}" for task in fresh]
    labels = tuple(f"schedule {index + 1} (" for index in missing)
    result.notes += [line for line in [*plan.waiting, *plan.skipped] if labels and line.startswith(labels)]


def _local(moment: datetime, zone: ZoneInfo) -> str:
    return f"{moment.astimezone(zone):%a %Y-%m-%d %H:%M %Z}"
