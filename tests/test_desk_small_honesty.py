"""Small things a coordinator reads on the desk, the API, the export and ``chorus report``, said
plainly: reasons in the same words quoted once with how many gave them (as themes quote
identical answers), the export's ``question`` on a Delphi item's rows, the pairwise report's
decisive comparisons and ties named apart, and the Evaluation tab's groups in the study's order.
Found by an exploratory night/day ward-handover study."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

import pandas as pd
import pytest

from bot.api import methods
from bot.export import export_study
from bot.report import gather, write_report
from flows.analysis.delphi import reasons_by_band, wording
from flows.analysis.pairwise import Comparison, score_items
from flows.analysis.scale import Scale
from flows.population import delphi_value
from tests import test_evaluation_actionable as evaluation
from tests.desk_helpers import Desk, add_answers, study_desk
from tests.test_desk_groups import FLOW, STUDY, _item, _page, _report, _row, desk

__all__ = ["desk"]  # the fixture, used by name


def _reasons(desk: Desk, given: list[tuple[str, int, str]], item: str = "info") -> None:
    """One participant per (group, score, reason), each scoring ``item`` with that reason."""
    rows = []
    for group, score, reason in given:
        pid, version = desk.join(STUDY, group, FLOW)
        rows.append(_row(pid, version, "rate", item, delphi_value("care", 1, score, reason)))
    add_answers(desk.database, rows)


SAME = [("carer", 1, "Nobody rings back."), ("carer", 2, "nobody rings back"), ("staff", 1, "Nobody  rings back!"),
        ("carer", 1, "the letters come late")]


# ----------------------------------------------------------------------------- reasons in the same words


def test_reasons_in_the_same_words_are_quoted_once_with_who_gave_them() -> None:
    reasons = pd.DataFrame([{"group": g, "score": s, "reason": r, "quotable": True} for g, s, r in SAME])
    low = reasons_by_band(reasons, Scale())["bands"][0]
    assert (low["total"], low["shown"], len(low["quotes"])) == (4, 4, 2)
    same = next(q for q in low["quotes"] if wording(q["text"]) == "nobody rings back")
    assert same["count"] == 3 and (same["group"], same["score"], same["text"]) == ("carer", 1, "Nobody rings back.")
    assert sorted((w["group"], w["score"], w["count"]) for w in same["given_by"]) == [("carer", 1, 1), ("carer", 2, 1), ("staff", 1, 1)]
    assert next(q for q in low["quotes"] if q is not same)["count"] == 1


def test_a_cap_on_quotes_counts_distinct_words_so_repeats_crowd_nothing_out() -> None:
    repeated = [("carer", 1, "same again")] * 5 + [("carer", 1, f"own words {n}") for n in range(3)]
    reasons = pd.DataFrame([{"group": g, "score": s, "reason": r, "quotable": True} for g, s, r in repeated])
    info = reasons_by_band(reasons, Scale(), most=3)
    low = info["bands"][0]
    assert [q["count"] for q in low["quotes"]] == [5, 1, 1] and low["shown"] == info["quoted"] == 7


def test_the_api_and_the_desk_quote_the_same_words_once(desk: Desk) -> None:
    _reasons(desk, SAME)
    low = _item(_report(desk, "delphi"), "info")["reasons"]["bands"][0]
    assert [(q["text"], q["count"]) for q in low["quotes"]] == [("Nobody rings back.", 3), ("the letters come late", 1), ], low
    staff = _item(_report(desk, "delphi"), "info", "staff")["reasons"]["bands"][0]
    assert [(q["text"], q["count"]) for q in staff["quotes"]] == [("Nobody  rings back!", 1)], "a group's own count"
    page = _page(desk, "delphi")
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))
    assert text.count("Nobody rings back.") == 1 and "nobody rings back" not in text and "Nobody rings back!" not in text
    assert "Carers, scored 1 · Carers, scored 2 · Staff, scored 1 (3 reasons in these words)" in text
    assert "quoted once" in text


def test_chorus_report_counts_the_reasons_in_each_ones_words(desk: Desk, tmp_path: Path) -> None:
    _reasons(desk, [*SAME, ("patient", 9, "nobody rings back")])
    written = write_report(gather(desk.database, STUDY), tmp_path / "out")
    table = pd.read_csv(next(p for p in written if p.name == "delphi-care-reasons.csv"))
    counts = sorted(zip(table["score"], table["reason"], table["in_these_words"], strict=True))
    assert counts == [(1, "Nobody  rings back!", 3), (1, "Nobody rings back.", 3), (1, "the letters come late", 1),
                      (2, "nobody rings back", 3), (9, "nobody rings back", 1)], "the high score's same words are another band's"
    notes = next(p for p in written if p.name == "delphi-care-notes.md").read_text(encoding="utf-8")
    assert "in_these_words" in notes


# ----------------------------------------------------------------------------- the export's question


def test_the_exports_question_on_a_delphi_items_rows_is_the_items_text(desk: Desk, tmp_path: Path) -> None:
    _reasons(desk, [("carer", 2, "too slow")], item="info")
    _reasons(desk, [("staff", 8, "fine")], item="nights")
    result = export_study(desk.database, STUDY, tmp_path)
    with result.answers.open(encoding="utf-8") as f:
        rows = [r for r in csv.DictReader(f) if r["step"] == "rate"]
    assert {(r["item"], r["question"]) for r in rows} == {("info", "Carers are kept informed"), ("nights", "Night visits")}


# ----------------------------------------------------------------------------- pairwise: decisive and ties


def test_pairwise_scores_name_decisive_comparisons_and_ties_apart() -> None:
    compared = [Comparison("a", "b"), Comparison("a", "b"), Comparison("b", "c"), Comparison("a", "c", tie=True)]
    scores = {s.item: s for s in score_items(compared)}
    assert [(scores[i].decisive, scores[i].ties, scores[i].comparisons) for i in "abc"] == [(2, 1, 2), (3, 0, 3), (1, 1, 1)]
    assert all(s.decisive == s.wins + s.losses == s.comparisons for s in scores.values())


def test_the_api_pairwise_report_says_decisive_and_ties() -> None:
    answers = [{"winner": "a", "loser": "b"}, {"winner": "b", "loser": "a", "tie": True}, {"winner": "b", "loser": "c"}]
    frame = pd.DataFrame([{"type": "pairwise", "step": "pick", "group": "staff", "value": v} for v in answers])
    rows = {r["item"]: r for r in methods.pairwise_report(frame)["groups"]["all"]}
    assert {i: (r["decisive"], r["ties"], r["comparisons"]) for i, r in rows.items()} == {"a": (1, 1, 1), "b": (2, 1, 2), "c": (1, 0, 1)}


# ----------------------------------------------------------------------------- evaluation: the study's order


@pytest.fixture
def ward(tmp_path: Path) -> Iterator[Desk]:
    files = {**evaluation.FILES, "study.yaml": evaluation.FILES["study.yaml"].replace("groups: [patient, staff]", "groups: [staff, patient]")}
    with study_desk(tmp_path, evaluation.STUDY, files) as made:
        yield made


def _column(table: str, n: int) -> list[str]:
    """The ``n``th cell of each body row of ``table``, its markup left out."""
    rows = (re.findall(r"<td[^>]*>(.*?)</td>", tr, re.S) for tr in re.findall(r"<tr>(.*?)</tr>", table, re.S))
    return [re.sub(r"<[^>]+>", "", cells[n]).strip() for cells in rows if cells]


def test_the_evaluation_tab_lists_everyone_first_then_groups_in_the_studys_order(ward: Desk) -> None:
    evaluation._fill(ward)
    page = ward.client.get(f"/dashboard/studies/{evaluation.STUDY}/evaluation", params={"period": "week"}).text
    responses = re.search(r'<table class="data compact responses">(.*?)</table>', page, re.S)
    paired = re.search(r'<table class="data compact paired">(.*?)</table>', page, re.S)
    assert responses is not None and paired is not None
    listed = _column(responses.group(1), 1)
    assert listed and listed == ["Everyone", "staff", "patient"] * (len(listed) // 3), listed
    paired_groups = _column(paired.group(1), 3)
    assert paired_groups[:3] == ["Everyone", "staff", "patient"], paired_groups
    heads = re.findall(r'<table class="data compact per-point"><thead><tr>(.*?)</tr>', page)
    columns = [re.findall(r"<th[^>]*>(.*?)</th>", h)[1:] for h in heads]
    assert ["All", "staff", "patient"] in columns, columns
    assert all(c == ["All", *(g for g in ("staff", "patient") if g in c)] for c in columns), columns
