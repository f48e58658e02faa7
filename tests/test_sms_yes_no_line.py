"""On SMS a yes/no pair goes on one reply line, whatever its labels' length (Welsh "Nac ydw"):
numbered, the "1)" of "1) Ydw" would clash with a number typed after "Just to check: 2?"."""

from __future__ import annotations

from channels.base import render_plain
from flows.events import Button
from flows.words import Words

WELSH = Words(None).option_texts("cy")
YES_NO = (Button("Ydw", "yes"), Button("Nac ydw", "no"))


def test_a_welsh_yes_no_pair_is_one_line_not_numbered() -> None:
    shown = render_plain("I wneud yn siŵr: 2?", YES_NO, texts=WELSH)
    assert shown.splitlines()[0] == "I wneud yn siŵr: 2?" and "1)" not in shown
    assert "Ydw" in shown.splitlines()[-1] and "Nac ydw" in shown.splitlines()[-1]


def test_a_text_that_names_both_answers_needs_no_line() -> None:
    text = "I wneud yn siŵr: 2? Atebwch YDW neu NAC YDW, neu anfonwch y rhif."
    assert render_plain(text, YES_NO, texts=WELSH) == text


def test_options_of_several_words_are_still_numbered() -> None:
    buttons = (Button("A named nurse", "nurse"), Button("Text updates", "texts"), Button("Nothing else", "none"))
    assert "1) A named nurse" in render_plain("What would help?", buttons)
