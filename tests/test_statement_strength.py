"""How strongly a statement vote is put shows in its display. The statements step's scale is
agree / disagree / pass, analysed as 1 / -1 / 0 as Pol.is does, so 'strongly agree' is stored
as the vote 1, as it always was; but its display says 'agree (strongly)', not a plain 'agree'
that would hide what was said ('somewhat' for 'slightly disagree', 'mostly agree'). A scale
step whose labels hold 'Strongly agree' maps the words to that point itself."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlmodel import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.model import Flow
from storage.database import Database
from storage.tables import AnswerRow

NOW = datetime(2030, 1, 1, tzinfo=UTC)
STATEMENTS = ["More nurses at night", "Free parking for carers", "Texts before a visit"]
STEP = {"id": "views", "type": "statements", "text": "What do you think?", "statements": STATEMENTS, "per_session": 3,
        "submissions": False}


def votes(*replies: str | tuple[str, str]) -> list[RecordAnswer]:
    """The answers a participant's replies record; a tuple is a tap (text, button)."""
    engine = Engine(Flow.model_validate({"flow": "f", "steps": [STEP, {"id": "bye", "type": "end", "text": "Thanks."}]}))
    state = engine.start(NOW, seed=3).state
    recorded: list[RecordAnswer] = []
    for reply in replies:
        text, button = reply if isinstance(reply, tuple) else (reply, None)
        sprint = engine.handle(state, TextInput(text, button=button), NOW)
        state = sprint.state
        recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
    return recorded


@pytest.mark.parametrize(("reply", "value", "display"), [
    ("strongly agree", 1, "agree (strongly)"), ("I totally agree with that", 1, "agree (strongly)"),
    ("cytuno'n gryf", 1, "agree (strongly)"), ("Strongly disagree!", -1, "disagree (strongly)"),
    ("slightly disagree", -1, "disagree (somewhat)"), ("mostly agree thanks", 1, "agree (somewhat)"),
    ("tend to agree", 1, "agree (somewhat)"), ("agree", 1, "agree"), ("agree please", 1, "agree"), ("A", 1, "agree"),
    ("pass", 0, "pass"), ("I don't really agree", -1, "disagree"), ("yes", 1, "agree"),
])
def test_the_vote_is_stored_as_the_scale_has_it_and_its_display_keeps_the_strength(reply: str, value: int, display: str) -> None:
    first = votes(reply)[0]
    assert (first.value, first.display, first.raw) == (value, display, reply)


def test_a_tapped_button_is_the_plain_vote() -> None:
    first = votes(("Agree", "agree"))[0]
    assert (first.value, first.display) == (1, "agree")


def test_the_step_s_summary_tells_each_vote_as_its_item_does() -> None:
    recorded = votes("strongly agree", "disagree", "slightly agree")
    summary = next(e for e in recorded if e.item is None)
    assert summary.display == "3 statements: agree (strongly), disagree, agree (somewhat)"
    assert sorted(summary.value.values()) == [-1, 1, 1]


def test_one_statement_is_one_statement() -> None:
    engine = Engine(Flow.model_validate({"flow": "f", "steps": [{**STEP, "per_session": 1}]}))
    sprint = engine.handle(engine.start(NOW, seed=3).state, TextInput("strongly agree"), NOW)
    summary = next(e for e in sprint.events if isinstance(e, RecordAnswer) and e.item is None)
    assert summary.display == "1 statement: agree (strongly)"


def test_a_likert_scale_with_a_strongly_agree_point_takes_the_words_to_that_point() -> None:
    scale = {"id": "sus", "type": "scale", "text": "Easy to use?", "min": 1, "max": 5,
             "labels": {1: "Strongly disagree", 5: "Strongly agree"}}
    engine = Engine(Flow.model_validate({"flow": "f", "steps": [scale]}))
    sprint = engine.handle(engine.start(NOW).state, TextInput("strongly agree"), NOW)
    assert sprint.state.values["sus"] == 5


# ----------------------------------------------------------------------------- stored

@pytest.fixture
def example_study_path(tmp_path: Path) -> Path:
    folder = tmp_path / "views-study"
    folder.mkdir()
    (folder / "study.yaml").write_text("study: views\ntitle: Views\nlanguages: [en]\njoin:\n  keyword: VIEWS\n  start_flow: views\n"
                                       "flows: [views.yaml]\n", encoding="utf-8")
    statements = "".join(f"      - {s}\n" for s in STATEMENTS)
    (folder / "views.yaml").write_text(f"flow: views\nsteps:\n  - id: views\n    type: statements\n    text: What do you think?\n"
                                       f"    per_session: 3\n    submissions: false\n    statements:\n{statements}"
                                       "  - id: bye\n    type: end\n    text: Thanks.\n", encoding="utf-8")
    return folder


def test_the_stored_answer_keeps_the_vote_the_strength_and_the_words(
        say: Callable[..., ReceiveResult], service: ConversationService, database: Database) -> None:
    say("VIEWS")
    for reply in ("Strongly agree", "disagree", "slightly agree"):
        say(reply)
    with database.reading() as session:
        rows = session.exec(select(AnswerRow).where(AnswerRow.step_id == "views")).all()
    items = sorted(((r.raw, r.value, r.display) for r in rows if r.item is not None), key=lambda row: row[0])
    assert items == [("Strongly agree", 1, "agree (strongly)"), ("disagree", -1, "disagree"), ("slightly agree", 1, "agree (somewhat)")]


@pytest.mark.parametrize("said", ["I don't mind", "no preference", "dim ots", "either way", "doesn't matter"])
def test_a_reply_that_either_way_will_do_is_a_pass_not_a_disagree(said: str) -> None:
    from flows.steps.base import Reply
    from flows.steps.statements import read_vote

    assert read_vote(Reply(said)) == 0
    assert read_vote(Reply("yes, I don't mind")) == 1, "with a clear yes it is a yes"
