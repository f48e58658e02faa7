"""Number answers said another way than the question asks (flows/parsing_frequencies.py,
flows/parsing_durations.py, flows/ready_phrases.py):

- How often, to a question of how many over a span ('ONCE A WEEK' to 'How many times did you see a
  GP last month?'), was read back as 'Just to check: 1?', so a YES stored 1 where about 4 was
  meant. Now it is counted over the question's span (a month about 4.3 weeks, a year 52) and
  checked ('about 4 times'); where the question names no span it is asked again, never the bare n.
- A pregnancy's notation, '23+4' (23 weeks 4 days) and '36/40' (36 weeks), at a question in weeks
  or days was no number: now it is read so and checked; '2+2' and '3/4' elsewhere are not.
- '10 days' to a question in weeks, '90 minutes' in hours was 'not what this question asks': now
  the whole weeks completed (1; 1.4 where decimals are taken) and the nearer hour (about 2; 1.5),
  checked; '2 hours' in minutes is 120 at once.
- 'never' to a question of how many was asked again: it is 0 (not at 'How long...?').
- 'ok go', 'go', 'ok go ahead then' after LATER were an unclear answer: they wake the question.
"""

from __future__ import annotations

from typing import Any

import pytest

from flows.parsing import asked_period, read_frequency
from tests.engine_chat import RecordingChat
from tests.test_number_word_answers import CHECK, answer

CHECKED = "Just to check: {}? Reply YES or NO, or send the number."
GP = {"id": "gp", "type": "number", "min": 0, "max": 100,
      "text": {"en": "How many times did you see a GP last month?", "cy": "Sawl gwaith welsoch chi feddyg teulu y mis diwethaf?"}}
EVER = {"id": "gp", "type": "number", "min": 0, "max": 100,
        "text": {"en": "How many times have you seen a GP?", "cy": "Sawl gwaith ydych chi wedi gweld meddyg teulu?"}}


def _values(chat: RecordingChat) -> list[Any]:
    return [answer.value for answer in chat.recorded]


# ----------------------------------------------------------------------------- how often, for how many


@pytest.mark.parametrize(("said", "count"), [
    ("ONCE A WEEK", "about 4 times"), ("twice a week", "about 9 times"), ("every day", "about 30 times"),
    ("3 times a week", "about 13 times"), ("daily", "about 30 times"), ("weekly", "about 4 times"),
    ("about 3x a week", "about 13 times"), ("every other day", "about 15 times"), ("fortnightly", "about 2 times"),
])
def test_how_often_last_month_is_counted_over_the_month_and_checked(said: str, count: str) -> None:
    chat = RecordingChat(GP)
    assert chat.send(said) == [CHECKED.format(count)] and chat.recorded == []
    chat.send("yes")
    assert _values(chat) == [int(count.split()[-2])]


def test_a_no_to_the_count_asks_again_and_stores_nothing() -> None:
    chat = RecordingChat(GP)
    chat.send("once a week")
    chat.send("no")
    assert chat.recorded == [] and chat.state.step == "gp"
    chat.send("3")
    assert _values(chat) == [3]


@pytest.mark.parametrize(("question", "said", "read"), [
    ("How many times did you go last week?", "every day", (7, "7 times", CHECK)),
    ("How many times did you go in the past year?", "once a week", (52, "about 52 times", CHECK)),
    ("How many times did you go in the last 3 months?", "once a fortnight", (7, "about 7 times", CHECK)),
    ("How many times did you go in the last year?", "once a month", (12, "12 times", CHECK)),
    ("How many times did you go last month?", "once a month", (1, "1 time")),  # the span asked: the number said
    ("How many times a week do you exercise?", "3 times a week", (3, "3 times")),
    ("How many days a week do you exercise?", "every day", (7, "7", CHECK)),
    ("How many days did you smoke last week?", "3 days a week", (3, "3")),
    ("How many cigarettes do you smoke a day?", "70 a week", (10, "10", CHECK)),
    ("How many hours a day do you sleep?", "56 hours a week", (8, "8", CHECK)),
    ("How many times did you go yesterday?", "every 3 hours", (8, "8 times", CHECK)),
])
def test_how_often_is_counted_over_or_per_the_span_the_question_names(question: str, said: str, read: Any) -> None:
    assert answer(said, text=question) == read


def test_a_rate_taken_with_decimals_is_converted_to_one_place() -> None:
    assert answer("2 a week", text="How many times a day?", integer=False) == (0.3, "about 0.3", CHECK)
    assert answer("once a month", text="How many times a week?") == "Is it nearer 0 or 1? Your best guess is fine. " \
        "Please reply with a number, e.g. 3."


@pytest.mark.parametrize("said", ["once a week", "twice daily", "every day", "3 times a week", "once or twice a week",
                                  "3-4 times a week", "at least once a week"])
def test_how_often_to_a_question_with_no_span_is_asked_again_never_stored_bare(said: str) -> None:
    chat = RecordingChat(EVER)
    replies = chat.send(said)
    assert chat.recorded == [] and replies[0].startswith("That says how often (") and "not how many in all" in replies[0]


def test_how_often_said_as_no_one_number_is_asked_again_even_over_a_span() -> None:
    chat = RecordingChat(GP)
    assert chat.send("once or twice a week")[0].startswith("That says how often (once or twice a week)")
    assert chat.recorded == []


def test_how_often_in_welsh_is_counted_and_checked_in_welsh() -> None:
    chat = RecordingChat(GP, language="cy")
    replies = chat.send("unwaith yr wythnos")
    assert replies[0].startswith("I wneud yn siŵr: tua 4 gwaith?")
    chat.send("ydw")
    assert _values(chat) == [4]
    assert RecordingChat(EVER, language="cy").send("bob dydd")[0].startswith("Mae hynny'n dweud pa mor aml (bob dydd)")


@pytest.mark.parametrize(("text", "read"), [
    ("a week", None), ("2 weeks", None), ("once", None), ("3 days a week ago", None), ("a day centre", None),
    ("twice a day", (2.0, 1.0)), ("every 2 weeks", (1.0, 14.0)), ("3x a week", (3.0, 7.0)), ("dwywaith y mis", (2.0, 365.25 / 12)),
])
def test_a_frequency_is_read_only_where_one_is_said(text: str, read: tuple[float, float] | None) -> None:
    said = read_frequency(text)
    assert (said if said is None else (said.times, said.days)) == read


@pytest.mark.parametrize(("question", "period"), [
    ("How many times did you see a GP last month?", ("over", 365.25 / 12)), ("...in the past 2 weeks?", ("over", 14.0)),
    ("How many times a week...?", ("per", 7.0)), ("Sawl gwaith y mis diwethaf?", ("over", 365.25 / 12)),
    ("How many times this week?", None), ("How many times in the past few months?", None), ("How many at the day centre?", None),
])
def test_the_span_a_question_asks_about(question: str, period: tuple[str, float] | None) -> None:
    assert asked_period(question) == period


def test_money_said_per_day_is_left_to_the_money_reading() -> None:
    assert answer("£5 a day", text="How much did you spend last week?") == (5, "5", CHECK)


# ----------------------------------------------------------------------------- a pregnancy's notation


WEEKS = {"id": "weeks", "type": "number", "text": {"en": "How many weeks pregnant are you?",
                                                    "cy": "Sawl wythnos yn feichiog ydych chi?"}, "unit": "weeks", "min": 0, "max": 45}


@pytest.mark.parametrize(("said", "weeks"), [("23+4", 23), ("23 + 4", 23), ("im 23+4", 23), ("36/40", 36), ("40+6", 40), ("12+0", 12)])
def test_a_pregnancys_notation_is_its_whole_weeks_checked(said: str, weeks: int) -> None:
    chat = RecordingChat(WEEKS)
    assert chat.send(said) == [CHECKED.format(f"{weeks} weeks")] and chat.recorded == []
    chat.send("yes")
    assert _values(chat) == [weeks]


def test_a_pregnancys_notation_in_days_is_its_total_checked() -> None:
    assert answer("23+4", "days") == (165, "165 days", CHECK)
    assert answer("36/40", "days") == (252, "252 days", CHECK)


@pytest.mark.parametrize(("said", "unit", "text"), [
    ("2+2", None, "How many?"), ("3/4", None, "How many?"), ("23+4", "hours", "How long?"), ("50+2", "weeks", "How many weeks?"),
    ("23+7", "weeks", "How many weeks?"), ("30/50", "weeks", "How many weeks?"),
])
def test_the_notation_is_read_only_where_it_fits_a_pregnancy(said: str, unit: str | None, text: str) -> None:
    assert isinstance(answer(said, unit, text=text), str), "asked again, as before"


# ----------------------------------------------------------------------------- another unit of time


@pytest.mark.parametrize(("said", "unit", "fields", "read"), [
    ("10 days", "weeks", {}, (1, "1 week", CHECK)),  # the whole weeks completed, as a pregnancy or an age
    ("10 days", "weeks", {"integer": False}, (1.4, "about 1.4 weeks", CHECK)),
    ("18 months", "years", {}, (1, "1 year", CHECK)),
    ("90 minutes", "hours", {}, (2, "about 2 hours", CHECK)),  # the nearer hour
    ("90 mins", "hours", {"integer": False}, (1.5, "1.5 hours", CHECK)),
    ("45 minutes", "hours", {}, (1, "about 1 hour", CHECK)),
    ("1 hour 30 mins", "hours", {"integer": False}, (1.5, "1.5 hours", CHECK)),
    ("2 hours", "minutes", {}, (120, "120 minutes")),  # down a scale: exact, at once
    ("2 days", "hours", {}, (48, "48 hours")), ("48 hours", "days", {}, (2, "2 days")),
])
def test_a_length_of_time_in_another_unit_is_converted(said: str, unit: str, fields: dict[str, Any], read: Any) -> None:
    assert answer(said, unit, **fields) == read


def test_ninety_minutes_in_hours_is_said_back_and_stored_once_confirmed() -> None:
    chat = RecordingChat({"id": "wait", "type": "number", "text": {"en": "How long did you wait?", "cy": "Am faint wnaethoch chi aros?"},
                          "unit": "hours", "min": 0, "max": 48})
    assert chat.send("90 minutes") == [CHECKED.format("about 2 hours")]
    chat.send("yes")
    assert _values(chat) == [2]


# ----------------------------------------------------------------------------- never


@pytest.mark.parametrize("said", ["never", "Never!", "I've never", "never been", "not at all", "erioed", "no never"])
def test_never_to_a_question_of_how_many_is_none(said: str) -> None:
    chat = RecordingChat(GP)
    assert chat.send(said) == ["Bye."] and _values(chat) == [0]


def test_never_is_none_only_where_none_is_in_range() -> None:
    assert answer("never", text="How many times?", min=1, max=10) == "Please reply with a number from 1 to 10."


@pytest.mark.parametrize("question", ["How long did you wait?", "How long ago did you last see a GP?",
                                      "How many years ago did you stop smoking?", "How old were you?"])
def test_never_to_how_long_is_asked_again_not_guessed_as_nought(question: str) -> None:
    assert answer("never", "hours" if "wait" in question else None, text=question) == "Please reply with a number, e.g. 3."


# ----------------------------------------------------------------------------- being back after LATER


NUMBER = {"id": "n", "type": "number", "text": {"en": "How many nights?", "cy": "Sawl noson?"}, "min": 0, "max": 30}
FACT = {"id": "seen", "type": "yesno", "text": {"en": "Were you seen within 4 hours?", "cy": "Gawsoch chi eich gweld o fewn 4 awr?"}}
OPEN = {"id": "story", "type": "open", "text": {"en": "What was the wait like?", "cy": "Sut oedd yr aros?"}}


@pytest.mark.parametrize("step", [NUMBER, FACT, OPEN])
@pytest.mark.parametrize("back", ["ok go", "ok go on", "go on then", "go", "ok, go!", "okay go ahead", "ok go ahead then",
                                  "right, fire away", "ok ask away", "iawn, cer ymlaen"])
def test_go_on_after_later_wakes_the_question_and_answers_nothing(step: dict[str, Any], back: str) -> None:
    chat = RecordingChat(step)
    chat.send("later")
    assert chat.state.status == "snoozed"
    replies = chat.send(back)
    assert chat.recorded == [] and chat.state.status == "waiting" and chat.state.tries == 0
    assert replies == [step["text"]["en"]]


def test_a_yes_that_leads_go_on_still_answers_a_yes_or_no() -> None:
    chat = RecordingChat(FACT)
    chat.send("later")
    chat.send("yes go on")
    assert _values(chat) == ["yes"]
