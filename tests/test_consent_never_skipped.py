"""Nothing passes a consent step without a YES: three unclear replies, a timeout, a NO that a
``next`` rule would carry on, BACK to it, and the settings that would skip it (refused by
``chorus validate``). START or the join keyword asks the consent question again."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from flows.engine import Engine, Sprint, TextInput, Timeout
from flows.events import AnswersWithdrawn, RecordAnswer, SessionEnded
from flows.loader import LoadedStudy, Problem, load_flow, load_study
from flows.validate import validate_paths
from storage import repository
from storage.database import Database
from storage.tables import ANSWERS

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
NOW = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
UNCLEAR = ("hmm maybe", "i might", "possibly")  # (not "who are you?": a question to us, no try; tests/test_explore_carers_s19.py)
NO_CONSENT = ("Sorry, we couldn't tell whether you'd like to take part, so we won't ask you anything more for now. "
              "If you would like to take part, reply START.")
ASKED = "Reply YES to take part or NO to stop."
ROLE = "Which best describes you?"
ENDED = "Thank you, that's all for now."
BEGIN_AGAIN = "You're not taking part at the moment. If you'd like to take part, reply START or WAIT."


class Chat:
    def __init__(self, engine: Engine, **start: Any) -> None:
        self.engine = engine
        self.last = engine.start(NOW, **start)
        self.state = self.last.state

    def send(self, given: str | Timeout, now: datetime = NOW) -> Sprint:
        self.last = self.engine.handle(self.state, TextInput(given) if isinstance(given, str) else given, now)
        self.state = self.last.state
        return self.last

    def texts(self) -> list[str]:
        return [m.text for m in self.last.messages()]

    def answers(self) -> list[RecordAnswer]:
        return [e for e in self.last.events if isinstance(e, RecordAnswer)]

    def ended(self) -> list[SessionEnded]:
        return [e for e in self.last.events if isinstance(e, SessionEnded)]


@pytest.fixture(scope="module")
def study() -> LoadedStudy:
    return load_study(EXAMPLE)


def understand(study: LoadedStudy) -> Engine:
    loaded = study.flows["understand"]
    return Engine(loaded.flow, study.study, loaded.version)


def flow_engine(tmp_path: Path, consent: str = "", after: str = "") -> Engine:
    """A consent step (plus ``consent`` lines), a question, and ``after`` steps."""
    text = ("flow: f\nsteps:\n  - id: consent\n    type: consent\n    text: Reply YES to take part or NO to stop.\n"
            f"{consent}  - id: role\n    type: choice\n    text: Which best describes you?\n    options: [Patient, Staff]\n{after}")
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return Engine(load_flow(path).flow)


# ----------------------------------------------------------------------------- the engine


def test_three_unclear_replies_end_the_conversation_without_consent(study: LoadedStudy) -> None:
    chat = Chat(understand(study))
    for reply in UNCLEAR[:2]:
        chat.send(reply)
        assert chat.texts() == ["Please reply YES or NO."]
    chat.send(UNCLEAR[2])
    assert chat.texts() == [NO_CONSENT], "no 'let's move on', and no next question"
    assert chat.ended() == [SessionEnded("no_consent")]
    assert [(a.step_id, a.skipped) for a in chat.answers()] == [("consent", True)]
    assert (chat.state.status, chat.state.outcome, chat.state.step) == ("ended", "no_consent", "consent")
    for reply in ("1", "A long wait", "yes"):  # whatever comes next is not an answer to anything
        chat.send(reply)
        assert chat.texts() == [ENDED] and chat.answers() == []


def test_a_welsh_participant_is_told_in_welsh(study: LoadedStudy) -> None:
    chat = Chat(understand(study), language="cy")
    for reply in UNCLEAR:
        chat.send(reply)
    assert chat.texts() == [
        "Mae'n ddrwg gennym, doedden ni ddim yn siŵr a hoffech chi gymryd rhan, felly ni fyddwn yn gofyn dim mwy i chi "
        "am y tro. Os hoffech chi gymryd rhan, atebwch DECHRAU."
    ]


@pytest.mark.parametrize("setting", ["", "    on_max_tries: end\n    max_tries: 2\n"])
def test_max_tries_at_consent_ends_as_no_consent_not_max_tries(tmp_path: Path, setting: str) -> None:
    chat = Chat(flow_engine(tmp_path, setting))
    tries = 2 if setting else 3
    for _ in range(tries):
        chat.send("hmm")
    assert chat.ended() == [SessionEnded("no_consent")] and chat.texts() == [NO_CONSENT]


def test_a_consent_step_that_times_out_ends_without_consent(tmp_path: Path) -> None:
    chat = Chat(flow_engine(tmp_path, "    timeout: 2d\n"))
    chat.send(Timeout("consent"), NOW + timedelta(days=2))
    assert chat.ended() == [SessionEnded("no_consent")]
    assert chat.texts() == [NO_CONSENT], "the next question is not sent"
    assert [(a.step_id, a.skipped) for a in chat.answers()] == [("consent", True)]


def test_start_or_the_join_keyword_asks_the_consent_question_again(study: LoadedStudy) -> None:
    for again in ("START", "wait", "join WAIT"):
        chat = Chat(understand(study))
        for reply in UNCLEAR:
            chat.send(reply)
        chat.send(again)
        assert len(chat.texts()) == 1 and chat.texts()[0].endswith(ASKED), again
        assert (chat.state.status, chat.state.outcome) == ("waiting", None)
        chat.send("yes")
        assert chat.texts()[0] == ROLE
        assert [(a.step_id, a.value) for a in chat.answers()] == [("consent", "yes")]


def test_start_after_a_no_asks_again_but_a_yes_alone_does_not(study: LoadedStudy) -> None:
    chat = Chat(understand(study))
    chat.send("no")
    assert chat.ended() == [SessionEnded("declined")]
    chat.send("yes")
    assert chat.texts() == [ENDED], "a yes after the end answers nothing: START asks the question first"
    chat.send("start")
    assert chat.texts()[0].endswith(ASKED)


def test_the_built_in_words_after_a_no_say_how_to_take_part(tmp_path: Path) -> None:
    chat = Chat(flow_engine(tmp_path))
    chat.send("no")
    assert chat.texts() == ["Thank you. We won't ask you anything more. If you change your mind, reply START."]


def test_a_no_is_never_carried_on_by_a_rule_that_would_take_a_yes_too(tmp_path: Path) -> None:
    """A rule about the participant (not the answer), or one with no 'if', would have taken
    the NO on to the questions."""
    staff_rule = "    next:\n      - if: participant.group == \"staff\"\n        goto: role\n"
    for consent in (staff_rule, "    next: role\n", "    next:\n      - if: answer != \"maybe\"\n        goto: role\n"):
        chat = Chat(flow_engine(tmp_path, consent), fields={"group": "staff"})
        chat.send("no")
        assert chat.ended() == [SessionEnded("declined")], consent
        assert chat.texts() == ["Thank you. We won't ask you anything more. If you change your mind, reply START."]
        chat = Chat(flow_engine(tmp_path, consent), fields={"group": "staff"})
        chat.send("yes")
        assert chat.texts() == [ROLE], "a YES still follows the rule"


def test_a_rule_that_singles_out_the_no_is_followed(tmp_path: Path) -> None:
    consent = "    next:\n      - if: answer == \"no\"\n        goto: bye\n"
    chat = Chat(flow_engine(tmp_path, consent, "  - id: bye\n    type: end\n    outcome: declined\n    text: Bye for now.\n"))
    chat.send("no")
    assert chat.texts() == ["Bye for now."] and chat.ended() == [SessionEnded("declined")]


def test_back_to_consent_withdraws_what_followed_and_a_no_then_ends(study: LoadedStudy) -> None:
    chat = Chat(understand(study))
    chat.send("yes")
    chat.send("1")  # a patient
    chat.send("back")
    back = chat.send("back")
    assert chat.texts()[0].endswith(ASKED)
    withdrawn = [e for e in back.events if isinstance(e, AnswersWithdrawn)]
    assert withdrawn and "consent" in withdrawn[0].step_ids, "the YES no longer stands"
    chat.send("no")
    assert chat.ended() == [SessionEnded("declined")]
    assert "role" not in chat.state.values and chat.state.fields.get("group") is None


def test_back_at_consent_passes_nothing(study: LoadedStudy) -> None:
    chat = Chat(understand(study))
    chat.send("back")
    assert chat.texts()[0] == "This is the first question." and chat.state.step == "consent"


# ----------------------------------------------------------------------------- chorus validate


def _problems(tmp_path: Path, consent: str) -> list[Problem]:
    text = ("flow: f\nsteps:\n  - id: consent\n    type: consent\n    text: Reply YES to take part or NO to stop.\n"
            f"{consent}  - id: role\n    type: choice\n    text: Which best describes you?\n    options: [Patient, Staff]\n")
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    return validate_paths([path])[0]


@pytest.mark.parametrize(("setting", "column", "says"), [
    ("on_max_tries: skip", 19, "'on_max_tries: skip' would let a participant go on past this consent step without saying YES"),
    ("on_max_tries: flag", 19, "'on_max_tries: flag' would let a participant go on past this consent step without saying YES"),
    ("skip: true", 11, "a consent step cannot be skipped"),
    ("skip: Reply SKIP to leave this out.", 11, "a consent step cannot be skipped"),
])
def test_validate_refuses_what_would_skip_consent(tmp_path: Path, setting: str, column: int, says: str) -> None:
    problems = _problems(tmp_path, f"    {setting}\n")
    assert len(problems) == 1, problems
    assert (problems[0].severity, problems[0].line, problems[0].column) == ("error", 6, column)
    assert problems[0].message.startswith(says)
    assert "remove" in problems[0].hint


def test_validate_refuses_on_timeout_on_consent(tmp_path: Path) -> None:
    problems = _problems(tmp_path, "    timeout: 2d\n    on_timeout: role\n")
    assert [(p.severity, p.line, p.column) for p in problems] == [("error", 7, 17)]
    assert "'on_timeout: role' would let a participant go on" in problems[0].message
    assert "recorded as no_consent" in problems[0].hint


@pytest.mark.parametrize("setting", ["", "    on_max_tries: end\n", "    timeout: 2d\n", "    skip: false\n"])
def test_validate_accepts_what_ends_without_consent(tmp_path: Path, setting: str) -> None:
    assert _problems(tmp_path, setting) == []


def test_validate_warns_of_a_question_before_consent_or_round_it(tmp_path: Path) -> None:
    text = """flow: f
steps:
  - id: language
    type: choice
    text: Which language?
    options: [English, Welsh]
    next:
      - if: answer == "Welsh"
        goto: role
  - id: consent
    type: consent
    text: Reply YES to take part or NO to stop.
  - id: role
    type: choice
    text: Which best describes you?
    options: [Patient, Staff]
"""
    path = tmp_path / "f.yaml"
    path.write_text(text, encoding="utf-8")
    problems = validate_paths([path])[0]
    assert [(p.severity, p.line, p.message) for p in problems] == [
        ("warning", 3, "step 'language' can be asked before the participant has said YES to 'consent'"),
        ("warning", 13, "step 'role' can be asked before the participant has said YES to 'consent'"),
    ]


def test_the_example_studies_ask_nothing_before_consent() -> None:
    examples = Path(__file__).resolve().parent.parent / "flows" / "examples"
    problems = validate_paths([examples / "ae-waiting", examples / "evaluation"])[0]
    assert not [p for p in problems if "before the participant has said YES" in p.message]


# ----------------------------------------------------------------------------- through the service


def _stored(database: Database, participant_id: str) -> list[tuple[str, object, bool, bool]]:
    with database.transaction() as connection:
        rows = connection.execute(
            select(ANSWERS.c.step_id, ANSWERS.c.value, ANSWERS.c.skipped, ANSWERS.c.withdrawn_at.is_not(None))
            .where(ANSWERS.c.participant_id == participant_id).order_by(ANSWERS.c.id)
        ).all()
    return [(row[0], row[1], row[2], row[3]) for row in rows]


def _sent(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_no_answers_are_stored_from_someone_who_never_consented(
    service: ConversationService, database: Database, say: Callable[..., ReceiveResult],
) -> None:
    pid = say("WAIT").participant_id
    assert pid is not None
    for reply in UNCLEAR:
        last = say(reply)
    assert _sent(service, last) == [NO_CONSENT]
    for reply in ("1", "2 3", "A long cold wait on a plastic chair", "4"):  # what they would have answered
        assert _sent(service, say(reply)) == [BEGIN_AGAIN]  # told how to take part (tests/test_after_the_end.py)
    assert _stored(database, pid) == [("consent", None, True, False)], "nothing but the unanswered consent"
    with database.transaction() as connection:
        session = repository.latest_session(connection, pid)
    assert session is not None and (session.status, session.state["outcome"]) == ("ended", "no_consent")

    assert _sent(service, say("START"))[0].endswith(ASKED)  # they change their mind
    say("yes")
    say("1")
    assert [row[:2] for row in _stored(database, pid) if not row[2]] == [("consent", "yes"), ("role", "patient")]


@pytest.mark.parametrize("database_kind", ["sqlite"], indirect=True)
def test_back_to_consent_then_no_leaves_no_answer_standing(
    database: Database, say: Callable[..., ReceiveResult],
) -> None:
    pid = say("WAIT").participant_id
    assert pid is not None
    for reply in ("yes", "1", "twice", "back", "back", "back", "no"):
        say(reply)
    standing = [row for row in _stored(database, pid) if not row[3]]
    assert standing == [("consent", "no", False, False)], "the YES and the answers after it are withdrawn"
