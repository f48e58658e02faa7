"""The pairwise step: replies in every form, "can't decide" recorded as a tie, pairs that
favour ideas with few comparisons (new, approved ideas included), and Bradley-Terry on
answers simulated through the engine recovering known preferences."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest
from scipy.stats import spearmanr

from flows.analysis.pairwise import score_items
from flows.analysis.records import comparisons
from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import SUBMISSION_ITEM, ItemRecord, PoolEntry, PopulationData

NOW = datetime(2030, 1, 1, tzinfo=UTC)
IDEAS = ["A named nurse", "Texts when the nurse is near", "Out of hours line", "Carer training", "Video check-ups", "Free parking"]


def flow(pairs: int = 5) -> Flow:
    step = {"id": "compare", "type": "pairwise", "text": "Which matters more to you?", "ideas": IDEAS, "pairs": pairs}
    return Flow.model_validate({"flow": "f", "steps": [step]})


class Chooser:
    def __init__(self, pid: str, the_flow: Flow, population: PopulationData | None = None, seed: int = 0) -> None:
        self.pid, self.engine = pid, Engine(the_flow)
        self.population = population.view(pid) if population is not None else None
        sprint = self.engine.start(NOW, seed=seed, population=self.population)
        self.state: SessionState = sprint.state
        self.said: list[SendMessage] = list(sprint.messages())
        self.records: list[ItemRecord] = []

    def pair(self) -> tuple[str, str]:
        prompt = [m for m in self.said if m.kind == "prompt"][-1]
        lines = {line[:3]: line[3:] for line in prompt.text.splitlines()}
        return lines["A) "], lines["B) "]

    def send(self, text: str, button: str | None = None) -> list[RecordAnswer]:
        sprint = self.engine.handle(self.state, TextInput(text, button=button), NOW, population=self.population)
        self.state = sprint.state
        self.said += sprint.messages()
        recorded = [e for e in sprint.events if isinstance(e, RecordAnswer)]
        self.records += [ItemRecord(self.pid, "patient", e.step_id, e.item, e.value) for e in recorded if e.item]
        return recorded


@pytest.mark.parametrize(("reply", "button", "picks"), [
    ("A", None, "A"), ("b", None, "B"), ("1", None, "A"), ("2", None, "B"), ("B)", None, "B"),
    ("", "A", "A"), ("", "tie", "tie"), ("can't decide", None, "tie"), ("Can't decide", None, "tie"), ("neither", None, "tie"),
])
def test_a_choice_is_read_in_every_form(reply: str, button: str | None, picks: str) -> None:
    chooser = Chooser("p", flow())
    a, b = chooser.pair()
    recorded = chooser.send(reply, button)
    value = next(e.value for e in recorded if e.item)
    expected = {"A": {"winner": a, "loser": b, "tie": False}, "B": {"winner": b, "loser": a, "tie": False},
                "tie": {"winner": a, "loser": b, "tie": True}}[picks]
    assert value == expected
    assert next(e.item for e in recorded if e.item) == f"{a} vs {b}"


def test_an_idea_named_in_words_is_picked() -> None:
    chooser = Chooser("p", flow())
    a, b = chooser.pair()
    recorded = chooser.send(f"definitely {b.lower()}")
    assert next(e.value for e in recorded if e.item)["winner"] == b


def test_a_session_asks_its_number_of_pairs_none_twice_then_moves_on() -> None:
    chooser = Chooser("p", flow(pairs=4))
    shown = []
    while chooser.state.status != "ended":
        shown.append(frozenset(chooser.pair()))
        chooser.send("A")
    assert len(shown) == 4 == len(set(shown))
    assert [e for e in chooser.records if e.item != SUBMISSION_ITEM] == chooser.records


def test_an_unclear_reply_gets_a_hint_and_an_idea_can_be_added() -> None:
    chooser = Chooser("p", flow())
    before = chooser.pair()
    assert chooser.send("hmm") == [] and "Please reply A, B or 'Can't decide'." in chooser.said[-1].text
    recorded = chooser.send("ADD A quiet room for children")
    assert [(e.item, e.value) for e in recorded] == [(SUBMISSION_ITEM, {"kind": "idea", "text": "A quiet room for children"})]
    assert chooser.pair() == before


def test_pairs_favour_ideas_compared_least_and_approved_new_ideas_join() -> None:
    many = [ItemRecord(f"o{i}", "staff", "compare", "x", {"winner": IDEAS[i % 4], "loser": IDEAS[(i + 1) % 4], "tie": False}) for i in range(40)]
    new = "A quiet room for children"
    data = PopulationData(many, {"compare": [PoolEntry("sub-7", new)]})
    second_pairs = []
    for seed in range(8):
        chooser = Chooser("p", flow(), data, seed=seed)
        assert new not in chooser.pair()  # the first pair comes from the flow's own ideas
        chooser.send("A")
        second_pairs.append(set(chooser.pair()))
        recorded = chooser.send("B")
        if new in second_pairs[-1]:
            assert any(e.item and "sub-7" in e.item for e in recorded)
    assert all(pair <= {"Video check-ups", "Free parking", new} for pair in second_pairs)
    assert any(new in pair for pair in second_pairs)


def test_scores_from_answers_through_the_engine_recover_known_preferences() -> None:
    strength = dict(zip(IDEAS, [2.0, 1.2, 0.6, 0.0, -0.6, -1.5], strict=True))
    rng = np.random.default_rng(4)
    records: list[ItemRecord] = []
    for person in range(70):
        chooser = Chooser(f"p{person}", flow(pairs=5), PopulationData(list(records)), seed=person)
        while chooser.state.status != "ended":
            a, b = chooser.pair()
            gap = strength[a] - strength[b]
            if abs(gap) < 0.7 and rng.random() < 0.2:
                chooser.send("can't decide")
            else:
                chooser.send("A" if rng.random() < 1 / (1 + np.exp(-gap)) else "B")
        records += chooser.records
    found = comparisons(records)
    assert len(found) == 350 and any(c.tie for _, c in found)
    counts = {idea: sum(idea in (c.winner, c.loser) for _, c in found) for idea in IDEAS}
    assert max(counts.values()) - min(counts.values()) <= 0.25 * np.mean(list(counts.values()))
    scores = {s.item: s for s in score_items([c for _, c in found], IDEAS)}
    rho = spearmanr([strength[i] for i in IDEAS], [scores[i].score for i in IDEAS]).statistic
    assert rho > 0.9
    assert all(s.low <= s.score <= s.high for s in scores.values())
    assert max(scores, key=lambda i: scores[i].score) == "A named nurse"
