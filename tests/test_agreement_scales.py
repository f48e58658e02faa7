"""Words on an agreement scale are read as a Likert scale reads them, not snapped to an end.

On a 1-5 scale labelled only at its ends (the System Usability Scale example: 1 = Strongly
disagree ... 5 = Strongly agree) 'agree' is 4, 'neither' 3 and 'disagree' 2, not 5 and 1. On 7
points 'agree' is 6 and 'somewhat agree' 5. Only a scale whose ends say 'strongly disagree' and
'strongly agree' (or in Welsh "anghytuno'n gryf" and "cytuno'n gryf") with 5 or 7 points reads
them so; on any other scale a word that is only part of an end's label is asked again. When
every point has a label, the labels decide."""

from __future__ import annotations

import shutil
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.loader import load_flow
from flows.model import Flow
from storage.database import Database
from storage.tables import AnswerRow

NOW = datetime(2030, 1, 1, 10, tzinfo=UTC)
EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"
SUS = load_flow(EXAMPLES / "evaluation" / "sus.yaml").flow
ENDS = {1: "Strongly disagree", 5: "Strongly agree"}
SEVEN = {"id": "q", "type": "scale", "text": "It was easy.", "min": 1, "max": 7,
         "labels": {1: {"en": "Strongly disagree", "cy": "Anghytuno'n gryf"}, 7: {"en": "Strongly agree", "cy": "Cytuno'n gryf"}}}


def answer(step: dict[str, Any] | Flow, reply: str, language: str = "en") -> tuple[Any, list[str]]:
    """The value a reply to the first question records (None when asked again), and what is said."""
    flow = step if isinstance(step, Flow) else Flow.model_validate(
        {"flow": "f", "languages": ["en", "cy"], "steps": [step, {"id": "bye", "type": "end", "text": "Bye."}]})
    engine = Engine(flow)
    state = engine.start(NOW, language=language, seed=1).state  # past the SUS example's opening message
    sprint = engine.handle(state, TextInput(reply), NOW)
    recorded = [e.value for e in sprint.events if isinstance(e, RecordAnswer)]
    return (recorded[0] if recorded else None), [m.text for m in sprint.messages()]


def scale(**changes: Any) -> dict[str, Any]:
    return {"id": "q", "type": "scale", "text": "It was easy.", "min": 1, "max": 5, "labels": ENDS, **changes}


@pytest.mark.parametrize(("reply", "point"), [
    ("agree", 4), ("Agree.", 4), ("I agree", 4), ("disagree", 2), ("I disagree", 2), ("I don't agree", 2),
    ("neutral", 3), ("neither", 3), ("neither agree nor disagree", 3), ("somewhat agree", 4), ("I tend to agree", 4),
    ("slightly disagree", 2), ("strongly agree", 5), ("I strongly agree", 5), ("agree strongly", 5), ("totally agree", 5),
    ("strongly disagree", 1), ("completely disagree", 1), ("agree with that", 4), ("agree thanks", 4),
    ("cytuno", 4), ("rwy'n cytuno", 4), ("anghytuno", 2), ("cytuno'n gryf", 5), ("anghytuno'n gryf", 1),
    ("ddim yn cytuno", 2), ("niwtral", 3), ("4", 4), ("the last one", 5),
])
def test_the_sus_example_reads_agreement_as_a_likert_scale_does(reply: str, point: int) -> None:
    assert answer(SUS, reply)[0] == point


def test_agree_on_the_sus_example_is_no_longer_the_top_of_the_scale() -> None:
    assert [answer(SUS, reply)[0] for reply in ("agree", "disagree")] == [4, 2]


@pytest.mark.parametrize(("reply", "point"), [
    ("strongly disagree", 1), ("disagree", 2), ("somewhat disagree", 3), ("neither", 4), ("slightly agree", 5),
    ("somewhat agree", 5), ("agree", 6), ("I agree", 6), ("strongly agree", 7), ("cytuno", 6), ("tueddu i gytuno", 5),
    ("cytuno rhywfaint", 5), ("anghytuno", 2), ("cytuno'n gryf", 7),
])
def test_a_seven_point_agreement_scale_has_its_own_points(reply: str, point: int) -> None:
    assert answer(SEVEN, reply)[0] == point


@pytest.mark.parametrize(("reply", "point"), [("cytuno", 6), ("anghytuno", 2), ("rwy'n cytuno'n gryf", 7), ("agree", 6)])
def test_a_welsh_participant_agreeing_in_welsh_or_english(reply: str, point: int) -> None:
    assert answer(SEVEN, reply, language="cy")[0] == point


def test_a_scale_labelled_only_in_welsh_is_an_agreement_scale() -> None:
    welsh = scale(labels={1: "Anghytuno'n gryf", 5: "Cytuno'n gryf"})
    assert [answer(welsh, reply)[0] for reply in ("cytuno", "anghytuno", "cytuno'n gryf")] == [4, 2, 5]


def test_a_scale_from_agree_to_disagree_is_read_the_other_way_round() -> None:
    reversed_scale = scale(labels={1: "Strongly agree", 5: "Strongly disagree"})
    assert [answer(reversed_scale, reply)[0] for reply in ("agree", "disagree", "strongly agree", "neutral")] == [2, 4, 1, 3]


@pytest.mark.parametrize("reply", ["strongly", "agree and disagree", "don't strongly agree", "maybe agree", "agree 4 or 5"])
def test_agreement_not_clearly_one_point_is_asked_again(reply: str) -> None:
    value, said = answer(SUS, reply)
    assert value is None
    assert said[0] == "Please reply with a number from 1 to 5."


@pytest.mark.parametrize("points", [4, 6, 9])
def test_other_sizes_ask_again_for_a_part_of_an_end_label(points: int) -> None:
    step = scale(max=points, labels={1: "Strongly disagree", points: "Strongly agree"})
    assert answer(step, "agree") == (None, [f"Please reply with a number from 1 to {points}."])
    assert answer(step, "disagree")[0] is None
    assert answer(step, "strongly agree")[0] == points, "a whole label is still its point"


@pytest.mark.parametrize(("reply", "point"), [
    ("important", None), ("very important", None), ("very critical", None), ("fairly critical", None),
    ("critical", 9), ("Critical!", 9), ("crtical", 9), ("not important", 1), ("Not important thanks", 1),
])
def test_other_end_labels_take_only_their_whole_words(reply: str, point: int | None) -> None:
    grade = scale(max=9, labels={1: "Not important", 9: "Critical"})
    value, said = answer(grade, reply)
    assert value == point
    if point is None:
        assert said == ["Please reply with a number from 1 to 9."]


def test_a_label_in_the_middle_is_taken_when_said_whole() -> None:
    step = scale(labels={1: "Strongly disagree", 3: "Unsure", 5: "Strongly agree"})
    assert [answer(step, reply)[0] for reply in ("unsure", "agree", "strongly disagree")] == [3, 4, 1]


FULL = {"id": "q", "type": "scale", "text": "It was easy.",
        "labels": ["Strongly disagree", "Somewhat disagree", "Neutral", "Somewhat agree", "Strongly agree"]}


@pytest.mark.parametrize(("reply", "point"), [
    ("somewhat agree", 4), ("Somewhat disagree", 2), ("neutral", 3), ("strongly agree", 5), ("agree", 4), ("disagree", 2),
])
def test_when_every_point_has_a_label_the_labels_decide(reply: str, point: int) -> None:
    assert answer(FULL, reply)[0] == point


def test_every_point_labelled_with_other_words_keeps_its_labels() -> None:
    pulse = {"id": "q", "type": "scale", "text": "How was the week?", "labels": ["Very bad", "Bad", "OK", "Good", "Very good"]}
    assert [answer(pulse, reply)[0] for reply in ("good", "bad", "very good", "ok")] == [4, 2, 5, 3]
    assert answer(pulse, "agree")[0] is None


# ----------------------------------------------------------------------------- stored


@pytest.fixture
def example_study_path(tmp_path: Path) -> Path:
    """The SUS example flow as a study of its own, joined by texting SUS."""
    folder = tmp_path / "sus-study"
    folder.mkdir()
    shutil.copy(EXAMPLES / "evaluation" / "sus.yaml", folder / "sus.yaml")
    (folder / "study.yaml").write_text("study: usability\ntitle: Usability\nlanguages: [en]\n"
                                       "join:\n  keyword: SUS\n  start_flow: sus\nflows: [sus.yaml]\n", encoding="utf-8")
    return folder


def test_the_stored_sus_answers_are_the_points_the_words_mean(
        say: Callable[..., ReceiveResult], service: ConversationService, database: Database) -> None:
    joined = say("SUS")
    assert joined.participant_id is not None
    for reply in ("agree", "disagree", "strongly agree", "neither", "maybe agree", "4"):
        say(reply)
    assert service.outbox_for(joined.participant_id)[-2].text == "Please reply with a number from 1 to 5."
    with database.reading() as session:
        rows = session.exec(select(AnswerRow).where(AnswerRow.participant_id == joined.participant_id)).all()
    stored = sorted((row.step_id, row.value) for row in rows)
    assert stored == [("sus_1", 4), ("sus_2", 2), ("sus_3", 5), ("sus_4", 3), ("sus_5", 4)]
