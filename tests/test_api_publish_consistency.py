"""The API and the desk agree, so a coordinator moving between them does not trip: a flow that
does not validate is refused with 422 by both, with the same problems the validate route
gives; a publication returns the warnings validation found, as the desk shows them; study
groups come with the labels the desk shows; the Alerts page names kinds of alert in words.
On SQLite and PostgreSQL."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from bot.api import reports
from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from flows.population import delphi_value
from tests.desk_helpers import Clock, Desk, add_answers, add_flag

STUDY = "clinic-voices"
FLOW = "views"
STUDY_YAML = f"""\
study: {STUDY}
title: Clinic voices
languages: [en]
timezone: Europe/London
groups:
  - id: carer
    label: Carers and family
  - id: staff
    label: Clinic staff
  - id: patient
join:
  start_flow: {FLOW}
  keyword: VOICES
flows: [views.yaml]
"""
FLOW_YAML = f"""\
flow: {FLOW}
steps:
  - id: travel
    type: choice
    text: How did you get to the clinic?
    options:
      - {{value: bus, label: By bus}}
      - {{value: car, label: By car}}
  - id: rate
    type: delphi
    delphi: care
    round: 1
    items:
      - {{id: info, text: Carers are kept informed}}
  - id: votes
    type: statements
    text: What do you think?
    statements:
      - {{id: told, text: Carers are not told enough}}
      - {{id: nurse, text: I would rather see any nurse soon}}
  - id: done
    type: end
    text: Thank you.
"""
NAMES = {"all": "Everyone", "carer": "Carers and family", "staff": "Clinic staff", "patient": "patient"}
"""What the desk calls each group: a group without a label by its code."""
IDLE_TIMEOUT = FLOW_YAML.replace("      - {value: car, label: By car}\n",
                                 "      - {value: car, label: By car}\n    on_timeout: done\n")
"""The flow with a setting that does nothing: it validates, with a warning."""
BROKEN = f"flow: {FLOW}\nsteps: 3\n"


@dataclass
class Coordinator(Desk):
    """The desk, logged in, and a coordinator's token for the API."""

    bearer: str = ""

    def api(self, method: str, path: str, **options: Any) -> Any:
        return self.client.request(method, f"/api/v1/studies/{STUDY}{path}", headers={"Authorization": f"Bearer {self.bearer}"},
                                   **options)


@pytest.fixture
def desk(migrated_database_url: str, tmp_path: Path) -> Iterator[Coordinator]:
    """The desk and API serving the study above."""
    folder = tmp_path / "studies" / STUDY
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    (folder / "views.yaml").write_text(FLOW_YAML, encoding="utf-8")
    settings = Settings(database_url=migrated_database_url, studies_dir=tmp_path / "studies",
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app, clock=Clock())
    with TestClient(app, base_url="https://testserver") as client:
        made = Coordinator(app, client, app.state.desk.clock)
        made.bearer = made.token("coordinator", (STUDY,))
        client.post("/login", data={"token": made.bearer})
        yield made


def csrf(desk: Coordinator) -> str:
    found = re.search(r'name="csrf-token" content="([^"]+)"', desk.client.get("/dashboard").text)
    assert found, "the desk page carries its CSRF token"
    return found.group(1)


def deployed(desk: Coordinator) -> Path:
    return Path(desk.app.state.chorus.studies.get(STUDY).path).parent / "views.yaml"


def api_publish(desk: Coordinator, text: str) -> Any:
    return desk.api("POST", "/flows/publish", json={"yaml": text})


def desk_publish(desk: Coordinator, text: str) -> Any:
    return desk.client.post(f"/dashboard/studies/{STUDY}/flows/publish", data={"csrf": csrf(desk), "yaml_text": text})


def section(page: str, element_id: str) -> str:
    found = re.search(rf'<section[^>]*id="{element_id}".*?</section>', page, re.S)
    assert found, f"no #{element_id} in the page"
    return html.unescape(found.group(0))


# ----------------------------------------------------------------------------- publishing


def test_a_flow_that_does_not_validate_is_refused_with_422_by_the_api_as_by_the_desk(desk: Coordinator) -> None:
    before = deployed(desk).read_text(encoding="utf-8")
    checked = desk.api("POST", "/flows/validate", json={"yaml": BROKEN}).json()
    assert not checked["ok"] and any(p["severity"] == "error" for p in checked["problems"])

    refused = api_publish(desk, BROKEN)
    assert refused.status_code == 422, refused.text
    assert refused.json() == {"ok": False, "problems": checked["problems"], "flows": []}, "the validate route's problems"
    page = desk_publish(desk, BROKEN)
    assert page.status_code == 422
    assert all(p["message"] in section(page.text, "problems") for p in checked["problems"]), "the desk lists the same"
    assert deployed(desk).read_text(encoding="utf-8") == before, "nothing rewritten"
    assert desk.api("GET", "/flows").json()["versions"][0]["version"] == \
        desk.app.state.chorus.studies.current(STUDY, FLOW).version, "nothing published"


def test_deployed_files_that_do_not_load_are_refused_with_422_by_both(desk: Coordinator) -> None:
    deployed(desk).write_text(BROKEN, encoding="utf-8")
    refused = desk.api("POST", "/flows/publish", json={})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert set(body) == {"ok", "problems", "flows"} and not body["ok"] and body["flows"] == []
    assert any(p["severity"] == "error" and p["file"].endswith("views.yaml") for p in body["problems"])
    assert desk_publish(desk, "").status_code == 422


def test_a_publication_returns_the_warnings_validation_found_as_the_desk_shows_them(desk: Coordinator) -> None:
    checked = desk.api("POST", "/flows/validate", json={"yaml": IDLE_TIMEOUT}).json()
    found = [p for p in checked["problems"] if p["severity"] == "warning"]
    assert checked["ok"] and [p["message"] for p in found] == ["on_timeout has no effect without a timeout"]

    published = api_publish(desk, IDLE_TIMEOUT)
    assert published.status_code == 200 and published.json()["ok"], published.text
    assert published.json()["warnings"] == found, "as the validate route gives them"
    assert found[0]["message"] in section(desk_publish(desk, IDLE_TIMEOUT).text, "publish-warnings"), "and the desk"

    clean = api_publish(desk, FLOW_YAML).json()
    assert clean["ok"] and clean["warnings"] == [] and clean["problems"] == []


def test_publishing_the_deployed_files_returns_their_warnings(desk: Coordinator) -> None:
    deployed(desk).write_text(IDLE_TIMEOUT, encoding="utf-8")
    published = desk.api("POST", "/flows/publish", json={}).json()
    assert published["ok"] and [f["new"] for f in published["flows"]] == [True]
    assert [(p["message"], p["severity"]) for p in published["warnings"]] == [
        ("on_timeout has no effect without a timeout", "warning")]
    assert published["warnings"][0]["line"] == IDLE_TIMEOUT.splitlines().index("    on_timeout: done") + 1


def test_a_warning_found_twice_is_given_once(desk: Coordinator) -> None:
    """A date already past is found by validation and by the publication's notes: one warning."""
    study = deployed(desk).parent / "study.yaml"
    study.write_text(STUDY_YAML + "schedule:\n  - flow: views\n    at: 2020-01-01 09:00\n", encoding="utf-8")
    published = api_publish(desk, FLOW_YAML).json()
    assert published["ok"], published
    past = [p for p in published["warnings"] if "has passed" in p["message"]]
    assert len(past) == 1 and past[0]["severity"] == "warning", published["warnings"]
    assert [p["message"] for p in published["problems"]] == [past[0]["message"]], "the notes keep their place"


# ----------------------------------------------------------------------------- group labels


def seed(desk: Coordinator) -> None:
    """Five carers, five staff and five patients (at least 5 votes each, for the groups agreeing most and
    least): how they travelled, a Delphi score and votes."""
    rows = []
    for group, score, vote in (("carer", 2, 1), ("staff", 8, -1), ("patient", 5, 1)):
        for n in range(5):
            pid, version = desk.join(STUDY, group, FLOW)
            where = {"participant_id": pid, "study_id": STUDY, "flow_id": FLOW, "flow_version_id": version, "flow_version": "v"}
            rows += [{**where, "step_id": "travel", "value": "bus" if n % 2 else "car", "display": "bus"},
                     {**where, "step_id": "rate", "item": "info", "value": delphi_value("care", 1, score), "display": str(score)},
                     {**where, "step_id": "votes", "item": "told", "value": vote, "display": str(vote)},
                     {**where, "step_id": "votes", "item": "nurse", "value": -vote if n % 2 else vote, "display": str(vote)}]
    add_answers(desk.database, rows)


def report(desk: Coordinator, kind: str) -> dict[str, Any]:
    response = desk.api("GET", f"/reports/{kind}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()
    assert found["group_labels"] == NAMES, "the codes that key tables, named"
    return found


def labelled(rows: list[dict[str, Any]]) -> set[tuple[str, str]]:
    """(code, label) of each row, checking each row has both."""
    assert rows
    return {(row["group"], row["group_label"]) for row in rows}


def test_reports_give_each_group_its_label_beside_the_code(desk: Coordinator) -> None:
    seed(desk)
    named = set(NAMES.items())
    delphi = report(desk, "delphi")["report"]
    assert labelled(delphi["items"]) == named
    assert labelled(delphi["participation"]) == named

    statements = report(desk, "statements")["report"]
    told = next(row for row in statements["consensus"] if row["statement"] == "told")
    assert labelled(told["by_group"]) == named
    assert (told["most"], told["most_label"]) in named and (told["least"], told["least_label"]) in named
    assert told["most_label"] != told["least_label"]

    results = report(desk, "results")["report"]
    travel = next(row for row in results if row["step"] == "travel")
    assert set(travel["groups"]) == {"carer", "staff", "patient"}, "codes kept; group_labels names them"
    loaded = desk.app.state.chorus.studies.get(STUDY)
    cached = reports.report(desk.database, loaded, "delphi")
    assert "group_label" not in cached["items"][0], "the desk's cached report is left as it was"


def test_the_study_and_its_participants_give_group_labels(desk: Coordinator) -> None:
    seed(desk)
    study = desk.api("GET", "").json()
    assert labelled(study["by_group_and_channel"]) == {(code, NAMES[code]) for code in ("carer", "staff", "patient")}
    assert study["by_group"] == {"carer": 5, "patient": 5, "staff": 5} and study["group_labels"] == NAMES
    people = desk.api("GET", "/participants").json()["items"]
    assert labelled(people) == {(code, NAMES[code]) for code in ("carer", "staff", "patient")}


def test_the_api_s_group_labels_are_the_desk_s(desk: Coordinator) -> None:
    seed(desk)
    api = {row["group_label"] for row in report(desk, "delphi")["report"]["items"]}
    page = html.unescape(desk.client.get(f"/dashboard/studies/{STUDY}/delphi").text)
    assert all(f"<td>{label}</td>" in page for label in api), "each label as the desk's Delphi table shows it"
    overview = html.unescape(desk.client.get(f"/dashboard/studies/{STUDY}").text)
    assert '<th scope="row" title="code: carer">Carers and family</th>' in overview, "the overview names groups too"


# ----------------------------------------------------------------------------- alerts


def kind_cells(page: str) -> list[tuple[str, str]]:
    """(data-kind, words shown) of each alert in the Alerts table, newest first."""
    return re.findall(r'<span class="kind [a-z_]+" data-kind="([a-z_]+)" title="kind: \1">([^<]+)</span>', page)


def test_the_alerts_page_names_each_kind_in_words(desk: Coordinator) -> None:
    pid, _ = desk.join(STUDY, "carer", FLOW)
    for kind in ("safeguarding", "after_end", "max_tries", "delivery_failed"):
        add_flag(desk.database, STUDY, pid, kind=kind, message=f"a {kind} alert")
    page = desk.client.get(f"/dashboard/studies/{STUDY}/alerts").text
    assert sorted(kind_cells(page)) == sorted([("safeguarding", "Safeguarding"), ("after_end", "Message after the end"),
                                               ("max_tries", "No clear answer"), ("delivery_failed", "Delivery failed")])
    api = desk.api("GET", "/flags").json()["items"]
    assert {a["kind"] for a in api} == {"safeguarding", "after_end", "max_tries", "delivery_failed"}, "the API keeps names"
