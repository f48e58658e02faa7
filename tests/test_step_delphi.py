"""The Delphi step: a complete three-round Delphi run through the engine by simulated
participants in two groups, with the feedback they are shown checked against the
analysis, plus batches, reasons, "unsure" and "keep"."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from flows.analysis.delphi import ConsensusRule, feedback_for, feedback_text, summarise
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.loader import load_flow
from flows.model import Flow
from flows.population import ItemRecord, PopulationData
from flows.steps.base import StepContext
from flows.steps.delphi import DelphiStep

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
ITEMS = ["Same nurse each visit", "Visit times", "Out of hours help", "Carer support", "Less paperwork", "Parking"]
LABELS = {"patient": "Patients", "staff": "Staff"}
# Each group's typical score per item: an item everyone rates critical (agreed in round 1),
# one everyone rates unimportant, and items on which the groups start apart.
TYPICAL = {
    "patient": {"Same nurse each visit": 8, "Visit times": 8, "Out of hours help": 6, "Carer support": 7, "Less paperwork": 4, "Parking": 2},
    "staff": {"Same nurse each visit": 8, "Visit times": 5, "Out of hours help": 6, "Carer support": 5, "Less paperwork": 8, "Parking": 2},
}


def delphi_flow(round_number: int) -> Flow:
    step = {"id": "rate", "type": "delphi", "delphi": "community", "round": round_number, "items": ITEMS,
            "batch": 4, "drop_consensus": True, "text": "Please score each of these."}
    return Flow.model_validate({"flow": f"round{round_number}", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]})


@dataclass
class Participant:
    id: str
    group: str
    rng: np.random.Generator
    scores: dict[tuple[int, str], int | None] = field(default_factory=dict)
    seen: list[tuple[int, SendMessage]] = field(default_factory=list)

    def score(self, round_number: int, item: str, text: str) -> str:
        """Round 1: near the group's typical score. Later: move halfway to everyone's median."""
        if round_number == 1:
            value = int(np.clip(TYPICAL[self.group][item] + self.rng.integers(-1, 2), 1, 9))
            if self.rng.random() < 0.05:
                self.scores[(1, item)] = None
                return "not sure"
        else:
            median = float(re.search(r"Everyone: \d+% said 7-9 \(median ([\d.]+)\)", text).group(1))  # type: ignore[union-attr]
            own = self.scores.get((round_number - 1, item))
            if own is None:
                value = int(round(median))
            elif self.rng.random() < 0.2:
                self.scores[(round_number, item)] = own
                return "keep"
            else:
                value = int(round(own + (median - own) / 2))
        self.scores[(round_number, item)] = value
        return str(value)


def _item_of(text: str) -> str:
    found = re.search(r"^\d+/\d+: (.+)$", text, re.MULTILINE)
    assert found, f"no item in {text!r}"
    return found.group(1)


def run_round(round_number: int, people: list[Participant], records: list[ItemRecord]) -> dict[str, list[str]]:
    """Every participant rates every item offered; the item records are appended. Returns
    the items each participant was asked, in order."""
    engine = Engine(delphi_flow(round_number))
    data = PopulationData(list(records), group_labels=LABELS)
    asked: dict[str, list[str]] = {}
    for number, person in enumerate(people):
        population = data.view(person.id)
        sprint = engine.start(NOW, fields={"group": person.group}, seed=number, population=population)
        state, asked[person.id] = sprint.state, []
        for _ in range(40):
            prompt = [m for m in sprint.messages() if m.kind == "prompt"][-1]
            person.seen.append((round_number, prompt))
            if "Reply NEXT" in prompt.text:
                reply = "next"
            else:
                item = _item_of(prompt.text)
                asked[person.id].append(item)
                reply = person.score(round_number, item, prompt.text)
            sprint = engine.handle(state, TextInput(reply), NOW, population=population)
            state = _record(sprint, person, records)
            if state.status == "ended":
                break
        assert state.status == "ended" and state.outcome == "completed"
    return asked


def _record(sprint: Sprint, person: Participant, records: list[ItemRecord]) -> SessionState:
    for event in sprint.events:
        if isinstance(event, RecordAnswer) and event.item is not None:
            records.append(ItemRecord(person.id, person.group, event.step_id, event.item, event.value))
    return sprint.state


def _ratings(people: list[Participant], round_number: int) -> pd.DataFrame:
    """The simulation's own note of what it answered, independent of what the step recorded."""
    rows = [
        {"participant": p.id, "group": p.group, "round": r, "item": item, "score": np.nan if s is None else s}
        for p in people for (r, item), s in p.scores.items() if r == round_number
    ]
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def delphi_run() -> tuple[list[Participant], list[ItemRecord], list[dict[str, list[str]]]]:
    rng = np.random.default_rng(7)
    people = [Participant(f"p{i:02d}", "patient" if i < 20 else "staff", np.random.default_rng(rng.integers(1 << 30))) for i in range(30)]
    records: list[ItemRecord] = []
    asked = [run_round(r, people, records) for r in (1, 2, 3)]
    return people, records, asked


def test_three_rounds_record_every_rating_with_its_round(delphi_run: tuple) -> None:
    people, records, _ = delphi_run
    recorded = pd.DataFrame([{"participant": r.participant, "round": r.value["round"], "item": r.item, "score": r.value["score"]} for r in records])
    for round_number in (1, 2, 3):
        expected = _ratings(people, round_number).sort_values(["participant", "item"]).reset_index(drop=True)
        got = recorded[recorded["round"] == round_number].sort_values(["participant", "item"]).reset_index(drop=True)
        assert len(got) == len(expected) > 0
        assert got["item"].tolist() == expected["item"].tolist()
        assert np.allclose(got["score"].astype(float), expected["score"].astype(float), equal_nan=True)


def test_items_agreed_in_a_round_leave_the_next(delphi_run: tuple) -> None:
    people, _, asked = delphi_run
    first = summarise(_ratings(people, 1))
    agreed = set(first[(first["group"] == "all") & (first["consensus"] != "none")]["item"])
    assert {"Same nurse each visit", "Parking"} <= agreed
    assert all(items == ITEMS for items in asked[0].values())
    for items in asked[1].values():
        assert items == [i for i in ITEMS if i not in agreed]
    second = summarise(_ratings(people, 2))
    agreed |= set(second[(second["group"] == "all") & (second["consensus"] != "none")]["item"])
    for items in asked[2].values():
        assert items == [i for i in ITEMS if i not in agreed]


def test_from_round_two_each_item_shows_own_score_and_the_groups_results(delphi_run: tuple) -> None:
    people, _, _ = delphi_run
    summaries = {r: summarise(_ratings(people, r)) for r in (1, 2)}
    checked = 0
    for person in people:
        for round_number, message in person.seen:
            item = _item_of_or_none(message)
            if item is None:
                continue
            if round_number == 1:
                assert "Last time" not in message.text and message.attachment is None
                continue
            own = person.scores.get((round_number - 1, item))
            expected = feedback_text(feedback_for(summaries[round_number - 1], item, round_number - 1, own, LABELS))
            assert expected in message.text
            assert ("Last time you said" in message.text) == (own is not None)
            assert "Patients:" in message.text and "Staff:" in message.text
            checked += 1
    assert checked > 60


def _item_of_or_none(message: SendMessage) -> str | None:
    found = re.search(r"^\d+/\d+: (.+)$", message.text, re.MULTILINE)
    return found.group(1) if found else None


def test_feedback_brings_the_groups_together(delphi_run: tuple) -> None:
    people, _, _ = delphi_run
    spread = [summarise(_ratings(people, r)).query("group == 'all' and item == 'Carer support'")["iqr"].iloc[0] for r in (1, 2)]
    assert spread[1] < spread[0]


def test_a_round_two_prompt_names_a_chart_of_the_previous_round() -> None:
    records = [ItemRecord(f"p{i}", "staff", "rate", ITEMS[0], {"delphi": "community", "round": 1, "score": 3 + i % 5}) for i in range(10)]
    step = delphi_flow(2).steps[0]
    assert isinstance(step, DelphiStep)
    ctx = StepContext("en", "en", lambda t: t if isinstance(t, str) else "", population=PopulationData(records).view("p4"))
    prompt = step.prompt(ctx)
    assert prompt.attachment == {"kind": "delphi_chart", "delphi": "community", "item": ITEMS[0], "round": 1, "language": "en"}
    assert "Last time you said 7." in prompt.text
    assert "Keep 7" in [b.label for b in prompt.buttons]
    assert step.prompt(StepContext("en", "en", lambda t: str(t))).attachment is None


def _chat(flow: Flow, replies: list[str]) -> tuple[list[str], list[RecordAnswer], SessionState]:
    engine = Engine(flow)
    sprint = engine.start(NOW)
    state, said, recorded = sprint.state, [m.text for m in sprint.messages()], []
    for reply in replies:
        sprint = engine.handle(state, TextInput(reply), NOW)
        state = sprint.state
        said += [m.text for m in sprint.messages()]
        recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
    return said, recorded, state


def test_batches_pause_for_next_and_reasons_are_asked_only_for_extreme_scores() -> None:
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "rate", "type": "delphi", "items": ["A", "B", "C", "D", "E"], "batch": 2, "ask_reason": "extreme"},
    ]})
    said, recorded, state = _chat(flow, ["9", "It matters most", "5", "next", "1", "no", "unsure", "ok", "4"])
    assert any("That's 2 of 5. Reply NEXT for 2 more" in s for s in said)
    assert sum("Why did you give that score?" in s for s in said) == 2
    items = [(e.item, e.value["score"], e.value.get("reason")) for e in recorded if e.item]
    assert items == [("A", 9, None), ("A", 9, "It matters most"), ("B", 5, None), ("C", 1, None), ("D", None, None), ("E", 4, None)]
    final = [e for e in recorded if e.item is None][-1]
    assert final.value == {"A": 9, "B": 5, "C": 1, "D": None, "E": 4}
    assert state.status == "ended"


def test_a_score_typed_at_the_pause_is_not_taken_as_next_nor_given_to_the_next_item() -> None:
    """At 'Reply NEXT for 2 more' a participant typing on ('3') has not seen the next item yet:
    the number is not lost as NEXT, nor stored for an item it was not meant for; NEXT is asked."""
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "rate", "type": "delphi", "items": ["A", "B", "C", "D"], "batch": 2},
    ]})
    said, recorded, state = _chat(flow, ["1", "9", "3", "next", "7", "5"])
    assert said.count("Reply LATER to stop for now, or NEXT to carry on.") == 1
    items = [(e.item, e.value["score"]) for e in recorded if e.item]
    assert items == [("A", 1), ("B", 9), ("C", 7), ("D", 5)]
    assert state.status == "ended"


def test_the_last_items_reason_is_recorded_and_a_no_ends_the_round() -> None:
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "rate", "type": "delphi", "items": ["A", "B"], "ask_reason": True},
        {"id": "bye", "type": "end", "text": "Thanks."},
    ]})
    said, recorded, state = _chat(flow, ["1", "why not", "9", "It matters most"])
    reasons = [(e.item, e.value.get("reason")) for e in recorded if e.item and e.value.get("reason")]
    assert reasons == [("A", "why not"), ("B", "It matters most")], "the last item's reason is not lost"
    assert state.status == "ended" and said[-1] == "Thanks."
    said, recorded, state = _chat(flow, ["1", "no", "9", "no"])
    assert not any("NEXT to carry on" in s for s in said), "'no' to the last reason question is no reason, not 'stop'"
    assert state.status == "ended" and [e.value["score"] for e in recorded if e.item] == [1, 9]


def test_a_one_is_a_score_not_unsure_and_nonsense_gets_a_hint() -> None:
    flow = Flow.model_validate({"flow": "f", "steps": [{"id": "rate", "type": "delphi", "items": ["A", "B"]}]})
    said, recorded, _ = _chat(flow, ["1", "purple", "10", "seven"])
    assert [e.value["score"] for e in recorded if e.item] == [1, 7]
    assert said.count("Please reply with a number from 1 to 9, or NOT SURE.") == 2


def test_a_custom_scale_and_consensus_rule_are_used() -> None:
    step = DelphiStep.model_validate({
        "id": "r", "type": "delphi", "items": ["A"], "scale": {"min": 1, "max": 5, "low": "1-2", "high": "4-5", "high_label": "vital"},
        "consensus": {"agree_pct": 80, "per_group": True},
    })
    assert step.rule() == ConsensusRule(step.scale.analysis(), 80.0, 15.0, True, 1)
    text = step.prompt(StepContext("en", "en", lambda t: str(t))).text
    assert "4-5 vital" in text and "3 important but not critical" in text


def test_items_can_come_from_a_file_next_to_the_flow(tmp_path: Path) -> None:
    (tmp_path / "items.txt").write_text("# a comment\nFirst item\n\nSecond item\n", encoding="utf-8")
    (tmp_path / "flow.yaml").write_text(yaml.safe_dump({"flow": "f", "steps": [{"id": "rate", "type": "delphi", "items_file": "items.txt"}]}), encoding="utf-8")
    loaded = load_flow(tmp_path / "flow.yaml")
    step = loaded.flow.steps[0]
    assert isinstance(step, DelphiStep) and [i.id for i in step.items] == ["First item", "Second item"]
    assert loaded.raw["steps"][0]["items"] == ["First item", "Second item"]  # published with the flow
    (tmp_path / "flow.yaml").write_text("flow: f\nsteps:\n  - id: rate\n    type: delphi\n    items_file: nope.txt\n", encoding="utf-8")
    from flows.loader import read_flow

    _, problems = read_flow(tmp_path / "flow.yaml")
    assert any("items_file 'nope.txt' not found" in p.message and (p.line, p.column) == (5, 17) for p in problems)
