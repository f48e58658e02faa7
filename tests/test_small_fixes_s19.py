"""Small things earlier explorers noticed (session 19), each through the engine, the service,
validate or the desk's templates: a kiss after 'dunno', Welsh 'y ddau' (both) read as option 2,
a number's unit in English for a Welsh participant, 'skip' where a question can't be skipped, a
story after the end, a join keyword of two words, '-0.00' on the desk and 'did you mean' for a
misspelt step id."""

from __future__ import annotations

import re
import shutil
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.dashboard.render import TEMPLATES, fixed, signed
from bot.service import ConversationService, ReceiveResult
from flows.parsing import match_option, match_options, parse_yes_no, says_dont_know, says_undecided
from flows.validate import validate_paths
from storage.database import Database
from storage.tables import FLAGS
from tests.conftest import EXAMPLE_STUDY
from tests.engine_chat import RecordingChat

AGAIN = "asked again"
Say = Callable[..., ReceiveResult]


def stored(step: dict[str, Any], reply: str, language: str = "en") -> Any:
    """What one reply at ``step`` stores, or :data:`AGAIN` when nothing is (the question asked again)."""
    chat = RecordingChat(step, language=language)
    chat.send(reply)
    return chat.recorded[0].value if chat.recorded else AGAIN


def said_back(step: dict[str, Any], reply: str, language: str = "en") -> list[str]:
    return RecordingChat(step, language=language).send(reply)


def options(*pairs: tuple[str, str]) -> list[dict[str, Any]]:
    return [{"value": chr(ord("a") + i), "label": {"en": en, "cy": cy}} for i, (en, cy) in enumerate(pairs)]


FFT = {"id": "q", "type": "choice", "text": "How was it?", "options": ["Very good", "Good", "Poor", "Don't know"]}
NOT_SURE = {"id": "q", "type": "choice", "text": "Will you go back?", "options": ["Yes", "No", "Not sure"]}
PRIORITIES = options(("Shorter waits", "Aros llai"), ("Pain relief", "Lleddfu poen"), ("Updates", "Diweddariadau"))
RANK = {"id": "q", "type": "rank", "text": {"en": "Put these in order", "cy": "Rhowch y rhain mewn trefn"}, "options": PRIORITIES}
PICK = {"id": "q", "type": "choice", "text": {"en": "Which?", "cy": "Pa rai?"}, "options": PRIORITIES, "multiple": True}
ONE = {"id": "q", "type": "choice", "text": {"en": "Which?", "cy": "Pa un?"}, "options": PRIORITIES}
YES_NO = {"id": "q", "type": "yesno", "text": {"en": "Did you go?", "cy": "Aethoch chi?"}}
PAIRS = {"id": "q", "type": "pairwise", "text": "Which matters more?", "ideas": ["Parking", "Seating"], "pairs": 1}


# ----------------------------------------------------------------------------- 1. a kiss after 'dunno'


@pytest.mark.parametrize("reply", ["Dunno x", "no idea xx", "not sure x", "Not sure X", "dunno xxx", "idk xoxo",
                                   "dunno, x", "dim syniad x"])
def test_i_dont_know_signed_with_a_kiss_picks_the_dont_know_option(reply: str) -> None:
    assert says_dont_know(reply)
    assert stored(FFT, reply) == "Don't know"


def test_a_kiss_after_not_sure_picks_not_sure_not_no() -> None:
    assert stored(NOT_SURE, "not sure x") == "Not sure"
    assert stored(NOT_SURE, "no x") == "No", "a kiss after a plain answer still leaves the answer"


@pytest.mark.parametrize("reply", ["not sure x", "cant decide xx", "dunno x"])
def test_undecided_with_a_kiss_is_a_tie_at_a_pair(reply: str) -> None:
    assert says_undecided(reply)
    [tie] = [value for value in [stored(PAIRS, reply)] if isinstance(value, dict)]
    assert tie["tie"] is True


def test_a_lone_x_or_a_word_ending_in_x_is_not_a_kiss() -> None:
    assert not says_dont_know("x"), "nothing but a kiss says nothing"
    assert match_option("x", [["Yes"], ["No"]]) is None
    assert match_option("Box", [["Box"], ["Bag"]]) == 0
    assert says_undecided("dunno") and not says_undecided("dunno six")


# ----------------------------------------------------------------------------- 2. Welsh 'y ddau' is 'both'


@pytest.mark.parametrize("reply", ["y ddau", "y ddwy", "Y ddau plis", "y tri", "y ddau ohonyn nhw"])
def test_welsh_both_at_a_ranking_is_asked_again_as_english_both_is(reply: str) -> None:
    assert stored(RANK, "both") == AGAIN
    assert stored(RANK, reply, "cy") == AGAIN
    assert said_back(RANK, reply, "cy")[0].startswith("Rhowch yr opsiynau mewn trefn")


@pytest.mark.parametrize("step", [PICK, ONE], ids=["multiple", "single"])
@pytest.mark.parametrize("reply", ["y ddau", "the two", "the three of them"])
def test_a_group_named_by_its_size_picks_no_one_option(step: dict[str, Any], reply: str) -> None:
    assert stored(step, reply, "cy") == AGAIN
    assert match_options(reply, [["a"], ["b"], ["c"]]) is None


def test_a_number_alone_still_picks_its_option() -> None:
    assert stored(ONE, "dau", "cy") == "b"
    assert stored(RANK, "dau", "cy") == "b", "the first place of the ranking, picked by its number"
    assert match_options("y cyntaf a'r ail", [["a"], ["b"], ["c"]]) == [0, 1], "ordinals after 'y' still pick"
    assert match_options("yr ail", [["a"], ["b"], ["c"]]) == [1]


@pytest.mark.parametrize("reply", ["y ddau", "y ddwy", "y tri", "the two"])
def test_both_in_welsh_is_no_yes_nor_no(reply: str) -> None:
    assert parse_yes_no(reply) is None
    assert stored(YES_NO, reply, "cy") == AGAIN


def test_y_alone_is_still_yes() -> None:
    assert parse_yes_no("y") is True and parse_yes_no("Y please") is True
    assert stored(YES_NO, "y", "cy") == "yes"


@pytest.mark.parametrize("reply", ["y ddau", "y ddwy", "both"])
def test_both_is_a_tie_at_a_pair_in_either_form(reply: str) -> None:
    value = stored(PAIRS, reply, "cy")
    assert isinstance(value, dict) and value["tie"] is True


# ----------------------------------------------------------------------------- 3. a number's unit in Welsh


def hours(unit: str) -> dict[str, Any]:
    return {"id": "q", "type": "number", "text": {"en": "How long?", "cy": "Pa mor hir?"}, "unit": unit, "min": 0, "max": 100}


@pytest.mark.parametrize(("unit", "reply", "shown"), [
    ("hours", "rhyw 6 awr", "6 awr"), ("hours", "1", "1 awr"), ("days", "3", "3 diwrnod"), ("weeks", "2", "2 wythnos"),
    ("years", "1", "1 blwyddyn"), ("years", "3", "3 blynedd"), ("times", "4", "4 gwaith"),
])
def test_a_welsh_participant_is_shown_the_unit_in_welsh(unit: str, reply: str, shown: str) -> None:
    chat = RecordingChat(hours(unit), language="cy")
    chat.send(reply)
    assert [answer.display for answer in chat.recorded] == [shown]


@pytest.mark.parametrize(("unit", "reply", "shown"), [("hours", "6", "6 hours"), ("hours", "1", "1 hour"), ("years", "1", "1 year")])
def test_an_english_participant_keeps_the_unit_as_written(unit: str, reply: str, shown: str) -> None:
    chat = RecordingChat(hours(unit))
    chat.send(reply)
    assert [answer.display for answer in chat.recorded] == [shown]


def test_a_unit_of_the_studys_own_stays_as_written_in_welsh() -> None:
    chat = RecordingChat(hours("nappies"), language="cy")
    chat.send("6")
    assert [answer.display for answer in chat.recorded] == ["6 nappies"]


# ----------------------------------------------------------------------------- 4. 'skip' that can't skip


SCALE = {"id": "q", "type": "scale", "text": {"en": "How was it?", "cy": "Sut oedd e?"}, "min": 1, "max": 5}


@pytest.mark.parametrize(("language", "reply", "said"), [
    ("en", "skip", "This question can't be skipped. Please reply with a number from 1 to 5."),
    ("en", "SKIP!", "This question can't be skipped. Please reply with a number from 1 to 5."),
    ("en", "pass", "This question can't be skipped. Please reply with a number from 1 to 5."),
    ("cy", "hepgor", "Does dim modd hepgor y cwestiwn hwn. Atebwch gyda rhif o 1 i 5."),
])
def test_skip_at_a_question_that_cannot_be_skipped_says_so(language: str, reply: str, said: str) -> None:
    chat = RecordingChat(SCALE, language=language)
    assert chat.send(reply) == [said]
    assert chat.recorded == [], "nothing is stored"
    assert chat.send("4")[-1] in ("Bye.", "Hwyl."), "the question is answered as before"


def test_skip_at_a_choice_that_cannot_be_skipped_says_so_before_the_hint() -> None:
    hint = said_back(ONE, "banana")[0]
    assert said_back(ONE, "skip") == [f"This question can't be skipped. {hint}"]
    assert said_back(ONE, "hepgor", "cy") == [f"Does dim modd hepgor y cwestiwn hwn. {said_back(ONE, 'banana', 'cy')[0]}"]


def test_skip_where_allowed_still_skips_and_a_pass_at_a_pair_is_still_a_pass() -> None:
    chat = RecordingChat({**SCALE, "skip": True})
    assert chat.send("skip") == ["Let's move on.", "Bye."]
    assert [answer.skipped for answer in chat.recorded] == [True]
    assert "can't be skipped" not in " ".join(said_back(PAIRS, "skip"))


OPEN = {"id": "q", "type": "open", "text": {"en": "What went wrong?", "cy": "Beth aeth o'i le?"}}


def test_skip_at_a_free_text_question_that_cannot_be_skipped_is_not_stored_as_its_story() -> None:
    chat = RecordingChat(OPEN)
    assert chat.send("skip") == ["This question can't be skipped. Please tell us a little more in your own words."]
    assert chat.recorded == [], "'skip' is no story"
    chat.send("the wait was too long")
    assert [answer.value for answer in chat.recorded] == ["the wait was too long"]
    allowed = RecordingChat({**OPEN, "skip": True})
    allowed.send("skip")
    assert [answer.skipped for answer in allowed.recorded] == [True]
    assert RecordingChat(OPEN, language="cy").send("hepgor")[0].startswith("Does dim modd hepgor y cwestiwn hwn.")


def test_other_unclear_replies_get_the_hint_alone() -> None:
    assert said_back(SCALE, "banana") == ["Please reply with a number from 1 to 5."]


# ----------------------------------------------------------------------------- 5. a story after the end


def alerts(database: Database, kind: str = "after_end") -> list[str]:
    with database.transaction() as connection:
        return [str(m) for (m,) in connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == kind).order_by(FLAGS.c.id))]


def test_a_story_after_the_end_reaches_the_desk_as_an_after_end_alert(service: ConversationService, database: Database,
                                                                     say: Say) -> None:
    """Already so (bot/sprint_writes.py after_the_end): the participant is thanked, the coordinator sees the words."""
    say("WAIT")
    for reply in ("yes", "1", "3", "Long and cold", "2"):
        say(reply)
    result = say("the bleep holder is always a student")
    assert result.participant_id is not None
    sent = [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]
    assert sent == ["Thank you, that's all for now."]
    assert alerts(database) == ['written after the conversation ended: "the bleep holder is always a student"']


# ----------------------------------------------------------------------------- 6. a keyword of two words


@pytest.fixture
def example_study_path(tmp_path: Path) -> Path:
    """The example study with a second way in whose keyword is two words, written with two spaces
    between them; its main keyword WAIT as before."""
    folder = tmp_path / "ae-waiting"
    shutil.copytree(EXAMPLE_STUDY, folder)
    study = folder / "study.yaml"
    route = "    - keyword: WAITSTAFF\n"
    study.write_text(study.read_text().replace(route, "    - keyword: hand  over\n      group: staff\n" + route, 1))
    return folder


def test_the_two_word_keyword_passes_validate(example_study_path: Path) -> None:
    problems, checked = validate_paths([example_study_path])
    assert checked > 0 and [p for p in problems if p.severity == "error"] == []


@pytest.mark.parametrize("typed", ["hand over", "HAND OVER", "Hand  over.", "join hand over"])
def test_a_keyword_of_two_words_joins_however_it_is_spaced_or_cased(service: ConversationService, say: Say, typed: str) -> None:
    result = say(typed)
    assert result.participant_id is not None
    sent = [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]
    assert any("Reply YES to take part" in text for text in sent)


# ----------------------------------------------------------------------------- 7. no '-0.00' on the desk


@pytest.mark.parametrize(("value", "places", "shown"), [
    (-0.0, 2, "0.00"), (-0.001, 2, "0.00"), (0.004, 2, "0.00"), (-0.004, 3, "-0.004"), (-1.5, 2, "-1.50"), (2.345, 1, "2.3"),
    (-0.4, 0, "0"),
])
def test_fixed_never_shows_a_negative_zero(value: float, places: int, shown: str) -> None:
    assert fixed(value, places) == shown
    assert TEMPLATES.env.from_string("{{ x|fixed(n) }}").render(x=value, n=places) == shown


@pytest.mark.parametrize(("value", "shown"), [(-0.001, "0.00"), (0.0, "0.00"), (0.25, "+0.25"), (-1.5, "-1.50")])
def test_signed_shows_a_sign_except_on_zero(value: float, shown: str) -> None:
    assert signed(value) == shown
    assert TEMPLATES.env.from_string("{{ x|signed(2) }}").render(x=value) == shown


def test_no_desk_template_formats_a_raw_number_with_printf_decimals() -> None:
    """'%.2f'|format(-0.001) is '-0.00': every decimal on the desk goes through |fixed or |signed
    (a percentage rounded with |half_up first is never negative)."""
    templates = Path(TEMPLATES.env.loader.searchpath[0])  # type: ignore[union-attr]
    raw = [f"{page.name}: {found}" for page in templates.glob("*.html")
           for found in re.findall(r"'%\+?\.\df[^']*'\|format\(.*?\}\}", page.read_text()) if "|half_up" not in found]
    assert raw == []


# ----------------------------------------------------------------------------- 8. 'did you mean' a step id


def test_a_misspelt_step_id_in_a_condition_names_the_step_meant(tmp_path: Path) -> None:
    flow = tmp_path / "weigh.yaml"
    flow.write_text(
        "flow: weigh\nsteps:\n"
        "  - {id: weights, type: number, text: How much do you weigh?}\n"
        "  - {id: heights, type: number, text: How tall are you?}\n"
        "  - {id: weeks, type: number, text: How many weeks?}\n"
        "  - id: check\n    type: message\n    text: Thanks\n    next:\n"
        "      - {if: values.wieghts > 3, goto: bye}\n      - goto: bye\n"
        "  - {id: bye, type: end, text: Bye}\n"
    )
    problems, _ = validate_paths([flow])
    [problem] = [p for p in problems if "wieghts" in p.message]
    assert problem.hint == "did you mean 'weights'?"
