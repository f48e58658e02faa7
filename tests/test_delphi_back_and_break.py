"""BACK into a many-part step from the question after it, and scores typed at a Delphi's pause
between batches, as exploratory testers found them.

BACK at the question right after a Delphi round (a ranking, say) went back to the round's first
item and withdrew every score, so a participant who only meant to change the last score had the
whole round to do again, and the correction they typed became item 1's score. It now goes back
to the last item (a pair, a statement, a pick: the last part), withdrawing only that part's
answers; a further BACK goes through the parts before. Scores typed at "Reply NEXT for 3 more"
ask NEXT or LATER again without using a try, so they never leave the rest of the round unasked.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flows.engine import Engine, Input, SessionState, Sprint, TextInput
from flows.events import AnswersWithdrawn, RecordAnswer
from flows.model import Flow

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
ITEMS = ["Same nurse each visit", "Visit times", "Parking"]
RANKING = {"id": "fix", "type": "rank", "text": "What should we fix first?", "options": ["waits", "phone", "nurse", "carers"],
           "top": 3}
OPEN = {"id": "why", "type": "open", "text": "Anything else?"}
LEAVE = "Let's leave that one and move on."


class Chat:
    """One participant in the engine. The state goes through JSON between messages, as the
    service stores it."""

    def __init__(self, *steps: dict[str, Any]) -> None:
        flow = Flow.model_validate({"flow": "f", "steps": [
            {"id": "ready", "type": "yesno", "text": "Ready?"}, *steps, {"id": "bye", "type": "end", "text": "Thanks."}]})
        self.engine = Engine(flow)
        self.last: Sprint = self.engine.start(NOW, seed=1)
        self.state: SessionState = self.last.state
        self.events: list[Any] = []

    def send(self, *texts: str, button: str | None = None) -> Sprint:
        """Each text in turn (a tap: one text with its ``button``); the last reply's sprint."""
        for text in texts:
            given: Input = TextInput(text, button=button)
            stored = SessionState.model_validate(self.state.model_dump(mode="json"))
            self.last = self.engine.handle(stored, given, NOW)
            self.state = self.last.state
            self.events += self.last.events
        return self.last

    def prompt(self) -> str:
        return [m.text for m in self.last.messages() if m.kind in ("prompt", "retry")][-1]

    def withdrawn(self, step: str) -> list[AnswersWithdrawn]:
        """What the last message withdrew of ``step`` (the question BACK left is withdrawn too)."""
        return [e for e in self.last.events if isinstance(e, AnswersWithdrawn) and step in e.step_ids]

    def recorded(self) -> list[RecordAnswer]:
        return [e for e in self.last.events if isinstance(e, RecordAnswer)]


def standing(events: list[Any]) -> list[tuple[str, str | None, Any]]:
    """The answers left standing once every withdrawal is applied, as storage applies them
    (storage/repository.py::withdraw_answers): (step, item, value) in the order given."""
    rows: list[list[Any]] = []
    for event in events:
        if isinstance(event, RecordAnswer):
            rows.append([event, True])
        elif isinstance(event, AnswersWithdrawn):
            hit = [r for r in rows if r[1] and r[0].step_id in event.step_ids and (r[0].path_position or 0) >= event.from_position]
            if event.items or event.own_answer:  # the latest of each item named (and the step's own answer)
                hit = list({(r[0].step_id, r[0].item): r for r in hit
                            if r[0].item in event.items or (event.own_answer and r[0].item is None)}.values())
            for row in hit:
                row[1] = False
    return [(r.step_id, r.item, r.value) for r, up in rows if up and not r.skipped]


def delphi(**extra: Any) -> dict[str, Any]:
    return {"id": "rate", "type": "delphi", "delphi": "community", "items": ITEMS, **extra}


def score(number: int) -> dict[str, Any]:
    return {"delphi": "community", "round": 1, "score": number}


# ----------------------------------------------------------------------------- a Delphi round


def test_back_at_the_question_after_a_delphi_asks_its_last_item_and_withdraws_only_that_score() -> None:
    chat = Chat(delphi(), RANKING)
    for reply in ("yes", "5", "6", "7"):
        chat.send(reply)
    assert chat.prompt().startswith("What should we fix first?")
    chat.send("back")
    assert chat.prompt().startswith(f"3/3: {ITEMS[2]}"), "the last item, not the first"
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (ITEMS[2],), from_position=2, own_answer=True)]
    chat.send("3")  # meant for the last item: it changes that score and nothing else
    assert chat.recorded()[0] == RecordAnswer("rate", "3", score(3), "3", "text", item=ITEMS[2], path_position=2)
    assert chat.state.values["rate"] == {ITEMS[0]: 5, ITEMS[1]: 6, ITEMS[2]: 3}
    assert chat.prompt().startswith("What should we fix first?")
    items = [(item, value["score"]) for step, item, value in standing(chat.events) if step == "rate" and item]
    assert items == [(ITEMS[0], 5), (ITEMS[1], 6), (ITEMS[2], 3)]
    before = chat.state.model_dump(mode="json")
    chat.engine.handle(chat.state, TextInput("back"), NOW)
    assert chat.state.model_dump(mode="json") == before, "the state handed in is left as it was"


def test_further_backs_go_through_the_items_before_and_then_to_the_question_before() -> None:
    chat = Chat(delphi(), RANKING)
    for reply in ("yes", "5", "6", "7", "back"):
        chat.send(reply)
    chat.send("back")
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}")
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (ITEMS[1],), from_position=2)]
    chat.send("back")
    assert chat.prompt().startswith(f"1/3: {ITEMS[0]}")
    chat.send("back")
    assert chat.prompt() == "Ready?"
    chat.send("yes")
    assert chat.prompt().startswith(f"1/3: {ITEMS[0]}"), "entered again afresh: its first item"
    assert standing(chat.events) == [("ready", None, "yes")]


def test_back_after_the_pause_between_batches_lands_on_the_last_item_not_the_pause() -> None:
    chat = Chat(delphi(batch=2), RANKING)
    for reply in ("yes", "5", "6", "next", "7", "back"):
        chat.send(reply)
    assert chat.prompt().startswith(f"3/3: {ITEMS[2]}")
    chat.send("back")
    assert chat.prompt().startswith("That's 2 of 3."), "then the pause, which recorded nothing"
    assert chat.withdrawn("rate") == []


def test_back_to_a_delphi_asking_why_asks_why_again() -> None:
    chat = Chat(delphi(ask_reason=True), OPEN)
    for reply in ("yes", "5", "no", "6", "no", "9", "it matters most"):
        chat.send(reply)
    assert chat.prompt() == "Anything else?"
    chat.send("back")
    assert chat.prompt().startswith("Why did you give that score?")
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (ITEMS[2],), from_position=2, own_answer=True)]
    chat.send("parking is hard")
    assert chat.recorded()[0].value == {**score(9), "reason": "parking is hard"}


def test_back_to_a_delphi_whose_last_item_was_left_asks_it_again_and_withdraws_the_skip() -> None:
    chat = Chat(delphi(), OPEN)
    for reply in ("yes", "5", "6", "banana", "banana", "banana"):
        chat.send(reply)
    assert LEAVE in [m.text for m in chat.last.messages()] and chat.prompt() == "Anything else?"
    chat.send("back")
    assert chat.prompt().startswith(f"3/3: {ITEMS[2]}")
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (ITEMS[2],), from_position=2, own_answer=True)]


def test_back_two_questions_on_reaches_the_delphi_at_its_last_item() -> None:
    chat = Chat(delphi(), RANKING, OPEN)
    for reply in ("yes", "5", "6", "7", "2 1 4", "back"):
        chat.send(reply)
    assert chat.prompt().startswith("What should we fix first?"), "a ranking given in one reply: asked afresh"
    chat.send("back")
    assert chat.prompt().startswith(f"3/3: {ITEMS[2]}")
    assert chat.withdrawn("rate") == [AnswersWithdrawn(("rate",), (ITEMS[2],), from_position=2, own_answer=True)]


# ----------------------------------------------------------------------------- pairs, statements, a ranking


def test_back_at_the_question_after_pairs_asks_the_last_pair_again() -> None:
    chat = Chat({"id": "pairs", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room", "Wifi"], "pairs": 2,
                 "submissions": False}, OPEN)
    chat.send("yes")
    chat.send("A")
    last_pair = chat.prompt()
    chat.send("B")
    pair = chat.recorded()[0].item
    assert pair is not None and chat.prompt() == "Anything else?"
    chat.send("back")
    assert chat.prompt() == last_pair
    assert chat.withdrawn("pairs") == [AnswersWithdrawn(("pairs",), (pair,), from_position=2, own_answer=True)]
    chat.send("A")
    assert [item for step, item, _ in standing(chat.events) if step == "pairs" and item] == [
        next(r.item for r in chat.events if isinstance(r, RecordAnswer) and r.item), pair]


def test_back_at_the_question_after_statements_asks_the_last_statement_again() -> None:
    chat = Chat({"id": "views", "type": "statements", "statements": ["Visits on time", "More carers"], "per_session": 2,
                 "submissions": False}, OPEN)
    chat.send("yes")
    chat.send("agree")
    first = str(chat.recorded()[0].item)
    last = next(s for s in ("Visits on time", "More carers") if s != first)
    chat.send("disagree")
    assert chat.prompt() == "Anything else?"
    chat.send("back")
    assert chat.prompt() == f'"{last}"'
    assert chat.withdrawn("views") == [AnswersWithdrawn(("views",), (last,), from_position=2, own_answer=True)]
    chat.send("agree")
    assert chat.state.values["views"] == {first: 1, last: 1}
    assert [(item, value) for step, item, value in standing(chat.events) if step == "views" and item] == [(first, 1), (last, 1)]


def test_back_at_the_question_after_a_ranking_picked_one_at_a_time_asks_its_last_pick() -> None:
    chat = Chat(RANKING, OPEN)
    for reply in ("yes", "2", "1"):
        chat.send(reply)
    asked = chat.prompt()
    chat.send("4")
    assert chat.prompt() == "Anything else?"
    chat.send("back")
    assert chat.prompt() == asked, "the third pick again, the first two kept"
    # the last pick's place and the ranking's own answer (its order) go; the first two places stand
    assert chat.withdrawn("fix") == [AnswersWithdrawn(("fix",), ("3",), from_position=2, own_answer=True)]
    chat.send("3")
    assert chat.state.values["fix"] == ["phone", "waits", "nurse"]
    assert [(item, value) for step, item, value in standing(chat.events) if step == "fix"] == [
        ("1", "phone"), ("2", "waits"), ("3", "nurse"), (None, ["phone", "waits", "nurse"])]


def test_backs_within_a_reopened_ranking_withdraw_one_place_each() -> None:
    chat = Chat(RANKING, OPEN)
    for reply in ("yes", "2", "1", "4", "back", "back"):
        chat.send(reply)
    assert "(So far: phone)" in chat.prompt()
    chat.send("3")
    chat.send("1")
    assert [(item, value) for step, item, value in standing(chat.events) if step == "fix"] == [
        ("1", "phone"), ("2", "nurse"), ("3", "waits"), (None, ["phone", "nurse", "waits"])]


# ----------------------------------------------------------------------------- the pause between batches


def test_scores_typed_at_the_pause_between_batches_never_leave_the_rest_of_the_round() -> None:
    chat = Chat(delphi(batch=1), OPEN)
    chat.send("yes")
    chat.send("5")
    assert chat.prompt().startswith("That's 1 of 3.")
    for reply in ("6", "7", "8", "9 9", "7"):
        chat.send(reply)
        assert [m.text for m in chat.last.messages()] == ["Reply LATER to stop for now, or NEXT to carry on."]
        assert chat.recorded() == [], "no score for an item not shown, and nothing left"
    chat.send("next")
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}")
    chat.send("6")
    assert chat.recorded()[0].item == ITEMS[1] and chat.recorded()[0].value == score(6)
    chat.send("no")  # at the next pause a no is still a try: the participant does not want to go on
    assert chat.state.tries == 1
