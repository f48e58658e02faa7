"""`chorus validate` counts SMS segments for every language of every prompt (each Delphi
item, each statement), in the encoding each needs: Welsh ŵ forces UCS-2 (70 characters a
segment, 67 once split), and the warning names the letter without asking to replace it."""

from __future__ import annotations

from pathlib import Path

from channels.base import render_plain
from flows.loader import read_flow
from flows.message_checks import composed_prompt
from flows.sms import count_segments, segments_as_gsm7, sms_text
from flows.validate import validate_paths
from flows.words import Words

ROOT = Path(__file__).resolve().parent.parent

DELPHI = """\
flow: rate
languages: [en, cy]
steps:
  - id: rate
    type: delphi
    text: {{en: How important is each?, cy: Pa mor bwysig yw pob un?}}
    unsure: false
    items:
      - {{id: seats, text: {{en: More seats, cy: Mwy o seddi}}}}
      - id: water
        text:
          en: Fresh drinking water on every ward, within reach of every bed
          cy: "{welsh}"
  - id: bye
    type: end
    text: {{en: Thanks., cy: Diolch.}}
"""
WITH_W = "Dŵr yfed ffres ar bob ward, o fewn cyrraedd pob gwely, i bawb sy'n aros"
"""Item 2's prompt in Welsh fits one GSM-7 segment's length (156), but ŵ makes it 3 UCS-2 ones."""
GSM7_ONLY = "Bwyd ffres ar bob ward, o fewn cyrraedd pob gwely, i bawb sy'n aros yno"


def _problems(tmp_path: Path, welsh: str) -> list[str]:
    flow = tmp_path / "rate.yaml"
    flow.write_text(DELPHI.format(welsh=welsh), encoding="utf-8")
    return [f"{p.line}: {p.message} ({p.hint})" for p in validate_paths([flow])[0]]


def test_a_welsh_item_that_w_puts_into_three_segments_is_named_with_its_letter(tmp_path: Path) -> None:
    (problem,) = _problems(tmp_path, WITH_W)
    assert problem.startswith("13: on SMS, the Welsh ('cy') prompt of item 2 of step 'rate' takes 3 SMS segments "
                              "(156 UTF-16 units in UCS-2)"), problem
    assert "ŵ in 'Dŵr', a Welsh ('cy') letter, forces UCS-2" in problem
    assert "keep the Welsh ('cy') letters" in problem and "replace" not in problem  # never blamed


def test_the_same_length_of_welsh_in_gsm7_gets_no_warning(tmp_path: Path) -> None:
    assert _problems(tmp_path, GSM7_ONLY) == []


def test_the_counts_in_the_warning_are_what_the_sms_costs() -> None:
    text = f"2/2: {WITH_W}\n1-3 ddim yn bwysig, 4-6 pwysig ond ddim yn hanfodol, 7-9 hanfodol\n(Atebwch 1-9)"
    assert (count_segments(text).segments, count_segments(text).units, segments_as_gsm7(text)) == (3, 156, 1)


def test_a_long_welsh_statement_after_the_first_is_counted(tmp_path: Path) -> None:
    flow = tmp_path / "views.yaml"
    statement = "Dylai'r ŵyl iechyd fod ar agor bob dydd, gyda bwyd a diod i bawb sy'n aros gyda'u plant " * 2
    flow.write_text(
        "flow: views\nlanguages: [en, cy]\nsteps:\n  - id: views\n    type: statements\n"
        "    text: {en: Agree?, cy: Cytuno?}\n    statements:\n      - {id: a, text: {en: Short., cy: Byr.}}\n"
        f"      - {{id: b, text: {{en: Long., cy: \"{statement.strip()}\"}}}}\n"
        "  - id: bye\n    type: end\n    text: {en: Thanks., cy: Diolch.}\n",
        encoding="utf-8",
    )
    messages = [p.message for p in validate_paths([flow])[0]]
    assert any(m.startswith("on SMS, the Welsh ('cy') prompt of statement 2 of step 'views'") and "ŵ in 'ŵyl'" in m
               for m in messages), messages


def test_segments_are_counted_on_the_sms_exactly_as_it_is_sent() -> None:
    """``render_plain`` (what SMS sends) is :func:`flows.sms.sms_text` (what validate counts): every example prompt agrees."""
    words, compared = Words(None), 0
    for path in sorted((ROOT / "flows" / "examples").glob("*/*.yaml")) + sorted((ROOT / "tests" / "flows").glob("*.yaml")):
        loaded, _ = read_flow(path)
        for step in loaded.flow.steps if loaded is not None else []:
            for language in ("en", "cy"):
                try:
                    text, buttons, multiple = composed_prompt(step, language, "en", words)
                except Exception:  # (as validate does: a prompt that needs more than a sample)
                    continue
                texts = words.option_texts(language)
                assert sms_text(text, buttons, multiple, texts) == render_plain(text, tuple(buttons), multiple, texts)
                compared += 1
    assert compared > 100
