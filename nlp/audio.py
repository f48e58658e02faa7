"""Decode voice notes into 16 kHz mono float32 samples, and the ways that can fail.

Channels send OGG/Opus (Telegram, WhatsApp), MP3, M4A/AAC, WAV, FLAC and AMR. PyAV
(which bundles FFmpeg) decodes all of them from memory, so a voice note never has to
touch the disk. Limits are checked as early as possible: the size before anything is
decoded, the duration from the container's metadata when it has one, and otherwise
while decoding (decoding stops as soon as the limit is passed).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

if TYPE_CHECKING:  # PyAV and numpy load with the first voice note, not with the server
    import av
    import numpy as np

SAMPLE_RATE = 16_000
AudioInput = bytes | bytearray | memoryview | str | os.PathLike[str]
# Containers round their declared duration; a note just over the limit is let through.
_DURATION_TOLERANCE_SECONDS = 0.5


class FailureKind(StrEnum):
    """Why a voice note gave no transcript. Stable strings: flows and logs use them."""

    TOO_LARGE = "too_large"
    TOO_LONG = "too_long"
    CORRUPT = "corrupt"
    EMPTY = "empty"
    SILENCE = "silence"
    NO_SPEECH = "no_speech"
    DOWNLOAD_FAILED = "download_failed"

    @property
    def message_key(self) -> str:
        """Key of the participant-facing message, e.g. ``voice.too_long``."""
        return f"voice.{self.value}"


# English defaults for the participant-facing messages; studies may override them by key.
DEFAULT_MESSAGES: dict[str, str] = {
    "voice.too_large": "Sorry, that voice note is too big for us. Could you send a shorter one, or type your answer?",
    "voice.too_long": "Sorry, that voice note is too long for us. Could you send a shorter one, or type your answer?",
    "voice.corrupt": "Sorry, we couldn't play that voice note. Could you send it again, or type your answer?",
    "voice.empty": "That voice note seems to be empty. Could you record it again, or type your answer?",
    "voice.silence": "We couldn't hear anything in that voice note. Could you record it again, or type your answer?",
    "voice.no_speech": "We couldn't make out any words in that voice note. Could you record it again, or type your answer?",
    "voice.download_failed": "Sorry, we couldn't fetch that voice note. Could you send it again, or type your answer?",
}


class TranscriptionError(Exception):
    """A voice note that gave no transcript.

    ``kind`` says why (see :class:`FailureKind`), ``message_key`` names the message to
    send the participant, and ``detail`` is for the coordinator and the logs.
    """

    def __init__(self, kind: FailureKind, detail: str) -> None:
        super().__init__(f"{kind.value}: {detail}")
        self.kind = kind
        self.detail = detail

    @property
    def message_key(self) -> str:
        return self.kind.message_key

    @property
    def participant_message(self) -> str:
        return DEFAULT_MESSAGES[self.message_key]


def input_size(audio: AudioInput) -> int:
    """Size in bytes of in-memory audio or of a file, without reading the file."""
    if isinstance(audio, bytes | bytearray | memoryview):
        return len(audio)
    try:
        return Path(audio).stat().st_size
    except OSError as exc:
        raise TranscriptionError(FailureKind.CORRUPT, f"cannot read {audio}: {exc}") from exc


def check_size(audio: AudioInput, max_bytes: int) -> int:
    """Reject a note that is empty or larger than ``max_bytes``; return its size."""
    size = input_size(audio)
    if size == 0:
        raise TranscriptionError(FailureKind.EMPTY, "the voice note has zero bytes")
    if size > max_bytes:
        raise TranscriptionError(
            FailureKind.TOO_LARGE, f"the voice note is {size} bytes; the limit is {max_bytes}"
        )
    return size


def decode_audio(audio: AudioInput, *, max_seconds: float) -> np.ndarray:
    """Decode to 16 kHz mono float32 in [-1, 1], raising :class:`TranscriptionError`."""
    import av

    try:
        container = av.open(_as_source(audio), mode="r", metadata_errors="ignore")
    except (av.FFmpegError, OSError, ValueError) as exc:
        raise TranscriptionError(FailureKind.CORRUPT, f"not a readable audio file: {exc}") from exc
    with container:
        if not container.streams.audio:
            raise TranscriptionError(FailureKind.EMPTY, "the file holds no audio stream")
        declared = declared_duration(container)
        if declared is not None and declared > max_seconds + _DURATION_TOLERANCE_SECONDS:
            raise _too_long(declared, max_seconds)
        samples = _decode_stream(container, max_seconds)
    if samples.size == 0:
        raise TranscriptionError(FailureKind.EMPTY, "the voice note holds no sound")
    return samples


def declared_duration(container: av.container.InputContainer) -> float | None:
    """Duration in seconds from the container's metadata, if it states one."""
    import av

    stream = container.streams.audio[0]
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def loudness_dbfs(samples: np.ndarray) -> float:
    """Root-mean-square level in dB relative to full scale (-inf for digital silence)."""
    import numpy as np

    rms = float(np.sqrt(np.mean(np.square(samples, dtype=np.float64))))
    return 20.0 * np.log10(rms) if rms > 0 else float("-inf")


def _decode_stream(container: av.container.InputContainer, max_seconds: float) -> np.ndarray:
    import av
    import numpy as np

    max_samples = int((max_seconds + _DURATION_TOLERANCE_SECONDS) * SAMPLE_RATE)
    # 16-bit like faster-whisper's own decoder, so both give the model identical samples.
    resampler = av.AudioResampler(format="s16", layout="mono", rate=SAMPLE_RATE)
    chunks: list[np.ndarray] = []
    total = 0
    try:
        for frame in _frames(container):
            for out in resampler.resample(frame):
                chunk = out.to_ndarray().reshape(-1)
                chunks.append(chunk)
                total += chunk.size
            if total > max_samples:
                raise _too_long(total / SAMPLE_RATE, max_seconds, measured=True)
        for out in resampler.resample(None):
            chunks.append(out.to_ndarray().reshape(-1))
    except av.FFmpegError as exc:
        if total == 0:
            raise TranscriptionError(FailureKind.CORRUPT, f"undecodable audio: {exc}") from exc
    if not chunks:
        return np.zeros(0, dtype=np.float32)
    return np.concatenate(chunks).astype(np.float32) / 32768.0


def _frames(container: av.container.InputContainer) -> Iterator[av.AudioFrame]:
    """Audio frames, skipping single damaged packets as phones' recorders sometimes leave."""
    import av

    frames = container.decode(audio=0)
    while True:
        try:
            frame = next(frames)
        except StopIteration:
            return
        except av.InvalidDataError:
            continue
        frame.pts = None  # the resampler needs no timestamps, and some notes have bad ones
        yield frame


def _as_source(audio: AudioInput) -> str | BinaryIO:
    if isinstance(audio, bytes | bytearray | memoryview):
        return io.BytesIO(bytes(audio))
    return os.fspath(audio)


def _too_long(seconds: float, max_seconds: float, *, measured: bool = False) -> TranscriptionError:
    how = "at least" if measured else "declared as"
    return TranscriptionError(
        FailureKind.TOO_LONG,
        f"the voice note is {how} {seconds:.1f} s long; the limit is {max_seconds:g} s",
    )
