"""Be a participant in the terminal: the engine in memory, no database, no network."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from channels.base import render_plain
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import SendMessage
from flows.loader import LoadedFlow, LoadedStudy, LoadError, load_flow, load_study
from flows.model import Study

START_OF_TIME = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


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


def bot_lines(messages: Iterable[SendMessage]) -> list[str]:
    return [render_plain(m.text, m.buttons, m.multiple) for m in messages]


class ChatSession:
    """One participant's conversation with a study, in memory."""

    def __init__(self, target: ChatTarget, language: str | None = None, group: str | None = None,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.target = target
        loaded = target.flows[target.first_flow]
        self.engine = Engine(loaded.flow, target.study, loaded.version)
        self._tick = 0
        self._clock = clock or self._fake_clock
        fields = {"group": group} if group else {}
        first: Sprint = self.engine.start(self._clock(), language=language, fields=fields)
        self.state: SessionState = first.state
        self.opening = first.messages()

    def _fake_clock(self) -> datetime:
        self._tick += 1
        return START_OF_TIME + timedelta(minutes=self._tick)

    def send(self, text: str, button: str | None = None) -> list[SendMessage]:
        sprint = self.engine.handle(self.state, TextInput(text, button=button), self._clock())
        self.state = sprint.state
        return sprint.messages()

    @property
    def finished(self) -> bool:
        return self.state.status == "ended"


def replay(target: ChatTarget, inputs: Iterable[str], language: str | None = None,
           group: str | None = None) -> Iterator[tuple[str, str]]:
    """Yield ('bot', text) and ('you', text) pairs for a scripted conversation."""
    session = ChatSession(target, language, group)
    for line in bot_lines(session.opening):
        yield "bot", line
    for text in inputs:
        yield "you", text
        for line in bot_lines(session.send(text)):
            yield "bot", line
