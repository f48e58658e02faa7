"""A number question that asks how long without saying in what ('How long did you wait for an
appointment?', no ``unit``): '2 weeks' and '3 days' would both be stored as bare numbers, 2 and
3, and the results' average would mix weeks with days. A warning: the flow still runs."""

from __future__ import annotations

from flows.loader import Marks, Problem, step_path
from flows.model import Flow
from flows.parsing import asks_how_long_in_no_unit
from flows.steps.number import NumberStep


def durations_without_unit(flow: Flow, marks: Marks) -> list[Problem]:
    """A warning at each number step whose text, in any of its languages, asks for a length of
    time in no unit."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if not isinstance(step, NumberStep) or step.unit:
            continue
        texts = step.text.values() if isinstance(step.text, dict) else [step.text]
        if not any(asks_how_long_in_no_unit(text, None) for text in texts if isinstance(text, str)):
            continue
        problems.append(marks.problem(
            marks.value(step_path(index, "text")),
            f"step '{step.id}' asks how long but not in what, so '2 weeks' and '3 days' would be stored as "
            "2 and 3, and averaged together in the results",
            "add the unit answers should be in, e.g. 'unit: days' (Chorus converts '2 weeks' to 14 and "
            "checks '3 months' with the participant), or name it in the question ('How many days ...?')",
            "warning",
        ))
    return problems
