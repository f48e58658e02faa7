from __future__ import annotations

from typing import Literal

from flows.steps import register
from flows.steps.base import SayStep


@register
class EndStep(SayStep):
    """Say an optional last word and end the conversation."""

    type: Literal["end"] = "end"
    outcome: str = "completed"
