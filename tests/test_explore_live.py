"""A coordinator changing a live study while people are mid-conversation (an exploratory
tester's stroke-rehab study): what the desk and the API say when a pasted flow is broken, when
a schedule change re-plans follow-ups, and when a new version drops an option value that
answers already hold (results then count the old and new values apart)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.api import publishing
from bot.scheduler import Scheduler
from channels.base import InboundMessage
from tests.desk_helpers import Desk, study_desk

STUDY_ID = "stroke-rehab"
STUDY = """study: stroke-rehab
title: Life after stroke
languages: [en]
timezone: Europe/London
groups: [survivor, carer]
join:
  start_flow: recovery
  keyword: STROKE
flows: [recovery.yaml, checkin.yaml]
schedule:
  - flow: checkin
    after: {after}
"""
RECOVERY = """flow: recovery
steps:
  - id: consent
    type: consent
    text: The stroke team wants to hear about life after stroke. Reply YES to take part or NO to stop.
  - id: therapy
    type: choice
    text: Which therapy helped most since you left hospital?
    options:
      - {value: physio, label: Physiotherapy}
      - {value: speech, label: Speech and language therapy}
  - id: story
    type: open
    text: What has been hardest since coming home?
  - id: thanks
    type: end
    text: Thank you.
"""
CHECKIN = """flow: checkin
steps:
  - id: better
    type: yesno
    text: Are things better since we last spoke?
  - id: bye
    type: end
    text: Thank you.
"""
RENAMED = RECOVERY.replace("{value: speech,", "{value: salt,")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    files = {"study.yaml": STUDY.format(after="14d"), "recovery.yaml": RECOVERY, "checkin.yaml": CHECKIN}
    with study_desk(tmp_path, STUDY_ID, files) as made:
        yield made


def say(desk: Desk, address: str, *texts: str) -> None:
    service = desk.app.state.chorus.service
    for text in texts:
        service.receive(InboundMessage("sms", address, f"sms-{uuid.uuid4().hex}", text))


def csrf(desk: Desk) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', desk.client.get("/dashboard").text)
    assert found, "the desk page carries its CSRF token"
    return found.group(1)


def folder(desk: Desk) -> Path:
    return Path(desk.app.state.chorus.studies.get(STUDY_ID).path).parent


def test_a_pasted_flow_that_does_not_parse_is_named_by_its_own_file_and_changes_nothing(desk: Desk) -> None:
    registry = desk.app.state.chorus.studies
    live = registry.current(STUDY_ID, "recovery")
    broken = RECOVERY.replace("    type: choice\n    text: Which", "    type: choice\n   text: Which")
    checked, flows = publishing.publish_text(registry, desk.database, STUDY_ID, broken, "tester", desk.clock.now)
    assert not checked.ok and flows == []
    assert checked.target == "recovery.yaml", "the coordinator pasted the recovery flow, not some 'pasted.yaml'"
    assert [p.file for p in checked.problems] == [f"{STUDY_ID}/recovery.yaml"], [str(p) for p in checked.problems]
    assert "indented" in checked.problems[0].message
    assert registry.current(STUDY_ID, "recovery") == live, "the live version is untouched"
    assert (folder(desk) / "recovery.yaml").read_text(encoding="utf-8") == RECOVERY, "and so is its file"


def test_the_desk_says_how_publishing_a_schedule_change_re_planned_the_follow_ups(desk: Desk) -> None:
    say(desk, "+447700900301", "STROKE", "yes")
    chorus = desk.app.state.chorus
    Scheduler(desk.database, chorus.service, chorus.studies).plan_new()  # enrolled: a check-in planned 14 days on
    (folder(desk) / "study.yaml").write_text(STUDY.format(after="10d"), encoding="utf-8")
    page = desk.client.post(f"/dashboard/studies/{STUDY_ID}/flows/publish", data={"csrf": csrf(desk), "yaml_text": ""})
    assert page.status_code == 200, page.text
    assert desk.app.state.chorus.studies.replanned[STUDY_ID].retimed == 1
    assert 'id="replanned"' in page.text, "the desk shows what the publication re-planned, as the API's result does"
    assert "1 follow-up re-timed, 0 added, 0 dropped" in page.text


def test_an_option_value_that_answers_hold_and_a_new_version_drops_is_warned_of(desk: Desk) -> None:
    say(desk, "+447700900302", "STROKE", "yes", "2")  # 'speech' stored on the first version
    say(desk, "+447700900303", "STROKE", "yes", "1")
    loaded = desk.app.state.chorus.studies.get(STUDY_ID)

    checked = publishing.validate_text(loaded, RENAMED, desk.database)
    warned = [p for p in checked.problems if "'speech'" in p.message]
    assert checked.ok and len(warned) == 1 and warned[0].severity == "warning", [str(p) for p in checked.problems]
    assert "1 answer" in warned[0].message and "therapy" in warned[0].message
    assert warned[0].file == f"{STUDY_ID}/recovery.yaml"
    assert "physio" not in warned[0].message, "a value the new version still offers is not warned of"
    assert not [p for p in publishing.validate_text(loaded, RECOVERY, desk.database).problems if "'speech'" in p.message]

    token = desk.token(studies=(STUDY_ID,))
    response = desk.client.post(f"/api/v1/studies/{STUDY_ID}/flows/publish", json={"yaml": RENAMED},
                                headers={"Authorization": f"Bearer {token}"})
    body = response.json()
    assert response.status_code == 200 and body["ok"], body
    assert [p for p in body["problems"] if "'speech'" in p["message"]], "the publish result says it too"
    page = desk.client.post(f"/dashboard/studies/{STUDY_ID}/flows/validate", data={"csrf": csrf(desk), "yaml_text": RENAMED})
    assert "&#39;speech&#39;" in page.text or "'speech'" in page.text, "and the desk's Validate"


def test_a_flow_published_from_the_desk_is_written_with_the_file_s_own_line_endings(desk: Desk) -> None:
    typo_fixed = RECOVERY.replace("Thank you.", "Thank you for your time.")
    browser_sent = typo_fixed.replace("\n", "\r\n")  # a textarea is submitted with CRLF line breaks
    page = desk.client.post(f"/dashboard/studies/{STUDY_ID}/flows/publish", data={"csrf": csrf(desk), "yaml_text": browser_sent})
    assert page.status_code == 200 and 'id="published"' in page.text, page.text
    assert (folder(desk) / "recovery.yaml").read_bytes() == typo_fixed.encode(), "no CR added to every line of the deployed file"


def test_what_a_schedule_change_replanned_reads_in_the_right_number() -> None:
    from bot.studies import Replanned

    assert str(Replanned("s", retimed=1)) == "1 follow-up re-timed, 0 added, 0 dropped"
    assert str(Replanned("s", retimed=3, added=1, warnings=["one left: already sent"])) == (
        "3 follow-ups re-timed, 1 added, 0 dropped; one left: already sent")
