"""The hospice study's Delphi round (tests/data/hospice/round1.yaml), played as a carer: a number
typed at "Why did you give that score?" is never kept as the reason, on the scale or off it."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest

from bot.chat import START_OF_TIME, open_target
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer

HOSPICE = Path(__file__).parent / "data" / "hospice"


def reasons_kept(*replies: str) -> list[str]:
    """Each reason recorded for a Delphi score, playing round1 from its start."""
    target = open_target(HOSPICE, "round1")
    loaded = target.flows["round1"]
    engine = Engine(loaded.flow, target.study, loaded.version)
    state = engine.start(START_OF_TIME, language="en", fields={"group": "carer"}).state
    kept: list[str] = []
    for minute, reply in enumerate(replies, start=1):
        sprint = engine.handle(state, TextInput(reply), START_OF_TIME + timedelta(minutes=minute))
        state = sprint.state
        kept += [e.value["reason"] for e in sprint.events
                 if isinstance(e, RecordAnswer) and isinstance(e.value, dict) and e.value.get("reason")]
    return kept


@pytest.mark.parametrize("number", ["ten", "10", "0", "7.5", "twenty"])
def test_a_number_off_the_scale_is_no_reason(number: str) -> None:
    assert reasons_kept("9", number, "the night line never answers") == ["the night line never answers"]


def test_a_reason_in_words_is_kept() -> None:
    assert reasons_kept("1", "it matters less to us") == ["it matters less to us"]
