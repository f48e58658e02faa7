"""A GP practice's study of unpaid carers of people living with dementia, written from the README
alone and tried over SMS as older carers on basic phones write: what they ran into. Each test
drives the engine as `chorus chat` does (tests/engine_chat.py)."""

from __future__ import annotations

from typing import Any

import pytest

from flows.bereavement import tells_of_loss
from flows.engine import Engine, TextInput
from flows.events import RaiseFlag, RecordAnswer, RecordComment
from flows.model import Flow, Study
from flows.sender_questions import asks_who_we_are
from tests.engine_chat import NOW, Chat

USED = {"id": "helps", "type": "choice", "text": "Which of these have you used?", "multiple": True,
        "options": ["Carers centre", "Day centre", "Respite care", "Memory clinic", "Online forums"]}
HARDEST = {"id": "hardest", "type": "open", "text": "What is the hardest part of caring?"}
TOLD = {"id": "registered", "type": "yesno", "text": "Is the practice told that you are a carer?"}
FFT = {"id": "fft", "type": "choice", "text": "Overall, how was your experience of our support for carers?",
       "options": ["Very good", "Good", "Neither good nor poor", "Poor", "Very poor", "Don't know"], "max_tries": 3}
RATE = {"id": "rate", "type": "delphi", "delphi": "support", "items": ["A named contact for carers", "Respite breaks"]}
CONSENT = {"id": "consent", "type": "consent", "text": "Riverside Surgery here. Reply YES to take part or NO to stop."}
END = {"id": "end", "type": "end", "text": "Thank you."}


def answers(sprint: Any) -> list[RecordAnswer]:
    return [e for e in sprint.events if isinstance(e, RecordAnswer)]


def said(sprint: Any) -> list[str]:
    return [m.text for m in sprint.messages()]


# ------------------------------------------------------------------ 'pick all that apply': none of them


@pytest.mark.parametrize("reply", ["none", "NONE OF THEM", "none of those", "nothing", "i havent used any",
                                   "I haven't used any of them", "not used any", "never tried any of them", "dim un"])
def test_a_multiple_choice_that_allows_no_pick_takes_none(reply: str) -> None:
    """With `min_picks: 0`, 'none' used to be asked again, "None of these? Please reply with the
    number of the closest one": no reply at all could give the answer the step allowed."""
    chat = Chat({**USED, "min_picks": 0}, END)
    sprint = chat.send(reply)
    assert [(a.step_id, a.value, a.display) for a in answers(sprint)] == [("helps", [], "None")]
    assert chat.state.status == "ended"


def test_a_multiple_choice_that_allows_no_pick_says_so_when_unclear_and_still_takes_picks() -> None:
    chat = Chat({**USED, "min_picks": 0}, END)
    assert said(chat.send("ok")) == ["Please reply with one or more numbers from 1 to 5, e.g. 1 3. Or reply NONE if none apply."]
    assert [a.value for a in answers(chat.send("1 and 3"))] == [["Carers centre", "Respite care"]]


def test_none_to_a_multiple_choice_that_needs_a_pick_is_not_asked_for_the_closest_one() -> None:
    """'None of these? Please reply with the number of the closest one' asked a carer who used
    none of five services to name one: a multiple choice may take several."""
    chat = Chat(USED, END)
    assert said(chat.send("none of them")) == ["None of these? Please reply with the number of the closest, or several, e.g. 1 3."]
    assert answers(chat.last) == []


def test_i_havent_used_any_right_after_a_story_is_no_second_text_of_the_story() -> None:
    """Sent seconds after a free-text answer, 'i havent used any' (four words, no number, no
    option's word) used to be added to that answer ("Thanks, I've added that to your last
    answer."), and the question asked again."""
    chat = Chat(HARDEST, {**USED, "min_picks": 0}, END)
    chat.send("I CANT GET AN APPOINTMENT FOR MYSELF BECAUSE THERE IS NOBODY TO SIT WITH HER")
    sprint = chat.send("i havent used any", after=30)
    assert [(a.step_id, a.value) for a in answers(sprint)] == [("helps", [])]
    assert "Thanks, I've added that to your last answer." not in said(sprint)


# ------------------------------------------------------------------ 'who is this', 'is this a scam'


def study_chat(*steps: dict[str, Any]) -> tuple[Engine, Any]:
    study = Study.model_validate({"study": "carers", "title": "Supporting unpaid carers", "languages": ["en"],
                                  "timezone": "Europe/London", "groups": ["carer"],
                                  "join": {"start_flow": "f", "keyword": "CARERS"}})
    engine = Engine(Flow.model_validate({"flow": "f", "steps": list(steps)}), study)
    return engine, engine.start(NOW).state


WHO = ("This message is from Supporting unpaid carers. We will never ask for money, bank details or passwords. "
       "Reply STOP if you want no more messages.")


@pytest.mark.parametrize("reply", ["who is this", "WHO IS THIS", "Hello who is this please", "who are you?", "IS THIS A SCAM",
                                   "scam?", "how did you get my number", "is this really the surgery", "what is this about",
                                   "pwy sy 'na?"])
def test_who_is_this_says_who_we_are_and_asks_again_using_no_try(reply: str) -> None:
    """Six weeks on, the Friends and Family Test came to carers who had forgotten the study:
    'who is this', 'what is this about' and 'is this a scam' each used a try (one was kept as a
    comment), the third left the question unanswered ("Let's leave that one and move on."), and
    'is this really the surgery' was stored as the answer to the next, free-text, question."""
    engine, state = study_chat({**FFT, "max_tries": 1}, END)
    sprint = engine.handle(state, TextInput(reply), NOW)
    assert said(sprint)[0] == WHO and said(sprint)[1].startswith(str(FFT["text"]))
    assert answers(sprint) == [] and not [e for e in sprint.events if isinstance(e, RecordComment)]
    assert sprint.state.step == "fft" and sprint.state.tries == 0


def test_who_is_this_is_answered_at_consent_and_at_a_free_text_question() -> None:
    engine, state = study_chat(CONSENT, HARDEST, END)
    sprint = engine.handle(state, TextInput("WHO IS THIS"), NOW)
    assert said(sprint) == [WHO, CONSENT["text"]]
    sprint = engine.handle(engine.handle(sprint.state, TextInput("YES"), NOW).state, TextInput("is this a scam"), NOW)
    assert said(sprint) == [WHO, HARDEST["text"]] and answers(sprint) == []


def test_who_is_this_with_a_wrong_number_still_stops_and_a_sentence_is_an_answer() -> None:
    engine, state = study_chat(HARDEST, END)
    assert said(engine.handle(state, TextInput("who is this? wrong number"), NOW)) == [
        "Sorry to have bothered you. We won't message this number again."]
    sprint = engine.handle(state, TextInput("who is this new nurse nobody told us about"), NOW)
    assert [a.value for a in answers(sprint)] == ["who is this new nurse nobody told us about"]


@pytest.mark.parametrize("reply", ["who is this nurse you mention", "the scam calls upset mum", "I don't know who you are"])
def test_sentences_that_go_on_are_not_asking_who_we_are(reply: str) -> None:
    assert not asks_who_we_are(reply)


# ------------------------------------------------------------------ 'my mum died last week'


@pytest.mark.parametrize("step", [TOLD, USED, FFT, RATE], ids=["yesno", "multiple", "choice", "delphi"])
def test_a_death_told_at_a_question_gets_sorry_a_flag_and_no_question(step: dict[str, Any]) -> None:
    """'my mum died last week' used to get "Please reply YES or NO." (or a number, or 'Thank
    you, we've noted that.' and the question again)."""
    chat = Chat({**step, "max_tries": 1}, END)
    sprint = chat.send("my mum died last week")
    assert said(sprint) == ["We're so sorry for your loss. We've let the team know. There's no need to reply now. "
                            "If you'd rather we didn't message you again, reply STOP."]
    assert [e.kind for e in sprint.events if isinstance(e, RaiseFlag)] == ["bereavement"]
    assert [c.text for c in sprint.events if isinstance(c, RecordComment)] == ["my mum died last week"]
    assert answers(sprint) == [] and chat.state.step == step["id"] and chat.state.tries == 0


def test_a_death_told_at_consent_keeps_no_words_and_at_a_free_text_question_is_its_answer() -> None:
    chat = Chat(CONSENT, HARDEST, END)
    sprint = chat.send("MUM PASSED AWAY ON SUNDAY")
    assert [e.kind for e in sprint.events if isinstance(e, RaiseFlag)] == ["bereavement"]
    assert not [e for e in sprint.events if isinstance(e, RecordComment)] and chat.state.step == "consent"
    chat.send("yes")
    for story in ("my dad died", "my dad died in the hospital after they left him on a trolley for two days"):
        chat = Chat(CONSENT, HARDEST, END)
        chat.send("yes")
        sprint = chat.send(story)
        assert [a.value for a in answers(sprint)] == [story]
        assert not [e for e in sprint.events if isinstance(e, RaiseFlag) and e.kind == "bereavement"]


@pytest.mark.parametrize("reply", ["I nearly died laughing", "my phone died", "I passed on the message", "she passed her driving test"])
def test_figures_of_speech_are_no_death(reply: str) -> None:
    assert not tells_of_loss(reply)


# ------------------------------------------------------------------ a Delphi score given as two


@pytest.mark.parametrize("reply", ["SEVEN OR EIGHT", "7 or 8", "7-8"])
def test_a_delphi_score_given_as_two_is_asked_which_is_nearer(reply: str) -> None:
    """'7 or 8' to a Delphi item got only "Please reply with a number from 1 to 9", while a
    number question asks "Is it nearer 3 or 4?"."""
    chat = Chat(RATE, END)
    assert said(chat.send(reply)) == ["Is it nearer 7 or 8? Your best guess is fine. Please reply with a number from 1 to 9, or NOT SURE."]
    sprint = chat.send("nearer 8")
    assert [a.value["score"] for a in answers(sprint) if a.item == "A named contact for carers"] == [8]


# ------------------------------------------------------------------ the same text sent twice

ROLE = {"id": "role", "type": "choice", "text": "Which best describes you?",
        "options": ["I look after someone with dementia", "I am living with dementia", "I work at the practice"]}


@pytest.mark.parametrize("first, steps", [("1", (ROLE, HARDEST)), ("YES", (CONSENT, HARDEST))], ids=["option", "consent"])
def test_an_answer_sent_twice_is_not_the_next_free_text_answer(first: str, steps: tuple[dict[str, Any], ...]) -> None:
    """A basic phone sent '1' twice (two provider ids, so both reached the engine): the copy was
    stored as the answer to "What is the hardest part of caring?"."""
    chat = Chat(*steps, END)
    chat.send(first)
    sprint = chat.send(first, after=20)
    assert answers(sprint) == [] and chat.state.step == "hardest" and chat.state.tries == 0
    assert said(sprint) == ["We already have that as your answer to the last question.", HARDEST["text"]]
    assert [a.value for a in answers(chat.send(first, after=40))] == [first], "sent once more, it is meant"


def test_the_same_text_later_or_at_a_question_that_reads_it_is_an_answer() -> None:
    chat = Chat(ROLE, HARDEST, END)
    chat.send("1")
    assert [a.value for a in answers(chat.send("1", after=600))] == ["1"], "ten minutes on, it is an answer"
    chat = Chat(ROLE, {**ROLE, "id": "again"}, END)
    chat.send("1")
    assert [a.step_id for a in answers(chat.send("1", after=5))] == ["again"], "a question that reads it takes it"


# ------------------------------------------------------------------ a long SMS in parts


def test_a_long_sms_split_in_parts_keeps_its_options_one_a_line() -> None:
    """A prompt over three segments was split into parts whose line breaks became spaces: the
    options arrived as one run-on line ('1) Carers centre 2) Day centre ...')."""
    from channels.base import render_plain
    from channels.twilio import MAX_SMS_SEGMENTS, split_sms
    from flows.sms import count_segments

    question = "Which of these have you or the person you care for used in the last twelve months? " * 4
    labels = [f"A service with a fairly long name, number {n}" for n in range(1, 7)]
    chat = Chat({**USED, "text": question.strip(), "options": labels}, END)
    prompt = chat.last.messages()[0]
    parts = split_sms(render_plain(prompt.text, prompt.buttons, prompt.multiple))
    assert len(parts) > 1 and all(count_segments(p).segments <= MAX_SMS_SEGMENTS for p in parts)
    lines = "\n".join(parts).splitlines()
    assert [line for line in lines if line[:2] in {f"{n})" for n in range(1, 7)}] == [f"{n}) {label}" for n, label in enumerate(labels, 1)]


# ------------------------------------------------------------------ 'ok', 'k', 'thanks'


def test_ok_and_thanks_say_what_the_question_takes_and_use_no_try() -> None:
    """'ok' and 'k' to the Friends and Family Test each used a try, so a third unclear reply
    left it unanswered ("Let's leave that one and move on.")."""
    chat = Chat(FFT, END)
    for reply in ("ok", "k", "Thanks.", "ok ta x", "👍"):
        assert said(chat.send(reply)) == ["Please reply with a number from 1 to 6."], reply
    assert chat.state.tries == 0
    chat.send("not very good at all really")  # unclear: a try, as before
    assert chat.state.tries == 1 and chat.state.step == "fft"
    assert [a.value for a in answers(chat.send("4"))] == ["Poor"]


def test_ok_still_answers_a_question_that_reads_it() -> None:
    chat = Chat(CONSENT, TOLD, {**FFT, "options": ["OK", "Not OK"]}, END)
    assert [a.value for a in answers(chat.send("ok"))] == ["yes"], "a bare ok is a YES, as before"
    assert [a.value for a in answers(chat.send("ok"))] == ["yes"]
    assert [a.value for a in answers(chat.send("ok"))] == ["OK"], "an option called OK"
