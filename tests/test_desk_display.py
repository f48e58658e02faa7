"""What coordinators read must be readable: a question's text shows as words, not Jinja source
(flows.display_text), on the desk and in exports; a choice experiment's model codes
(``who[a community nurse]``) show as "Who: a community nurse" on the desk, in its charts and in
``chorus report``, with the codes kept beside them; and a long chart label wraps instead of
being cut off."""

from __future__ import annotations

import csv
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from bot.app import create_app
from bot.dashboard import install
from bot.export import export_study
from bot.report import ReportInput, write_report
from bot.service import ConversationService, ReceiveResult
from bot.settings import Settings
from flows.display_text import ChoiceWords, display_text
from flows.loader import load_flow
from flows.population import ItemRecord
from flows.steps.choice_experiment import LETTERS, ChoiceExperimentStep
from storage.auth import create_token
from storage.database import Database
from tests.browser import chromium_page, log_in, running_server, screenshot
from tests.desk_helpers import Desk, add_answers, desk_app, study_desk, two_studies

EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"
STORY_EN = "What was waiting like?{% if participant.channel != 'sms' %} Type, or send a voice note.{% endif %}"
STORY_READ = "What was waiting like? [Type, or send a voice note.]"
JINJA = re.compile(r"\{\{|\{%|\{#|%\}|\}\}")
PORTS = range(8200, 8230)
"""The ports this task's servers may use."""


# ----------------------------------------------------------------------------- the one function


def test_a_conditional_part_reads_in_brackets_in_the_study_s_language() -> None:
    text = {"en": STORY_EN, "cy": "Sut brofiad oedd aros?{% if participant.channel != 'sms' %} Teipiwch, neu anfonwch neges llais.{% endif %}"}
    assert display_text(text, "en") == STORY_READ
    assert display_text(text, "cy") == "Sut brofiad oedd aros? [Teipiwch, neu anfonwch neges llais.]"
    assert display_text(text, "pl") == STORY_READ, "a language the text lacks falls back to English"


@pytest.mark.parametrize(("source", "read"), [
    ("Hello {{ participant.name or 'there' }}. Reply YES.", "Hello [participant.name]. Reply YES."),
    ("You said {{ answers['role'] | lower }}.", "You said [answers.role]."),
    ("{% if participant.group == 'staff' %}Your team{% elif answers.role %}Your carer{% else %}The team{% endif %} thanks you.",
     "[Your team / Your carer / The team] thanks you."),
    ("{{ 'Tap' if participant.channel == 'telegram' else 'Reply' }} YES to go on.", "[Tap / Reply] YES to go on."),
    ("Welcome to {{ study.title }}.", "Welcome to Waiting in A&E."),
    ("Round {{ round }}{# a note to ourselves #}: {% set n = 3 %}{{ values.score + 1 }} points", "Round [round]: [values.score] points"),
    ("Your picks: {% for pick in answers.picks %}{{ pick }}, {% endfor %}thanks.", "Your picks: [answers.picks] thanks."),
    ("No template here {at all}.", "No template here {at all}."),
])
def test_values_filled_in_per_participant_read_as_their_names(source: str, read: str) -> None:
    assert display_text(source, "en", "Waiting in A&E") == read


def test_without_the_study_s_title_it_reads_as_its_name() -> None:
    assert display_text("Welcome to {{ study.title }}.", "en") == "Welcome to [study.title]."


@pytest.mark.parametrize(("broken", "read"), [
    ("Hello {{ participant.name ", "Hello [participant.name]"),
    ("Hello {% if participant.name %}friend", "Hello friend"),
    ("Score {{ answers.score | }} of 9 {% endfor %}", "Score [answers.score] of 9"),
    ("{{ }} nothing", "nothing"),
])
def test_a_text_jinja_cannot_read_has_its_tags_stripped_and_never_raises(broken: str, read: str) -> None:
    assert display_text(broken, "en") == read


def test_no_text_of_the_example_studies_reaches_a_coordinator_as_jinja() -> None:
    """Every step's text in every example flow, in each of its languages."""
    checked = 0
    for path in sorted(EXAMPLES.glob("*/*.yaml")):
        if path.name == "study.yaml":
            continue
        for step in load_flow(path).flow.steps:
            texts = step.text.values() if isinstance(step.text, dict) else [step.text]
            for text in texts:
                shown = display_text(text, "en")
                assert not JINJA.search(shown), (path.name, step.id, shown)
                checked += "{" in (text or "")
    assert checked >= 4, "the examples have templated texts to check"


# ----------------------------------------------------------------------------- exports


def test_the_export_s_question_column_and_data_dictionary_read_as_words(
        service: ConversationService, database: Database, say: Callable[..., ReceiveResult], tmp_path: Path) -> None:
    for reply in ("WAIT", "yes", "staff", "1 3", "Hours on a trolley", "5"):
        say(reply)
    result = export_study(database, "ae-waiting", tmp_path)
    with result.answers.open(encoding="utf-8", newline="") as handle:
        rows = {r["step"]: r for r in csv.DictReader(handle)}
    assert rows["story"]["question"] == STORY_READ and rows["story"]["raw"] == "Hours on a trolley"
    assert rows["consent"]["question"].startswith("Hello [participant.name]. The A&E team wants to hear about waiting.")
    assert rows["shift"]["question"] == "Which shifts do you usually work?", "a plain text as written"
    with result.dictionary_csv.open(encoding="utf-8", newline="") as handle:
        described = {(r["section"], r["name"]): r["description"] for r in csv.DictReader(handle) if r["section"] != "item"}
    assert described[("step", "story")] == STORY_READ
    assert "[brackets]" in described[("column", "question")]
    markdown = result.dictionary_md.read_text(encoding="utf-8")
    assert STORY_READ in markdown and not JINJA.search(markdown.replace("{% if %}", ""))


# ----------------------------------------------------------------------------- the desk's questions


def _story_answers(app: Any, texts: list[str]) -> None:
    chorus = app.state.chorus
    version = chorus.studies.current("ae-waiting", "understand").id
    for n, text in enumerate(texts):
        pid = chorus.service.join("web", f"sim-story-{n}", "ae-waiting", group="patient").participant_id
        add_answers(chorus.database, [{"participant_id": pid, "study_id": "ae-waiting", "flow_id": "understand",
                                       "flow_version_id": version, "flow_version": "v", "step_id": "story",
                                       "value": text, "display": text}])


def test_the_themes_and_results_pages_show_the_question_as_words(tmp_path: Path) -> None:
    with desk_app(tmp_path) as desk:
        desk.client.post("/login", data={"token": desk.token()})
        _story_answers(desk.app, ["Too long", "Nobody told us anything"])
        themes = desk.client.get("/dashboard/studies/ae-waiting/themes").text
        assert f"Themes in the answers to: {STORY_READ} <small>" in themes
        assert f">{STORY_READ}</a>" in themes, "in the list of open questions too"
        assert 'id="brackets-note"' in themes, "the page says what the brackets mean"
        results = desk.client.get("/dashboard/studies/ae-waiting/results").text
        assert f'<p class="question">{STORY_READ}</p>' in results
        for page in (themes, results):
            assert not JINJA.search(page.split("<main", 1)[-1]), "no template source on the page"
        report = desk.client.get("/api/v1/studies/ae-waiting/reports/results").json()["report"]
        assert {r["question"] for r in report if r["step"] == "story"} == {STORY_READ}


# ----------------------------------------------------------------------------- choice experiments

STUDY_YAML = """\
study: appointments
title: Appointments
languages: [en]
groups: [patient]
join:
  start_flow: choices
  keyword: APPOINT
"""
LONG_LEVEL = "a pharmacist at the chemist on the high street near where you live"
CHOICES_YAML = f"""\
flow: choices
steps:
  - id: appointment
    type: choice_experiment
    text: "Which would you choose{{% if participant.channel == 'sms' %}} (reply A, B or N){{% endif %}}?"
    attributes:
      wait: {{levels: [1, 2, 4], labels: {{1: 1 week, 2: 2 weeks, 4: 4 weeks}}, better: lower}}
      who: [your own GP, a community nurse, {LONG_LEVEL}]
      how: [at home, video call, phone call]
    opt_out: true
    tasks: 6
    blocks: 2
  - id: done
    type: end
    text: Thank you.
"""
PEOPLE = 120


def _choices(step: ChoiceExperimentStep, rng: np.random.Generator) -> list[tuple[str, dict[str, Any]]]:
    """One participant's block, each task chosen by a random utility (Gumbel errors)."""
    levels = {name: spec.levels for name, spec in step.attributes.items()}
    block = int(rng.integers(step.blocks))
    found = []
    for task in (t for t, b in enumerate(step.design().blocks) if int(b) == block):
        profiles = step.profiles(task)
        utility = [-0.4 * p["wait"] + 0.4 * levels["who"].index(p["who"]) - 0.4 * levels["how"].index(p["how"]) for p in profiles]
        picked = int(np.argmax(np.array([*utility, -0.5]) + rng.gumbel(size=len(profiles) + 1)))
        chosen = 0 if picked == len(profiles) else picked + 1
        found.append((f"task{task + 1}", {"block": block + 1, "task": task + 1, "choice": LETTERS[picked] if chosen else "none",
                                          "chosen": chosen, "alternatives": profiles, "opt_out": True}))
    return found


def _step(folder: Path) -> ChoiceExperimentStep:
    step = load_flow(folder / "choices.yaml").flow.step("appointment")
    assert isinstance(step, ChoiceExperimentStep)
    return step


def _answer_choices(app: Any, folder: Path) -> None:
    """PEOPLE participants of the appointments study (in ``folder``), each answering a block of tasks."""
    chorus = app.state.chorus
    published = chorus.studies.current("appointments", "choices")
    rng = np.random.default_rng(5)
    rows = []
    for n in range(PEOPLE):
        pid = chorus.service.join("web", f"sim-choice-{n}", "appointments", group="patient").participant_id
        rows += [{"participant_id": pid, "study_id": "appointments", "flow_id": "choices", "flow_version_id": published.id,
                  "flow_version": published.version, "step_id": "appointment", "item": item, "value": value}
                 for item, value in _choices(_step(folder), rng)]
    add_answers(chorus.database, rows)


@pytest.fixture
def choice(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, "appointments", {"study.yaml": STUDY_YAML, "choices.yaml": CHOICES_YAML}) as desk:
        _answer_choices(desk.app, tmp_path / "studies" / "appointments")
        yield desk


def test_the_choice_report_gives_words_beside_its_codes(choice: Desk) -> None:
    report = choice.client.get("/api/v1/studies/appointments/reports/choice").json()["report"]
    labels = {c["feature"]: c["label"] for c in report["coefficients"]}
    assert labels == {"optout": "Neither", "wait": "Wait, per week", "who[a community nurse]": "Who: a community nurse",
                      f"who[{LONG_LEVEL}]": f"Who: {LONG_LEVEL}", "how[video call]": "How: video call",
                      "how[phone call]": "How: phone call"}, "every code kept, each with its words"
    trades = report["trade_offs"]
    assert trades and {t["against"] for t in trades} == {"wait"} and {t["against_label"] for t in trades} == {"weeks of wait"}
    assert {t["feature"]: t["label"] for t in trades} == {f: label for f, label in labels.items() if f != "wait"}
    assert report["reference_levels"] == {"who": "your own GP", "how": "at home"}
    assert report["reference_level_labels"] == {"who": "your own GP", "how": "at home"}
    assert report["attribute_labels"] == {"wait": "Wait", "who": "Who", "how": "How"}


def test_the_choice_page_shows_attributes_and_levels_in_words(choice: Desk) -> None:
    page = choice.client.get("/dashboard/studies/appointments/choice").text
    assert '<td title="code: who[a community nurse]">Who: a community nurse</td>' in page
    assert '<td title="code: optout">Neither</td>' in page and '<td title="code: wait">Wait, per week</td>' in page
    assert '<td title="code: who">Who</td>' in page, "the importance table names attributes in words"
    assert "Worth, in weeks of wait</th>" in page and "The change in weeks of wait that offsets each feature" in page
    note = re.sub(r"<[^>]+>", "", page.split('id="reference-levels"', 1)[1].split("</p>", 1)[0])
    assert "(How: at home; Who: your own GP)" in note and "Neither is the estimate for taking none of the options" in note
    shown = re.sub(r'title="[^"]*"|<title>.*?</title>', "", page)
    assert "who[" not in shown and "optout" not in shown, "codes only in tooltips"


def test_the_choice_chart_wraps_its_longest_label_and_keeps_codes_in_tooltips(choice: Desk) -> None:
    drawn = choice.client.get("/api/v1/studies/appointments/charts/choice?format=svg").text
    assert f"<title>Who: {LONG_LEVEL} (code: who[{LONG_LEVEL}])</title>" in drawn
    lines = re.findall(r"<tspan [^>]*>(.*?)</tspan>", drawn)
    assert " ".join(lines) == f"Who: {LONG_LEVEL}", "on two lines, nothing cut"
    assert ">Who: a community nurse<title>" in drawn and "…" not in drawn
    png = choice.client.get("/api/v1/studies/appointments/charts/choice?format=png")
    assert png.status_code == 200 and png.content[:4] == b"\x89PNG"


def test_chorus_report_writes_words_beside_the_choice_codes(tmp_path: Path) -> None:
    folder = tmp_path / "appointments"
    folder.mkdir()
    (folder / "choices.yaml").write_text(CHOICES_YAML, encoding="utf-8")
    step = _step(folder)
    rng = np.random.default_rng(9)
    records = [ItemRecord(f"p-{n}", "patient", "appointment", item, value) for n in range(PEOPLE) for item, value in _choices(step, rng)]
    written = {p.name: p for p in write_report(ReportInput("appointments", {"appointment": step}, records), tmp_path / "out")}
    estimates = pd.read_csv(written["choice_experiment-appointment-estimates.csv"])
    by_code = dict(zip(estimates["feature"], estimates["label"], strict=True))
    assert by_code["who[a community nurse]"] == "Who: a community nurse" and by_code["opt_out"] == "Neither"
    assert by_code["wait"] == "Wait, per week" and list(estimates.columns[:2]) == ["feature", "label"]
    importance = pd.read_csv(written["choice_experiment-appointment-importance.csv"])
    assert set(zip(importance["attribute"], importance["attribute_label"], strict=True)) == {("wait", "Wait"), ("who", "Who"), ("how", "How")}
    trades = pd.read_csv(written["choice_experiment-appointment-trade-offs.csv"])
    assert set(trades["against_label"]) == {"weeks of wait"} and "Who: a community nurse" in set(trades["label"])
    assert f"Who: {LONG_LEVEL[:20]}" in written["choice_experiment-appointment-estimates.svg"].read_text(encoding="utf-8")


def test_choice_words_read_the_flow_s_labels_units_and_languages() -> None:
    steps = [{"attributes": {
        "travel_time": {"levels": [10, 30], "labels": {"10": {"en": "10 minutes", "cy": "10 munud"}, "30": {"en": "30 minutes", "cy": "30 munud"}}},
        "cost": {"levels": [0, 5, 20], "labels": {"0": "free", "5": "£5", "20": "£20"}},
        "place": {"levels": ["gp", "hospital"], "labels": {"gp": {"en": "your GP surgery", "cy": "eich meddygfa"}}},
        "days": [1, 3],
    }, "neither_label": {"en": "Neither of these", "cy": "Dim un"}}]
    english = ChoiceWords.of(steps, "en")
    assert english.feature("travel_time") == "Travel time, per minute" and english.amount("travel_time") == "minutes of travel time"
    assert english.feature("cost") == "Cost, per £1" and english.amount("cost") == "cost (£)"
    assert english.feature("place[gp]") == "Place: your GP surgery" and english.feature("place[hospital]") == "Place: hospital"
    assert english.feature("days") == "Days" and english.amount("days") == "days", "a number with no unit in its labels"
    assert english.feature("opt_out") == english.feature("optout") == "Neither of these"
    assert english.feature("colour[red]") == "colour[red]", "a code the flow does not list stays a code"
    welsh = ChoiceWords.of(steps, "cy")
    assert welsh.feature("place[gp]") == "Place: eich meddygfa" and welsh.feature("optout") == "Dim un"
    assert welsh.amount("travel_time") == "travel time (munud)", "no English glue around a Welsh unit"
    labelled = ChoiceWords.of([{"attributes": {"wait": {"levels": [1, 2], "label": "Waiting time", "unit": "days"}}}], "en")
    assert labelled.feature("wait") == "Waiting time, per day" and labelled.amount("wait") == "days of waiting time"


# ----------------------------------------------------------------------------- in a browser


ROW_LABEL_BOXES = """() => [...document.querySelectorAll('svg.chart text[text-anchor=end]')].map(t => {
  const box = t.getBoundingClientRect(), frame = t.closest('svg').getBoundingClientRect();
  return {text: [...t.childNodes].filter(n => n.nodeName !== 'title').map(n => n.textContent).join(' '),
          left: box.left - frame.left, right: frame.right - box.right};
})"""


def _app(root: Path, studies: Path) -> Any:
    settings = Settings(database_url=f"sqlite:///{root / 'chorus.db'}", studies_dir=studies,
                        key_file=root / "chorus.key", data_key_file=root / "chorus-data.keys")
    app = create_app(settings)
    install(app)
    return app


def _token(app: Any, study: str) -> str:
    secret, _ = create_token(app.state.chorus.database, "Dr Rhys", "coordinator", [study], datetime.now(UTC))
    return secret


@pytest.mark.browser
def test_a_coordinator_reads_the_themes_and_choice_pages_in_words(tmp_path: Path) -> None:
    folder = tmp_path / "choice" / "studies" / "appointments"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY_YAML, encoding="utf-8")
    (folder / "choices.yaml").write_text(CHOICES_YAML, encoding="utf-8")
    (tmp_path / "waiting").mkdir()
    choice, waiting = _app(tmp_path / "choice", folder.parent), _app(tmp_path / "waiting", two_studies(tmp_path / "waiting"))
    with running_server(choice, PORTS) as choice_base, running_server(waiting, PORTS) as waiting_base, chromium_page() as page:
        _answer_choices(choice, folder)
        _story_answers(waiting, ["Too long", "Nobody told us anything", "Cold and loud"])
        log_in(page, waiting_base, _token(waiting, "ae-waiting"))
        page.goto(f"{waiting_base}/dashboard/studies/ae-waiting/themes")
        heading = page.inner_text("#themes-for h2")
        assert heading.startswith(f"Themes in the answers to: {STORY_READ}"), heading
        assert not JINJA.search(page.inner_text("main")), "no template source anywhere on the page"
        screenshot(page, "desk-themes-question-in-words")

        log_in(page, choice_base, _token(choice, "appointments"))
        page.goto(f"{choice_base}/dashboard/studies/appointments/choice")
        page.wait_for_selector("svg.chart")
        visible = page.inner_text("main")
        assert "Who: a community nurse" in visible and "Worth, in weeks of wait" in visible
        assert "who[" not in visible and "optout" not in visible
        boxes = page.evaluate(ROW_LABEL_BOXES)
        assert {b["text"] for b in boxes} >= {f"Who: {LONG_LEVEL}", "Neither", "Wait, per week"}, boxes
        assert all(b["left"] >= 0 and b["right"] > 0 for b in boxes), "every label inside the chart, none cut off"
        screenshot(page, "desk-choice-in-words")
