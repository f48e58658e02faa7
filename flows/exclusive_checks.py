"""``chorus validate`` on options that go alone (``exclusive: true``, :class:`flows.model.Option`):

* an error where one is marked at a step that takes one option only (a single choice, a rank):
  there it means nothing, and most likely the step was meant to take several and lacks
  ``multiple: true``, which would collect one answer where several were wanted;
* a warning where a multiple choice's option reads as "none of these", "not applicable", "don't
  know" or "prefer not to say" (in English or Welsh: 'Dim un', 'Ddim yn berthnasol') but is not
  marked: "1 5" (Nurses and None) would be stored as both. A warning, not an error: an option
  worded so may yet be meant to go with others ("None of the time" at a frequency list).

Options read as participants' replies are (flows/parsing.py): a label that rejects every other
option ('None', 'Neither', 'Dim un o'r rhain') or says 'I don't know' ('Not sure', 'Ddim yn gwybod').
"""

from __future__ import annotations

import re

from flows.loader import Marks, Problem, step_path
from flows.model import Flow, Option
from flows.parsing import normalise, rejected_options
from flows.parsing_dont_know import option_says_dont_know
from flows.steps.choice import ChoiceStep

GOES_ALONE = frozenset({
    "not applicable", "n a", "na", "does not apply", "doesnt apply", "not relevant", "none apply", "none of these apply",
    "none of them apply", "none of the above apply", "none apply to me", "none of these apply to me", "nothing applies",
    "prefer not to say", "id rather not say", "rather not say", "nobody", "no one", "dim", "dim neb", "neb",
    "amherthnasol", "ddim yn berthnasol", "dim yn berthnasol", "dim un yn berthnasol", "does dim un yn berthnasol",
    "dim byd yn berthnasol", "gwell gen i beidio dweud", "gwell gen i beidio a dweud", "gwell gennyf beidio a dweud",
})
"""Whole option labels (lower case, without apostrophes or other marks) that say no other option
can go with them, besides those read as 'none of them' or 'I don't know'."""


def exclusive_options(flow: Flow, marks: Marks) -> list[Problem]:
    """Options marked to go alone where nothing else can be picked (errors), and a multiple
    choice's options that read as going alone but are not marked (warnings)."""
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        options = getattr(step, "options", None)
        if not isinstance(options, list) or not all(isinstance(option, Option) for option in options):
            continue
        several = isinstance(step, ChoiceStep) and step.multiple
        names = [_names(option) for option in options]
        for number, option in enumerate(options):
            path = step_path(index, "options", str(number))
            if option.exclusive and not several:
                problems.append(marks.problem(
                    marks.key((*path, "exclusive")),
                    f"'exclusive: true' on option '{option.value}' means nothing here: step '{step.id}' takes one "
                    f"option only, so no other can be picked with it",
                    "add 'multiple: true' if people may pick several options, or remove 'exclusive'",
                ))
            elif several and not option.exclusive and reads_as_alone(names[number], names[:number] + names[number + 1:]):
                example = f"{1 if number else 2} {number + 1}"
                problems.append(marks.problem(
                    marks.value(path),
                    f"option '{option.value}' of step '{step.id}' reads as 'none of these' or 'don't know', but is "
                    f"not marked to go alone: a reply that picks it with another (\"{example}\") is stored as both, "
                    f"which contradicts itself",
                    "add 'exclusive: true' to the option to have such a reply asked again; leave it if it may go with others",
                    "warning",
                ))
    return problems


def reads_as_alone(names: list[str], others: list[list[str]]) -> bool:
    """Whether an option, by any of its ``names`` (value and labels), says that no other option
    (``others``: theirs) goes with it: 'None of these', 'Not applicable', "Don't know"."""
    return any(_bare(name) in GOES_ALONE or option_says_dont_know(name)
               or (bool(others) and len(rejected_options(name, others)) == len(others)) for name in names if name)


def _names(option: Option) -> list[str]:
    """An option's value (a code such as ``not_applicable`` read as words) and its label in every language."""
    label = option.label
    labels = list(label.values()) if isinstance(label, dict) else [label or ""]
    return [option.value.replace("_", " "), *labels]


def _bare(name: str) -> str:
    return re.sub(r"\W+", " ", normalise(name).replace("'", "")).strip()
