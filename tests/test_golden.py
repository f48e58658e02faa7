"""Golden conversations: for each example flow, participant inputs and the bot's expected
messages, replayed through the engine. Regenerate with ``scripts/test --update-golden``
(or ``pytest tests/test_golden.py --update-golden``) and review the diff."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.chat import open_target, replay

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = Path(__file__).parent / "golden"
EXAMPLES = ROOT / "flows" / "examples"


class _LiteralDumper(yaml.SafeDumper):
    """Multi-line messages as readable ``|`` blocks."""


_LiteralDumper.add_representer(
    str,
    lambda dumper, text: dumper.represent_scalar("tag:yaml.org,2002:str", text, style="|" if "\n" in text else None),
)


def _example_flows() -> list[tuple[Path, str]]:
    found = []
    for study_file in sorted(EXAMPLES.glob("*/study.yaml")):
        target = open_target(study_file.parent)
        found += [(study_file.parent, flow_id) for flow_id in target.flows]
    return found


def _golden_file(study_dir: Path, flow_id: str) -> Path:
    return GOLDEN / study_dir.name / f"{flow_id}.yaml"


def _transcript(study_dir: Path, flow_id: str, conversation: dict[str, Any]) -> list[dict[str, str]]:
    target = open_target(study_dir, flow_id)
    pairs = replay(target, conversation["inputs"], conversation.get("language"), conversation.get("group"))
    return [{who: text} for who, text in pairs]


@pytest.mark.parametrize(("study_dir", "flow_id"), _example_flows(), ids=lambda v: getattr(v, "name", v))
def test_example_flow_matches_its_golden_conversations(study_dir: Path, flow_id: str, request: pytest.FixtureRequest) -> None:
    path = _golden_file(study_dir, flow_id)
    assert path.exists(), f"no golden conversations for {study_dir.name}/{flow_id}: write {path} with inputs"
    golden = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert golden["conversations"], f"{path} has no conversations"
    if request.config.getoption("--update-golden"):
        for conversation in golden["conversations"]:
            conversation["transcript"] = _transcript(study_dir, flow_id, conversation)
        path.write_text(yaml.dump(golden, Dumper=_LiteralDumper, allow_unicode=True, sort_keys=False, width=100), encoding="utf-8")
        return
    for conversation in golden["conversations"]:
        expected = conversation.get("transcript")
        assert expected, f"{path}: '{conversation['name']}' has no transcript; run with --update-golden"
        assert _transcript(study_dir, flow_id, conversation) == expected, conversation["name"]
