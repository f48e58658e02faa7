"""Statement voting: agree / disagree / pass in every form, one statement at a time, a
participant's own statement held for moderation and shown to others once approved, and
opinion groups recovered from votes cast through the engine."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from flows.analysis.records import votes_table
from flows.analysis.statements import analyse_statements
from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import SUBMISSION_ITEM, ItemRecord, PoolEntry, PopulationData
from flows.steps.base import Reply
from flows.steps.statements import read_vote

NOW = datetime(2030, 1, 1, tzinfo=UTC)
STATEMENTS = [
    "Visits should be at a set time.",
    "I would rather see any nurse soon.",
    "Carers are not given enough information.",
    "Video calls are fine for a check-up.",
    "Staff spend too long on paperwork.",
    "The service should run at weekends.",
]


def flow(per_session: int = 10) -> Flow:
    step = {"id": "views", "type": "statements", "text": "What do you think?", "statements": STATEMENTS, "per_session": per_session}
    return Flow.model_validate({"flow": "f", "steps": [step]})


class Voter:
    """One participant in the engine, recording item answers as the service would."""

    def __init__(self, pid: str, the_flow: Flow, population: PopulationData | None, seed: int = 0) -> None:
        self.pid, self.engine = pid, Engine(the_flow)
        self.population = population.view(pid) if population is not None else None
        self.records: list[ItemRecord] = []
        sprint = self.engine.start(NOW, seed=seed, population=self.population)
        self.state: SessionState = sprint.state
        self.said: list[SendMessage] = list(sprint.messages())

    def statement(self) -> str:
        prompt = [m for m in self.said if m.kind == "prompt"][-1]
        return next(line.strip('"') for line in prompt.text.splitlines() if line.startswith('"'))

    def send(self, text: str, button: str | None = None) -> list[RecordAnswer]:
        sprint = self.engine.handle(self.state, TextInput(text, button=button), NOW, population=self.population)
        self.state = sprint.state
        self.said += sprint.messages()
        recorded = [e for e in sprint.events if isinstance(e, RecordAnswer)]
        self.records += [ItemRecord(self.pid, "patient", e.step_id, e.item, e.value) for e in recorded if e.item]
        return recorded


@pytest.mark.parametrize(
    ("text", "vote"),
    [("A", 1), ("agree", 1), ("1", 1), ("yes", 1), ("👍", 1), ("👍🏽", 1), ("D", -1), ("disagree", -1), ("2", -1), ("no", -1),
     ("👎", -1), ("P", 0), ("pass", 0), ("3", 0), ("not sure", 0), ("banana", None), ("4", None)],
)
def test_votes_are_read_in_every_form(text: str, vote: int | None) -> None:
    assert read_vote(Reply(text)) == vote


def test_statements_come_one_at_a_time_never_twice_and_stop_at_per_session() -> None:
    voter = Voter("p1", flow(per_session=4), None)
    shown = []
    for reply in ["A", "D", "P", ("tap", "agree")]:
        shown.append(voter.statement())
        voter.send(*(("", reply[1]) if isinstance(reply, tuple) else (reply,)))
    assert len(set(shown)) == 4 and set(shown) <= set(STATEMENTS)
    assert [r.value for r in voter.records] == [1, -1, 0, 1]
    assert [r.item for r in voter.records] == shown
    assert voter.state.status == "ended"


def test_a_later_session_shows_only_statements_not_yet_voted_on() -> None:
    first = Voter("p1", flow(per_session=4), None)
    for _ in range(4):
        first.send("agree")
    later = Voter("p1", flow(per_session=4), PopulationData(first.records), seed=9)
    seen = {r.item for r in first.records}
    shown = []
    while later.state.status != "ended":
        shown.append(later.statement())
        later.send("disagree")
    assert sorted(shown) == sorted(set(STATEMENTS) - seen)


def test_a_submitted_statement_is_held_until_approved_then_shown_to_others() -> None:
    author = Voter("author", flow(), None)
    shown_before = author.statement()
    recorded = author.send("ADD Parking for carers should be free")
    assert [(e.item, e.value) for e in recorded] == [(SUBMISSION_ITEM, {"kind": "statement", "text": "Parking for carers should be free"})]
    assert "once a moderator has checked it" in author.said[-2].text
    assert author.statement() == shown_before  # the same statement is asked again
    assert author.send("ADD")[0:0] == [] and author.said[-1].text == "What's your statement? Send it as your next message."
    assert author.send("never mind")[0:0] == [] and author.statement() == shown_before

    pending = Voter("other", flow(per_session=10), PopulationData(author.records))
    while pending.state.status != "ended":
        assert "Parking" not in pending.statement()
        pending.send("pass")

    approved = PopulationData(author.records, {"views": [PoolEntry("sub-1", "Parking for carers should be free")]})
    reader = Voter("reader", flow(per_session=10), approved, seed=3)
    shown = []
    while reader.state.status != "ended":
        shown.append(reader.statement())
        reader.send("agree")
    assert "Parking for carers should be free" in shown and len(shown) == len(STATEMENTS) + 1
    assert ("sub-1", 1) in [(r.item, r.value) for r in reader.records]


def test_no_one_is_asked_to_vote_on_their_own_approved_statement() -> None:
    """Their vote would count in the opinion groups and the consensus: others vote, not the author."""
    own = PopulationData([], {"views": [PoolEntry("sub-1", "Parking for carers should be free", author="author")]})
    for pid, sees_it in (("author", False), ("reader", True)):
        voter = Voter(pid, flow(per_session=10), own, seed=3)
        shown = []
        while voter.state.status != "ended":
            shown.append(voter.statement())
            voter.send("agree")
        assert ("Parking for carers should be free" in shown) is sees_it, pid


def test_opinion_groups_are_found_in_votes_cast_through_the_engine() -> None:
    """Two camps disagree on the first four statements and all agree on the fifth; the last
    one splits people at random, whatever their camp."""
    rng = np.random.default_rng(1)
    camp_views = {0: [1, 1, -1, -1, 1, 0], 1: [-1, -1, 1, 1, 1, 0]}
    records: list[ItemRecord] = []
    for person in range(40):
        camp = person % 2
        voter = Voter(f"p{person}", flow(per_session=6), None, seed=person)
        while voter.state.status != "ended":
            index = STATEMENTS.index(voter.statement())
            view = camp_views[camp][index] if index < 5 else int(rng.integers(-1, 2))
            voter.send({1: "agree", -1: "disagree", 0: "pass"}[view])
        records += voter.records
    votes = votes_table(records)
    assert len(votes) == 240
    analysis = analyse_statements(votes)
    camps = [{int(str(p)[1:]) % 2 for p in g.members} for g in analysis.groups]
    assert len(camps) >= 2 and all(len(c) == 1 for c in camps), "an opinion group mixes the two camps"
    assert sum(g.size for g in analysis.groups) == 40
    assert analysis.consensus.iloc[0]["statement"] == STATEMENTS[4]


def test_a_statements_step_needs_statements_and_a_one_word_add_word() -> None:
    with pytest.raises(ValueError, match="at least one statement"):
        Flow.model_validate({"flow": "f", "steps": [{"id": "s", "type": "statements"}]})
    with pytest.raises(ValueError, match="one word"):
        Flow.model_validate({"flow": "f", "steps": [{"id": "s", "type": "statements", "statements": ["x"], "add_word": "add this"}]})
