"""Fetching a participant's media with a ceiling: a voice note larger than the limit is
refused from its declared length, or as soon as the bytes streamed in pass the limit, so
the download never completes and the whole file is never held in memory."""

from __future__ import annotations

import httpx


class MediaTooLarge(Exception):
    def __init__(self, limit: int, declared: int | None = None) -> None:
        said = f"{declared} bytes declared" if declared is not None else "more bytes than that arrived"
        super().__init__(f"the media is larger than the limit of {limit} bytes ({said})")
        self.limit = limit
        self.declared = declared


class MediaUnavailable(Exception):
    """The download failed; the message names no URL (a Telegram file URL holds the bot's token)."""


async def fetch_limited(http: httpx.AsyncClient, url: str, limit: int | None) -> bytes:
    try:
        async with http.stream("GET", url) as response:
            if response.status_code >= 400:
                raise MediaUnavailable(f"HTTP {response.status_code}")
            declared = response.headers.get("content-length", "")
            if limit is not None and declared.isdigit() and int(declared) > limit:
                raise MediaTooLarge(limit, int(declared))
            chunks: list[bytes] = []
            seen = 0
            async for chunk in response.aiter_bytes():
                seen += len(chunk)
                if limit is not None and seen > limit:
                    raise MediaTooLarge(limit)
                chunks.append(chunk)
            return b"".join(chunks)
    except httpx.HTTPError as error:
        raise MediaUnavailable(type(error).__name__) from None
