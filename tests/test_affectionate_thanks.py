"""Thanks with a word of affection, as older participants write on a basic phone: '2 thank you
dear', 'YES TA LOVE', 'diolch cariad'. The thanks alone was left aside ('2 thank you' is 2 at
once), but with 'dear' after it the reply was checked first ("Just to check: 2?") or, alone,
used up a try; now the affection is politeness too (flows/parsing_normalise.py,
flows/acknowledgements.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from flows.acknowledgements import only_acknowledges
from flows.engine import Engine, Sprint, TextInput
from flows.events import RecordAnswer
from flows.model import Flow

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)
EASE = {"id": "ease", "type": "scale", "text": "How easy is it? 1 (very hard) to 5 (very easy)", "min": 1, "max": 5}
TRIPS = {"id": "trips", "type": "number", "text": "How many times did you go last month?", "min": 0, "max": 40}
WHO = {"id": "who", "type": "choice", "text": "Who are you?", "options": ["Love it", "For myself", "For someone I care for"]}
HELP = {"id": "help", "type": "yesno", "text": "Would a delivery help?"}
BYE = {"id": "bye", "type": "end", "text": "Thank you."}


def _answer(step: dict[str, Any], said: str, language: str = "en") -> tuple[list[RecordAnswer], list[str], int]:
    engine = Engine(Flow.model_validate({"flow": "f", "steps": [step, BYE]}))
    state = engine.start(NOW, language=language).state
    sprint: Sprint = engine.handle(state, TextInput(said), NOW + timedelta(seconds=30))
    answers = [e for e in sprint.events if isinstance(e, RecordAnswer)]
    return answers, [m.text for m in sprint.messages()], sprint.state.tries


@pytest.mark.parametrize(("step", "said", "value"), [
    (EASE, "2 thank you dear", 2),
    (EASE, "4 THANKS LOVE", 4),
    (TRIPS, "TWO THANK YOU DEAR", 2),
    (TRIPS, "3 ta love x", 3),
    (WHO, "2 thank you my dear", "For myself"),
    (WHO, "love it thank you", "Love it"),
    (HELP, "YES THANK YOU DEAR", "yes"),
    (HELP, "no thanks very much love", "no"),
    (EASE, "3 diolch cariad", 3),
])
def test_an_answer_with_affectionate_thanks_is_taken_at_once(step: dict[str, Any], said: str, value: Any) -> None:
    answers, texts, _ = _answer(step, said)
    assert [a.value for a in answers] == [value], texts
    assert not any(text.startswith("Just to check") for text in texts)


@pytest.mark.parametrize("said", ["thank you dear", "Thanks love", "ok dear", "OK LOVE x", "diolch cariad", "ta pet"])
def test_affectionate_thanks_alone_only_acknowledges(said: str) -> None:
    assert only_acknowledges(said)
    answers, texts, tries = _answer(EASE, said)
    assert answers == [] and texts == ["Please reply with a number from 1 to 5."] and tries == 0, "the hint, and no try used"


def test_a_story_keeps_its_words() -> None:
    story = {"id": "story", "type": "open", "text": "Tell us more."}
    answers, _, _ = _answer(story, "No ta love, they were very kind")
    assert [a.value for a in answers] == ["No ta love, they were very kind"]
    assert not only_acknowledges("dear me")
