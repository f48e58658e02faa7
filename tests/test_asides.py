"""A story told at a question that takes no free text is kept as a comment on the step (an
aside, flows/asides.py), acknowledged, and the question asked again without using a try; the
comment is in the export and the report, goes with an erasure, and is read for safeguarding."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.comments import COMMENT_COLUMNS, comments_for_step, desk_comments, flagged_comments
from bot.export import export_study
from bot.report import gather, write_report
from bot.service import ConversationService
from flows.asides import FREE_ASIDES, long_enough
from flows.events import RecordAnswer, RecordComment
from storage.database import Database
from storage.tables import COMMENTS, FLAGS
from tests.engine_chat import Chat
from tests.test_erasure import Say

STORY = "well the nurse was lovely but we waited six hours and my dad was in pain the whole time"
CHOICE = {"id": "role", "type": "choice", "text": "Who are you?", "options": ["Patient", "Carer", "NHS staff"]}
SCALE = {"id": "rate", "type": "scale", "text": "How was it?", "min": 1, "max": 5}
YESNO = {"id": "seen", "type": "yesno", "text": "Were you seen within 4 hours?"}
END = {"id": "end", "type": "end", "text": "Bye"}


def comments(sprint: object) -> list[RecordComment]:
    return [e for e in sprint.events if isinstance(e, RecordComment)]  # type: ignore[attr-defined]


@pytest.mark.parametrize("step", [CHOICE, SCALE, YESNO], ids=["choice", "scale", "yesno"])
def test_a_story_is_kept_as_a_comment_and_the_question_asked_again_without_a_try(step: dict[str, object]) -> None:
    chat = Chat({**step, "max_tries": 1}, END)
    sprint = chat.send(STORY)
    assert comments(sprint) == [RecordComment(str(step["id"]), STORY, "text")]
    assert not [e for e in sprint.events if isinstance(e, RecordAnswer)]
    said = [m.text for m in sprint.messages()]
    assert said[0] == "Thank you, we've noted that." and said[1].startswith(str(step["text"]))
    assert chat.state.tries == 0 and chat.state.step == step["id"]  # with max_tries 1, an unclear reply would skip it


def test_tries_at_the_question_are_not_asides() -> None:
    for reply in ("not sure", "i would say carer really honestly", "it was ok i guess but not great"):
        chat = Chat(SCALE if "ok" in reply else CHOICE, END)
        assert comments(chat.send(reply)) == [], reply
    chat = Chat(CHOICE, END)  # a number the question takes is a try: '2' picks Carer
    assert comments(chat.send("2 i think but it is hard to say really")) == []


def test_only_the_first_asides_at_a_question_use_no_try_and_every_one_is_kept() -> None:
    chat = Chat({**CHOICE, "max_tries": 5}, END)
    for _ in range(FREE_ASIDES):
        chat.send(STORY)
    assert chat.state.tries == 0
    sprint = chat.send(STORY)
    assert len(comments(sprint)) == 1 and chat.state.tries == 1
    assert "Thank you, we've noted that." not in [m.text for m in sprint.messages()]


def test_the_rule_counts_words_in_any_script() -> None:
    assert long_enough(STORY) and long_enough("Fuimos al hospital y esperamos seis horas")
    assert long_enough("病院で六時間も待たされて父はずっと痛がっていました")
    assert not long_enough("the blue one please") and not long_enough("I don't mind")


def test_consent_keeps_nothing() -> None:
    chat = Chat({"id": "consent", "type": "consent", "text": "Reply YES to take part."}, END)
    assert comments(chat.send(STORY)) == []


def test_a_comment_is_stored_exported_reported_and_erased(service: ConversationService, database: Database, say: Say,
                                                          tmp_path: Path) -> None:
    for reply in ("WAIT", "yes"):
        say(reply)
    result = say(STORY)
    assert result.participant_id is not None
    with database.transaction() as connection:
        rows = list(connection.execute(select(COMMENTS.c.step_id, COMMENTS.c.text, COMMENTS.c.participant_id)))
    assert [(r.text, r.participant_id) for r in rows] == [(STORY, result.participant_id)]
    step = rows[0].step_id
    exported = export_study(database, "ae-waiting", tmp_path / "export")
    assert exported.comments is not None and STORY in exported.comments.read_text(encoding="utf-8")
    assert STORY not in exported.answers.read_text(encoding="utf-8")
    with exported.dictionary_csv.open(encoding="utf-8") as file:
        described = [row["name"] for row in csv.DictReader(file) if row["section"] == "comments_column"]
    assert described == COMMENT_COLUMNS == next(csv.reader(exported.comments.open(encoding="utf-8")))
    markdown = exported.dictionary_md.read_text(encoding="utf-8")
    assert "## Columns of the comments file (ae-waiting-comments.csv)" in markdown and "| written_at | When the comment" in markdown
    written = write_report(gather(database, "ae-waiting"), tmp_path / "report")
    assert any(path.name == "comments.csv" and STORY in path.read_text(encoding="utf-8") for path in written)
    assert [text for _, text, _ in comments_for_step(database, "ae-waiting", step)] == [STORY]
    ((flow, shown_step), on_desk), = desk_comments(database, "ae-waiting").items()  # the desk's query, on each database
    assert shown_step == step and on_desk.total == 1 and [c.text for c in on_desk.shown] == [STORY] and on_desk.held_back == 0
    say("patient")  # the question still answers as before
    say("Delete my data")
    assert say("YES").status == "erased"
    with database.transaction() as connection:
        assert list(connection.execute(select(COMMENTS.c.id))) == []


def test_an_aside_is_read_for_safeguarding(service: ConversationService, database: Database, say: Say) -> None:
    for reply in ("WAIT", "yes"):
        say(reply)
    say("honestly after all that waiting i want to kill myself tonight")
    with database.transaction() as connection:
        kept = list(connection.execute(select(COMMENTS.c.text)).scalars())
        flags = list(connection.execute(select(FLAGS.c.kind).where(FLAGS.c.kind == "safeguarding")).scalars())
    assert kept == ["honestly after all that waiting i want to kill myself tonight"] and flags == ["safeguarding"]
    (held,) = desk_comments(database, "ae-waiting").values()  # the desk counts it but does not quote it
    assert (held.total, held.held_back, held.shown) == (1, 1, [])
    assert comments_for_step(database, "ae-waiting")[0][0] in flagged_comments(database, "ae-waiting")  # nor do themes
