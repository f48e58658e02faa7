"""What ``chorus validate`` checks in a study's ``whatsapp:`` block (Twilio content templates).

A slip there used to pass silently and show only on a participant's phone: a misspelt key
(``quick_replies``) was ignored, a placeholder Chorus does not fill (``{name}``) was sent as
written in an approved template, a cut-off content SID failed every send, and a quick-reply
template with more buttons than a question's options showed the template's sample buttons
(Twilio fills variables not given with the template's samples)."""

from __future__ import annotations

import re
from typing import Any

from flows.loader import Marks, Problem, YamlPath
from flows.model import Study
from flows.pydantic_errors import did_you_mean

QUICK_REPLY_MAX, LIST_PICKER_MAX = 3, 10
"""WhatsApp's buttons in a quick reply sent in a conversation, and items in a list picker."""
PLACEHOLDERS = ("{text}", "{study}")
"""What Chorus fills in an approved template's variables: the message, and the study's title."""
CONTENT_SID = re.compile(r"HX[0-9a-fA-F]{32}")
TOP_KEYS = ("templates", "quick_reply", "list_picker")
SPEC_KEYS = ("content_sid", "variables", "options")
_PLACEHOLDER = re.compile(r"\{[^{}]*\}")


def whatsapp_content(study: Study, marks: Marks) -> list[Problem]:
    """Every slip in the ``whatsapp:`` block, each at its line."""
    raw, problems = study.whatsapp, []
    for key in raw:
        if key not in TOP_KEYS:
            problems.append(marks.problem(marks.key(("whatsapp", str(key))), f"unknown WhatsApp setting '{key}'",
                                          did_you_mean(str(key), list(TOP_KEYS)) or f"use {', '.join(TOP_KEYS)}"))
    templates = raw.get("templates") or {}
    if not isinstance(templates, dict):
        problems.append(marks.problem(marks.value(("whatsapp", "templates")), "'templates' should be a map from a purpose to a template",
                                      "write e.g. templates: {default: {content_sid: HX..., variables: {\"1\": \"{text}\"}}}"))
        templates = {}
    for purpose, spec in templates.items():
        problems += _spec(spec, ("whatsapp", "templates", str(purpose)), marks, approved=True)
    for kind, most in (("quick_reply", QUICK_REPLY_MAX), ("list_picker", LIST_PICKER_MAX)):
        given = raw.get(kind)
        specs = given if isinstance(given, list) else [given] if given is not None else []
        for index, spec in enumerate(specs):
            path = ("whatsapp", kind, str(index)) if isinstance(given, list) else ("whatsapp", kind)
            problems += _spec(spec, path, marks, approved=False) + _options(spec, path, kind, most, marks)
    return problems


def _spec(spec: Any, path: YamlPath, marks: Marks, approved: bool) -> list[Problem]:
    where = marks.value(path)
    if not isinstance(spec, dict):
        return [marks.problem(where, f"'{path[-1]}' should be a map with a content_sid", "write e.g. {content_sid: HX...}")]
    problems = [marks.problem(marks.key((*path, str(key))), f"unknown template setting '{key}'",
                              did_you_mean(str(key), list(SPEC_KEYS)) or f"use {', '.join(SPEC_KEYS)}")
                for key in spec if key not in SPEC_KEYS]
    sid = str(spec.get("content_sid") or "")
    if not CONTENT_SID.fullmatch(sid):
        problems.append(marks.problem(marks.value((*path, "content_sid")),
                                      f"'{sid}' is not a Twilio content SID" if sid else "a template needs its content_sid",
                                      "copy the SID from Twilio's Content Template Builder: HX and 32 letters and digits"))
    variables = spec.get("variables") or {}
    if not approved and variables:
        problems.append(marks.problem(marks.key((*path, "variables")), "Chorus fills this template's variables itself: these are not used",
                                      "take 'variables' away (1 is the question, then each option's title and id)", "warning"))
    elif isinstance(variables, dict):
        for key, value in variables.items():
            problems += _variable(str(key), "" if value is None else str(value), (*path, "variables", str(key)), marks)
    return problems


def _variable(key: str, value: str, path: YamlPath, marks: Marks) -> list[Problem]:
    if not value.strip():
        return [marks.problem(marks.value(path), f"variable {key} is empty: Twilio refuses an empty variable (error 21656)",
                              "give it {text}, {study} or words of your own")]
    unknown = [p for p in _PLACEHOLDER.findall(value) if p not in PLACEHOLDERS]
    if unknown:
        return [marks.problem(marks.value(path), f"variable {key} uses {unknown[0]}, which Chorus does not fill: "
                              "participants would get it as written", "use {text} (the message) or {study} (the study's title)")]
    return []


def _options(spec: Any, path: YamlPath, kind: str, most: int, marks: Marks) -> list[Problem]:
    if not isinstance(spec, dict):
        return []
    count = spec.get("options")
    name = "buttons" if kind == "quick_reply" else "items"
    if count is None:
        return [marks.problem(marks.value(path), f"say how many {name} this template has (options: n): Twilio shows the "
                              f"template's samples in {name} a question leaves unfilled",
                              "with options: n it is used for questions of n options only; list one template per count", "warning")]
    if isinstance(count, bool) or not isinstance(count, int) or not 1 <= count <= most:
        return [marks.problem(marks.value((*path, "options")), f"options should be a number of {name} from 1 to {most}",
                              f"WhatsApp shows at most {most} {name}")]
    return []
