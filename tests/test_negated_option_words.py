"""A reply never picks an option by a word the option's name negates: 'they know' is not
"Don't know", 'the night staff know them best' is not NOT SURE at a Delphi item, 'dw i'n gwybod'
(I know) is not 'Ddim yn gwybod'. Found by an exploratory night/day ward-handover study, where
replies about who knows what were stored as the opposite answer. Misspelt negations and the
usual short forms ('dnt know', 'dontknow', 'dunno', 'idk', 'dim syniad') still say it."""

from __future__ import annotations

from typing import Any

import pytest

from flows.parsing import match_option
from flows.steps.delphi import UNSURE_WORDS
from flows.steps.unsure import says_unsure
from tests.engine_chat import RecordingChat

KNOW = [["Yes", "yes"], ["No", "no"], ["Don't know", "dont_know"]]
AGREE = [["Agree"], ["Don't agree"], ["Not sure"]]
APPLIES = [["Yes"], ["No"], ["Not applicable", "n/a"]]
CHANGE = [["Better"], ["Worse"], ["No change"]]
WELSH = [["Ie", "Yes"], ["Na", "No"], ["Ddim yn gwybod", "Don't know"]]
UNSURE = ["Not sure", *UNSURE_WORDS]

DELPHI = {"id": "handover", "type": "delphi", "delphi": "handover",
          "items": [{"id": "names", "text": {"en": "Patients' names on the sheet", "cy": "Enwau cleifion ar y daflen"}},
                    {"id": "meds", "text": {"en": "Medicines due named", "cy": "Meddyginiaethau i'w rhoi"}}]}
WENT = {"id": "went", "type": "scale", "min": 1, "max": 5, "unsure": True,
        "text": {"en": "How well did handover go?", "cy": "Pa mor dda aeth y trosglwyddo?"}}
PLAN = {"id": "plan", "type": "choice", "text": {"en": "Did the day team know the plan?", "cy": "Oedd y tîm dydd yn gwybod y cynllun?"},
        "options": [{"value": "yes", "label": {"en": "Yes", "cy": "Ie"}}, {"value": "no", "label": {"en": "No", "cy": "Na"}},
                    {"value": "dont_know", "label": {"en": "Don't know", "cy": "Ddim yn gwybod"}}]}


@pytest.mark.parametrize(("options", "said"), [
    (KNOW, "they know"), (KNOW, "the nurses know the plan"), (KNOW, "i know"), (KNOW, "know"), (KNOW, "do know"),
    (KNOW, "we do know"), (AGREE, "sure"), (APPLIES, "applicable"), (APPLIES, "its applicable to me"), (CHANGE, "change"),
    (CHANGE, "a change"), (WELSH, "gwybod"), (WELSH, "dw i'n gwybod"), (WELSH, "know"),
])
def test_a_reply_without_the_negation_never_picks_the_negated_option(options: list[list[str]], said: str) -> None:
    assert match_option(said, options) is None


@pytest.mark.parametrize(("options", "said", "index"), [
    (KNOW, "dont know", 2), (KNOW, "i don't know", 2), (KNOW, "dnt know", 2), (KNOW, "dontknow", 2), (KNOW, "dont knw", 2),
    (KNOW, "i do not know", 2), (AGREE, "agree", 0), (AGREE, "i agree", 0), (AGREE, "i dont agree", 1), (AGREE, "not sure", 2),
    (AGREE, "i am not sure", 2), (APPLIES, "not applicable", 2), (APPLIES, "not aplicable", 2), (APPLIES, "n/a", 2),
    (CHANGE, "no change", 2), (CHANGE, "better", 0), (WELSH, "ddim yn gwybod", 2), (WELSH, "dim yn gwybod", 2),
    (WELSH, "dwi ddim yn gwybod", 2), (WELSH, "ddim yn gwbod", 2),
])
def test_a_reply_that_says_the_negation_still_picks_it(options: list[list[str]], said: str, index: int) -> None:
    assert match_option(said, options) == index


@pytest.mark.parametrize("said", [
    "the night staff know them best", "we know it went ok", "sure", "i am sure", "im sure it is fine", "yes sure", "know",
    "gwybod", "dw i'n gwybod", "mae gen i syniad", "siwr",
])
def test_a_sentence_about_knowing_is_not_unsure(said: str) -> None:
    assert not says_unsure(said, UNSURE)


@pytest.mark.parametrize("said", [
    "not sure", "not sur", "nt sure", "notsure", "unsure", "dunno", "idk", "dont know", "i dnt know", "dnt know", "dontknow",
    "no idea tbh", "dim syniad", "ddim yn gwybod", "dim yn gwybod", "sai'n gwybod", "sain gwybod", "dwn i ddim", "ddim yn siwr",
])
def test_unsure_words_and_their_misspellings_are_still_unsure(said: str) -> None:
    assert says_unsure(said, UNSURE)


def _scores(chat: RecordingChat) -> list[Any]:
    return [answer.value["score"] for answer in chat.recorded if answer.item is not None]


@pytest.mark.parametrize(("language", "said"), [
    ("en", "the night staff know them best"), ("en", "Because the night staff know them"), ("en", "I'm sure"),
    ("cy", "dw i'n gwybod"),
])
def test_a_delphi_item_stores_no_unsure_for_a_sentence_about_knowing(language: str, said: str) -> None:
    chat = RecordingChat(DELPHI, language=language)
    chat.send(said)
    assert _scores(chat) == [], "nothing stored, least of all NOT SURE"
    chat.send("dunno")
    assert _scores(chat) == [None]


@pytest.mark.parametrize(("language", "said"), [("en", "we know it went ok"), ("en", "sure"), ("cy", "gwybod")])
def test_a_scale_that_allows_unsure_asks_again_rather_than_store_unsure(language: str, said: str) -> None:
    chat = RecordingChat(WENT, language=language)
    reply = chat.send(said)
    assert chat.recorded == []
    assert reply[0].startswith(("Please reply with a number from 1 to 5", "Atebwch gyda rhif o 1 i 5")), reply


@pytest.mark.parametrize(("language", "said", "stored"), [
    ("en", "they know", None), ("en", "the nurses know the plan", None), ("cy", "dw i'n gwybod", None),
    ("en", "dont know", "dont_know"), ("en", "dnt know", "dont_know"), ("cy", "dim yn gwybod", "dont_know"),
])
def test_a_choice_with_dont_know_never_stores_the_opposite(language: str, said: str, stored: str | None) -> None:
    chat = RecordingChat(PLAN, language=language)
    chat.send(said)
    assert [answer.value for answer in chat.recorded] == ([] if stored is None else [stored])
