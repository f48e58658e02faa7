"""A correction ('sorry i meant 4', 'oops 5 not 8', 'correction: 4') in a step of many parts
(Delphi items, a ranking picked one at a time, pairs, statements, choice tasks), and at the
question right after one, as an exploratory tester found it (tester_methods, finding 1).

Inside a Delphi, 'oops 5 not 8' sent at item 3 was read as item 3's score ("Please reply with a
number from 1 to 9"), used a try and left item 2 at 8; at the question after the Delphi, 'sorry
i meant 4' became the answer to that question, which the participant never answered. Now a
correction changes the part answered last (as BACK and the value would) and the conversation
carries on from where it was; where it cannot change that part (a Delphi reason, NEXT at a
pause, an idea put forward, a consent) the participant is told to reply BACK and the question
being asked is asked again, with no try used and nothing recorded.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import AnswersWithdrawn, RecordAnswer
from flows.model import Flow
from flows.population import ItemRecord, PopulationData, delphi_value
from flows.words import BUILT_IN_TEXTS
from tests.test_delphi_back_and_break import standing

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)
ITEMS = ["Same midwife", "Feeding support", "Parking"]
SCALE = {"id": "how", "type": "scale", "text": "Overall 1-5?", "min": 1, "max": 5}
OPEN = {"id": "why", "type": "open", "text": "Anything else?"}
RANKING = {"id": "fix", "type": "rank", "text": "What should we fix first?", "options": ["waits", "phone", "nurse", "carers"],
           "top": 3}
USE_BACK = BUILT_IN_TEXTS["correction_use_back"]["en"]
WHY = "Why did you give that score?"
HOW = "Overall 1-5?"


class Chat:
    """One participant in the engine; the state goes through JSON between messages, as the
    service stores it."""

    def __init__(self, *steps: dict[str, Any], population: Any = None) -> None:
        flow = Flow.model_validate({"flow": "f", "steps": [*steps, {"id": "bye", "type": "end", "text": "Bye"}]})
        self.engine, self.population = Engine(flow), population
        self.last: Sprint = self.engine.start(NOW, seed=1, population=population)
        self.state: SessionState = self.last.state
        self.events: list[Any] = list(self.last.events)

    def send(self, *texts: str) -> Sprint:
        for text in texts:
            stored = SessionState.model_validate(self.state.model_dump(mode="json"))
            self.last = self.engine.handle(stored, TextInput(text), NOW, population=self.population)
            self.state = self.last.state
            self.events += self.last.events
        return self.last

    def texts(self) -> list[str]:
        return [m.text for m in self.last.messages()]

    def prompt(self) -> str:
        return [m.text for m in self.last.messages() if m.kind in ("prompt", "retry")][-1]

    def recorded(self) -> list[RecordAnswer]:
        return [e for e in self.last.events if isinstance(e, RecordAnswer)]

    def withdrawn(self) -> list[AnswersWithdrawn]:
        return [e for e in self.last.events if isinstance(e, AnswersWithdrawn)]

    def standing(self, step: str) -> list[tuple[str | None, Any]]:
        """The step's answers left standing once every withdrawal is applied, as storage
        applies them: (item, value) in order."""
        return [(item, value) for step_id, item, value in standing(self.events) if step_id == step]


def delphi(round_number: int = 1, **extra: Any) -> dict[str, Any]:
    return {"id": "rate", "type": "delphi", "delphi": "mat", "round": round_number, "items": ITEMS, **extra}


def score(number: int | None, round_number: int = 1, reason: str | None = None) -> dict[str, Any]:
    return delphi_value("mat", round_number, number, reason)


def scores(chat: Chat) -> list[tuple[str | None, int | None]]:
    return [(item, value["score"]) for item, value in chat.standing("rate") if item]


# ----------------------------------------------------------------------------- the tester's repro


def test_the_testers_conversation_changes_the_delphi_scores_and_never_answers_the_scale() -> None:
    chat = Chat(delphi(), SCALE)
    chat.send("3", "8")
    chat.send("oops 5 not 8")
    assert chat.texts()[0] == "Changed your answer to 5."
    assert chat.prompt().startswith(f"3/3: {ITEMS[2]}"), "carries on where the participant was"
    chat.send("2")
    assert chat.prompt() == HOW
    chat.send("sorry i meant 4")
    assert chat.texts() == ["Changed your answer to 4.", HOW]
    assert "how" not in chat.state.values, "the scale question was never answered"
    assert chat.state.values["rate"] == {ITEMS[0]: 3, ITEMS[1]: 5, ITEMS[2]: 4}
    chat.send("yes")
    assert "how" not in chat.state.values and chat.texts() == ["Please reply with a number from 1 to 5."]
    chat.send("3")
    assert chat.state.values["how"] == 3 and chat.state.status == "ended"
    assert scores(chat) == [(ITEMS[0], 3), (ITEMS[1], 5), (ITEMS[2], 4)]


# ----------------------------------------------------------------------------- within a Delphi round


def test_a_correction_inside_a_delphi_changes_the_item_before_withdrawing_only_its_score_and_uses_no_try() -> None:
    chat = Chat(delphi())
    chat.send("3", "8", "oops 5 not 8")
    assert chat.withdrawn() == [AnswersWithdrawn(("rate",), (ITEMS[1],), from_position=1)]
    assert chat.recorded() == [RecordAnswer("rate", "oops 5 not 8", score(5), "5", "text", item=ITEMS[1], path_position=1)]
    assert chat.state.tries == 0
    chat.send("back")
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}"), "BACK after it goes to the corrected item"


def test_a_correction_that_does_not_fit_asks_the_item_before_again_as_back_would() -> None:
    chat = Chat(delphi())
    chat.send("3", "8", "sorry i meant 12")
    assert not any(text.startswith("Changed your answer") for text in chat.texts())
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}")
    assert chat.withdrawn() == [AnswersWithdrawn(("rate",), (ITEMS[1],), from_position=1)] and chat.recorded() == []
    chat.send("6", "2")
    assert scores(chat) == [(ITEMS[0], 3), (ITEMS[1], 6), (ITEMS[2], 2)]


def test_after_an_unclear_reply_a_correction_answers_the_item_being_asked() -> None:
    chat = Chat(delphi())
    chat.send("3", "8", "12")
    assert chat.state.tries == 1
    chat.send("sorry i meant 2")
    assert chat.withdrawn() == [], "item 2 stands: the 12 was the mistake"
    assert [(r.item, r.value) for r in chat.recorded() if r.item] == [(ITEMS[2], score(2))]
    assert chat.state.values["rate"] == {ITEMS[0]: 3, ITEMS[1]: 8, ITEMS[2]: 2}


def test_a_correction_at_the_pause_between_batches_changes_the_last_score_and_pauses_again() -> None:
    chat = Chat(delphi(batch=2))
    chat.send("5", "6")
    assert chat.prompt().startswith("That's 2 of 3.")
    chat.send("sorry i meant 7")
    assert chat.texts()[0] == "Changed your answer to 7."
    assert chat.prompt().startswith("That's 2 of 3.")
    chat.send("next", "1")
    assert chat.state.values["rate"] == {ITEMS[0]: 5, ITEMS[1]: 7, ITEMS[2]: 1}


def test_after_next_at_a_pause_a_correction_is_told_to_use_back_and_the_item_asked_again() -> None:
    chat = Chat(delphi(batch=2))
    chat.send("5", "6", "next")
    asked = chat.prompt()
    chat.send("sorry i meant 7")
    assert chat.texts() == [USE_BACK, asked]
    assert chat.recorded() == [] and chat.withdrawn() == [] and chat.state.tries == 0


# ----------------------------------------------------------------------------- a Delphi's "why?"


def test_a_correction_at_the_reason_question_changes_the_score_it_asks_about() -> None:
    chat = Chat(delphi(ask_reason="extreme"))
    chat.send("9")
    assert chat.prompt().startswith(WHY)
    chat.send("sorry i meant 8")
    assert chat.texts()[0] == "Changed your answer to 8."
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}"), "8 needs no reason: on to the next item"
    chat.send("5", "5")
    assert scores(chat) == [(ITEMS[0], 8), (ITEMS[1], 5), (ITEMS[2], 5)]
    assert all("reason" not in value for _, value in chat.standing("rate") if isinstance(value, dict))


def test_a_correction_to_an_extreme_score_asks_why() -> None:
    chat = Chat(delphi(ask_reason="extreme"))
    chat.send("5", "sorry i meant 9")
    assert chat.texts()[0] == "Changed your answer to 9."
    assert chat.prompt().startswith(WHY)
    chat.send("it matters most", "5")
    assert chat.standing("rate") == [(ITEMS[0], score(9)), (ITEMS[0], score(9, reason="it matters most")), (ITEMS[1], score(5))]


def test_at_the_reason_question_a_sentence_is_the_reason() -> None:
    chat = Chat(delphi(ask_reason="extreme"))
    chat.send("9", "sorry I meant to say the midwives were kind")
    assert [(r.item, r.value) for r in chat.recorded()] == [
        (ITEMS[0], score(9, reason="sorry I meant to say the midwives were kind"))]
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}")


def test_after_a_reason_a_correction_is_told_to_use_back_uses_no_try_and_records_nothing() -> None:
    chat = Chat(delphi(ask_reason="extreme"))
    chat.send("9", "it matters most")
    asked = chat.prompt()
    for _ in range(4):  # more often than max_tries: the item is never left
        chat.send("sorry i meant 8")
        assert chat.texts() == [USE_BACK, asked]
        assert chat.recorded() == [] and chat.withdrawn() == [] and chat.state.tries == 0
    chat.send("back", "back")
    assert chat.prompt().startswith(f"1/3: {ITEMS[0]}"), "BACK, as told, reaches the score"


def test_at_the_question_after_a_delphi_ending_with_a_reason_the_correction_never_answers_it() -> None:
    chat = Chat(delphi(ask_reason="extreme"), SCALE)
    chat.send("5", "5", "9", "parking is hard")
    chat.send("sorry i meant 4")
    assert chat.texts() == [USE_BACK, HOW]
    assert "how" not in chat.state.values and chat.recorded() == [] and chat.state.tries == 0


# ----------------------------------------------------------------------------- Delphi round 2 (KEEP)


def round_one() -> PopulationData:
    """Round 1: the participant ('me') scored the first item 6; others scored every item."""
    rows = [ItemRecord("me", None, "rate", ITEMS[0], score(6))]
    rows += [ItemRecord(f"p{n}", None, "rate", item, score(n + 4)) for n in range(4) for item in ITEMS]
    return PopulationData(rows)


def test_in_round_two_a_correction_changes_a_kept_score() -> None:
    chat = Chat(delphi(2, feedback_min_n=1), population=round_one().view("me"))
    chat.send("keep")
    assert chat.recorded()[0].value == score(6, 2)
    chat.send("oops 4 not 6")
    assert chat.texts()[0] == "Changed your answer to 4."
    assert chat.recorded() == [RecordAnswer("rate", "oops 4 not 6", score(4, 2), "4", "text", item=ITEMS[0], path_position=1)]
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}")


def test_in_round_two_a_correction_to_keep_keeps_the_round_one_score() -> None:
    chat = Chat(delphi(2, feedback_min_n=1), population=round_one().view("me"))
    chat.send("3", "sorry i meant keep")
    assert chat.texts()[0] == "Changed your answer to 6."
    assert chat.recorded()[0].value == score(6, 2)
    chat.send("5", "sorry i meant keep")  # no score of theirs to keep for item 2: it is asked again
    assert chat.prompt().startswith(f"2/3: {ITEMS[1]}") and chat.recorded() == []
    assert scores(chat) == [(ITEMS[0], 6)]


# ----------------------------------------------------------------------------- a ranking, pairs, statements, tasks


def test_a_correction_in_a_ranking_picked_one_at_a_time_changes_the_last_pick() -> None:
    chat = Chat(RANKING, SCALE)
    chat.send("2", "1", "sorry i meant 3")
    assert chat.texts()[0] == "Changed your answer to nurse."
    assert "(So far: phone, nurse)" in chat.prompt()
    chat.send("1")
    assert chat.state.values["fix"] == ["phone", "nurse", "waits"]
    assert chat.standing("fix") == [("1", "phone"), ("2", "nurse"), ("3", "waits"), (None, ["phone", "nurse", "waits"])]


def test_at_the_question_after_a_ranking_a_correction_changes_its_last_pick() -> None:
    chat = Chat(RANKING, SCALE)
    chat.send("2", "1", "4", "correction: 3")
    assert chat.texts() == ["Changed your answer to nurse.", HOW]
    assert chat.state.values["fix"] == ["phone", "waits", "nurse"] and "how" not in chat.state.values


def test_a_correction_in_pairs_changes_the_pair_before_and_shows_the_same_pair_again() -> None:
    chat = Chat({"id": "pairs", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room", "Wifi"], "pairs": 3,
                 "submissions": False})
    chat.send("A")
    first = chat.recorded()[0]
    assert first.item is not None
    shown = chat.prompt()
    chat.send("sorry i meant B")
    assert chat.texts()[0].startswith("Changed your answer to ")
    assert chat.withdrawn() == [AnswersWithdrawn(("pairs",), (first.item,), from_position=1)]
    again = chat.recorded()[0]
    assert again.item == first.item and again.value["winner"] == first.value["loser"]
    assert chat.prompt() == shown


def test_at_the_question_after_pairs_a_short_correction_on_free_text_changes_the_last_pair() -> None:
    chat = Chat({"id": "pairs", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room"], "pairs": 2,
                 "submissions": False}, OPEN)
    chat.send("A", "A")
    last = chat.recorded()[0]
    chat.send("oops B not A")
    assert chat.texts() == [f"Changed your answer to {last.value['loser']}.", "Anything else?"]
    assert chat.standing("pairs")[1][1]["winner"] == last.value["loser"] and "why" not in chat.state.values


def test_after_an_idea_is_put_forward_a_correction_is_told_to_use_back() -> None:
    chat = Chat({"id": "pairs", "type": "pairwise", "ideas": ["Tea", "Parking", "Quiet room"], "pairs": 2})
    chat.send("ADD a quiet room for dads")
    chat.send("sorry i meant B")
    assert chat.texts()[0] == USE_BACK and chat.recorded() == [] and chat.withdrawn() == []


def test_a_correction_in_statements_changes_the_vote_before() -> None:
    chat = Chat({"id": "views", "type": "statements", "statements": ["Visits on time", "More carers"], "per_session": 2,
                 "submissions": False})
    chat.send("agree")
    first = str(chat.recorded()[0].item)
    chat.send("sorry i meant disagree")
    assert chat.texts()[0] == "Changed your answer to disagree."
    assert [(r.item, r.value) for r in chat.recorded()] == [(first, -1)]


def test_a_correction_in_a_choice_experiment_changes_the_task_before() -> None:
    chat = Chat({"id": "dce", "type": "choice_experiment", "text": "Which would you choose?",
                 "attributes": {"wait": [1, 2, 4], "who": ["GP", "nurse", "pharmacist"]},
                 "alternatives": 2, "opt_out": True, "tasks": 4})
    chat.send("A", "sorry i meant B")
    assert chat.texts()[0] == "Changed your answer to B."
    assert chat.recorded()[0].value["choice"] == "B" and chat.recorded()[0].item == "task1"


# ----------------------------------------------------------------------------- free text and consent


def test_at_a_free_text_question_after_a_delphi_a_sentence_is_the_answer_and_a_short_value_a_correction() -> None:
    chat = Chat(delphi(), OPEN, SCALE)
    chat.send("5", "6", "7")
    chat.send("I meant to say the midwives were kind")
    assert [(r.step_id, r.value) for r in chat.recorded()] == [("why", "I meant to say the midwives were kind")]
    assert chat.state.step == "how" and chat.state.values["rate"][ITEMS[2]] == 7
    fresh = Chat(delphi(), OPEN)
    fresh.send("5", "6", "7", "sorry i meant 4")
    assert fresh.texts() == ["Changed your answer to 4.", "Anything else?"]
    assert fresh.state.values["rate"][ITEMS[2]] == 4 and "why" not in fresh.state.values
    fresh.send("sorry I meant 400")
    assert fresh.state.values["why"] == "sorry I meant 400", "a value the Delphi cannot take is the answer"


def test_a_correction_after_a_consent_is_told_to_use_back_and_never_answers_the_question() -> None:
    chat = Chat({"id": "ok", "type": "consent", "text": "Do you agree to take part?"}, SCALE)
    chat.send("yes", "sorry i meant 4")
    assert chat.texts() == [USE_BACK, HOW]
    assert "how" not in chat.state.values and chat.state.values["ok"] == "yes" and chat.state.tries == 0


def test_the_use_back_text_is_in_welsh() -> None:
    flow = Flow.model_validate({"flow": "f", "steps": [delphi(ask_reason="extreme"), {"id": "bye", "type": "end", "text": "Bye"}]})
    engine = Engine(flow)
    state = engine.start(NOW, language="cy", seed=1).state
    for text in ("9", "mae'n bwysig", "sori, 8 o'n i'n feddwl"):
        sprint = engine.handle(state, TextInput(text), NOW)
        state = sprint.state
    assert [m.text for m in sprint.messages()][0] == "I newid ateb cynharach, atebwch YN ÔL."
