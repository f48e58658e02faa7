"""A number's unit can be written per language (``unit: {en: nappies, cy: cewynnau}``). A unit
of the study's own ('nappies', 'hours a week') used to be said back in English to a Welsh
participant ("6 nappies"); common units were translated, the study's own never. Replies are
still read in the English unit ('2 wythnos' at 'days' is 14), validate's '14 weeks weeks' check
reads each language's unit, and the codebook names the unit in the language it is for."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.model import Flow
from flows.steps.number import NumberStep
from flows.validate import validate_paths
from tests.engine_chat import RecordingChat


def counted(unit: Any) -> dict[str, Any]:
    return {"id": "q", "type": "number", "text": {"en": "How many?", "cy": "Sawl un?"}, "unit": unit, "min": 0, "max": 100}


@pytest.mark.parametrize(("language", "reply", "shown"), [
    ("cy", "6", "6 cewynnau"), ("cy", "tua 6", "6 cewynnau"), ("en", "6", "6 nappies"), ("en", "1", "1 nappy"),
])
def test_the_unit_is_said_back_as_the_study_wrote_it_for_that_language(language: str, reply: str, shown: str) -> None:
    chat = RecordingChat(counted({"en": "nappies", "cy": "cewynnau"}), language=language)
    chat.send(reply)
    assert [(answer.value, answer.display) for answer in chat.recorded] == [(int(shown.split()[0]), shown)]


def test_replies_are_read_in_the_english_unit_whatever_the_language() -> None:
    chat = RecordingChat(counted({"en": "days", "cy": "o ddyddiau"}), language="cy")
    chat.send("2 wythnos")
    assert [(answer.value, answer.display) for answer in chat.recorded] == [(14, "14 o ddyddiau")]


def test_a_language_the_unit_does_not_name_falls_back_to_english_and_its_welsh_words() -> None:
    chat = RecordingChat(counted({"en": "hours"}), language="cy")
    chat.send("6")
    assert [answer.display for answer in chat.recorded] == ["6 awr"]
    assert NumberStep.model_validate(counted({"cy": "oriau"})).unit_in("en") == "oriau", "the only one written"


def test_validate_reads_each_languages_unit_for_a_unit_said_twice(tmp_path: Path) -> None:
    flow = {"flow": "f", "steps": [counted({"en": "nappies", "cy": "cewynnau"}) | {"id": "n"},
                                   {"id": "bye", "type": "end", "text": {"en": "So {{ answers.n }} nappies.",
                                                                         "cy": "Felly {{ answers.n }} cewynnau."}}]}
    Flow.model_validate(flow)
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump(flow, allow_unicode=True), encoding="utf-8")
    problems = validate_paths([path])[0]
    said = sorted(p.message for p in problems if "already" in p.message)
    assert said == ["'answers.n' is shown with its unit already ('14 cewynnau'), so this reads '14 cewynnau cewynnau'",
                    "'answers.n' is shown with its unit already ('14 nappies'), so this reads '14 nappies nappies'"]
