"""Found running a ward-handover study: a nurse proposing a statement with ADD was flagged to the
coordinator as a risk. The embedding model read the command word as part of what she wrote: 'ADD
Handover sheet should list who is nil by mouth' as a threat of violence (without ADD, nothing). It
now reads the participant's own words; the alert still quotes them whole."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import select

from bot.safeguarding import (
    BackgroundChecks,
    Concern,
    SafetyChecks,
    check_from_env,
    concern_about,
    own_words,
)
from bot.service import ConversationService, ReceiveResult
from nlp.safety import assess
from storage.database import Database
from storage.tables import FLAGS

Say = Callable[..., ReceiveResult]


@pytest.mark.parametrize(("said", "read"), [
    ("ADD a whiteboard by each bay", "a whiteboard by each bay"),
    ("add: Handover sheet should list who is nil by mouth", "Handover sheet should list who is nil by mouth"),
    ("YCHWANEGU bwrdd gwyn", "bwrdd gwyn"),
    ("NEW phones off at handover", "phones off at handover"),
    ("ADD", "ADD"),
    ("added pain relief helped", "added pain relief helped"),
    ("Please add more staff", "Please add more staff"),
])
def test_the_model_reads_a_proposal_without_its_word(said: str, read: str) -> None:
    assert own_words(said, ["NEW"]) == read


def test_proposals_the_model_misread_with_the_word_are_not_risks_without_it() -> None:
    check = check_from_env({"CHORUS_SAFEGUARDING": "full"})
    proposal = "ADD Handover sheet should list who is nil by mouth"
    # The word sways the model's vote towards risk. Before the ward rows of
    # nlp/safety_reference.csv (tests/test_safety_ward_language.py) it was flagged whole.
    assert assess(proposal).score > assess(own_words(proposal)).score + 0.3, "this test needs a proposal the word sways"
    assert concern_about(check, own_words(proposal)) is None
    assert concern_about(check, own_words("ADD I can't go on, I want to end it all")) is not None, "a risk is still a risk"


def test_the_background_check_gets_the_words_without_add_and_the_alert_quotes_them_whole(
    service: ConversationService, say: Say, database: Database,
) -> None:
    read: list[str] = []

    def flags_everything(texts: list[str]) -> list[Concern | None]:
        read.extend(texts)
        return [Concern("abuse", "a check that flags everything") for _ in texts]

    service.safety = SafetyChecks(thorough_batch=flags_everything)
    service._background = BackgroundChecks(flags_everything, service._raise_background_concern)
    for text in ("WAIT", "yes", "1", "2"):
        say(text)
    say("ADD a whiteboard by each bay")
    service.wait_for_safeguarding()
    assert read == ["a whiteboard by each bay"]
    with database.transaction() as connection:
        alerts = list(connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "safeguarding")).scalars())
    assert len(alerts) == 1 and "ADD a whiteboard by each bay" in alerts[0]
