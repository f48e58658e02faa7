"""A conversation with the flow engine alone, for tests of how replies are read: the steps
given, started at :data:`NOW`, each reply handled a number of seconds after it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from flows.engine import Engine, Sprint, TextInput
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
