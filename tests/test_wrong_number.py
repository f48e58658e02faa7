"""'Wrong number': numbers are passed on to someone new, who never agreed to be messaged. A whole
reply that says the number is not the participant's ('wrong number', 'who is this? wrong number',
"I don't know who you are", 'rhif anghywir') is a STOP, answered 'Sorry to have bothered you. We
won't message this number again.' in the language of the words, kept nowhere as an answer, and
audited with the reason 'wrong number'. A story with those words in it is an answer. And a voice
note that may ask to stop ('I want out') is asked which, as a typed one is. The engine on the
example study, and the conversation service on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from channels.base import Media
from flows.engine import Engine, Sprint, TextInput
from flows.events import OptedOut
from flows.inputs import spoken_as_typed
from flows.loader import LoadedStudy, load_flow, load_study
from flows.opt_out_phrases import wrong_number_language
from flows.words import Words, built_in
from storage.database import Database
from storage.tables import ANSWERS, AUDIT_EVENTS
from tests.test_optout_phrases import NOT_INTERESTED, answers, enrolment_opted_out, texts
from tests.test_optout_phrases import Chat as TypedChat
from tests.test_optout_phrases import at_the_story as typed_at_the_story

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
NOW = datetime(2001, 2, 3, 10, 0, tzinfo=UTC)
SORRY = built_in("wrong_number")
STOPPED = built_in("stopped")
ASKED = built_in("stop_confirm")

WRONG_NUMBERS = [
    "wrong number", "Wrong number!", "You have the wrong number.", "who is this? wrong number", "Who is this?? Wrong number",
    "I don't know who you are", "i dont know who this is", "Sorry, wrong number mate", "You've got the wrong number",
    "I think you have the wrong number", "u got the wrong number", "this is the wrong number", "wrong person",
    "who are you? i dont know you", "Wrong number 😂", "no idea who you are", "wrong no", "wrong number thanks",
]
WELSH_WRONG_NUMBERS = ["rhif anghywir", "Rhif anghywir sori", "mae gennych chi'r rhif anghywir", "Pwy ydych chi? Rhif anghywir",
                       "dw i ddim yn gwybod pwy ydych chi", "dwi ddim yn nabod chi", "rhif anghywir yw hwn"]
STORIES = [
    "the surgery had the wrong number for me", "i rang the wrong number", "they had the wrong number", "i dont know",
    "who is this", "who are you", "I don't know who to ask", "i dont know who my nurse is", "i got the wrong number from reception",
    "roedd gan y meddyg y rhif anghywir", "dw i ddim yn gwybod", "wrong", "number",
]


class Chat(TypedChat):
    """One participant's conversation, typed (:class:`tests.test_optout_phrases.Chat`) or spoken."""

    def say(self, heard: str) -> Sprint:
        """A voice note, as the service hands it over: a spoken STOP as typed, anything else as heard."""
        spoken = TextInput(heard, source="voice", confidence=0.95)
        sprint = self.engine.handle(self.state, spoken_as_typed(spoken, self.engine.words.command(heard)), NOW)
        self.state = sprint.state
        return sprint


def opt_outs(sprint: Sprint) -> list[OptedOut]:
    return [event for event in sprint.events if isinstance(event, OptedOut)]


@pytest.fixture(scope="module")
def study() -> LoadedStudy:
    return load_study(EXAMPLE)


def at_the_story(study: LoadedStudy, language: str | None = None) -> Chat:
    """The example's free-text question, waiting for an answer (:func:`tests.test_optout_phrases.at_the_story`)."""
    chat = typed_at_the_story(study, language, Chat)
    assert isinstance(chat, Chat)
    return chat


# ----------------------------------------------------------------------------- the words


@pytest.mark.parametrize("said", WRONG_NUMBERS)
def test_saying_the_number_is_not_theirs_is_stop_in_english(said: str) -> None:
    assert Words().command(said) == "stop" and wrong_number_language(said) == "en"


@pytest.mark.parametrize("said", WELSH_WRONG_NUMBERS)
def test_saying_it_in_welsh_is_stop_in_welsh(said: str) -> None:
    assert Words().command(said) == "stop" and wrong_number_language(said) == "cy"


@pytest.mark.parametrize("said", STORIES)
def test_a_story_or_a_question_with_those_words_is_neither(said: str) -> None:
    assert Words().command(said) is None and wrong_number_language(said) is None


def test_a_plain_stop_gives_no_reason() -> None:
    assert wrong_number_language("stop texting me") is None and wrong_number_language("STOP") is None


# ----------------------------------------------------------------------------- the engine


@pytest.mark.parametrize("said", ["you have the wrong number", "who is this? wrong number", "I don't know who you are"])
def test_wrong_number_stops_as_stop_does_with_its_own_apology(study: LoadedStudy, said: str) -> None:
    stop, chat = at_the_story(study), at_the_story(study)
    stop.send("STOP")
    sprint = chat.send(said)
    assert opt_outs(sprint) == [OptedOut("wrong number")] and sprint.command == "stop"
    assert texts(sprint) == [SORRY] and [message.kind for message in sprint.messages()] == ["stopped"]
    assert answers(sprint) == []
    assert chat.state == stop.state, "the same state as STOP leaves"
    assert chat.send("It was a long wait").events == [] and chat.send("hello?").events == []


def test_wrong_number_to_a_choice_stops_too(study: LoadedStudy) -> None:
    loaded = study.flows["understand"]
    chat = Chat(Engine(loaded.flow, study.study, loaded.version))
    chat.send("yes")
    assert chat.state.step == "role"
    sprint = chat.send("you have the wrong number")
    assert opt_outs(sprint) == [OptedOut("wrong number")] and texts(sprint) == [SORRY] and chat.state.status == "stopped"


def test_welsh_words_get_the_welsh_apology_whatever_language_the_participant_chose(study: LoadedStudy) -> None:
    english, welsh = at_the_story(study, "en"), at_the_story(study, "cy")
    assert texts(english.send("mae gennych chi'r rhif anghywir")) == texts(welsh.send("Rhif anghywir yw hwn")) == [
        built_in("wrong_number", "cy")]
    in_english = at_the_story(study, "cy").send("you have the wrong number")
    assert texts(in_english) == [SORRY]


def test_a_plain_stop_is_still_answered_as_stop_and_gives_no_reason(study: LoadedStudy) -> None:
    sprint = at_the_story(study).send("stop texting me")
    assert opt_outs(sprint) == [OptedOut()] and texts(sprint) == [STOPPED]


def test_start_after_wrong_number_brings_the_conversation_back(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    chat.send("who is this? wrong number")
    back = chat.send("START")
    assert chat.state.status == "waiting" and chat.state.step == "story" and texts(back)[0] == built_in("restarted")


def test_wrong_number_in_a_voice_note_is_honoured_as_a_spoken_stop_is(study: LoadedStudy) -> None:
    sprint = at_the_story(study).say("Sorry, you've got the wrong number.")
    assert opt_outs(sprint) == [OptedOut("wrong number")] and texts(sprint) == [SORRY] and answers(sprint) == []


@pytest.mark.parametrize("said", ["the surgery had the wrong number for me", "i rang the wrong number"])
def test_a_story_with_those_words_in_it_is_the_answer(study: LoadedStudy, said: str) -> None:
    sprint = at_the_story(study).send(said)
    assert opt_outs(sprint) == [] and [(a.step_id, a.raw) for a in answers(sprint)] == [("story", said)]


# ----------------------------------------------------------------------------- a bare 'wrong number' at a free-text question


@pytest.mark.parametrize("said", ["wrong number", "Wrong number.", "Sorry, wrong person"])
def test_a_bare_wrong_number_to_a_free_text_question_is_asked_about_not_a_stop(study: LoadedStudy, said: str) -> None:
    """'What went wrong?' 'wrong number' may be the answer: asked, nothing kept, no try used."""
    chat = at_the_story(study)
    sprint = chat.send(said)
    assert texts(sprint) == [ASKED] and opt_outs(sprint) == [] and answers(sprint) == [] and sprint.command is None
    assert chat.state.step == "story" and chat.state.status == "waiting" and chat.state.tries == 0


@pytest.mark.parametrize("then", ["yes", "STOP", "wrong number"])
def test_yes_or_stop_after_being_asked_is_the_wrong_numbers_stop(study: LoadedStudy, then: str) -> None:
    chat = at_the_story(study)
    chat.send("wrong number")
    stopped = chat.send(then)
    assert opt_outs(stopped) == [OptedOut("wrong number")] and texts(stopped) == [SORRY] and answers(stopped) == []


def test_carrying_on_after_being_asked_keeps_the_next_reply_as_the_answer(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    chat.send("wrong number")
    assert texts(chat.send("no"))[0] == built_in("stop_confirm_no")
    answered = chat.send("They called the wrong number for my mum")
    assert [a.step_id for a in answers(answered)] == ["story"] and opt_outs(answered) == []
    assert opt_outs(chat.send("yes")) == [], "asked about the question before: not this one's"


def test_a_bare_welsh_wrong_number_is_asked_in_welsh_and_its_yes_apologises_in_welsh(study: LoadedStudy) -> None:
    chat = at_the_story(study, "en")
    assert texts(chat.send("rhif anghywir")) == [built_in("stop_confirm", "cy")]
    stopped = chat.send("ydw")
    assert opt_outs(stopped) == [OptedOut("wrong number")] and texts(stopped) == [built_in("wrong_number", "cy")]


def test_a_bare_wrong_number_to_a_choice_is_still_a_stop(study: LoadedStudy) -> None:
    loaded = study.flows["understand"]
    chat = Chat(Engine(loaded.flow, study.study, loaded.version))
    chat.send("yes")
    sprint = chat.send("wrong number")
    assert opt_outs(sprint) == [OptedOut("wrong number")] and texts(sprint) == [SORRY] and sprint.command == "stop"


# ----------------------------------------------------------------------------- a voice note that may ask to stop


@pytest.mark.parametrize("heard", ["I want out.", "I don't want to do this anymore.", "Not interested."])
def test_a_voice_note_that_may_ask_to_stop_is_asked_which_and_kept_nowhere(study: LoadedStudy, heard: str) -> None:
    chat = at_the_story(study)
    sprint = chat.say(heard)
    assert texts(sprint) == [ASKED] and answers(sprint) == [] and opt_outs(sprint) == []
    assert chat.state.step == "story" and chat.state.status == "waiting" and chat.state.tries == 0
    stopped = chat.send("yes")
    assert opt_outs(stopped) == [OptedOut()] and texts(stopped) == [STOPPED] and chat.state.status == "stopped"


@pytest.mark.parametrize("again", ["Yes.", "Yeah, I want out."])
def test_a_spoken_yes_or_the_same_again_after_being_asked_is_a_stop(study: LoadedStudy, again: str) -> None:
    chat = at_the_story(study)
    chat.say("I want out.")
    stopped = chat.say(again)
    assert opt_outs(stopped) == [OptedOut()] and texts(stopped) == [STOPPED] and stopped.command == "stop"
    assert answers(stopped) == []


def test_a_spoken_carry_on_gets_the_question_again_and_then_the_voice_answer_counts(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    chat.say("I want out.")
    again = chat.say("No, carry on.")
    assert texts(again) == ["OK, let's carry on.", "What was waiting like? Type, or send a voice note."] and answers(again) == []
    answered = chat.say("Four hours on a trolley.")
    assert [(a.step_id, a.raw, a.source) for a in answers(answered)] == [("story", "Four hours on a trolley.", "voice")]


def test_a_spoken_story_with_those_words_is_the_answer_and_a_later_spoken_yes_is_no_stop(study: LoadedStudy) -> None:
    chat = at_the_story(study)
    sprint = chat.say("I wanted out of there after an hour.")
    assert ASKED not in texts(sprint) and [a.step_id for a in answers(sprint)] == ["story"]
    asked_then_answered = at_the_story(study)
    asked_then_answered.say("I want out.")
    answered = asked_then_answered.say("It was chaotic and nobody told us anything.")
    assert [a.step_id for a in answers(answered)] == ["story"] and asked_then_answered.state.step == "informed"
    assert opt_outs(asked_then_answered.say("Yes.")) == []  # to the next question: the stop question was the one before


def test_a_spoken_option_of_the_question_is_its_answer_and_not_asked_about(tmp_path: Path) -> None:
    path = tmp_path / "offer.yaml"
    path.write_text(NOT_INTERESTED)
    chat = Chat(Engine(load_flow(path).flow))
    sprint = chat.say("Not interested.")
    assert [(a.step_id, a.value) for a in answers(sprint)] == [("group", "not_keen")] and ASKED not in texts(sprint)


# ----------------------------------------------------------------------------- through the service


Say = Callable[..., ReceiveResult]
VOICE = (Media("https://example.org/v.ogg", "audio/ogg"),)


def opt_out_reasons(database: Database, pid: str | None) -> list[str | None]:
    with database.transaction() as connection:
        rows = connection.execute(select(AUDIT_EVENTS.c.detail)
                                  .where(AUDIT_EVENTS.c.subject == pid, AUDIT_EVENTS.c.action == "opted_out")).scalars()
        return [(detail or {}).get("reason") for detail in rows]


def answered_steps(database: Database, pid: str | None) -> list[str]:
    with database.transaction() as connection:
        return list(connection.execute(select(ANSWERS.c.step_id).where(ANSWERS.c.participant_id == pid)).scalars())


def test_wrong_number_is_a_real_opt_out_audited_with_its_reason(service: ConversationService, database: Database, say: Say) -> None:
    """'who is this? wrong number' on SMS to the free-text question: the apology is the last thing
    sent, nothing is kept as the answer, the enrolment is opted out with the reason 'wrong number',
    the same number on WhatsApp is stopped too ('wrong number on sms'), and nothing more is sent."""
    number = "+447700900081"
    on_whatsapp = say("WAIT", address=number, channel="whatsapp").participant_id
    pid = say("WAIT", address=number).participant_id
    for reply in ("yes", "1", "3"):
        say(reply, address=number)
    result = say("who is this? wrong number", address=number)
    assert [row.text for row in service.outbox_for(str(pid)) if row.id in result.outbox_ids] == [SORRY]
    assert "story" not in answered_steps(database, pid)
    assert enrolment_opted_out(database, pid) and enrolment_opted_out(database, on_whatsapp)
    assert opt_out_reasons(database, pid) == ["wrong number"]
    assert opt_out_reasons(database, on_whatsapp) == ["wrong number on sms"]
    for later in ("It was a long wait", "hello?"):
        assert say(later, address=number).outbox_ids == (), f"{later!r} was answered after the opt-out"


def test_a_plain_stop_is_audited_without_a_reason(service: ConversationService, database: Database, say: Say) -> None:
    number = "+447700900082"
    pid = say("WAIT", address=number).participant_id
    say("STOP", address=number)
    assert opt_out_reasons(database, pid) == [None]


def test_a_voice_note_that_may_ask_to_stop_is_asked_through_the_service(service: ConversationService, database: Database,
                                                                        say: Say) -> None:
    number = "+447700900083"
    pid = say("WAIT", address=number, channel="whatsapp").participant_id
    for reply in ("yes", "1", "3"):
        say(reply, address=number, channel="whatsapp")
    note = say("", address=number, channel="whatsapp", media=VOICE)
    assert note.inbound_id is not None
    asked = service.receive_transcript(note.inbound_id, "I don't want to do this anymore.", confidence=0.95)
    assert [row.text for row in service.outbox_for(str(pid)) if row.id in asked.outbox_ids] == [ASKED]
    assert "story" not in answered_steps(database, pid) and not enrolment_opted_out(database, pid)
    stopped = say("yes", address=number, channel="whatsapp")
    assert [row.text for row in service.outbox_for(str(pid)) if row.id in stopped.outbox_ids] == [STOPPED]
    assert enrolment_opted_out(database, pid) and "story" not in answered_steps(database, pid)


def test_wrong_number_from_someone_in_no_study_is_audited_and_apologised_for_once(service: ConversationService, database: Database,
                                                                                 say: Say) -> None:
    """No question is pending: a STOP, as a participant's, audited 'wrong number', the apology in
    the words' language sent once, and nothing after (nor to the same number on WhatsApp)."""
    number = "+447700900084"
    on_whatsapp = say("hello", address=number, channel="whatsapp").participant_id
    first = say("Rhif anghywir", address=number)
    assert first.status == "not_enrolled"
    assert [row.text for row in service.outbox_for(str(first.participant_id)) if row.id in first.outbox_ids] == [
        built_in("wrong_number", "cy")]
    assert opt_out_reasons(database, first.participant_id) == ["wrong number"]
    assert opt_out_reasons(database, on_whatsapp) == ["wrong number on sms"]
    for later in ("wrong number", "hello?", "STOP"):
        assert say(later, address=number).outbox_ids == (), f"{later!r} was answered after the opt-out"
    assert opt_out_reasons(database, first.participant_id) == ["wrong number"]


def test_a_plain_stop_from_someone_in_no_study_stays_silent_and_gives_no_reason(service: ConversationService, database: Database,
                                                                               say: Say) -> None:
    result = say("STOP", address="+447700900085")
    assert result.outbox_ids == () and opt_out_reasons(database, result.participant_id) == [None]
