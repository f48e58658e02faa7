"""Close misspellings of YES and NO are read (the README promises it), conservatively: a typo
is read only as the one word it can be, and nothing that says no (or could be another word) is
ever read as yes."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.loader import load_study
from flows.parsing import parse_yes_no

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"


@pytest.mark.parametrize("reply", [
    "yse", "Yse!", "YSE", "eys", "yse please", "yse thanks", "yse, happy to", "yaeh", "yeha", "ype", "ypu",
    "suer", "okya", "oaky", "agere", "i agere", "definately", "absolutly", "certianly", "consnet", "i consnet",
    "yse definitely", "no porblem",
])
def test_a_misspelt_yes_is_yes(reply: str) -> None:
    assert parse_yes_no(reply) is True


@pytest.mark.parametrize("reply", ["noep", "npoe", "nha", "definately not", "absolutly not", "i do not consnet"])
def test_a_misspelt_no_is_no(reply: str) -> None:
    assert parse_yes_no(reply) is False


@pytest.mark.parametrize("reply", [
    "yes no", "not yes", "yse no", "no yse", "yse but no", "ydw nag ydw",  # both at once
    "yesterday", "yet", "yeti", "hope", "sue", "tes", "yrs", "ys", "yesh", "content", "certainty", "on",  # other words
    "dyw",  # Welsh 'is not', two letters of 'ydw' swapped
    "maybe yse", "not sure",
])
def test_what_is_not_clearly_yes_is_not_read_as_yes(reply: str) -> None:
    assert parse_yes_no(reply) is not True


@pytest.mark.parametrize("reply", ["nope", "nah", "no", "no thanks", "nac ydw", "na", "nag ydw", "nag oes", "nadw", "na diolch",
                                   "i dont consent"])
def test_no_words_stay_no(reply: str) -> None:
    assert parse_yes_no(reply) is False


@pytest.mark.parametrize("reply", ["ydw", "ie", "yndw", "ydw diolch", "ie plis", "oes"])
def test_welsh_yes(reply: str) -> None:
    assert parse_yes_no(reply) is True


def test_yse_at_consent_takes_part() -> None:
    study = load_study(EXAMPLE)
    loaded = study.flows["understand"]
    engine = Engine(loaded.flow, study.study, loaded.version)
    now = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
    state = engine.start(now).state
    sprint = engine.handle(state, TextInput("yse"), now)
    assert [(e.step_id, e.value) for e in sprint.events if isinstance(e, RecordAnswer)] == [("consent", "yes")]
    assert sprint.messages()[0].text == "Which best describes you?"
