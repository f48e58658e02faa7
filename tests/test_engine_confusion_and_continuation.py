"""Two replies that are not answers to the question asked now: one that asks what it means
('I don't understand', 'what?', 'beth?'), which gets the question again with its hint and
uses no try; and the rest of a free-text answer sent as a second text seconds later, which
is added to that answer rather than read as an answer to the next question."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, Sprint, TextInput
from flows.engine_second_text import CONTINUATION_WINDOW
from flows.engine_what_it_means import asks_what_it_means
from flows.events import AnswersWithdrawn, RecordAnswer, SetField
from flows.model import Flow
from storage.database import Database
from storage.tables import ANSWERS

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
ROLE = {"id": "role", "type": "choice", "text": "Which best describes you?", "max_tries": 2,
        "options": [{"value": "patient", "label": "Patient"}, {"value": "carer", "label": "Carer"},
                    {"value": "staff", "label": "Staff"}]}
STORY = {"id": "story", "type": "open", "text": "What was the wait like?", "save_to": "participant.story"}
VISITS = {"id": "visits", "type": "number", "text": "How many times did you go?", "min": 0, "max": 50}
THANKS = {"id": "thanks", "type": "message", "text": "Thank you."}


class Chat:
    def __init__(self, *steps: dict[str, Any], language: str = "en") -> None:
        self.engine = Engine(Flow.model_validate({"flow": "f", "steps": list(steps)}))
        first = self.engine.start(NOW, language=language)
        self.state, self.last = first.state, first

    def send(self, text: str, after: float = 0, source: str = "text") -> Sprint:
        given = TextInput(text, source=source, confidence=0.9 if source == "voice" else None)
        sprint = self.engine.handle(self.state, given, NOW + timedelta(seconds=after))
        self.state, self.last = sprint.state, sprint
        return sprint


def texts(sprint: Sprint) -> list[str]:
    return [m.text for m in sprint.messages()]


def answers(sprint: Sprint) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer)]


# ----------------------------------------------------------------------------- 'I don't understand'


@pytest.mark.parametrize("said", [
    "I don't understand", "i dont understand the question", "Sorry, I don’t get it", "dont get it", "what does that mean?",
    "What do you mean?", "what?", "what??", "What", "sorry?", "huh", "eh?", "pardon?", "I'm confused", "can you repeat that?",
    "dw i ddim yn deall", "Dwi ddim yn deall", "sa i'n deall", "beth?", "Be?", "beth mae hynny'n ei olygu?", "sori?",
])
def test_asking_what_the_question_means_gets_it_again_with_its_hint_and_uses_no_try(said: str) -> None:
    chat = Chat(VISITS)
    sprint = chat.send(said)
    assert texts(sprint) == ["No problem, here is the question again. Please reply with a number from 0 to 50.",
                             "How many times did you go?"]
    assert [m.kind for m in sprint.messages()] == ["help", "prompt"]
    assert chat.state.tries == 0
    assert chat.state.step == "visits"
    assert not answers(sprint)


def test_confusion_never_brings_the_question_nearer_to_being_skipped() -> None:
    chat = Chat(ROLE, VISITS)
    for said in ("what?", "I don't understand", "?", "huh", "what does that mean"):
        chat.send(said)
    assert chat.state.step == "role" and chat.state.tries == 0
    chat.send("purple")
    assert chat.state.tries == 1  # an answer it cannot read is still a try
    chat.send("I don't understand")
    assert chat.state.tries == 1 and chat.state.step == "role"
    assert texts(chat.send("2")) == ["How many times did you go?"]
    assert chat.state.values["role"] == "carer"


def test_it_explains_in_welsh_with_the_welsh_hint() -> None:
    chat = Chat(ROLE, language="cy")
    sprint = chat.send("Dw i ddim yn deall")
    assert texts(sprint)[0] == "Dim problem, dyma'r cwestiwn eto. Atebwch Patient, Carer neu Staff."
    assert chat.state.tries == 0


def test_the_steps_own_retry_text_is_part_of_the_explanation() -> None:
    chat = Chat({**VISITS, "retry": "Count each time you went to A&E."})
    assert texts(chat.send("what?"))[0] == (
        "No problem, here is the question again. Count each time you went to A&E. Please reply with a number from 0 to 50.")


def test_a_bare_question_mark_is_help_which_asks_the_question_again_without_a_try() -> None:
    for steps in ((ROLE,), (STORY, VISITS)):
        chat = Chat(*steps)
        for said in ("?", "??"):
            sprint = chat.send(said)
            assert texts(sprint)[0].startswith("Reply to the question to answer it.")
            assert texts(sprint)[1:] == [chat.engine.flow.steps[0].text]
            assert chat.state.tries == 0 and not answers(sprint)


def test_on_a_free_text_question_a_sentence_is_an_answer_and_the_bare_phrase_is_not() -> None:
    for said in ("I don't understand", "what?", "beth?", "huh"):
        chat = Chat(STORY, VISITS)
        sprint = chat.send(said)
        assert texts(sprint)[0].startswith(("No problem", "Dim problem")), said
        assert not answers(sprint) and chat.state.step == "story"
    chat = Chat(STORY, VISITS)
    sprint = chat.send("I don't understand why nobody told us how long it would be")
    assert [a.value for a in answers(sprint)] == ["I don't understand why nobody told us how long it would be"]
    assert chat.state.step == "visits"


def test_an_option_that_says_it_is_an_answer() -> None:
    options = [{"value": "clear", "label": "Clear"}, {"value": "unclear", "label": "I don't understand it"}]
    chat = Chat({"id": "leaflet", "type": "choice", "text": "Was the leaflet clear?", "options": options}, VISITS)
    chat.send("I don't understand it")
    assert chat.state.values["leaflet"] == "unclear"


def test_words_that_answer_many_questions_are_not_confusion() -> None:
    for said in ("I don't know", "not sure", "dunno", "ddim yn siŵr", "sorry", "what a wait", "beth am y nyrsys", "!"):
        assert not asks_what_it_means(said), said


# ----------------------------------------------------------------------------- a free-text answer in two texts


def test_a_second_text_that_answers_nothing_is_added_to_the_free_text_answer_before() -> None:
    chat = Chat(STORY, VISITS)
    first = chat.send("The wait was six hours and")
    (given,) = answers(first)
    sprint = chat.send("nobody told us why", after=20)
    added = "The wait was six hours and nobody told us why"
    assert answers(sprint) == [RecordAnswer("story", added, added, added, "text")]
    assert answers(sprint)[0].path_position == given.path_position
    withdrawn = [e for e in sprint.events if isinstance(e, AnswersWithdrawn)]
    assert withdrawn == [AnswersWithdrawn(("story",), from_position=given.path_position or 0)]
    assert [e for e in sprint.events if isinstance(e, SetField)] == [SetField("story", added)]
    assert texts(sprint) == ["Thanks, I've added that to your last answer.", "How many times did you go?"]
    assert chat.state.values["story"] == chat.state.displays["story"] == added
    assert chat.state.step == "visits" and chat.state.tries == 0
    third = chat.send("and the chairs were broken", after=60)  # a third part, within the window of the second
    assert [a.value for a in answers(third)] == [f"{added} and the chairs were broken"]
    chat.send("3", after=70)
    assert chat.state.values["visits"] == 3


def test_the_second_text_is_added_after_a_message_step_too_and_in_welsh() -> None:
    chat = Chat(STORY, THANKS, VISITS, language="cy")
    chat.send("Roedd yr aros yn hir")
    sprint = chat.send("a doedd neb yn esbonio", after=5)
    assert [a.value for a in answers(sprint)] == ["Roedd yr aros yn hir a doedd neb yn esbonio"]
    assert texts(sprint)[0] == "Diolch, rydw i wedi ychwanegu hynny at eich ateb diwethaf."


def test_a_valid_answer_to_the_question_now_is_its_answer() -> None:
    chat = Chat(STORY, VISITS)
    chat.send("Long")
    sprint = chat.send("4", after=10)
    assert [(a.step_id, a.value) for a in answers(sprint)] == [("visits", 4)]
    assert chat.state.values["story"] == "Long"


def test_outside_the_window_it_is_an_unclear_answer() -> None:
    chat = Chat(STORY, VISITS)
    chat.send("Long")
    late = CONTINUATION_WINDOW.total_seconds() + 1
    sprint = chat.send("nobody told us why", after=late)
    assert not answers(sprint)
    assert texts(sprint) == ["Please reply with a number from 0 to 50."]
    assert chat.state.tries == 1 and chat.state.values["story"] == "Long"


def test_after_a_question_that_is_not_free_text_it_is_an_unclear_answer() -> None:
    chat = Chat(ROLE, VISITS)
    chat.send("Patient")
    sprint = chat.send("nobody told us why", after=5)
    assert not answers(sprint) and chat.state.tries == 1


def test_after_a_spoken_free_text_answer_it_is_an_unclear_answer() -> None:
    chat = Chat({**STORY, "confirm": "never"}, VISITS)
    chat.send("It was long", source="voice")
    assert chat.state.step == "visits"
    sprint = chat.send("nobody told us why", after=5)
    assert not answers(sprint) and chat.state.tries == 1


def test_once_the_question_after_has_had_a_retry_nothing_more_is_added() -> None:
    chat = Chat(STORY, VISITS)
    chat.send("Long")
    chat.send("blue", after=10, source="voice")  # a voice note is never the rest of a text: a try
    assert chat.state.tries == 1
    sprint = chat.send("nobody told us why", after=20)
    assert not answers(sprint)
    assert chat.state.values["story"] == "Long" and chat.state.tries == 2


@pytest.mark.parametrize("said", ["maybe", "hmm", "dunno", "I don't know", "not sure", "I don't mind", "ddim yn siŵr"])
def test_a_try_at_the_question_now_is_not_added_to_the_answer_before(said: str) -> None:
    chat = Chat(STORY, {"id": "screen", "type": "yesno", "text": "Would a screen help?"})
    chat.send("More chairs")
    sprint = chat.send(said, after=10)
    assert not answers(sprint), said
    assert chat.state.values["story"] == "More chairs" and chat.state.tries == 1


def test_a_try_the_question_now_reads_something_in_is_not_added_either() -> None:
    chat = Chat(STORY, VISITS)
    chat.send("Long wait. My dad was confused and scared.")
    sprint = chat.send("we waited 4 hours and no one told us a thing", after=10)
    assert texts(sprint)[0].startswith("That looks like 4 hours")
    assert not answers(sprint) and chat.state.tries == 1


# ----------------------------------------------------------------------------- through the service


@pytest.fixture
def database_kind() -> str:
    return "sqlite"  # (the engine decides; storage only withdraws and adds rows, as for a correction)


def test_through_the_service_the_first_part_is_kept_withdrawn_and_the_whole_answer_stands(
    service: ConversationService, database: Database, say: Any,
) -> None:
    for reply in ("WAIT", "yes", "1", "2", "It was long and"):
        said = say(reply)
    said = say("nobody told us why")
    assert isinstance(said, ReceiveResult) and said.participant_id is not None
    replies = [entry.text for entry in service.outbox_for(said.participant_id)]
    assert replies[-2:] == ["Thanks, I've added that to your last answer.", "How well were you kept informed while waiting?"]
    with database.transaction() as connection:
        query = select(ANSWERS.c.value, ANSWERS.c.withdrawn_at).where(ANSWERS.c.step_id == "story").order_by(ANSWERS.c.id)
        rows = [(value, withdrawn is not None) for value, withdrawn in connection.execute(query)]
    assert rows == [("It was long and", True), ("It was long and nobody told us why", False)]
