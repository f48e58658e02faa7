"""``chorus chat --at`` starts the chat's fake clock when the coordinator says, in the study's
time zone, so night-time behaviour can be tried before launch: LATER at 3 a.m. is asked again
after the study's quiet hours, not two hours later in the night."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.chat import START_OF_TIME, ChatSession, open_target, starting_at
from bot.cli import cli

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"


def _transcript(script: str, *options: str) -> list[str]:
    outcome = CliRunner().invoke(cli, ["chat", str(EXAMPLE), *options], input=script)
    assert outcome.exit_code == 0, outcome.output
    return [line for line in outcome.stdout.splitlines() if line]


def test_later_mid_morning_is_asked_again_the_same_day() -> None:
    assert _transcript("yes\nlater\n")[-1] == "No problem. We'll ask again at 12:03. Reply any time to carry on."


@pytest.mark.parametrize("at", ["03:00", "2026-01-05 03:00"])
def test_later_at_3_am_is_asked_again_after_the_quiet_hours(at: str) -> None:
    assert _transcript("yes\nlater\n", "--at", at)[-1] == "No problem. We'll ask again at 08:00. Reply any time to carry on."


def test_a_time_is_read_in_the_study_s_zone_summer_time_included() -> None:
    study = open_target(EXAMPLE).study
    assert starting_at("03:00", study) == datetime(2026, 1, 5, 3, 0, tzinfo=UTC)
    assert starting_at("2026-07-01 03:00", study) == datetime(2026, 7, 1, 2, 0, tzinfo=UTC), "British Summer Time"
    assert starting_at("2026-07-01T03:00+00:00", None) == datetime(2026, 7, 1, 3, 0, tzinfo=UTC)


def test_the_session_s_clock_starts_there() -> None:
    session = ChatSession(open_target(EXAMPLE), start=datetime(2026, 1, 5, 23, 30, tzinfo=UTC))
    session.send("yes")
    assert "We'll ask again tomorrow at 08:00." in session.send("later")[-1].text
    assert START_OF_TIME.hour == 10, "mid-morning without --at"


def test_a_time_that_is_not_one_is_refused_plainly() -> None:
    outcome = CliRunner().invoke(cli, ["chat", str(EXAMPLE), "--at", "3am"], input="yes\n")
    assert outcome.exit_code == 2
    assert "--at: '3am' is not a time" in outcome.stderr
    with pytest.raises(ValueError):
        starting_at("25:00", None)
