"""``chorus validate`` warns of a study's own signposting that names no emergency number or
crisis line: it replaces Chorus's NHS 111 / 999 / Samaritans text and goes to anyone whose
message suggests a risk of harm, so a clinic's advice about its own subject would leave a
participant in crisis without help (found by a tester: a foot clinic's wound advice was sent to
someone who wrote about wanting to end their life)."""

from __future__ import annotations

from pathlib import Path

import pytest

from flows.validate import validate_paths

FLOW = """flow: understand
steps:
  - id: thanks
    type: message
    text: {en: Thank you., cy: Diolch.}
"""


def study(tmp_path: Path, signposting: str) -> Path:
    folder = tmp_path / "clinic"
    folder.mkdir()
    (folder / "study.yaml").write_text(
        "study: clinic\ntitle: {en: Clinic, cy: Clinig}\nlanguages: [en, cy]\ntimezone: Europe/London\n"
        "join:\n  start_flow: understand\n  keyword: CLINIC\nflows: [understand.yaml]\n" + signposting)
    (folder / "understand.yaml").write_text(FLOW)
    return folder


def warnings_about_signposting(folder: Path) -> list[str]:
    problems, _ = validate_paths([folder])
    assert not [p for p in problems if p.severity == "error"], problems
    return [p.message for p in problems if "signposting" in p.message]


def test_advice_about_the_study_alone_is_warned_of(tmp_path: Path) -> None:
    found = warnings_about_signposting(study(tmp_path, (
        "signposting:\n  en: If a wound is hot or red, call your podiatry team or NHS 111.\n"
        "  cy: Os yw clwyf yn boeth neu'n goch, ffoniwch eich tîm podiatreg neu GIG 111.\n")))
    assert len(found) == 1 and "(in en, cy)" in found[0] and "crisis line" in found[0]


def test_only_the_language_lacking_it_is_named(tmp_path: Path) -> None:
    found = warnings_about_signposting(study(tmp_path, (
        "signposting:\n  en: Call 999 in an emergency, or Samaritans on 116 123.\n"
        "  cy: Ffoniwch eich tîm podiatreg.\n")))
    assert len(found) == 1 and "(in cy)" in found[0]


@pytest.mark.parametrize("text", [
    "If you need urgent help, call NHS 111, or 999 in an emergency.",
    "In a crisis, text SHOUT to 85258.",
    "Call 911 or the 988 Suicide & Crisis Lifeline.",
    "Ring Lifeline on 13 11 14, or 000.",
])
def test_a_signpost_to_crisis_help_is_fine(tmp_path: Path, text: str) -> None:
    assert warnings_about_signposting(study(tmp_path, f"signposting:\n  en: {text}\n  cy: Ffoniwch 999 mewn argyfwng.\n")) == []


def test_no_signposting_uses_chorus_own_text_and_is_fine(tmp_path: Path) -> None:
    assert warnings_about_signposting(study(tmp_path, "")) == []
