"""The rank step, answered in every form: numbers, letters, option words, one tap at a time."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import numpy as np
import pandas as pd
import pytest

from flows.analysis.ranking import analyse_rankings
from flows.analysis.records import rankings_table
from flows.engine import Engine, Sprint, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import ItemRecord

NOW = datetime(2030, 1, 1, tzinfo=UTC)
OPTIONS = [
    {"value": "waits", "label": "Shorter waits"},
    {"value": "informed", "label": {"en": "Being kept informed", "cy": "Cael gwybod"}},
    {"value": "pain", "label": "Pain relief"},
    {"value": "comfort", "label": "A comfortable place to wait"},
]


def flow(top: int | None = None, options: list | None = None) -> Flow:
    step: dict[str, Any] = {"id": "matters", "type": "rank", "text": "Put these in order", "options": options or OPTIONS}
    if top is not None:
        step["top"] = top
    return Flow.model_validate({"flow": "f", "steps": [step]})


def answer(the_flow: Flow, *replies: str | tuple[str, str], language: str = "en") -> tuple[list[SendMessage], list[RecordAnswer]]:
    engine = Engine(the_flow)
    sprint: Sprint = engine.start(NOW, language=language)
    state, said, recorded = sprint.state, list(sprint.messages()), []
    for reply in replies:
        given = TextInput(reply[1], button=reply[1], source="button") if isinstance(reply, tuple) else TextInput(reply)
        sprint = engine.handle(state, given, NOW)
        state = sprint.state
        said += sprint.messages()
        recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
    return said, recorded


def final(recorded: list[RecordAnswer]) -> object:
    answers = [e.value for e in recorded if e.item is None]
    assert answers, "the step was not answered"
    return answers[-1]


@pytest.mark.parametrize(
    ("replies", "expected"),
    [
        (["3 1 2 4"], ["pain", "waits", "informed", "comfort"]),
        (["3 1 2"], ["pain", "waits", "informed", "comfort"]),
        (["3,1,2"], ["pain", "waits", "informed", "comfort"]),
        (["C, A, D"], ["pain", "waits", "comfort", "informed"]),
        (["pain relief, shorter waits, being kept informed"], ["pain", "waits", "informed", "comfort"]),
        (["Pain relief", "1", "2"], ["pain", "waits", "informed", "comfort"]),
        (["C, A", "comfortable place"], ["pain", "waits", "comfort", "informed"]),
    ],
)
def test_a_full_ranking_is_understood_in_every_typed_form(replies: list[str], expected: list[str]) -> None:
    _, recorded = answer(flow(), *replies)
    assert final(recorded) == expected


def test_tapping_one_option_at_a_time_asks_for_the_next_until_the_top_k_are_placed() -> None:
    said, recorded = answer(flow(top=3), ("tap", "informed"), ("tap", "pain"), ("tap", "comfort"))
    prompts = [m for m in said if m.kind == "prompt"]
    assert len(prompts) == 3
    assert prompts[1].text.startswith("Next most important? (So far: Being kept informed)")
    assert [(b.label, b.value) for b in prompts[1].buttons] == [("Shorter waits", "1"), ("Pain relief", "3"), ("A comfortable place to wait", "4")]
    assert [b.value for b in prompts[2].buttons] == ["1", "4"]
    assert final(recorded) == ["informed", "pain", "comfort"]
    per_place = [(e.item, e.value) for e in recorded if e.item is not None]
    assert per_place == [("1", "informed"), ("2", "pain"), ("3", "comfort")]


def test_typed_numbers_after_a_tap_keep_meaning_the_options_first_shown() -> None:
    _, recorded = answer(flow(top=2), ("tap", "waits"), "2")
    assert final(recorded) == ["waits", "informed"]


def test_top_k_takes_the_first_k_of_a_longer_answer_and_labels_in_any_language() -> None:
    _, recorded = answer(flow(top=2), "cael gwybod, pain relief, shorter waits", language="cy")
    assert final(recorded) == ["informed", "pain"]


def test_an_unclear_ranking_gets_a_hint_and_changes_nothing() -> None:
    said, recorded = answer(flow(), "whatever you think", "5 6")
    retries = [m.text for m in said if m.kind == "retry"]
    assert len(retries) == 2 and all("in order" in text for text in retries)
    assert recorded == []


def test_a_step_with_top_above_the_number_of_options_is_refused() -> None:
    with pytest.raises(ValueError, match="top is 5 but there are only 4 options"):
        flow(top=5)


def test_rankings_recorded_through_the_engine_recover_a_known_order() -> None:
    """Simulated participants rank by noisy utilities; Plackett-Luce on the recorded answers
    puts the options back in their true order."""
    truth = {"waits": 2.0, "informed": 1.0, "pain": 0.0, "comfort": -1.0}
    rng = np.random.default_rng(3)
    records: list[ItemRecord] = []
    letters = {v: "ABCD"[i] for i, v in enumerate(truth)}
    for person in range(60):
        noisy = sorted(truth, key=lambda v: -(truth[v] + rng.gumbel()))
        reply = ", ".join(letters[v] for v in noisy[:3])
        _, recorded = answer(flow(top=3), reply)
        records += [ItemRecord(f"p{person}", "patient", "matters", e.item, e.value) for e in recorded if e.item]
    table = rankings_table(records)
    assert len(table) == 180 and set(table["position"]) == {1, 2, 3}
    result = analyse_rankings(table, list(truth), n_boot=20)
    overall = result[result["group"] == "all"]
    assert list(overall["option"]) == list(truth)
    assert isinstance(overall, pd.DataFrame)
