from __future__ import annotations

from typing import Literal

from flows.model import Text
from flows.steps import register
from flows.steps.yesno import YesNoStep


@register
class ConsentStep(YesNoStep):
    """Informed consent: YES goes on; NO says ``declined`` and ends the conversation."""

    type: Literal["consent"] = "consent"  # type: ignore[assignment]
    declined: Text | None = None

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        if self.declined is not None:
            found.append(("declined", self.declined))
        return found
