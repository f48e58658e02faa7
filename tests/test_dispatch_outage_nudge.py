"""After a database outage, a nudge (serve's ``outbox.send`` through the broker, the inbox
worker's after a message) ends the dispatcher's back-off: it tries at once rather than at the
end of a wait that had grown to 16-30 s. Nudges while the database is still down cost about
one try a second, not one each. On a real PostgreSQL database made unreachable."""

from __future__ import annotations

import asyncio
import logging
import time

from bot.dispatcher import Dispatcher
from bot.outage import Outage
from bot.service import ConversationService
from channels.base import InboundMessage
from tests.test_dispatcher import Recorder, dispatcher
from tests.test_outage_database import Switchable, eventually, outage_service, switchable

__all__ = ["outage_service", "switchable"]  # (fixtures)


def test_a_nudge_ends_the_back_off_once_the_database_is_back(switchable: Switchable, outage_service: ConversationService) -> None:
    service, sms = outage_service, Recorder("sms")
    service.receive(InboundMessage("sms", "+447700900001", "SM1", "WAIT"))

    async def scenario() -> tuple[int, float]:
        sender: Dispatcher = dispatcher(service, service.clock, sms, poll_interval=0.05, heartbeat_every=0.2)
        sender._outage = Outage(logging.getLogger("chorus.dispatcher"), "dispatch", first_delay=30.0, max_delay=30.0)
        running = asyncio.create_task(sender.run())
        await eventually(lambda: sender.stats.sent == 1)  # sent and recorded
        switchable.go_away()
        await eventually(lambda: sender._outage.failures >= 1)  # backing off for 30 s, as after a long outage
        for _ in range(100):  # 2 s of nudges while the database is still away
            sender.nudge()
            await asyncio.sleep(0.02)
        tries_while_down = sender._outage.failures
        switchable.come_back()
        await asyncio.to_thread(service.receive, InboundMessage("sms", "+447700900001", "SM2", "YES"))
        started = time.monotonic()
        sender.nudge()
        await eventually(lambda: len(sms.sent) == 2, timeout=10)
        took = time.monotonic() - started
        await sender.stop()
        await asyncio.wait_for(running, 5)
        return tries_while_down, took

    tries_while_down, took = asyncio.run(scenario())
    assert tries_while_down <= 4, f"{tries_while_down} tries in 2 s of nudges: about one a second, not one per nudge"
    assert took < 2.0, f"sent {took:.1f}s after the nudge (the back-off had 30 s to go)"
