"""The send-error catalogue every channel raises (after nyaruka/courier).

Each error says whether trying again later may work (``retryable``) and carries the
provider's code when there is one. The dispatcher needs nothing more to decide:
retry with backoff, wait ``retry_after`` seconds, mark the participant opted out, or
record a permanent failure.
"""

from __future__ import annotations

from channels.base import SendError


class Throttled(SendError):
    """The provider asked us to slow down (HTTP 429, Telegram RetryAfter, Twilio 20429)."""

    def __init__(self, message: str, retry_after: float | None = None, code: str | None = None) -> None:
        super().__init__(message, retryable=True, code=code)
        self.retry_after = retry_after


class ServerError(SendError):
    """The provider failed or could not be reached (5xx, timeout, connection refused)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, retryable=True, code=code)


class ContactStopped(SendError):
    """The participant unsubscribed or blocked us at the provider (Twilio 21610, Telegram 403).
    Permanent, and the participant is to be treated as opted out."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, retryable=False, code=code)


class InvalidAddress(SendError):
    """The address cannot receive messages (no such chat, not a mobile number)."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, retryable=False, code=code)


class ProviderFailed(SendError):
    """Any other permanent refusal, with the provider's error code."""

    def __init__(self, message: str, code: str | None = None) -> None:
        super().__init__(message, retryable=False, code=code)
