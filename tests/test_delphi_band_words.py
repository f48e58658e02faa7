"""A Delphi score given as the words the prompt shows for a band ("7-9 critical"; Welsh
"7-9 hanfodol"): found by a tester whose simulated stroke survivors replied "critical". It was
told only "Please reply with a number from 1 to 9" and, said three times, the item was left
unscored. Now it is asked which number in that band, using no try."""

from __future__ import annotations

from datetime import UTC, datetime

from flows.engine import Engine, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow

NOW = datetime(2030, 3, 1, 10, 0, tzinfo=UTC)


def _run(replies: list[str], language: str = "en", scale: dict[str, object] | None = None) -> tuple[list[str], list[object]]:
    step: dict[str, object] = {"id": "rate", "type": "delphi", "items": ["Early therapy", "Key worker"]}
    if scale is not None:
        step["scale"] = scale
    engine = Engine(Flow.model_validate({"flow": "r1", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]}))
    sprint = engine.start(NOW, language=language)
    said: list[str] = []
    scores: list[object] = []
    for reply in replies:
        sprint = engine.handle(sprint.state, TextInput(reply), NOW)
        said += [e.text for e in sprint.events if isinstance(e, SendMessage)]
        scores += [e.value["score"] for e in sprint.events if isinstance(e, RecordAnswer) and e.item]
    return said, scores


def test_a_band_s_label_asks_which_number_in_it_using_no_try() -> None:
    said, scores = _run(["critical", "Critical please", "critical", "not important", "8"])
    assert said[0] == '"critical" is 7 to 9. Which number?', said
    assert said[3] == '"not important" is 1 to 3. Which number?', said
    assert scores == [8], "four band replies used no try: the item was still asked, and 8 is its score"


def test_the_middle_band_and_the_flow_s_own_labels() -> None:
    said, _ = _run(["important but not critical"])
    assert said == ['"important but not critical" is 4 to 6. Which number?']
    said, _ = _run(["essential"], scale={"min": 0, "max": 10, "high_label": "essential"})
    assert said == ['"essential" is 7 to 10. Which number?']


def test_welsh_band_words_are_answered_in_welsh() -> None:
    said, scores = _run(["hanfodol", "9"], language="cy")
    assert said[0] == 'Mae "hanfodol" yn 7 i 9. Pa rif?', said
    assert scores == [9]


def test_other_words_still_get_the_hint() -> None:
    said, _ = _run(["very critical indeed"])
    assert "number from 1 to 9" in said[0], said
