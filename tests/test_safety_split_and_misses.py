"""The safety net split into short modules keeps its names importable from nlp.safety; and three
misses are closed:

* medicines hoarded ("i keep counting my tablets") are flagged by the phrase patterns, ordinary
  counting and collecting of medicines ("I counted my tablets for the week into the dosette box",
  "collecting my tablets from the pharmacy") is not. The examples here were written for this
  test; the labelled sets of scripts/bench/safety.py were measured, not tuned on;
* a name after "I'm" that is not in nlp/given_names.txt is masked ("I'm Zorawar"), ordinary
  words after it are not ("I'm Tired", "I am Diabetic", "I'm Welsh");
* the transcript of a voice note in a language the speech model cannot hear is read by the
  phrase patterns, so a risk in it still reaches the coordinator.

Fast: no model, no server (the service runs in-process on SQLite).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.safeguarding import UNHEARD, checks_from_env, concern_in_unheard
from bot.service import ConversationService, ReceiveResult
from channels.base import Media
from nlp import (
    safety,
    safety_medicines,
    safety_patterns,
    safety_reference,
    safety_text,
    safety_vote,
)
from nlp.redact import redact
from nlp.safety import lexicon_match
from storage.database import Database
from storage.tables import FLAGS, OUTBOUND

Say = Callable[..., ReceiveResult]
NLP = Path(safety.__file__).parent

# ----------------------------------------------------------------------------- the split

PUBLIC = ["SafetyResult", "assess", "assess_batch", "lexicon_match", "similarity_match", "THRESHOLD",
          "MEDICINE_THRESHOLD", "choose_thresholds", "choose_threshold", "cross_validated", "names_medicine",
          "reference_rows", "everyday_rows", "content_words", "warm_up", "PATTERNS", "IDIOMS", "normalise",
          "CATEGORY_REASONS", "vote", "nearest", "among_medicines", "REFERENCE", "NEIGHBOURS", "MIN_CONTENT_WORDS",
          "EVERYDAY_MARGIN", "TARGET_RECALL", "MEDICINE_FALSE_ALARMS", "FUNCTION_WORDS", "Reference", "Thresholds"]


@pytest.mark.parametrize("name", PUBLIC)
def test_every_name_the_repository_imports_from_nlp_safety_is_still_there(name: str) -> None:
    assert hasattr(safety, name), name


def test_nlp_safety_names_the_same_objects_as_the_modules_it_was_split_into() -> None:
    assert safety.lexicon_match is safety_patterns.lexicon_match
    assert safety.PATTERNS is safety_patterns.PATTERNS and safety.PATTERNS["overdose"] is safety_medicines.OVERDOSE
    assert safety.normalise is safety_text.normalise and safety.names_medicine is safety_medicines.names_medicine
    assert safety.reference_rows is safety_reference.reference_rows and safety.similarity_match is safety_vote.similarity_match
    assert safety.THRESHOLD == safety_vote.THRESHOLD and safety.REFERENCE.name == "safety_reference.csv"


def test_each_safety_module_is_short() -> None:
    lengths = {path.name: len(path.read_text(encoding="utf-8").splitlines()) for path in NLP.glob("safety*.py")}
    assert len(lengths) >= 5, lengths
    assert max(lengths.values()) <= 200, lengths


def test_the_categories_and_their_order_are_as_before() -> None:
    """lexicon_match reports the first category found: the order decides ("overdose" before "abuse")."""
    assert list(safety.PATTERNS) == ["suicide", "self_harm", "overdose", "abuse", "medical"]
    assert lexicon_match("he hides my tablets") == ("abuse", "hides my tablets")
    assert lexicon_match("took 40 paracetamol") == ("overdose", "took 40 paracetamol")

# ----------------------------------------------------------------------------- medicines hoarded


@pytest.mark.parametrize("text", [
    "i keep counting my tablets",
    "I keep counting the pills in my drawer to see if there's enough",
    "kept recounting all my sleeping tablets last night",
    "counting and recounting my pills",
    "my tablets, i keep counting them over and over",
    "I count my painkillers again and again",
    "ive been collecting tablets for months",
    "gathering up spare pills from all over the house",
    "building up a supply of tablets",
    "my meds, i have been saving them up",
    "keeping my antidepressants instead of taking them",
    "stockpiling my meds",
    "saving up my tablets",
])
def test_medicines_hoarded_are_flagged_by_the_patterns(text: str) -> None:
    found = lexicon_match(text)
    assert found is not None and found[0] == "overdose", (text, found)


@pytest.mark.parametrize("text", [
    "I counted my tablets for the week into the dosette box",
    "I count my tablets out every Sunday",
    "the pharmacist counted out 28 tablets for me",
    "I have to count my pills to check I took them",
    "I keep count of my tablets in a notebook",
    "they keep counting my tablets wrong at the pharmacy",
    "collecting my tablets from the pharmacy",
    "I collect my prescription from the pharmacy every month",
    "my son has been collecting my prescription for years",
    "collected extra tablets before my holiday",
    "collecting old pills to take back to the chemist",
    "I keep my tablets in the kitchen drawer",
    "I keep forgetting my tablets",
    "I keep running out of pills before the repeat is ready",
    "we save money with a prepayment certificate for my tablets",
])
def test_ordinary_counting_and_collecting_of_medicines_is_not(text: str) -> None:
    assert lexicon_match(text) is None, lexicon_match(text)

# ----------------------------------------------------------------------------- names after "I'm"


@pytest.mark.parametrize(("text", "masked"), [
    ("I'm Zorawar and my mum waited 6 hours", "I'm [NAME] and my mum waited 6 hours"),
    ("I am Kwabena, the nurse was kind", "I am [NAME], the nurse was kind"),
    ("Hello, I'm Zorawar Singh.", "Hello, I'm [NAME]."),
    ("hi im zorawar, my mum waited 6 hours", "hi im [NAME], my mum waited 6 hours"),
    ("my name is zorawar and i waited", "my name is [NAME] and i waited"),
    ("im sarah and i waited all night", "im [NAME] and i waited all night"),
])
def test_a_name_after_an_introduction_is_masked_though_unlisted(text: str, masked: str) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize("text", [
    "I'm Tired of waiting", "I'm Fine thanks", "I am Diabetic and nobody checked", "I'm Welsh and proud",
    "I'm Frustrated with the parking", "I'm Struggling to get an appointment", "I'm Nigerian and my GP was great",
    "I'm Really Tired Of Waiting For Hours At The Clinic",
    "im zorawar and my mum waited 6 hours",  # lower case with no greeting: "im tired" is the usual thing
    "hi im tired of waiting", "my name is spelt wrong on the letter", "as regards parking it was awful",
])
def test_ordinary_words_after_an_introduction_are_left(text: str) -> None:
    assert redact(text) == text

# ----------------------------------------------------------------------------- a voice note not heard

VOICE = (Media("https://media.example.org/note.ogg", "audio/ogg"),)


@pytest.fixture
def database_kind() -> str:
    """SQLite only: the service's reading of a transcript is under test, not the storage."""
    return "sqlite"


def unheard(text: str) -> dict[str, Any]:
    """The failed transcript row bot/voice.py stores for a note the model could not hear."""
    return {"model": "tiny.en (packaged)", "content_type": "audio/ogg", "audio_bytes": 2000, "audio_path": None,
            "seconds": 0.8, "language": "cy", "duration": 3.0, "avg_logprob": -0.9, "no_speech_prob": 0.1,
            "confidence": 0.41, "low_confidence": True, "text": text, "status": "failed",
            "error_kind": "language_unsupported"}


def send_unheard(service: ConversationService, say: Say, text: str) -> str:
    """A Welsh speaker at the story question sends a voice note the model cannot hear; the
    pipeline's reply (as bot/voice.py makes it) carries the made-up ``text``."""
    for reply in ("WAIT", "CYMRAEG", "yes", "patient", "2"):
        say(reply)
    note = say("", media=VOICE)
    assert note.inbound_id is not None and note.participant_id is not None
    service.voice_reply(note.inbound_id, "voice.language_unsupported", status="transcription_failed",
                        error="language_unsupported: the model hears English only",
                        flag=("voice_failed", f"voice note {note.inbound_id}: language_unsupported"),
                        transcript=unheard(text))
    return note.participant_id


def flags(database: Database) -> list[Any]:
    with database.transaction() as connection:
        return list(connection.execute(select(FLAGS).order_by(FLAGS.c.id)).all())


def test_a_risk_in_the_transcript_of_a_voice_note_not_heard_is_flagged_to_the_coordinator(
    service: ConversationService, database: Database, say: Say,
) -> None:
    participant = send_unheard(service, say, "i keep counting my tablets, there's nearly enough now")
    raised = {row.kind: row for row in flags(database)}
    assert set(raised) == {"voice_failed", "safeguarding"}
    concern = raised["safeguarding"]
    assert "possible overdose" in concern.message and UNHEARD in concern.message
    assert 'they wrote: "i keep counting my tablets' in concern.message, "the coordinator reads what raised it"
    assert concern.step_id == "story" and concern.study_id == "ae-waiting" and not concern.acknowledged
    with database.transaction() as connection:
        kinds = list(connection.execute(select(OUTBOUND.c.kind).where(OUTBOUND.c.participant_id == participant)).scalars())
    assert "signposting" not in kinds, "the participant is asked to type, not sent crisis text on words they may not have said"


def test_an_ordinary_transcript_not_heard_raises_only_the_voice_flag(
    service: ConversationService, database: Database, say: Say,
) -> None:
    send_unheard(service, say, "Raw there are stuff in our Nick in Dwayne")
    assert [row.kind for row in flags(database)] == ["voice_failed"]


def test_with_safeguarding_off_the_unheard_transcript_is_not_read(
    service: ConversationService, database: Database, say: Say,
) -> None:
    service.safety = checks_from_env({"CHORUS_SAFEGUARDING": "off"})
    send_unheard(service, say, "i want to kill myself")
    assert [row.kind for row in flags(database)] == ["voice_failed"]


def test_the_unheard_check_reads_only_the_patterns_and_says_the_words_may_be_made_up() -> None:
    patterns = checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}).quick
    found = concern_in_unheard(patterns, "I took 30 paracetamol")
    assert found is not None and found.category == "overdose" and found.reason.endswith(UNHEARD)
    assert concern_in_unheard(patterns, "") is None and concern_in_unheard(None, "I want to die") is None
