"""A choice experiment's level labels against its levels: a label for a level the attribute
does not have is never shown (an error: the level was probably left out of ``levels``, or
mistyped), and a level left without a label, where its attribute labels the others, is shown
as it is written ("12" beside "2 weeks"), which participants cannot answer by (numbers are
places) and which reads oddly in the results. And more than one cost (declared with ``cost:
true`` or named so: 'parking_fee'), which leaves 'the cheaper one' without a meaning."""

from __future__ import annotations

from flows.choice_comparisons import is_cost
from flows.loader import Marks, Problem, step_path
from flows.model import Flow
from flows.steps.choice_experiment import ChoiceExperimentStep


def level_labels(flow: Flow, marks: Marks) -> list[Problem]:
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if not isinstance(step, ChoiceExperimentStep):
            continue
        for name, attribute in step.attributes.items():
            labels = attribute.labels or {}
            if not labels:
                continue
            levels = [str(level) for level in attribute.levels]
            shown = ", ".join(levels)
            where = step_path(index, "attributes", name)
            for key in labels:
                if key not in levels:
                    problems.append(marks.problem(
                        marks.key((*where, "labels", key)),
                        f"attribute '{name}' of step '{step.id}' has a label for level {key}, "
                        f"which is not one of its levels ({shown}), so it is never shown",
                        f"add {key} to 'levels', or correct the label's level",
                    ))
            missing = [level for level in levels if level not in labels]
            if missing and len(missing) < len(levels):
                problems.append(marks.problem(
                    marks.key((*where, "labels")),
                    f"attribute '{name}' of step '{step.id}' labels some levels but not "
                    f"{', '.join(missing)}, so {'it is' if len(missing) == 1 else 'they are'} shown as written",
                    f"add a label for each, e.g. 'labels: {{..., {missing[0]}: ...}}'",
                    "warning",
                ))
    return problems


def several_costs(flow: Flow, marks: Marks) -> list[Problem]:
    """A warning for a choice experiment with two or more numeric costs: 'the cheaper one' is
    then asked again, as nobody can tell which cost is meant."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        if not isinstance(step, ChoiceExperimentStep):
            continue
        costs = [name for name, attribute in step.attributes.items() if is_cost(name, attribute.cost)
                 and all(isinstance(level, int | float) for level in attribute.levels)]
        if len(costs) > 1:
            problems.append(marks.problem(
                marks.key(step_path(index, "attributes", costs[1])),
                f"step '{step.id}' has {len(costs)} costs ({', '.join(costs)}), so a reply such as 'the cheaper one' "
                "cannot tell which is meant and is asked again",
                f"if only one is a cost to the participant, write 'cost: false' under the others (e.g. '{costs[1]}')",
                "warning",
            ))
    return problems
