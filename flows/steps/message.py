from __future__ import annotations

from typing import Literal

from flows.steps import register
from flows.steps.base import SayStep


@register
class MessageStep(SayStep):
    """Say something, then go on to the next step."""

    type: Literal["message"] = "message"
