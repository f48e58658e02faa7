"""A JSON Schema of the coordinator's language, generated from the pydantic models.

Editors that speak the YAML language server use it for completion and checking (the
example study names it with ``# yaml-language-server: $schema=...``). One schema covers
both kinds of file: a study (``study:`` at the top) or a flow (``flow:``), whose steps are
a ``oneOf`` discriminated by ``type`` over every registered step type.

The models accept friendlier shapes than their types say (``28d`` for a duration,
``"09:00-19:00"`` for a time window, a bare string for an option or a group, one ``next``
rule without a list); :func:`_friendly` rewrites the generated schema to match.
"""

from __future__ import annotations

import json
from typing import Annotated, Any, Union

from pydantic import Field, TypeAdapter, create_model

from flows.model import Flow, Study
from flows.steps import BUILT_IN, known_types, step_model

SCHEMA_ID = "https://chorus.invalid/chorus.schema.json"
DURATION = {
    "anyOf": [
        {
            "type": "string",
            "pattern": r"^\s*(\d+\s*w)?\s*(\d+\s*d)?\s*(\d+\s*h)?\s*(\d+\s*m)?\s*(\d+\s*s)?\s*$",
            "description": "e.g. 30m, 2h, 28d, 1w or 2h30m",
        },
        {"type": "number", "description": "seconds"},
    ]
}
WINDOW = {
    "type": "string",
    "pattern": r"^\s*\d{1,2}:\d{2}\s*-\s*\d{1,2}:\d{2}\s*$",
    "description": "a daily window such as 09:00-19:00; it may wrap past midnight",
}
PLAIN_ITEMS = {"Option": [{"type": "string"}, {"type": "number"}], "Group": [{"type": "string"}]}


def step_types() -> list[str]:
    """The built-in step types: those ``flows.steps.BUILT_IN`` loads for every process.
    A type registered only because some module happened to import it is left out, so the
    schema does not depend on what else was imported."""
    return [
        name for name in known_types() if step_model(name).__module__.rsplit(".", 1)[-1] in BUILT_IN
    ]


def _document_type() -> Any:
    """Study | Flow, with the flow's steps as a union discriminated by ``type``."""
    steps = tuple(step_model(name) for name in step_types())
    step = Annotated[Union[steps], Field(discriminator="type")]  # type: ignore[valid-type]  # noqa: UP007
    flow = create_model(
        "Flow",
        __base__=Flow,
        __doc__=Flow.__doc__ or "A flow: a conversation as a list of steps.",
        steps=(list[step], Field(min_length=1)),
    )  # type: ignore[call-overload]
    return Union[Study, flow]  # noqa: UP007


def json_schema() -> dict[str, Any]:
    schema = TypeAdapter(_document_type()).json_schema(mode="validation")
    schema = _friendly(schema)
    schema["oneOf"] = schema.pop("anyOf")
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": SCHEMA_ID,
        "title": "Chorus study or flow file",
        "description": "A study file (starts with 'study:') or a flow file (starts with 'flow:').",
        **schema,
    }


def _friendly(node: Any) -> Any:
    """Rewrite the generated schema to accept what the models' validators accept."""
    if isinstance(node, list):
        return [_friendly(item) for item in node]
    if not isinstance(node, dict):
        return node
    if node.get("format") == "duration" and node.get("type") == "string":
        return {key: value for key, value in DURATION.items()}
    if node.get("$ref") == "#/$defs/TimeWindow":
        return dict(WINDOW)
    node = {key: _friendly(value) for key, value in node.items()}
    ref = node.get("items", {}).get("$ref", "") if node.get("type") == "array" else ""
    name = ref.rsplit("/", 1)[-1]
    if name in PLAIN_ITEMS:
        node["items"] = {"anyOf": [*PLAIN_ITEMS[name], {"$ref": ref}]}
    properties = node.get("properties", {})
    properties.pop("waits_for_input", None)
    if "next" in properties:
        properties["next"]["anyOf"].insert(0, {"$ref": "#/$defs/NextRule"})
    if "reminders" in properties:
        properties["reminders"] = {
            "anyOf": [DURATION, {"type": "array", "items": DURATION}],
            "description": "reminders after the flow is sent, e.g. [2d, 5d]",
        }
    if "$defs" in node:
        node["$defs"].pop("TimeWindow", None)
    return node


def schema_text() -> str:
    """The schema as committed in ``chorus.schema.json``: stable key order, one final newline."""
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
