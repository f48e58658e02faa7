"""What ``chorus validate`` checks in a study's schedule, and who is sent which flow.

Errors: a send window wholly inside the quiet hours. Warnings: a flow nothing sends, a flow
scheduled twice for the same people, a repeating schedule that ends after its first send, an ``at:``, ``closes:`` or ``until:`` date already past. How the
study sends each flow (:func:`sent_on`) and to whom (:func:`same_people`) is used by the
Delphi and timing checks too (:mod:`flows.delphi_checks`, :mod:`flows.timing_checks`).
"""

from __future__ import annotations

from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from flows.loader import LoadedStudy, Marks, Problem, YamlPath
from flows.model import Schedule, Study
from flows.schedule_ends import describe_end, until_passes
from flows.schedule_timing import say_span


def schedule_place(index: int, key: str) -> YamlPath:
    """Where a key of the study's ``index``-th schedule entry is."""
    return ("schedule", str(index), key)


def when_key(entry: Schedule) -> str:
    """The key that says when a schedule entry sends its flow."""
    return "at" if entry.at is not None else "after" if entry.after is not None else "every"


def sent_on(study: Study, flow: str) -> list[tuple[int | None, Schedule | None]]:
    """How a flow is sent: (index, schedule) for each schedule that sends it, (None, None) if
    it is the start flow or a join route's."""
    ways: list[tuple[int | None, Schedule | None]] = [(i, e) for i, e in enumerate(study.schedule) if e.flow == flow]
    if flow == study.join.start_flow or any(route.flow == flow for route in study.join.routes):
        ways.insert(0, (None, None))
    return ways


def same_people(study: Study, first: str, second: str) -> bool:
    """Whether someone may be sent both flows, as far as the study's groups tell."""
    return groups_meet(sent_to(study, first), sent_to(study, second))


def groups_meet(one: set[str] | None, other: set[str] | None) -> bool:
    """Whether two sets of groups (None: anyone; empty: nobody) have someone in common."""
    if one is None or other is None:
        return bool(one is None or one) and bool(other is None or other)
    return bool(one & other)


def schedules_meet(one: Schedule, other: Schedule) -> bool:
    """Whether two schedules are for some of the same people (no ``groups:``: for everyone)."""
    return not one.groups or not other.groups or bool(set(one.groups) & set(other.groups))


def sent_to(study: Study, flow: str) -> set[str] | None:
    """The groups a flow is sent to (None: anyone) by its schedules and join routes."""
    groups: set[str] = set()
    for _, entry in sent_on(study, flow):
        if entry is not None:
            named = entry.groups
        else:
            routes = [route for route in study.join.all_routes() if (route.flow or study.join.start_flow) == flow]
            named = [route.group for route in routes if route.group] if routes and all(r.group for r in routes) else None
        if named is None:
            return None
        groups |= set(named)
    return groups


def windows_in_quiet_hours(study: Study, marks: Marks) -> list[Problem]:
    """A send window wholly inside the quiet hours leaves no time to send at all."""
    quiet = study.quiet_hours
    if quiet is None:
        return []
    problems = []
    minutes = [time(hour, minute) for hour in range(24) for minute in range(60)]
    for index, entry in enumerate(study.schedule):
        window = entry.window
        if window is not None and all(quiet.contains(moment) for moment in minutes if window.contains(moment)):
            problems.append(marks.problem(
                marks.value(schedule_place(index, "window")),
                f"the window {window} of the flow '{entry.flow}' lies wholly inside the quiet hours {quiet}, "
                "so there is no time it could be sent",
                "give a window outside the quiet hours, e.g. '09:00-19:00'",
            ))
    return problems


def unsent_flows(loaded: LoadedStudy, intended: dict[str, str], marks: Marks) -> list[Problem]:
    """A flow of the study that nothing sends: not the start flow, no join route's, not scheduled."""
    study = loaded.study
    problems = []
    for path, name in intended.items():
        if sent_on(study, name) or name not in loaded.flows:
            continue
        listed = [number for number, file in enumerate(study.flows) if Path(file).name == Path(path).name]
        flow_marks = loaded.flows[name].marks or Marks(loaded.flows[name].path)
        where, at = (marks, ("flows", str(listed[0]))) if listed else (flow_marks, ("flow",))
        problems.append(where.problem(
            where.value(at), f"the flow '{name}' is never sent: it is not the start_flow, no join route names it "
            "and no schedule sends it",
            f"add '- flow: {name}' with e.g. 'after: 7d' under 'schedule:', name it in a join route, or leave it out of the study",
            "warning",
        ))
    return problems


def scheduled_twice(study: Study, marks: Marks) -> list[Problem]:
    """Two schedules of one flow for the same people: each would send it."""
    problems = []
    for index, entry in enumerate(study.schedule):
        for earlier, other in enumerate(study.schedule[:index]):
            if other.flow == entry.flow and schedules_meet(entry, other):
                line = marks.value(schedule_place(earlier, "flow"))[0]
                problems.append(marks.problem(
                    marks.value(schedule_place(index, "flow")),
                    f"the flow '{entry.flow}' is scheduled twice (first on line {line}) for the same people, "
                    "so they would be sent it twice",
                    "remove one; to send it again and again use 'every:'; for different groups give each schedule its 'groups:'",
                    "warning",
                ))
                break
    return problems


def written(span: timedelta) -> str:
    """A duration as it is written in YAML: '7d', '2h30m', '90s'."""
    seconds = int(span.total_seconds())
    parts = [(seconds // 86400, "d"), (seconds % 86400 // 3600, "h"), (seconds % 3600 // 60, "m"), (seconds % 60, "s")]
    return "".join(f"{number}{unit}" for number, unit in parts if number) or "0s"


def repeats_once(study: Study, marks: Marks) -> list[Problem]:
    """A repeating schedule that ends after its first send (``times: 1``, or an ``until:`` span
    that ends before the second): it sends once, which ``after:`` alone says plainly."""
    problems = []
    for index, entry in enumerate(study.schedule):
        every = entry.every
        if every is None:
            continue
        if entry.times == 1:
            key, why = "times", "times: 1"
        elif isinstance(entry.until, timedelta) and entry.until < entry.send_after(2) and entry.times != 1:
            key, why = "until", f"until: {say_span(entry.until)}"
        else:
            continue
        once = ("remove 'every:'" if entry.after is not None else f"write 'after: {written(every)}' instead of 'every:'")
        problems.append(marks.problem(
            marks.value(schedule_place(index, key)),
            f"the flow '{entry.flow}' repeats every {say_span(every)}, but {why} ends it after the first send, "
            f"{say_span(entry.first_send())} after {entry.relative_to}: it is sent once",
            f"to send it once, {once}; to repeat it, give more sends, e.g. 'times: 6'", "warning"))
    return problems


def past_dates(loaded: LoadedStudy, now: datetime) -> list[Problem]:
    """Warnings of an ``at:`` or ``closes:`` date already past (for publishing, which does not
    run every check)."""
    return past_times(loaded.study, loaded.marks or Marks(loaded.path), now)


def past_times(study: Study, marks: Marks, now: datetime) -> list[Problem]:
    """An ``at:``, ``closes:`` or ``until:`` date already past when the study is checked or published."""
    zone = ZoneInfo(study.timezone)
    problems = []
    for index, entry in enumerate(study.schedule):
        for key, moment in (("at", entry.at), ("closes", entry.closes)):
            if not isinstance(moment, datetime) or (moment if moment.tzinfo else moment.replace(tzinfo=zone)) > now:
                continue
            said = (f"the flow '{entry.flow}' is sent at {moment:%Y-%m-%d %H:%M}, which has passed: everyone "
                    "enrolled who has not had it, and everyone who joins, is sent it straight away") if key == "at" else (
                    f"the flow '{entry.flow}' closes {moment:%Y-%m-%d %H:%M}, which has passed: nobody who has not "
                    "had it yet will be sent it")
            problems.append(marks.problem(marks.value(schedule_place(index, key)), said,
                                          f"give the date it should {'open' if key == 'at' else 'close'}, if it is not this",
                                          "warning"))
        ends = until_passes(entry, zone)
        if ends is not None and ends <= now:
            problems.append(marks.problem(
                marks.value(schedule_place(index, "until")),
                f"the flow '{entry.flow}' repeats {describe_end(entry)}, which has passed: nobody will be sent it again",
                "give the date it should stop, if it is not this, or remove the schedule", "warning"))
    return problems

