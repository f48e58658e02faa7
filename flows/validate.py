"""``chorus validate``: everything the models cannot see on their own.

The loader reports what is malformed (syntax, unknown keys, wrong types, each with its
line and column); :mod:`flows.flow_checks` what is well-formed but wrong in a flow; this
module what is wrong in a study (flows, groups and keywords it names) and walks the
paths given on the command line. Warnings about how messages will look (SMS segments,
buttons, reading level) are in :mod:`flows.message_checks`.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Iterable
from datetime import UTC, datetime, time
from pathlib import Path
from zoneinfo import ZoneInfo

from flows.flow_checks import bare_durations, check_flow, translation_problems
from flows.loader import (
    LoadedStudy,
    Marks,
    Problem,
    YamlPath,
    read_flow,
    read_study,
    step_path,
    study_file,
)
from flows.model import Schedule, Study
from flows.pydantic_errors import did_you_mean
from flows.steps.delphi import DelphiScale, DelphiStep
from flows.template_order import saved_fields
from flows.words import Words, untranslated

__all__ = ["check_flow", "check_study", "past_dates", "validate_paths"]


# ----------------------------------------------------------------------------- studies


def _names(study: Study, known: set[str], marks: Marks) -> list[Problem]:
    problems: list[Problem] = []

    def need_flow(name: str | None, path: YamlPath, what: str) -> None:
        if name is not None and name not in known:
            problems.append(
                marks.problem(
                    marks.value(path),
                    f"{what} '{name}' is not a flow of this study",
                    did_you_mean(name, known),
                )
            )

    groups = study.group_ids()

    def need_group(name: str | None, path: YamlPath) -> None:
        if name is not None and name not in groups:
            hint = did_you_mean(name, groups) if groups else f"add 'groups: [{name}]' to the study"
            problems.append(
                marks.problem(
                    marks.value(path), f"group '{name}' is not one of the study's groups", hint
                )
            )

    need_flow(study.join.start_flow, ("join", "start_flow"), "start_flow")
    need_group(study.join.group, ("join", "group"))
    for index, route in enumerate(study.join.routes):
        need_flow(route.flow, ("join", "routes", str(index), "flow"), "the route's flow")
        need_group(route.group, ("join", "routes", str(index), "group"))
    for index, entry in enumerate(study.schedule):
        need_flow(entry.flow, ("schedule", str(index), "flow"), "the scheduled flow")
        for number, group in enumerate(entry.groups or []):
            need_group(group, ("schedule", str(index), "groups", str(number)))
    return problems


def _ways_in(study: Study, marks: Marks) -> list[Problem]:
    """Keywords and Telegram parameters must be distinct and not clash with global words."""
    places: list[tuple[str, str | None, YamlPath]] = [
        ("keyword", study.join.keyword, ("join", "keyword")),
        ("telegram", study.join.telegram, ("join", "telegram")),
    ]
    for index, route in enumerate(study.join.routes):
        places += [
            ("keyword", route.keyword, ("join", "routes", str(index), "keyword")),
            ("telegram", route.telegram, ("join", "routes", str(index), "telegram")),
        ]
    problems: list[Problem] = []
    seen: dict[tuple[str, str], YamlPath] = {}
    words = Words(study)
    for kind, value, path in places:
        if value is None:
            continue
        key = (kind, value.strip().lower() if kind == "keyword" else value)
        if key in seen:
            line = marks.value(seen[key])[0]
            problems.append(
                marks.problem(
                    marks.value(path),
                    f"the {kind} '{value}' is used twice (first on line {line})",
                    "each way in needs its own keyword or parameter",
                )
            )
        seen.setdefault(key, path)
        if kind == "keyword" and words.command(value):
            problems.append(
                marks.problem(
                    marks.value(path),
                    f"the keyword '{value}' is also the global word {words.command(value)!r}",
                    "choose another keyword",
                )
            )
    return problems


def _built_in_texts(study: Study, marks: Marks) -> list[Problem]:
    """A language Chorus has no texts of its own in: its participants would get hints,
    HELP and STOP's reply in English unless the study gives them."""
    problems = []
    for index, language in enumerate(study.languages):
        missing = untranslated(study, language)
        if missing:
            shown = ", ".join(missing[:4]) + (f" and {len(missing) - 4} more" if len(missing) > 4 else "")
            problems.append(marks.problem(
                marks.value(("languages", str(index))),
                f"Chorus's own texts ({shown}) are written in English and Welsh only: '{language}' "
                "participants would get them in English",
                f"add a '{language}' version of each under 'texts:' (chorus texts --lang {language} prints them to fill in)",
                "warning",
            ))
    return problems


def _schedule_anchors(loaded: LoadedStudy, intended: dict[str, str], marks: Marks) -> list[Problem]:
    """A schedule counted from a participant field no step saves waits for that date for
    ever: the scheduler looks again every hour, then gives up, and the flow is never sent.
    Not checked while a flow file is broken: its steps may save the field."""
    if set(intended.values()) - set(loaded.flows):
        return []
    saved: set[str] = set()
    for flow in loaded.flows.values():
        saved |= saved_fields(flow.flow)
    problems: list[Problem] = []
    for index, entry in enumerate(loaded.study.schedule):
        field = entry.anchor_field()
        if field is None or field in saved:
            continue
        problems.append(marks.problem(
            marks.value(("schedule", str(index), "relative_to")),
            f"the flow '{entry.flow}' is timed from participant.{field}, but no step of this study "
            f"saves participant.{field}, so the flow would never be sent",
            _anchor_hint(field, saved),
        ))
    return problems


def _group_answers(loaded: LoadedStudy) -> list[Problem]:
    """A choice saved to ``participant.group`` puts its option's value there: a value that is
    not one of the study's group ids makes a group nobody schedules for or reports by (an
    option ``Patient`` for the group ``patient``)."""
    groups = loaded.study.group_ids()
    if not groups:
        return []
    problems: list[Problem] = []
    for flow in loaded.flows.values():
        marks = flow.marks or Marks(flow.path)
        for index, step in enumerate(flow.flow.steps):
            if getattr(step, "save_to", None) != "participant.group":
                continue
            for number, option in enumerate(getattr(step, "options", None) or []):
                value = getattr(option, "value", None)
                if isinstance(value, str) and value not in groups:
                    problems.append(marks.problem(
                        marks.value(step_path(index, "options", str(number))),
                        f"step '{step.id}' saves participant.group, but its option '{value}' is not one of the study's "
                        f"groups ({', '.join(sorted(groups))})",
                        _group_hint(value, groups),
                    ))
    return problems


def _group_hint(value: str, groups: list[str]) -> str:
    """Write the option as the group's id with the words shown as its label."""
    same = next((group for group in groups if group.lower() == value.lower()), None)
    if same is not None:
        return f"write it as '- {{value: {same}, label: {value}}}': the value is what is saved, the label what people see"
    return did_you_mean(value, set(groups)) or "add the group to the study's 'groups', or give the option a group's id as its value"


DelphiRound = tuple[str, int, DelphiStep, Marks]
"""A Delphi step with the flow it is in, its index there and that flow's marks."""


def _delphi_rounds(loaded: LoadedStudy) -> dict[str, list[DelphiRound]]:
    """The Delphi steps of the study's flows by ``delphi:`` id, each id's in round order."""
    found: dict[str, list[DelphiRound]] = {}
    for name, flow in loaded.flows.items():
        marks = flow.marks or Marks(flow.path)
        for index, step in enumerate(flow.flow.steps):
            if isinstance(step, DelphiStep):
                found.setdefault(step.delphi_id, []).append((name, index, step, marks))
    return {delphi: sorted(rounds, key=lambda found: found[2].round) for delphi, rounds in found.items()}


def _delphi_consistency(loaded: LoadedStudy) -> list[Problem]:
    """Rounds of one Delphi in different flows that cannot be compared: a different scale
    or bands, or an item id the round before does not have (a renamed item is analysed as
    a new one, with no earlier scores to feed back)."""
    problems: list[Problem] = []
    for delphi, rounds in _delphi_rounds(loaded).items():
        for before, after in zip(rounds, rounds[1:], strict=False):
            if before[0] != after[0]:
                problems += _scale_change(delphi, before, after)
                if before[2].round != after[2].round:  # (one round split over flows asks different items)
                    problems += _new_items(delphi, before, after)
    return problems


def _scale_text(scale: DelphiScale) -> str:
    return f"{scale.min}-{scale.max} (bands {scale.low[0]}-{scale.low[1]} and {scale.high[0]}-{scale.high[1]})"


def _scale_change(delphi: str, before: DelphiRound, after: DelphiRound) -> list[Problem]:
    old, new = before[2].scale, after[2].scale
    if (old.min, old.max, old.low, old.high) == (new.min, new.max, new.low, new.high):
        return []
    _, index, step, marks = after
    return [marks.problem(
        marks.value(step_path(index, "scale")),
        f"round {step.round} of Delphi '{delphi}' scores {_scale_text(new)}, but round {before[2].round} "
        f"(flow '{before[0]}') scores {_scale_text(old)}: their scores cannot be compared",
        "give every round of a Delphi the same 'scale:'",
        "warning",
    )]


def _new_items(delphi: str, before: DelphiRound, after: DelphiRound) -> list[Problem]:
    _, index, step, marks = after
    earlier = [item.id for item in before[2].items]
    gone = set(earlier) - {item.id for item in step.items}
    problems: list[Problem] = []
    for number, item in enumerate(step.items):
        if item.id in earlier:
            continue
        close = did_you_mean(item.id, gone, listing=False)
        problems.append(marks.problem(
            marks.value(step_path(index, "items", str(number))),
            f"round {step.round} of Delphi '{delphi}' has the item '{item.id}', which round {before[2].round} "
            f"(flow '{before[0]}') does not: it is analysed as a new item, with no earlier scores",
            f"{close} (an item keeps its id in every round)" if close else "if it was renamed, give it its earlier id",
            "warning",
        ))
    return problems


def _delphi_links(loaded: LoadedStudy, intended: dict[str, str]) -> list[Problem]:
    """Rounds of a Delphi that do not link up: a later round with no round just before it
    (a misspelt ``delphi:`` name, or a round number skipped), which shows no earlier results,
    and one round in two flows that the same people are sent, who would rate its items twice.
    Not checked while a flow file is broken: its steps may be the missing round."""
    if set(intended.values()) - set(loaded.flows):
        return []
    found = _delphi_rounds(loaded)
    problems: list[Problem] = []
    for delphi, rounds in found.items():
        numbers = {step.round for _, _, step, _ in rounds}
        for place in rounds:
            if place[2].round > 1 and place[2].round - 1 not in numbers:
                problems.append(_no_round_before(delphi, place, rounds, found))
        problems += _round_twice(delphi, rounds, loaded.study, numbers)
    return problems


def _no_round_before(delphi: str, place: DelphiRound, rounds: list[DelphiRound],
                     found: dict[str, list[DelphiRound]]) -> Problem:
    """Round n of ``delphi`` with no round n-1: feedback is the round just before's results."""
    flow, index, step, marks = place
    before = f"round {step.round - 1}"
    earlier = [other for other in rounds if other[2].round < step.round]
    if earlier:
        last = earlier[-1]
        return marks.problem(
            marks.value(step_path(index, "round")),
            f"round {step.round} of Delphi '{delphi}' follows round {last[2].round} (flow '{last[0]}'), with no {before}: "
            f"it shows no earlier results, as they come from {before}",
            f"number the rounds one after another: did you mean 'round: {last[2].round + 1}'?",
            "warning",
        )
    named = "" if step.delphi else " (it has no 'delphi:', so it is named by the step's id)"
    return marks.problem(
        marks.value(step_path(index, "delphi")),
        f"round {step.round} of Delphi '{delphi}'{named} has no round before it: no flow of this study has an earlier "
        f"round of a Delphi called '{delphi}', so it shows no earlier results and is analysed as a Delphi of its own",
        _other_delphi_hint(delphi, step.round, flow, found),
        "warning",
    )


def _other_delphi_hint(delphi: str, number: int, flow: str, found: dict[str, list[DelphiRound]]) -> str:
    """The Delphi with an earlier round that ``delphi`` was probably meant to be."""
    earlier = {name: [r for r in rounds if r[2].round < number and r[0] != flow] for name, rounds in found.items() if name != delphi}
    candidates = {name: rounds[-1] for name, rounds in earlier.items() if rounds}
    close = difflib.get_close_matches(delphi, sorted(candidates), n=1, cutoff=0.6)
    if not close and len(candidates) == 1:
        close = list(candidates)
    if not close:
        return "if it is the first round, write 'round: 1'; otherwise give it the 'delphi:' of the round before"
    other = candidates[close[0]]
    return (f"did you mean 'delphi: {close[0]}', as in flow '{other[0]}', its round {other[2].round}? "
            "Every round of one Delphi needs the same 'delphi:'")


def _round_twice(delphi: str, rounds: list[DelphiRound], study: Study, numbers: set[int]) -> list[Problem]:
    """Flows that are the same round of ``delphi``, rate the same items, and are sent to the
    same people (one round split between groups, or its items between flows, is fine)."""
    problems: list[Problem] = []
    for position, (flow, index, step, marks) in enumerate(rounds):
        for first, _, other, _ in rounds[:position]:
            shared = [item.id for item in step.items if item.id in {i.id for i in other.items}]
            if first == flow or other.round != step.round or not shared or not _same_people(study, first, flow):
                continue
            renumber = f"did you mean 'round: {step.round + 1}'?" if step.round + 1 not in numbers else "give each round its own number."
            more = f" and {len(shared) - 1} more item{'s' if len(shared) > 2 else ''}" if len(shared) > 1 else ""
            problems.append(marks.problem(
                marks.value(step_path(index, "round")),
                f"flows '{first}' and '{flow}' are both round {step.round} of Delphi '{delphi}' and may be sent to the same "
                f"people, who would then rate '{shared[0]}'{more} twice in round {step.round}",
                f"{renumber} If the two are for different people, send each only to its own groups with a schedule's 'groups:'",
                "warning",
            ))
            break
    return problems


def _same_people(study: Study, first: str, second: str) -> bool:
    """Whether someone may be sent both flows, as far as the study's groups tell."""
    one, other = _sent_to(study, first), _sent_to(study, second)
    if one is None or other is None:
        return bool(one is None or one) and bool(other is None or other)
    return bool(one & other)


def _sent_to(study: Study, flow: str) -> set[str] | None:
    """The groups a flow is sent to (None: anyone) by its schedules and join routes."""
    groups: set[str] = set()
    for _, entry in _sent_on(study, flow):
        if entry is not None:
            named = entry.groups
        else:
            routes = [route for route in study.join.all_routes() if (route.flow or study.join.start_flow) == flow]
            named = [route.group for route in routes if route.group] if routes and all(r.group for r in routes) else None
        if named is None:
            return None
        groups |= set(named)
    return groups


# ----------------------------------------------------------------------------- schedules


def _schedule_place(index: int, key: str) -> YamlPath:
    return ("schedule", str(index), key)


def _when_key(entry: Schedule) -> str:
    return "at" if entry.at is not None else "after" if entry.after is not None else "every"


def _sent_on(study: Study, flow: str) -> list[tuple[int | None, Schedule | None]]:
    """How a flow is sent: (index, schedule) for each schedule that sends it, (None, None) if
    it is the start flow or a join route's."""
    ways: list[tuple[int | None, Schedule | None]] = [(i, e) for i, e in enumerate(study.schedule) if e.flow == flow]
    if flow == study.join.start_flow or any(route.flow == flow for route in study.join.routes):
        ways.insert(0, (None, None))
    return ways


def _round_timing(delphi: str, before: DelphiRound, after: DelphiRound, study: Study, marks: Marks) -> list[Problem]:
    """Two rounds of one Delphi timed so that the later may fall due first: one at a date and
    the other counted from joining (or a date the participant gives), dates or counts in the
    wrong order, or the later round sent on joining and the earlier by a schedule."""
    first, second = f"round {before[2].round} (flow '{before[0]}')", f"round {after[2].round} (flow '{after[0]}')"
    hint = ("time every round of a Delphi the same way, each 'at:' a later date or each 'after:' longer; "
            "Chorus holds a round until the one before was sent and finished (or two days after it was sent)")
    problems: list[Problem] = []
    for _, early in _sent_on(study, before[0]):
        for late_index, late in _sent_on(study, after[0]):
            said = _out_of_order(early, late)
            if said is not None:
                where = ("join", "start_flow") if late is None or late_index is None else _schedule_place(late_index, _when_key(late))
                message = f"{second} of Delphi '{delphi}' {said.format(first=first)}"
                problems.append(marks.problem(marks.value(where), message, hint, "warning"))
    return problems


def _out_of_order(early: Schedule | None, late: Schedule | None) -> str | None:
    """How the later round's timing (None: on joining) may put it before the earlier's, if it may."""
    if late is None:
        return None if early is None else "is sent on joining, but {first} only later, by a schedule"
    if early is None:
        return None
    if early.at is not None and late.at is not None:
        return f"opens {late.at:%Y-%m-%d %H:%M}, no later than {{first}} ({early.at:%Y-%m-%d %H:%M})" if late.at <= early.at else None
    if late.at is not None:
        return "is sent at a date, but {first} is counted from joining: someone who joins shortly before that date is due it first"
    if early.at is not None:
        return "is counted from joining, but {first} is sent at a date: someone who joins long before that date is due it first"
    if early.after is not None and late.after is not None and early.relative_to == late.relative_to and late.after <= early.after:
        field = late.anchor_field()
        return f"is sent no later after {f'participant.{field} than' if field else 'joining than'} {{first}}"
    return None


def _delphi_timing(loaded: LoadedStudy, marks: Marks) -> list[Problem]:
    problems: list[Problem] = []
    for delphi, rounds in _delphi_rounds(loaded).items():
        for before, after in zip(rounds, rounds[1:], strict=False):
            if before[0] != after[0] and before[2].round != after[2].round:
                problems += _round_timing(delphi, before, after, loaded.study, marks)
    return problems


def _windows_in_quiet_hours(study: Study, marks: Marks) -> list[Problem]:
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
                marks.value(_schedule_place(index, "window")),
                f"the window {window} of the flow '{entry.flow}' lies wholly inside the quiet hours {quiet}, "
                "so there is no time it could be sent",
                "give a window outside the quiet hours, e.g. '09:00-19:00'",
            ))
    return problems


def _unsent_flows(loaded: LoadedStudy, intended: dict[str, str], marks: Marks) -> list[Problem]:
    """A flow of the study that nothing sends: not the start flow, no join route's, not scheduled."""
    study = loaded.study
    problems = []
    for path, name in intended.items():
        if _sent_on(study, name) or name not in loaded.flows:
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


def _scheduled_twice(study: Study, marks: Marks) -> list[Problem]:
    """Two schedules of one flow for the same people: each would send it."""
    problems = []
    for index, entry in enumerate(study.schedule):
        for earlier, other in enumerate(study.schedule[:index]):
            shared = other.flow == entry.flow and (
                not entry.groups or not other.groups or set(entry.groups) & set(other.groups))
            if shared:
                line = marks.value(_schedule_place(earlier, "flow"))[0]
                problems.append(marks.problem(
                    marks.value(_schedule_place(index, "flow")),
                    f"the flow '{entry.flow}' is scheduled twice (first on line {line}) for the same people, "
                    "so they would be sent it twice",
                    "remove one; to send it again and again use 'every:'; for different groups give each schedule its 'groups:'",
                    "warning",
                ))
                break
    return problems


def past_dates(loaded: LoadedStudy, now: datetime) -> list[Problem]:
    """Warnings of an ``at:`` or ``closes:`` date already past (for publishing, which does not
    run every check)."""
    return _past_times(loaded.study, loaded.marks or Marks(loaded.path), now)


def _past_times(study: Study, marks: Marks, now: datetime) -> list[Problem]:
    """An ``at:`` or a ``closes:`` date already past when the study is checked or published."""
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
            problems.append(marks.problem(marks.value(_schedule_place(index, key)), said,
                                          f"give the date it should {'open' if key == 'at' else 'close'}, if it is not this",
                                          "warning"))
    return problems


def _schedule_problems(loaded: LoadedStudy, intended: dict[str, str], marks: Marks, now: datetime) -> list[Problem]:
    study = loaded.study
    problems = _windows_in_quiet_hours(study, marks) + _scheduled_twice(study, marks) + _past_times(study, marks, now)
    named = {study.join.start_flow, *(route.flow for route in study.join.routes if route.flow), *(e.flow for e in study.schedule)}
    if not set(intended.values()) - set(loaded.flows):  # (a broken flow file: its steps are not known)
        problems += _delphi_timing(loaded, marks)
        if named <= set(loaded.flows):  # (a misspelt name: the flow meant is not "never sent")
            problems += _unsent_flows(loaded, intended, marks)
    return problems


def _anchor_hint(field: str, saved: set[str]) -> str:
    close = difflib.get_close_matches(field, sorted(saved), n=1, cutoff=0.6)
    if close:
        return f"did you mean 'participant.{close[0]}'?"
    return (
        f"add 'save_to: participant.{field}' to the step that asks for this date, "
        "or leave out relative_to to count from the day the participant joined"
    )


def check_study(loaded: LoadedStudy, intended: dict[str, str], now: datetime | None = None) -> list[Problem]:
    """Every semantic problem of a study file (its flows are checked by :func:`check_flow`);
    ``now`` (default: the clock) tells which dates have passed."""
    study, marks = loaded.study, loaded.marks or Marks(loaded.path)
    known = set(loaded.flows) | set(intended.values())
    problems = _names(study, known, marks) + _ways_in(study, marks) + _built_in_texts(study, marks) + bare_durations(marks)
    problems += _schedule_anchors(loaded, intended, marks) + _group_answers(loaded) + _delphi_consistency(loaded)
    problems += _delphi_links(loaded, intended)
    problems += _schedule_problems(loaded, intended, marks, now or datetime.now(UTC))
    languages = study.languages
    problems += translation_problems(study.title, ("title",), languages, marks, "the study's title")
    if study.signposting is not None:
        problems += translation_problems(
            study.signposting, ("signposting",), languages, marks, "signposting"
        )
    for key, text in study.texts.items():
        problems += translation_problems(
            text, ("texts", key), languages, marks, f"the text '{key}'"
        )
    for index, group in enumerate(study.groups):
        if group.label is not None:
            problems += translation_problems(
                group.label,
                ("groups", str(index), "label"),
                languages,
                marks,
                f"the label of group '{group.id}'",
            )
    return problems


# ----------------------------------------------------------------------------- entry point


def _check_study_path(path: Path, now: datetime | None) -> tuple[list[Problem], list[str]]:
    loaded, problems, intended = read_study(path)
    checked = [str(study_file(path).resolve())] + [str(Path(p).resolve()) for p in intended]
    if loaded is None:
        return problems, checked
    problems += check_study(loaded, intended, now)
    for name, flow in loaded.flows.items():
        problems += check_flow(flow, loaded.study.languages, loaded.study, _saved_by_others(loaded, name))
    return problems, checked


def _saved_by_others(loaded: LoadedStudy, name: str) -> set[str]:
    """The participant fields the study's flows other than ``name`` save."""
    found: set[str] = set()
    for other, flow in loaded.flows.items():
        if other != name:
            found |= saved_fields(flow.flow)
    return found


def _check_flow_path(path: Path) -> list[Problem]:
    loaded, problems = read_flow(path)
    return problems + (check_flow(loaded) if loaded is not None else [])


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
    if path.is_dir():
        if (path / "study.yaml").exists() or (path / "study.yml").exists():
            return [study_file(path)]
        return sorted(p for p in path.glob("*.y*ml") if p.is_file())
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
