"""faster-whisper's model, encoding a short note in a window that fits it.

Whisper's encoder always reads a 30 s window: a two-second "yes please" is padded with 28 s
of silence, and the encoder (quadratic in the window) is nearly all of the cost of a short
note. CTranslate2's encoder accepts a shorter window, and the decoder attends over whatever
the encoder returns, so :class:`FittedWhisperModel` cuts the padded features to the note's
length plus at least a second of silence, rounded up to 5 s and never under 15 s: on tiny.en a
15 s window costs about a quarter of the CPU of a 30 s one, and gave the same words on
jfk.flac and the generated test notes, or better ("four hours" where 30 s hears "for
hours"); tests/test_transcribe.py asserts the WER bounds.
Shorter windows cost less still (10 s: an eighth) but lower the model's confidence in a
lone "yes" below the 0.45 at which the flow asks the participant to confirm (0.57 at 30 s,
0.51 at 15 s, 0.44 at 10 s). Notes of 25 s or more keep Whisper's full windows.

It applies only to calls made with ``fit_window=True`` (and only to decoded samples or a
file it decodes first, whose length it can see); everything else is faster-whisper's own.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Iterator
from typing import Any

import numpy as np
from faster_whisper import WhisperModel
from faster_whisper.audio import decode_audio

FRAMES_PER_SECOND = 100
FULL_FRAMES = 3000
SHORTEST_SECONDS = 15
LONGEST_FITTED_SECONDS = 25.0


def window_frames(seconds: float) -> int | None:
    """Encoder frames for a note this long, or None for Whisper's full 30 s window."""
    if seconds >= LONGEST_FITTED_SECONDS:
        return None
    fitted = max(SHORTEST_SECONDS, 5 * math.ceil((seconds + 1) / 5))
    return min(FULL_FRAMES, fitted * FRAMES_PER_SECOND)


class FittedWhisperModel(WhisperModel):
    """A ``WhisperModel`` whose ``transcribe(..., fit_window=True)`` encodes short notes in a
    window that fits them. Safe across threads: the window is kept per thread while that
    thread iterates its segments (faster-whisper encodes lazily, as they are read)."""

    _local = threading.local()

    def transcribe(self, audio: Any, *args: Any, fit_window: bool = False, **kwargs: Any) -> Any:  # type: ignore[override]
        if not fit_window:
            return super().transcribe(audio, *args, **kwargs)
        if not isinstance(audio, np.ndarray):
            audio = decode_audio(audio, sampling_rate=self.feature_extractor.sampling_rate)
        frames = window_frames(audio.size / self.feature_extractor.sampling_rate)
        segments, info = super().transcribe(audio, *args, **kwargs)
        return self._within(segments, frames), info

    def _within(self, segments: Iterable[Any], frames: int | None) -> Iterator[Any]:
        self._local.frames = frames
        try:
            yield from segments
        finally:
            self._local.frames = None

    def encode(self, features: np.ndarray) -> Any:
        frames = getattr(self._local, "frames", None)
        if frames is not None and features.shape[-1] > frames:
            features = np.ascontiguousarray(features[..., :frames])
        return super().encode(features)
