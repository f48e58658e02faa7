"""Be a participant in the terminal: the engine in memory, no database, no network.

A voice note is an audio file (``/voice story.ogg`` in ``chorus chat``), transcribed on this
machine by the configured model (the packaged tiny.en unless ``CHORUS_WHISPER_MODEL`` says
otherwise) in the participant's language, and answered as a participant's would be: one in a
language the model cannot hear (Welsh, with tiny.en) asked to be typed instead, read back when
the model is unsure, STOP or DELETE MY DATA said aloud honoured (in any language), a question
that wants typing says so. As on the real channels, what is sent after a voice note is handled
after its transcript: here each line waits for the one before.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from channels.base import render_plain
from flows.engine import SPOKEN_COMMANDS, Engine, SessionState, Sprint, TextInput, spoken_as_typed
from flows.events import SendMessage
from flows.inputs import Keyboard
from flows.loader import LoadedFlow, LoadedStudy, LoadError, load_flow, load_study
from flows.model import Study
from flows.session_state import LIVE
from flows.words import ENGLISH_OPTIONS, OptionTexts

if TYPE_CHECKING:
    from flows.population import Population
    from nlp.transcribe import Transcriber

START_OF_TIME = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)
"""When a chat's fake clock starts, unless ``chorus chat --at`` says: a Monday, mid-morning."""
VOICE_COMMAND = "/voice"
"""``/voice FILE`` in ``chorus chat``: send that audio file as a voice note."""


@dataclass
class ChatTarget:
    study: Study | None
    flows: dict[str, LoadedFlow]
    first_flow: str


def open_target(path: str | Path, flow_id: str | None = None) -> ChatTarget:
    """A study (folder or study.yaml) or a single flow file."""
    path = Path(path)
    is_study = path.is_dir() or _looks_like_study(path)
    if is_study:
        loaded: LoadedStudy = load_study(path)
        first = flow_id or loaded.study.join.start_flow
        if first not in loaded.flows:
            raise KeyError(f"the study has no flow '{first}'; it has {', '.join(loaded.flows)}")
        return ChatTarget(loaded.study, loaded.flows, first)
    single = load_flow(path)
    within = _in_its_study(path) if flow_id is None else None
    if within is not None:
        return within
    return ChatTarget(None, {single.flow.flow: single}, single.flow.flow)


def starting_at(given: str, study: Study | None) -> datetime:
    """When a chat's clock starts, as ``chorus chat --at`` gives it in the study's time zone
    (Europe/London for a flow without a study): 'YYYY-MM-DD HH:MM', or 'HH:MM' on the fake
    clock's own day (:data:`START_OF_TIME`), so a coordinator can try the night (LATER at
    3 a.m., quiet hours). ValueError for anything else."""
    zone = ZoneInfo(study.timezone if study is not None else "Europe/London")
    given = given.strip()
    try:
        if " " in given or "T" in given:
            moment = datetime.fromisoformat(given)
            if moment.tzinfo is None:
                moment = moment.replace(tzinfo=zone)
            return moment.astimezone(UTC)
        clock = time.fromisoformat(given)
    except ValueError:
        raise ValueError(f"'{given}' is not a time: give 'YYYY-MM-DD HH:MM' or 'HH:MM'") from None
    return datetime.combine(START_OF_TIME.date(), clock, zone).astimezone(UTC)


def _in_its_study(path: Path) -> ChatTarget | None:
    """A flow file beside its study.yaml, run as a flow of that study (its title, languages,
    groups and texts); None when there is none, or it does not load or list this flow."""
    beside = path.resolve().parent
    if not any((beside / name).exists() for name in ("study.yaml", "study.yml")):
        return None
    try:
        study = load_study(beside)
    except LoadError:
        return None
    for loaded in study.flows.values():
        if Path(loaded.path).resolve() == path.resolve():
            return ChatTarget(study.study, study.flows, loaded.flow.flow)
    return None


def _looks_like_study(path: Path) -> bool:
    try:
        head = path.read_text(encoding="utf-8")[:2000]
    except OSError:
        return False
    return any(line.startswith("study:") for line in head.splitlines())


def bot_lines(messages: Iterable[SendMessage], texts: OptionTexts = ENGLISH_OPTIONS) -> list[str]:
    """The messages as SMS shows them, options in the words of ``texts`` (the participant's language)."""
    return [render_plain(m.text, m.buttons, m.multiple, texts) for m in messages]


class ChatSession:
    """One participant's conversation with a study, in memory."""

    def __init__(self, target: ChatTarget, language: str | None = None, group: str | None = None,
                 clock: Callable[[], datetime] | None = None, transcriber: Transcriber | None = None,
                 start: datetime | None = None, keyboards: tuple[Keyboard, ...] = (), voice_notes: bool = False,
                 population: Population | None = None, channel: str | None = None) -> None:
        """``clock`` gives the time of each turn; without one a fake clock does, from ``start``
        (:data:`START_OF_TIME` unless given), a minute on for each turn. ``keyboards`` and
        ``voice_notes``: the participant's channel, as the service tells the engine
        (:attr:`TextInput.keyboards`; none, as on SMS, unless given). ``population``: what the
        group said, for a later Delphi round's feedback (none unless given: bot/chat_population.py).
        ``channel`` ('sms', 'whatsapp', 'telegram'): ``participant.channel``, as the service sets
        it, so texts worded per channel read as that channel's participants get them. A study's
        start flow without ``language`` opens as joining by a keyword that names none does:
        offering each other language in that language ("Am Gymraeg, atebwch CYMRAEG.")."""
        self.population = population
        self.target = target
        self.keyboards, self.voice_notes = keyboards, voice_notes
        self._start = start or START_OF_TIME
        self._transcriber = transcriber
        loaded = target.flows[target.first_flow]
        self.engine = Engine(loaded.flow, target.study, loaded.version)
        self._tick = 0
        self._clock = clock or self._fake_clock
        fields = {"group": group} if group else {}
        if channel:
            fields["channel"] = channel
        joining = target.study is not None and target.first_flow == target.study.join.start_flow
        first: Sprint = self.engine.start(self._clock(), language=language, fields=fields, population=population,
                                          offer_languages=joining and language is None)  # as a join keyword naming none
        self.state: SessionState = first.state
        self.opening = first.messages()

    def _fake_clock(self) -> datetime:
        self._tick += 1
        return self._start + timedelta(minutes=self._tick)

    def send(self, text: str, button: str | None = None) -> list[SendMessage]:
        return self._handle(TextInput(text, button=button))

    def give(self, given: TextInput) -> list[SendMessage]:
        """Any input as a channel hands it on (a tap: :meth:`TextInput.received`)."""
        return self._handle(given)

    def hear(self, audio: Path) -> tuple[str | None, list[SendMessage]]:
        """A voice note: what the model heard in the audio file (None when it gave no words) and
        the replies. It is transcribed before this returns, so nothing sent after it can go first."""
        from nlp.audio import TranscriptionError

        if not self._takes_voice():
            return None, [self._info("voice.not_accepted")]
        try:
            heard = self.transcriber.transcribe(str(audio), language=self.language)
        except TranscriptionError as error:  # too long, silent, no words...: said kindly, as to a participant
            return None, [self._info(error.message_key)]
        command = self.engine.words.command(heard.text)
        if heard.unheard_language and command not in SPOKEN_COMMANDS:  # as bot/voice.py: asked to type instead
            return heard.text, [self._info("voice.language_unsupported")]
        others = self._unheard_languages(heard.multilingual) if heard.sounds_foreign and command not in SPOKEN_COMMANDS else ()
        if others:  # as bot/voice.py: perhaps in a language the model cannot hear; asked to type, and offered it
            from bot.voice_replies import offered_languages

            words = self.engine.words
            text = offered_languages(words, words.text("voice.not_understood", self.language), self.language, others)
            return heard.text, [SendMessage(text, self.state.step, kind="info")]
        given = TextInput(heard.text, source="voice", confidence=heard.weighed_confidence)  # read back as bot/voice.py does
        return heard.text, self._handle(spoken_as_typed(given, command))

    def _unheard_languages(self, multilingual: bool | None) -> tuple[str, ...]:
        """The study's languages the model cannot transcribe (bot/voice.py ``_unheard_languages``)."""
        from nlp.transcribe import model_hears

        languages = self.target.study.languages if self.target.study is not None else []
        return tuple(code for code in languages if not model_hears(code, multilingual))

    @property
    def language(self) -> str:
        """The language the participant is spoken to in, as the transcriber is told it (bot/voice.py)."""
        return self.state.language or self.engine.words.default_language

    @property
    def transcriber(self) -> Transcriber:
        """The process's transcriber for ``CHORUS_WHISPER_*`` (loaded on the first voice note)."""
        if self._transcriber is None:
            from nlp.transcribe import shared_transcriber

            self._transcriber = shared_transcriber()
        return self._transcriber

    def _handle(self, given: TextInput) -> list[SendMessage]:
        given = replace(given, keyboards=self.keyboards, voice_notes=self.voice_notes)
        sprint = self.engine.handle(self.state, given, self._clock(), population=self.population)
        self.state = sprint.state
        return sprint.messages()

    def _takes_voice(self) -> bool:
        """Whether the question being asked takes a voice note (``accept`` lists voice, or is unset)."""
        if self.state.status not in LIVE or not self.state.step:
            return True
        accept = getattr(self.engine.flow.step(self.state.step), "accept", None)
        return accept is None or "voice" in accept

    def _info(self, key: str) -> SendMessage:
        return SendMessage(self.engine.words.text(key, self.language), self.state.step, kind="info")

    @property
    def option_texts(self) -> OptionTexts:
        """How options read in the participant's language now."""
        return self.engine.words.option_texts(self.state.language)

    @property
    def finished(self) -> bool:
        return self.state.status == "ended"


def replay(target: ChatTarget, inputs: Iterable[str], language: str | None = None,
           group: str | None = None) -> Iterator[tuple[str, str]]:
    """Yield ('bot', text) and ('you', text) pairs for a scripted conversation."""
    session = ChatSession(target, language, group)
    for line in bot_lines(session.opening, session.option_texts):
        yield "bot", line
    for text in inputs:
        yield "you", text
        for line in bot_lines(session.send(text), session.option_texts):
            yield "bot", line
