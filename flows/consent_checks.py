"""Consent in a flow: no question may be asked before a consent step has its YES.

The consent step itself refuses what would pass it without a YES (``skip``,
``on_max_tries: skip``, ``on_timeout``: flows/steps/consent.py); this finds questions that
come before it, or that a ``next`` rule reaches round it.
"""

from __future__ import annotations

from collections import deque

from flows.loader import Marks, Problem, step_path
from flows.model import Flow
from flows.steps.consent import ConsentStep


def asked_before_consent(flow: Flow, marks: Marks, graph: dict[str, list[str]]) -> list[Problem]:
    """A warning for each question the participant can reach from the first step without
    passing a consent step (``graph``: where each step may lead, flows.flow_checks.edges)."""
    consents = [step.id for step in flow.steps if isinstance(step, ConsentStep)]
    if not consents:
        return []
    first = flow.steps[0].id
    reached, queue = {first}, deque([first])
    while queue:
        at = queue.popleft()
        if at in consents:
            continue  # what lies beyond needs its YES
        for target in graph.get(at, []):
            if target not in reached:
                reached.add(target)
                queue.append(target)
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if step.id in reached and step.waits_for_input and not isinstance(step, ConsentStep):
            problems.append(marks.problem(
                marks.value(step_path(index, "id")),
                f"step '{step.id}' can be asked before the participant has said YES to '{consents[0]}'",
                f"ask '{consents[0]}' first, and let no next rule jump past it to '{step.id}'",
                "warning",
            ))
    return problems
