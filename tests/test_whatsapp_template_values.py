"""An approved WhatsApp template's variables are sent on one line: Meta refuses a variable with a
line break, a tab or more than four spaces in a row (Twilio error 63013, a failure for good), and
a question's text has its numbered options on lines of their own. Before, a follow-up after 24
hours of silence carried them as they were and could never be delivered."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from bot.dispatch_rules import (
    Candidate,
    StudyRules,
    WhatsAppConfig,
    decide,
    template_value,
)
from channels.base import Button

NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


def test_a_value_loses_its_line_breaks_tabs_and_long_runs_of_spaces() -> None:
    assert template_value("How was it?\n\n1. Good\n2. Bad") == "How was it? 1. Good 2. Bad"
    assert template_value("a\tb      c\r\nd") == "a b c d"
    assert template_value("Already one line.") == "Already one line."


def test_a_follow_up_after_24_hours_goes_as_the_template_with_its_question_on_one_line() -> None:
    config = WhatsAppConfig.from_dict({"templates": {"default": {"content_sid": "HX" + "a" * 32,
                                                                 "variables": {"1": "{study}", "2": "{text}"}}}})
    rules = StudyRules(None, "Europe/London", "Hip\nclinic", config)
    row = Candidate(1, "p-1", "whatsapp", "+447700900123", "How are you walking now?\n\nReply with a number.",
                    (Button("Better", "better"), Button("Worse", "worse")), False, "question", "walking", "hips",
                    NOW, False, NOW - timedelta(days=30), NOW - timedelta(days=30))
    decision = decide(row, rules, NOW, timedelta(minutes=5))
    assert decision.hold is None and decision.content is not None
    values = decision.content.variables
    assert values["1"] == "Hip clinic"
    assert "\n" not in values["2"] and "  " not in values["2"]
    assert values["2"].startswith("How are you walking now? ") and "Better" in values["2"] and "Worse" in values["2"]
