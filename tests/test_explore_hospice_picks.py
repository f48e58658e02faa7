"""A carer lists the help they get at home (tests/data/hospice): every option named is kept, and
none that was not named. Two options named in full are never read as one of them."""

from __future__ import annotations

from typing import Any

import pytest

from flows.parsing import match_option, match_options
from tests.engine_chat import RecordingChat

HELP = {
    "id": "help_with",
    "type": "choice",
    "multiple": True,
    "max_picks": 3,
    "text": {"en": "What help do you get at home?", "cy": "Pa help ydych chi'n ei gael gartref?"},
    "options": [
        {"value": "nurses", "label": {"en": "Nurses", "cy": "Nyrsys"}},
        {"value": "night_sitters", "label": {"en": "Night sitters", "cy": "Gofalwyr nos"}},
        {"value": "family", "label": {"en": "Family", "cy": "Teulu"}},
        {"value": "gp", "label": {"en": "The GP", "cy": "Y meddyg teulu"}},
        {"value": "none", "label": {"en": "None", "cy": "Dim"}},
    ],
}
NAMES = [("Nurses", "Nyrsys", "nurses"), ("Night sitters", "Gofalwyr nos", "night_sitters"), ("Family", "Teulu", "family"),
         ("The GP", "Y meddyg teulu", "gp"), ("None", "Dim", "none")]


def stored(reply: str, language: str = "en", step: dict[str, Any] = HELP) -> Any:
    chat = RecordingChat(step, language=language)
    chat.send(reply)
    return [answer.value for answer in chat.recorded if answer.step_id == step["id"]]


@pytest.mark.parametrize(("reply", "language", "picks"), [
    ("Nurses and the GP, sometimes family", "en", ["nurses", "gp", "family"]),
    ("family and the gp", "en", ["family", "gp"]),
    ("nyrsys ac y meddyg teulu", "cy", ["nurses", "gp"]),
    ("nyrsys a teulu", "cy", ["nurses", "family"]),
])
def test_every_option_named_is_kept_and_no_other(reply: str, language: str, picks: list[str]) -> None:
    assert stored(reply, language) == [picks]


def test_two_options_named_in_full_are_not_one_choice() -> None:
    single = {**HELP, "id": "main_help", "multiple": False}
    single.pop("max_picks")
    assert stored("family and the gp", step=single) == []
    assert match_option("family and the gp", NAMES) is None
    assert match_option("nyrsys a teulu", NAMES) is None


@pytest.mark.parametrize("reply", ["the gp", "just the district nurse", "y meddyg teulu", "teulu"])
def test_one_option_alone_still_answers(reply: str) -> None:
    assert match_options(reply, NAMES) is not None
    assert len(match_options(reply, NAMES) or []) == 1
