"""A free-text answer to a flow's last question sent as two SMS (a basic phone splits a long text,
or an older participant sends the rest a moment later). The second part used to reach an ended
conversation: 'Thank you, that's all for now.', the answer stored cut off mid-sentence and the
rest only in an alert. Now it is added to the answer, as it is at any other question
(flows/engine_second_text.py), and raises no alert."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService
from channels.base import InboundMessage
from flows.engine import Engine, Sprint, TextInput
from flows.events import AnswersWithdrawn, RecordAnswer
from flows.model import Flow
from storage.database import Database
from storage.tables import ANSWERS, FLAGS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
TRIPS = {"id": "trips", "type": "number", "text": "How many times did you go to the pharmacy last month?", "min": 0, "max": 40}
STORY = {"id": "story", "type": "open", "text": "Tell us about your last visit.", "save_to": "participant.visit"}
BYE = {"id": "bye", "type": "end", "text": "Thank you, that is everything."}
ADDED = "Thanks, I've added that to your last answer."
ENDED = "Thank you, that's all for now."
FIRST = "THEY SAID MY PRESCRIPTION HAD NOT COME FROM THE SURGERY SO I HAD TO GO BACK"
SECOND = "THE NEXT DAY AND WAIT AGAIN. MY HIPS ARE BAD"


class Chat:
    def __init__(self, *steps: dict[str, Any], language: str = "en") -> None:
        self.engine = Engine(Flow.model_validate({"flow": "f", "steps": list(steps)}))
        self.state = self.engine.start(NOW, language=language).state

    def send(self, text: str, after: float = 0, source: str = "text") -> Sprint:
        given = TextInput(text, source=source, confidence=0.9 if source == "voice" else None)
        sprint = self.engine.handle(self.state, given, NOW + timedelta(seconds=after))
        self.state = sprint.state
        return sprint


def _texts(sprint: Sprint) -> list[str]:
    return [m.text for m in sprint.messages()]


def _answers(sprint: Sprint) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer)]


def test_the_rest_of_the_last_answer_is_added_to_it_after_the_end() -> None:
    chat = Chat(TRIPS, STORY, BYE)
    chat.send("3")
    (given,) = _answers(chat.send(FIRST, after=10))
    assert chat.state.status == "ended" and chat.state.outcome == "completed"
    sprint = chat.send(SECOND, after=40)
    whole = f"{FIRST} {SECOND}"
    assert _texts(sprint) == [ADDED], "no 'that's all for now', and nothing asked"
    assert _answers(sprint) == [RecordAnswer("story", whole, whole, whole, "text")]
    assert _answers(sprint)[0].path_position == given.path_position
    assert [e for e in sprint.events if isinstance(e, AnswersWithdrawn)] == [AnswersWithdrawn(("story",), from_position=given.path_position or 0)]
    assert chat.state.values["story"] == chat.state.fields["visit"] == whole
    assert chat.state.status == "ended" and chat.state.outcome == "completed"
    third = chat.send("AND THE QUEUE WENT OUT THE DOOR", after=100)  # within the window of the second part
    assert [a.value for a in _answers(third)] == [f"{whole} AND THE QUEUE WENT OUT THE DOOR"]


def test_in_welsh_it_is_thanked_in_welsh() -> None:
    chat = Chat(STORY, BYE, language="cy")
    chat.send("Roedd rhaid i mi aros am awr")
    sprint = chat.send("a doedd dim cadair i eistedd arni", after=20)
    assert _texts(sprint) == ["Diolch, rydw i wedi ychwanegu hynny at eich ateb diwethaf."]
    assert chat.state.values["story"] == "Roedd rhaid i mi aros am awr a doedd dim cadair i eistedd arni"


@pytest.mark.parametrize(("text", "after"), [
    (SECOND, 200),          # long after: a new message, not the rest
    ("thank you dear", 20),  # thanks, not more of the story
    ("ok", 20),
])
def test_what_is_not_the_rest_of_the_answer_is_answered_as_before(text: str, after: float) -> None:
    chat = Chat(STORY, BYE)
    chat.send(FIRST)
    sprint = chat.send(text, after=after)
    assert _texts(sprint) == [ENDED] and _answers(sprint) == []
    assert chat.state.values["story"] == FIRST


def test_only_after_a_free_text_question_that_ended_the_conversation() -> None:
    chat = Chat(STORY, TRIPS, BYE)
    chat.send(FIRST)
    chat.send("2", after=10)
    sprint = chat.send(SECOND, after=20)  # the story was not the last question
    assert _texts(sprint) == [ENDED] and _answers(sprint) == []
    spoken = Chat(STORY, BYE)
    spoken.send(FIRST, source="voice")
    assert _answers(spoken.send(SECOND, after=10)) == [], "a voice note's transcript is not added to"


@pytest.fixture
def database_kind() -> str:
    return "sqlite"  # (the engine decides; storage withdraws and adds rows, as for a correction)


def test_through_the_service_the_whole_answer_stands_and_no_alert_is_raised(tmp_path: Path, database: Database) -> None:
    folder = tmp_path / "pharmacy"
    folder.mkdir()
    (folder / "study.yaml").write_text(
        "study: pharmacy\ntitle: Your pharmacy\nlanguages: [en]\njoin:\n  start_flow: visit\n  keyword: PHARMACY\n",
        encoding="utf-8")
    (folder / "visit.yaml").write_text(
        "flow: visit\nsteps:\n  - id: agree\n    type: consent\n    text: Reply YES to take part.\n"
        f"  - id: story\n    type: open\n    text: {STORY['text']}\n  - id: bye\n    type: end\n    text: {BYE['text']}\n",
        encoding="utf-8")
    from bot.studies import StudyRegistry

    service = ConversationService(database, StudyRegistry.from_folder(folder), FakeClock(), address_key=TEST_ADDRESS_KEY)
    for number, text in enumerate(["PHARMACY", "YES", FIRST, SECOND]):
        result = service.receive(InboundMessage("sms", "+447700900777", f"SM{number}", text))
    assert result.participant_id is not None
    assert [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids] == [ADDED]
    with database.transaction() as connection:
        query = select(ANSWERS.c.value, ANSWERS.c.withdrawn_at).where(ANSWERS.c.step_id == "story").order_by(ANSWERS.c.id)
        rows = [(value, withdrawn is not None) for value, withdrawn in connection.execute(query)]
        flags = list(connection.execute(select(FLAGS.c.kind).where(FLAGS.c.kind == "after_end")))
    assert rows == [(FIRST, True), (f"{FIRST} {SECOND}", False)]
    assert flags == [], "kept as the answer, so no alert about words written after the end"
