"""Rankings after a live change: someone who answered a version of the flow that had not yet
added an option, or had already removed one, was never shown it, so they count neither for nor
against it. Each option's Borda points and Plackett-Luce choices use only the people shown it,
and the results say how many that was (``n_offered``). With one version nothing changes.
The charts name a group as the desk does (its label; "Everyone" for all)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import minimize
from scipy.special import logsumexp

from bot.api.figures import pairwise_chart, ranking_chart
from bot.charts import intervals_description, svg
from flows.analysis.ranking import analyse_rankings, borda, choice_data, fit_plackett_luce
from tests.desk_helpers import Desk, study_desk
from tests.test_live_changes_answers import EXPERIENCE, NO_CARERS, STUDY_ID, api, say

COLUMNS = ["participant", "group", "option", "position"]
STUDY = """study: crisis-team
title: {en: Our crisis team, cy: Ein tîm argyfwng}
languages: [en, cy]
timezone: Europe/London
groups:
  - id: service_user
    label: {en: People who used the team, cy: Pobl a ddefnyddiodd y tîm}
  - id: carer
    label: {en: Carers, cy: Gofalwyr}
join:
  start_flow: experience
  routes:
    - {keyword: CRISIS, group: service_user}
    - {keyword: CARER, group: carer}
flows: [experience.yaml]
signposting:
  en: If you need urgent help, call NHS 111 and choose option 2, or 999 in an emergency.
  cy: Os oes angen help brys arnoch, ffoniwch GIG 111 a dewis opsiwn 2, neu 999 mewn argyfwng.
"""


def _frame(rankings: dict[str, list[str]], group: str = "patient") -> pd.DataFrame:
    rows = [(who, group, option, place) for who, order in rankings.items() for place, option in enumerate(order, start=1)]
    return pd.DataFrame(rows, columns=COLUMNS)


# ----------------------------------------------------------------------------- the analysis


def test_an_option_added_later_is_scored_only_by_the_people_shown_it() -> None:
    """4 options in all; p1 answered the version without D (3 options: places worth 3, 1.5, 0
    on the common scale), p2 and p3 the one with it (3, 2, 1, 0; p3's top 2 leave A and C
    0.5 each). D is not passed over by p1: its mean is over p2 and p3 alone."""
    df = _frame({"p1": ["A", "B", "C"], "p2": ["D", "A", "B", "C"], "p3": ["D", "B"]})
    offered = {"p1": ["A", "B", "C"], "p2": ["A", "B", "C", "D"], "p3": ["A", "B", "C", "D"]}
    table = borda(df, ["A", "B", "C", "D"], offered).set_index("option")
    assert table["n_offered"].to_dict() == {"A": 3, "B": 3, "C": 3, "D": 2}
    assert table["borda"].to_dict() == {"A": 5.5, "B": 4.5, "C": 0.5, "D": 6.0}
    assert table["borda_mean"].to_dict() == pytest.approx({"A": 5.5 / 3, "B": 1.5, "C": 0.5 / 3, "D": 3.0})


def test_a_removed_option_is_scored_only_by_the_people_who_answered_before_it_went() -> None:
    """v1 had A, B, C; v2 dropped C. Those on v2 never saw C: they do not pass it over, and a
    v2 participant's two places are worth 2 and 0, as the first and last of anyone's."""
    df = _frame({"p1": ["C", "A"], "p2": ["A", "C"], "p3": ["B"], "p4": ["A"]})
    offered = {"p3": ["A", "B"], "p4": ["A", "B"]}  # p1, p2 are not named: they saw every option
    result = analyse_rankings(df, ["A", "B", "C"], n_boot=0, offered=offered, per_group=False).set_index("option")
    assert result["n_offered"].to_dict() == {"A": 4, "B": 4, "C": 2}
    assert result.loc["C", "borda"] == 2 + 1 and result.loc["C", "borda_mean"] == 1.5
    assert result.loc["B", "borda"] == 0 + 0 + 2 + 0 and result.loc["A", "borda"] == 1 + 2 + 0 + 2
    everyone_saw_all = analyse_rankings(df, ["A", "B", "C"], n_boot=0, per_group=False).set_index("option")
    assert everyone_saw_all.loc["C", "n_offered"] == 4 and everyone_saw_all.loc["C", "borda"] == 3 + 0.5 + 0.5


def _direct_mle(rankings: dict[str, list[str]], shown: dict[str, list[str]], options: list[str]) -> np.ndarray:
    """Maximise the Plackett-Luce likelihood written out ranking by ranking, each choice among
    the options its participant was shown and had not yet placed."""
    index = {o: i for i, o in enumerate(options)}

    def negative_loglik(free: np.ndarray) -> float:
        theta = np.concatenate([[0.0], free])
        total = 0.0
        for who, order in rankings.items():
            left = [index[o] for o in shown[who]]
            for option in order:
                if len(left) > 1:
                    total += theta[index[option]] - logsumexp(theta[left])
                left.remove(index[option])
        return -total

    free = minimize(negative_loglik, np.zeros(len(options) - 1), method="BFGS", tol=1e-12).x
    theta = np.concatenate([[0.0], free])
    return np.asarray(theta - theta.mean())


def test_plackett_luce_chooses_only_among_the_options_a_participant_was_shown() -> None:
    options = ["A", "B", "C", "D"]
    old, new = ["A", "B", "C"], ["A", "B", "D"]  # v2 swapped C for D
    rankings = {"p1": ["A", "B"], "p2": ["B", "C"], "p3": ["C", "A", "B"], "p4": ["D", "A"], "p5": ["A", "D"],
                "p6": ["B", "D", "A"], "p7": ["D", "B"]}
    shown = {who: (old if who in ("p1", "p2", "p3") else new) for who in rankings}
    theta = fit_plackett_luce(choice_data(_frame(rankings), options, shown), alpha=0.0)
    assert theta == pytest.approx(_direct_mle(rankings, shown, options), abs=1e-5)
    result = analyse_rankings(_frame(rankings), options, n_boot=0, alpha=0.0, offered=shown, per_group=False).set_index("option")
    assert result["n_offered"].to_dict() == {"A": 7, "B": 7, "C": 3, "D": 4}
    assert result["score"].to_dict() == pytest.approx(dict(zip(options, theta, strict=True)), abs=1e-6)


def test_an_option_nobody_in_a_group_was_shown_has_no_score_there_and_the_rest_are_measured_without_it() -> None:
    df = pd.concat([_frame({"n1": ["A", "B"], "n2": ["B", "A"], "n3": ["A", "B"]}, "nurse"),
                    _frame({"d1": ["C", "A"], "d2": ["A", "C"]}, "doctor")])
    offered = {"n1": ["A", "B"], "n2": ["A", "B"], "n3": ["A", "B"]}
    result = analyse_rankings(df, ["A", "B", "C"], n_boot=0, alpha=0.0, offered=offered)
    nurses = result[result["group"] == "nurse"].set_index("option")
    assert nurses.loc["C", "n_offered"] == 0 and pd.isna(nurses.loc["C", "score"]) and pd.isna(nurses.loc["C", "borda_mean"])
    assert list(nurses.index)[-1] == "C", "the option they were not shown comes after those they were"
    assert nurses.loc["A", "score"] - nurses.loc["B", "score"] == pytest.approx(np.log(2), abs=1e-6), "2 to 1, C not in it"
    assert nurses.loc[["A", "B"], "p_first"].sum() == pytest.approx(1.0)


def test_with_one_version_naming_what_everyone_was_shown_changes_nothing() -> None:
    rng = np.random.default_rng(3)
    options = ["o0", "o1", "o2", "o3"]
    df = pd.DataFrame([(f"p{p}", "staff" if p % 2 else "patient", str(o), place)
                       for p in range(30) for place, o in enumerate(rng.permutation(options)[: 2 + p % 3], start=1)],
                      columns=COLUMNS)
    plain = analyse_rankings(df, options, n_boot=20, seed=1)
    named = analyse_rankings(df, options, n_boot=20, seed=1, offered={f"p{p}": options for p in range(30)})
    pd.testing.assert_frame_equal(plain, named)
    assert (plain["n_offered"] == plain["group"].map({"all": 30, "staff": 15, "patient": 15})).all()


# ----------------------------------------------------------------------------- a live change on the desk


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY_ID, {"study.yaml": STUDY, "experience.yaml": EXPERIENCE}) as made:
        yield made


def _rank_across_a_live_change(desk: Desk) -> None:
    """Three rank on the first version (speed, same_worker, carers), two on the second (carers
    swapped for night); the third was waiting at the ranking when the change came."""
    say(desk, "+447700900501", "CRISIS", "yes", "5", "Someone to call back", "3 1")  # carers, speed
    say(desk, "+447700900502", "CARER", "yes", "2", "A named worker", "1 2")  # speed, same_worker
    say(desk, "+447700900503", "CRISIS", "yes", "4", "Less waiting")
    response = api(desk, "POST", "/flows/publish", json={"yaml": NO_CARERS})
    assert response.status_code == 200 and response.json()["ok"], response.text
    say(desk, "+447700900503", "1 3")  # still on the first version: speed, carers
    say(desk, "+447700900504", "CARER", "yes", "3", "More support", "3 2")  # night, same_worker
    say(desk, "+447700900505", "CRISIS", "yes", "3", "Nights", "3 1")  # night, speed


def test_the_desk_counts_each_option_over_the_people_whose_version_showed_it(desk: Desk) -> None:
    """Everyone was shown 3 of the 4 options and placed 2: 3 points for a first place, 1.5 for a
    second, 0 for the one left. Before, those on the first version passed 'night' over (and
    those on the second 'carers'), each giving it the half-point of an unranked option."""
    _rank_across_a_live_change(desk)
    found = api(desk, "GET", "/reports/ranking")
    assert found.status_code == 200, found.text
    rows = found.json()["report"]["options"]
    everyone = {r["option"]: r for r in rows if r["group"] == "all"}
    assert {o: (r["n_offered"], r["n_ranked"], r["borda"]) for o, r in everyone.items()} == {
        "speed": (5, 4, 9.0), "same_worker": (5, 2, 3.0), "carers": (3, 2, 4.5), "night": (2, 2, 6.0)}
    assert everyone["night"]["borda_mean"] == 3.0, "both shown 'night' put it first"
    assert all(r["n_people"] == 5 for r in everyone.values())
    carers = {r["option"]: r for r in rows if r["group"] == "carer"}
    assert (carers["carers"]["n_offered"], carers["night"]["n_offered"], carers["speed"]["n_offered"]) == (1, 1, 2)
    page = desk.client.get(f"/dashboard/studies/{STUDY_ID}/ranking")
    assert page.status_code == 200
    assert re.search(r">Help at night</td><td class=\"num\">2 of 2</td>", page.text), "placed by 2 of the 2 shown it"
    assert re.search(r">Support for carers</td><td class=\"num\">2 of 3</td>", page.text)


def test_the_rankings_page_compares_options_by_their_mean_and_puts_the_total_last(desk: Desk) -> None:
    """Carers was shown to 3 and night to 2: night's total (6.0) is below speed's (9.0) though
    everyone shown night put it first, so the page's column to compare is the mean (3.00 a
    person shown it, against speed's 1.80), and the total comes last, the note saying why."""
    _rank_across_a_live_change(desk)
    page = desk.client.get(f"/dashboard/studies/{STUDY_ID}/ranking").text
    everyone = page[page.index("<table"):page.index("</table>")]
    headers = [re.sub(r"<[^>]+>", "", h).strip() for h in re.findall(r'<th scope="col">(.*?)</th>', everyone)]
    assert headers == ["Option", "Placed by", "Mean Borda (per person shown it)", "Score", "95% interval", "P(first)", "Borda total"]
    rows = {label: re.findall(r'<td class="num[^"]*">([^<]*)</td>', cells)
            for label, cells in re.findall(r"<tr><td[^>]*>([^<]+)</td>(.*?)</tr>", everyone, re.S)}
    assert (rows["Help at night"][1], rows["Help at night"][-1]) == ("3.00", "6.0")
    assert (rows["A quick response"][1], rows["A quick response"][-1]) == ("1.80", "9.0")
    note = re.sub(r"\s+", " ", page[page.index("<h1>Rankings</h1>"):page.index("</p>")])
    assert "Compare options by <em>Mean Borda</em>" in note and "the <em>Borda total</em> (last) grows with the number shown it" in note


def test_the_ranking_charts_name_the_group_as_the_desk_does(desk: Desk) -> None:
    _rank_across_a_live_change(desk)
    carers = api(desk, "GET", "/charts/ranking", params={"group": "carer", "step": "priorities"})
    assert carers.status_code == 200, carers.text
    assert "<title" in carers.text and "Ranking (Carers)" in carers.text and "Ranking (carer)" not in carers.text
    everyone = api(desk, "GET", "/charts/ranking", params={"step": "priorities"})
    assert "Ranking (Everyone)" in everyone.text and "Ranking (all)" not in everyone.text
    page = desk.client.get(f"/dashboard/studies/{STUDY_ID}/ranking").text
    assert "Ranking (People who used the team)" in page and "Ranking (service_user)" not in page


def test_chart_titles_take_the_groups_labels_else_the_rows_and_everyone_for_all() -> None:
    ranked = [{"group": g, "group_label": "Staff" if g == "staff" else None, "option": o, "label": o.title(),
               "score": s, "low": s - 1, "high": s + 1, "interval_note": None}
              for g in ("all", "staff") for o, s in (("meds", 0.5), ("quiet", -0.5))]
    assert ranking_chart(ranked, "staff").title.startswith("Ranking (Staff):")
    assert ranking_chart(ranked, "staff", names={"staff": "Ward staff"}).title.startswith("Ranking (Ward staff):")
    assert ranking_chart(ranked, "all").title.startswith("Ranking (Everyone):")
    scores = {g: [{"item": "meds", "label": "Medicines", "score": 60.0, "low": 40.0, "high": 80.0}] for g in ("all", "carer")}
    chart = pairwise_chart(scores, "carer", {"all": "Everyone", "carer": "Carers"})
    assert chart.title.startswith("Pairwise (Carers):") and "(carer)" not in svg(chart)
    assert pairwise_chart(scores, "all").title.startswith("Pairwise (Everyone):")
    assert intervals_description(chart).startswith("Medicines: 60")
