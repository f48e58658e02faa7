from __future__ import annotations

from typing import Literal

from pydantic import model_validator

from flows.model import Invalid, Text
from flows.steps import register
from flows.steps.yesno import YesNoStep

NOT_CONSENTED = ("declined", "no_consent")
"""How a conversation ends at a consent step without a YES: NO (``declined``), or no clear
answer after ``max_tries`` or by its ``timeout`` (``no_consent``). START or the join keyword
asks the consent question again."""


@register
class ConsentStep(YesNoStep):
    """Informed consent: YES goes on; NO says ``declined`` and ends the conversation.

    Nothing passes a consent step without a YES: after ``max_tries`` unclear replies, or when
    its ``timeout`` passes, the conversation ends as ``no_consent``. So ``on_max_tries`` is
    ``end`` (and may say nothing else), and ``skip`` and ``on_timeout`` are refused."""

    type: Literal["consent"] = "consent"  # type: ignore[assignment]
    declined: Text | None = None
    on_max_tries: Literal["skip", "flag", "end"] = "end"

    @model_validator(mode="after")
    def _never_passed_without_yes(self) -> ConsentStep:
        passes = "would let a participant go on past this consent step without saying YES"
        ends = "the conversation ends, recorded as no_consent"
        if self.on_max_tries != "end":
            raise Invalid(
                f"'on_max_tries: {self.on_max_tries}' {passes}",
                f"remove it: after max_tries unclear replies {ends}",
                ("on_max_tries",),
            )
        if self.skip is not False:
            raise Invalid(f"a consent step cannot be skipped: 'skip' {passes}", "remove 'skip' from this step", ("skip",))
        if self.on_timeout is not None:
            raise Invalid(
                f"'on_timeout: {self.on_timeout}' {passes}",
                f"remove it: when the timeout passes {ends}",
                ("on_timeout",),
            )
        return self

    def texts(self) -> list[tuple[str, Text]]:
        found = super().texts()
        if self.declined is not None:
            found.append(("declined", self.declined))
        return found
