"""What matters to whom, and why, on the desk and the API.

Statement voting: per statement, how each study group voted (agree, disagree and pass shares
with n), the statements the groups differ on most first, each opinion group's members by study
group, and what scale the group-informed consensus is on. Delphi: the reasons given for scores,
by score band with group labels and counts, masked as exports mask free text, a safeguarding
concern's reasons counted but never quoted, a cap on the quotes with the total. The numbers are
checked against a count made here from the answers as written, on SQLite and PostgreSQL; one
check in Chromium of both pages."""

from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import pytest
from fastapi.testclient import TestClient

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from flows.population import delphi_value
from storage.tables import FlagRow
from tests.desk_helpers import Clock, Desk, add_answers, coordinator_api

STUDY = "voices"
FLOW = "views"
GROUPS = {"carer": "Carers", "patient": "Patients", "staff": "Staff"}
GROUPS_YAML = "".join(f"  - id: {code}\n    label: {label}\n" for code, label in GROUPS.items())
STUDY_YAML = f"""\
study: {STUDY}
title: Voices in community care
languages: [en]
timezone: Europe/London
groups:
{GROUPS_YAML}join:
  start_flow: {FLOW}
  keyword: VOICES
flows: [views.yaml]
"""
FLOW_YAML = f"""\
flow: {FLOW}
steps:
  - id: rate
    type: delphi
    delphi: care
    round: 1
    items:
      - {{id: info, text: Carers are kept informed}}
      - {{id: nights, text: Night visits}}
    ask_reason: extreme
  - id: votes
    type: statements
    text: What do you think?
    statements:
      - {{id: told, text: Carers are not told enough}}
      - {{id: nurse, text: I would rather see any nurse soon}}
      - {{id: video, text: Video calls are fine for a check-up}}
      - {{id: paper, text: Staff spend too long on paperwork}}
  - id: done
    type: end
    text: Thank you.
"""
STATEMENT_TEXT = {"told": "Carers are not told enough", "nurse": "I would rather see any nurse soon",
                  "video": "Video calls are fine for a check-up", "paper": "Staff spend too long on paperwork"}
AGREE_TOLD = {"carer": 92, "patient": 60, "staff": 32}
"""Of 100 in each group: the tester's finding, 92% of carers but 32% of staff agree."""
PHONE = "ring me on 07700 900123 about it"
NAMED = "my name is Sarah Jones and nobody called back"
DISCLOSURE = "nobody listens and I cannot go on like this"
IDENTIFIERS = re.compile(r"07700|900123|Sarah|Jones|cannot go on", re.IGNORECASE)


@dataclass
class Seeded:
    """What was written, kept here to count independently of the code under test."""

    votes: list[tuple[str, str, str, int]] = field(default_factory=list)  # participant, group, statement, vote (in order)
    reasons: list[tuple[str, str, str, int, str]] = field(default_factory=list)  # participant, group, item, score, reason (standing)
    flagged: str = ""


# ----------------------------------------------------------------------------- the desk on each database


def _study_folder(root: Path) -> Path:
    folder = root / "studies" / STUDY
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    (folder / "views.yaml").write_text(FLOW_YAML, encoding="utf-8")
    return root / "studies"


def desk_app(database_url: str, tmp_path: Path) -> Any:
    """The app (API and desk) on ``database_url`` serving the study above."""
    settings = Settings(database_url=database_url, studies_dir=_study_folder(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app, clock=Clock())
    return app


@contextmanager
def desk_on(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The desk on ``database_url`` with the study above, a coordinator's token on the API."""
    with coordinator_api(desk_app(database_url, tmp_path), (STUDY,)) as made:
        yield made


@pytest.fixture
def desk(migrated_database_url: str, tmp_path: Path) -> Iterator[Desk]:
    with desk_on(migrated_database_url, tmp_path) as made:
        yield made


def _row(pid: str, version: int, step: str, item: str, value: Any) -> dict[str, Any]:
    return {"participant_id": pid, "study_id": STUDY, "flow_id": FLOW, "flow_version_id": version, "flow_version": "v",
            "step_id": step, "item": item, "value": value, "display": str(value)}


def _told_votes(group: str, rng: random.Random) -> list[int]:
    agree = AGREE_TOLD[group]
    disagree = (100 - agree) * 3 // 4
    votes = [1] * agree + [-1] * disagree + [0] * (100 - agree - disagree)
    rng.shuffle(votes)
    return votes


def seed(desk: Desk, per_group: int = 100) -> Seeded:
    """``per_group`` carers, patients and staff (and three of no group) voting, some changing a
    vote; Delphi scores with reasons, one with a phone number, one with a name, one a disclosure
    that raised a safeguarding flag, one score changed afterwards without a reason."""
    rng = random.Random(11)
    seeded, rows = Seeded(), []
    told = {g: _told_votes(g, rng) for g in GROUPS}
    people = [(g, n) for g in GROUPS for n in range(per_group)] + [(None, n) for n in range(3)]
    for group, n in people:
        pid, version = desk.join(STUDY, group, FLOW)
        code = group or "unspecified"
        chosen = {"told": told[group][n % 100] if group else rng.choice([1, -1, 0]),
                  "nurse": rng.choice([1, 1, -1, 0]) if code != "staff" else rng.choice([1, -1, -1]),
                  "video": rng.choice([1, -1, 0]), "paper": 1 if rng.random() < (0.8 if code == "staff" else 0.6) else -1}
        for statement, vote in chosen.items():
            if statement == "video" and n % 7 == 0:
                continue  # not seen
            if statement == "told" and n % 10 == 0:  # changed their mind: the last vote counts
                rows.append(_row(pid, version, "votes", statement, -vote if vote else 1))
                seeded.votes.append((pid, code, statement, -vote if vote else 1))
            rows.append(_row(pid, version, "votes", statement, vote))
            seeded.votes.append((pid, code, statement, vote))
        rows += _ratings(seeded, pid, code, version, n, group is None)
    add_answers(desk.database, rows)
    _flag(desk, seeded.flagged)
    return seeded


def _ratings(seeded: Seeded, pid: str, code: str, version: int, n: int, nobody: bool) -> list[dict[str, Any]]:
    """Item 'info': 30 carers and 4 staff say why low, 6 patients why high; item 'nights': three reasons."""
    rows = []
    reason = None
    if (code == "carer" and n < 30) or (code == "staff" and n < 4):
        score = 1 + n % 2 if code == "carer" else 1
        reason = PHONE if (code, n) == ("carer", 0) else NAMED if (code, n) == ("staff", 0) else f"{code} {n}: never told a thing"
        if (code, n) == ("carer", 1):
            reason, seeded.flagged = DISCLOSURE, pid
    elif code == "patient" and n < 6:
        score, reason = 9, f"patient {n}: they rang every day"
    else:
        score = 5
    rows.append(_row(pid, version, "rate", "info", delphi_value("care", 1, score)))  # recorded alone, then with its reason
    if reason:
        rows.append(_row(pid, version, "rate", "info", delphi_value("care", 1, score, reason)))
        seeded.reasons.append((pid, code, "info", score, reason))
    if code == "patient" and n < 3:
        rows.append(_row(pid, version, "rate", "nights", delphi_value("care", 1, 2 + n * 3, f"nights {n}")))
        seeded.reasons.append((pid, code, "nights", 2 + n * 3, f"nights {n}"))
    if code == "staff" and n == 10:  # a reason, then the score changed with none: the old reason goes with it
        rows.append(_row(pid, version, "rate", "nights", delphi_value("care", 1, 1, "staff 10: withdrawn reason")))
        rows.append(_row(pid, version, "rate", "nights", delphi_value("care", 1, 6)))
    if nobody:
        rows.append(_row(pid, version, "rate", "nights", delphi_value("care", 1, 7)))
    return rows


def _flag(desk: Desk, pid: str) -> None:
    with desk.database.session() as session:
        session.add(FlagRow(kind="safeguarding", message="a concern", participant_id=pid, study_id=STUDY, flow_id=FLOW,
                            step_id="rate", created_at=datetime.now(UTC)))


def _report(desk: Desk, kind: str) -> dict[str, Any]:
    response = desk.client.get(f"/api/v1/studies/{STUDY}/reports/{kind}")
    assert response.status_code == 200, response.text
    found: dict[str, Any] = response.json()["report"]
    return found


def _page(desk: Desk, tab: str) -> str:
    token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
    desk.client.post("/login", data={"token": token})
    page = desk.client.get(f"/dashboard/studies/{STUDY}/{tab}")
    desk.client.headers["Authorization"] = f"Bearer {token}"
    assert page.status_code == 200, page.text
    return page.text


# ----------------------------------------------------------------------------- counted here


def counted_votes(seeded: Seeded) -> dict[tuple[str, str], Counter[int]]:
    """(statement, group or 'all') -> Counter of votes, each participant's last vote only."""
    last: dict[tuple[str, str], tuple[str, int]] = {}
    for pid, group, statement, vote in seeded.votes:
        last[(pid, statement)] = (group, vote)
    found: dict[tuple[str, str], Counter[int]] = {}
    for (_, statement), (group, vote) in last.items():
        for key in ((statement, group), (statement, "all")):
            found.setdefault(key, Counter())[vote] += 1
    return found


def counted_reasons(seeded: Seeded, item: str) -> dict[str, Counter[str]]:
    """band -> Counter of groups giving a standing reason for ``item``."""
    bands: dict[str, Counter[str]] = {}
    for _, group, it, score, _ in seeded.reasons:
        if it == item:
            band = "low" if score <= 3 else "high" if score >= 7 else "middle"
            bands.setdefault(band, Counter())[group] += 1
    return bands


# ----------------------------------------------------------------------------- statements


def test_each_study_groups_votes_match_a_count_of_the_answers(desk: Desk) -> None:
    seeded = seed(desk)
    report = _report(desk, "statements")
    expected = counted_votes(seeded)
    rows = {row["statement"]: row for row in report["consensus"]}
    assert set(rows) == set(STATEMENT_TEXT)
    for statement, row in rows.items():
        assert row["label"] == STATEMENT_TEXT[statement]
        groups = {g["group"]: g for g in row["by_group"]}
        assert set(groups) == {"all", "carer", "patient", "staff", "unspecified"}
        assert row["by_group"][0]["group"] == "all", "everyone's first"
        for group, g in groups.items():
            votes = expected[(statement, group)]
            n = sum(votes.values())
            assert (g["n"], g["agree"], g["disagree"], g["pass"]) == (n, votes[1], votes[-1], votes[0]), (statement, group)
            assert (g["agree_share"], g["disagree_share"], g["pass_share"]) == pytest.approx(
                (votes[1] / n, votes[-1] / n, votes[0] / n))
    told = {g["group"]: g for g in rows["told"]["by_group"]}
    assert (told["carer"]["agree_share"], told["staff"]["agree_share"]) == (0.92, 0.32), "the tester's finding, visible"
    assert (told["carer"]["n"], told["staff"]["n"]) == (100, 100), "a changed vote counts once"
    assert (rows["told"]["gap"], rows["told"]["most"], rows["told"]["least"]) == (pytest.approx(0.60), "carer", "staff")
    assert max(rows.values(), key=lambda r: r["gap"])["statement"] == "told"
    assert told["unspecified"]["n"] == 3 and report["gap_min_votes"] == 5
    assert rows["told"]["gap"] == pytest.approx(max(_shares(expected, "told")) - min(_shares(expected, "told")))


def _shares(expected: dict[tuple[str, str], Counter[int]], statement: str) -> list[float]:
    """The agree shares of the groups with at least 5 votes on ``statement`` (as the gap counts them)."""
    found = []
    for (s, group), votes in expected.items():
        if s == statement and group != "all" and sum(votes.values()) >= 5:
            found.append(votes[1] / sum(votes.values()))
    return found


def test_opinion_groups_say_who_is_in_them_and_the_consensus_says_its_scale(desk: Desk) -> None:
    seeded = seed(desk)
    report = _report(desk, "statements")
    group_of = {pid: group for pid, group, _, _ in seeded.votes}
    assert len(report["groups"]) >= 2
    placed: Counter[str] = Counter()
    for opinion in report["groups"]:
        assert sum(opinion["stakeholders"].values()) == opinion["size"]
        assert list(opinion["stakeholders"].values()) == sorted(opinion["stakeholders"].values(), reverse=True)
        placed.update(opinion["stakeholders"])
    assert sum(placed.values()) + report["unclustered"] == len(group_of)
    assert set(placed) <= set(Counter(group_of.values()))
    k = len(report["groups"])
    for row in report["consensus"]:
        assert 0 < row["score"] < 1
        assert row["typical_group_agree"] == pytest.approx(row["score"] ** (1 / k))
    assert "runs from 0 to 1" in report["consensus_scale"] and "not a percentage" in report["consensus_scale"]


def test_the_statements_page_shows_each_study_group_with_labels_the_widest_gap_first(desk: Desk) -> None:
    seed(desk, per_group=100)
    page = _page(desk, "statements")
    assert "runs from 0 to 1" in page and "Typical group agreeing" in page
    table = re.search(r'<table class="data compact statement-votes" id="statement-votes">(.*?)</table>', page, re.S)
    assert table is not None
    bodies = re.findall(r'<tbody data-statement="([^"]+)">(.*?)</tbody>', table.group(1), re.S)
    assert bodies[0][0] == "told", "the statement the groups differ on most comes first"
    head = re.sub(r"<[^>]+>", "", re.search(r"<th[^>]*>(.*?)</th>", bodies[0][1], re.S).group(1))  # type: ignore[union-attr]
    assert "Carers are not told enough" in head and "Carers 92% agree, Staff 32%" in head
    cells = {cells[0]: cells[1:] for cells in (re.findall(r"<td[^>]*>(.*?)</td>", tr) for tr in re.findall(r"<tr>(.*?)</tr>", bodies[0][1]))}
    assert list(cells) == ["Everyone", "Carers", "Patients", "Staff", "unspecified"], "the study's order, with its labels"
    assert cells["Carers"][:2] == ["100", "92%"] and cells["Staff"][:2] == ["100", "32%"]
    makeup = re.findall(r'<span class="makeup">\((.*?)\)</span>', page)
    assert makeup and all(re.fullmatch(r"(?:(?:Carers|Patients|Staff|unspecified) \d+(?: · )?)+", m) for m in makeup)


# ----------------------------------------------------------------------------- Delphi reasons


def _item(report: dict[str, Any], item: str, group: str = "all") -> dict[str, Any]:
    found = next(r for r in report["items"] if r["item"] == item and r["group"] == group and r["round"] == 1)
    return found


def test_delphi_reasons_by_band_are_counted_capped_masked_and_never_quote_a_concern(desk: Desk) -> None:
    seeded = seed(desk)
    report = _report(desk, "delphi")
    assert not IDENTIFIERS.search(str(report)), IDENTIFIERS.findall(str(report))
    info = _item(report, "info")["reasons"]
    expected = counted_reasons(seeded, "info")
    assert [b["band"] for b in info["bands"]] == ["low", "high"], "no reason was given in between"
    for band in info["bands"]:
        assert band["by_group"] == dict(sorted(expected[band["band"]].items()))
        assert band["total"] == sum(expected[band["band"]].values())
    low = info["bands"][0]
    assert (low["scores"], low["total"], low["held_back"], len(low["quotes"])) == ("1-3", 34, 1, 20)
    assert (info["total"], info["quoted"], info["held_back"], info["most_per_band"]) == (40, 26, 1, 20)
    assert Counter(q["group"] for q in low["quotes"]) == {"carer": 16, "staff": 4}, "the small group is not crowded out"
    assert [q["group"] for q in low["quotes"]] == sorted(q["group"] for q in low["quotes"]), "listed by group"
    texts = [q["text"] for q in low["quotes"]]
    assert "ring me on [PHONE] about it" in texts and "my name is [NAME] and nobody called back" in texts
    carers = [q["score"] for q in low["quotes"] if q["group"] == "carer"]
    assert carers == sorted(carers), "the most extreme scores first"

    staff = _item(report, "info", "staff")["reasons"]
    assert staff["total"] == 4 and {q["group"] for b in staff["bands"] for q in b["quotes"]} == {"staff"}
    nights = _item(report, "nights")["reasons"]
    assert [(b["band"], b["total"]) for b in nights["bands"]] == [("low", 1), ("middle", 1), ("high", 1)]
    assert "withdrawn reason" not in str(report), "a changed score takes its reason with it"
    assert _item(report, "nights", "staff")["reasons"]["total"] == 0


def test_a_concern_raised_after_the_report_was_made_is_not_quoted_from_it(desk: Desk) -> None:
    pid, version = desk.join(STUDY, "carer", FLOW)
    add_answers(desk.database, [_row(pid, version, "rate", "info", delphi_value("care", 1, 1, "they never ring back"))])
    assert _item(_report(desk, "delphi"), "info")["reasons"]["bands"][0]["quotes"][0]["text"] == "they never ring back"
    _flag(desk, pid)
    again = _item(_report(desk, "delphi"), "info")["reasons"]
    assert (again["total"], again["quoted"], again["held_back"]) == (1, 0, 1)


def test_the_delphi_page_offers_each_items_reasons_collapsed_when_long(desk: Desk) -> None:
    seed(desk)
    page = _page(desk, "delphi")
    assert not IDENTIFIERS.search(page), IDENTIFIERS.findall(page)
    info = re.search(r'id="item-info">(.*?)</section>', page, re.S)
    nights = re.search(r'id="item-nights">(.*?)</section>', page, re.S)
    assert info is not None and nights is not None
    assert '<details class="reasons">' in info.group(1), "40 reasons: collapsed"
    assert '<details class="reasons" open>' in nights.group(1), "three: open"
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", info.group(1)))
    assert "Why they scored so: 40 reasons (low 34 · high 6)" in text
    assert "Why low (1-3): 34 reasons Carers 30 · Staff 4" in text
    assert "Staff, scored 1" in text and "ring me on [PHONE] about it" in text
    assert "20 of 34 shown" in text and "1 reason not quoted" in text
    assert "Why high (7-9): 6 reasons Patients 6" in text and "6 of 6" not in text
    assert "Why in between (4-6)" in re.sub(r"<[^>]+>", "", nights.group(1))


# ----------------------------------------------------------------------------- in Chromium

PORTS = range(8230, 8260)
"""The ports this file's server may use."""


@pytest.mark.browser
def test_both_pages_in_a_browser(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import tests.browser as browser

    monkeypatch.setattr(browser, "free_port", lambda: browser.free_port_in(PORTS))
    app = desk_app(f"sqlite:///{tmp_path / 'chorus.db'}", tmp_path)
    with browser.running_server(app) as base:
        made = Desk(app, cast(TestClient, None), app.state.desk.clock)  # no test client: the browser asks
        seed(made, per_group=100)
        secret = made.token("coordinator", (STUDY,))
        with browser.chromium_page() as page:
            browser.log_in(page, base, secret)
            page.goto(base + f"/dashboard/studies/{STUDY}/statements")
            first = page.locator("#statement-votes tbody").first
            assert "Carers 92% agree, Staff 32%" in first.locator("th").inner_text()
            rows = {r[0]: r[1:] for r in (tr.locator("td").all_inner_texts() for tr in first.locator("tr").all()[1:])}
            assert rows["Carers"][:2] == ["100", "92%"] and rows["Staff"][:2] == ["100", "32%"], rows
            assert "runs from 0 to 1" in page.inner_text("#consensus-scale")
            browser.screenshot(page, "desk-statements-by-group")

            page.goto(base + f"/dashboard/studies/{STUDY}/delphi")
            reasons = page.locator("#item-info details.reasons")
            quote = reasons.locator("li", has_text="ring me on [PHONE] about it")
            assert not quote.is_visible(), "40 reasons start collapsed"
            reasons.locator("summary").click()
            assert quote.is_visible() and "Carers, scored 1" in quote.inner_text()
            assert page.locator("#item-nights details.reasons li").first.is_visible(), "three start open"
            assert not IDENTIFIERS.search(page.content())
            browser.screenshot(page, "desk-delphi-reasons")
