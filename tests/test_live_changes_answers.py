"""A coordinator changing a live study while people are mid-conversation (an exploratory
tester's community crisis-team study, English and Welsh): what a new version means for the
answers already given. Running sessions stay on their version and every answer keeps its value
and step id, so the desk and the API warn, before and after publishing, of a change that would
split or mix those answers (a rank option removed, a scale's range changed, a step removed or
renamed), and the results still show every answer once the change is made."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bot.api import publishing
from channels.base import InboundMessage
from tests.desk_helpers import Desk, study_desk

STUDY_ID = "crisis-team"
STUDY = """study: crisis-team
title: {en: Our crisis team, cy: Ein tîm argyfwng}
languages: [en, cy]
timezone: Europe/London
groups: [service_user, carer]
join:
  start_flow: experience
  keyword: CRISIS
flows: [experience.yaml]
signposting:
  en: If you need urgent help, call NHS 111 and choose option 2, or 999 in an emergency.
  cy: Os oes angen help brys arnoch, ffoniwch GIG 111 a dewis opsiwn 2, neu 999 mewn argyfwng.
"""
EXPERIENCE = """flow: experience
steps:
  - id: consent
    type: consent
    text: {en: Reply YES to tell us about the crisis team or NO to stop., cy: Atebwch YDW neu NAC YDW.}
  - id: safe
    type: scale
    text:
      en: How safe did you feel after the first contact? 1 (not at all) to 5 (completely)
      cy: Pa mor ddiogel oeddech chi'n teimlo? 1 (dim o gwbl) i 5 (yn llwyr)
    min: 1
    max: 5
  - id: story
    type: open
    text: {en: What would have made the crisis easier?, cy: Beth fyddai wedi gwneud yr argyfwng yn haws?}
  - id: priorities
    type: rank
    text: {en: What should we improve first? Your top 2 in order, cy: Beth ddylen ni ei wella gyntaf? Eich 2 uchaf}
    options:
      - {value: speed, label: {en: A quick response, cy: Ymateb cyflym}}
      - {value: same_worker, label: {en: The same worker, cy: Yr un gweithiwr}}
      - {value: carers, label: {en: Support for carers, cy: Cymorth i ofalwyr}}
    top: 2
  - id: thanks
    type: end
    text: {en: Thank you., cy: Diolch.}
"""
NO_CARERS = EXPERIENCE.replace("      - {value: carers, label: {en: Support for carers, cy: Cymorth i ofalwyr}}\n",
                               "      - {value: night, label: {en: Help at night, cy: Help yn y nos}}\n")
WIDER = (EXPERIENCE.replace("    min: 1\n    max: 5", "    min: 0\n    max: 10")
         .replace("1 (not at all) to 5", "0 (not at all) to 10").replace("1 (dim o gwbl) i 5", "0 (dim o gwbl) i 10"))
RENAMED = EXPERIENCE.replace("  - id: story\n", "  - id: easier\n")


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY_ID, {"study.yaml": STUDY, "experience.yaml": EXPERIENCE}) as made:
        yield made


def say(desk: Desk, address: str, *texts: str) -> None:
    service = desk.app.state.chorus.service
    for text in texts:
        service.receive(InboundMessage("sms", address, f"sms-{uuid.uuid4().hex}", text))


def answer_everything(desk: Desk) -> None:
    """Two people finish on the first version; a third waits at the ranking."""
    say(desk, "+447700900401", "CRISIS", "yes", "5", "Someone to call back at night", "3 1")
    say(desk, "+447700900402", "CRISIS", "yes", "2", "A named worker", "1 2")
    say(desk, "+447700900403", "CRISIS", "yes", "4", "Less waiting")


def csrf(desk: Desk) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', desk.client.get("/dashboard").text)
    assert found, "the desk page carries its CSRF token"
    return found.group(1)


def api(desk: Desk, method: str, path: str, **kwargs: Any) -> Any:
    token = desk.token(studies=(STUDY_ID,))
    return desk.client.request(method, f"/api/v1/studies/{STUDY_ID}{path}", headers={"Authorization": f"Bearer {token}"}, **kwargs)


def warnings_about(checked: publishing.Checked, step: str) -> list[str]:
    return [p.message for p in checked.problems if p.severity == "warning" and f"step '{step}'" in p.message]


def test_rankings_still_report_once_a_new_version_drops_an_option_that_answers_ranked(desk: Desk) -> None:
    answer_everything(desk)
    response = api(desk, "POST", "/flows/publish", json={"yaml": NO_CARERS})
    assert response.status_code == 200 and response.json()["ok"], response.text
    say(desk, "+447700900403", "1 3")  # still on the first version: ranks speed, then carers
    say(desk, "+447700900404", "CRISIS", "yes", "3", "More support", "3 2")  # the new version: night, then same_worker

    report = api(desk, "GET", "/reports/ranking")
    assert report.status_code == 200, report.text
    everyone = {r["option"]: r for r in report.json()["report"]["options"] if r["group"] == "all"}
    assert set(everyone) == {"speed", "same_worker", "carers", "night"}, "every option ranked is scored, the dropped one too"
    assert everyone["carers"]["n_ranked"] == 2 and everyone["carers"]["label"] == "Support for carers"
    assert everyone["night"]["n_ranked"] == 1
    page = desk.client.get(f"/dashboard/studies/{STUDY_ID}/ranking")
    assert page.status_code == 200 and "Support for carers" in page.text, "the desk's Rankings tab shows it too"


def test_validating_warns_of_a_rank_option_that_answers_hold_and_the_new_version_drops(desk: Desk) -> None:
    answer_everything(desk)
    checked = publishing.validate_text(desk.app.state.chorus.studies.get(STUDY_ID), NO_CARERS, desk.database)
    warned = warnings_about(checked, "priorities")
    assert checked.ok and len(warned) == 1 and "1 answer holds the value 'carers'" in warned[0], warned
    assert [p.message for p in checked.touches_answers] == warned


def test_validating_warns_of_a_scale_whose_range_changes_under_answers_already_given(desk: Desk) -> None:
    answer_everything(desk)
    loaded = desk.app.state.chorus.studies.get(STUDY_ID)
    checked = publishing.validate_text(loaded, WIDER, desk.database)
    warned = warnings_about(checked, "safe")
    assert checked.ok and len(warned) == 1, [str(p) for p in checked.problems]
    assert "asks 0-10, but 3 answers on 1-5 stand" in warned[0] and "average both ranges" in warned[0]
    problem = next(p for p in checked.problems if p.message == warned[0])
    assert (problem.file, problem.line) == (f"{STUDY_ID}/experience.yaml", WIDER.splitlines().index("    max: 10") + 1)
    assert "keep 1-5" in (problem.hint or "")
    assert not warnings_about(publishing.validate_text(loaded, EXPERIENCE.replace("1 (not at all)", "1 (not safe at all)"),
                                                       desk.database), "safe"), "rewording keeps the range: no warning"

    body = api(desk, "POST", "/flows/publish", json={"yaml": WIDER}).json()
    assert body["ok"] and [w for w in body["warnings"] if "asks 0-10" in w["message"]], "the publication says it too"
    say(desk, "+447700900405", "CRISIS", "yes", "9")  # on the new range
    checked_again = publishing.validate_deployed(desk.app.state.chorus.studies.get(STUDY_ID), desk.database)
    assert "3 answers on 1-5 stand" in warnings_about(checked_again, "safe")[0], "still said while old answers stand"


def test_validating_warns_of_a_step_with_answers_that_the_new_version_renames_or_removes(desk: Desk) -> None:
    answer_everything(desk)
    loaded = desk.app.state.chorus.studies.get(STUDY_ID)
    warned = warnings_about(publishing.validate_text(loaded, RENAMED, desk.database), "story")
    assert len(warned) == 1 and "3 answers stand at this step, which this version no longer has" in warned[0], warned
    assert not warnings_about(publishing.validate_text(loaded, EXPERIENCE, desk.database), "story")


def test_the_publication_names_files_as_validating_does_never_by_the_server_s_path(desk: Desk) -> None:
    answer_everything(desk)
    body = api(desk, "POST", "/flows/publish", json={"yaml": NO_CARERS}).json()
    files = {w["file"] for w in body["warnings"] + body["problems"]}
    assert files == {f"{STUDY_ID}/experience.yaml"}, files
    deployed = api(desk, "POST", "/flows/validate", json={"yaml": ""}).json()
    assert {p["file"] for p in deployed["problems"]} == {f"{STUDY_ID}/experience.yaml"}, deployed["problems"]


def test_the_desk_asks_before_publishing_a_version_that_splits_answers_already_given(desk: Desk) -> None:
    answer_everything(desk)
    registry = desk.app.state.chorus.studies
    live = registry.current(STUDY_ID, "experience")
    url = f"/dashboard/studies/{STUDY_ID}/flows/publish"
    page = desk.client.post(url, data={"csrf": csrf(desk), "yaml_text": WIDER})
    assert page.status_code == 409 and 'id="not-published"' in page.text and 'id="publish-anyway"' in page.text
    assert registry.current(STUDY_ID, "experience") == live, "nothing is published before the coordinator confirms"
    confirm = re.search(r'name="confirm" value="([0-9a-f]+)"', page.text)
    assert confirm

    edited = desk.client.post(url, data={"csrf": csrf(desk), "yaml_text": NO_CARERS, "confirm": confirm.group(1)})
    assert edited.status_code == 409 and registry.current(STUDY_ID, "experience") == live, "a confirmation is for the text it was shown"
    done = desk.client.post(url, data={"csrf": csrf(desk), "yaml_text": WIDER, "confirm": confirm.group(1)})
    assert done.status_code == 200 and 'id="published"' in done.text
    assert registry.current(STUDY_ID, "experience") != live
    say(desk, "+447700900406", "CRISIS", "yes", "8")  # more answers since: the same change, already published knowingly
    reworded = WIDER.replace("{en: Thank you., cy: Diolch.}", "{en: Thank you very much., cy: Diolch yn fawr.}")
    again = desk.client.post(url, data={"csrf": csrf(desk), "yaml_text": reworded})
    assert again.status_code == 200 and 'id="published"' in again.text, "not asked again about what is already live"
    assert "asks 0-10" in again.text, "though the publication still warns of it"
    dropped = desk.client.post(url, data={"csrf": csrf(desk), "yaml_text": reworded.replace("{value: carers,", "{value: family,")})
    assert dropped.status_code == 409 and "&#39;carers&#39;" in dropped.text, "a new change is asked about"
