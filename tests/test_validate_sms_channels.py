"""SMS segment warnings only where SMS can reach, and counting Chorus's own words. A study
reached only through Telegram links (no keyword to text) was warned that its prompts take two
SMS segments; and the built-in Welsh option 'Ddim yn siŵr' made a prompt two UCS-2 segments
with no warning, as if the flow's own Welsh letters had (those are right, and forgiven)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml

from flows.engine import Engine
from flows.loader import load_study
from flows.sms import count_segments, gsm7_reply_words, sms_text
from flows.validate import validate_paths
from flows.words import option_texts

NOW = datetime(2030, 1, 1, tzinfo=UTC)
LONG = {"en": "How well does the rota work for you? This is a longer question, long enough that with its options "
              "it goes over the one hundred and sixty characters of one SMS.",
        "cy": "Pa mor dda mae'r rota'n gweithio i chi?"}
WELSH_LIKERT = {"id": "rota", "type": "scale", "min": 1, "max": 3, "unsure": True,
                "labels": [{"en": "Bad", "cy": "Gwael"}, {"en": "OK", "cy": "Iawn"}, {"en": "Good", "cy": "Da"}],
                "text": {"en": "How well does the rota work?",
                         "cy": "Pa mor dda mae'r rota'n gweithio i chi ar hyn o bryd yn eich barn chi, ar y ward hon eleni?"}}


def _study(folder: Path, join: dict[str, Any], step: dict[str, Any]) -> Path:
    folder.mkdir()
    steps = [{"id": "hi", "type": "message", "text": {"en": "Hello.", "cy": "Helo."}}, step,
             {"id": "bye", "type": "end", "text": {"en": "Thank you.", "cy": "Diolch."}}]
    (folder / "rota.yaml").write_text(yaml.safe_dump({"flow": "rota", "steps": steps}, allow_unicode=True), encoding="utf-8")
    study = {"study": "rota", "title": {"en": "Rota", "cy": "Rota"}, "languages": ["en", "cy"],
             "join": {"start_flow": "rota", **join}, "flows": ["rota.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return folder


def _segment_warnings(path: Path) -> list[str]:
    return [p.message for p in validate_paths([path], NOW)[0] if "SMS segments" in p.message]


def test_a_study_reached_only_through_telegram_gets_no_sms_segment_warnings(tmp_path: Path) -> None:
    long = {"id": "rota", "type": "scale", "min": 1, "max": 5, "unsure": True, "text": LONG}
    assert _segment_warnings(_study(tmp_path / "telegram", {"telegram": "rota"}, long)) == []
    [by_keyword] = _segment_warnings(_study(tmp_path / "keyword", {"keyword": "ROTA", "language": "en"}, long))
    assert "the English ('en') prompt of step 'rota' takes 2 SMS segments" in by_keyword
    both = {"keyword": "ROTA", "language": "en", "routes": [{"telegram": "rota"}]}
    assert len(_segment_warnings(_study(tmp_path / "both", both, long))) == 1, "a keyword way in is reached by SMS"


def test_a_flow_checked_alone_still_gets_them(tmp_path: Path) -> None:
    folder = _study(tmp_path / "alone", {"telegram": "rota"}, {"id": "rota", "type": "scale", "min": 1, "max": 5, "text": LONG})
    assert len(_segment_warnings(folder / "rota.yaml")) == 1, "without its study any channel may send it"


def test_the_built_in_welsh_unsure_option_that_makes_two_segments_is_warned_of(tmp_path: Path) -> None:
    folder = _study(tmp_path / "likert", {"keyword": "ROTA", "language": "en"}, WELSH_LIKERT)
    loaded = load_study(folder)
    started = Engine(loaded.flows["rota"].flow, loaded.study).start(NOW, language="cy")
    asked = started.messages()[-1]
    sent = gsm7_reply_words(sms_text(asked.text, asked.buttons, False, option_texts("cy")))
    assert sent.endswith("4) Ddim yn siŵr") and count_segments(sent).segments == 2
    assert count_segments(sent.replace("ŵ", "w")).segments == 1, "the flow's own words fit one"
    [warning] = [p for p in validate_paths([folder], NOW)[0] if "SMS segments" in p.message]
    assert warning.message.startswith("on SMS, the Welsh ('cy') prompt of step 'rota' takes 2 SMS segments")
    assert "ŵ in 'siŵr'" in warning.message and "override 'unsure' under 'texts:'" in warning.hint


def test_the_flows_own_welsh_letters_are_still_forgiven(tmp_path: Path) -> None:
    own = {**WELSH_LIKERT, "unsure": {"en": "Not sure", "cy": "Dim syniad"},
           "text": {"en": "How is the rota?", "cy": "Sut mae'r rota'n gweithio i chi ar hyn o bryd, a sut mae'r dŵr ar y ward hon eleni?"}}
    folder = _study(tmp_path / "own", {"keyword": "ROTA", "language": "en"}, own)
    loaded = load_study(folder)
    asked = Engine(loaded.flows["rota"].flow, loaded.study).start(NOW, language="cy").messages()[-1]
    assert count_segments(sms_text(asked.text, asked.buttons, False, option_texts("cy"))).segments == 2
    assert _segment_warnings(folder) == [], "ŵ in the flow's own 'dŵr' is right: two segments are its price"
