"""The pairwise step's word for proposing an idea is Welsh in Welsh: "(Neu atebwch YCHWANEGU a
syniad eich hun.)", not ADD left in English. YCHWANEGU and ADD both propose an idea in Welsh;
a step's own add_word is shown as it is, in every language."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import SUBMISSION_ITEM

NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
IDEAS = ["Carer training", "Free parking", "Video check-ups"]


def start(language: str, **step: Any) -> tuple[Engine, SessionState, str]:
    flow = Flow.model_validate({"flow": "f", "steps": [{"id": "compare", "type": "pairwise", "ideas": IDEAS, "pairs": 3, **step}]})
    engine = Engine(flow)
    sprint = engine.start(NOW, language=language, seed=1)
    return engine, sprint.state, sprint.messages()[-1].text


def submitted(engine: Engine, state: SessionState, text: str) -> tuple[list[SendMessage], list[RecordAnswer]]:
    sprint = engine.handle(state, TextInput(text), NOW)
    return sprint.messages(), [e for e in sprint.events if isinstance(e, RecordAnswer) and e.item == SUBMISSION_ITEM]


def test_the_welsh_prompt_names_the_welsh_word() -> None:
    _, _, prompt = start("cy")
    assert "(Neu atebwch YCHWANEGU a syniad eich hun.)" in prompt and "ADD" not in prompt


@pytest.mark.parametrize("word", ["YCHWANEGU", "ychwanegu", "ADD"])
def test_either_word_proposes_an_idea_in_welsh(word: str) -> None:
    engine, state, _ = start("cy")
    said, ideas = submitted(engine, state, f"{word} Meinciau yn y coridor")
    assert [i.value for i in ideas] == [{"kind": "idea", "text": "Meinciau yn y coridor"}]
    assert said[0].text.startswith("Diolch. Bydd eich syniad yn ymuno â'r lleill")


def test_english_keeps_add() -> None:
    engine, state, prompt = start("en")
    assert "(Or reply ADD and an idea of your own.)" in prompt
    assert submitted(engine, state, "ADD Benches in the corridor")[1]


def test_a_steps_own_word_is_shown_in_every_language() -> None:
    engine, state, prompt = start("cy", add_word="SYNIAD")
    assert "(Neu atebwch SYNIAD a syniad eich hun.)" in prompt
    assert submitted(engine, state, "SYNIAD Meinciau")[1]
    assert not submitted(engine, state, "YCHWANEGU Meinciau")[1], "the built-in word only stands in for ADD"
