"""The studies this deployment runs: loaded from folders, published as versioned flows.

Publishing copies each flow's content into ``flow_versions`` under its content hash.
A session is pinned to the version it started on and always reloads that version
from the database, so editing a flow on disk never breaks a conversation midway.
Each publication records the study's state (bot/study_watch.py): every other process swaps
the study in within seconds (:meth:`StudyRegistry.sync`), and a process starting with files
older than the last publication runs that publication rather than undoing it.

Publishing a study whose schedule (or time zone, or quiet hours) changed plans its enrolled
participants again, in the same transaction: what was sent stays sent, each follow-up not
sent yet moves to its time under the new schedule (at once if that has passed), one whose
schedule was removed (or that now closes first, or is not for their group) is dropped, and a
schedule new to them is planned as if they had just been planned, and a repeating schedule
given a later end sends on to those it had stopped for (bot/series_resumed.py). :class:`Replanned` says
what changed, and why any follow-up was left as it was.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Connection, text

from bot.planning import (
    FOLLOW_UP,
    Person,
    PlannedTask,
    anchor_steps,
    describe_schedule,
    match_schedules,
    moved_payload,
    plan_check,
    plan_person,
    reclosed,
    replanned,
)
from bot.publish_checks import Refused, errors_in, full_check, log_refused, log_warnings
from bot.series_resumed import fresh_keys, resumed_series
from bot.study_watch import (
    PublishedState,
    PublishedStudy,
    newer_publication,
    published_elsewhere,
    published_study,
    record_state,
    recorded_state,
    study_hash,
)
from flows.built_in_texts import NOTHING_TO_JOIN
from flows.loader import LoadedStudy, LoadError, Problem, load_study
from flows.model import Study, resolve_text
from storage import due_tasks, repository
from storage.database import Database
from storage.due_tasks import EnrolledPerson, ScheduledTask

STUDY_FILES = ("study.yaml", "study.yml")
log = logging.getLogger("chorus.studies")


@dataclass(frozen=True)
class JoinMatch:
    """A first message that matched a study's way in."""

    study_id: str
    flow_id: str
    group: str | None
    language: str | None = None
    """The language the route starts in (a Welsh keyword's Welsh); None: the participant's or the study's default."""


INVITATIONS = {
    "en": ("Hello. To take part in {title}, reply {keyword}.", "Hello. To take part, reply with one of these words: {keywords}."),
    "cy": ("Helo. I gymryd rhan yn {title}, atebwch {keyword}.", "Helo. I gymryd rhan, atebwch gydag un o'r geiriau hyn: {keywords}."),
}
"""How to join, said to someone in no study, in each language a study has a keyword for."""


def invitation(keywords: list[tuple[str, str, str]], language: str | None = None, said_in: str | None = None) -> str:
    """What to tell someone in no study: how to join each study, a paragraph per language, from
    :meth:`StudyRegistry.join_keywords`; the person's language first (``language``, if known, else
    ``said_in``, the one their message was written in), then the others in the studies' order.
    With no study to join: that there is none, in ``language``, else in Welsh and English
    (:data:`flows.built_in_texts.NOTHING_TO_JOIN` says why in that order)."""
    if not keywords:
        if language is not None and language in NOTHING_TO_JOIN:
            return NOTHING_TO_JOIN[language]
        return "\n\n".join(NOTHING_TO_JOIN[code] for code in ("cy", "en"))  # Welsh first
    by_language: dict[str, list[tuple[str, str]]] = {}
    for keyword, title, code in keywords:
        by_language.setdefault(code if code in INVITATIONS else "en", []).append((keyword, title))
    first = language or said_in
    paragraphs = []
    for code, ways in sorted(by_language.items(), key=lambda found: found[0] != first):
        one, many = INVITATIONS[code]
        paragraphs.append(one.format(title=ways[0][1], keyword=ways[0][0]) if len(ways) == 1
                          else many.format(keywords=", ".join(f"{k} ({t})" for k, t in ways)))
    return "\n\n".join(paragraphs)


@dataclass(frozen=True)
class PublishedFlow:
    id: int
    version: str


@dataclass
class Replanned:
    """What publishing a changed schedule did to the plans of participants already enrolled."""

    study_id: str
    retimed: int = 0
    """Follow-ups not sent yet, moved to their time under the new schedule."""
    added: int = 0
    """Follow-ups of schedules new to the participant, and the next send of a repeating schedule
    given a later end, for those it had stopped for."""
    dropped: int = 0
    """Follow-ups not sent yet that the new schedule no longer sends (removed, closed, another group)."""
    warnings: list[str] = field(default_factory=list)
    """Follow-ups left as they were, and why."""

    def as_dict(self) -> dict[str, Any]:
        return {"retimed": self.retimed, "added": self.added, "dropped": self.dropped, "warnings": list(self.warnings)}

    def __str__(self) -> str:
        said = f"{self.retimed} follow-up{'' if self.retimed == 1 else 's'} re-timed, {self.added} added, {self.dropped} dropped"
        return said + "".join(f"; {warning}" for warning in self.warnings)


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
        self.replanned: dict[str, Replanned] = {}
        """Per study, what its last publication changed in enrolled participants' plans (only
        studies whose schedule changed)."""
        self.states: dict[str, PublishedState] = {}
        """Per study, the published state this process runs (bot/study_watch.py)."""
        self.refused: dict[str, Refused] = {}
        """Per study, why its files were last refused publication (bot/publish_checks.py);
        emptied for a study once its files are published."""
        self._withdrawn: dict[str, LoadedStudy] = {}
        """Studies never published whose files were refused: a publication elsewhere brings them in."""
        self._contents: dict[str, dict[str, Any]] = {}
        """Study files taken from the database rather than this machine's folder (:meth:`sync`)."""
        self._unreadable: set[PublishedState] = set()
        """Publications made elsewhere that this process could not read (said once each)."""
        self._swap = threading.Lock()
        self._routes = self._join_routes()

    def _join_routes(self) -> list[tuple[str, str, JoinMatch]]:
        """Every join route of every study, in order: (KEYWORD, telegram parameter, what it joins).
        Worked out once per change: every message from someone not yet in a study is matched against them."""
        return [
            (" ".join((route.keyword or "").split()).upper(), (route.telegram or "").lower(),
             JoinMatch(loaded.study.study, route.flow or loaded.study.join.start_flow, route.group, route.language))
            for loaded in self._studies.values() for route in loaded.study.join.all_routes()
        ]

    def replace(self, loaded: LoadedStudy) -> None:
        """Swap one study (as read from its folder) into the live registry, shared by the
        service, webhooks and scheduler; readers see the old or the new, never half of each."""
        with self._swap:
            self._studies = {**self._studies, loaded.study.study: loaded}
            self._withdrawn.pop(loaded.study.study, None)
            self._contents.pop(loaded.study.study, None)
            self._routes = self._join_routes()

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

    def join_keywords(self, language: str | None = None) -> list[tuple[str, str, str]]:
        """Each study's main keyword, and its keywords for other languages (a route with a
        ``language`` and no group), with the study's title in that language: (KEYWORD, title,
        language), for telling strangers how to join. With the person's ``language`` (known),
        each study once, in it where the study can be joined in it: by its keyword for that
        language, or by its main keyword if that names no language and the study speaks theirs
        (they are then enrolled in it); any other study as without."""
        found = []
        for loaded in self._studies.values():
            study, join = loaded.study, loaded.study.join
            ways: list[tuple[str | None, str | None]] = [(join.keyword, join.language)] if join.keyword else []
            ways += [(r.keyword, r.language) for r in join.routes if r.keyword and not r.group and (not join.keyword or r.language)]
            if language is not None and language in study.languages:
                theirs = next((keyword for keyword, said in ways if said == language), None)
                main = join.keyword if join.keyword and join.language is None else None
                ways = [(theirs or main, language)] if theirs or main else ways
            said: set[str] = set()
            for keyword, code in ways:
                code = code or study.default_language
                if keyword and code not in said:  # one keyword per language: the first
                    said.add(code)
                    found.append((" ".join(keyword.split()).upper(), resolve_text(study.title, code, study.default_language), code))
        return found

    def publish(self, database: Database, now: datetime, only: str | None = None,
                starting: bool = False, checked: bool = False) -> dict[tuple[str, str], PublishedFlow]:
        """Store every study (or ``only`` that one) and flow version (idempotent); remember each
        flow's current version id and record each study's published state (bot/study_watch.py).

        ``starting``: the publication a process makes as it starts. A study whose files here were
        published once and replaced since (a machine deployed with older files) is not published
        again: the process runs the study as last published instead, and says so.

        A study whose files the full checks (``chorus validate``) find errors in is not published
        (bot/publish_checks.py): its last publication stays live, or, never published, it is
        withdrawn; :attr:`refused` says why. ``checked``: the caller has just checked them."""
        published: dict[tuple[str, str], PublishedFlow] = {}
        states: dict[str, PublishedState] = {}
        adopted: list[PublishedStudy] = []
        refused: list[Refused] = []
        with database.transaction() as session:
            if database.is_postgres:  # processes starting together publish one at a time (each finds the other's rows)
                session.execute(text("SELECT pg_advisory_xact_lock(4242002)"))
            for loaded in [s for s in self._studies.values() if only is None or s.study.study == only]:
                study_id = loaded.study.study
                content = self._contents.get(study_id) or _study_file(loaded)
                if starting and (newer := newer_publication(session, loaded, content)) is not None:
                    adopted.append(newer)
                    continue
                if study_id not in self._contents and not checked and (refusal := self._refusal(session, loaded, adopted)):
                    refused.append(refusal)
                    continue
                self.replanned.pop(study_id, None)
                before = repository.study_content(session, study_id)
                flows = _publish_one(session, loaded, content, now)
                published.update(flows)
                if before is not None and (replan := replan_enrolled(session, before, loaded, self.anchor_steps(), now)):
                    self.replanned[study_id] = replan
                    log.info("published %s with a changed schedule: %s", study_id, replan,
                             extra={"event": "study.replanned", "study": study_id, **replan.as_dict()})
                state = PublishedState(study_hash(content), {flow_id: flow.id for (_, flow_id), flow in flows.items()})
                if recorded_state(session, study_id) != state:
                    record_state(session, study_id, state, now)
                states[study_id] = state
        with self._swap:
            kept = {key: flow for key, flow in self.published.items() if only is not None and key[0] != only}
            self.published = {**kept, **published}
            self.states = {**self.states, **states}
        for newer in adopted:
            if newer.loaded.study.study not in self.refused:
                log.warning("the files of study %s here are older than its last publication: running that instead "
                            "(chorus db publish publishes these files)", newer.loaded.study.study,
                            extra={"event": "study.kept_published", "study": newer.loaded.study.study})
            self._adopt(newer)
        for refusal in refused:
            if not refusal.kept:
                self._withdraw(refusal.study_id)
            log_refused(refusal)
        return published

    def _refusal(self, connection: Connection, loaded: LoadedStudy, adopted: list[PublishedStudy]) -> Refused | None:
        """Run the full checks on the study's files: None if they may be published (their
        warnings logged), else the refusal, with the last publication (if any) put in
        ``adopted`` to stay live."""
        study_id = loaded.study.study
        problems = full_check(loaded)
        if not errors_in(problems):
            self.refused.pop(study_id, None)
            log_warnings(study_id, problems)
            return None
        kept = False
        if (recorded := recorded_state(connection, study_id)) is not None:
            try:
                adopted.append(published_study(connection, study_id, recorded, loaded))
                kept = True
            except (LoadError, LookupError, ValueError):
                log.warning("study %s: its last publication cannot be read either", study_id,
                            extra={"event": "study.reload_failed", "study": study_id})
        refusal = Refused(study_id, problems, kept)
        self.refused[study_id] = refusal
        return refusal

    def _withdraw(self, study_id: str) -> None:
        """Stop running a study never published (nobody can join it): its files have errors."""
        with self._swap:
            if study_id in self._studies:
                self._withdrawn[study_id] = self._studies[study_id]
            self._studies = {key: loaded for key, loaded in self._studies.items() if key != study_id}
            self.published = {key: flow for key, flow in self.published.items() if key[0] != study_id}
            self.states = {key: state for key, state in self.states.items() if key != study_id}
            self._routes = self._join_routes()

    def sync(self, database: Database) -> list[str]:
        """Swap in each study whose last recorded publication is not the one this process runs
        (published by another process); the ids of those swapped, each logged once."""
        running = dict(self.states)
        with database.read_transaction() as connection:
            found = published_elsewhere(connection, [*self._studies.values(), *self._withdrawn.values()], running,
                                        self._unreadable)
        swapped = []
        for newer in found:
            study_id = newer.loaded.study.study
            if self._adopt(newer, running.get(study_id), check=True):
                swapped.append(study_id)
                if (refusal := self.refused.get(study_id)) is not None:  # the files here are still refused
                    self.refused[study_id] = Refused(study_id, refusal.problems, kept=True)
                before = running.get(study_id)
                changed = [f"{flow_id} {version}" for flow_id, (version_id, version) in sorted(newer.versions.items())
                           if before is None or before.flows.get(flow_id) != version_id]
                log.info("study %s: now running what was published elsewhere: %s", study_id,
                         ", ".join(changed) or "its study file (the flows are unchanged)",
                         extra={"event": "study.reloaded", "study": study_id,
                                "versions": {flow_id: version for flow_id, (_, version) in newer.versions.items()}})
        return swapped

    def _adopt(self, newer: PublishedStudy, running: PublishedState | None = None, check: bool = False) -> bool:
        """Run ``newer``: its study, flows and versions replace the study's. With ``check``,
        only if the study still runs ``running`` (a publication in this process since the
        database was read wins)."""
        study_id = newer.loaded.study.study
        with self._swap:
            if check and self.states.get(study_id) != running:
                return False
            self._studies = {**self._studies, study_id: newer.loaded}
            self._withdrawn.pop(study_id, None)
            self._contents[study_id] = newer.content
            kept = {key: flow for key, flow in self.published.items() if key[0] != study_id}
            self.published = {**kept, **{(study_id, flow_id): PublishedFlow(version_id, version)
                                         for flow_id, (version_id, version) in newer.versions.items()}}
            self.states = {**self.states, study_id: newer.state}
            self._routes = self._join_routes()
        return True

    def anchor_steps(self) -> dict[str, dict[tuple[str, str], str]]:
        """Per study, the steps that save a date some schedule counts from (bot/planning.anchor_steps)."""
        found = {}
        for study_id, loaded in self._studies.items():
            saves = ((flow_id, step.id, step.save_to) for flow_id, flow in loaded.flows.items() for step in flow.flow.steps)
            if steps := anchor_steps(loaded.study, saves):
                found[study_id] = steps
        return found

    def current(self, study_id: str, flow_id: str) -> PublishedFlow:
        try:
            return self.published[(study_id, flow_id)]
        except KeyError:
            raise KeyError(f"flow '{flow_id}' of study '{study_id}' is not published") from None


def _study_file(loaded: LoadedStudy) -> dict[str, Any]:
    """The study file's content, as published."""
    return portable(yaml.safe_load(Path(loaded.path).read_text(encoding="utf-8")))


def _publish_one(session: Any, loaded: LoadedStudy, content: dict[str, Any], now: datetime) -> dict[tuple[str, str], PublishedFlow]:
    study = loaded.study
    title = resolve_text(study.title, study.default_language)
    repository.publish_study(session, study.study, title, content, now)
    published = {}
    for flow_id, flow in loaded.flows.items():
        version_id, created = repository.publish_flow(session, study.study, flow_id, flow.version, portable(flow.raw), now)
        if created:
            repository.audit(session, "system", "flow_published", now, study.study, flow=flow_id, version=flow.version)
        published[(study.study, flow_id)] = PublishedFlow(version_id, flow.version)
    return published


# ----------------------------------------------------------------------------- a changed schedule


def _timing(study: Study) -> tuple[Any, ...]:
    """What a participant's plan is made of: the schedule and the clock it keeps."""
    return (study.schedule, study.timezone, study.quiet_hours)


def _person(found: EnrolledPerson) -> Person:
    return Person(found.participant_id, found.study_id, found.enrolled_at, found.group, found.fields, found.given_at)


def _row(task: PlannedTask) -> dict[str, Any]:
    return {"kind": task.kind, "participant_id": task.participant_id, "study_id": task.study_id, "flow_id": task.flow_id,
            "session_id": task.session_id, "payload": task.payload, "due_at": task.due_at}


def replan_enrolled(connection: Connection, before: dict[str, Any], loaded: LoadedStudy,
                    steps: dict[str, dict[tuple[str, str], str]], now: datetime) -> Replanned | None:
    """Plan the study's enrolled participants again by its new schedule (``before``: the study
    file as last published); None when their plans are made the same way as before."""
    study = loaded.study
    report = Replanned(study.study)
    try:
        old = Study.model_validate(before)
    except ValueError:
        report.warnings.append("the study as published before could not be read, so enrolled participants keep their plans")
        return report
    if _timing(old) == _timing(study):
        return None
    due_tasks.lock_planning(connection)
    matched = match_schedules(old.schedule, study.schedule)
    enrolled, rechecking = due_tasks.planned_enrolments(connection, study.study)
    people = {p.participant_id: _person(p) for p in due_tasks.with_given_at(connection, enrolled, steps)}
    tasks = due_tasks.scheduled_tasks(connection, study.study)
    _move_tasks(connection, study, tasks, matched, people, now, report)
    added = set(range(len(study.schedule))) - set(matched.values())
    _plan_added(connection, study, people, rechecking, added, now, report)
    resumed = resumed_series(study, old, matched, tasks, people, now)
    fresh_keys(resumed, due_tasks.existing_keys(connection, {(t.participant_id, t.study_id) for t in resumed}), now)
    report.added += due_tasks.add(connection, [_row(task) for task in resumed], now)
    return report


def _decide(study: Study, task: ScheduledTask, index: int | None, person: Person | None, now: datetime) -> tuple[str, Any]:
    """What a changed schedule does to one task: ``keep`` it where it is (sent or dropped
    already, or for someone who opted out: firing drops it), leave it alone while it is being
    fired (``busy``, a follow-up; ``claimed``, a reminder or closing), ``drop`` it (why),
    ``retime`` it ((due, payload)), or leave it ``waiting`` at its first time (the new schedule
    waits for a group or date the participant has not given)."""
    if task.done or (index is None and task.kind != FOLLOW_UP):
        return "keep", None
    if task.claimed:
        return "busy" if task.kind == FOLLOW_UP else "claimed", None
    if index is None:
        return "drop", "its schedule was removed from the study"
    if task.kind != FOLLOW_UP:  # a sent round's reminder or closing: only a new closing date moves it
        planned = PlannedTask(task.kind, task.participant_id, study.study, task.flow_id or "", task.due_at, task.payload)
        found = reclosed(study, index, planned, now)
    elif person is None:
        return "keep", None
    else:
        again = replanned(study, index, int(task.payload.get("occurrence") or 0), person, now)
        if isinstance(again, str) and again.startswith("waiting"):
            return "waiting", None
        found = again if isinstance(again, str) else (again.due_at, again.payload)
    if found is None:
        return "keep", None
    return ("drop", f"the schedule changed: {found}") if isinstance(found, str) else ("retime", found)


def _move_tasks(connection: Connection, study: Study, tasks: list[ScheduledTask], matched: dict[int, int],
                people: dict[str, Person], now: datetime, report: Replanned) -> None:
    """Each task to its schedule's new place; each follow-up not sent yet to its new time."""
    rewrites: list[tuple[int, dict[str, Any]]] = []
    retimes: list[tuple[int, datetime, dict[str, Any]]] = []
    relabels: list[tuple[int, datetime, dict[str, Any]]] = []
    drops: list[tuple[int, str]] = []
    counts = {"busy": 0, "waiting": 0}
    for task in tasks:
        old = task.payload.get("schedule")
        index = matched.get(old) if isinstance(old, int) else None
        action, detail = _decide(study, task, index, people.get(task.participant_id), now)
        payload = moved_payload(task.payload, task.flow_id, index)
        if action == "drop":
            drops.append((task.id, detail))
        elif action == "retime":
            due, moved = detail[0], moved_payload(detail[1], task.flow_id, index)
            (retimes if due != task.due_at else relabels).append((task.id, due, moved))
        elif payload != task.payload and action not in ("busy", "claimed"):
            rewrites.append((task.id, payload))
        counts[action] = counts.get(action, 0) + 1
    due_tasks.rewrite_payloads(connection, rewrites)
    due_tasks.retime_pending(connection, relabels)
    report.retimed += due_tasks.retime_pending(connection, retimes)
    report.dropped += due_tasks.drop_pending(connection, drops, now)
    if counts["busy"]:
        report.warnings.append(f"{counts['busy']} follow-up(s) were being sent as this was published and keep their old time")
    if counts["waiting"]:
        report.warnings.append(f"{counts['waiting']} follow-up(s) would now wait for a group or date the participant has not "
                               "given, so they keep their first time")


def _plan_added(connection: Connection, study: Study, people: dict[str, Person], rechecking: set[str], added: set[int],
                now: datetime, report: Replanned) -> None:
    """Schedules new to enrolled participants, planned as for someone planned now: a send
    already past its grace is not made (a note says for how many)."""
    if not added:
        return
    labels = {index: describe_schedule(index, study.schedule[index]) for index in added}
    rows: list[dict[str, Any]] = []
    closed: list[dict[str, Any]] = []
    missed: dict[int, int] = {}
    for person in people.values():
        plan = plan_person(study, person, now)
        tasks: list[PlannedTask] = [task for task in plan.tasks if task.payload["schedule"] in added]
        tasks += [flag for flag in plan.flags if any(label in str(flag.payload["flag"]) for label in labels.values())]
        for index, label in labels.items():
            missed[index] = missed.get(index, 0) + sum(1 for note in plan.skipped if note.startswith(f"{label}:") and "grace" in note)
        check = plan_check(person, plan, now) if person.participant_id not in rechecking else None
        rows += [_row(task) for task in [*tasks, *([check] if check else [])]]
        closed += [_row(task) for task in plan.not_sent if task.payload["schedule"] in added]
    report.added += sum(1 for row in rows if row["kind"] == FOLLOW_UP)
    rows += closed  # (recorded, not added: closed before due for them, bot/planning_not_sent.py)
    due_tasks.add(connection, rows, now, new_series_only=True)
    for index, count in sorted(missed.items()):
        if count:
            report.warnings.append(f"{count} participant(s) joined too long ago for the new {labels[index]}: "
                                   "past its grace, it is not sent to them")
