"""Answers read before they are asked: a text or condition that reads ``answers.<id>``, or
a participant field the flow saves, at a step that some way through the flow reaches
without asking for it. At run time such a sentence is left out (a condition reads the
value as empty), so the coordinator is warned; where no way at all has asked for the answer
yet (the step comes later), it is an error.

Which answers a step can be sure of is worked out over the flow's graph
(:func:`flows.flow_checks.edges`): a step knows what every way to it has asked.
"""

from __future__ import annotations

from collections import deque
from functools import lru_cache

from flows.flow_checks import EXIT, _syntax_error, _variables, _variants, edges
from flows.loader import Marks, Problem, YamlPath, field_path, step_path
from flows.model import Flow, StepBase
from flows.steps.base import InputStep
from flows.templating import guarded_names

KNOWN_FROM_JOINING = frozenset({"participant.group", "participant.language"})
"""Fields a participant may have before any step asks: the group a way in gives, and the
language they write in."""


@lru_cache(maxsize=4096)
def _guarded(source: str, expression: bool) -> frozenset[str]:
    return frozenset(guarded_names(source, expression))


def saved_fields(flow: Flow) -> set[str]:
    """The participant fields the steps of ``flow`` save: ``discharge_date`` for
    ``save_to: participant.discharge_date``."""
    return {
        step.save_to.removeprefix("participant.")
        for step in flow.steps
        if isinstance(step, InputStep) and step.save_to
    }


def _gains(step: StepBase) -> set[str]:
    """What a conversation holds once ``step`` has been asked: its answer (read as
    ``answers.<id>`` or ``values.<id>``) and the field it saves."""
    if not isinstance(step, InputStep):
        return set()
    return {f"answers.{step.id}", *([step.save_to] if step.save_to else [])}


def known_before(flow: Flow) -> dict[str, frozenset[str]]:
    """For each step, the answers and fields that every way to it from the first step has
    asked for. Loops and branches are followed to a fixed point: a step is only as sure
    as the least sure way in."""
    graph, by_id = edges(flow), {step.id: step for step in flow.steps}
    comes_from: dict[str, list[str]] = {}
    for source, targets in graph.items():
        for target in targets:
            comes_from.setdefault(target, []).append(source)
    everything = frozenset().union(*(_gains(step) for step in flow.steps))
    known = {step.id: everything for step in flow.steps} | {flow.steps[0].id: frozenset()}
    changed = True
    while changed:
        changed = False
        for step in flow.steps[1:]:
            ways_in = [known[source] | _gains(by_id[source]) for source in comes_from.get(step.id, [])]
            now = frozenset.intersection(*ways_in) if ways_in else everything
            changed = changed or now != known[step.id]
            known[step.id] = now
    return known


def maybe_before(flow: Flow) -> dict[str, frozenset[str]]:
    """For each step, the answers and fields that some way to it from the first step has
    asked for: what is not here is never there when the step is reached (a step that comes
    later on every way). A step no way reaches is taken to know everything."""
    graph, by_id = edges(flow), {step.id: step for step in flow.steps}
    maybe: dict[str, frozenset[str]] = {step.id: frozenset() for step in flow.steps}
    reached = {flow.steps[0].id}
    changed = True
    while changed:
        changed = False
        for source, targets in graph.items():
            if source not in reached:
                continue
            gained = maybe[source] | _gains(by_id[source])
            for target in targets:
                if target in maybe and (target not in reached or not gained <= maybe[target]):
                    maybe[target] |= gained
                    reached.add(target)
                    changed = True
    everything = frozenset().union(*(_gains(step) for step in flow.steps))
    return {step: (found if step in reached else everything) for step, found in maybe.items()}


def _way_without(flow: Flow, target: str, fact: str) -> list[str]:
    """The shortest way from the first step to ``target`` on which no step gives ``fact``."""
    graph, by_id = edges(flow), {step.id: step for step in flow.steps}
    came_from: dict[str, str | None] = {flow.steps[0].id: None}
    queue = deque([flow.steps[0].id])
    while queue and target not in came_from:
        here = queue.popleft()
        if fact in _gains(by_id[here]):
            continue
        for there in graph.get(here, []):
            if there != EXIT and there not in came_from:
                came_from[there] = here
                queue.append(there)
    way: list[str] = []
    at = target if target in came_from else None
    while at is not None:
        way.append(at)
        at = came_from[at]
    return way[::-1]


def _described_way(way: list[str]) -> str:
    if len(way) > 5:
        way = [*way[:2], "...", *way[-2:]]
    return ", then ".join(f"'{step}'" if step != "..." else step for step in way)


def _read_before_asked(
    name: str, step: StepBase, known: frozenset[str], fields: set[str]
) -> str | None:
    """The fact (``answers.<id>`` or ``participant.<field>``) ``name`` reads that may not be
    there yet at ``step``; None if it is sure to be, or cannot be told from this flow."""
    root, _, rest = name.partition(".")
    if root in ("answers", "values") and rest != step.id:
        fact = f"answers.{rest}"
    elif root == "participant" and rest in fields:
        fact = f"participant.{rest}"
    else:
        return None
    return None if fact in known or fact in KNOWN_FROM_JOINING else fact


def _never_asked_problem(step: StepBase, name: str, fact: str, place: tuple[int, int], marks: Marks, expression: bool) -> Problem:
    """``answers.<id>`` read where no way through the flow has asked step ``<id>`` yet: it is
    always empty there, so a condition on it is never true and a sentence reading it never said."""
    giver = fact.removeprefix("answers.")
    what = "this condition is never true" if expression else "this is never said"
    return marks.problem(
        place,
        f"'{name}' is always empty here: step '{giver}' is never asked before step '{step.id}', so {what}",
        f"read an answer asked before '{step.id}', or move this to a step after '{giver}'",
    )


def _before_asked_problem(
    flow: Flow, step: StepBase, name: str, fact: str, place: tuple[int, int], marks: Marks, expression: bool
) -> Problem:
    way = _described_way(_way_without(flow, step.id, fact))
    if fact.startswith("answers."):
        giver = fact.removeprefix("answers.")
        why = f"step '{giver}' is not always asked before step '{step.id}'"
    else:
        givers = [s.id for s in flow.steps if isinstance(s, InputStep) and s.save_to == fact]
        giver = givers[0]
        why = (
            f"step '{giver}', which saves it, is not always asked before step '{step.id}'"
            if len(givers) == 1
            else f"steps {', '.join(repr(g) for g in givers)} save it, but not every way to step '{step.id}' passes one of them"
        )
    fallback = f"'if: {name} and ...'" if expression else "{{ " + name + " or '...' }}"
    return marks.problem(
        place,
        f"'{name}' may be empty here: {why} (a participant can go {way})",
        f"ask '{giver}' earlier on every way to '{step.id}', or allow for it being empty: {fallback}",
        "warning",
    )


def _answers_of_steps_that_ask_nothing(
    flow: Flow, reads: list[str], source: str, where: YamlPath, marks: Marks
) -> list[Problem]:
    """``answers.<id>`` of a message or end step is always empty: it asks nothing."""
    by_id = {s.id: s for s in flow.steps}
    problems = []
    for name in reads:
        root, _, rest = name.partition(".")
        named = by_id.get(rest) if root in ("answers", "values") else None
        if named is not None and not isinstance(named, InputStep):
            problems.append(marks.problem(
                marks.find(where, name) if name in source else marks.find(where, rest),
                f"'{name}' is always empty: step '{rest}' is {_a(named.type)} step, which asks nothing",
                "name a step that asks a question",
            ))
    return problems


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def _sources(step: StepBase, index: int) -> list[tuple[str, YamlPath, bool]]:
    """Every text (in each language) and condition of a step: its source, place, and
    whether it is a condition."""
    found = [
        (source, where, False)
        for name, text in step.texts()
        for source, where in _variants(text, step_path(index, *field_path(name)))
    ]
    found += [
        (rule.when, step_path(index, "next", str(number), "if"), True)
        for number, rule in enumerate(step.next_rules())
        if rule.when is not None
    ]
    return found


def read_before_asked(flow: Flow, marks: Marks, saved_elsewhere: set[str]) -> list[Problem]:
    """Texts and conditions that read an answer, or a field this flow saves, where a
    participant may not have been asked for it yet: at run time the sentence is left out
    (a condition reads it as empty) and the coordinator is flagged. Values a template
    checks first (``participant.name or 'there'``) are not reported; nor are fields another
    flow of the study may have saved."""
    known, maybe, fields = known_before(flow), maybe_before(flow), saved_fields(flow) - saved_elsewhere
    given = frozenset().union(*(_gains(step) for step in flow.steps))
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        for source, where, expression in _sources(step, index):
            if _syntax_error(source, expression):
                continue
            reads = sorted(_variables(source, expression) - _guarded(source, expression))
            problems += _answers_of_steps_that_ask_nothing(flow, reads, source, where, marks)
            own = _gains(step) if expression else set()
            sure, possible = known[step.id] | own, maybe[step.id] | own
            for name in reads:
                fact = _read_before_asked(name, step, sure, fields)
                if fact is not None and fact in given:
                    place = marks.find(where, name) if name in source else marks.find(where, name.split(".")[1])
                    never = fact.startswith("answers.") and fact not in possible
                    problems.append(_never_asked_problem(step, name, fact, place, marks, expression) if never
                                    else _before_asked_problem(flow, step, name, fact, place, marks, expression))
    return problems
