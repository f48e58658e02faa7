"""Someone who declined consent is in no follow-up count. Planning plans their follow-ups as it
does everyone's, but firing never sends them ("has not consented"): they used to stand in the
Evaluate results as a "(none)" group row with every follow-up still to come (and, had Chorus
been down when one fell due, as missed). The desk, `chorus report` and `chorus analyse
evaluation` (all bot.evaluation.followups) now leave them out; someone still being asked for
consent may yet say yes, so theirs are still to come."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from bot.evaluation import followups
from bot.evaluation_consent import consent_steps, declined
from bot.report import gather, write_report
from bot.scheduler import Scheduler
from channels.base import InboundMessage
from tests.desk_helpers import Desk, example_desk

STUDY = "ae-waiting"
FLOWS = ("vision", "codesign", "evaluate")
"""ae-waiting's follow-ups: after 7, 14 and 28 days."""


class Ticks:
    """The desk app's scheduler on a clock moved by hand."""

    def __init__(self, desk: Desk) -> None:
        chorus = desk.app.state.chorus
        self.now = datetime.now(UTC)
        self.scheduler = Scheduler(desk.database, chorus.service, chorus.studies, lambda: self.now)

    def at(self, moment: datetime) -> None:
        self.now = moment
        self.scheduler.tick()


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with example_desk(tmp_path, STUDY) as made:
        yield made


def _say(desk: Desk, address: str, *texts: str) -> str:
    service = desk.app.state.chorus.service
    joined = service.join("web", address, STUDY)
    for text in texts:
        service.receive(InboundMessage("web", address, uuid.uuid4().hex, text))
    return str(joined.participant_id)


def _three_people(desk: Desk) -> dict[str, str]:
    """One agrees (a patient), one says no, one has not answered the consent question yet."""
    return {"agreed": _say(desk, "sim-consent-yes", "yes", "1"), "declined": _say(desk, "sim-consent-no", "no"),
            "asking": _say(desk, "sim-consent-later")}


def _rows(desk: Desk) -> dict[tuple[str, str], dict[str, Any]]:
    return {(r["flow"], r["group"]): r for r in followups(desk.database, STUDY).responses}


def test_follow_ups_planned_for_someone_who_declined_are_not_to_come(desk: Desk) -> None:
    people = _three_people(desk)
    ticks = Ticks(desk)
    ticks.at(ticks.now + timedelta(minutes=1))  # planned for all three
    rows = _rows(desk)
    for flow in FLOWS:
        assert rows[(flow, "all")]["to_come"] == 2, f"{flow}: the one who agreed and the one still being asked, not the one who said no"
        assert rows[(flow, "patient")]["to_come"] == 1
        assert rows[(flow, "(none)")]["to_come"] == 1, "the one still being asked may yet say yes"
    assert declined(desk.database, STUDY, {"join": {"start_flow": "understand"}},
                    [("understand", {"steps": [{"id": "consent", "type": "consent"}]})], people.values()) == {people["declined"]}
    # Chorus is down past the vision flow's grace: the two who may take part missed it; the one who said no missed nothing
    ticks.at(ticks.now + timedelta(days=9))
    vision = _rows(desk)[("vision", "all")]
    assert (vision["asked"], vision["to_come"], vision["not_sent_missed"]) == (0, 0, 2)


def test_saying_yes_after_all_counts_them_again(desk: Desk) -> None:
    people = _three_people(desk)
    ticks = Ticks(desk)
    ticks.at(ticks.now + timedelta(minutes=1))
    assert _rows(desk)[("vision", "all")]["to_come"] == 2
    _say(desk, "sim-consent-no", "WAIT")  # asked again: may yet say yes
    assert _rows(desk)[("vision", "all")]["to_come"] == 3
    desk.app.state.chorus.service.receive(InboundMessage("web", "sim-consent-no", uuid.uuid4().hex, "yes"))
    assert _rows(desk)[("vision", "all")]["to_come"] == 3
    assert declined(desk.database, STUDY, {"join": {"start_flow": "understand"}},
                    [("understand", {"steps": [{"id": "consent", "type": "consent"}]})], people.values()) == set()


def test_the_report_and_the_desk_count_the_declined_alike(desk: Desk, tmp_path: Path) -> None:
    _three_people(desk)
    ticks = Ticks(desk)
    ticks.at(ticks.now + timedelta(minutes=1))
    write_report(gather(desk.database, STUDY), tmp_path / "out")
    table = pd.read_csv(tmp_path / "out" / "evaluation-responses.csv", keep_default_na=False).set_index(["flow", "group"])
    assert table.loc[("vision", "all"), "to_come"] == 2 and table.loc[("vision", "(none)"), "to_come"] == 1
    assert table["to_come"].sum() == 3 * (2 + 1 + 1), "per flow: everyone 2, patients 1, no group 1"
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation").text
    assert 'id="weeks"' not in page, "ae-waiting repeats no follow-up: no week by week"
    [vision] = re.findall(r"<tr><td>[^<]*<small><code>vision</code></small></td><td>Everyone</td>.*?</tr>", page, re.S)
    cells = re.findall(r'<td class="num">([^<]*)</td>', vision)
    assert cells[9] == "2", f"still to come on the desk, as in the report: {cells}"


def test_a_study_without_a_consent_step_leaves_no_one_out() -> None:
    assert consent_steps({"join": {"start_flow": "hello"}}, [("hello", {"steps": [{"id": "q", "type": "text"}]})]) == set()
    assert consent_steps({"join": {"start_flow": "hello"}}, [("other", {"steps": [{"id": "ok", "type": "consent"}]})]) == set()
    assert consent_steps({"join": {"start_flow": "hello"}}, [("hello", {"steps": [{"id": "ok", "type": "consent"}]}),
                                                             ("hello", {"steps": [{"id": "agree", "type": "consent"}]})]) == {"ok", "agree"}
