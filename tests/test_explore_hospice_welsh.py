"""A Welsh carer in the hospice study (tests/data/hospice): a yes/no question whose verb follows a
phrase set off by a comma ("Yn ystod yr wythnos ddiwethaf, wnaethoch chi boeni ...?") is offered,
and hinted at, the answers its verb takes: Do or Naddo."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.chat import ChatSession, bot_lines, open_target
from flows.welsh_yes_no import welsh_answer_words

HOSPICE = Path(__file__).parent / "data" / "hospice"


def test_the_worry_question_is_offered_do_or_naddo() -> None:
    chat = ChatSession(open_target(HOSPICE), language="cy", channel="sms")
    for reply in ("ie", "1", "3/9/2026", "5"):
        chat.send(reply)
    asked = "\n".join(bot_lines(chat.send("1"), chat.option_texts))
    assert "wnaethoch chi boeni" in asked
    assert "(Atebwch Do neu Naddo)" in asked
    hint = "\n".join(bot_lines(chat.send("nyrsys"), chat.option_texts))
    assert "DO" in hint and "NADDO" in hint and "YDW" not in hint
    assert chat.send("naddo") and chat.state.values["worry"] == "no"


@pytest.mark.parametrize(("question", "words"), [
    ("Yn ystod yr wythnos ddiwethaf, wnaethoch chi boeni?", ("Do", "Naddo")),
    ("Yn y nos, oes gennych chi rif i'w ffonio?", ("Oes", "Nac oes")),
    ("Ai chi yw'r gofalwr?", ("Ie", "Nage")),
    ("Wrth feddwl am y mis diwethaf, beth oedd waethaf?", None),
])
def test_the_verb_after_a_leading_phrase(question: str, words: tuple[str, str] | None) -> None:
    assert welsh_answer_words(question) == words
