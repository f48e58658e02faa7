"""A choice experiment's relative importance and willingness to trade (with delta-method
intervals) outside the desk: in `chorus analyse dce` and in `chorus report`'s CSVs, with
the same figures as the desk's `/reports/choice` and, where one is published, the
published figure."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.api.methods import choice_report
from bot.cli import cli
from bot.commands.report import register
from bot.service import ConversationService
from bot.studies import StudyRegistry
from flows.analysis.mnl import Z_95
from flows.loader import load_flow
from flows.steps.choice_experiment import LETTERS, ChoiceExperimentStep
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.desk_helpers import add_answers

HEATING_ALTERNATIVES = ["gc", "gr", "ec", "er", "hp"]
MLOGIT_OC_OVER_IC = 0.7349
"""Train and Croissant's mlogit exercise 1 (Heating, ic and oc without constants):
coef(oc) / coef(ic) = 0.7349, so one more dollar of annual operating cost is offset by
$0.7349 less installation cost."""


@pytest.fixture(scope="module")
def heating(reference_dir: Path) -> pd.DataFrame:
    wide = pd.read_csv(reference_dir / "dce" / "heating_wide.csv")
    return pd.concat(
        pd.DataFrame({"idcase": wide.idcase, "alt": alt, "chosen": (wide.depvar == alt).astype(int),
                      "ic": wide[f"ic.{alt}"], "oc": wide[f"oc.{alt}"], "region": wide.region})
        for alt in HEATING_ALTERNATIVES
    ).sort_values(["idcase", "alt"], kind="stable")


def heating_answers(heating: pd.DataFrame) -> pd.DataFrame:
    """The Heating choices as the desk reads choice-task answers: one per household."""
    rows = []
    for _, household in heating.groupby("idcase", sort=True):
        alternatives = [{"ic": float(r.ic), "oc": float(r.oc)} for r in household.itertuples()]
        chosen = int(np.flatnonzero(household["chosen"].to_numpy())[0]) + 1
        rows.append({"type": "choice_experiment", "group": "all", "value": {"alternatives": alternatives, "chosen": chosen}})
    return pd.DataFrame(rows)


def analyse(csv: Path, *extra: str) -> Any:
    args = ["analyse", "dce", "--data", str(csv), "--choice-set", "idcase", "--alternative", "alt",
            "--chosen", "chosen", "--features", "ic,oc", *extra]
    return CliRunner().invoke(cli, args)


def test_analyse_dce_gives_the_published_willingness_to_pay_and_the_desks_figures(heating: pd.DataFrame, tmp_path: Path) -> None:
    csv = tmp_path / "heating.csv"
    heating.to_csv(csv, index=False)
    run = analyse(csv, "--format", "json", "--group", "region")
    assert run.exit_code == 0, run.output
    output = json.loads(run.output)
    trade = {t["feature"]: t for t in output["trade_offs"]}
    assert set(trade) == {"oc"} and trade["oc"]["against"] == "ic", "traded against the first numeric feature"
    assert round(trade["oc"]["estimate"], 4) == -MLOGIT_OC_OVER_IC
    assert trade["oc"]["low"] == pytest.approx(trade["oc"]["estimate"] - Z_95 * trade["oc"]["se"])
    assert trade["oc"]["low"] < -MLOGIT_OC_OVER_IC < trade["oc"]["high"]

    desk = choice_report(heating_answers(heating))
    assert desk["n_choice_sets"] == output["n_choice_sets"] == 900
    assert output["importance"] == pytest.approx(desk["importance"], rel=1e-6)
    assert [output["importance"]["ic"], output["importance"]["oc"]] == pytest.approx([0.730, 0.270], abs=5e-4)
    desk_trade = desk["trade_offs"][0]
    for key in ("estimate", "se", "low", "high"):
        assert trade["oc"][key] == pytest.approx(desk_trade[key], rel=1e-6), key
    assert set(output["groups"]) == {"mountn", "ncostl", "scostl", "valley"}
    for group in output["groups"].values():
        assert set(group["importance"]) == {"ic", "oc"} and [t["feature"] for t in group["trade_offs"]] == ["oc"]


def test_analyse_dce_prints_importance_and_trade_offs_against_a_chosen_column(heating: pd.DataFrame, tmp_path: Path) -> None:
    csv = tmp_path / "heating.csv"
    heating.to_csv(csv, index=False)
    run = analyse(csv, "--against", "oc")
    assert run.exit_code == 0, run.output
    lines = run.output.splitlines()
    shares = lines[lines.index(next(line for line in lines if line.startswith("relative importance"))) + 1:][:2]
    assert [line.split() for line in shares] == [["ic", "73.0%"], ["oc", "27.0%"]], "largest share first"
    worth = next(line for line in lines if line.startswith("worth, in oc"))
    ic = lines[lines.index(worth) + 1].split()
    assert ic[0] == "ic" and float(ic[1]) == pytest.approx(-1 / MLOGIT_OC_OVER_IC, abs=5e-4)
    assert float(ic[3]) < float(ic[1]) < float(ic[5]) and ic[4] == "to"

    refused = analyse(csv, "--against", "price")
    assert refused.exit_code != 0 and "--against price" in refused.output and "ic, oc" in refused.output


# ----------------------------------------------------------------------------- chorus report and the desk

STUDY_YAML = """\
study: appointments
title: Appointments
languages: [en]
groups: [patient]
join:
  start_flow: choices
  keyword: APPOINT
"""
CHOICES_YAML = """\
flow: choices
steps:
  - id: appointment
    type: choice_experiment
    text: Which would you choose?
    attributes:
      wait: {levels: [1, 2, 4], labels: {1: 1 week, 2: 2 weeks, 4: 4 weeks}, better: lower}
      who: [any nurse, own nurse, pharmacist]
      how: [visit at home, phone call, video call]
    opt_out: true
    tasks: 6
    blocks: 2
  - id: done
    type: end
    text: Thank you.
"""
# The desk and `chorus report` both code each text attribute against the first level its flow
# lists ('visit at home' is not first in sorted order: the desk once took that).
TRUTH = {"wait": -0.4, "who[own nurse]": 0.5, "who[pharmacist]": -0.6, "how[phone call]": -0.3, "how[video call]": -0.2}
NEITHER = -0.5
PEOPLE = 250


def _utility(profile: dict[str, Any]) -> float:
    return TRUTH["wait"] * profile["wait"] + sum(TRUTH.get(f"{name}[{profile[name]}]", 0.0) for name in ("who", "how"))


def _choices(step: ChoiceExperimentStep, rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    """One participant's block of tasks, each chosen by random utility (Gumbel errors)."""
    block = int(rng.integers(step.blocks))
    answers = []
    for task in (t for t, b in enumerate(step.design().blocks) if int(b) == block):
        profiles = step.profiles(task)
        utility = np.array([*map(_utility, profiles), NEITHER]) + rng.gumbel(size=len(profiles) + 1)
        picked = int(np.argmax(utility))
        chosen = 0 if picked == len(profiles) else picked + 1
        answers.append((f"task{task + 1}", {"block": block + 1, "task": task + 1, "choice": LETTERS[picked] if chosen else "none",
                                            "chosen": chosen, "alternatives": profiles, "opt_out": True}))
    return answers


@pytest.fixture
def study(database: Database, clock: FakeClock, tmp_path: Path) -> ConversationService:
    folder = tmp_path / "appointments"
    folder.mkdir()
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    (folder / "choices.yaml").write_text(CHOICES_YAML, encoding="utf-8")
    service = ConversationService(database, StudyRegistry.from_folder(folder), clock, address_key=TEST_ADDRESS_KEY)
    step = load_flow(folder / "choices.yaml").flow.step("appointment")
    assert isinstance(step, ChoiceExperimentStep)
    published = service.studies.current("appointments", "choices")
    rng = np.random.default_rng(11)
    rows = []
    for n in range(PEOPLE):
        participant = service.join("sms", f"+4477009{n:05d}", "appointments").participant_id
        assert participant is not None
        rows += [{"participant_id": participant, "study_id": "appointments", "flow_id": "choices", "flow_version_id": published.id,
                  "flow_version": published.version, "step_id": "appointment", "item": item, "value": value}
                 for item, value in _choices(step, rng)]
    add_answers(database, rows)
    return service


def test_chorus_report_writes_the_desks_importance_and_trade_offs(database: Database, study: ConversationService, tmp_path: Path) -> None:
    from bot.api.reports import report

    desk = report(database, study.studies.get("appointments"), "choice")

    @click.group()
    def root() -> None:
        pass

    register(root)
    run = CliRunner().invoke(root, ["report", "appointments", "--out", str(tmp_path / "out"), "--database", database.url])
    assert run.exit_code == 0, run.output
    importance = pd.read_csv(tmp_path / "out" / "choice_experiment-appointment-importance.csv")
    trades = pd.read_csv(tmp_path / "out" / "choice_experiment-appointment-trade-offs.csv")

    assert desk["n_choice_sets"] == PEOPLE * 6
    assert list(importance["attribute"]) == sorted(desk["importance"], key=desk["importance"].get, reverse=True)
    assert dict(zip(importance["attribute"], importance["importance"], strict=True)) == pytest.approx(desk["importance"], rel=1e-6)
    truth = {"wait": 0.4 * 3, "who": 0.5 + 0.6, "how": 0.3}
    for attribute, span in truth.items():
        assert abs(desk["importance"][attribute] - span / sum(truth.values())) < 0.06, attribute

    desk_trades = {t["feature"].replace("optout", "opt_out"): t for t in desk["trade_offs"]}
    assert set(trades["against"]) == {"wait"} and set(trades["feature"]) == set(desk_trades) == {*TRUTH, "opt_out"} - {"wait"}
    for row in trades.itertuples():
        for key in ("estimate", "se", "low", "high"):
            assert getattr(row, key) == pytest.approx(desk_trades[row.feature][key], rel=1e-5), (row.feature, key)
        assert row.low == pytest.approx(row.estimate - Z_95 * row.se) and row.high == pytest.approx(row.estimate + Z_95 * row.se)
        if row.feature in TRUTH:
            assert abs(row.estimate - TRUTH[row.feature] / -TRUTH["wait"]) < 3 * row.se, row.feature
    own_nurse = trades.set_index("feature").loc["who[own nurse]"]
    assert own_nurse["low"] > 0, "people would wait longer (1.25 weeks, in truth) for their own nurse"
