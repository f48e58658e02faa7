"""What ``chorus validate`` checks across the rounds of each Delphi in a study's flows (warnings):
rounds that cannot be compared (another scale, an item renamed), rounds that do not link up
(no round just before, one round twice for the same people), and rounds timed so that a
later one may fall due first.
"""

from __future__ import annotations

import difflib

from flows.loader import LoadedStudy, Marks, Problem, step_path
from flows.model import Schedule, Study
from flows.pydantic_errors import did_you_mean
from flows.schedule_checks import same_people, schedule_place, sent_on, when_key
from flows.steps.delphi import DelphiScale, DelphiStep

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


def delphi_consistency(loaded: LoadedStudy) -> list[Problem]:
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


def delphi_links(loaded: LoadedStudy, intended: dict[str, str]) -> list[Problem]:
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
            if first == flow or other.round != step.round or not shared or not same_people(study, first, flow):
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


def _round_timing(delphi: str, before: DelphiRound, after: DelphiRound, study: Study, marks: Marks) -> list[Problem]:
    """Two rounds of one Delphi timed so that the later may fall due first: one at a date and
    the other counted from joining (or a date the participant gives), dates or counts in the
    wrong order, or the later round sent on joining and the earlier by a schedule."""
    first, second = f"round {before[2].round} (flow '{before[0]}')", f"round {after[2].round} (flow '{after[0]}')"
    hint = ("time every round of a Delphi the same way, each 'at:' a later date or each 'after:' longer; "
            "Chorus holds a round until the one before was sent and finished (or two days after it was sent)")
    problems: list[Problem] = []
    for _, early in sent_on(study, before[0]):
        for late_index, late in sent_on(study, after[0]):
            said = _out_of_order(early, late)
            if said is not None:
                where = ("join", "start_flow") if late is None or late_index is None else schedule_place(late_index, when_key(late))
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


def delphi_timing(loaded: LoadedStudy, marks: Marks) -> list[Problem]:
    problems: list[Problem] = []
    for delphi, rounds in _delphi_rounds(loaded).items():
        for before, after in zip(rounds, rounds[1:], strict=False):
            if before[0] != after[0] and before[2].round != after[2].round:
                problems += _round_timing(delphi, before, after, loaded.study, marks)
    return problems
