"""Signed, expiring links to the images the bot sends, for providers that fetch media by URL.

Twilio sends a WhatsApp image by fetching ``MediaUrl`` itself, without our credentials, so
the link carries its own proof: ``/media/{id}?exp=<unix time>&sig=<HMAC-SHA256 of id and exp>``.
Nothing personal is in it (a row id and a time); a changed id, time or signature, or a link
past its time, is refused.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from dataclasses import dataclass
from urllib.parse import urlencode

PATH = "/media"
DEFAULT_TTL = 24 * 3600
"""Twilio fetches the image within seconds of the send; a day leaves room for its retries."""


def derive_key(secret: bytes) -> bytes:
    """A key for media links only, derived from the server's secret (the address-hash key)."""
    return hmac.new(secret, b"chorus media links v1", hashlib.sha256).digest()


@dataclass(frozen=True)
class MediaLinks:
    key: bytes
    public_url: str = ""
    ttl: int = DEFAULT_TTL

    def signature(self, media_id: int, expires: int) -> str:
        return hmac.new(self.key, f"{media_id}.{expires}".encode(), hashlib.sha256).hexdigest()

    def url(self, media_id: int, now: float | None = None) -> str:
        expires = int((time.time() if now is None else now) + self.ttl)
        query = urlencode({"exp": expires, "sig": self.signature(media_id, expires)})
        return f"{self.public_url.rstrip('/')}{PATH}/{media_id}?{query}"

    def valid(self, media_id: int, expires: str | None, signature: str | None, now: float | None = None) -> bool:
        if not expires or not signature or not expires.isdigit():
            return False
        if int(expires) < (time.time() if now is None else now):
            return False
        return hmac.compare_digest(self.signature(media_id, int(expires)), signature)
