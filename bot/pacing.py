"""How fast the dispatcher may send: each channel's rate limits, and the pacer that keeps to them."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass


@dataclass(frozen=True)
class RateLimit:
    per_second: float
    """Across the channel (for Twilio: per sender)."""
    per_address: float | None = None
    """To one chat or number."""

    def shared_by(self, processes: int) -> RateLimit:
        """One of ``processes`` dispatchers' share: together they keep to the limit."""
        per_address = self.per_address / processes if self.per_address is not None else None
        return RateLimit(self.per_second / processes, per_address)


DEFAULT_LIMITS = {"telegram": RateLimit(30, 1), "sms": RateLimit(1), "whatsapp": RateLimit(20)}


class Pacer:
    """Spaces calls at least ``1/rate`` seconds apart (a leaky bucket with no burst)."""

    def __init__(self, rate: float) -> None:
        self.interval = 0.0
        self._next = 0.0
        self.pace(rate)

    def pace(self, rate: float) -> None:
        """From now on, at most ``rate`` calls a second (0: no limit)."""
        self.interval = 1.0 / rate if rate > 0 else 0.0

    async def wait(self) -> None:
        if not self.interval:
            return
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self.interval
        if slot > now:
            await asyncio.sleep(slot - now)


