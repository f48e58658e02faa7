"""The desk's charts over time and `chorus analyse evaluation` count the same weeks: ISO weeks,
Monday to Sunday, on the study's clock, each named by its Monday (never by a Monday still to
come), across a week's end and a clock change. And a Friends and Family Test question is
found by its six answers, whatever its flow and step are called, on the desk and in the CLI."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from bot.api.catalogue import StepInfo
from bot.api.results import FFT_MEASURE, measures
from bot.cli import cli
from bot.evaluation import evaluation_over_time, find_instruments
from flows.analysis.instruments import AnswerRecord, fft_codes, track
from flows.analysis.periods import period_of, period_start, period_starts
from tests.desk_helpers import Desk, add_answers, desk_app

LONDON = ZoneInfo("Europe/London")


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.mark.parametrize(("moment", "week"), [
    ("2026-11-27 12:00", "2026-11-23"),  # a Friday: the week from the Monday before, not the one after
    ("2026-11-23 00:30", "2026-11-23"),  # Monday just after midnight
    ("2026-11-29 23:30", "2026-11-23"),  # Sunday night, in winter London is on UTC: still Sunday
    ("2026-11-30 00:00", "2026-11-30"),
    ("2026-03-29 22:30", "2026-03-23"),  # the clocks went forward that morning: 23:30 on Sunday in London
    ("2026-03-29 23:30", "2026-03-30"),  # ... and 00:30 on Monday: the next week
    ("2026-10-25 23:30", "2026-10-19"),  # the clocks went back that morning: 23:30 on Sunday in London
])
def test_a_week_runs_monday_to_sunday_on_the_study_clock_and_is_named_by_its_monday(moment: str, week: str) -> None:
    assert period_of(utc(moment), "week", LONDON) == week
    assert period_starts(pd.Series([utc(moment)]), "week", "Europe/London").iloc[0] == date.fromisoformat(week)


def test_the_table_and_the_single_answer_agree_in_every_zone_and_period() -> None:
    rng = np.random.default_rng(0)
    moments = [datetime(2026, 1, 1, tzinfo=UTC) + pd.Timedelta(minutes=int(m)).to_pytimedelta()
               for m in rng.integers(0, 365 * 24 * 60, 400)]
    for zone in ("Europe/London", "America/New_York", "Australia/Sydney", "Asia/Kolkata"):
        for period in ("day", "week", "month", "quarter"):
            together = period_starts(pd.Series(moments), period, zone).tolist()  # type: ignore[arg-type]
            assert together == [period_start(m, period, ZoneInfo(zone)) for m in moments], (zone, period)  # type: ignore[arg-type]


FFT_OPTIONS: list[Any] = [{"value": str(n), "label": label} for n, label in enumerate(
    ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"], start=1)]
EXPERIENCE = StepInfo("followup", "experience", "choice", "How was your experience?", {"options": FFT_OPTIONS})
# (when, answer): the FFT answer codes "1" (very good) ... "6" (don't know)
ANSWERS = [("2026-11-23 00:30", "1"), ("2026-11-27 12:00", "4"), ("2026-11-29 23:30", "6"),  # week of 23 Nov: 1 of 3
           ("2026-11-30 09:00", "2"), ("2026-12-02 09:00", "1"),                              # week of 30 Nov: 2 of 2
           ("2026-03-29 22:30", "5"), ("2026-03-29 23:30", "2")]                              # either side of a clock change


def _frame(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return pd.DataFrame([{"flow": "followup", "step": "experience", "item": None, "skipped": False, "value": value,
                          "answered_at": utc(when), "participant": f"p-{n}", "group": "patient"}
                         for n, (when, value) in enumerate(rows)])


def test_an_fft_question_is_recognised_by_its_answers_by_value_or_label() -> None:
    assert fft_codes(FFT_OPTIONS) == {"1": "very_good", "2": "good", "3": "neither", "4": "poor", "5": "very_poor", "6": "dont_know"}
    coded = ["very_good", "good", "neither", "poor", "very_poor", "dont_know"]
    assert fft_codes(coded) == {c: c for c in coded}
    welsh = [{"value": c, "label": {"cy": "Da iawn", "en": "Very good"}} for c in coded]
    assert fft_codes(welsh) is not None, "a label in several languages"
    assert fft_codes(coded[:5]) is None and fft_codes([*coded[:5], "good"]) is None, "all six, each once"
    assert fft_codes(["Yes", "No", "Maybe", "a", "b", "c"]) is None


def test_the_desk_charts_fft_per_iso_week_as_the_cli_counts_it() -> None:
    desk = measures(_frame(ANSWERS), {(1, "experience"): EXPERIENCE}, "week", "Europe/London")
    (fft,) = desk
    assert fft["measure"] == FFT_MEASURE
    assert fft["periods"] == ["2026-03-23", "2026-03-30", "2026-11-23", "2026-11-30"]
    assert fft["values"] == pytest.approx([0.0, 100.0, 100 / 3, 100.0]) and fft["n"] == [1, 1, 3, 2]

    records = [AnswerRecord(f"p-{n}", "patient", "followup", "experience", value, utc(when), n)
               for n, (when, value) in enumerate(ANSWERS)]
    cli_rows = track(records, "week", "Europe/London", fft_steps={("followup", "experience"): fft_codes(FFT_OPTIONS) or {}})
    everyone = {r.period: r.fft for r in cli_rows if r.group == "all"}
    assert list(everyone) == fft["periods"], "the same weeks, named alike"
    assert [everyone[p].percent_positive for p in fft["periods"]] == pytest.approx(fft["values"])
    assert [everyone[p].responses for p in fft["periods"]] == fft["n"]


def test_a_scale_over_time_is_counted_per_week_on_the_study_clock() -> None:
    scale = StepInfo("followup", "mood", "scale", "How are you?", {"min": 1, "max": 5})
    frame = _frame([("2026-11-29 23:30", "2"), ("2026-11-30 00:30", "4")]).assign(step="mood")
    in_london = measures(frame, {(1, "mood"): scale}, "week", "Europe/London")[0]
    assert in_london["periods"] == ["2026-11-23", "2026-11-30"] and in_london["values"] == [2.0, 4.0]
    in_sydney = measures(frame, {(1, "mood"): scale}, "week", "Australia/Sydney")[0]
    assert in_sydney["periods"] == ["2026-11-30"] and in_sydney["values"] == [3.0], "both Monday morning in Sydney"
    by_month = measures(frame, {(1, "mood"): scale}, "month", "Europe/London")[0]
    assert by_month["periods"] == ["2026-11"]


def test_instruments_are_found_in_any_flow() -> None:
    flows: list[tuple[str, dict[str, Any]]] = [("followup", {"steps": [{"id": "experience", "type": "choice", "options": FFT_OPTIONS},
                                     {"id": "why", "type": "open"}]}),
             ("usability", {"steps": [{"id": f"sus_{n}", "type": "scale", "min": 1, "max": 5} for n in range(1, 11)]}),
             ("other", {"steps": [{"id": "role", "type": "choice", "options": ["Patient", "Carer"]}]})]
    found = find_instruments(flows)
    assert list(found.fft) == [("followup", "experience")] and found.sus == ("usability",)


# ----------------------------------------------------------------------------- the desk and the CLI on one study

STUDY = "followups"
STUDY_YAML = """\
study: followups
title: Follow-ups
languages: [en]
timezone: Europe/London
groups: [patient]
join:
  start_flow: followup
  keyword: FOLLOW
"""
FOLLOWUP_YAML = """\
flow: followup
steps:
  - id: experience
    type: choice
    text: Thinking about the ward, overall how was your experience of our service?
    options:
      - {value: "1", label: Very good}
      - {value: "2", label: Good}
      - {value: "3", label: Neither good nor poor}
      - {value: "4", label: Poor}
      - {value: "5", label: Very poor}
      - {value: "6", label: Don't know}
  - id: done
    type: end
    text: Thank you.
"""


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    folder = tmp_path / "studies" / STUDY
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    (folder / "followup.yaml").write_text(FOLLOWUP_YAML, encoding="utf-8")
    with desk_app(tmp_path, studies=tmp_path / "studies") as made:
        made.client.headers["Authorization"] = f"Bearer {made.token('coordinator', (STUDY,))}"
        yield made


def test_the_desk_and_analyse_evaluation_show_an_fft_not_called_fft_alike(desk: Desk) -> None:
    rows = []
    for when, value in ANSWERS:
        pid, version = desk.join(STUDY, "patient", flow="followup")
        rows.append({"participant_id": pid, "study_id": STUDY, "flow_id": "followup", "flow_version_id": version,
                     "flow_version": "v", "step_id": "experience", "value": value, "answered_at": utc(when)})
    add_answers(desk.database, rows)

    spc = desk.client.get(f"/api/v1/studies/{STUDY}/reports/spc", params={"period": "week"}).json()["report"]
    fft = next(m for m in spc if m["step"] == "experience")
    assert fft["measure"] == FFT_MEASURE and fft["periods"] == ["2026-03-23", "2026-03-30", "2026-11-23", "2026-11-30"]
    chart = desk.client.get(f"/api/v1/studies/{STUDY}/charts/spc", params={"flow": "followup", "step": "experience"})
    assert chart.status_code == 200 and "% positive (FFT)" in chart.text
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation", params={"period": "week"})
    assert page.status_code == 200 and "% positive (FFT)" in page.text

    rows_found = evaluation_over_time(desk.database, STUDY, "week", "Europe/London")
    everyone = {r.period: r.fft.percent_positive for r in rows_found if r.group == "all"}
    assert list(everyone) == fft["periods"] and list(everyone.values()) == pytest.approx(fft["values"])

    printed = CliRunner().invoke(cli, ["analyse", "evaluation", "--study", STUDY, "--period", "week",
                                       "--database", desk.database.url])
    assert printed.exit_code == 0, printed.output
    lines = [line.split() for line in printed.output.splitlines() if line.startswith("all")]
    assert [(line[1], line[2], line[3]) for line in lines] == [
        ("2026-03-23", "1", "0.0"), ("2026-03-30", "1", "100.0"), ("2026-11-23", "3", "33.3"), ("2026-11-30", "2", "100.0")]
