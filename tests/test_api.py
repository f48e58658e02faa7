"""The desk's REST API: studies, paging, reports from stored answers, flows, alerts,
exports with progress, charts, and the audit of participant-level views."""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from sqlmodel import select

from nlp.themes import Theme, ThemeResult
from storage.tables import AuditEvent
from tests.desk_helpers import Desk, add_answers, add_flag, add_held, delphi_rows, desk_app

STUDY = "ae-waiting"


def fake_themes(texts: list[tuple[str, str, str | None]]) -> ThemeResult:
    """Stands in for the language model: one theme holding every answer."""
    return ThemeResult([Theme(1, "cold / waiting", ["cold", "waiting"], len(texts), [texts[0][1]], [t[0] for t in texts],
                              quote_counts=[len(texts)])],
                       {t[0]: 1 for t in texts})


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path, theme_finder=fake_themes) as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        yield made


def get(desk: Desk, path: str, **params: Any) -> Any:
    response = desk.client.get(f"/api/v1{path}", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def answer(pid: str, version: int, step: str, value: Any, when: datetime | None = None, **extra: Any) -> dict[str, Any]:
    return {"participant_id": pid, "study_id": STUDY, "flow_id": "understand", "flow_version_id": version,
            "flow_version": "v", "step_id": step, "value": value, "display": str(value),
            "answered_at": when or datetime.now(UTC), **extra}


def test_pages_of_participants_cover_everyone_once_and_bad_cursors_are_refused(desk: Desk) -> None:
    joined = {desk.join(STUDY, group)[0] for group in ("patient", "carer", "staff", "patient", "carer")}
    seen: list[str] = []
    cursor = None
    for _ in range(5):
        page = get(desk, f"/studies/{STUDY}/participants", limit=2, **({"cursor": cursor} if cursor else {}))
        seen += [p["participant"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert sorted(seen) == sorted(joined) and len(seen) == 5
    assert all(p.startswith("p-") for p in seen)
    for bad in ("nonsense", "aWQ6LTE", "!!!"):
        assert desk.client.get(f"/api/v1/studies/{STUDY}/participants", params={"cursor": bad}).status_code == 422
    overview = get(desk, f"/studies/{STUDY}")
    assert overview["participants"] == 5 and overview["by_group"] == {"carer": 2, "patient": 2, "staff": 1}
    assert overview["by_channel"] == {"web": 5}


def test_viewing_participants_and_answers_is_audited_with_who_looked(desk: Desk) -> None:
    pid, version = desk.join(STUDY)
    add_answers(desk.database, [answer(pid, version, "visits", 3)])
    assert get(desk, f"/studies/{STUDY}/answers")["items"][0]["value"] == 3
    get(desk, f"/studies/{STUDY}/participants")
    with desk.database.reading() as session:
        events = session.exec(select(AuditEvent).where(AuditEvent.action.startswith("viewed_"))).all()  # type: ignore[attr-defined]
    assert {e.action for e in events} == {"viewed_answers", "viewed_participants"}
    assert all(e.actor.startswith("token:") and e.subject == STUDY for e in events)


def _delphi_panel(desk: Desk) -> None:
    round1_a = [9, 9, 8, 7, 7, 8, 7, 3, 5, 6]
    round2_b = [1, 1, 1, 2, 2, 3, 3, 3, 5, 5]
    for n in range(10):
        group = "patient" if n < 5 else "staff"
        pid, version = desk.join(STUDY, group)
        add_answers(desk.database, delphi_rows(pid, group, STUDY, version, 1, {"A": round1_a[n], "B": 5}))
        add_answers(desk.database, delphi_rows(pid, group, STUDY, version, 2, {"A": 8, "B": round2_b[n]}))


def test_the_delphi_report_gives_medians_bands_consensus_and_movement(desk: Desk) -> None:
    _delphi_panel(desk)
    report = get(desk, f"/studies/{STUDY}/reports/delphi")["report"]
    assert report["rounds"] == [1, 2]
    rows = {(r["item"], r["round"], r["group"]): r for r in report["items"]}
    a1 = rows[("A", 1, "all")]
    assert (a1["n"], a1["median"], a1["pct_high"], a1["pct_low"], a1["consensus"]) == (10, 7.0, 70.0, 10.0, "in")
    assert rows[("A", 1, "patient")]["pct_high"] == 100.0 and rows[("A", 1, "staff")]["pct_high"] == 40.0
    assert rows[("B", 1, "all")]["consensus"] == "none" and rows[("B", 2, "all")]["consensus"] == "out"
    assert rows[("B", 2, "all")]["counts"] == [3, 2, 3, 0, 2, 0, 0, 0, 0]
    moved = {(m["item"], m["group"]): m for m in report["movement"] if m["round"] == 2}
    assert moved[("B", "all")]["median_shift"] == -2.5 and moved[("B", "all")]["n_paired"] == 10
    chart = desk.client.get(f"/api/v1/studies/{STUDY}/charts/delphi", params={"item": "A", "round": 1})
    assert chart.headers["content-type"].startswith("image/svg+xml") and "A, round 1: median 7" in chart.text
    png = desk.client.get(f"/api/v1/studies/{STUDY}/charts/delphi", params={"item": "A", "round": 2, "format": "png"})
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"
    assert desk.client.get(f"/api/v1/studies/{STUDY}/charts/delphi", params={"item": "Z"}).status_code == 404


def _seed_methods(desk: Desk) -> None:
    rows = []
    for n in range(12):
        pid, version = desk.join(STUDY, "patient" if n % 2 else "carer")
        rows.append(answer(pid, version, "matters", ["a", "b", "c"] if n % 3 else ["b", "a", "c"]))
        rows += [answer(pid, version, "pairwise", {"winner": "x", "loser": "y", "tie": False}, item="x vs y"),
                 answer(pid, version, "pairwise", {"winner": "y", "loser": "z", "tie": False}, item="y vs z"),
                 answer(pid, version, "pairwise", {"winner": "x", "loser": "z", "tie": True}, item="x vs z")]
        for task in range(4):
            waits = (1 + (task + n) % 3, 1 + (2 * task + n + 1) % 4)
            modes = ("video", "in person") if (task + n) % 2 else ("in person", "video")
            shorter = 0 if waits[0] <= waits[1] else 1
            chosen = shorter if (task + n) % 5 else 1 - shorter  # mostly the shorter wait
            alternatives = [{"wait": w, "mode": m} for w, m in zip(waits, modes, strict=True)]
            value = {"task": task + 1, "choice": "AB"[chosen], "chosen": chosen + 1, "alternatives": alternatives}
            rows.append(answer(pid, version, "dce", value, item=f"task{task + 1}"))
        camp = n % 2
        for s in range(6):
            vote = 0 if (n, s) in ((0, 0), (1, 5)) else 1 if (s < 3) == bool(camp) else -1  # two camps, two passes
            rows.append(answer(pid, version, "statements", vote, item=f"s{s}"))
    types = {"matters": "rank", "pairwise": "pairwise", "dce": "choice_experiment", "statements": "statements"}
    add_answers(desk.database, rows)
    _retype(desk, types)


def test_rankings_pairwise_choices_and_statements_are_analysed_from_answers(desk: Desk) -> None:
    _seed_methods(desk)
    ranking = get(desk, f"/studies/{STUDY}/reports/ranking")["report"]["options"]
    assert [o["option"] for o in ranking if o["group"] == "all"] == ["a", "b", "c"]
    pairwise = get(desk, f"/studies/{STUDY}/reports/pairwise")["report"]["groups"]["all"]
    assert [s["item"] for s in pairwise] == ["x", "y", "z"] and pairwise[0]["low"] < pairwise[0]["score"] < pairwise[0]["high"]
    choice = get(desk, f"/studies/{STUDY}/reports/choice")["report"]
    wait = next(c for c in choice["coefficients"] if c["feature"] == "wait")
    assert choice["n_choice_sets"] == 48 and wait["estimate"] < 0
    assert set(choice["importance"]) == {"wait", "mode"} and {t["against"] for t in choice["trade_offs"]} == {"wait"}
    statements = get(desk, f"/studies/{STUDY}/reports/statements")["report"]
    assert sorted(g["size"] for g in statements["groups"]) == [6, 6]


def _retype(desk: Desk, types: dict[str, str]) -> None:
    """Give the test's many-item steps their step types in the published flow version."""
    from storage.tables import FlowVersion

    with desk.database.session() as session:
        for version in session.exec(select(FlowVersion).where(FlowVersion.study_id == STUDY)).all():
            steps = [*version.content["steps"], *({"id": step, "type": kind} for step, kind in types.items())]
            version.content = {**version.content, "steps": steps}


def test_results_per_step_split_by_group_and_the_funnel_counts_drop_off(desk: Desk) -> None:
    for group, role in (("patient", "patient"), ("carer", "carer"), ("patient", "patient")):
        pid, version = desk.join(STUDY, group)
        add_answers(desk.database, [answer(pid, version, "consent", True), answer(pid, version, "role", role)])
    results = {r["step"]: r for r in get(desk, f"/studies/{STUDY}/reports/results")["report"]}
    roles = {v["value"]: v["counts"] for v in results["role"]["values"]}
    assert roles["patient"] == {"all": 2, "patient": 2} and roles["carer"] == {"all": 1, "carer": 1}
    funnel = next(f for f in get(desk, f"/studies/{STUDY}")["funnel"] if f["flow"] == "understand")
    steps = {s["step"]: s for s in funnel["steps"]}
    assert steps["(started)"]["reached"] == 3 and steps["role"]["reached"] == 3
    assert steps["visits"]["reached"] == 0 and steps["visits"]["drop_off"] == 0, "nobody was asked it yet"
    assert steps["consent"]["drop_off"] == steps["consent"]["waiting"] == 3, "their sessions still wait at consent"


def test_results_list_a_step_s_answers_in_its_own_order_with_the_ones_nobody_chose(desk: Desk) -> None:
    for score in (4, 1, 5, 4):
        pid, version = desk.join(STUDY, "patient")
        add_answers(desk.database, [answer(pid, version, "informed", score), answer(pid, version, "role", "staff")])
    results = {r["step"]: r for r in get(desk, f"/studies/{STUDY}/reports/results")["report"]}
    informed = results["informed"]["values"]
    assert [v["value"] for v in informed] == ["1", "2", "3", "4", "5"], "lowest first, every point"
    assert [v["counts"].get("all", 0) for v in informed] == [1, 0, 0, 2, 1]
    assert [v["value"] for v in results["role"]["values"]] == ["patient", "carer", "staff"], "options as the flow lists them"


def test_measures_over_time_become_xmr_charts_with_special_causes(desk: Desk) -> None:
    pid, version = desk.join(STUDY)
    start = datetime(2025, 1, 6, 12, tzinfo=UTC)  # a Monday
    weekly = [2, 3, 2, 3, 2, 3, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5]
    add_answers(desk.database, [answer(pid, version, "informed", v, start + timedelta(weeks=w, hours=h))
                                for w, v in enumerate(weekly) for h in range(5)])  # (5 a week: enough to judge)
    measure = next(m for m in get(desk, f"/studies/{STUDY}/reports/spc")["report"] if m["step"] == "informed")
    assert measure["values"] == weekly and len(measure["periods"]) == 16 and measure["too_few"] is None
    assert measure["mean"] == pytest.approx(sum(weekly) / 16)
    assert measure["signals"]["shift"] == list(range(16)), "eight weeks below the mean, then eight above"
    assert measure["direction"] == ["low"] * 8 + ["high"] * 8
    svg = desk.client.get(f"/api/v1/studies/{STUDY}/charts/spc", params={"flow": "understand", "step": "informed"}).text
    assert svg.count('class="high"') == 8 and svg.count('class="low"') == 8
    add_answers(desk.database, [answer(pid, version, "informed", 1, start + timedelta(weeks=16))])  # a thin 17th week
    measure = next(m for m in get(desk, f"/studies/{STUDY}/reports/spc")["report"] if m["step"] == "informed")
    assert measure["too_few"] is None, "the typical week still has 5"


def test_validating_pasted_yaml_names_the_line_and_column(desk: Desk) -> None:
    broken = "flow: understand\nsteps:\n  - id: a\n    type: choise\n    text: Hi\n"
    result = desk.client.post(f"/api/v1/studies/{STUDY}/flows/validate", json={"yaml": broken}).json()
    assert not result["ok"] and result["file"] == "understand.yaml"
    problem = next(p for p in result["problems"] if "choise" in p["message"] or "type" in p["message"])
    assert (problem["line"], problem["column"]) == (4, 11)
    deployed = desk.client.post(f"/api/v1/studies/{STUDY}/flows/validate", json={}).json()
    assert deployed["ok"]


def test_publishing_a_new_version_leaves_running_sessions_on_theirs(desk: Desk, tmp_path: Path) -> None:
    desk.join(STUDY)
    original = (tmp_path / "studies" / STUDY / "understand.yaml").read_text(encoding="utf-8")
    changed = original.replace("Which best describes you?", "Which of these describes you best?")
    assert changed != original
    published = desk.client.post(f"/api/v1/studies/{STUDY}/flows/publish", json={"yaml": changed}).json()
    assert published["ok"] and {f["flow"] for f in published["flows"] if f["new"]} == {"understand"}
    versions = [v for v in get(desk, f"/studies/{STUDY}/flows")["versions"] if v["flow"] == "understand"]
    assert [v["live_sessions"] for v in versions] == [1, 0]
    new_pid, _ = desk.join(STUDY)
    versions = [v for v in get(desk, f"/studies/{STUDY}/flows")["versions"] if v["flow"] == "understand"]
    assert [v["live_sessions"] for v in versions] == [1, 1]
    sessions = get(desk, f"/studies/{STUDY}/sessions")["items"]
    assert next(s for s in sessions if s["participant"] == new_pid)["version"] == versions[1]["version"]
    refused = desk.client.post(f"/api/v1/studies/{STUDY}/flows/publish", json={"yaml": "flow: understand\nsteps: 3\n"})
    assert refused.status_code == 422, "refused as the desk refuses it"
    assert not refused.json()["ok"] and refused.json()["problems"] and refused.json()["flows"] == []


def test_alerts_are_acknowledged_and_held_messages_listed_with_their_reason(desk: Desk) -> None:
    pid, _ = desk.join(STUDY)
    flag = add_flag(desk.database, STUDY, pid, message="said they feel unsafe")
    add_held(desk.database, STUDY, pid, "quiet hours until 08:00")
    alerts = get(desk, f"/studies/{STUDY}/flags", open_only=True)["items"]
    assert [(a["id"], a["kind"]) for a in alerts] == [(flag, "safeguarding")]
    assert desk.client.post(f"/api/v1/studies/{STUDY}/flags/{flag}/acknowledge").json()["acknowledged"]
    assert get(desk, f"/studies/{STUDY}/flags", open_only=True)["items"] == []
    assert get(desk, f"/studies/{STUDY}/flags")["items"][0]["acknowledged_by"].startswith("token:")
    held = get(desk, f"/studies/{STUDY}/held")["items"]
    assert [(m["participant"], m["reason"]) for m in held] == [(pid, "quiet hours until 08:00")]


def test_an_export_job_reports_progress_and_yields_csv_parquet_and_a_dictionary(desk: Desk) -> None:
    pid, version = desk.join(STUDY, "carer")
    add_answers(desk.database, [answer(pid, version, "visits", 3), answer(pid, version, "story", "call me on 07700 900123")])
    job = desk.client.post(f"/api/v1/studies/{STUDY}/exports", json={"format": "both"})
    assert job.status_code == 202
    done = desk.app.state.desk.jobs.wait(job.json()["id"])
    status = get(desk, f"/jobs/{done.id}")
    assert status["status"] == "done" and status["progress"] == 1.0 and status["download"]
    archive = zipfile.ZipFile(io.BytesIO(desk.client.get(status["download"]).content))
    names = sorted(archive.namelist())
    assert names == sorted(f"{STUDY}-{n}" for n in ("answers.csv", "answers.parquet", "data-dictionary.csv", "data-dictionary.md"))
    csv = pd.read_csv(archive.open(f"{STUDY}-answers.csv"))
    parquet = pd.read_parquet(io.BytesIO(archive.read(f"{STUDY}-answers.parquet")))
    assert len(csv) == len(parquet) == 2
    assert str(parquet["answered_at"].dtype).startswith("datetime64") and parquet["skipped"].dtype == bool
    assert "07700" not in archive.read(f"{STUDY}-answers.csv").decode()
    single = desk.client.get(f"/api/v1/studies/{STUDY}/exports/data-dictionary.md")
    assert single.status_code == 200 and "# Data dictionary" in single.text


def test_themes_run_as_a_job_and_come_back_with_quotes(desk: Desk) -> None:
    for text in ("cold and nobody told us", "so cold in there", "waited all night cold"):
        pid, version = desk.join(STUDY)
        add_answers(desk.database, [answer(pid, version, "story", text)])
    job = desk.client.post(f"/api/v1/studies/{STUDY}/themes", params={"step": "story"}).json()
    desk.app.state.desk.jobs.wait(job["id"])
    result = get(desk, f"/jobs/{job['id']}")["result"]
    assert result["answers"] == 3 and result["themes"][0]["label"] == "cold / waiting"
    assert result["themes"][0]["quotes"] == ["cold and nobody told us"]
    assert result["themes"][0]["quote_counts"] == [3], "how many answers share each quote's words"


def test_the_openapi_docs_need_a_token_and_describe_bearer_auth(desk: Desk) -> None:
    schema = desk.client.get("/openapi.json").json()
    assert "/api/v1/studies/{study_id}/answers" in schema["paths"]
    assert not any(p.startswith("/dashboard") for p in schema["paths"])
    assert any(s.get("scheme") == "bearer" for s in schema["components"]["securitySchemes"].values())
    anonymous = desk.client.get("/openapi.json", headers={"Authorization": ""})
    assert anonymous.status_code == 401


def test_every_dashboard_page_renders_the_study_s_results(desk: Desk) -> None:
    _seed_methods(desk)
    _delphi_panel(desk)
    pid, _ = desk.join(STUDY)
    add_flag(desk.database, STUDY, pid, message="said they feel unsafe")
    add_held(desk.database, STUDY, pid, "outside the 24-hour window")
    token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
    desk.client.post("/login", data={"token": token})
    expected = {"": "Completion funnel", "/flows": "Versions in use", "/results": "Results per step",
                "/delphi": "consensus in", "/ranking": "Plackett-Luce", "/pairwise": "Bradley-Terry",
                "/choice": "Conditional logit", "/statements": "Opinion groups", "/themes": "Find themes",
                "/evaluation": "XmR", "/alerts": "said they feel unsafe", "/held": "outside the 24-hour window",
                "/exports": "Export CSV"}
    for path, text in expected.items():
        page = desk.client.get(f"/dashboard/studies/{STUDY}{path}")
        assert page.status_code == 200 and text in page.text, path
    assert "<svg" in desk.client.get(f"/dashboard/studies/{STUDY}/delphi?round=1").text
    choice = desk.client.get(f"/dashboard/studies/{STUDY}/choice").text
    assert "What matters most" in choice and "Willingness to trade" in choice and "Worth, in wait" in choice


def test_the_engine_s_own_many_item_answers_feed_every_method_page(tmp_path: Path) -> None:
    """The priorities example run by simulated participants (its golden conversations'
    inputs): Delphi rounds, ranking, pairwise, statements and choice tasks all reach the desk."""
    import uuid

    import yaml

    from channels.base import InboundMessage

    root = Path(__file__).resolve().parent.parent
    with desk_app(tmp_path, studies=root / "flows" / "examples" / "priorities") as desk:
        service = desk.app.state.chorus.service
        addresses = [f"sim-e2e-{n}" for n in range(4)]
        for n, address in enumerate(addresses):
            service.join("web", address, "priorities", group="patient" if n % 2 else "staff")
        for flow in ("round1", "round2", "ideas", "choices"):
            golden = yaml.safe_load((root / "tests" / "golden" / "priorities" / f"{flow}.yaml").read_text(encoding="utf-8"))
            conversations = [c["inputs"] for c in golden["conversations"]]
            for n, address in enumerate(addresses):
                if flow != "round1":  # the same people come back for the later flows
                    service.start_flow(service.participant_for("web", address), "priorities", flow)
                for text in conversations[n % len(conversations)]:
                    service.receive(InboundMessage("web", address, uuid.uuid4().hex, text))
        desk.client.headers["Authorization"] = f"Bearer {desk.token('analyst', ('priorities',))}"
        reports = {k: get(desk, f"/studies/priorities/reports/{k}")["report"]
                   for k in ("delphi", "ranking", "pairwise", "statements", "choice")}
        assert reports["delphi"]["rounds"] == [1, 2] and reports["delphi"]["movement"]
        assert {o["group"] for o in reports["ranking"]["options"]} >= {"all"}
        assert len(reports["pairwise"]["groups"]["all"]) >= 2
        assert reports["statements"]["consensus"]
        choice = reports["choice"]  # a handful of people may not identify the model: then it says why
        assert choice["n_choice_sets"] > 0 and (choice["coefficients"] or choice["error"])
        token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
        desk.client.post("/login", data={"token": token})
        for page in ("delphi", "ranking", "pairwise", "statements", "choice", "results", "evaluation", ""):
            assert desk.client.get(f"/dashboard/studies/priorities/{page}".rstrip("/")).status_code == 200, page
