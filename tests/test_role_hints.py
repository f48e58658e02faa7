"""From a maternity study: "Are you a mother or a midwife?" saves the participant's group.

A choice whose options no participant saw numbered (named in its text, or on one "(Reply
Mother or Midwife)" line, or as buttons) is asked again in its options' words ("Please reply
Mother or Midwife."), not "Please reply 1 or 2"; where a numbered list was shown the numbers
stay. A story typed at such a question uses a try and is not kept as an answer, so after the
tries the step is skipped and the group never set: ``chorus validate`` warns of a step that
saves a field a later condition reads (the group, for wording per group), left to the default
``on_max_tries: skip``.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.built_in_texts import BUILT_IN_TEXTS
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import Button, RaiseFlag, RecordAnswer, RecordComment, SetField
from flows.loader import Problem
from flows.model import Flow
from flows.sms import sms_text
from flows.steps.base import StepContext
from flows.steps.choice import ChoiceStep
from flows.validate import validate_paths

NOW = datetime(2030, 5, 6, 9, 0, tzinfo=UTC)
ROLE: dict[str, Any] = {
    "id": "role", "type": "choice", "save_to": "participant.group",
    "text": {"en": "Are you a mother or a midwife?", "cy": "Ydych chi'n fam neu'n fydwraig?"},
    "options": [{"value": "mother", "label": {"en": "Mother", "cy": "Mam"}},
                {"value": "midwife", "label": {"en": "Midwife", "cy": "Bydwraig"}}],
}
STORY = {"id": "story", "type": "open",
         "text": "Tell us about {% if participant.group == 'midwife' %}your last night shift{% else %}your birth{% endif %}."}
BYE = {"id": "bye", "type": "end", "text": "Thank you."}
TOLD = ("I had my baby in March. The night staff were lovely but discharge took all day "
        "and nobody explained the feeding. I was on my own at 3am with no help.")


class Chat:
    def __init__(self, *steps: dict[str, Any], language: str = "en") -> None:
        flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [*steps, BYE]})
        self.engine = Engine(flow)
        self.state: SessionState = self.engine.start(NOW, language=language).state
        self.events: list[Any] = []
        self.now = NOW

    def send(self, text: str) -> list[str]:
        """A reply five minutes after the last (the time a participant takes to answer)."""
        self.now += timedelta(minutes=5)
        sprint: Sprint = self.engine.handle(self.state, TextInput(text), self.now)
        self.state = sprint.state
        self.events += sprint.events
        return [m.text for m in sprint.messages()]


def choice(text: str, *labels: str) -> dict[str, Any]:
    return {"id": "pick", "type": "choice", "text": text, "options": list(labels)}


# ----------------------------------------------------------------------------- the hint names what was shown


def test_options_named_in_the_question_are_hinted_by_their_words() -> None:
    chat = Chat(ROLE, STORY)
    assert chat.send("purple") == ["Please reply Mother or Midwife."]
    assert chat.send("midwife") == ["Tell us about your last night shift."]


def test_in_welsh_the_hint_names_the_welsh_words() -> None:
    assert Chat(ROLE, language="cy").send("dim syniad") == ["Atebwch Mam neu Bydwraig."]


def test_one_word_options_on_a_reply_line_are_hinted_by_their_words() -> None:
    step = choice("Who are you?", "Mother", "Midwife", "Doula")
    assert sms_text("Who are you?", [Button(label, label) for label in ("Mother", "Midwife", "Doula")]) \
        == "Who are you?\n(Reply Mother, Midwife or Doula)"
    assert Chat(step).send("purple") == ["Please reply Mother, Midwife or Doula."]


@pytest.mark.parametrize(("labels", "hint"), [
    (["A mother who gave birth here", "A midwife on the ward"], "Please reply 1 or 2 (or the words)."),
    (["A mother who gave birth here", "A midwife on the ward", "Someone else"], "Please reply with a number from 1 to 3."),
    (["1", "2", "3", "4"], "Please reply with a number from 1 to 4."),
])
def test_options_shown_as_a_numbered_list_keep_their_numbers(labels: list[str], hint: str) -> None:
    assert Chat(choice("Which best describes you?", *labels)).send("purple") == [hint]


@pytest.mark.parametrize("labels", [
    ["Mother", "Midwife"], ["Mother", "Midwife", "Doula"], ["Yes", "No", "Not sure"], ["Mornings", "Evenings"],
    ["A mother who gave birth here", "A midwife on the ward"], ["Patient or carer", "Staff"], ["1", "2", "3"],
    ["Very poor", "Poor", "Good"],
])
def test_the_hint_has_a_number_only_when_the_sms_prompt_shows_one(labels: list[str]) -> None:
    text = "Are you a mother or a midwife?"
    shown = sms_text(text, [Button(label, label) for label in labels])
    numbered = shown != text and bool(re.search(r"\d", shown[len(text):]))
    hint = Chat(choice(text, *labels)).send("purple")[0]
    assert bool(re.search(r"\d", hint)) == numbered, (shown, hint)


def test_what_is_not_wanted_is_said_back_in_words_when_no_number_was_shown() -> None:
    step = choice("Are you a mother, a midwife or a doula?", "Mother", "Midwife", "Doula")
    assert Chat(step).send("anything but doula") == ["OK, not Doula. Which one, then? Please reply Mother or Midwife."]
    assert Chat(step).send("none of them") == ["None of these? Please reply with the closest one: Mother, Midwife or Doula."]


def test_what_is_not_wanted_keeps_numbers_where_they_were_shown() -> None:
    step = choice("Which best describes you?", "A mother who gave birth here", "A midwife on the ward", "Someone else")
    assert Chat(step).send("anything but someone else") == ["OK, not Someone else. Which one, then? Please reply 1 or 2."]


def test_a_tapped_button_or_a_typed_number_still_answers_an_unnumbered_choice() -> None:
    chat = Chat(ROLE, STORY)
    chat.send("2")
    assert chat.state.fields == {"group": "midwife"}


def test_shows_numbers_reads_the_text_as_rendered() -> None:
    step = ChoiceStep.model_validate({"id": "x", "text": "A) Mornings\nB) Evenings", "options": ["A", "B"]})
    ctx = StepContext(language="en", default_language="en", render=lambda text: str(text or ""))
    assert not step.shows_numbers(ctx, ["A", "B"])


def test_the_new_texts_are_in_english_and_welsh() -> None:
    for key in ("hint_choice_words", "hint_choice_none_words"):
        assert set(BUILT_IN_TEXTS[key]) == {"en", "cy"}
        assert "{choices}" in BUILT_IN_TEXTS[key]["en"] and "{choices}" in BUILT_IN_TEXTS[key]["cy"]


# ----------------------------------------------------------------------------- a story at the question


NOTED = ["Thank you, we've noted that.", "Are you a mother or a midwife?"]


def test_a_story_at_the_role_question_is_kept_then_uses_tries_and_the_group_is_never_set() -> None:
    """The first three stories are kept as comments and cost no try (flows/asides.py); after
    that each is still kept but uses a try, so the question can still be skipped."""
    chat = Chat(ROLE, STORY)
    assert [chat.send(TOLD) for _ in range(3)] == [NOTED] * 3
    for _ in range(2):
        assert chat.send(TOLD) == ["Please reply Mother or Midwife."]
    assert chat.send(TOLD) == ["Let's leave that one and move on.", "Tell us about your birth."]
    assert "group" not in chat.state.fields
    assert not [e for e in chat.events if isinstance(e, SetField)]
    assert [(e.raw, e.skipped) for e in chat.events if isinstance(e, RecordAnswer)] == [("", True)], "no answer stored"
    assert [(e.step_id, e.text) for e in chat.events if isinstance(e, RecordComment)] == [("role", TOLD)] * 6


def test_with_on_max_tries_flag_the_team_is_told() -> None:
    chat = Chat({**ROLE, "on_max_tries": "flag"}, STORY)
    for _ in range(6):
        said = chat.send(TOLD)
    assert said[0] == "Thanks. Someone from the team will look at your answer."
    assert [(e.kind, e.step_id) for e in chat.events if isinstance(e, RaiseFlag)] == [("max_tries", "role")]


# ----------------------------------------------------------------------------- chorus validate


def _warnings(tmp_path: Path, steps: list[dict[str, Any]], phrase: str = "unclear replies") -> list[Problem]:
    path = tmp_path / "f.yaml"
    path.write_text(yaml.safe_dump({"flow": "f", "steps": [*steps, BYE]}, sort_keys=False), encoding="utf-8")
    problems, _ = validate_paths([path])
    return [p for p in problems if phrase in p.message]


ENGLISH_ROLE = {**ROLE, "text": "Are you a mother or a midwife?",
                "options": [{"value": "mother", "label": "Mother"}, {"value": "midwife", "label": "Midwife"}]}


def test_validate_warns_of_a_group_step_left_to_be_skipped(tmp_path: Path) -> None:
    found = _warnings(tmp_path, [ENGLISH_ROLE, STORY])
    assert len(found) == 1
    warning = found[0]
    assert warning.severity == "warning"
    assert "step 'role' saves participant.group" in warning.message and "after 3 unclear replies" in warning.message
    assert "(step 'story')" in warning.message
    assert "'on_max_tries: flag'" in warning.hint
    lines = (tmp_path / "f.yaml").read_text(encoding="utf-8").splitlines()
    assert lines[warning.line - 1].strip() == "save_to: participant.group"


@pytest.mark.parametrize("written", ["flag", "end", "skip"])
def test_an_on_max_tries_written_out_is_taken_as_meant(tmp_path: Path, written: str) -> None:
    assert _warnings(tmp_path, [{**ENGLISH_ROLE, "on_max_tries": written}, STORY]) == []


def test_validate_warns_of_a_field_a_later_condition_reads(tmp_path: Path) -> None:
    feeding = {"id": "feeding", "type": "choice", "text": "Breast or bottle?", "options": ["Breast", "Bottle"],
               "save_to": "participant.feeding"}
    support = {"id": "support", "type": "open", "text": "Who helped you?",
               "next": [{"if": "participant.feeding == 'Breast'", "goto": "latch"}]}
    latch = {"id": "latch", "type": "open", "text": "How was the latch?"}
    found = _warnings(tmp_path, [feeding, support, latch])
    assert len(found) == 1 and "participant.feeding" in found[0].message and "'support'" in found[0].message


def test_a_field_read_in_a_text_s_if_counts_and_one_only_echoed_does_not(tmp_path: Path) -> None:
    name = {"id": "baby", "type": "open", "text": "Baby's name?", "save_to": "participant.baby"}
    echoed = {"id": "echo", "type": "open", "text": "How is {{ participant.baby }}?"}
    branched = {"id": "echo", "type": "open", "text": "How is {% if participant.baby %}your baby{% endif %}?"}
    assert _warnings(tmp_path, [name, echoed]) == []
    assert len(_warnings(tmp_path, [name, branched])) == 1


def test_a_group_read_only_before_the_step_or_not_at_all_is_not_warned_of(tmp_path: Path) -> None:
    gate = {"id": "gate", "type": "message", "text": "Hello.",
            "next": [{"if": "participant.group == 'midwife'", "goto": "bye"}]}
    plain = {"id": "story", "type": "open", "text": "Tell us about your birth."}
    assert _warnings(tmp_path, [gate, ENGLISH_ROLE, plain]) == [], "a group from the way in, checked before it is asked"
    assert _warnings(tmp_path, [ENGLISH_ROLE, plain]) == []


def test_a_condition_read_round_a_loop_counts(tmp_path: Path) -> None:
    gate = {"id": "gate", "type": "message", "text": "{% if participant.group == 'midwife' %}Next shift.{% else %}Next day.{% endif %}"}
    again = {"id": "again", "type": "yesno", "text": "Another?", "next": [{"if": "answer == 'yes'", "goto": "gate"}]}
    found = _warnings(tmp_path, [gate, ENGLISH_ROLE, again])
    assert len(found) == 1 and "(step 'gate')" in found[0].message
