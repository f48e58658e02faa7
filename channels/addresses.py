"""An address as a person writes it down, in the form its channel stores it.

Participants are found by a keyed hash of the exact address the provider sends (bot/service.py,
``participant_for``): Twilio's E.164 ``+447700900123`` (``whatsapp:`` taken off), Telegram's
numeric chat id. An erasure request by letter or e-mail gives the number as people write it
(``07700 900123``, ``+44 (0)7700 900123``, ``0044 7700 900123``, ``whatsapp:+44...``); looked up
as typed, it would find nobody, and ``chorus erase`` would answer "no participant" for someone
whose data is there. :func:`stored_address` writes it as the channel does, or says why it cannot.
"""

from __future__ import annotations

import re

PHONE_CHANNELS = ("sms", "whatsapp")
_PREFIXES = ("whatsapp:", "sms:", "tel:")
_SEPARATORS = re.compile(r"[\s\-./()\u00a0]")
_TRUNK_ZERO = re.compile(r"^\+(\d{1,3})\(0\)")  # +44 (0)7700 900123: the (0) is dialled only at home
E164 = re.compile(r"\+[1-9][0-9]{6,14}")


class AddressError(ValueError):
    """A typed address that cannot be the channel's form of one (the message never repeats it)."""


def stored_address(channel: str, typed: str) -> str:
    """``typed`` as ``channel`` stores addresses; AddressError when it cannot be one (a phone
    number without its country code is refused, not guessed: the country is not known here)."""
    text = typed.strip()
    if channel in PHONE_CHANNELS:
        return _phone(text)
    if channel == "telegram":
        compact = re.sub(r"\s+", "", text)
        if not re.fullmatch(r"-?[0-9]+", compact):
            raise AddressError("a Telegram address is the chat's number (digits only)")
        return compact
    return text


def _phone(text: str) -> str:
    lowered = text.lower()
    for prefix in _PREFIXES:
        if lowered.startswith(prefix):
            text = text[len(prefix):]
            break
    compact = _TRUNK_ZERO.sub(r"+\1", re.sub(r"\s+", "", text))
    compact = _SEPARATORS.sub("", compact)
    if compact.startswith("00"):
        compact = "+" + compact[2:]
    elif re.fullmatch(r"[1-9][0-9]{6,14}", compact):
        compact = "+" + compact
    if E164.fullmatch(compact):
        return compact
    if re.fullmatch(r"0[0-9]{6,14}", compact):
        raise AddressError("that number has no country code: write it in international form, as the "
                           "channel gives it (a UK 07... number as +44 and the number without its 0)")
    raise AddressError("that is not a phone number in international form (+ and the country code)")
