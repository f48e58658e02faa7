"""The desk's errors and labels: a chart, report or answers list naming a flow, step, round,
item or group the study has not got is refused with a message naming what there is; a
token for an unknown study is refused; the desk shows the words participants saw, not codes."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from bot.charts import Intervals, svg
from bot.cli import cli
from bot.studies import StudyRegistry
from storage.auth import list_tokens
from storage.database import init_database
from tests.desk_helpers import Desk, add_answers, desk_app, two_studies

STUDY = "labels"
STUDY_YAML = """\
study: labels
title: Labels on the desk
languages: [en]
timezone: Europe/London
groups:
  - {id: patient, label: Patients and carers}
  - {id: staff, label: Staff}
join: {start_flow: panel, keyword: LABELS}
flows: [panel.yaml, later.yaml]
"""
DELPHI_ITEMS = """\
    items:
      - {id: wait, text: Waiting for a visit}
      - {id: phone, text: Getting through by phone}
"""
PANEL_YAML = f"""\
flow: panel
steps:
  - id: rate
    type: delphi
    delphi: community
    round: 1
{DELPHI_ITEMS}  - id: first
    type: rank
    text: What should we fix first?
    options:
      - {{value: waits, label: Waiting for a visit}}
      - {{value: phone, label: Getting through by phone}}
      - {{value: carers, label: Support for carers}}
  - id: compare
    type: pairwise
    text: Which matters more to you?
    ideas:
      - {{id: nurse, text: A named nurse for each patient}}
      - {{id: texts, text: Text messages when the nurse is on the way}}
      - {{id: line, text: An out of hours phone line}}
  - id: views
    type: statements
    text: What do you think?
    statements:
      - {{id: s0, text: Visits should be at a set time}}
      - {{id: s1, text: Any nurse soon beats my own nurse later}}
      - {{id: s2, text: Carers are not given enough information}}
      - {{id: s3, text: Video calls are fine for a check-up}}
      - {{id: s4, text: Staff spend too long on paperwork}}
      - {{id: s5, text: Evening visits would help}}
  - id: done
    type: end
    text: Thank you.
"""
LATER_YAML = f"""\
flow: later
steps:
  - id: rate
    type: delphi
    delphi: community
    round: 2
{DELPHI_ITEMS}  - id: done
    type: end
    text: Thank you.
"""


def labels_study(root: Path) -> Path:
    """A study whose codes differ from the words participants saw: Delphi items, rank options,
    ideas and statements, and a Delphi step ('rate') in two flows."""
    folder = root / "labels"
    folder.mkdir()
    for name, text in (("study.yaml", STUDY_YAML), ("panel.yaml", PANEL_YAML), ("later.yaml", LATER_YAML)):
        (folder / name).write_text(text, encoding="utf-8")
    return folder


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path, studies=labels_study(tmp_path)) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        yield made


def _row(pid: str, flow: str, version: int, step: str, value: Any, item: str | None = None) -> dict[str, Any]:
    return {"participant_id": pid, "study_id": STUDY, "flow_id": flow, "flow_version_id": version, "flow_version": "v",
            "step_id": step, "value": value, "display": str(value), "item": item}


def _participant_rows(pid: str, n: int, panel: int, later: int) -> list[dict[str, Any]]:
    """One participant's answers: Delphi rounds 1 and 2, a ranking, three comparisons, six votes (two camps)."""
    rows = [_row(pid, flow, version, "rate", {"delphi": "community", "round": round, "score": 7 + (n + round) % 3}, item)
            for flow, version, round in (("panel", panel, 1), ("later", later, 2)) for item in ("wait", "phone")]
    rows.append(_row(pid, "panel", panel, "first", ["waits", "phone", "carers"] if n % 3 else ["phone", "waits", "carers"]))
    rows += [_row(pid, "panel", panel, "compare", {"winner": w, "loser": lo, "tie": tie}, f"{w} vs {lo}")
             for w, lo, tie in (("nurse", "texts", False), ("texts", "line", False), ("nurse", "line", True))]
    camp = n % 2
    rows += [_row(pid, "panel", panel, "views", 1 if (s < 3) == bool(camp) else -1, f"s{s}") for s in range(6)]
    return rows


def _seed(desk: Desk) -> None:
    registry = desk.app.state.chorus.studies
    panel, later = registry.current(STUDY, "panel").id, registry.current(STUDY, "later").id
    rows = []
    for n in range(12):
        pid, _ = desk.join(STUDY, "patient" if n % 2 else "staff", flow="panel")
        rows += _participant_rows(pid, n, panel, later)
    add_answers(desk.database, rows)


def _refused(desk: Desk, path: str, status: int = 404, /, **params: Any) -> str:
    response = desk.client.get(f"/api/v1/studies/{STUDY}{path}", params=params)
    assert response.status_code == status, response.text
    detail = response.json()["detail"]
    assert isinstance(detail, str), "the API's error shape: {'detail': '...'}"
    return detail


# ----------------------------------------------------------------------------- Delphi rounds and items


def test_a_delphi_chart_of_a_round_that_does_not_exist_names_the_rounds_there_are(desk: Desk) -> None:
    _seed(desk)
    for params in ({"round": 5}, {"round": 5, "item": "wait"}):
        detail = _refused(desk, "/charts/delphi", **params)
        assert detail == "no Delphi round 5; the rounds so far: 1, 2"
    assert _refused(desk, "/charts/delphi", 400, round=2) == "name an item with item=...; round 2's items: wait, phone"
    detail = _refused(desk, "/charts/delphi", round=1, item="nosuch")
    assert detail == "no Delphi item 'nosuch' in round 1; round 1's items: wait, phone"


def test_a_delphi_chart_limited_to_one_flow_has_only_that_flow_s_round(desk: Desk) -> None:
    _seed(desk)
    chart = desk.client.get(f"/api/v1/studies/{STUDY}/charts/delphi", params={"flow": "later", "item": "wait", "round": 2})
    assert chart.status_code == 200 and "Waiting for a visit, round 2" in chart.text
    assert _refused(desk, "/charts/delphi", flow="later", item="wait", round=1) == "no Delphi round 1; the rounds so far: 2"


def test_a_delphi_item_missing_from_a_later_round_says_which_rounds_rated_it(desk: Desk) -> None:
    _seed(desk)
    registry = desk.app.state.chorus.studies
    pid, _ = desk.join(STUDY, "staff", flow="panel")
    extra = _row(pid, "panel", registry.current(STUDY, "panel").id, "rate", {"delphi": "community", "round": 1, "score": 8}, "extra")
    add_answers(desk.database, [extra])
    detail = _refused(desk, "/charts/delphi", round=2, item="extra")
    assert detail == "no Delphi item 'extra' in round 2 (it was rated in round 1); round 2's items: wait, phone"


# ----------------------------------------------------------------------------- steps, flows and groups


@pytest.mark.parametrize(("kind", "params", "expected"), [
    ("pairwise", {"step": "nope"}, "no pairwise step 'nope' in study 'labels'; its pairwise steps: compare"),
    ("ranking", {"step": "nope"}, "no rank step 'nope' in study 'labels'; its rank steps: first"),
    ("delphi", {"step": "nope", "item": "wait"}, "no Delphi step 'nope' in study 'labels'; its Delphi steps: rate"),
    ("choice", {"step": "nope"}, "no choice experiment step 'nope' in study 'labels'; it has no choice experiment steps"),
    ("results", {"step": "nope"}, "no question step 'nope' in study 'labels'; its question steps: rate, first, compare, views"),
    ("spc", {"step": "nope"}, "no numeric or yes/no step 'nope' in study 'labels'; it has no numeric or yes/no steps"),
    ("pairwise", {"step": "first"},
     "no pairwise step 'first' in study 'labels' (it is a rank step); its pairwise steps: compare"),
    ("ranking", {"step": "first", "flow": "later"}, "no rank step 'first' in flow 'later'; it has no rank steps"),
])
def test_a_chart_of_a_step_the_study_has_not_got_names_its_steps_of_that_kind(
        desk: Desk, kind: str, params: dict[str, str], expected: str) -> None:
    assert _refused(desk, f"/charts/{kind}", **params) == expected


def test_a_chart_of_a_step_it_has_is_drawn_from_that_step_once_it_has_answers(desk: Desk) -> None:
    assert _refused(desk, "/charts/results", step="first") == "no answers yet to step 'first' of flow 'panel'"
    _seed(desk)
    for kind, step in (("pairwise", "compare"), ("ranking", "first"), ("results", "first")):
        response = desk.client.get(f"/api/v1/studies/{STUDY}/charts/{kind}", params={"step": step, "flow": "panel"})
        assert response.status_code == 200, response.text


def test_a_chart_must_say_which_flow_or_step_when_it_needs_one(desk: Desk) -> None:
    assert _refused(desk, "/charts/funnel", 400) == "name a flow with flow=...; the study's flows: panel, later"
    assert _refused(desk, "/charts/funnel", flow="nope") == "no flow 'nope' in study 'labels'; its flows: panel, later"
    assert _refused(desk, "/charts/results", 400) == "name a question step with step=...; the study's question steps: rate, first, compare, views"
    detail = _refused(desk, "/charts/results", 400, step="rate")
    assert detail == "step 'rate' is in several flows (panel, later): name one with flow=..."


def test_a_chart_refuses_a_parameter_it_would_ignore(desk: Desk) -> None:
    detail = _refused(desk, "/charts/funnel", 400, flow="panel", step="first")
    assert detail == "a funnel chart shows a whole flow: name it with flow=..., without step=..."
    assert _refused(desk, "/charts/ranking", 400, item="waits") == "only Delphi charts take item=...; a ranking chart does not"
    detail = _refused(desk, "/charts/delphi", 400, item="wait", group="staff")
    assert detail == "only ranking and pairwise charts take group=...; a delphi chart shows every group"


def test_a_chart_of_a_group_the_results_have_not_got_names_their_groups(desk: Desk) -> None:
    _seed(desk)
    detail = _refused(desk, "/charts/ranking", group="nobody")
    assert detail == "no group 'nobody' in the ranking results; their groups: all, patient, staff"
    assert _refused(desk, "/charts/pairwise", group="nobody").startswith("no group 'nobody' in the pairwise results")


# ----------------------------------------------------------------------------- the answers list


def test_answers_of_a_step_or_flow_the_study_has_not_got_are_a_404_naming_those_it_has(desk: Desk) -> None:
    _seed(desk)
    assert _refused(desk, "/answers", step="nope") == "no step 'nope' in study 'labels'; its steps: rate, first, compare, views, done"
    assert _refused(desk, "/answers", flow="nope") == "no flow 'nope' in study 'labels'; its flows: panel, later"
    assert _refused(desk, "/answers", flow="later", step="first") == "no step 'first' in flow 'later'; its steps: rate, done"
    found = desk.client.get(f"/api/v1/studies/{STUDY}/answers", params={"step": "first", "flow": "panel"})
    assert found.status_code == 200 and {a["step"] for a in found.json()["items"]} == {"first"}
    assert len(found.json()["items"]) == 12


# ----------------------------------------------------------------------------- labels


def test_reports_and_charts_show_the_words_participants_saw_and_keep_the_codes(desk: Desk) -> None:
    _seed(desk)
    ranking = desk.client.get(f"/api/v1/studies/{STUDY}/reports/ranking").json()["report"]["options"]
    assert {(o["option"], o["label"]) for o in ranking if o["group"] == "all"} == {
        ("waits", "Waiting for a visit"), ("phone", "Getting through by phone"), ("carers", "Support for carers")}
    pairwise = desk.client.get(f"/api/v1/studies/{STUDY}/reports/pairwise").json()["report"]["groups"]["all"]
    assert {s["item"]: s["label"] for s in pairwise}["texts"] == "Text messages when the nurse is on the way"
    chart = desk.client.get(f"/api/v1/studies/{STUDY}/charts/ranking").text
    assert ">Waiting for a visit<title>Waiting for a visit (code: waits)</title>" in chart
    assert ">waits<" not in chart


def test_the_desk_pages_show_labels_and_human_headings(desk: Desk) -> None:
    _seed(desk)
    token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
    desk.client.post("/login", data={"token": token})
    ranking = desk.client.get(f"/dashboard/studies/{STUDY}/ranking").text
    assert '<td title="code: waits">Waiting for a visit</td>' in ranking and "<h2>Patients and carers</h2>" in ranking
    pairwise = desk.client.get(f"/dashboard/studies/{STUDY}/pairwise").text
    assert '<td title="code: nurse">A named nurse for each patient</td>' in pairwise
    statements = desk.client.get(f"/dashboard/studies/{STUDY}/statements").text
    assert '<td title="code: s2">Carers are not given enough information</td>' in statements
    for heading in ("This group tends to", "Votes that way", "Compared with the others", "Evidence: share (z)"):
        assert f'<th scope="col">{heading}</th>' in statements
    for column in ("repful_for", "n_success", "p_success", "repness_test", ">index<"):
        assert column not in statements


def test_a_long_label_is_cut_short_in_a_chart_and_given_in_full_with_its_code_in_its_tooltip() -> None:
    label = "A very long idea that a participant read in full, far longer than the label column, longer than two of its lines"
    drawn = svg(Intervals("Ideas", [(label, 1.0, 0.5, 1.5), ("Short", 0.0, -0.5, 0.5)], codes=["long-idea", "Short"]))
    assert f"<title>{label} (code: long-idea)</title>" in drawn
    assert ">A very long idea that a participant read in</tspan>" in drawn, "wrapped onto a second line first"
    assert ">full, far longer than the label column, lon…</tspan><title>" in drawn, "and only then cut short"
    assert "<title>Short</title>" in drawn, "no code in the tooltip when it is the label itself"


# ----------------------------------------------------------------------------- chorus token create


def test_a_token_for_an_unknown_study_is_refused_naming_the_known_ones(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    folder = two_studies(tmp_path)
    database = init_database(url)
    StudyRegistry.from_folder(Path(__file__).resolve().parent.parent / "flows" / "examples" / "priorities").publish(
        database, datetime.now(UTC))
    runner = CliRunner()

    def create(*studies: str) -> Any:
        options = [a for s in studies for a in ("--study", s)]
        return runner.invoke(cli, ["token", "create", *options, "--studies", str(folder), "--database", url])

    refused = create("ae-waiting", "nosuch")
    assert refused.exit_code == 1
    lines = refused.output.strip().splitlines()
    assert lines == [f"Error: no study 'nosuch' in {folder} or the database; known studies: "
                     "ae-waiting, other-study, priorities (or '*' for every study)"]
    assert create("ae-waiting", "priorities").exit_code == 0, "a study published to the database is known"
    assert create("*").exit_code == 0
    user = runner.invoke(cli, ["user", "create", "Ana", "--study", "typo", "--studies", str(folder), "--database", url])
    assert user.exit_code == 1 and "no study 'typo'" in user.output
    assert [t.studies for t in list_tokens(database)] == [("ae-waiting", "priorities"), ("*",)]
    database.dispose()
