"""A participant's own idea or statement that gives a phone number or an e-mail address is
shown to everyone else with them masked, and the moderator is told plainly what it held.

Found by exploratory testing: "ADD a nurse who speaks Polish, my number is 07700 900555" was
approved from a moderation list that showed it raw with no warning (while the desk's alert
showed it masked, as if it were already redacted) and then sent, number and all, to every
participant who compared ideas."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.api.labels import approved_submissions
from bot.api.queries import flags_page
from bot.population import details_note, personal_details, shown_text, submissions
from bot.service import ConversationService, ReceiveResult
from storage.database import Database
from storage.tables import FLAGS
from tests.submission_helpers import ideas_service_for, run_submissions, sender

IDEA = "a nurse who speaks Polish, my number is 07700 900555"
STATEMENT = "Carers should park for free, email me at jo.bloggs@example.com"
AUTHOR, OTHER = "+447700900101", "+447700900102"

FLOW = {"flow": "ideas", "steps": [
    {"id": "compare", "type": "pairwise", "text": "Which matters more to you?",
     "ideas": ["Evening visits", "A quiet room"], "pairs": 3},
    {"id": "views", "type": "statements", "text": "What do you think?",
     "statements": ["Visits should be shorter", "Staff are kind"], "per_session": 3},
    {"id": "done", "type": "end", "text": "Thank you."},
]}


@pytest.fixture
def ideas_service(database: Database, tmp_path: Path) -> ConversationService:
    study = {"study": "ideas-study", "title": "Ideas", "languages": ["en"], "timezone": "Europe/London",
             "join": {"start_flow": "ideas", "keyword": "IDEAS"}, "flows": ["ideas.yaml"]}
    return ideas_service_for(database, tmp_path / "ideas-study", study, FLOW)



def _sent(service: ConversationService, result: ReceiveResult) -> list[str]:
    return [row.text for row in service.outbox_for(result.participant_id or "")]



def test_an_approved_idea_with_a_phone_number_reaches_other_participants_masked(
    ideas_service: ConversationService, database: Database,
) -> None:
    author = sender(ideas_service, AUTHOR)
    author("IDEAS")
    author(f"ADD {IDEA}")
    for _ in range(3):
        author("A")
    author(f"ADD {STATEMENT}")

    listed = run_submissions(database)
    assert "07700 900555" not in listed and "jo.bloggs" not in listed, "the list shows what others will see"
    assert "a nurse who speaks Polish, my number is [PHONE]\n\t! contains a phone number: masked as above" in listed
    assert "email me at [EMAIL]\n\t! contains an e-mail address: masked as above" in listed
    assert "2 waiting for moderation (2 with personal details, masked)" in listed
    with database.transaction() as connection:
        held = submissions(connection, "ideas-study")
        alerts = list(connection.execute(select(FLAGS.c.message).where(FLAGS.c.kind == "moderation")).scalars())
    assert [s.text for s in held] == [IDEA, STATEMENT], "the author's words are kept, as answers are"
    assert f"new idea #{held[0].id} to check: a nurse who speaks Polish, my number is [PHONE] (contains a phone number:" in alerts[0]
    assert all("07700" not in alert and "jo.bloggs" not in alert for alert in alerts), "nor stored in the alert"
    desk = flags_page(database, "ideas-study", 10, None, kind="moderation").items
    assert any("contains a phone number: others see it masked" in flag["message"] for flag in desk), "the desk says so too"

    approved = run_submissions(database, "--approve", str(held[0].id), "--approve", str(held[1].id))
    assert f'{held[0].id}: approved, its alert closed (it contains a phone number; participants see: "a nurse who' in approved
    ideas_service.population.forget("ideas-study")  # (the service would see the approval within its minute's cache)

    other = sender(ideas_service, OTHER)
    result = other("IDEAS")
    for reply in ("A", "B", "A", "A", "A", "A"):
        result = other(reply)
    shown = "\n".join(_sent(ideas_service, result))
    assert "A) a nurse who speaks Polish, my number is [PHONE]" in shown or "B) a nurse who speaks Polish, my number is [PHONE]" in shown
    assert "Carers should park for free, email me at [EMAIL]" in shown
    assert "07700" not in shown and "jo.bloggs" not in shown
    assert set(approved_submissions(database, "ideas-study").values()) == {
        "a nurse who speaks Polish, my number is [PHONE]", "Carers should park for free, email me at [EMAIL]"}


def test_a_submission_without_personal_details_is_shown_and_listed_as_written(
    ideas_service: ConversationService, database: Database,
) -> None:
    author = sender(ideas_service, AUTHOR)
    author("IDEAS")
    author("ADD Evening visits for people who work, ward 7 at 4pm")
    listed = run_submissions(database)
    assert "\tEvening visits for people who work, ward 7 at 4pm\n1 waiting for moderation\n" in listed
    assert "!" not in listed
    with database.transaction() as connection:
        [held] = submissions(connection, "ideas-study")
    assert run_submissions(database, "--approve", str(held.id)).strip() == f"{held.id}: approved, its alert closed"


@pytest.mark.parametrize(("text", "shown", "note"), [
    ("call me on +44 7700 900555 or 0161 496 0000", "call me on [PHONE] or [PHONE]", "contains a phone number"),
    ("my NHS number is 943 476 5919 and I live in LS1 4AP", "my NHS number is [NHS_NUMBER] and I live in [POSTCODE]",
     "contains an NHS number and a postcode"),
    ("born 12/03/1985, write to a.b@nhs.net", "born [DOB], write to [EMAIL]", "contains a date of birth and an e-mail address"),
    ("More chairs in bay 4 for 2 hours", "More chairs in bay 4 for 2 hours", ""),
])
def test_what_others_see_and_what_the_moderator_is_told(text: str, shown: str, note: str) -> None:
    assert shown_text(text) == shown
    assert details_note(personal_details(text)) == note
