"""Make voice notes for tests and benchmarks: espeak-ng speaks, ffmpeg encodes.

The notes are encoded as phones send them: OGG/Opus at 48 kHz mono (Telegram,
WhatsApp), plus MP3, M4A/AAC, WAV, FLAC and AMR-NB (old MMS phones; written with
PyAV, whose bundled FFmpeg has the AMR encoder that Debian's ffmpeg lacks).
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import av

from nlp.audio import AudioInput
from nlp.transcribe import Transcript, WhisperTranscriber

ESPEAK = "/usr/bin/espeak-ng"
FFMPEG = "ffmpeg"

# What each format's encoder is given; every voice note is mono.
FORMATS: dict[str, list[str]] = {
    "ogg": ["-c:a", "libopus", "-ar", "48000", "-ac", "1", "-b:a", "24k"],
    "mp3": ["-c:a", "libmp3lame", "-ar", "44100", "-ac", "1", "-b:a", "64k"],
    "m4a": ["-c:a", "aac", "-ar", "44100", "-ac", "1", "-b:a", "64k"],
    "wav": ["-c:a", "pcm_s16le", "-ar", "16000", "-ac", "1"],
    "flac": ["-c:a", "flac", "-ar", "16000", "-ac", "1"],
}

PHRASES: dict[str, str] = {
    "waiting": "The waiting room was cold and nobody told us anything",
    "seven": "seven",
    "second": "the second one",
    "yes": "yes please",
    "nurse": "The nurse was kind but we waited four hours to see a doctor",
    "parking": "Parking at the hospital is far too expensive for families",
}


def speak(text: str, dest: Path, fmt: str = "ogg", *, speed: int = 150) -> Path:
    """Speak ``text`` into ``dest`` (its suffix is replaced by ``fmt``)."""
    wav = dest.with_name(dest.stem + ".espeak.wav")
    subprocess.run([ESPEAK, "-s", str(speed), "-w", str(wav), text], check=True)
    try:
        return encode(wav, dest.with_suffix(f".{fmt}"), fmt)
    finally:
        wav.unlink(missing_ok=True)


def encode(source: Path, dest: Path, fmt: str) -> Path:
    if fmt == "amr":
        return _encode_amr(source, dest)
    _ffmpeg(["-i", str(source), *FORMATS[fmt], str(dest)])
    return dest


def lavfi(source: str, seconds: float, dest: Path) -> Path:
    """An OGG/Opus note from an ffmpeg test source, e.g. ``anullsrc``, ``sine=frequency=440``."""
    _ffmpeg(["-f", "lavfi", "-i", source, "-t", str(seconds), *FORMATS["ogg"], str(dest)])
    return dest


def silence(dest: Path, seconds: float = 3.0) -> Path:
    return lavfi("anullsrc=r=48000:cl=mono", seconds, dest)


def tone(dest: Path, seconds: float = 3.0, frequency: int = 440) -> Path:
    return lavfi(f"sine=frequency={frequency}:sample_rate=48000", seconds, dest)


def hiss(dest: Path, seconds: float = 3.0) -> Path:
    """Faint noise (about -63 dBFS), like a phone recording a quiet room."""
    return lavfi("anoisesrc=c=pink:a=0.005:r=48000", seconds, dest)


def noise(dest: Path, seconds: float = 3.0) -> Path:
    return lavfi("anoisesrc=c=pink:a=0.3:r=48000", seconds, dest)


def _ffmpeg(args: list[str]) -> None:
    subprocess.run([FFMPEG, "-nostdin", "-loglevel", "error", "-y", *args], check=True)


def _encode_amr(source: Path, dest: Path) -> Path:
    """AMR-NB, 8 kHz mono, 12.2 kbit/s: the quality of an MMS voice message."""
    with av.open(str(source)) as inp, av.open(str(dest), "w", format="amr") as out:
        stream = out.add_stream("libopencore_amrnb", rate=8000, layout="mono")
        stream.bit_rate = 12200
        resampler = av.AudioResampler(format="s16", layout="mono", rate=8000)
        for frame in inp.decode(audio=0):
            for converted in resampler.resample(frame):
                out.mux(stream.encode(converted))
        for converted in resampler.resample(None):
            out.mux(stream.encode(converted))
        out.mux(stream.encode(None))
    return dest


class Listening:
    """The real transcriber, noting the language each note was handed over in."""

    def __init__(self, inner: WhisperTranscriber) -> None:
        self.inner = inner
        self.languages: list[str | None] = []

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        self.languages.append(language)
        return self.inner.transcribe(audio, language=language)
