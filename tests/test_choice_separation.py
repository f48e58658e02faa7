"""A choice experiment where the answers cannot estimate a coefficient (nobody chose
"Neither"; a level never picked over an option without it; the shortest wait always won)
says so in words on the desk, in `chorus report` and in `chorus analyse dce`, leaves that
coefficient out of the chart, and keeps the other estimates right: those of the model
without the options nobody could choose, the limit of the maximum-likelihood fit. Published
results (Swissmetro, Heating) are untouched."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from sqlmodel import select

from bot.api.figures import choice_chart
from bot.api.methods import choice_report
from bot.charts import svg
from bot.cli import cli
from bot.report import ReportInput, write_report
from flows.analysis.mnl import fit_mnl
from flows.loader import load_flow
from flows.population import ItemRecord
from flows.steps.choice_experiment import LETTERS, ChoiceExperimentStep
from tests.desk_helpers import Desk, add_answers, desk_app
from tests.test_mnl import SWISSMETRO_FEATURES, heating_long, swissmetro_long

TRUTH = {"wait": -0.5, "who[own nurse]": 0.8}
FLOW = """\
flow: choices
steps:
  - id: appointment
    type: choice_experiment
    text: Which would you choose?
    attributes:
      wait: {levels: [1, 2, 4]}
      who: [any nurse, own nurse]
      where: [clinic, home, phone]
    opt_out: true
    tasks: 6
    blocks: 1
  - id: done
    type: end
    text: Thank you.
"""


def _sets(n_sets: int, seed: int = 5) -> pd.DataFrame:
    """Choice sets of two options and Neither, chosen by random utility, never Neither."""
    rng = np.random.default_rng(seed)
    rows = []
    for s in range(n_sets):
        wait, own = rng.choice([1.0, 2.0, 4.0], 2), rng.integers(0, 2, 2).astype(float)
        utility = TRUTH["wait"] * wait + TRUTH["who[own nurse]"] * own + rng.gumbel(size=2)
        best = int(np.argmax(utility))
        rows += [{"set": s, "alt": j, "chosen": int(j == best), "wait": wait[j], "who[own nurse]": own[j], "opt_out": 0.0}
                 for j in range(2)]
        rows.append({"set": s, "alt": 9, "chosen": 0, "wait": 0.0, "who[own nurse]": 0.0, "opt_out": 1.0})
    return pd.DataFrame(rows)


def test_nobody_choosing_neither_leaves_its_constant_out_and_the_rest_as_without_it() -> None:
    data = _sets(300)
    features = ["wait", "who[own nurse]", "opt_out"]
    result = fit_mnl(data, choice_set="set", chosen="chosen", features=features)
    assert [u.feature for u in result.unidentified] == ["opt_out"]
    assert result.unidentified[0].direction == -1
    assert result.unidentified[0].reason == "nobody chose Neither: its constant cannot be estimated"
    assert result.features == ("wait", "who[own nurse]")

    shown = fit_mnl(data[data["opt_out"] == 0], choice_set="set", chosen="chosen", features=features[:2])
    assert result.estimates == pytest.approx(shown.estimates, rel=1e-8)
    assert result.standard_errors == pytest.approx(shown.standard_errors, rel=1e-6)
    assert result.log_likelihood == pytest.approx(shown.log_likelihood)
    for name, truth in TRUTH.items():
        assert abs(result.coefficient(name) - truth) < 3 * result.se(name), name
    assert np.all(result.standard_errors < 1), "every standard error is finite and small"
    assert result.n_choice_sets == 300


def test_a_level_never_chosen_and_an_always_shortest_wait_are_named_in_words() -> None:
    data = _sets(120).query("alt != 9").reset_index(drop=True)
    rng = np.random.default_rng(2)
    data["who[pharmacist]"] = np.where(data["chosen"] == 1, 0.0, rng.integers(0, 2, len(data)).astype(float))
    result = fit_mnl(data, choice_set="set", chosen="chosen", features=["wait", "who[own nurse]", "who[pharmacist]"])
    assert [u.reason for u in result.unidentified] == [
        "an option with who 'pharmacist' was never chosen over one without it: its coefficient cannot be estimated"]
    assert "who[pharmacist]" not in result.features and np.all(np.isfinite(result.standard_errors))

    shortest = data.assign(chosen=(data["wait"] == data.groupby("set")["wait"].transform("min")).astype(int))
    shortest = shortest[shortest.groupby("set")["chosen"].transform("sum") == 1]  # no ties for the shortest
    found = fit_mnl(shortest, choice_set="set", chosen="chosen", features=["wait", "who[own nurse]"])
    assert [u.reason for u in found.unidentified] == [
        "the option with the lowest wait was always chosen: its coefficient cannot be estimated",
        "the choices not already decided by wait never differ in who 'own nurse': its coefficient cannot be estimated"]
    assert found.features == () and found.log_likelihood == 0.0, "every choice is accounted for"


def test_features_that_separate_the_choices_only_together_are_found() -> None:
    rng = np.random.default_rng(4)
    rows = []
    for s in range(80):
        a, b, c = rng.integers(0, 3, 3).astype(float), rng.integers(0, 3, 3).astype(float), rng.normal(size=3)
        gap = a - b + 1e-6 * rng.normal(size=3)  # a - b always favours the option chosen
        rows += [{"set": s, "chosen": int(j == int(np.argmax(gap))), "a": a[j], "b": b[j], "c": c[j]} for j in range(3)]
    result = fit_mnl(pd.DataFrame(rows), choice_set="set", chosen="chosen", features=["a", "b", "c"])
    assert {u.feature for u in result.unidentified} == {"a", "b"}
    assert {u.direction for u in result.unidentified if u.feature == "a"} == {1}
    assert result.unidentified[0].reason == "the choices are predicted perfectly by a and b together: their coefficients cannot be estimated"
    assert result.features == ("c",) and np.isfinite(result.se("c"))


def test_published_results_have_nothing_left_out(reference_dir: Path) -> None:
    swissmetro = fit_mnl(swissmetro_long(reference_dir), choice_set="choice_set", chosen="chosen", features=SWISSMETRO_FEATURES)
    assert swissmetro.unidentified == () and swissmetro.features == tuple(SWISSMETRO_FEATURES)
    assert round(swissmetro.coefficient("B_TIME"), 4) == -1.2779 and round(swissmetro.se("B_COST"), 4) == 0.0518
    heating = fit_mnl(heating_long(reference_dir), choice_set="idcase", chosen="chosen", features=["ic", "oc"])
    assert heating.unidentified == () and round(heating.coefficient("ic"), 6) == -0.006232


# ----------------------------------------------------------------------------- the desk, chorus report, chorus analyse dce


def _answers(data: pd.DataFrame) -> list[dict[str, Any]]:
    """The choice sets as the desk reads choice-task answers."""
    found = []
    for _, part in data.groupby("set", sort=True):
        shown = part[part["alt"] != 9]
        alternatives = [{"wait": float(wait), "who": "own nurse" if own else "any nurse"}
                        for wait, own in zip(shown["wait"], shown["who[own nurse]"], strict=True)]
        chosen = int(np.flatnonzero(shown["chosen"].to_numpy())[0]) + 1
        found.append({"alternatives": alternatives, "chosen": chosen, "opt_out": True})
    return found


def test_the_desk_report_names_what_it_left_out_and_its_chart_keeps_to_the_real_estimates() -> None:
    values = _answers(_sets(40))
    frame = pd.DataFrame([{"type": "choice_experiment", "group": "patient", "value": v} for v in values])
    report = choice_report(frame)
    assert [c["feature"] for c in report["coefficients"]] == ["wait", "who[own nurse]"]
    assert [n["feature"] for n in report["not_estimated"]] == ["optout"]
    assert report["notes"] == ["nobody chose Neither: its constant cannot be estimated"]
    assert all(abs(c["low"]) < 10 and abs(c["high"]) < 10 for c in report["coefficients"])
    assert {t["feature"] for t in report["trade_offs"]} == {"who[own nurse]"}
    drawn = svg(choice_chart(report["coefficients"]))
    described = re.search(r"<desc[^>]*>(.*?)</desc>", drawn)
    assert described is not None and "optout" not in drawn
    ends = [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?", described.group(1))]
    assert max(map(abs, ends)) < 10, "the axis spans the real estimates, not +-400,000"


def _records(step: ChoiceExperimentStep, people: int) -> list[ItemRecord]:
    """Every participant's tasks, chosen by utility from the options shown; nobody picks Neither."""
    rng = np.random.default_rng(8)
    records = []
    for n in range(people):
        for task in range(step.tasks):
            profiles = step.profiles(task)
            utility = [TRUTH["wait"] * p["wait"] + TRUTH["who[own nurse]"] * (p["who"] == "own nurse") for p in profiles]
            picked = int(np.argmax(np.array(utility) + rng.gumbel(size=len(profiles))))
            value = {"block": 1, "task": task + 1, "choice": LETTERS[picked], "chosen": picked + 1,
                     "alternatives": profiles, "opt_out": True}
            records.append(ItemRecord(f"p-{n}", "patient", "appointment", f"task{task + 1}", value))
    return records


def test_chorus_report_says_why_a_coefficient_is_missing(tmp_path: Path) -> None:
    (tmp_path / "choices.yaml").write_text(FLOW, encoding="utf-8")
    step = load_flow(tmp_path / "choices.yaml").flow.step("appointment")
    assert isinstance(step, ChoiceExperimentStep)
    written = {p.name: p for p in write_report(ReportInput("appointments", {"appointment": step}, _records(step, 30)), tmp_path / "out")}
    estimates = pd.read_csv(written["choice_experiment-appointment-estimates.csv"], keep_default_na=False)
    left = estimates.set_index("feature").loc["opt_out"]
    assert left["estimate"] == "" and left["note"] == "nobody chose Neither: its constant cannot be estimated"
    kept = estimates[estimates["feature"] != "opt_out"]
    assert kept["note"].eq("").all() and (kept["se"].astype(float) < 5).all()
    notes = written["choice_experiment-appointment-notes.md"].read_text(encoding="utf-8")
    assert "- nobody chose Neither: its constant cannot be estimated." in notes
    chart = written["choice_experiment-appointment-estimates.svg"].read_text(encoding="utf-8")
    assert "opt_out" not in chart


def test_chorus_analyse_dce_prints_what_it_could_not_estimate(tmp_path: Path) -> None:
    csv = tmp_path / "choices.csv"
    _sets(60).to_csv(csv, index=False)
    args = ["analyse", "dce", "--data", str(csv), "--choice-set", "set", "--alternative", "alt", "--chosen", "chosen",
            "--features", "wait,who[own nurse],opt_out"]
    table = CliRunner().invoke(cli, args)
    assert table.exit_code == 0, table.output
    assert re.search(r"^opt_out\s+not estimated", table.output, re.M)
    assert "- nobody chose Neither: its constant cannot be estimated" in table.output
    output = json.loads(CliRunner().invoke(cli, [*args, "--format", "json"]).output)
    assert set(output["coefficients"]) == {"wait", "who[own nurse]"}
    assert [n["feature"] for n in output["not_estimated"]] == ["opt_out"] and output["notes"]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token()})
        yield made


def test_the_desks_choice_page_says_so_plainly(desk: Desk) -> None:
    from storage.tables import FlowVersion

    rows = []
    for n, value in enumerate(_answers(_sets(24))):
        pid, version = desk.join("ae-waiting", "patient")
        rows.append({"participant_id": pid, "study_id": "ae-waiting", "flow_id": "understand", "flow_version_id": version,
                     "flow_version": "v", "step_id": "dce", "item": f"task{n}", "value": value})
    add_answers(desk.database, rows)
    with desk.database.session() as session:
        for flow in session.exec(select(FlowVersion).where(FlowVersion.study_id == "ae-waiting")).all():
            flow.content = {**flow.content, "steps": [*flow.content["steps"], {"id": "dce", "type": "choice_experiment"}]}
    page = desk.client.get("/dashboard/studies/ae-waiting/choice")
    assert page.status_code == 200
    assert "nobody chose Neither: its constant cannot be estimated" in page.text
    table = re.search(r"<tbody>(.*?)</tbody>", page.text, re.S)
    assert table is not None and "optout" not in table.group(1) and "wait" in table.group(1)
