"""A conversation with the flow engine alone, for tests of how replies are read: the steps
given, started at :data:`NOW`, each reply handled a number of seconds after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow

NOW = datetime(2030, 3, 4, 10, 0, tzinfo=UTC)


class Chat:
    def __init__(self, *steps: dict[str, Any]) -> None:
        self.engine = Engine(Flow.model_validate({"flow": "f", "steps": list(steps)}))
        first = self.engine.start(NOW)
        self.state, self.last = first.state, first

    def send(self, text: str, after: float = 0) -> Sprint:
        sprint = self.engine.handle(self.state, TextInput(text), NOW + timedelta(seconds=after))
        self.state, self.last = sprint.state, sprint
        return sprint


BYE = {"id": "bye", "type": "end", "text": {"en": "Bye.", "cy": "Hwyl."}}


class RecordingChat:
    """One participant's conversation, in ``language``, with a flow in English and Welsh of the
    steps given and a goodbye: each reply's texts back, each answer recorded kept."""

    def __init__(self, *steps: dict[str, Any], language: str = "en", seed: int = 7, now: datetime = NOW,
                 bye: dict[str, Any] = BYE) -> None:
        flow = Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [*steps, bye]})
        self.engine = Engine(flow)
        self.now = now
        self.state: SessionState = self.engine.start(now, language=language, seed=seed).state
        self.recorded: list[RecordAnswer] = []

    def send(self, text: str) -> list[str]:
        sprint = self.engine.handle(self.state, TextInput(text), self.now)
        self.state = sprint.state
        self.recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
        return [m.text for m in sprint.messages()]


def delphi_replies(replies: list[str], language: str = "en", scale: dict[str, object] | None = None) -> tuple[list[str], list[object]]:
    """What a two-item Delphi step ("Early therapy", "Key worker") says to ``replies`` and the
    scores it records, in ``language`` and on ``scale`` (GRADE 1-9 unless given)."""
    step: dict[str, object] = {"id": "rate", "type": "delphi", "items": ["Early therapy", "Key worker"]}
    if scale is not None:
        step["scale"] = scale
    engine = Engine(Flow.model_validate({"flow": "r1", "steps": [step, {"id": "bye", "type": "end", "text": "Thanks."}]}))
    sprint = engine.start(NOW, language=language)
    said: list[str] = []
    scores: list[object] = []
    for reply in replies:
        sprint = engine.handle(sprint.state, TextInput(reply), NOW)
        said += [e.text for e in sprint.events if isinstance(e, SendMessage)]
        scores += [e.value["score"] for e in sprint.events if isinstance(e, RecordAnswer) and e.item]
    return said, scores
