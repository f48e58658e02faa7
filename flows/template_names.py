"""Names a text or condition reads that no participant's conversation will ever hold, and
words it says twice: the slips a coordinator makes while writing templates.

- ``study.name``: the study gives templates ``study.title`` and ``study.id`` only.
- ``answer.weeks`` for ``answers.weeks``: ``answer`` is the step's own answer, a plain value.
- ``participant.first_name`` when no step of the study saves it: it is always empty.
- ``{{ answers.weeks }} weeks`` when step ``weeks`` has ``unit: weeks``: the answer as shown
  already ends with its unit, so the participant reads "14 weeks weeks".

Each is found at run time only as a sentence left out (``flows.templating``), so
``chorus validate`` says so before launch.
"""

from __future__ import annotations

import re

from flows.loader import Marks, Problem, field_path, step_path
from flows.model import Flow
from flows.pydantic_errors import did_you_mean

STUDY_NAMES = ("title", "id")
"""What ``study`` holds in a template (flows.engine_core's template context)."""
KNOWN_FIELDS = frozenset({"group", "language", "channel", "name", "contact_hours", "timezone"})
"""Participant fields a participant may have without a step of the study saving them: the
way in gives the group, language and channel; the others are built in (``chorus participant
set``, the desk)."""


def misread_name(name: str, ids: list[str]) -> tuple[str, str] | None:
    """(message, hint) for ``study.<x>`` the study does not give, or ``answer.<step id>``
    written for ``answers.<step id>``; None for anything else."""
    root, _, rest = name.partition(".")
    first = rest.split(".")[0]
    if root == "study" and first and first not in STUDY_NAMES:
        return (f"'{name}' is always empty: a template can read study.title and study.id, not study.{first}",
                did_you_mean(first, STUDY_NAMES, listing=False) or "write {{ study.title }} for the study's title")
    if root == "answer" and first in ids:
        return (f"'{name}' reads part of this step's own answer, which has no parts; "
                f"the answer to step '{first}' is answers.{first}",
                f"write answers.{first} for the answer as shown, or values.{first} for the value stored")
    return None


def unsaved_fields(flow: Flow, marks: Marks, saved: set[str]) -> list[Problem]:
    """Texts and conditions reading ``participant.<field>`` that no step of the study saves and
    that nothing else gives (:data:`KNOWN_FIELDS`): always empty, so the sentence is left out.
    A read the template guards itself (``participant.nickname or 'there'``) is meant."""
    from flows.flow_checks import _syntax_error, _variables
    from flows.template_order import _guarded, _sources

    known = KNOWN_FIELDS | saved
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        for source, where, expression in _sources(step, index):
            if _syntax_error(source, expression):
                continue
            for name in sorted(_variables(source, expression) - _guarded(source, expression)):
                root, _, rest = name.partition(".")
                field = rest.split(".")[0]
                if root != "participant" or not field or field in known:
                    continue
                close = did_you_mean(field, known, listing=False)
                problems.append(marks.problem(
                    marks.find(where, name),
                    f"'participant.{field}' is always empty: no step of this study saves it",
                    f"{close + ' ' if close else ''}save it first (save_to: participant.{field}), "
                    f"or allow for it being empty: {{{{ participant.{field} or '...' }}}}",
                    "warning",
                ))
    return problems


_SHOWN_ANSWER = re.compile(r"\{\{-?\s*answers\.(\w+)\s*-?\}\}\s*([A-Za-z]+)")


def units_said_twice(flow: Flow, marks: Marks) -> list[Problem]:
    """``{{ answers.weeks }} weeks`` where step ``weeks`` is a number with ``unit: weeks``:
    the answer as shown is "14 weeks", so the text would say "14 weeks weeks"."""
    from flows.steps.number import NumberStep
    from flows.unit_words import singular

    units = {s.id: s for s in flow.steps if isinstance(s, NumberStep) and s.unit}
    problems: list[Problem] = []
    for index, step in enumerate(flow.steps):
        for name, text in step.texts():
            variants = [(text, ())] if isinstance(text, str) else [(v, (code,)) for code, v in text.items()]
            for source, code in variants:
                for match in _SHOWN_ANSWER.finditer(source):
                    said = units.get(match[1])
                    unit, word = said.unit_in(code[0] if code else "en").lower() if said else None, match[2].lower()
                    first = unit.split()[0] if unit else ""
                    if not first or word not in (first, singular(first)):
                        continue
                    where = step_path(index, *field_path(name), *code)
                    problems.append(marks.problem(
                        marks.find(where, match[0]),
                        f"'answers.{match[1]}' is shown with its unit already ('14 {unit}'), "
                        f"so this reads '14 {unit} {match[2]}'",
                        f"write '{{{{ values.{match[1]} }}}} {match[2]}' for the number alone, "
                        f"or leave out the word '{match[2]}'",
                        "warning",
                    ))
    return problems
