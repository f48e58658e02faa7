"""CHORUS_WHISPER_LOW_CONFIDENCE decides which voice answers are read back: the confidence the
voice pipeline hands the conversation (``Transcript.weighed_confidence``) falls below the
conversation's read-back line exactly when the transcript is low-confidence, whatever the
setting. Before, the conversation kept its own fixed line (0.45), so raising the setting marked
transcripts low-confidence in the export without reading them back, and lowering it still read
back answers nobody doubted."""

from __future__ import annotations

import math
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from flows.engine import Engine, TextInput
from flows.engine_core import LOW_CONFIDENCE
from flows.events import RecordAnswer
from flows.loader import load_study
from nlp.transcribe import READ_BACK_BELOW, Transcript, WhisperSettings

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)
EXAMPLE_STUDY = Path(__file__).resolve().parents[1] / "flows" / "examples" / "ae-waiting" / "study.yaml"


@pytest.fixture(scope="module")
def understand() -> Engine:
    loaded = load_study(EXAMPLE_STUDY)
    return Engine(loaded.flows["understand"].flow, loaded.study, loaded.flows["understand"].version)


def heard(confidence: float, setting: str) -> Transcript:
    """A transcript of "The second one." heard with ``confidence``, under CHORUS_WHISPER_LOW_CONFIDENCE=``setting``."""
    threshold = WhisperSettings.from_env({"CHORUS_WHISPER_LOW_CONFIDENCE": setting}).low_confidence
    return Transcript("The second one.", "en", 2.0, math.log(confidence), 0.01, low_confidence_threshold=threshold)


def answer_to_role(engine: Engine, transcript: Transcript) -> Any:
    state = engine.handle(engine.start(NOW).state, TextInput("yes"), NOW).state  # consent given: the role question
    return engine.handle(state, TextInput(transcript.text, source="voice", confidence=transcript.weighed_confidence), NOW)


def test_the_conversation_and_the_recogniser_share_one_read_back_line() -> None:
    assert READ_BACK_BELOW == LOW_CONFIDENCE == WhisperSettings().low_confidence


@pytest.mark.parametrize(("confidence", "setting", "read_back"), [
    (0.50, "0.6", True),    # doubted under a stricter setting: read back (before: counted at once)
    (0.40, "0.3", False),   # nobody doubts it under a laxer setting: counted (before: read back)
    (0.40, "0.45", True),   # the default, unchanged
    (0.80, "0.45", False),
])
def test_the_setting_decides_what_is_read_back(understand: Engine, confidence: float, setting: str, read_back: bool) -> None:
    transcript = heard(confidence, setting)
    assert transcript.low_confidence is read_back
    sprint = answer_to_role(understand, transcript)
    answers = [event for event in sprint.events if isinstance(event, RecordAnswer)]
    if read_back:
        assert sprint.messages()[-1].text.startswith('I heard: "The second one"') and not answers
    else:
        assert [answer.value for answer in answers] == ["carer"] and sprint.state.step != "role"


def test_a_doubted_transcript_keeps_its_own_confidence_when_it_is_lower() -> None:
    assert heard(0.2, "0.6").weighed_confidence == pytest.approx(0.2)
    assert heard(0.9, "0.45").weighed_confidence == pytest.approx(0.9)
