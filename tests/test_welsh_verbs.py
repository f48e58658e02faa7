"""A Welsh yes/no question put with a future, conditional or modal verb is answered with that
verb, as any Welsh question is: 'Hoffech chi ...?' Hoffwn or Na hoffwn, 'Fyddwch chi ...?'
Byddaf or Na fyddaf, 'Allwch chi ...?' Gallaf or Na allaf, never the built-in Ydw or Nac ydw
(which answer only 'Ydych chi ...?'). The buttons and hints offer those words, and each is read
as typed, on SMS too: in lower case, without the mutation ('na gallaf'), as said ('galla'), or
said the way Welsh says a negative ('alla i ddim'). And a Welsh participant told what a choice
experiment's choices differ in hears its attributes' Welsh names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from channels.telegram import KEYBOARD as TELEGRAM
from flows.built_in_texts import BUILT_IN_TEXTS
from flows.engine import TextInput
from flows.model import Flow
from flows.parsing import parse_yes_no
from flows.sms import sms_text
from flows.validate import validate_paths
from flows.words import option_texts
from tests.engine_chat import NOW, RecordingChat
from tests.test_dce_descriptions import HINT, JOBS, jobs_flow
from tests.test_dce_words_and_language_choice import Tasks

VERBS = [
    ("Hoffech chi gymryd rhan?", "Hoffwn", "Na hoffwn"),
    ("A hoffech chi gael galwad?", "Hoffwn", "Na hoffwn"),
    ("Hoffet ti ddod eto?", "Hoffwn", "Na hoffwn"),
    ("Fyddech chi'n ei gefnogi?", "Byddwn", "Na fyddwn"),
    ("Byddech chi'n argymell y clinig?", "Byddwn", "Na fyddwn"),
    ("Fyddwch chi gartref ddydd Llun?", "Byddaf", "Na fyddaf"),
    ("Byddwch chi ar gael yfory?", "Byddaf", "Na fyddaf"),
    ("Allwch chi ddod i'r cyfarfod?", "Gallaf", "Na allaf"),
    ("Gallwch chi ddarllen y llythyr?", "Gallaf", "Na allaf"),
    ("Fedrwch chi gyrraedd y feddygfa?", "Medraf", "Na fedraf"),
    ("Medrwch chi yrru?", "Medraf", "Na fedraf"),
    ("Allech chi ein helpu ni?", "Gallwn", "Na allwn"),
    ("Oeddech chi'n aros yn hir?", "Oeddwn", "Nac oeddwn"),
    ("Oeddet ti yno?", "Oeddwn", "Nac oeddwn"),
    ("Ddylen ni agor ar ddydd Sadwrn?", "Dylen", "Na ddylen"),
    ("Wnewch chi ateb tri chwestiwn?", "Gwnaf", "Na wnaf"),
]
TYPED = [
    ("Hoffech chi gymryd rhan?", ["hoffwn", "Hoffwn i", "hoffwn, diolch"], ["na hoffwn", "Na hoffwn i", "hoffwn i ddim"]),
    ("Fyddwch chi gartref?", ["byddaf", "bydda", "Bydda i"], ["na fyddaf", "na byddaf", "na fydda", "fydda i ddim"]),
    ("Allwch chi ddod?", ["gallaf", "galla", "GALLAF"], ["na allaf", "na gallaf", "na alla", "alla i ddim"]),
    ("Fedrwch chi ddod?", ["medraf", "medra"], ["na fedraf", "na medraf", "fedra i ddim, sori"]),
    ("Allech chi helpu?", ["gallwn"], ["na allwn", "na gallwn"]),
    ("Fyddech chi'n dod?", ["byddwn", "Byddwn i"], ["na fyddwn", "na byddwn", "fyddwn i ddim"]),
    ("Oeddech chi yno?", ["oeddwn"], ["nac oeddwn", "nag oeddwn"]),
    ("Ddylen ni newid?", ["dylen"], ["na ddylen", "na dylen", "ddylen ni ddim"]),
]


def _yes_no(question: str, language: str = "cy", kind: str = "yesno") -> RecordingChat:
    return RecordingChat({"id": "q", "type": kind, "text": {"en": "Is it so?", "cy": question}}, language=language)


def _buttons(chat: RecordingChat) -> list[str]:
    [asked] = chat.engine.start(NOW, language="cy").messages()
    return [button.label for button in asked.buttons]


@pytest.mark.parametrize(("question", "yes", "no"), VERBS)
def test_a_welsh_question_offers_and_hints_at_its_verbs_own_yes_and_no(question: str, yes: str, no: str) -> None:
    chat = _yes_no(question)
    [asked] = chat.engine.start(NOW, language="cy").messages()
    assert [button.label for button in asked.buttons] == [yes, no]
    assert sms_text(asked.text, asked.buttons, False, option_texts("cy")).endswith(f"(Atebwch {yes} neu {no})")
    assert chat.send("porffor") == [f"Atebwch {yes.upper()} neu {no.upper()}."]
    tapped = chat.engine.handle(chat.state, TextInput("porffor", keyboards=(TELEGRAM,)), NOW)
    assert [m.text for m in tapped.messages()] == [f"Pwyswch un o'r botymau, neu atebwch {yes.upper()} neu {no.upper()}."]


@pytest.mark.parametrize(("question", "yes", "no"), VERBS)
@pytest.mark.parametrize(("answer", "value"), [(0, "yes"), (1, "no")])
@pytest.mark.parametrize("case", [str, str.upper, str.lower])
def test_each_answer_is_recorded_as_typed_in_any_case(question: str, yes: str, no: str, answer: int, value: str, case: Any) -> None:
    said = (yes, no)[answer]
    chat = _yes_no(question)
    assert chat.send(case(said)) == ["Hwyl."]
    assert [(e.value, e.display) for e in chat.recorded] == [(value, said)]


@pytest.mark.parametrize(("question", "yeses", "noes"), TYPED)
def test_typed_variants_are_read_on_sms(question: str, yeses: list[str], noes: list[str]) -> None:
    for typed, value in [*((y, "yes") for y in yeses), *((n, "no") for n in noes)]:
        chat = _yes_no(question)
        assert chat.send(typed) == ["Hwyl."], typed
        assert [e.value for e in chat.recorded] == [value], typed


def test_a_negative_that_goes_on_to_say_it_cannot_tell_is_asked_again() -> None:
    assert parse_yes_no("alla i ddim dweud") is None, "I can't say: no answer"
    assert parse_yes_no("alla i ddim dod") is False, "I can't come"
    chat = _yes_no("Allwch chi ddod?")
    assert chat.send("fedra i ddim deud") == ["Atebwch GALLAF neu NA ALLAF."]


def test_a_consent_question_takes_its_verbs_words_in_welsh_only() -> None:
    chat = _yes_no("Hoffech chi gymryd rhan?", kind="consent")
    assert _buttons(chat) == ["Hoffwn", "Na hoffwn"]
    chat.send("na hoffwn")
    assert [(e.value, e.display) for e in chat.recorded] == [("no", "Na hoffwn")]
    english = _yes_no("Hoffech chi gymryd rhan?", language="en", kind="consent")
    [asked] = english.engine.start(NOW, language="en").messages()
    assert [b.label for b in asked.buttons] == ["Yes", "No"]
    which = _yes_no("Pa un fyddech chi'n ei ddewis?")
    assert _buttons(which) == [BUILT_IN_TEXTS["yes"]["cy"], BUILT_IN_TEXTS["no"]["cy"]], "'fyddech' not first: no verb asked"


# ----------------------------------------------------------------------------- choice experiments

NAMES = {"pay": {"en": "Extra pay", "cy": "Tâl ychwanegol"}, "shift_hours": {"en": "shift length", "cy": "hyd y shifft"},
         "break_cover": {"en": "break cover", "cy": "cyflenwi egwyl"}, "travel_minutes": {"en": "travel", "cy": "teithio"}}


def _attributes(names: dict[str, Any]) -> dict[str, Any]:
    return {name: {**spec, "label": names[name]} if name in names else spec for name, spec in JOBS["attributes"].items()}


def _named(names: dict[str, Any]) -> Flow:
    return jobs_flow(attributes=_attributes(names))


def test_a_welsh_participant_hears_the_attributes_welsh_names_when_nothing_costs() -> None:
    welsh = Tasks(_named(NAMES), "cy")
    (told,) = welsh.reply(0, "yr un rhatach")[1]
    differ = "tâl ychwanegol, hyd y shifft, cyflenwi egwyl, teithio"
    assert told.startswith(BUILT_IN_TEXTS["dce.no_cost"]["cy"].format(attributes=differ))
    english = Tasks(_named(NAMES))
    said = BUILT_IN_TEXTS["dce.no_cost"]["en"].format(attributes="extra pay, shift length, break cover, travel")
    assert english.reply(0, "the cheaper one") == (None, [f"{said} {HINT}"])


def test_an_attribute_without_a_welsh_name_falls_back_to_the_first_languages_then_its_own() -> None:
    names = {"pay": {"en": "Extra pay"}, "shift_hours": "NHS shift"}
    (told,) = Tasks(_named(names), "cy").reply(0, "rhatach")[1]
    differ = "extra pay, NHS shift, break cover, travel minutes"
    assert told.startswith(BUILT_IN_TEXTS["dce.no_cost"]["cy"].format(attributes=differ))


WELSH_LEVELS: dict[str, dict[str, Any]] = {
    "wait": {"levels": [1, 4], "labels": {1: {"en": "1 week", "cy": "1 wythnos"}, 4: {"en": "4 weeks", "cy": "4 wythnos"}}},
    "place": {"levels": ["gp", "hospital"], "labels": {"gp": {"en": "your GP", "cy": "eich meddyg teulu"},
                                                       "hospital": {"en": "hospital", "cy": "ysbyty"}}},
}


def _validated(tmp_path: Path, names: dict[str, Any], languages: list[str]) -> list[Any]:
    """The warnings of texts lacking a language for a choice experiment whose levels are in English and Welsh."""
    attributes = {name: {**spec, "label": names[name]} if name in names else spec for name, spec in WELSH_LEVELS.items()}
    steps = [{"id": "where", "type": "choice_experiment", "text": {"en": "Which?", "cy": "Pa un?"}, "attributes": attributes, "tasks": 4},
             {"id": "bye", "type": "end", "text": {"en": "Bye.", "cy": "Hwyl."}}]
    path = tmp_path / "where.yaml"
    path.write_text(yaml.safe_dump({"flow": "where", "languages": languages, "steps": steps}, allow_unicode=True, sort_keys=False),
                    encoding="utf-8")
    return [p for p in validate_paths([path])[0] if "version" in p.message]


def _line(tmp_path: Path, key: str) -> int:
    """The line of the flow written last on which ``key`` starts (as 'place:')."""
    lines = (tmp_path / "where.yaml").read_text(encoding="utf-8").splitlines()
    return next(number for number, line in enumerate(lines, 1) if line.strip().startswith(key))


def test_validate_warns_of_attributes_with_no_label_in_a_welsh_study(tmp_path: Path) -> None:
    [warning] = _validated(tmp_path, {"wait": {"en": "waiting time", "cy": "amser aros"}}, ["en", "cy"])
    place = _line(tmp_path, "place:")
    assert warning.severity == "warning" and warning.line == place
    assert warning.message == ("a text participants see has no Welsh ('cy') version, so those participants would get it as written: "
                               f"the name of attribute 'place' of step 'where' (line {place})")
    assert warning.hint == "an attribute's name under its 'label', e.g. 'wait: {levels: [...], label: {en: waiting time, cy: ...}}'"
    [once] = _validated(tmp_path, {"wait": "wait", "place": {"en": "place", "cy": "lle"}}, ["en", "cy"])
    assert once.message.endswith(f"'attributes.wait.label' of step 'where' (line {_line(tmp_path, 'label: wait')})"), "a name written once"
    assert _validated(tmp_path, {"wait": {"en": "wait", "cy": "aros"}, "place": {"en": "place", "cy": "lle"}}, ["en", "cy"]) == []
    assert _validated(tmp_path, {}, ["en"]) == [], "one language: its names are its own"
    _validated(tmp_path, {"wait": {"en": "wait"}, "place": {"en": "place", "cy": "lle"}}, ["en", "cy"])
    [error] = [p for p in validate_paths([tmp_path / "where.yaml"])[0] if p.severity == "error"]
    assert "has no 'cy' translation" in error.message and error.line == _line(tmp_path, "label:") + 1, "a Welsh name left out"
