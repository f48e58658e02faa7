"""The desk's counts for a Delphi round add up, as an exploratory tester found they did not:
"4 started, 2 finished", yet the rating step "reached 3" though it was the first question, and
Results said "2 answered" where the Delphi tab counted 3 responders. Now a step is reached by
whoever answered any part of it or left or waits there (still at its first item, say), so each
step's reached is the next step's plus its drop-offs; Results counts a Delphi step's answers as
the Delphi tab counts responders and says how many went through every item."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.api import queries
from bot.api.reports import report
from channels.base import InboundMessage
from tests.desk_helpers import Desk, example_desk

STUDY = "priorities"
FINISHES = ["5", "6", "7", "next", "5", "6", "7", "3 1 2"]
"""Six items in batches of three, then the ranking: round 1 to its end."""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with example_desk(tmp_path, STUDY) as made:
        yield made


def _say(desk: Desk, who: str, *texts: str) -> None:
    for text in texts:
        desk.app.state.chorus.service.receive(InboundMessage("web", who, uuid.uuid4().hex, text))


def _round_one(desk: Desk) -> None:
    """Four start round 1 and reach its Delphi: two finish; one scores the first item and is
    moved to another flow; one sends unclear replies until the item is left, then BACK,
    and waits at the first item with no answer standing."""
    service = desk.app.state.chorus.service
    for n in range(4):
        service.join("web", f"sim-r1-{n}", STUDY)
        _say(desk, f"sim-r1-{n}", "yes", "1")
    _say(desk, "sim-r1-0", *FINISHES)
    _say(desk, "sim-r1-1", *FINISHES)
    _say(desk, "sim-r1-2", "5")
    assert service.start_flow(service.participant_for("web", "sim-r1-2"), STUDY, "ideas")
    _say(desk, "sim-r1-3", "banana", "no idea what this is", "pears", "BACK")


def _funnel(desk: Desk) -> dict[str, Any]:
    found = queries.funnel(desk.database, desk.app.state.chorus.studies.get(STUDY))
    return next(f for f in found if f["flow"] == "round1")


def test_whoever_waits_at_the_first_item_has_reached_the_delphi_and_the_steps_add_up(desk: Desk) -> None:
    _round_one(desk)
    funnel = _funnel(desk)
    steps = {s["step"]: s for s in funnel["steps"]}
    assert (funnel["started"], funnel["finished"]) == (4, 2)
    rate = steps["rate"]
    assert (rate["reached"], rate["answered"], rate["drop_off"], rate["waiting"]) == (4, 3, 2, 1), \
        "the one waiting at item 1 reached it; one moved on to another flow"
    order = [s for s in funnel["steps"] if s["step"] != "(started)"]
    for step, after in zip(order, order[1:], strict=False):
        assert step["reached"] == after["reached"] + step["drop_off"], (step["step"], after["step"])
    assert sum(s["drop_off"] for s in funnel["steps"]) + funnel["finished"] == funnel["started"]


def test_results_and_the_delphi_tab_count_the_same_responders(desk: Desk) -> None:
    _round_one(desk)
    loaded = desk.app.state.chorus.studies.get(STUDY)
    rate = next(r for r in report(desk.database, loaded, "results") if r["flow"] == "round1" and r["step"] == "rate")
    responders = next(p for p in report(desk.database, loaded, "delphi")["participation"] if p["round"] == 1 and p["group"] == "all")
    assert (rate["n"], rate["finished"]) == (3, 2), "scored an item: three; through every item: two"
    answered = next(s for s in _funnel(desk)["steps"] if s["step"] == "rate")["answered"]
    assert rate["n"] == responders["responded"] == answered == 3, "Results, the Delphi tab and the funnel agree"


def _cells(html: str, flow: str, step: str) -> list[str]:
    section = re.search(rf'<section class="chart-block" id="funnel-{flow}">(.*?)</section>', html, re.S)
    assert section is not None
    row = re.search(rf"<tr><td>{step}</td>(.*?)</tr>", section.group(1))
    assert row is not None, step
    return re.findall(r"<td[^>]*>(.*?)</td>", row.group(1))


def test_the_desk_pages_show_and_explain_the_counts(desk: Desk) -> None:
    _round_one(desk)
    overview = desk.client.get(f"/dashboard/studies/{STUDY}").text
    assert _cells(overview, "round1", "rate") == ["delphi", "4", "2", "1"], "reached, dropped off, of whom still open"
    assert "<em>Reached</em>: answered the step" in overview
    results = " ".join(desk.client.get(f"/dashboard/studies/{STUDY}/results").text.split())
    assert "delphi · 3 answered (scored or unsure of an item, as the Delphi tab counts them) · 2 went through every item" in results
