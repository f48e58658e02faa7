"""Built-in texts come in English and Welsh with the same placeholders, and the Delphi,
ranking and statement steps speak the participant's language (a study's own texts stay
as the study wrote them)."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from flows.engine import Engine, TextInput
from flows.model import Flow
from flows.words import BUILT_IN_TEXTS

NOW = datetime(2030, 1, 1, tzinfo=UTC)


@pytest.mark.parametrize("key", sorted(BUILT_IN_TEXTS))
def test_every_built_in_text_has_english_and_welsh_with_the_same_placeholders(key: str) -> None:
    versions = BUILT_IN_TEXTS[key]
    assert set(versions) >= {"en", "cy"}
    assert versions["en"].strip() and versions["cy"].strip()
    assert sorted(re.findall(r"{(\w+)}", versions["en"])) == sorted(re.findall(r"{(\w+)}", versions["cy"]))


def chat(steps: list[dict[str, object]], replies: list[str], language: str = "cy") -> list[str]:
    engine = Engine(Flow.model_validate({"flow": "f", "steps": steps}))
    sprint = engine.start(NOW, language=language, seed=1)
    said, state = [m.text for m in sprint.messages()], sprint.state
    for reply in replies:
        sprint = engine.handle(state, TextInput(reply), NOW)
        state = sprint.state
        said += [m.text for m in sprint.messages()]
    return said


def test_a_delphi_round_speaks_welsh() -> None:
    step = {"id": "rate", "type": "delphi", "items": ["A", "B", "C"], "batch": 1, "ask_reason": "extreme"}
    said = chat([step], ["purple", "9", "na"])
    assert "1-3 ddim yn bwysig, 4-6 pwysig ond ddim yn hanfodol, 7-9 hanfodol" in said[0]
    assert said[1] == "Atebwch gyda rhif o 1 i 9, neu DDIM YN SIŴR."
    assert said[2] == "Pam rhoesoch chi'r sgôr honno? (Atebwch NA i hepgor)"
    assert said[3].startswith("Dyna 1 o 3. Atebwch NESAF am 1 arall")
    english = chat([step], ["purple"], language="en")
    assert english[1] == "Please reply with a number from 1 to 9, or NOT SURE."


def test_a_ranking_speaks_welsh() -> None:
    step = {"id": "first", "type": "rank", "text": {"en": "Order these", "cy": "Trefnwch y rhain"},
            "options": ["Waits", "Phones", "Carers", "Parking"], "top": 3}
    said = chat([step], ["purple", "2", "purple"])
    assert said[0].startswith("Trefnwch y rhain")
    # (one-word options go by SMS on one "(Atebwch Waits, Phones, Carers neu Parking)" line, unnumbered)
    assert said[1] == "Atebwch gyda'r opsiynau yn eu trefn, y pwysicaf yn gyntaf, gyda choma rhwng pob un."
    assert said[2].startswith("Beth sydd nesaf o ran pwysigrwydd? (Hyd yma: Phones)")
    assert said[3].startswith("Atebwch gyda rhif yr opsiwn pwysicaf nesaf: 1, 3 neu 4.")


def test_statement_voting_speaks_welsh_and_understands_welsh_votes() -> None:
    step = {"id": "views", "type": "statements", "statements": ["Visits at a set time.", "Any nurse, sooner."], "per_session": 2}
    engine = Engine(Flow.model_validate({"flow": "f", "steps": [step]}))
    sprint = engine.start(NOW, language="cy", seed=1)
    prompt = sprint.messages()[-1]
    assert "(Neu atebwch YCHWANEGU a datganiad eich hun.)" in prompt.text
    assert [b.label for b in prompt.buttons] == ["Cytuno", "Anghytuno", "Pasio"]
    sprint = engine.handle(sprint.state, TextInput("purple"), NOW)
    assert sprint.messages()[-1].text.startswith("Atebwch A (cytuno), D (anghytuno) neu P (pasio).")
    sprint = engine.handle(sprint.state, TextInput("ADD"), NOW)
    assert sprint.messages()[-1].text == "Beth yw eich datganiad? Anfonwch ef fel eich neges nesaf."
    sprint = engine.handle(sprint.state, TextInput("anghytuno"), NOW)
    assert [getattr(e, "value", None) for e in sprint.events if getattr(e, "item", None)] == [-1]
