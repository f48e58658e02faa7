"""Found writing and trying a night-shift handover study for surgical ward staff (en + cy):
"no idea", "dunno", "I have no idea" or "dwn i ddim" never picked a choice's own "Don't know"
option (three tries, then the question was skipped); "I am not sure" and "I have no idea" were
not read as unsure at all (the lead 'i' was taken before 'i am' or 'i have'), so one sent soon
after a free-text answer was glued onto that answer; and a comma inside a text in { } was
reported as "'text.worst first.' should be text, not nothing"."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.parsing import says_undecided
from flows.validate import validate_paths
from tests.engine_chat import Chat, RecordingChat

SHEET = {"id": "sheet", "type": "choice",
         "text": {"en": "Does your ward use a written handover sheet?", "cy": "Ydy eich ward yn defnyddio taflen drosglwyddo?"},
         "options": [{"value": "yes", "label": {"en": "Yes", "cy": "Ydy"}}, {"value": "no", "label": {"en": "No", "cy": "Nac ydy"}},
                     {"value": "dont_know", "label": {"en": "Don't know", "cy": "Ddim yn gwybod"}}]}
WORST = {"id": "worst", "type": "open", "text": "What went wrong at your last night handover?"}
ROLE = {"id": "role", "type": "choice", "text": "What is your role?", "options": ["Nurse", "Healthcare assistant", "Junior doctor"]}


@pytest.mark.parametrize(("language", "said"), [
    ("en", "no idea"), ("en", "dunno"), ("en", "idk"), ("en", "not sure"), ("en", "I have no idea"), ("en", "i am not sure"),
    ("en", "no idea tbh"), ("en", "honestly I have no idea"), ("cy", "dwn i ddim"), ("cy", "dim syniad"), ("cy", "ddim yn siŵr"),
])
def test_unsure_words_pick_a_dont_know_option(language: str, said: str) -> None:
    chat = RecordingChat(SHEET, language=language)
    chat.send(said)
    assert [answer.value for answer in chat.recorded] == ["dont_know"]


@pytest.mark.parametrize("said", ["neither", "no idea what you mean", "they know", "both", "i know"])
def test_other_replies_never_pick_dont_know(said: str) -> None:
    chat = RecordingChat(SHEET)
    chat.send(said)
    assert chat.recorded == []


def test_unsure_words_pick_nothing_where_no_option_says_it() -> None:
    chat = RecordingChat(ROLE)
    chat.send("no idea")
    assert chat.recorded == []


def test_a_multiple_choice_takes_dont_know_in_other_words_too() -> None:
    chat = RecordingChat({**SHEET, "multiple": True})
    chat.send("dunno")
    assert [answer.value for answer in chat.recorded] == [["dont_know"]]


@pytest.mark.parametrize("said", ["i am not sure", "I have no idea", "honestly i have no idea", "I am really not sure"])
def test_a_long_lead_before_unsure_words_is_still_unsure(said: str) -> None:
    assert says_undecided(said)


def test_i_have_no_idea_soon_after_a_story_is_not_added_to_it() -> None:
    chat = Chat(WORST, ROLE, {"id": "bye", "type": "end", "text": "Bye."})
    chat.send("The reg was bleeped four times", after=0)
    reply = chat.send("I have no idea", after=30)  # within the 90 seconds a second text is joined in
    assert chat.state.values["worst"] == "The reg was bleeped four times"
    assert "added that to your last answer" not in " ".join(m.text for m in reply.messages())


FLOW = """\
flow: first
languages: [en, cy]
steps:
  - id: problems
    type: rank
    text: {en: Put these handover problems in order, worst first., cy: "Rhowch y problemau mewn trefn."}
    options: [Starting late, Interruptions, Bleeps]
"""


def test_a_comma_inside_a_text_in_braces_is_explained(tmp_path: Path) -> None:
    path = tmp_path / "first.yaml"
    path.write_text(FLOW)
    problems = [p for p in validate_paths([path])[0] if p.severity == "error"]
    assert [(p.line, p.message, p.hint) for p in problems] == [(
        6,
        "the comma in 'Put these handover problems in order, worst first.' ends the text inside { }, "
        "so 'worst first.' was read as a key of its own",
        'put the whole text in quotes: "Put these handover problems in order, worst first."',
    )]


def test_an_empty_text_in_braces_is_still_said_as_empty(tmp_path: Path) -> None:
    path = tmp_path / "first.yaml"
    path.write_text(FLOW.replace("{en: Put these handover problems in order, worst first., cy:", "{en:, cy:"))
    messages = [p.message for p in validate_paths([path])[0] if p.severity == "error"]
    assert messages and not any("comma" in m for m in messages), messages


PROBLEMS = {"id": "problems", "type": "rank", "text": "Put these handover problems in order, worst first.",
            "options": ["Starting late", "Interruptions", "Missing information", "No quiet room", "Bleeps during handover"]}
WHOLE_ORDER = "bleeps, interruptions, missing info, late, no room"


def test_a_whole_new_order_that_moves_a_place_picked_is_asked_again_not_stored() -> None:
    chat = RecordingChat(PROBLEMS)
    chat.send("the second one")
    reply = chat.send(WHOLE_ORDER)
    assert [answer.item for answer in chat.recorded] == ["1"], "nothing stored in an order never given"
    assert reply[0] == ("You have already placed Interruptions. Please reply with the number of the next most important "
                        "option: 1, 3, 4 or 5. To change an earlier answer, reply BACK.")
    chat.send("back")
    chat.send(WHOLE_ORDER)
    assert chat.recorded[-1].value == ["Bleeps during handover", "Interruptions", "Missing information", "Starting late", "No quiet room"]


@pytest.mark.parametrize("said", ["interruptions, bleeps, missing info, late, no room", "2 5 3 1 4", "bleeps, missing info, late, no room"])
def test_an_order_that_keeps_the_places_picked_goes_on_from_them(said: str) -> None:
    chat = RecordingChat(PROBLEMS)
    chat.send("the second one")
    chat.send(said)
    assert chat.recorded[-1].value == ["Interruptions", "Bleeps during handover", "Missing information", "Starting late", "No quiet room"]


STUDY = """\
study: handover
title: Night-shift handover
languages: [en, cym]
groups: [nurse, hca, doctor]
join: {start_flow: first, keyword: HANDOVER}
flows: [first.yaml]
"""
FIRST = """\
flow: first
steps:
  - {id: consent, type: consent, text: {en: Reply YES to take part., cy: Atebwch YDW i gymryd rhan.}}
  - {id: done, type: end, text: {en: Thank you., cy: Diolch.}}
"""


def test_welsh_written_as_cym_is_named_as_cy(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(STUDY)
    (tmp_path / "first.yaml").write_text(FIRST)
    problems = validate_paths([tmp_path])[0]
    study = [p for p in problems if p.file.endswith("study.yaml") and "Chorus's own texts" in p.message]
    assert len(study) == 1 and study[0].line == 3
    assert study[0].hint.startswith("did you mean 'cy'? Chorus knows Welsh by its two-letter code 'cy'")
    flow = [p for p in problems if p.file.endswith("first.yaml") and "'cy' is not one of the languages" in p.message]
    assert [p.hint for p in flow] == ["the study lists it as 'cym': write 'cy' in the study's languages instead"]


def test_a_language_chorus_has_no_texts_in_still_gets_the_texts_hint(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(STUDY.replace("cym", "pl"))
    (tmp_path / "first.yaml").write_text(FIRST.replace("cy:", "pl:"))
    problems = [p for p in validate_paths([tmp_path])[0] if "Chorus's own texts" in p.message]
    assert [p.hint for p in problems] == ["add a 'pl' version of each under 'texts:' (chorus texts --lang pl prints them to fill in)"]
