"""The desk's themes (``POST /api/v1/studies/{id}/themes`` and the Themes page): one open
question at a time, its answers masked as the CLI and exports mask them before the themes are
found, so that no quote or keyword carries a phone number, e-mail or name. On SQLite and
PostgreSQL, with the real embedding model."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.app import create_app
from bot.dashboard import install
from bot.settings import Settings
from nlp.redact import redact
from tests.desk_helpers import Clock, Desk, add_answers, add_flag, coordinator_api, two_studies

STUDY = "ae-waiting"
STORIES = [
    "Please ring me on 07700 900123, my name is Sarah Jones, I waited 3 weeks for an appointment",
    "My son Tom Baker waited on the phone for an hour, email tom.baker@example.com",
    "We waited six hours in the waiting room and nobody told us anything",
    "Six hours waiting with no updates at all, call Sarah Jones on 07700900123",
    "The wait was awful, hours and hours in a cold waiting room",
    "Waited all night in the waiting room, nobody said how long it would be",
]
IDEAS = [
    "A screen showing how long the wait is, write to tom.baker@example.com",
    "A screen with waiting times would help, ask for Tom Baker",
    "Text me on 07700 900123 when it is my turn please",
    "Free water and a cup of tea for people who wait",
    "Water and tea for those waiting, and somewhere warm to sit",
]
IDENTIFIERS = re.compile(r"07700|900123|@|example\.com|\b(?:sarah|jones|tom|baker)\b", re.IGNORECASE)
"""Anything of the phone number, e-mails and names the answers give."""


@contextmanager
def desk_on(database_url: str, tmp_path: Path) -> Iterator[Desk]:
    """The desk (API and pages, no stand-in theme finder) on ``database_url``, a coordinator logged in."""
    settings = Settings(database_url=database_url, studies_dir=two_studies(tmp_path),
                        key_file=tmp_path / "chorus.key", data_key_file=tmp_path / "chorus-data.keys")
    app = create_app(settings)
    install(app, clock=Clock())
    with coordinator_api(app, (STUDY,)) as made:
        yield made


@pytest.fixture
def desk(migrated_database_url: str, tmp_path: Path) -> Iterator[Desk]:
    with desk_on(migrated_database_url, tmp_path) as made:
        yield made


def answer_each(desk: Desk, flow: str, step: str, texts: list[str]) -> None:
    """One participant (patients and carers by turns) per text, answering ``flow``'s ``step`` with it."""
    version = desk.app.state.chorus.studies.current(STUDY, flow).id
    for n, text in enumerate(texts):
        pid, _ = desk.join(STUDY, "patient" if n % 2 else "carer")
        add_answers(desk.database, [{"participant_id": pid, "study_id": STUDY, "flow_id": flow, "flow_version_id": version,
                                     "flow_version": "v", "step_id": step, "value": text, "display": text}])


def themes(desk: Desk, **params: str) -> dict[str, Any]:
    started = desk.client.post(f"/api/v1/studies/{STUDY}/themes", params=params)
    assert started.status_code == 202, started.text
    desk.app.state.desk.jobs.wait(started.json()["id"])
    job = desk.client.get(f"/api/v1/jobs/{started.json()['id']}")
    assert job.status_code == 200 and job.json()["status"] == "done", job.text
    result: dict[str, Any] = job.json()["result"]
    return result


def test_themes_mask_phone_numbers_emails_and_names_in_quotes_and_keywords(desk: Desk) -> None:
    answer_each(desk, "understand", "story", STORIES)
    result = themes(desk, step="story")
    assert result["answers"] == len(STORIES) and result["themes"], result
    found = IDENTIFIERS.findall(json.dumps(result))
    assert not found, f"identifiers in the job's result: {found}"
    quotes = [q for t in result["themes"] for q in t["quotes"]]
    assert set(quotes) <= {redact(s) for s in STORIES}, "every quote is an answer as masked"
    keywords = {k for t in result["themes"] for k in t["keywords"]}
    assert not keywords & {"sarah", "jones", "tom", "baker", "07700", "900123"}, keywords


def test_two_open_questions_get_two_separate_sets_of_themes(desk: Desk) -> None:
    answer_each(desk, "understand", "story", STORIES)
    answer_each(desk, "codesign", "idea", IDEAS)
    story = themes(desk, step="story")
    idea = themes(desk, flow="codesign", step="idea")
    assert (story["flow"], story["step"], story["answers"]) == ("understand", "story", len(STORIES))
    assert (idea["flow"], idea["step"], idea["answers"]) == ("codesign", "idea", len(IDEAS))
    assert story["question"].startswith("What was waiting like?")
    assert {q for t in story["themes"] for q in t["quotes"]} <= {redact(s) for s in STORIES}
    assert {q for t in idea["themes"] for q in t["quotes"]} <= {redact(s) for s in IDEAS}
    assert sum(t["size"] for t in story["themes"]) == len(STORIES)
    assert sum(t["size"] for t in idea["themes"]) == len(IDEAS)
    assert not IDENTIFIERS.findall(json.dumps([story, idea]))


def test_themes_need_an_open_question_named(desk: Desk) -> None:
    unnamed = desk.client.post(f"/api/v1/studies/{STUDY}/themes")
    assert unnamed.status_code == 400
    assert "name an open step with step=...; the study's open steps: story, " in unnamed.json()["detail"]
    not_open = desk.client.post(f"/api/v1/studies/{STUDY}/themes", params={"step": "informed"})
    assert not_open.status_code == 404 and "(it is a scale step)" in not_open.json()["detail"]
    wrong_flow = desk.client.post(f"/api/v1/studies/{STUDY}/themes", params={"flow": "understand", "step": "idea"})
    assert wrong_flow.status_code == 404 and "no open step 'idea' in flow 'understand'" in wrong_flow.json()["detail"]


def test_too_few_answers_to_a_question_say_so(desk: Desk) -> None:
    answer_each(desk, "understand", "story", STORIES[:2])
    answer_each(desk, "codesign", "idea", IDEAS)
    result = themes(desk, step="story")
    assert result["themes"] == [] and result["answers"] == 2, "the ideas are not pooled in"
    assert "at least 3 answers" in result["note"]


def test_the_page_offers_each_open_question_and_starts_on_the_first_answered(desk: Desk) -> None:
    answer_each(desk, "codesign", "idea", IDEAS)
    answer_each(desk, "understand", "story", STORIES[:1])
    token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
    desk.client.post("/login", data={"token": token})
    page = desk.client.get(f"/dashboard/studies/{STUDY}/themes").text
    assert 'data-flow="understand" data-step="story"' in page, "the first open question that has answers"
    assert f'data-start="/api/v1/studies/{STUDY}/themes?flow=understand&amp;step=story"' in page
    assert "What was waiting like?" in page and "1 answer" in page and "5 answers" in page
    for flow, step in (("codesign", "why_not"), ("evaluate", "fft_why")):
        assert f"?flow={flow}&amp;step={step}" in page, "every open question can be chosen"
    chosen = desk.client.get(f"/dashboard/studies/{STUDY}/themes", params={"flow": "codesign", "step": "idea"}).text
    assert 'data-flow="codesign" data-step="idea"' in chosen and "What one change would make waiting better?" in chosen
    assert "themes?flow=codesign&amp;step=idea\"" in chosen and 'aria-current="true">What one change' in chosen
    unknown = desk.client.get(f"/dashboard/studies/{STUDY}/themes", params={"step": "nope"}).text
    assert "No open question &#39;nope&#39;; its open questions: story, " in unknown
    assert not IDENTIFIERS.findall(page + chosen)


def test_the_first_answered_question_is_the_default_even_after_unanswered_ones(desk: Desk) -> None:
    answer_each(desk, "codesign", "idea", IDEAS[:1])
    token = desk.client.headers.pop("Authorization").removeprefix("Bearer ")
    desk.client.post("/login", data={"token": token})
    page = desk.client.get(f"/dashboard/studies/{STUDY}/themes").text
    assert 'data-flow="codesign" data-step="idea"' in page and "themes need at least three" in page


DISCLOSURE = "I waited so long in the waiting room that I can't go on like this, I want to end my life"


def test_an_answer_that_raised_a_safeguarding_flag_counts_in_its_theme_but_is_never_quoted(desk: Desk) -> None:
    answer_each(desk, "understand", "story", [*STORIES[2:4], DISCLOSURE])
    before = themes(desk, step="story")
    assert DISCLOSURE in [q for t in before["themes"] for q in t["quotes"]], "quoted while nothing is flagged"
    with desk.database.reading() as session:
        from sqlalchemy import select

        from storage.tables import ANSWERS
        [discloser] = session.execute(select(ANSWERS.c.participant_id).where(ANSWERS.c.display == DISCLOSURE)).scalars()
    add_flag(desk.database, STUDY, discloser, message="possible risk of suicide")
    after = themes(desk, step="story")
    assert DISCLOSURE not in json.dumps(after) and "end my life" not in json.dumps(after)
    assert [t["size"] for t in after["themes"]] == [t["size"] for t in before["themes"]], "it still counts in its theme"
    assert [len(t["quotes"]) for t in after["themes"]] == [len(t["quote_counts"]) for t in after["themes"]]
    assert sorted(q for t in after["themes"] for q in t["quotes"]) == sorted(map(redact, STORIES[2:4])), "the others instead"


def test_the_share_of_each_group_comes_with_its_number_of_answers(desk: Desk) -> None:
    answer_each(desk, "understand", "story", STORIES[2:])
    result = themes(desk, step="story")
    assert result["group_answers"] == {"carer": 2, "patient": 2}
    assert set(result["prevalence"]) == {"carer", "patient"}
