"""Hints that follow the question as written. A Welsh yes/no question is answered with its own
verb: 'Ai chi yw'r claf?' takes Ie or Nage, not the Ydw or Nac ydw the built-in buttons and
hint offered, which answer only 'Ydych chi ...?'; each such answer is read as a yes or a no.
And a question that already offers skipping ("Reply SKIP to skip.") is not followed by
Chorus's own skip hint saying it again, in English or Welsh."""

from __future__ import annotations

from typing import Any

import pytest

from channels.telegram import KEYBOARD as TELEGRAM
from flows.built_in_texts import BUILT_IN_TEXTS
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.model import Flow, Study
from flows.parsing import parse_yes_no
from flows.sms import sms_text
from flows.welsh_yes_no import welsh_answer_words
from flows.words import option_texts
from tests.engine_chat import NOW

FORMS = [
    ("Ai chi yw'r claf?", "Ie", "Nage"),
    ("Diolch. Ai dyma'r tro cyntaf?", "Ie", "Nage"),
    ("Oes gennych chi gar?", "Oes", "Nac oes"),
    ("A oes rhywun yn gofalu amdanoch chi?", "Oes", "Nac oes"),
    ("Oedd y bwyd yn dda?", "Oedd", "Nac oedd"),
    ("Ydych chi'n gofalu am rywun?", "Ydw", "Nac ydw"),
    ("Wyt ti'n iawn?", "Ydw", "Nac ydw"),
    ("Ydy'r ward yn dawel?", "Ydy", "Nac ydy"),
    ("Wnaethoch chi gael egwyl?", "Do", "Naddo"),
    ("A wnaethoch chi weld meddyg?", "Do", "Naddo"),
    ("Wnest ti fwyta heddiw?", "Do", "Naddo"),
    ("Gawsoch chi daflen?", "Do", "Naddo"),
]


def _chat(text: dict[str, str], language: str = "cy", study: Study | None = None, **step: Any) -> tuple[Engine, Any]:
    flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [
        {"id": "q", "type": "yesno", "text": text, **step}, {"id": "bye", "type": "end", "text": {"en": "Bye.", "cy": "Hwyl."}}]})
    engine = Engine(flow, study)
    return engine, engine.start(NOW, language=language)


@pytest.mark.parametrize(("question", "yes", "no"), FORMS)
def test_a_welsh_question_offers_its_own_yes_and_no_and_hints_at_them(question: str, yes: str, no: str) -> None:
    engine, started = _chat({"en": "Is it so?", "cy": question})
    [asked] = started.messages()
    assert [button.label for button in asked.buttons] == [yes, no]
    assert sms_text(asked.text, asked.buttons, False, option_texts("cy")).endswith(f"({'Atebwch'} {yes} neu {no})")
    on_sms = engine.handle(started.state, TextInput("porffor"), NOW)
    assert [m.text for m in on_sms.messages()] == [f"Atebwch {yes.upper()} neu {no.upper()}."]
    tapped = engine.handle(started.state, TextInput("porffor", keyboards=(TELEGRAM,)), NOW)
    assert [m.text for m in tapped.messages()] == [f"Pwyswch un o'r botymau, neu atebwch {yes.upper()} neu {no.upper()}."]


@pytest.mark.parametrize(("question", "yes", "no"), FORMS)
@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_each_welsh_answer_is_read_as_a_yes_or_a_no(question: str, yes: str, no: str, case: Any) -> None:
    assert (parse_yes_no(case(yes)), parse_yes_no(case(no))) == (True, False)
    assert (parse_yes_no(f"{case(yes)}, diolch"), parse_yes_no(f"{case(no)} diolch")) == (True, False)
    engine, started = _chat({"en": "Is it so?", "cy": question})
    recorded = [e for e in engine.handle(started.state, TextInput(case(no)), NOW).events if isinstance(e, RecordAnswer)]
    assert [(e.value, e.display) for e in recorded] == [("no", no)]


def test_a_question_that_does_not_tell_keeps_the_built_in_words() -> None:
    for question in ("Cytuno â'r telerau?", "Ai chi? Oes car gennych chi?", "Dywedwch wrthym."):
        assert welsh_answer_words(question) is None, question
    _, started = _chat({"en": "Agree to the terms?", "cy": "Cytuno â'r telerau?"})
    assert [b.label for b in started.messages()[0].buttons] == [BUILT_IN_TEXTS["yes"]["cy"], BUILT_IN_TEXTS["no"]["cy"]]


def test_english_and_the_steps_or_studys_own_labels_are_left_alone() -> None:
    question = {"en": "Are you the patient?", "cy": "Ai chi yw'r claf?"}
    _, english = _chat(question, "en")
    assert [b.label for b in english.messages()[0].buttons] == ["Yes", "No"]
    _, own = _chat(question, yes_label={"en": "Yes", "cy": "Ie, fi"}, no_label={"en": "No", "cy": "Na"})
    assert [b.label for b in own.messages()[0].buttons] == ["Ie, fi", "Na"]
    study = Study.model_validate({"study": "s", "title": "S", "join": {"start_flow": "f"}, "languages": ["en", "cy"],
                                  "texts": {"yes": {"en": "Yes", "cy": "Iawn"}, "no": {"en": "No", "cy": "Na"}}})
    engine, worded = _chat(question, study=study)
    assert [b.label for b in worded.messages()[0].buttons] == ["Iawn", "Na"]
    assert [m.text for m in engine.handle(worded.state, TextInput("porffor"), NOW).messages()] == ["Atebwch YDW neu NAC YDW."]


# ----------------------------------------------------------------------------- the skip hint


@pytest.mark.parametrize(("language", "question"), [
    ("en", "Are you the rota lead? Reply SKIP to skip."),
    ("en", "How old are you? (or skip)"),
    ("en", "What is your postcode? You can reply pass if you'd rather not say."),
    ("cy", "Ai chi yw arweinydd y rota? Atebwch HEPGOR i hepgor."),
    ("cy", "Beth yw eich cod post? (neu PASIO)"),
])
def test_a_question_that_offers_skipping_is_not_followed_by_the_skip_hint(language: str, question: str) -> None:
    engine, started = _chat({"en": question, "cy": question}, language, skip=True)
    assert started.messages()[0].text == question
    skipped = engine.handle(started.state, TextInput("HEPGOR" if language == "cy" else "SKIP"), NOW)
    assert [e.skipped for e in skipped.events if isinstance(e, RecordAnswer)] == [True], "skipping still works"


@pytest.mark.parametrize("language", ["en", "cy"])
def test_a_question_that_does_not_offer_it_still_gets_the_hint(language: str) -> None:
    question = {"en": "Are you the rota lead? Or pass this phone to them.", "cy": "Ai chi yw arweinydd y rota?"}
    _, started = _chat(question, language, skip=True)
    assert started.messages()[0].text == f"{question[language]}\n{BUILT_IN_TEXTS['skip_hint'][language]}"


def test_a_steps_own_skip_wording_is_said_as_written() -> None:
    _, started = _chat({"en": "Reply SKIP to skip. Are you the lead?", "cy": "Ai chi?"}, "en", skip="(SKIP is fine.)")
    assert started.messages()[0].text == "Reply SKIP to skip. Are you the lead?\n(SKIP is fine.)"
