"""A Telegram error's words are stored with the message they failed and logged: a chat id in them
(an address) is written ``[CHAT]``, and the error's meaning (permanent, retryable) is kept."""

from __future__ import annotations

from telegram.error import BadRequest, Forbidden, RetryAfter

from channels.errors import ContactStopped, InvalidAddress, ProviderFailed, Throttled
from channels.telegram import send_error


def test_a_chat_id_in_the_error_s_words_is_not_kept() -> None:
    for error, kind in ((BadRequest("Chat not found: 5555123456"), InvalidAddress),
                        (Forbidden("Forbidden: bot was blocked by the user 987654321"), ContactStopped),
                        (BadRequest("Bad Request: group chat -1001234567890 was upgraded"), ProviderFailed)):
        sent = send_error(error)
        assert isinstance(sent, kind), sent
        assert "[CHAT]" in str(sent) and not any(digits in str(sent) for digits in ("5555123456", "987654321", "1001234567890"))


def test_short_numbers_and_the_wait_are_kept() -> None:
    sent = send_error(BadRequest("Bad Request: message is too long (4097 characters, at most 4096)"))
    assert "4097" in str(sent) and "4096" in str(sent)
    throttled = send_error(RetryAfter(35))
    assert isinstance(throttled, Throttled) and "[CHAT]" not in str(throttled)
