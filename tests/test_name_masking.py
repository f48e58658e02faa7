"""Names in participants' words are masked wherever others see them, without being told them
first: common given names, and names after a cue ("my name is", "Dr", "my son"); ordinary
words that are also names ("Will", "May", "Grace", "Hope") and places named after people are
left alone, so masking does not garble what people wrote.

Before the change only the names a participant had given were masked: "Nurse Sarah and Dr
Okafor were lovely" went into exports, the API and other participants' pairwise questions as
written.
"""

from __future__ import annotations

import csv
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.api.labels import approved_submissions
from bot.export import export_study
from bot.population import moderate, personal_details, shown_text, submissions
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from nlp.redact import describe_identifiers, given_names, redact
from storage.database import Database
from storage.tables import FLAGS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

Say = Callable[..., ReceiveResult]
DATA = Path(__file__).parent / "data"


@pytest.mark.parametrize(("text", "masked"), [
    ("Sarah on reception was lovely.", "[NAME] on reception was lovely."),
    ("Priya Shah on ward 7 explained everything", "[NAME] on ward 7 explained everything"),
    ("Mohammed's mum waited 4 hours", "[NAME]'s mum waited 4 hours"),
    ("My name is Grace and I care for my dad", "My name is [NAME] and I care for my dad"),
    ("um my name is sarah and i waited all night", "um my name is [NAME] and i waited all night"),
    ("her name was Jo, she was kind", "her name was [NAME], she was kind"),
    ("I'm Siobhan, Kieran's wife", "I'm [NAME], [NAME]'s wife"),
    ("Dr Okafor and Nurse Adebayo were brilliant", "Dr [NAME] and Nurse [NAME] were brilliant"),
    ("Mr Kowalczyk, Mrs. O'Neill and Ms Patel rang back", "Mr [NAME], Mrs. [NAME] and Ms [NAME] rang back"),
    ("Miss Hughes and Sister Jones run a tight ship", "Miss [NAME] and Sister [NAME] run a tight ship"),
    ("Dr J. Smith saw me in the end", "Dr [NAME] saw me in the end"),
    ("my son Will came with me", "my son [NAME] came with me"),
    ("our daughter, Hope, was frightened", "our daughter, [NAME], was frightened"),
    ("my husband Bill and my friend May sat with me", "my husband [NAME] and my friend [NAME] sat with me"),
    ("Thanks for listening. Signed, Ruth Evans", "Thanks for listening. Signed, [NAME]"),
    ("Kind regards, Tom", "Kind regards, [NAME]"),
    ("Gethin and Dafydd from the Welsh team", "[NAME] and [NAME] from the Welsh team"),
])
def test_names_are_masked_without_being_given(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize("text", [
    "I'm tired and I'm fed up",
    "I'm English but my wife is Welsh",
    "I am Diabetic and nobody checked my sugars",
    "Dr appointment was cancelled twice",
    "Sister ward was spotless",
    "The Sister on nights was great",
    "Will they ring me back?",
    "May I add that the food was cold",
    "Grace period for parking should be longer",
    "Hope it gets better. I hope so",
    "The Bill for parking came to £12",
    "Mark my words, it will happen again",
    "Frank advice from the consultant helped",
    "April and June are the worst months for hay fever",
    "The clinic moved my appointment from 3 May 2024 to 10 June 2024.",
    "Max 8 tablets in 24 hours, the leaflet says",
    "Elizabeth Ward and the Victoria Wing were both full",
    "We were sent to St George's then King George Hospital",
    "Mum and Dad came; my son I think was scared",
    "Beth fyddai'n ei wneud yn well i chi? Pam?",
    "A nurse who speaks Polish would help",
    "NHS staff at A&E were run ragged",
])
def test_ordinary_words_that_look_like_names_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_ordinary_feedback_is_not_garbled() -> None:
    """Of the 319 feedback comments in tests/data, the only one touched names a nurse."""
    with (DATA / "comments.csv").open(newline="", encoding="utf-8") as fh:
        texts = [row["text"] for row in csv.DictReader(fh)]
    touched = {text: redact(text) for text in texts if redact(text) != text}
    assert len(texts) >= 300
    assert len(touched) == 1, touched
    [masked] = touched.values()
    assert "her name was [NAME]," in masked and masked.count("[NAME]") == 1


def test_the_list_is_compact_and_keeps_everyday_words_apart() -> None:
    names = given_names()
    assert 500 <= len(names.plain) <= 3000
    assert {"sarah", "mohammed", "priya", "siobhan", "dafydd", "oluwaseun"} <= names.plain
    assert {"will", "may", "grace", "hope", "bill", "beth", "pam"} <= names.also_words
    assert not names.plain & names.also_words


def test_given_names_are_still_masked_in_any_case() -> None:
    assert redact("tom was great, Tomas less so", ["Tom"]) == "[NAME] was great, Tomas less so"
    assert describe_identifiers("Nurse Adebayo, call 07700 900123") == ["a name", "a phone number"]


def test_an_exported_answer_has_names_masked(service: ConversationService, database: Database, say: Say,
                                             tmp_path: Path) -> None:
    story = "Nurse Adebayo and Sarah on reception were kind, my son Will loved them"
    for reply in ("WAIT", "yes", "staff", "1 3", story, "5"):
        say(reply)
    result = export_study(database, "ae-waiting", tmp_path / "out")
    content = result.answers.read_text(encoding="utf-8")
    assert "Adebayo" not in content and "Sarah" not in content and "son Will" not in content
    with result.answers.open(encoding="utf-8", newline="") as fh:
        row = next(r for r in csv.DictReader(fh) if r["step"] == "story")
    assert row["raw"] == row["value"] == "Nurse [NAME] and [NAME] on reception were kind, my son [NAME] loved them"


IDEAS_FLOW = {"flow": "ideas", "steps": [
    {"id": "compare", "type": "pairwise", "text": "Which matters more to you?",
     "ideas": ["Evening visits", "A quiet room"], "pairs": 3},
    {"id": "done", "type": "end", "text": "Thank you."},
]}


@pytest.fixture
def ideas_service(database: Database, tmp_path: Path) -> ConversationService:
    folder = tmp_path / "ideas-study"
    folder.mkdir()
    study = {"study": "ideas-study", "title": "Ideas", "languages": ["en"], "timezone": "Europe/London",
             "join": {"start_flow": "ideas", "keyword": "IDEAS"}, "flows": ["ideas.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study), encoding="utf-8")
    (folder / "ideas.yaml").write_text(yaml.safe_dump(IDEAS_FLOW), encoding="utf-8")
    return ConversationService(database, StudyRegistry.from_folder(folder), FakeClock(), address_key=TEST_ADDRESS_KEY)


def test_a_pooled_idea_reaches_others_and_moderators_with_names_masked(
    ideas_service: ConversationService, database: Database,
) -> None:
    idea = "a named nurse for each bay, like Nurse Okafor who looked after my wife Joan"
    ideas_service.receive(InboundMessage("sms", "+447700900101", "m-1", "IDEAS"))
    ideas_service.receive(InboundMessage("sms", "+447700900101", "m-2", f"ADD {idea}"))
    with database.transaction() as connection:
        [held] = submissions(connection, "ideas-study")
        alert = connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "moderation")).scalar_one()
        moderate(connection, held.id, True, "coordinator", FakeClock()())
    masked = "a named nurse for each bay, like Nurse [NAME] who looked after my wife [NAME]"
    assert held.text == idea, "the author's words are kept as written"
    assert held.shown == shown_text(idea) == masked
    assert personal_details(idea) == ["a name"]
    assert "Okafor" not in alert and "Joan" not in alert and masked in alert
    assert list(approved_submissions(database, "ideas-study").values()) == [masked]
