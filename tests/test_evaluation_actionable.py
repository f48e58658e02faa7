"""Evaluation results a coordinator can act on: the funnel counts follow-ups a later one took
over; the desk shows the SUS as its 0-100 score, n and groups per point, limits inside the
scale and no judgement on too few answers; each follow-up's response rate; the same people's
baseline against their later answers (checked against published figures); and ``chorus
report`` writes all of it."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from bot.api import queries
from bot.cli import cli
from bot.evaluation import followups
from bot.report import gather, write_report
from flows.analysis.evaluation_paired import paired_change
from flows.analysis.instruments import sus_score
from flows.analysis.spc import MIN_POINTS, clip, too_few
from flows.loader import load_study
from tests.desk_helpers import Desk, add_answers, study_desk

STUDY = "ward"
FILES = {
    "study.yaml": """\
study: ward
title: Ward follow-up
languages: [en]
timezone: Europe/London
groups: [patient, staff]
join:
  start_flow: welcome
  keyword: WARD
flows: [welcome.yaml, wk2.yaml, sus.yaml]
""",
    "welcome.yaml": """\
flow: welcome
steps:
  - {id: score, type: scale, text: "How was it today? 0 to 10", min: 0, max: 10}
  - {id: bye, type: end, text: Thanks.}
""",
    "wk2.yaml": """\
flow: wk2
steps:
  - {id: score, type: scale, text: "How is it now? 0 to 10", min: 0, max: 10}
  - {id: bye, type: end, text: Thanks.}
""",
    "sus.yaml": "flow: sus\nsteps:\n" + "".join(
        f"  - {{id: sus_{n}, type: scale, text: 'Item {n}', min: 1, max: 5}}\n" for n in range(1, 11))
        + "  - {id: bye, type: end, text: Thanks.}\n",
}
BROOKE = [4, 2, 4, 1, 5, 1, 4, 1, 4, 2]
"""Brooke's (1996) scoring by hand: odd items answer - 1 (3+3+4+3+3 = 16), even items 5 - answer
(3+4+4+4+3 = 18); (16 + 18) x 2.5 = 85."""
# Darwin's Zea mays, cross- minus self-fertilised heights in eighths of an inch, as Fisher (1935)
# analysed them: mean 20.93, t = 2.148 on 14 df; Wilcoxon signed-rank W = 24, exact two-sided
# p = 0.04126 (the example in scipy.stats.wilcoxon's documentation).
DARWIN = [49, -67, 8, 16, 6, 23, 28, 41, 14, 29, 56, 24, 75, 60, -48]


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY, FILES) as made:
        yield made


def _answer(desk: Desk, who: str, flow: str, step: str, value: Any, days: float) -> dict[str, Any]:
    version = desk.app.state.chorus.studies.current(STUDY, flow).id
    return {"participant_id": who, "study_id": STUDY, "flow_id": flow, "flow_version_id": version, "flow_version": "v",
            "step_id": step, "value": value, "answered_at": desk.clock.now + timedelta(days=days)}


def _fill(desk: Desk) -> list[str]:
    """Six people (four patients, two staff) asked everything: five give a baseline and a 2-week
    score (changes +2, +1, +3, 0, +2), the sixth answers nothing; four answer the SUS, one of
    them as in Brooke's worked example."""
    people = [desk.join(STUDY, "patient" if n < 4 else "staff", flow="sus")[0] for n in range(6)]
    before, after = [5, 6, 4, 7, 3], [7, 7, 7, 7, 5]
    rows = []
    for who, b, a in zip(people, before, after, strict=False):
        rows += [_answer(desk, who, "welcome", "score", b, 0), _answer(desk, who, "wk2", "score", a, 14)]
    for n, who in enumerate(people[:4]):
        answers = BROOKE if n == 0 else [3] * 10
        rows += [_answer(desk, who, "sus", f"sus_{i}", v, 14 + i / 100) for i, v in enumerate(answers, start=1)]
    add_answers(desk.database, rows)
    return people


# ----------------------------------------------------------------------------- the funnel


def test_a_follow_up_a_later_one_took_over_counts_as_stopped_so_the_funnel_adds_up() -> None:
    flow = load_study(Path(__file__).parent.parent / "flows/examples/evaluation").flows["sus"]
    people = [queries._Whereabouts("p1", "ended", None, ("sus_10",), None), queries._Whereabouts("p2", "replaced", "sus_1", (), None),
              queries._Whereabouts("p3", "stopped", "sus_2", (), None), queries._Whereabouts("p4", "waiting", "sus_1", (), None),
              queries._Whereabouts("p5", "ended", "sus_1", (), "closed")]
    funnel = queries._funnel_of("sus", flow, people, {})
    assert (funnel["started"], funnel["live"], funnel["stopped"], funnel["replaced"]) == (5, 1, 2, 1)
    assert funnel["live"] + funnel["stopped"] + sum(funnel["outcomes"].values()) == funnel["started"]


# ----------------------------------------------------------------------------- published figures


def test_sus_is_scored_as_brooke_and_the_paired_change_matches_fisher_and_scipy() -> None:
    assert sus_score(BROOKE) == 85.0
    change = paired_change([0.0] * len(DARWIN), [float(d) for d in DARWIN])
    assert change.n == 15 and change.mean_change is not None and change.mean_change == pytest.approx(20.933, abs=1e-3)
    assert change.ci_low is not None and change.ci_high is not None
    se = (change.ci_high - change.mean_change) / stats.t.ppf(0.975, 14)
    assert change.mean_change / se == pytest.approx(2.148, abs=1e-3), "Fisher's t"
    assert change.wilcoxon_p == pytest.approx(0.041259765625)
    rng = np.random.default_rng(3)  # 0-10 answers: ties and unchanged people, as follow-ups give
    before, after = rng.integers(0, 11, 40), rng.integers(0, 11, 40)
    ours = paired_change(before.tolist(), after.tolist())
    assert ours.wilcoxon_p == pytest.approx(stats.wilcoxon(after - before).pvalue)
    assert paired_change([3, 4], [3, 4]).wilcoxon_p is None, "no change at all: no test"


def test_too_few_points_or_answers_are_not_judged_and_limits_stay_on_the_scale() -> None:
    assert too_few([9] * (MIN_POINTS - 1)) is not None
    assert too_few([3] * 12) is not None and too_few([6] * 12) is None
    assert clip(199.7, (0.0, 100.0)) == 100.0 and clip(-66.3, (0.0, 100.0)) == 0.0 and clip(-4.4, (None, None)) == -4.4


# ----------------------------------------------------------------------------- the study's follow-ups


def test_response_rates_count_who_was_asked_and_never_answered(desk: Desk) -> None:
    _fill(desk)
    found = followups(desk.database, STUDY)
    sus = {r["group"]: r for r in found.responses if r["flow"] == "sus"}
    assert (sus["all"]["asked"], sus["all"]["answered"], sus["all"]["response_rate"]) == (6, 4, pytest.approx(200 / 3))
    assert (sus["staff"]["asked"], sus["staff"]["answered"], sus["staff"]["not_answered_open"]) == (2, 0, 2)
    assert sus["patient"]["answered"] == 4


def test_the_same_people_before_and_after_per_group(desk: Desk) -> None:
    _fill(desk)
    paired = {r["group"]: r for r in followups(desk.database, STUDY).paired if r["measure"] == "score"}
    everyone = paired["all"]
    assert (everyone["before"], everyone["after"], everyone["n_paired"]) == ("welcome", "wk2", 5)
    assert everyone["mean_change"] == pytest.approx(1.6) and everyone["median_change"] == 2.0
    assert everyone["wilcoxon_p"] == pytest.approx(stats.wilcoxon([2, 1, 3, 0, 2]).pvalue)
    assert (paired["patient"]["n_paired"], paired["staff"]["n_paired"]) == (4, 1)


def test_the_desk_shows_the_sus_score_groups_n_and_says_when_there_are_too_few_to_judge(desk: Desk) -> None:
    _fill(desk)
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation", params={"period": "week"})
    assert page.status_code == 200
    assert "SUS score (0-100)" in page.text and "sus / sus_2" not in page.text, "one score, not ten item charts"
    assert "Too few answers to judge" in page.text and "No special-cause variation" not in page.text
    assert 'class="high"' not in page.text and 'class="low"' not in page.text, "no point marked special on so few"
    assert '<small>(n=4)</small>' in page.text and '<th scope="col">staff</th>' in page.text, "n and each group per point"
    assert "Who answered each follow-up" in page.text and "Before and after" in page.text and "+1.60" in page.text
    spc = desk.client.get(f"/api/v1/studies/{STUDY}/reports/spc", params={"period": "week"}).json()["report"]
    sus = next(m for m in spc if m["step"] == "sus")
    assert sus["values"] == [pytest.approx((85 + 3 * 50) / 4)] and sus["n"] == [4]
    assert sus["groups"]["patient"]["n"] == [4] and sus["too_few"]
    printed = CliRunner().invoke(cli, ["analyse", "evaluation", "--study", STUDY, "--database", desk.database.url])
    assert printed.exit_code == 0, printed.output
    assert f"{sus['values'][0]:.1f}" in printed.output, "the desk's SUS is the command line's"


def test_limits_are_kept_inside_the_scale(desk: Desk) -> None:
    people = [desk.join(STUDY, "patient", flow="wk2")[0] for _ in range(20)]
    swings = [0, 10, 0, 10, 10, 0, 10, 0, 0, 10]  # a week at 0 then a week at 10: limits far past 0-10
    add_answers(desk.database, [_answer(desk, who, "wk2", "score", swings[n % 10], 7 * (n % 10)) for n, who in enumerate(people)])
    spc = desk.client.get(f"/api/v1/studies/{STUDY}/reports/spc", params={"period": "week"}).json()["report"]
    score = next(m for m in spc if m["flow"] == "wk2")
    assert len(score["periods"]) == 10
    assert (score["lower"], score["upper"]) == (0.0, 10.0)


def test_chorus_report_and_analyse_evaluation_write_the_follow_ups(desk: Desk, tmp_path: Path) -> None:
    _fill(desk)
    written = {p.name for p in write_report(gather(desk.database, STUDY), tmp_path / "out")}
    assert {"evaluation-responses.csv", "evaluation-over-time.csv", "evaluation-paired.csv", "evaluation-paired.png",
            "evaluation-sus-sus.png", "evaluation-wk2-score.svg", "evaluation-notes.md"} <= written
    paired = pd.read_csv(tmp_path / "out" / "evaluation-paired.csv")
    assert paired[paired["group"] == "all"]["n_paired"].tolist() == [5]
    over = pd.read_csv(tmp_path / "out" / "evaluation-over-time.csv")
    assert set(over["measure"]) == {"SUS score (0-100)", "mean"} and "group_label" in over.columns
    printed = CliRunner().invoke(cli, ["analyse", "evaluation", "--study", STUDY, "--database", desk.database.url])
    assert printed.exit_code == 0, printed.output
    rate = next(line.split() for line in printed.output.splitlines() if line.startswith("sus ") and " all " in line)
    assert rate[:5] == ["sus", "all", "6", "4", "66.7"]
    assert any(line.split()[:5] == ["score", "welcome", "wk2", "all", "5"] for line in printed.output.splitlines())


def test_one_answer_a_week_is_charted_but_not_judged_on_the_desk(desk: Desk) -> None:
    (who, _), weekly = desk.join(STUDY, "patient", flow="wk2"), [2, 3, 2, 3, 2, 3, 2, 3, 5, 5, 5, 5, 5, 5, 5, 5]
    add_answers(desk.database, [_answer(desk, who, "wk2", "score", v, 7 * w) for w, v in enumerate(weekly)])
    spc = desk.client.get(f"/api/v1/studies/{STUDY}/reports/spc", params={"period": "week"}).json()["report"]
    score = next(m for m in spc if m["flow"] == "wk2")
    assert score["signals"]["shift"] and score["too_few"] == "a typical point has 1 answer (fewer than 5)"
    page = desk.client.get(f"/dashboard/studies/{STUDY}/evaluation", params={"period": "week"}).text
    assert "Too few answers to judge" in page and "7 or more points in a row" not in page
    assert 'class="high"' not in page and 'class="low"' not in page, "no point marked special on one answer a week"
