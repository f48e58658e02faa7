"""`chorus schema`: the JSON Schema editors use, generated from the models and committed."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import jsonschema
import pytest
import yaml
from click.testing import CliRunner

from bot.commands.validate import register
from flows.schema import json_schema, schema_text, step_types

ROOT = Path(__file__).resolve().parent.parent
COMMITTED = ROOT / "chorus.schema.json"


@pytest.fixture(scope="module")
def validator() -> jsonschema.Draft202012Validator:
    schema = json_schema()
    jsonschema.Draft202012Validator.check_schema(schema)
    return jsonschema.Draft202012Validator(schema)


def _as_editor_sees(path: Path) -> Any:
    """YAML as JSON: keys and dates become strings, as the YAML language server reads them."""
    return json.loads(json.dumps(yaml.safe_load(path.read_text(encoding="utf-8")), default=str))


def test_the_committed_schema_is_the_generated_one() -> None:
    assert COMMITTED.read_text(encoding="utf-8") == schema_text(), (
        "run: chorus schema > chorus.schema.json"
    )


def test_the_schema_command_prints_the_generated_schema() -> None:
    @click.group()
    def root() -> None:
        pass

    register(root)
    result = CliRunner().invoke(root, ["schema"])
    assert result.exit_code == 0
    assert result.output == schema_text()


def test_every_example_file_is_valid_against_the_schema(
    example_study_path: Path, validator: jsonschema.Draft202012Validator
) -> None:
    files = sorted(example_study_path.glob("*.yaml"))
    assert len(files) == 5
    for path in files:
        errors = [error.message for error in validator.iter_errors(_as_editor_sees(path))]
        assert errors == [], f"{path.name}: {errors}"


def test_the_schema_has_one_step_definition_per_step_type() -> None:
    steps = json_schema()["$defs"]["Flow"]["properties"]["steps"]["items"]
    assert sorted(steps["discriminator"]["mapping"]) == sorted(step_types())
    assert len(steps["oneOf"]) == len(step_types())


def test_the_schema_rejects_unknown_step_types_and_keys_but_accepts_friendly_shapes(
    validator: jsonschema.Draft202012Validator,
) -> None:
    step = {
        "id": "a",
        "type": "choice",
        "text": "Pick",
        "options": ["One", {"value": "two", "label": {"en": "Two"}}],
    }
    flow = {
        "flow": "f",
        "steps": [step | {"next": {"goto": "a", "if": "answer == 'One'"}, "timeout": "2h30m"}],
    }
    assert validator.is_valid(flow)
    assert not validator.is_valid({"flow": "f", "steps": [step | {"type": "choise"}]})
    assert not validator.is_valid({"flow": "f", "steps": [step | {"txt": "Pick"}]})
    assert not validator.is_valid({"flow": "f", "steps": [step | {"timeout": "soon"}]})
    study = {
        "study": "s",
        "title": "S",
        "quiet_hours": "21:00-08:00",
        "groups": ["staff"],
        "join": {"start_flow": "f"},
    }
    assert validator.is_valid(study)
    assert not validator.is_valid(study | {"quiet_hours": {"start": "21:00"}})
