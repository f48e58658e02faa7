"""A coordinator reading the results of a discharge-planning study (patients, carers and ward
staff, in English and Welsh) that a tester filled through the real conversation service with 64
people: free text, skips, "not sure", STOP halfway, erasures, a two-round Delphi, a ranking,
paired ideas, statements and follow-ups at 2 and 6 weeks, and checked every figure by hand."""

from __future__ import annotations

import itertools
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.safeguarding import Concern, SafetyChecks
from channels.base import InboundMessage
from storage.tables import FLAGS
from tests.desk_helpers import Desk, study_desk

STUDY = "discharge"
ASKED = {
    "study.yaml": """\
study: discharge
title: Going home from the ward
languages: [en]
timezone: Europe/London
groups: [patient, carer]
join:
  start_flow: base
  keyword: HOME
flows: [base.yaml, later.yaml]
schedule:
  - flow: later
    after: 14d
""",
    "base.yaml": """\
flow: base
steps:
  - id: rate
    type: delphi
    delphi: home
    items: [A named contact after discharge]
    ask_reason: true
  - {id: bye, type: end, text: Thanks.}
""",
    "later.yaml": """\
flow: later
steps:
  - {id: better, type: scale, text: "How are you now? 0 to 10", min: 0, max: 10}
  - {id: bye, type: end, text: Thanks.}
""",
}
WORRYING = "there is no point going home to nobody"


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, STUDY, ASKED) as made:
        yield made


def test_a_concern_found_in_the_background_names_the_flow_it_was_written_in(desk: Desk) -> None:
    """The embedding check runs moments after a message. A participant whose last answer of the
    Delphi (a reason) raised a concern was by then in the next flow: the alert said "later /
    rate", a step that flow has not got, and the Delphi page quoted the reason, which the desk
    promises never to do for an answer that raised a safeguarding concern."""
    service = desk.app.state.chorus.service
    release = threading.Event()

    def slow_check(texts: list[str]) -> list[Concern | None]:
        release.wait(30)
        return [Concern("suicide", "a test check") if WORRYING in text else None for text in texts]

    service.safety = SafetyChecks(thorough_batch=slow_check)
    ids = itertools.count()
    people = []
    for n, reason in enumerate([WORRYING, "a named nurse would have helped me a lot", "someone to phone when worried"]):
        joined = service.join("web", f"sim-{n}", STUDY, group="patient")
        for text in ("9", reason):
            service.receive(InboundMessage("web", f"sim-{n}", f"in-{next(ids)}", text))
        people.append(joined.participant_id)
    for participant in people:
        service.start_flow(participant, STUDY, "later")
    release.set()
    service.wait_for_safeguarding()

    with desk.database.transaction() as connection:
        flags = list(connection.execute(select(FLAGS.c.participant_id, FLAGS.c.flow_id, FLAGS.c.step_id)
                                        .where(FLAGS.c.kind == "safeguarding")))
    assert [tuple(f) for f in flags] == [(people[0], "base", "rate")], flags
    report = desk.client.get(f"/api/v1/studies/{STUDY}/reports/delphi").json()["report"]
    reasons = next(row["reasons"] for row in report["items"] if row["group"] == "all")
    quoted = [q["text"] for band in reasons["bands"] for q in band["quotes"]]
    assert reasons["total"] == 3 and reasons["held_back"] == 1, reasons
    assert WORRYING not in " ".join(quoted) and len(quoted) == 2, quoted


CODED = {
    "study.yaml": """\
study: coded
title: Going home from the ward
languages: [en, cy]
timezone: Europe/London
groups: [patient, carer]
join:
  start_flow: base
  keyword: HOME
""",
    "base.yaml": """\
flow: base
steps:
  - id: rate
    type: delphi
    delphi: home
    items:
      - {id: meds, text: {en: Medicines explained before leaving, cy: Esbonio meddyginiaethau}}
      - {id: carer, text: {en: Carers told the discharge date, cy: Dweud wrth ofalwyr}}
  - id: first
    type: rank
    text: {en: "What first? e.g. 2 1", cy: "Beth gyntaf?"}
    options:
      - {value: delays, label: {en: Waiting for medicines to take home, cy: Aros am feddyginiaethau}}
      - {value: transport, label: {en: Transport home, cy: Cludiant adref}}
  - id: compare
    type: pairwise
    text: {en: Which matters more?, cy: Pa un?}
    ideas:
      - {id: pharmacy, text: {en: A ward pharmacist on every shift, cy: Fferyllydd ward}}
      - {id: phone, text: {en: A phone call the day after, cy: Galwad ffôn}}
    pairs: 1
  - id: views
    type: statements
    text: {en: What do you think?, cy: Beth yw eich barn?}
    statements:
      - {id: s1, text: {en: Carers are told too late., cy: Mae gofalwyr yn cael gwybod yn rhy hwyr.}}
      - {id: s2, text: {en: Weekend discharges are unsafe., cy: Mae rhyddhau ar y penwythnos yn anniogel.}}
    per_session: 2
  - {id: bye, type: end, text: {en: Thanks., cy: Diolch.}}
""",
}


def test_chorus_report_names_items_options_and_ideas_as_participants_saw_them(tmp_path: Path) -> None:
    """The desk showed "Carers told the discharge date"; `chorus report` showed only the code
    ("carer", in a table whose group column also says "carer"), charted the ranking by "delays"
    and the ideas by "pharmacy", and its pairwise `text` column repeated the code."""
    import pandas as pd

    from bot.report import gather, write_report

    with study_desk(tmp_path, "coded", CODED) as made:
        service = made.app.state.chorus.service
        ids = itertools.count()
        for n in range(6):
            joined = service.join("web", f"sim-{n}", "coded", group="patient" if n % 2 else "carer", language="cy" if n % 3 == 0 else "en")
            for text in ("8", "7", "2 1", "A", "1", "1"):
                service.receive(InboundMessage("web", f"sim-{n}", f"in-{next(ids)}", text))
            assert service.outbox_for(joined.participant_id)[-1].text in ("Thanks.", "Diolch.")
        written = {path.name: path for path in write_report(gather(made.database, "coded"), tmp_path / "report")}
    summary = pd.read_csv(written["delphi-home-summary.csv"])
    assert dict(zip(summary["item"], summary["text"], strict=True)) == {
        "meds": "Medicines explained before leaving", "carer": "Carers told the discharge date"}
    ranking = pd.read_csv(written["rank-first.csv"])
    assert dict(zip(ranking["option"], ranking["text"], strict=True)) == {
        "delays": "Waiting for medicines to take home", "transport": "Transport home"}
    pairwise = pd.read_csv(written["pairwise-compare.csv"])
    assert dict(zip(pairwise["item"], pairwise["text"], strict=True)) == {
        "pharmacy": "A ward pharmacist on every shift", "phone": "A phone call the day after"}
    by_group = pd.read_csv(written["statements-views-by-group.csv"])
    assert set(zip(by_group["statement"], by_group["text"], strict=True)) == {
        ("s1", "Carers are told too late."), ("s2", "Weekend discharges are unsafe.")}
    for chart in ("delphi-home-round1", "rank-first", "pairwise-compare"):
        drawn = written[f"{chart}.svg"].read_text(encoding="utf-8")
        assert "Transport home" in drawn or "Carers told" in drawn or "A ward pharmacist" in drawn, chart


SCALED = {
    "study.yaml": """\
study: scaled
title: Going home from the ward
languages: [en, cy]
timezone: Europe/London
groups:
  - {id: staff, label: Ward staff}
  - {id: patient, label: Patients}
join:
  start_flow: base
  keyword: HOME
""",
    "base.yaml": """\
flow: base
steps:
  - id: confidence
    type: scale
    text: {en: "How confident were you about going home? 0 to 10", cy: "Pa mor hyderus? 0 i 10"}
    min: 0
    max: 10
    unsure: true
  - {id: bye, type: end, text: {en: Thanks., cy: Diolch.}}
""",
}


def test_a_scales_mean_says_whom_it_counts_in_group_labels_and_the_studys_order(tmp_path: Path) -> None:
    """"50 answered" above "Mean: all 5.61; carer 4.75; patient 5.19; staff 6.69": the mean
    quietly left out the 6 who were not sure, gave no n, and named the groups by code in
    alphabetical order while the table above used their labels in the study's order."""
    import html
    import re

    with study_desk(tmp_path, "scaled", SCALED) as made:
        service = made.app.state.chorus.service
        ids = itertools.count()
        replies = [("staff", "en", "8"), ("staff", "cy", "6"), ("staff", "en", "not sure"),
                   ("patient", "en", "2"), ("patient", "cy", "ddim yn siŵr"), ("patient", "en", "4"), ("patient", "en", "3")]
        for n, (group, language, reply) in enumerate(replies):
            service.join("web", f"sim-{n}", "scaled", group=group, language=language)
            service.receive(InboundMessage("web", f"sim-{n}", f"in-{next(ids)}", reply))
        page = made.client.get("/dashboard/studies/scaled/results").text
        result = next(r for r in made.client.get("/api/v1/studies/scaled/reports/results").json()["report"] if r["step"] == "confidence")
    section = page.split('id="step-base-confidence"', 1)[1].split("</section>", 1)[0]
    assert "7 answered" in section, section
    line = html.unescape(" ".join(re.sub(r"<[^>]+>", " ", section.split('class="means"', 1)[1].split("</p>", 1)[0]).split()))
    assert line.lstrip("> ").startswith("Mean of the 5 who gave a number (2 not sure left out):"), line
    assert "Everyone 4.60 (n=5); Ward staff 7.00 (n=2); Patients 3.00 (n=3)" in line, line
    assert result["mean_n"] == {"all": 5, "staff": 2, "patient": 3} and result["mean"]["all"] == 4.6, result


def test_rankings_and_pairwise_list_groups_in_the_studys_order_as_the_other_tabs(tmp_path: Path) -> None:
    """The Delphi, Results and Statements tabs list Everyone, then the groups as study.yaml
    orders them; the Rankings and Pairwise tabs listed them alphabetically by code (Carers
    before Patients here), so the same group sat in a different place tab by tab."""
    import re

    files = {**CODED, "study.yaml": CODED["study.yaml"].replace("groups: [patient, carer]", "groups:\n  - {id: staff, label: Ward staff}\n  - {id: patient, label: Patients}\n  - {id: carer, label: Carers}")}
    with study_desk(tmp_path, "coded", files) as made:
        service = made.app.state.chorus.service
        ids = itertools.count()
        for n in range(6):
            service.join("web", f"sim-{n}", "coded", group=("staff", "patient", "carer")[n % 3])
            for text in ("8", "7", ("2 1", "1 2")[n % 2], "AB"[n % 2], "1", "1"):
                service.receive(InboundMessage("web", f"sim-{n}", f"in-{next(ids)}", text))
        for tab in ("ranking", "pairwise"):
            page = made.client.get(f"/dashboard/studies/coded/{tab}").text
            headings = [h.strip() for h in re.findall(r"<h2[^>]*>([^<]+)</h2>", page)]
            assert [h for h in headings if h in ("Everyone", "Ward staff", "Patients", "Carers")] == ["Everyone", "Ward staff", "Patients", "Carers"], (tab, headings)


def test_delphi_movement_says_which_way_scores_moved_beside_the_medians_shift() -> None:
    """41 people scored "Carers told the discharge date" in both rounds: 3 moved up a point,
    3 down, 35 kept their score, and no group's median moved; yet "Median shift -1.0" for
    everyone read as the panel marking the item down (the median of a 1-9 scale sat on the
    edge of 6 and 7). The table now says how many moved up and down, and the two medians."""
    import pandas as pd

    from flows.analysis.delphi import movement

    before = [6] * 12 + [7] * 12 + [9] * 7 + [5] * 6 + [8] * 3 + [4]
    after = list(before)
    for n, delta in ((12, -1), (13, -1), (14, -1), (31, +1), (32, +1), (33, +1)):  # three 7s down to 6, three 5s up to 6
        after[n] += delta
    rows = [{"participant": f"p{n}", "group": "carer" if n % 2 else "patient", "round": r, "item": "carer", "score": s}
            for r, scores in ((1, before), (2, after)) for n, s in enumerate(scores)]
    moved = movement(pd.DataFrame(rows)).set_index("group").loc["all"]
    assert (moved["n_paired"], moved["n_changed"], moved["n_up"], moved["n_down"]) == (41, 6, 3, 3)
    assert (moved["median_before"], moved["median_after"], moved["median_shift"]) == (7.0, 6.0, -1.0)
