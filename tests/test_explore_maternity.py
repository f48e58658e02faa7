"""What an exploratory run of a maternity study found (postnatal women and midwives on nights,
texting from basic phones): a sign-off kiss ("later x", "busy x", "stop x") or a casual
"later on" / "l8r" / "can u ask me later" was stored as the answer to a free-text question
instead of putting it off or obeying the word."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.engine import Engine, Sprint, TextInput
from flows.events import OptedOut, RecordAnswer, ScheduleTask
from flows.message_checks import TEMPLATE_STAND_IN, longest_reading
from flows.model import Flow
from flows.validate import validate_paths
from tests.engine_chat import NOW, Chat

STORY = {"id": "story", "type": "open", "text": "What was your care like after your baby was born?"}
CHANGE = {"id": "change", "type": "open", "text": "If you could change one thing, what would it be?"}
THANKS = {"id": "thanks", "type": "end", "text": "Thank you."}



def answers(sprint: Sprint) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer)]


def snoozed(sprint: Sprint) -> bool:
    return any(isinstance(e, ScheduleTask) and e.kind == "snooze" for e in sprint.events)


# ----------------------------------------------------------------------------- a kiss or slang around LATER


@pytest.mark.parametrize("said", [
    "later x", "Later xx", "later, thanks x", "later please x", "busy x", "not now xx", "later on", "l8r",
    "can u ask me later", "could u text me later",
])
def test_a_casual_later_on_a_free_text_question_puts_it_off(said: str) -> None:
    chat = Chat(STORY, CHANGE, THANKS)
    sprint = chat.send(said)
    assert answers(sprint) == []
    assert snoozed(sprint)
    assert chat.state.step == "story"


@pytest.mark.parametrize("said", ["stop x", "STOP xx", "Stop it x", "stop ta", "stop cheers", "stop msging me"])
def test_stop_with_a_kiss_stops(said: str) -> None:
    chat = Chat(STORY, CHANGE, THANKS)
    sprint = chat.send(said)
    assert answers(sprint) == []
    assert any(isinstance(e, OptedOut) for e in sprint.events)


@pytest.mark.parametrize("said", ["x", "xx", "the night was a blur x", "6 weeks x"])
def test_an_answer_with_a_kiss_is_still_the_answer(said: str) -> None:
    chat = Chat(STORY, CHANGE, THANKS)
    sprint = chat.send(said)
    assert [a.step_id for a in answers(sprint)] == ["story"]
    assert not snoozed(sprint)


# ----------------------------------------------------------------------------- SMS segments of group-specific wording

GROUP_WORDING = """\
flow: listen
steps:
  - id: story
    type: open
    text: "{% if participant.group == 'midwife' %}What gets in the way of good postnatal care on your shifts?\
{% else %}What was your care like after your baby was born?{% endif %}\
{% if participant.channel != 'sms' %} Type, or send a voice note.{% endif %}"
  - id: bye
    type: end
    text: Thank you.
"""


def test_a_text_worded_per_group_is_counted_as_one_group_gets_it(tmp_path: Path) -> None:
    """Each participant gets one branch of an {% if %}: the longest is what is counted, not
    every branch glued together with a stand-in for each tag (181 characters, 2 segments)."""
    path = tmp_path / "listen.yaml"
    path.write_text(GROUP_WORDING, encoding="utf-8")
    problems, _ = validate_paths([path])
    assert [p.message for p in problems if "SMS segments" in p.message] == []


def test_a_branch_too_long_on_its_own_is_still_counted(tmp_path: Path) -> None:
    long_branch = "Please tell us, in as much detail as you can manage between feeds, " * 3
    path = tmp_path / "listen.yaml"
    path.write_text(GROUP_WORDING.replace("What was your care like after your baby was born?", long_branch),
                    encoding="utf-8")
    problems, _ = validate_paths([path])
    assert any("SMS segments" in p.message and "'story'" in p.message for p in problems)


def test_longest_reading_takes_the_longest_branch_and_fills_values() -> None:
    assert longest_reading("Hi {{ participant.name }}.{% if a %} short{% elif b %} a longer one{% endif %}") == (
        f"Hi {TEMPLATE_STAND_IN}. a longer one")
    assert longest_reading("{% if x %}") == TEMPLATE_STAND_IN  # (unreadable: every tag a stand-in, as before)


# ----------------------------------------------------------------------------- a broken study file and its items file

STUDY_BROKEN = """\
study: postnatal
title: After your baby
languages: [en]
timezone: Europe/London
join: {start_flow: priorities, keyword: BABY}
flows: [priorities.yaml]
schedule:
  - flow: priorities
    after: 7d
    reminders: [2d
"""
PRIORITIES = """\
flow: priorities
steps:
  - id: rate
    type: delphi
    delphi: postnatal
    items_file: items.yaml
  - id: bye
    type: end
    text: Thank you.
"""
ITEMS = """\
- {id: feeding, text: Help with feeding in the first week}
- {id: night_number, text: A number to call at night}
"""


def test_an_items_file_is_not_checked_as_a_flow_when_the_study_file_is_broken(tmp_path: Path) -> None:
    (tmp_path / "study.yaml").write_text(STUDY_BROKEN, encoding="utf-8")
    (tmp_path / "priorities.yaml").write_text(PRIORITIES, encoding="utf-8")
    (tmp_path / "items.yaml").write_text(ITEMS, encoding="utf-8")
    problems, _ = validate_paths([tmp_path])
    errors = [p for p in problems if p.severity == "error"]
    assert [Path(p.file).name for p in errors] == ["study.yaml"]
    assert "never closed" in errors[0].message


def test_a_flow_file_that_is_a_list_is_still_reported_when_the_study_file_is_broken(tmp_path: Path) -> None:
    """Only a file a flow names as its items file is left out: a stray list is still an error."""
    (tmp_path / "study.yaml").write_text(STUDY_BROKEN, encoding="utf-8")
    (tmp_path / "priorities.yaml").write_text(PRIORITIES, encoding="utf-8")
    (tmp_path / "items.yaml").write_text(ITEMS, encoding="utf-8")
    (tmp_path / "codesign.yaml").write_text("- id: idea\n  type: open\n", encoding="utf-8")
    problems, _ = validate_paths([tmp_path])
    assert {Path(p.file).name for p in problems if p.severity == "error"} == {"study.yaml", "codesign.yaml"}


# ----------------------------------------------------------------------------- a short reason, then LATER

@pytest.mark.parametrize("said", [
    "feeding the baby, later", "break time over, later", "baby crying, will answer later",
    "just feeding her now, can i do this later", "on the school run. ill reply later x", "brb", "brb x",
    "will answer later",
])
def test_a_short_reason_and_then_later_puts_a_free_text_question_off(said: str) -> None:
    chat = Chat(STORY, CHANGE, THANKS)
    sprint = chat.send(said)
    assert answers(sprint) == []
    assert snoozed(sprint)


@pytest.mark.parametrize("said", [
    "the midwife said she would come back later and never did",
    "they kept me waiting for hours, then discharged me at 2am and said ring later",
    "good, they came later that day",
    "later that night the baby would not feed and nobody came, it was awful",
    "give me more help with feeding", "Kind staff. Busy.", "give me support. tomorrow",
])
def test_a_story_that_mentions_later_is_the_answer(said: str) -> None:
    chat = Chat(STORY, CHANGE, THANKS)
    sprint = chat.send(said)
    assert [a.step_id for a in answers(sprint)] == ["story"]
    assert not snoozed(sprint)


# ----------------------------------------------------------------------------- "dunno" is no reason

DELPHI = {"id": "rate", "type": "delphi", "delphi": "postnatal", "ask_reason": True,
          "items": ["A number to call at night", "Help with feeding"]}


@pytest.mark.parametrize("said", ["dunno", "Dunno x", "don't know", "no idea", "idk", "not sure", "dwn i ddim"])
def test_dunno_at_a_delphi_why_is_no_reason(said: str) -> None:
    """It was stored and quoted on the desk as the reason for the score ("9: dunno")."""
    chat = Chat(DELPHI, THANKS)
    scored = [a for sent in ("9", said) for a in answers(chat.send(sent)) if a.item == "A number to call at night"]
    assert scored and all("reason" not in a.value and a.display == "9" for a in scored)
    assert any("Help with feeding" in m.text for m in chat.last.messages())  # the next item is asked


def test_a_real_reason_is_still_kept() -> None:
    chat = Chat(DELPHI, THANKS)
    sent = ("9", "nobody answers the ward phone at night")
    scored = [a for text in sent for a in answers(chat.send(text)) if a.item == "A number to call at night"]
    assert scored[-1].value["reason"] == "nobody answers the ward phone at night"


# ----------------------------------------------------------------------------- night hours inside the quiet hours

NIGHT_STUDY = """\
study: postnatal
title: After your baby
languages: [en]
timezone: Europe/London
quiet_hours: "21:30-08:00"
groups: [mother, midwife]
join: {start_flow: listen, keyword: BABY}
flows: [listen.yaml, followup.yaml]
schedule:
  - flow: followup
    after: 6w
    window: "09:00-20:00"
"""
NIGHT_LISTEN = """\
flow: listen
steps:
  - id: hours
    type: choice
    text: When is it best for us to message you?
    options:
      - {value: "14:00-21:00", label: Afternoons}
      - {value: "22:00-06:00", label: On my night shifts}
    save_to: participant.contact_hours
  - id: bye
    type: end
    text: Thank you.
"""
FOLLOWUP = """\
flow: followup
steps:
  - id: better
    type: scale
    text: Is postnatal care better? 0 much worse, 10 much better.
    min: 0
    max: 10
  - id: bye
    type: end
    text: Thank you.
"""


def test_night_hours_inside_the_quiet_hours_get_one_warning_not_a_window_to_widen(tmp_path: Path) -> None:
    """The window warning suggested 'window: "22:00-06:00"', wholly in the quiet hours (an error),
    and said they would be messaged in their contact hours, which the quiet hours forbid."""
    (tmp_path / "study.yaml").write_text(NIGHT_STUDY, encoding="utf-8")
    (tmp_path / "listen.yaml").write_text(NIGHT_LISTEN, encoding="utf-8")
    (tmp_path / "followup.yaml").write_text(FOLLOWUP, encoding="utf-8")
    problems, _ = validate_paths([tmp_path])
    about_hours = [p.message for p in problems if "22:00-06:00" in p.message]
    assert len(about_hours) == 1 and "wholly in the study's quiet hours" in about_hours[0]
    assert not any("22:00-06:00" in p.hint for p in problems)


# ----------------------------------------------------------------------------- "all of them" is no order

RANK = {"id": "top", "type": "rank", "text": "What should we fix first? Your top 3 in order, e.g. 3 1 2", "top": 3,
        "options": [{"value": "continuity", "label": "Same midwife"}, {"value": "feeding", "label": "Feeding support"},
                    {"value": "mental", "label": "Mental health checks"}, {"value": "discharge", "label": "Time before discharge"},
                    {"value": "nightline", "label": "Night phone line"}]}


@pytest.mark.parametrize("said", ["all of them", "All", "all 5", "everything", "all of them x", "pob un"])
def test_all_of_them_is_not_stored_as_a_ranking_in_the_order_listed(said: str) -> None:
    """It was: 1. Same midwife, 2. Feeding support, 3. Mental health checks, an order the
    participant never gave, counted in the Borda and Plackett-Luce scores."""
    chat = Chat(RANK, THANKS)
    sprint = chat.send(said)
    assert answers(sprint) == []
    assert chat.state.step == "top" and chat.state.status == "waiting"


def test_a_ranking_in_words_is_still_read() -> None:
    chat = Chat(RANK, THANKS)
    sprint = chat.send("night line, same midwife and feeding")
    assert [a.value for a in answers(sprint) if a.item is None] == [["nightline", "continuity", "feeding"]]


# ----------------------------------------------------------------------------- words: for an option

WORDS_STUDY = """\
study: postnatal
title: After your baby
languages: [en]
timezone: Europe/London
groups: [mother, midwife]
join: {start_flow: listen, keyword: BABY}
flows: [listen.yaml]
words:
  later: {en: [after the feed]}
  mother: {en: [mum, mam]}
"""
ROLE_FLOW = """\
flow: listen
steps:
  - id: role
    type: choice
    text: Which best describes you?
    options:
      - {value: mother, label: Mum or mother}
      - {value: midwife, label: Midwife}
    save_to: participant.group
  - id: bye
    type: end
    text: Thank you.
"""


def test_words_for_something_that_is_not_a_global_word_is_an_error_on_its_line(tmp_path: Path) -> None:
    """A coordinator who wrote 'mother: {en: [mum]}' to have 'mum' read as Mother was told nothing."""
    (tmp_path / "study.yaml").write_text(WORDS_STUDY, encoding="utf-8")
    (tmp_path / "listen.yaml").write_text(ROLE_FLOW, encoding="utf-8")
    problems, _ = validate_paths([tmp_path])
    errors = [p for p in problems if p.severity == "error"]
    assert [(Path(p.file).name, p.line) for p in errors] == [("study.yaml", 10)]
    assert "'mother' is none of them" in errors[0].message and "label" in errors[0].hint


def test_the_label_hint_works_a_mum_is_read_as_mother() -> None:
    flow = Flow.model_validate({"flow": "listen", "steps": [
        {"id": "role", "type": "choice", "text": "Which best describes you?",
         "options": [{"value": "mother", "label": "Mum or mother"}, {"value": "midwife", "label": "Midwife"}]},
        THANKS]})
    engine = Engine(flow)
    sprint = engine.handle(engine.start(NOW).state, TextInput("im a mum"), NOW)
    assert [a.value for a in answers(sprint)] == ["mother"]
