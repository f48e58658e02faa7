"""A district nurse between visits (tests/data/hospice, on Telegram): a short reason and then a
request naming a time ("between patients, ask me after 6") puts the question off until then, as
the same request alone, or a reason with a request naming no time, already did."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.chat import ChatSession, open_target
from flows.snooze import parse_snooze

HOSPICE = Path(__file__).parent / "data" / "hospice"
LONDON = ZoneInfo("Europe/London")
NOON = datetime(2026, 11, 30, 12, 0, tzinfo=UTC)  # a Monday, GMT


@pytest.mark.parametrize(("reply", "hour"), [
    ("between patients, ask me after 6", 18),
    ("with a family, remind me at 7pm", 19),
    ("on a home visit. text me at 5", 17),
])
def test_a_reason_then_a_time_to_ask_again(reply: str, hour: int) -> None:
    snooze = parse_snooze(reply, NOON, LONDON)
    assert snooze is not None
    assert snooze.until.astimezone(LONDON).hour == hour


@pytest.mark.parametrize("reply", ["the nurse said ask me after 6 and never came back to us", "between patients"])
def test_a_story_or_a_reason_alone_is_no_time(reply: str) -> None:
    snooze = parse_snooze(reply, NOON, LONDON)
    assert snooze is None or snooze.until.astimezone(LONDON).hour != 18


def test_the_nurse_is_asked_again_at_six() -> None:
    chat = ChatSession(open_target(HOSPICE), language="en", group="nurse", channel="telegram",
                       start=datetime(2026, 11, 30, 12, 0, tzinfo=UTC))
    for reply in ("yes", "2", "25"):
        chat.send(reply)
    assert chat.state.step == "worry"
    said = " ".join(m.text for m in chat.send("between patients, ask me after 6"))
    assert "18:00" in said
    assert "worry" not in chat.state.values
