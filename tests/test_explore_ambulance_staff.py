"""Found by a coordinator trying an ambulance-service staff study (paramedics, call handlers and
managers on Telegram, answering between shifts): what tired staff typed, and what the
coordinator read in the results."""

from __future__ import annotations

from typing import Any

import pytest

from flows.population import SUBMISSION_ITEM
from tests.engine_chat import RecordingChat

IDEAS = {
    "id": "compare", "type": "pairwise", "text": {"en": "Which would help more?", "cy": "Pa un fyddai'n helpu fwyaf?"},
    "ideas": [
        {"id": "hot", "text": {"en": "Hot food at stations", "cy": "Bwyd poeth yn y gorsafoedd"}},
        {"id": "cutoff", "text": {"en": "No new jobs in the last hour", "cy": "Dim swyddi newydd yn yr awr olaf"}},
        {"id": "cover", "text": {"en": "A relief crew to cover breaks", "cy": "Criw wrth gefn i gyflenwi seibiannau"}},
    ],
    "pairs": 2,
}
VIEWS = {
    "id": "views", "type": "statements", "text": {"en": "Agree or disagree?", "cy": "Cytuno neu anghytuno?"},
    "statements": [
        {"id": "s1", "text": {"en": "Managers understand night shifts.", "cy": "Mae rheolwyr yn deall sifftiau nos."}},
        {"id": "s2", "text": {"en": "I'd take a shorter shift for less pay.", "cy": "Byddwn i'n cymryd sifft fyrrach."}},
    ],
}


ASKED = {
    ("pairwise", "en"): "What's your idea? Send it as your next message.",
    ("pairwise", "cy"): "Beth yw eich syniad? Anfonwch ef fel eich neges nesaf.",
    ("statements", "en"): "What's your statement? Send it as your next message.",
    ("statements", "cy"): "Beth yw eich datganiad? Anfonwch ef fel eich neges nesaf.",
}


def _submissions(chat: RecordingChat) -> list[str]:
    return [event.value["text"] for event in chat.recorded if event.item == SUBMISSION_ITEM]


@pytest.mark.parametrize("step", [IDEAS, VIEWS], ids=["pairwise", "statements"])
@pytest.mark.parametrize("language", ["en", "cy"])
def test_the_idea_sent_after_add_alone_is_the_submission(step: dict[str, Any], language: str) -> None:
    """'ADD' alone was told "Write your idea after ADD, e.g. ADD ...", and the idea sent next on
    its own was kept as a comment ("Thank you, we've noted that."): it never reached the
    moderator or the vote. Now ADD alone asks for the idea, and the next message is it."""
    chat = RecordingChat(step, language=language)
    asked = chat.send("add" if language == "en" else "ychwanegu")
    assert asked == [ASKED[step["type"], language]]
    said = chat.send("let us finish at base not 40 miles away")
    assert _submissions(chat) == ["let us finish at base not 40 miles away"]
    assert "moderator" in said[0] or "gymedrolwr" in said[0], said
    assert not any("noted" in text for text in said), said
    assert chat.state.step == step["id"]


@pytest.mark.parametrize("step, answer", [(IDEAS, "B"), (VIEWS, "agree")], ids=["pairwise", "statements"])
def test_a_short_answer_after_add_alone_answers_and_never_mind_proposes_nothing(step: dict[str, Any], answer: str) -> None:
    chat = RecordingChat(step)
    chat.send("ADD")
    again = chat.send("never mind")
    assert _submissions(chat) == [] and len(again) == 1 and again[0] != chat.send("ADD")[0]
    chat.send(answer)  # changed their mind: the answer, not an idea called 'B'
    assert _submissions(chat) == []
    assert [event.item for event in chat.recorded if event.item != SUBMISSION_ITEM]


def test_add_with_its_idea_in_one_message_is_still_read_at_once() -> None:
    chat = RecordingChat(VIEWS)
    chat.send("ADD Rotas six weeks ahead")
    assert _submissions(chat) == ["Rotas six weeks ahead"]


HOURS = {"id": "hours", "type": "number", "text": {"en": "How many hours was your last shift?", "cy": "Sawl awr oedd eich sifft?"},
         "unit": "hours", "min": 1, "max": 24}


@pytest.mark.parametrize("said", ["12.5", "12 and a half", "twelve and a half hrs"])
def test_a_half_to_a_whole_number_question_asks_which_whole_number_is_nearer(said: str) -> None:
    """'12.5' hours to a whole-number question was told "Please reply with a number from 1 to
    24." (which 12.5 is), three times over, and the question was skipped with nothing kept."""
    chat = RecordingChat(HOURS)
    hint = chat.send(said)
    assert hint == ["Is it nearer 12 or 13 hours? Your best guess is fine. Please reply with a number from 1 to 24."]
    chat.send("13")
    assert [(event.value, event.display) for event in chat.recorded] == [(13, "13 hours")]


def test_the_nearer_question_in_welsh_and_a_fraction_out_of_range_is_told_the_range() -> None:
    welsh = RecordingChat(HOURS, language="cy")
    assert welsh.send("12.5") == ["Ydy e'n nes at 12 neu 13 awr? Mae'ch amcangyfrif gorau'n iawn. Atebwch gyda rhif o 1 i 24."]
    assert RecordingChat(HOURS).send("30.5") == ["Please reply with a number from 1 to 24."]


SHIFT_ATTRIBUTES = {
    "shift_hours": {"levels": [8, 10, 12], "labels": {8: "8 hours", 10: "10 hours", 12: "12 hours"}, "better": "lower"},
    "pay": {"levels": [0, 10, 20], "labels": {0: "no enhancement", 10: "10% enhancement", 20: "20% enhancement"}, "better": "higher"},
    "cost": {"levels": [0, 5], "labels": {0: "free", 5: "£5"}},
}


def test_a_percentage_attribute_reads_per_one_percent_and_trades_in_percent() -> None:
    """A pay enhancement in "10%" levels read "Pay, per %1" on the desk, and a trade against it
    "evened out by %7.3 more pay": the symbol was put before the number, as a currency's is."""
    from flows.display_text import ChoiceWords, trade_in_words

    words = ChoiceWords.of([{"attributes": SHIFT_ATTRIBUTES}], "en")
    assert words.feature("pay") == "Pay, per 1%"
    assert trade_in_words(words, "pay", 7.34, 2.1, 12.5) == "evened out by 7.3% more pay"
    assert words.feature("cost") == "Cost, per £1" and trade_in_words(words, "cost", -2.0, -3, -1) == "evened out by £2.0 less cost"
    assert words.feature("shift_hours") == "Shift, per hour"


WEEK = {"id": "week", "type": "scale", "text": {"en": "How was this week? 1 to 5", "cy": "Sut oedd yr wythnos? 1 i 5"}, "min": 1, "max": 5}


@pytest.mark.parametrize("said", ["fuck off", "F off mate", "piss off!", "go away", "oh just fuck off", "sod this", "get lost"])
def test_telling_the_bot_to_go_away_asks_whether_to_stop(said: str) -> None:
    """A tired paramedic's "fuck off" was told "Please tap one of the buttons..." and, the
    question skipped, asked the next: the same reminders kept coming. Like "I want out", it now
    asks whether to stop, and a yes stops."""
    chat = RecordingChat(WEEK)
    assert chat.send(said) == ["Do you want us to stop messaging you? Reply STOP to stop, or carry on answering."]
    chat.send("yes")
    assert chat.state.status == "stopped" and chat.recorded == []


def test_a_welsh_go_away_asks_in_welsh_and_a_no_carries_on() -> None:
    chat = RecordingChat(WEEK, language="cy")
    assert chat.send("cer o 'ma")[0].startswith("Ydych chi am i ni roi'r gorau i anfon negeseuon atoch?")
    assert chat.send("na")[-1].startswith("Sut oedd yr wythnos?")
    chat.send("4")
    assert [event.value for event in chat.recorded] == [4]


@pytest.mark.parametrize("said", ["the off switch", "they go away for hours", "fuck off long shifts"])
def test_words_that_only_contain_them_are_no_question_about_stopping(said: str) -> None:
    from flows.opt_out_phrases import may_ask_to_opt_out

    assert not may_ask_to_opt_out(said)
