"""The logs' phone-number safety net (bot/log_safety.py) masks phone numbers however they are
written and wherever they sit in a line, and leaves alone what only looks like one: UUIDs
(dramatiq's message ids), hex ids, and decimals (``deadline=1962.0712345678``), so ids can be
searched for across logs. And ``CHORUS_LOG_LEVEL=DEBUG`` does not let the broker's clients
(pika, dramatiq) chatter, unless ``CHORUS_LOG_LIBRARIES=debug``."""

from __future__ import annotations

import io
import logging
import re
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.log_safety import scrub
from bot.logging_setup import QUIET, configure
from tests.deployment import AMQP_URL, delete_queues

# ----------------------------------------------------------------------------- what is not a phone number

hex_ids = st.text(alphabet="0123456789abcdef", min_size=1, max_size=40).filter(lambda s: re.search("[a-f]", s) is not None)
"""Hex runs with at least one letter (a run of digits alone may well be a phone number)."""
words = st.sampled_from(["", " ", "Enqueueing message '", "id=", "message_id: ", "(", "[", '"', "deadline=", "x-"])
ends = st.sampled_from(["", " ", "'", " on queue 'chorus.outbox'", ")", "]", '"', ",", ".", "\n"])


@given(st.uuids(), words, ends)
@example(uuid.UUID("05c405b6-6d3c-41dc-834e-026452378907"), "Enqueueing message '", "'")
@example(uuid.UUID("05c405b6-6d3c-41dc-834e-447700900123"), "", "")
def test_uuids_are_left_alone(value: uuid.UUID, before: str, after: str) -> None:
    line = f"{before}{value}{after}"
    assert scrub(line) == line
    assert scrub(line.upper()) == line.upper()


@given(hex_ids, words, ends)
@example("0770090012ab", "", "")
@example("ab07700900123", "sid=", "")
def test_hex_ids_are_left_alone(value: str, before: str, after: str) -> None:
    line = f"{before}{value}{after}"
    assert scrub(line) == line


@given(st.integers(min_value=0, max_value=10**6), st.text(alphabet="0123456789", min_size=1, max_size=18),
       st.sampled_from(["deadline=", "took ", "", "t=", "at "]), st.sampled_from(["", "s", " seconds", ",", ")"]))
@example(1962, "0712345678", "deadline=", "")
@example(1962, "07700900123", "", "")
def test_decimals_are_left_alone(whole: int, fraction: str, before: str, after: str) -> None:
    line = f"{before}{whole}.{fraction}{after}"
    assert scrub(line) == line


@given(st.text(alphabet="0123456789", min_size=9, max_size=14), st.integers(min_value=0, max_value=99))
@example("07700900123", 5)
def test_the_whole_part_of_a_decimal_is_left_alone(whole: str, fraction: int) -> None:
    line = f"elapsed={whole}.{fraction}"
    assert scrub(line) == line


# ----------------------------------------------------------------------------- what is

SUBSCRIBER = st.text(alphabet="0123456789", min_size=6, max_size=6)
"""The 6 digits after 07700 / +44 7700 (Ofcom's drama range and any other)."""


def written(subscriber: str, form: int) -> str:
    """One UK mobile number, written one of the ways people and providers write it."""
    national, international = f"07700{subscriber}", f"447700{subscriber}"
    return [f"+{international}", f"+44 7700 {subscriber}", f"07700 {subscriber}", national, international,
            f"0044 7700 {subscriber}", f"44 7700 {subscriber}", f"whatsapp:+{international}", f"%2B{international}",
            f"(07700) {subscriber}", f"07700-{subscriber[:3]}-{subscriber[3:]}"][form]


@given(SUBSCRIBER, st.integers(min_value=0, max_value=10), words, ends, st.sampled_from(["", "sent to ", "To=", "{'to': '"]))
@example("900123", 0, "", "", "")
@example("900123", 2, "", "", "")
@example("900123", 4, "", "", "")
@example("900123", 4, "", ".", "sent to ")
def test_phone_numbers_are_masked_wherever_they_are(subscriber: str, form: int, before: str, after: str, lead: str) -> None:
    line = f"{lead}{before}{written(subscriber, form)}{after}"
    masked = scrub(line)
    assert "[PHONE]" in masked
    assert subscriber not in re.sub(r"\D", "", masked.replace("[PHONE]", "|")), masked


@settings(max_examples=50)
@given(SUBSCRIBER, st.uuids(), st.floats(min_value=0, max_value=1e6, allow_nan=False))
def test_a_line_with_ids_decimals_and_a_number_masks_only_the_number(subscriber: str, message_id: uuid.UUID,
                                                                       deadline: float) -> None:
    line = f"Enqueueing message '{message_id}' deadline={deadline!r} for 07700 {subscriber} and +447700{subscriber}"
    assert scrub(line) == f"Enqueueing message '{message_id}' deadline={deadline!r} for [PHONE] and [PHONE]"


# ----------------------------------------------------------------------------- the broker's clients at DEBUG


@pytest.fixture
def debug_output() -> Iterator[io.StringIO]:
    root = logging.getLogger()
    levels = {name: logging.getLogger(name).level for name in ("", *QUIET)}
    stream = io.StringIO()
    yield stream
    for added in [h for h in root.handlers if h.get_name() == "chorus"]:
        root.removeHandler(added)
    for name, level in levels.items():
        logging.getLogger(name).setLevel(level)


def enqueue_once(stream: io.StringIO) -> list[str]:
    """CHORUS_LOG_LEVEL=DEBUG, a connection to RabbitMQ and one task sent: the lines written."""
    from bot.distributed import DramatiqQueue
    from bot.tasks import SEND_OUTBOX

    handler = configure("DEBUG", "text")  # as chorus serve and chorus worker do, CHORUS_LOG_LIBRARIES from the environment
    handler.setStream(stream)  # type: ignore[attr-defined]
    namespace = f"chorus-test-{uuid.uuid4().hex[:10]}"
    queue = DramatiqQueue(AMQP_URL, namespace)
    try:
        queue.enqueue(SEND_OUTBOX)
    finally:
        queue.close()
        delete_queues(AMQP_URL, namespace)
    return stream.getvalue().splitlines()


def test_at_debug_pika_and_dramatiq_keep_quiet(debug_output: io.StringIO, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CHORUS_LOG_LIBRARIES", raising=False)
    lines = enqueue_once(debug_output)
    chatter = [line for line in lines if " pika" in line or " dramatiq" in line]
    assert chatter == [], chatter[:5]
    assert logging.getLogger("pika").getEffectiveLevel() == logging.WARNING
    assert logging.getLogger("dramatiq.broker.RabbitmqBroker").getEffectiveLevel() == logging.WARNING


def test_log_libraries_debug_lets_them_through_with_message_ids_intact(debug_output: io.StringIO,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_LOG_LIBRARIES", "debug")
    lines = enqueue_once(debug_output)
    assert any(" pika" in line for line in lines), "CHORUS_LOG_LIBRARIES=debug: pika's lines are wanted"
    assert logging.getLogger("httpx").getEffectiveLevel() == logging.DEBUG, "and the other held libraries' too"
    enqueued = [line for line in lines if "Enqueueing message" in line]
    assert enqueued and all(re.search(r"'[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}'", line)
                            for line in enqueued), enqueued
    assert "[PHONE]" not in "\n".join(lines)
