"""Delphi rounds as an exploratory tester found them: too many unclear replies leave only the
item asked (in every many-item step), small groups' results are kept out of the feedback, a
bare number given as a reason is asked again, and KEEP is offered and understood."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

import bot.population
from bot.population import delphi_chart
from flows.analysis.delphi import GroupResult, ItemFeedback, shown_feedback
from flows.analysis.scale import Scale
from flows.engine import Engine, Input, SessionState, Sprint, TextInput
from flows.events import AnswersWithdrawn, RaiseFlag, RecordAnswer
from flows.model import Flow
from flows.population import ItemRecord, PopulationData, RecordedPopulation, delphi_value

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
ITEMS = ["Same nurse each visit", "Visit times", "Parking"]
LEAVE = "Let's leave that one and move on."


class Chat:
    """One participant in the engine; keeps the latest state and every event."""

    def __init__(self, step: dict[str, Any], population: RecordedPopulation | None = None) -> None:
        flow = Flow.model_validate({"flow": "f", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]})
        self.engine, self.population = Engine(flow), population
        self.last: Sprint = self.engine.start(NOW, seed=1, population=population)
        self.state: SessionState = self.last.state

    def send(self, text: str, button: str | None = None) -> Sprint:
        given: Input = TextInput(text, button=button)
        self.last = self.engine.handle(self.state, given, NOW, population=self.population)
        self.state = self.last.state
        return self.last

    def texts(self, sprint: Sprint | None = None) -> list[str]:
        return [m.text for m in (sprint or self.last).messages()]

    def prompt(self) -> str:
        return [m.text for m in self.last.messages() if m.kind in ("prompt", "retry")][-1]


def records(sprint: Sprint) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer)]


def delphi(round_number: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": "rate", "type": "delphi", "delphi": "community", "round": round_number, "items": ITEMS, **extra}


def round_one(scores: dict[str, tuple[str, int]]) -> PopulationData:
    """Round 1 of the first item: participant -> (group, score)."""
    rows = [ItemRecord(pid, group, "rate", ITEMS[0], delphi_value("community", 1, score)) for pid, (group, score) in scores.items()]
    return PopulationData(rows, group_labels={"patient": "Patients", "staff": "Staff", "carer": "Carers"})


# ----------------------------------------------------------------------------- 1. max tries leave one item


def test_three_unclear_replies_to_the_first_item_leave_only_that_item() -> None:
    chat = Chat(delphi())
    chat.send("banana")
    chat.send("banana")
    sprint = chat.send("banana")
    texts = chat.texts(sprint)
    assert texts[0] == LEAVE
    assert texts[1].startswith("2/3: Visit times")
    assert records(sprint) == [RecordAnswer("rate", "", None, "", "text", skipped=True, item=ITEMS[0], path_position=1)]
    assert chat.state.step == "rate" and chat.state.status == "waiting"
    chat.send("8")
    done = chat.send("2")
    step_answer = [r for r in records(done) if r.item is None]
    assert step_answer[0].value == {"Visit times": 8, "Parking": 2} and step_answer[0].display == "2 of 3 rated"
    assert chat.texts(done) == ["Thanks."]


def test_too_many_unclear_replies_to_the_last_item_finish_the_round_with_the_scores_given() -> None:
    chat = Chat(delphi())
    chat.send("5")
    chat.send("6")
    for _ in range(3):
        sprint = chat.send("banana")
    assert chat.texts(sprint) == [LEAVE, "Thanks."]
    assert [(r.item, r.skipped, r.value) for r in records(sprint)] == [
        ("Parking", True, None), (None, False, {ITEMS[0]: 5, "Visit times": 6}),
    ]


def test_a_flagged_item_raises_a_flag_and_the_round_goes_on() -> None:
    chat = Chat(delphi(on_max_tries="flag"))
    for _ in range(3):
        sprint = chat.send("banana")
    assert [f.kind for f in sprint.events if isinstance(f, RaiseFlag)] == ["max_tries"]
    assert chat.prompt().startswith("2/3: Visit times")


def test_back_after_an_item_was_left_asks_it_again_and_withdraws_the_skip() -> None:
    chat = Chat(delphi())
    for _ in range(3):
        chat.send("banana")
    sprint = chat.send("back")
    assert [e for e in sprint.events if isinstance(e, AnswersWithdrawn)][0].items == (ITEMS[0],)
    assert chat.prompt().startswith(f"1/3: {ITEMS[0]}")


def test_a_pair_left_after_too_many_unclear_replies_is_followed_by_the_next_pair() -> None:
    chat = Chat({"id": "rate", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room"], "pairs": 2, "submissions": False})
    first = chat.prompt()
    for _ in range(3):
        sprint = chat.send("banana")
    left = records(sprint)
    assert len(left) == 1 and left[0].skipped and " vs " in str(left[0].item)
    assert chat.texts(sprint)[0] == LEAVE
    assert chat.state.step == "rate" and "A) " in chat.prompt() and chat.prompt() != first
    done = chat.send("A")
    assert [r.value for r in records(done) if r.item is None][0] == [records(done)[0].value]


def test_a_statement_left_after_too_many_unclear_replies_is_followed_by_the_next() -> None:
    chat = Chat({"id": "rate", "type": "statements", "statements": ["One", "Two", "Three"], "submissions": False})
    first = chat.prompt()
    for _ in range(3):
        sprint = chat.send("banana")
    assert [(r.item, r.skipped) for r in records(sprint)] == [(first.splitlines()[-1].strip('"'), True)]
    assert chat.state.step == "rate" and chat.prompt() != first


def test_a_choice_task_left_after_too_many_unclear_replies_is_followed_by_the_next() -> None:
    step = {"id": "rate", "type": "choice_experiment", "attributes": {"wait": [1, 2, 4], "who": ["GP", "nurse", "pharmacist"]},
            "alternatives": 2, "tasks": 4}
    chat = Chat(step)
    for _ in range(3):
        sprint = chat.send("banana")
    left = records(sprint)
    assert len(left) == 1 and left[0].skipped and str(left[0].item).startswith("task")
    assert chat.prompt().startswith("Choice 2 of 4")
    for _ in range(3):
        done = chat.send("A")
    assert [r.value for r in records(done) if r.item is None][0] == [None, "A", "A", "A"]


def test_a_ranking_picked_in_part_keeps_its_places_after_too_many_unclear_replies() -> None:
    chat = Chat({"id": "rate", "type": "rank", "options": ["Waits", "Updates", "Pain relief", "Seats"], "top": 3})
    picked = chat.send("Updates")  # place 1 is recorded with the reply that picked it
    assert [(r.item, r.value, r.raw) for r in records(picked)] == [("1", "Updates", "Updates")]
    for _ in range(3):
        sprint = chat.send("banana")
    assert [(r.item, r.value, r.skipped) for r in records(sprint)] == [(None, ["Updates"], False)]
    assert chat.texts(sprint) == [LEAVE, "Thanks."]


# ----------------------------------------------------------------------------- 2. small groups kept out


def test_a_group_of_one_is_left_out_of_the_feedback_and_so_is_one_that_would_give_it_away() -> None:
    population = round_one({"me": ("patient", 8), "p1": ("patient", 7), "p2": ("patient", 9), "s1": ("staff", 5)})
    chat = Chat(delphi(2), population.view("me"))
    text = chat.prompt()
    assert "Staff" not in text, "one staff member's score would be shown to everyone"
    assert "Patients" not in text, "everyone's figures less the patients' would give the staff member's away"
    assert "Everyone: 75% said 7-9 (median 7.5)." in text and "Last time you said 8." in text


def test_groups_large_enough_are_shown_beside_everyone() -> None:
    scores = {f"p{i}": ("patient", 8) for i in range(4)} | {f"s{i}": ("staff", 5) for i in range(3)} | {"c0": ("carer", 2)}
    chat = Chat(delphi(2), round_one(scores).view("p0"))
    text = chat.prompt()
    assert "Patients: 100% said 7-9 (median 8)." in text
    assert "Staff" not in text and "Carers" not in text, "staff left out too: else everyone less patients and staff is the carer"


def test_with_too_few_scores_overall_only_the_own_score_is_shown_and_keep_still_works() -> None:
    chat = Chat(delphi(2), round_one({"me": ("patient", 8), "s1": ("staff", 5)}).view("me"))
    text = chat.prompt()
    assert "Last time you said 8." in text and "Everyone" not in text and "%" not in text
    assert chat.last.messages()[-1].attachment is None
    recorded = records(chat.send("keep"))
    assert recorded[0].value["score"] == 8


def test_the_minimum_is_the_flows_to_set() -> None:
    population = round_one({"me": ("patient", 8), "s1": ("staff", 5)})
    chat = Chat(delphi(2, feedback_min_n=1), population.view("me"))
    assert "Staff: 0% said 7-9 (median 5)." in chat.prompt()
    assert chat.last.messages()[-1].attachment == {"kind": "delphi_chart", "delphi": "community", "item": ITEMS[0],
                                                  "round": 1, "language": "en", "min_n": 1}


def test_the_chart_draws_only_the_groups_the_text_shows(monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[ItemFeedback] = []

    def draw(feedback: ItemFeedback, texts: object) -> bytes:
        drawn.append(feedback)
        return b"png"

    monkeypatch.setattr(bot.population, "_chart", draw)
    scores = {f"p{i}": ("patient", 8) for i in range(5)} | {f"s{i}": ("staff", 5) for i in range(4)}
    scores |= {f"c{i}": ("carer", 2) for i in range(3)} | {"v0": ("volunteer", 1)}
    attachment = {"kind": "delphi_chart", "delphi": "community", "item": ITEMS[0], "round": 1}
    rule = Flow.model_validate({"flow": "f", "steps": [delphi(2)]}).steps[0].rule()  # type: ignore[attr-defined]
    assert delphi_chart(round_one(scores).view("p0"), attachment, rule) == b"png"
    assert [g.group for g in drawn[0].groups] == ["patient", "staff"]
    assert delphi_chart(round_one({"me": ("patient", 8)}).view("me"), attachment, rule) is None


def test_shown_feedback_leaves_out_the_smallest_groups_until_those_left_out_are_enough() -> None:
    def group(code: str, n: int) -> GroupResult:
        return GroupResult(code, n, 5.0, 50.0, (n,), code)

    feedback = ItemFeedback("A", 1, None, group("all", 15), (group("a", 10), group("b", 3), group("c", 1), group("d", 1)), Scale())
    assert [g.group for g in shown_feedback(feedback, 3).groups] == ["a"]
    assert [g.group for g in shown_feedback(feedback, 1).groups] == ["a", "b", "c", "d"]
    assert shown_feedback(feedback, 17).everyone is None


# ----------------------------------------------------------------------------- 3. a bare number as the reason


def test_a_bare_score_in_reply_to_why_is_asked_again_not_stored_as_the_reason() -> None:
    chat = Chat(delphi(ask_reason=True))
    chat.send("9")
    sprint = chat.send("8")
    assert records(sprint) == []
    assert chat.texts(sprint) == ["Please tell us in words why you gave 9, or reply NO to skip."]
    chat.send("no")
    assert chat.prompt().startswith("2/3: Visit times")
    assert [r.value["score"] for r in records(chat.send("6"))] == [6]
    said = records(chat.send("We waited 8 hours"))
    assert said[0].value == delphi_value("community", 1, 6, "We waited 8 hours")


def test_a_reason_question_asked_too_often_goes_on_without_a_reason() -> None:
    chat = Chat(delphi(ask_reason=True))
    chat.send("9")
    for _ in range(3):
        sprint = chat.send("8")
    assert chat.texts(sprint)[0] == LEAVE and chat.prompt().startswith("2/3: Visit times")
    assert records(sprint) == []


# ----------------------------------------------------------------------------- 4. KEEP


def test_the_round_two_hint_offers_keep_with_the_score_it_keeps() -> None:
    chat = Chat(delphi(2), round_one({"me": ("patient", 8), "p1": ("patient", 7), "p2": ("patient", 9)}).view("me"))
    sprint = chat.send("banana")
    assert chat.texts(sprint) == ["Please reply with a number from 1 to 9, KEEP for 8 again, or NOT SURE."]


def test_the_round_one_hint_does_not_offer_keep() -> None:
    chat = Chat(delphi())
    assert chat.texts(chat.send("banana")) == ["Please reply with a number from 1 to 9, or NOT SURE."]


@pytest.mark.parametrize("reply", ["keep it the same please", "same as before", "Same as last time, thanks", "keep", "no change"])
def test_keep_is_understood_in_the_words_people_use(reply: str) -> None:
    chat = Chat(delphi(2), round_one({"me": ("patient", 8), "p1": ("patient", 7), "p2": ("patient", 9)}).view("me"))
    assert [r.value["score"] for r in records(chat.send(reply))] == [8]


@pytest.mark.parametrize("reply", ["not the same", "the same as staff"])
def test_other_words_with_same_in_them_are_not_keep(reply: str) -> None:
    chat = Chat(delphi(2), round_one({"me": ("patient", 8), "p1": ("patient", 7), "p2": ("patient", 9)}).view("me"))
    assert records(chat.send(reply)) == []
