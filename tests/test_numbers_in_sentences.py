"""A number read from a sentence (flows/parsing.py ``read_number``): a number said with another
unit than the question's ('SAT 6 HOURS' to 'how many times?') is asked again, saying why; one
read from a sentence that says more ('my son is 4 and has asthma so loads') is checked with
YES or NO before it counts; a number with only politeness and hedges round it counts at once.
Through the number, scale and Delphi steps, the engine, and the service on a real database."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.parsing import read_number
from flows.words import BUILT_IN_TEXTS
from storage.database import Database
from storage.tables import ANSWERS

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
VISITS_QUESTION = "How many times have you been to A&E in the last year?"
VISITS = {"id": "visits", "type": "number", "text": {"en": VISITS_QUESTION, "cy": "Sawl gwaith ydych chi wedi bod i'r adran?"},
          "min": 0, "max": 100}
INFORMED = {"id": "informed", "type": "scale", "text": "How well were you kept informed while waiting?",
            "labels": ["Very poorly", "Poorly", "Neither", "Well", "Very well"]}
DELPHI = {"id": "rate", "type": "delphi", "delphi": "d", "round": 1, "ask_reason": "extreme",
          "items": [{"id": "parking", "text": "Parking near the door"}, {"id": "signs", "text": "Clear signs"}]}
VISITS_HINT = "Please reply with a number from 0 to 100."
ASK_AGAIN = BUILT_IN_TEXTS["confirm_try_again"]["en"]


class Chat:
    """One participant's conversation with a one-flow engine."""

    def __init__(self, *steps: dict[str, Any], language: str = "en") -> None:
        flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [*steps, {"id": "bye", "type": "end", "text": "Bye."}]})
        self.engine = Engine(flow)
        sprint = self.engine.start(NOW, language=language, seed=3)
        self.state: SessionState = sprint.state
        self.said: list[SendMessage] = sprint.messages()
        self.recorded: list[RecordAnswer] = []

    def send(self, text: str, button: str | None = None, source: str = "text") -> list[str]:
        confidence = 0.99 if source == "voice" else None
        sprint = self.engine.handle(self.state, TextInput(text, button=button, source=source, confidence=confidence), NOW)
        self.state = sprint.state
        self.said = sprint.messages()
        self.recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
        return [m.text for m in self.said]

    def values(self, step: str) -> list[Any]:
        return [r.value for r in self.recorded if r.step_id == step and r.item is None and not r.skipped]


# ----------------------------------------------------------------------------- reading


@pytest.mark.parametrize(("reply", "said"), [
    ("SAT 6 HOURS WITH MY HIP NOBODY TOLD US ANYTHING", "6 hours"), ("I was there for 5 hours", "5 hours"),
    ("he is 4 years old", "4 years old"), ("£20 on parking", "£20"), ("about 40 mins", "40 mins"), ("six days", "six days"),
])
def test_a_number_with_another_unit_than_a_count_answers_something_else(reply: str, said: str) -> None:
    reading = read_number(reply, VISITS_QUESTION)
    assert reading is not None and (reading.doubt, reading.said) == ("other_unit", said)


@pytest.mark.parametrize("reply", [
    "3", "I'd say 4 thanks", "about 5", "4 I think", "maybe 3", "three times", "twice", "about 12 times", "none thank god",
    "I've been 3 times this year", "I went twice", "4.", "Four, thanks", "prob 2", "dwywaith",
])
def test_a_number_with_only_politeness_hedges_or_the_questions_words_is_clear(reply: str) -> None:
    reading = read_number(reply, VISITS_QUESTION, out_of=100)
    assert reading is not None and reading.doubt == "clear", reading


@pytest.mark.parametrize("reply", ["my son is 4 and has asthma so loads", "4 but the nurse was lovely", "we went 3 times for my back"])
def test_a_number_in_a_sentence_that_says_more_is_a_guess_to_check(reply: str) -> None:
    reading = read_number(reply, VISITS_QUESTION)
    assert reading is not None and reading.doubt == "confirm"


@pytest.mark.parametrize(("question", "unit", "reply", "doubt"), [
    ("How long did you wait?", "minutes", "45 mins", "clear"),
    ("How long did you wait?", "minutes", "2 hours", "clear"),  # 120 minutes, exactly (tests/test_units_converted.py)
    ("How long did you wait?", "minutes", "2 miles", "other_unit"),
    ("How long did you wait?", None, "6 hours", "clear"),
    ("How long did you wait?", None, "£6", "other_unit"),
    ("How many hours did you wait?", None, "6 hrs", "clear"),
    ("How many hours did you wait?", None, "6 days", "clear"),  # 144 hours
    ("How many hours did you wait?", None, "£6", "other_unit"),
    ("How old is your child?", None, "4 years old", "clear"),
    ("How old is your child?", None, "6 months", "other_unit"),
    ("How much did parking cost?", None, "£12", "clear"),
    ("How many nappies a day?", "nappies", "6 nappies", "clear"),
    ("How many nappies a day?", "nappies", "6 hours", "other_unit"),
    ("Your last HbA1c?", "mmol/mol", "it was 48 mmol/mol", "clear"),
])
def test_the_unit_is_the_steps_or_the_one_the_question_names(question: str, unit: str | None, reply: str, doubt: str) -> None:
    reading = read_number(reply, question, unit)
    assert reading is not None and reading.doubt == doubt


def doubt(reply: str, question: str, rating: bool = False) -> str | None:
    reading = read_number(reply, question, rating=rating, out_of=5)
    return None if reading is None else reading.doubt


def test_a_rating_is_in_points_or_stars_never_hours() -> None:
    question = "How well were you kept informed while waiting?"
    assert doubt("we waited 4 hours and no one told us a thing", question, rating=True) == "other_unit"
    for reply in ("4 stars", "4/5", "I'd give it a four", "4 out of 5", "5 😊"):
        assert doubt(reply, question, rating=True) == "clear", reply


# ----------------------------------------------------------------------------- a number step in a conversation


@pytest.mark.parametrize(("reply", "said"), [
    ("SAT 6 HOURS WITH MY HIP NOBODY TOLD US ANYTHING", "6 hours"), ("I was there for 5 hours", "5 hours"),
])
def test_hours_to_how_many_times_are_asked_again_saying_why_and_nothing_is_stored(reply: str, said: str) -> None:
    chat = Chat(VISITS, {"id": "story", "type": "open", "text": "What was waiting like?"})
    assert chat.send(reply) == [f"That looks like {said}, which is not what this question asks. {VISITS_HINT}"]
    assert chat.recorded == [] and chat.state.step == "visits"
    chat.send("and the toilets were dirty")
    assert chat.recorded == [] and chat.state.step == "visits", "the next text is not taken as the story"
    chat.send("2")
    assert chat.values("visits") == [2] and chat.state.step == "story"


def test_a_number_in_a_longer_sentence_is_checked_and_yes_counts_it() -> None:
    chat = Chat(VISITS)
    reply = "my son is 4 and has asthma so loads"
    assert chat.send(reply) == ["Just to check: 4? Reply YES or NO, or send the number."]
    assert [b.value for b in chat.said[0].buttons] == ["yes", "no"]
    assert chat.recorded == [] and chat.state.step == "visits"
    chat.send("yes")
    assert [(r.value, r.raw, r.source) for r in chat.recorded] == [(4, reply, "text")]
    assert chat.state.step == "bye" and chat.state.heard is None


def test_no_asks_the_question_again_and_a_number_instead_of_yes_or_no_is_the_answer() -> None:
    chat = Chat(VISITS)
    chat.send("my son is 4 and has asthma so loads")
    assert chat.send("no") == [ASK_AGAIN, VISITS_QUESTION]
    assert chat.recorded == [] and chat.state.heard is None
    chat.send("my son is 4 and has asthma so loads")
    chat.send("7")
    assert chat.values("visits") == [7]


def test_a_tapped_no_button_and_a_welsh_check() -> None:
    chat = Chat(VISITS, language="cy")
    assert chat.send("mae fy mab yn 4 ac mae asthma arno") == ["I wneud yn siŵr: 4? Atebwch YDW neu NAC YDW, neu anfonwch y rhif."]
    assert chat.send("Nac ydw", button="no")[0] == BUILT_IN_TEXTS["confirm_try_again"]["cy"]
    assert chat.recorded == []


@pytest.mark.parametrize("reply", ["3", "I'd say 3 thanks", "about 3", "3 I think", "maybe 3", "three times", "I've been 3 times this year"])
def test_a_plain_or_politely_wrapped_number_counts_at_once(reply: str) -> None:
    chat = Chat(VISITS)
    chat.send(reply)
    assert chat.values("visits") == [3] and chat.state.step == "bye"


def test_a_spoken_sentence_is_read_back_as_a_voice_note_is() -> None:
    chat = Chat(VISITS)
    said = chat.send("Four times, because of my asthma.", source="voice")
    assert said == ['I heard: "Four times, because of my asthma", so your answer is 4. Is that right? Reply YES or NO.']
    chat.send("yes")
    assert [(r.value, r.source) for r in chat.recorded] == [(4, "voice")]


def test_a_number_step_in_minutes_takes_hours_as_the_minutes_they_are() -> None:
    chat = Chat({"id": "wait", "type": "number", "text": "How long did you wait?", "unit": "minutes", "min": 0, "max": 1000})
    chat.send("2 hours")  # asked again until hours were converted (tests/test_units_converted.py)
    assert chat.values("wait") == [120]


# ----------------------------------------------------------------------------- a scale


def test_hours_are_no_rating_on_a_labelled_scale() -> None:
    chat = Chat(INFORMED)
    said = chat.send("we waited 4 hours and no one told us a thing")
    hint = "Please reply with a number from 1 to 5, or words such as 'Very poorly' or 'Very well'."
    assert said == [f"That looks like 4 hours, which is not what this question asks. {hint}"]
    assert chat.send("5 hours and not one update") == [hint]
    assert chat.recorded == []


def test_a_rating_in_a_sentence_is_checked_with_its_label() -> None:
    chat = Chat(INFORMED)
    assert chat.send("4 but the nurse was rude") == ["Just to check: 4 (Well)? Reply YES or NO, or send the number."]
    chat.send("yep")
    assert chat.values("informed") == [4]


@pytest.mark.parametrize("reply", ["4", "I'd say 4", "4/5", "4 stars", "4, well", "Id give it a 4"])
def test_a_rating_with_politeness_or_its_own_label_counts_at_once(reply: str) -> None:
    chat = Chat(INFORMED)
    chat.send(reply)
    assert chat.values("informed") == [4]


# ----------------------------------------------------------------------------- Delphi


def delphi_items(chat: Chat) -> list[tuple[str | None, Any]]:
    return [(r.item, r.value.get("score")) for r in chat.recorded if r.item]


def test_a_delphi_score_in_a_sentence_is_checked_and_hours_asked_again() -> None:
    chat = Chat(DELPHI)
    assert chat.send("4 hours")[0].startswith("That looks like 4 hours, which is not what this question asks.")
    assert chat.send("7 but only at night") == ["Just to check: 7? Reply YES or NO, or send the number."]
    assert delphi_items(chat) == []
    chat.send("yes")
    assert delphi_items(chat) == [("parking", 7)]
    assert "2/2: Clear signs" in chat.said[-1].text


@pytest.mark.parametrize("reply", ["Id say 5", "5 I think", "5", "I'd say 5 thanks"])
def test_a_politely_wrapped_score_after_why_is_no_reason(reply: str) -> None:
    chat = Chat(DELPHI)
    chat.send("1")
    assert chat.said[-1].text == BUILT_IN_TEXTS["delphi.reason"]["en"]
    said = chat.send(reply)
    assert said == ["Please tell us in words why you gave 1, or reply NO to skip."]
    assert [r for r in chat.recorded if r.item and "reason" in r.value] == []


def test_a_reason_with_a_number_in_it_is_still_a_reason() -> None:
    chat = Chat(DELPHI)
    chat.send("1")
    chat.send("there are 5 spaces for 200 people")
    assert [r.value.get("reason") for r in chat.recorded if r.item] == [None, "there are 5 spaces for 200 people"]


def test_none_still_skips_the_reason() -> None:
    chat = Chat(DELPHI)
    chat.send("1")
    chat.send("none")
    assert chat.state.step_data.get("await") is None and "2/2: Clear signs" in chat.said[-1].text


# ----------------------------------------------------------------------------- the service, on a real database


def answers(database: Database) -> list[tuple[str, Any, str]]:
    with database.transaction() as connection:
        query = select(ANSWERS.c.step_id, ANSWERS.c.value, ANSWERS.c.raw).where(ANSWERS.c.skipped.is_(False)).order_by(ANSWERS.c.id)
        return [(step, value, raw) for step, value, raw in connection.execute(query)]


def sent(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [entry.text for entry in service.outbox_for(result.participant_id)]


def test_through_the_service_nothing_wrong_is_stored(service: ConversationService, database: Database, say: Any) -> None:
    """The exploratory test's SMS participant: the hours, the child's age and the waiting time
    are never stored as answers; the role typed in a sentence is."""
    for reply in ("WAIT", "yes", "im a pateint"):
        say(reply)
    hours = say("SAT 6 HOURS WITH MY HIP NOBODY TOLD US ANYTHING")
    assert sent(service, hours)[-1] == f"That looks like 6 hours, which is not what this question asks. {VISITS_HINT}"
    say("my son is 4 and has asthma so loads")
    assert sent(service, hours)[-1] == "Just to check: 4? Reply YES or NO, or send the number."
    say("no")
    say("2")
    say("Long wait. My dad was confused and scared.")
    waited = say("we waited 4 hours and no one told us a thing")
    assert sent(service, waited)[-1].startswith("That looks like 4 hours")
    say("pretty poor tbh")
    stored = answers(database)
    assert [(step, value) for step, value, _ in stored if step != "consent"] == [
        ("role", "patient"), ("visits", 2), ("story", "Long wait. My dad was confused and scared."), ("informed", 2),
    ]
    assert ("visits", 2, "2") in stored
