"""Three small coordinator findings: a voice note offered to SMS participants, a yes/no or
consent text asking for words the step does not read (``chorus validate`` warns of both),
and chart descriptions that said each label several times."""

from __future__ import annotations

import re
from pathlib import Path

from bot.api.figures import funnel_chart
from bot.charts import Bars, Control, Intervals, svg
from flows.loader import Problem
from flows.reply_checks import asked_words, offered_off_sms
from flows.validate import validate_paths

STUDY = """study: clinic
title: The clinic
languages: [en, cy]
join:
  start_flow: welcome
{ways_in}
"""
KEYWORD = "  keyword: CLINIC"
TELEGRAM_ONLY = "  telegram: clinic"


def _warnings(tmp_path: Path, steps: str, ways_in: str = KEYWORD) -> list[Problem]:
    folder = tmp_path / "study"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY.format(ways_in=ways_in), encoding="utf-8")
    flow = f"flow: welcome\nsteps:\n{steps}  - id: bye\n    type: end\n    text: {{en: Thanks., cy: Diolch.}}\n"
    (folder / "welcome.yaml").write_text(flow, encoding="utf-8")
    problems = validate_paths([folder])[0]
    assert not [p for p in problems if p.severity == "error"], "\n".join(map(str, problems))
    return problems


def _about(problems: list[Problem], phrase: str) -> list[Problem]:
    return [p for p in problems if phrase in p.message]


# ----------------------------------------------------------------------------- voice on SMS

OPEN = """  - id: story
    type: open
    text:
      en: "{en}"
      cy: "{cy}"
"""


def test_a_voice_note_offered_in_plain_text_is_found_in_english_and_welsh() -> None:
    assert offered_off_sms("What was it like? Type, or send a voice note.") == "voice note"
    assert offered_off_sms("Sut oedd hi? Teipiwch, neu anfonwch neges llais.") == "neges llais"
    assert offered_off_sms("Neu anfonwch neges lais.") == "neges lais"
    assert offered_off_sms("Record your answer if you like.") == "Record your"
    assert offered_off_sms("Your voice matters to us. Mae eich llais yn bwysig.") is None


def test_a_voice_note_inside_a_channel_condition_is_not_found() -> None:
    example = "What was waiting like?{% if participant.channel != 'sms' %} Type, or send a voice note.{% endif %}"
    assert offered_off_sms(example) is None
    other_branch = "Tell us.{% if participant.channel == 'sms' %} Type it.{% else %} Or send a voice note.{% endif %}"
    assert offered_off_sms(other_branch) is None
    by_language = "Tell us.{% if participant.language == 'en' %} Or send a voice note.{% endif %}"
    assert offered_off_sms(by_language) == "voice note", "a condition on something else still reaches SMS"
    after = "Tell us.{% if participant.channel != 'sms' %} Type.{% endif %} Or send a voice note."
    assert offered_off_sms(after) == "voice note"
    assert offered_off_sms("Tell us.{# no voice note: SMS #}") is None, "a template comment is never sent"


def test_validate_warns_of_a_voice_note_offered_to_sms_participants_with_the_example_pattern(tmp_path: Path) -> None:
    steps = OPEN.format(en="What was it like? Type, or send a voice note.", cy="Sut oedd hi? Teipiwch, neu anfonwch neges llais.")
    found = _about(_warnings(tmp_path, steps), "offers a voice note")
    assert [(p.severity, p.line) for p in found] == [("warning", 6), ("warning", 7)]
    assert "the English ('en') 'text' of step 'story'" in found[0].message and "SMS participants cannot send one" in found[0].message
    assert "{% if participant.channel != 'sms' %}" in found[0].hint
    assert found[1].column == 48, "points at the Welsh words"


def test_no_voice_warning_with_the_channel_condition_or_without_sms_or_voice(tmp_path: Path) -> None:
    guarded = OPEN.format(
        en="What was it like?{% if participant.channel != 'sms' %} Or send a voice note.{% endif %}",
        cy="Sut oedd hi?{% if participant.channel != 'sms' %} Neu anfonwch neges llais.{% endif %}",
    )
    assert not _about(_warnings(tmp_path / "a", guarded), "voice note")
    plain = OPEN.format(en="Type, or send a voice note.", cy="Teipiwch, neu anfonwch neges llais.")
    assert not _about(_warnings(tmp_path / "b", plain, TELEGRAM_ONLY), "voice note"), "joined only through Telegram"
    text_only = plain + "    accept: [text]\n"
    assert not _about(_warnings(tmp_path / "c", text_only), "voice note"), "the step takes no voice notes"


# ----------------------------------------------------------------------------- yes/no words

CONSENT = """  - id: consent
    type: consent
    text:
      en: "{en}"
      cy: "{cy}"
"""


def test_the_words_a_text_asks_for_are_those_after_reply_and_or() -> None:
    assert asked_words("Do you agree? Reply YES to take part, or NO.") == ["YES", "NO"]
    assert asked_words("Ydych chi'n cytuno? Atebwch IE i gytuno neu NA i wrthod.") == ["IE", "NA"]
    assert asked_words("Atebwch YDW neu NAC YDW.") == ["YDW", "NAC YDW"]
    assert asked_words('Reply "yes" if you agree, or text STOP at any time.') == ["yes", "STOP"]
    assert asked_words("Read about the NHS study or the GP survey.") == [], "capitals with no reply asked for"


def test_welsh_ie_or_na_beside_the_ydw_buttons_is_read_and_so_not_warned_of(tmp_path: Path) -> None:
    steps = CONSENT.format(en="Do you agree to take part? Reply YES or NO.", cy="Ydych chi'n cytuno? Atebwch IE i gytuno neu NA.")
    assert not _about(_warnings(tmp_path, steps), "does not read as yes or no")


def test_validate_warns_of_words_a_consent_step_would_not_read(tmp_path: Path) -> None:
    steps = CONSENT.format(en="Do you agree? Reply JOIN to take part or DECLINE.", cy="Ydych chi'n cytuno? Atebwch YDW neu NAC YDW.")
    found = _about(_warnings(tmp_path, steps), "does not read as yes or no")
    assert [re.search(r'reply "(\w+)"', p.message).group(1) for p in found] == ["JOIN", "DECLINE"]  # type: ignore[union-attr]
    assert all(p.severity == "warning" and p.line == 6 for p in found)
    assert "of consent step 'consent'" in found[0].message
    assert "'Yes' and 'No'" in found[0].hint and "yes_label and no_label" in found[0].hint


def test_a_yes_no_steps_own_button_words_and_global_words_are_read(tmp_path: Path) -> None:
    steps = """  - id: call
    type: yesno
    text:
      en: "Can we call you? Reply CALL ME or NOT NOW. Reply STOP to leave, or CYMRAEG."
      cy: "Gawn ni eich ffonio? Atebwch FFONIWCH neu DIM NAWR."
    yes_label: {en: Call me, cy: Ffoniwch}
    no_label: {en: Not now, cy: Dim nawr}
"""
    assert not _about(_warnings(tmp_path, steps), "does not read as yes or no")


# ----------------------------------------------------------------------------- charts


def _description(drawn: str) -> str:
    found = re.search(r"<desc[^>]*>(.*?)</desc>", drawn)
    assert found is not None
    return found.group(1)


def test_a_funnel_is_described_a_sentence_a_step_each_label_once() -> None:
    entry = {"flow": "understand", "steps": [{"step": "(started)", "reached": 3}, {"step": "consent", "reached": 3}]}
    drawn = svg(funnel_chart(entry))
    assert _description(drawn) == "(started): reached 3. consent: reached 3."
    assert "<title>reached: 3</title>" in drawn and "(started), reached" not in drawn
    assert drawn.count("(started)") == 3, "the description, the row label and its tooltip; no bar repeats it"
    assert '<g aria-hidden="true">' in drawn, "a screen reader reads the title and description, not the drawing"


def test_bars_with_several_groups_say_each_category_once() -> None:
    chart = Bars("Would you back it?", ["Yes", "No"], [("all", [3.0, 1.0]), ("patient", [2.0, 0.0])], horizontal=False)
    drawn = svg(chart)
    assert _description(drawn) == "Yes: all 3, patient 2. No: all 1, patient 0."
    assert "<title>patient: 2</title>" in drawn


def test_intervals_and_control_charts_are_described_in_sentences() -> None:
    ranking = svg(Intervals("Ranking", [("Phone", 1.0, 0.5, 1.5), ("Texts", -0.25, -0.5, 0.0)]))
    assert _description(ranking) == "Phone: 1 (0.5 to 1.5). Texts: -0.25 (-0.5 to 0)."
    assert "<title>1 (0.5 to 1.5)</title>" in ranking
    control = svg(Control("Waits", ["w1", "w2", "w3"], [1.0, 5.0, 2.0], 2.5, 4.5, 0.5, ["", "high", ""]))
    assert _description(control) == "3 points, mean 2.5, process limits 0.5 to 4.5. Special cause: w2 (high)."
    calm = svg(Control("Waits", ["w1", "w2"], [1.0, 2.0], 1.5, 3.0, 0.0))
    assert _description(calm).endswith("No point is marked as special cause.")
