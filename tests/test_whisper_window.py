"""Short notes are encoded in a window that fits them (nlp/whisper_window.py), no less accurately."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import numpy as np
import pytest

from nlp.transcribe import WhisperSettings, WhisperTranscriber
from nlp.whisper_window import FittedWhisperModel, window_frames
from tests import voice_helpers
from tests.test_transcribe import wer


@pytest.mark.parametrize(("seconds", "frames"), [(0.5, 1500), (11.0, 1500), (13.9, 1500), (14.2, 2000), (19.5, 2500), (24.9, 3000)])
def test_the_window_covers_the_note_and_a_second_of_silence(seconds: float, frames: int) -> None:
    assert window_frames(seconds) == frames


def test_long_notes_keep_whispers_full_windows() -> None:
    assert window_frames(25.0) is None and window_frames(290.0) is None


def test_a_fitted_window_gives_the_words_of_the_full_window_with_a_shorter_encoder_input(
    tmp_path: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    fitted = WhisperTranscriber(WhisperSettings())
    full = WhisperTranscriber(replace(fitted.settings, fit_window=False))
    assert isinstance(fitted.model, FittedWhisperModel)
    full._model = fitted.model
    widths: list[int] = []
    encode = FittedWhisperModel.encode

    def spy(self: FittedWhisperModel, features: np.ndarray) -> Any:
        result = encode(self, features)
        widths.append(int(result.shape[1]))  # encoder frames: half the feature frames
        return result

    monkeypatch.setattr(FittedWhisperModel, "encode", spy)
    note = voice_helpers.speak(voice_helpers.PHRASES["nurse"], tmp_path / "nurse").read_bytes()
    short = fitted.transcribe(note)
    assert widths == [750]
    whole = full.transcribe(note)
    assert widths == [750, 1500]
    said = voice_helpers.PHRASES["nurse"]
    assert wer([said], [short.text]) <= wer([said], [whole.text]), (short.text, whole.text)
