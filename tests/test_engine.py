"""The conversation engine, through small purpose-built flows (tests/flows/) and the example study."""

from __future__ import annotations

import inspect
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import flows.engine
import flows.templating
from flows.engine import Engine, Input, Resume, SessionState, Sprint, TextInput, Timeout
from flows.events import (
    LanguageChanged,
    OptedIn,
    OptedOut,
    RaiseFlag,
    RecordAnswer,
    ScheduleTask,
    SessionEnded,
    SetField,
    WaitForInput,
)
from flows.loader import LoadedStudy, load_flow, load_study

FLOWS = Path(__file__).parent / "flows"
EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
NOW = datetime(2001, 2, 3, 10, 0, tzinfo=UTC)


class Chat:
    """One participant's conversation: start it, then feed it inputs; keeps the latest state."""

    def __init__(self, engine: Engine, **start: Any) -> None:
        self.engine = engine
        first = engine.start(NOW, **start)
        self.state = first.state
        self.last = first

    def send(self, given: str | Input, now: datetime = NOW) -> Sprint:
        sprint = self.engine.handle(self.state, TextInput(given) if isinstance(given, str) else given, now)
        self.state, self.last = sprint.state, sprint
        return sprint

    def texts(self, sprint: Sprint | None = None) -> list[str]:
        return [m.text for m in (sprint or self.last).messages()]


def of(sprint: Sprint, kind: type) -> list[Any]:
    return [e for e in sprint.events if isinstance(e, kind)]


@pytest.fixture(scope="module")
def study() -> LoadedStudy:
    return load_study(EXAMPLE)


def example(study: LoadedStudy, flow: str = "understand") -> Engine:
    loaded = study.flows[flow]
    return Engine(loaded.flow, study.study, loaded.version)


def purpose_built(name: str) -> Engine:
    return Engine(load_flow(FLOWS / f"{name}.yaml").flow)


# ----------------------------------------------------------------------------- branching and templating


def test_a_patient_takes_the_patient_branch_and_is_thanked(study: LoadedStudy) -> None:
    chat = Chat(example(study), fields={"name": "Ann"})
    assert chat.texts()[0].startswith("Hello Ann.")
    chat.send("yes")
    sprint = chat.send("1")
    assert of(sprint, SetField) == [SetField("group", "patient")]
    assert chat.state.step == "visits"
    chat.send("twice")
    assert chat.state.values["visits"] == 2
    chat.send("It was long and nobody told us anything.")
    last = chat.send("2")
    assert chat.texts(last) == ["Thank you for your time. What you told us goes straight to the team redesigning the service."]
    assert of(last, SessionEnded) == [SessionEnded("completed")]
    assert chat.state.history == ["consent", "role", "visits", "story", "informed", "thanks"]


def test_staff_skip_the_visits_question_and_pick_several_shifts(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    assert chat.texts()[0].startswith("Hello there.")
    chat.send("y")
    chat.send("staff")
    assert chat.state.step == "shift"
    assert chat.state.fields["group"] == "staff"
    chat.send("days and nights")
    assert chat.state.values["shift"] == ["day", "night"]
    assert chat.state.displays["shift"] == "Days, Nights"
    assert chat.state.step == "story"


def test_a_participant_field_decides_the_branch_before_any_answer() -> None:
    staff = Chat(purpose_built("branching"), fields={"group": "staff", "name": "Sam"})
    assert staff.state.step == "ward"
    assert staff.texts() == ["Hello Sam.", "Which ward do you work on, staff?"]
    ended = staff.send("Ward 7")
    assert staff.texts(ended) == ["Thanks, Ward 7."]
    assert of(ended, SessionEnded) == [SessionEnded("staff_done")]
    patient = Chat(purpose_built("branching"))
    assert patient.state.step == "role"
    assert patient.texts() == ["Hello there.", "Which best describes you?"]


def test_next_rules_read_the_answer_and_templates_read_earlier_answers() -> None:
    chat = Chat(purpose_built("branching"))
    assert chat.texts(chat.send("Patient")) == ["How many visits, patient?"]
    ended = chat.send("12")
    assert chat.texts(ended) == ["That is a lot of visits.", "You said 12 visits; next year maybe 13."]
    few = Chat(purpose_built("branching"))
    few.send("1")
    assert few.texts(few.send("3")) == ["You said 3 visits; next year maybe 4."]


def test_save_to_sets_the_participant_field_that_later_steps_branch_on() -> None:
    chat = Chat(purpose_built("branching"))
    sprint = chat.send("2")
    assert of(sprint, SetField) == [SetField("group", "staff")]
    assert chat.state.fields["group"] == "staff"
    assert chat.texts(sprint) == ["Which ward do you work on, staff?"]


# ----------------------------------------------------------------------------- languages


def test_a_welsh_participant_gets_welsh_texts_labels_and_hints(study: LoadedStudy) -> None:
    chat = Chat(example(study), language="cy", fields={"name": "Ffion"})
    assert chat.texts()[0].startswith("Helo Ffion.")
    assert [b.label for b in chat.last.messages()[0].buttons] == ["Ydw", "Nac ydw"]
    chat.send("ydw")
    assert [b.label for b in chat.last.messages()[0].buttons] == ["Claf", "Gofalwr neu deulu", "Staff"]
    assert chat.texts(chat.send("efallai")) == ["Atebwch gyda rhif o 1 i 3."]
    chat.send("gofalwr neu deulu")
    assert chat.state.values["role"] == "carer"


@pytest.mark.parametrize(("word", "language"), [("CYMRAEG", "cy"), ("language cy", "cy"), ("Welsh", "cy")])
def test_the_language_switch_changes_language_and_asks_again(study: LoadedStudy, word: str, language: str) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    sprint = chat.send(word)
    assert of(sprint, LanguageChanged) == [LanguageChanged(language)]
    assert chat.state.language == language
    assert chat.texts(sprint) == ["Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen.", "Pa un sy'n eich disgrifio orau?"]
    back = chat.send("ENGLISH")
    assert chat.texts(back) == ["We'll write in English from now on.", "Which best describes you?"]
    assert chat.state.step == "role"


def test_an_unknown_language_is_refused_with_the_choices(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    sprint = chat.send("language fr")
    assert chat.texts(sprint) == ["Sorry, that language is not available. Reply ENGLISH or CYMRAEG."]
    assert chat.state.language == "en"
    assert not of(sprint, LanguageChanged)


# ----------------------------------------------------------------------------- retries, max tries, skip


def test_an_unclear_answer_gets_the_retry_text_and_a_specific_hint() -> None:
    chat = Chat(purpose_built("tries"))
    sprint = chat.send("lots")
    assert [(m.text, m.kind) for m in sprint.messages()] == [("Just a number, like 4. Please reply with a number, e.g. 3.", "retry")]
    assert chat.state.step == "count"
    assert chat.state.tries == 1


def test_after_max_tries_a_skip_step_is_left_and_recorded_as_skipped() -> None:
    chat = Chat(purpose_built("tries"))
    chat.send("lots")
    sprint = chat.send("loads")
    assert of(sprint, RecordAnswer) == [RecordAnswer("count", "", None, "", "text", skipped=True)]
    assert chat.texts(sprint) == ["Let's leave that one and move on.", "Do you agree?"]
    assert chat.state.step == "agree"
    assert chat.state.tries == 0


def test_after_max_tries_a_flag_step_raises_a_flag_and_carries_on() -> None:
    chat = Chat(purpose_built("tries"), at_step="agree")
    chat.send("maybe")
    sprint = chat.send("perhaps")
    flags = of(sprint, RaiseFlag)
    assert [(f.kind, f.step_id) for f in flags] == [("max_tries", "agree")]
    assert chat.texts(sprint)[0] == "Thanks. Someone from the team will look at your answer."
    assert chat.state.step == "colour"


def test_after_max_tries_an_end_step_ends_the_session() -> None:
    chat = Chat(purpose_built("tries"), at_step="rating")
    for reply in ("0", "6"):
        assert chat.texts(chat.send(reply)) == ["Please reply with a number from 1 to 5."]
    sprint = chat.send("nine")
    assert of(sprint, SessionEnded) == [SessionEnded("max_tries")]
    assert chat.state.status == "ended"
    assert chat.state.outcome == "max_tries"


def test_skip_is_offered_and_honoured_only_where_the_flow_allows_it() -> None:
    chat = Chat(purpose_built("tries"), at_step="colour")
    assert chat.texts() == ["Pick a colour.\n(Reply SKIP to leave this one out.)"]
    sprint = chat.send("SKIP")
    assert of(sprint, RecordAnswer) == [RecordAnswer("colour", "SKIP", None, "", "text", skipped=True)]
    assert chat.texts(sprint) == ["Let's move on.", "Rate it from 1 to 5."]
    strict = Chat(purpose_built("tries"))
    assert "SKIP" not in strict.texts()[0]
    assert chat.texts(strict.send("skip")) == ["Just a number, like 4. This question can't be skipped. Please reply with a number, e.g. 3."]
    assert strict.state.step == "count"


def test_a_good_answer_after_an_unclear_one_resets_the_tries() -> None:
    chat = Chat(purpose_built("tries"))
    chat.send("lots")
    chat.send("4")
    assert chat.state.values["count"] == 4
    chat.send("hmm")
    assert chat.state.tries == 1
    assert chat.state.step == "agree"


# ----------------------------------------------------------------------------- consent


@pytest.mark.parametrize("reply", ["no", "No thanks", "nope", "👎"])
def test_consent_no_ends_the_conversation_as_declined(study: LoadedStudy, reply: str) -> None:
    chat = Chat(example(study))
    sprint = chat.send(reply)
    assert chat.texts(sprint) == ["No problem. We won't message you again. If you change your mind, reply WAIT."]
    assert of(sprint, SessionEnded) == [SessionEnded("declined")]
    assert chat.state.status == "ended"
    assert chat.state.outcome == "declined"
    later = chat.send("yes")
    assert chat.texts(later) == ["Thank you, that's all for now."]
    assert chat.state.outcome == "declined"


# ----------------------------------------------------------------------------- global words


@pytest.mark.parametrize("stop", ["STOP", "stop.", "Unsubscribe", "STOPIO"])
def test_while_stopped_nothing_is_sent_until_start(study: LoadedStudy, stop: str) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    stopped = chat.send(stop)
    assert of(stopped, OptedOut) == [OptedOut()]
    assert chat.state.status == "stopped"
    for given in ("1", "HELP", "BACK", "LATER", "CYMRAEG", "STOP", Timeout("role"), Resume()):
        assert chat.send(given).events == [], given
    assert chat.state.status == "stopped"
    resumed = chat.send("START")
    assert of(resumed, OptedIn) == [OptedIn()]
    assert chat.texts(resumed) == ["Welcome back.", "Which best describes you?"]
    assert chat.state.status == "waiting"
    assert chat.state.step == "role"
    assert "_status_before_stop" not in chat.state.fields


def test_help_explains_and_asks_the_same_question_again(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    sprint = chat.send("help")
    texts = chat.texts(sprint)
    assert texts[0].startswith("Reply to the question to answer it.")
    assert texts[1:] == ["Which best describes you?"]
    assert chat.state.step == "role"
    assert not of(sprint, RecordAnswer)


def test_later_snoozes_until_a_reply_or_a_resume(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    sprint = chat.send("LATER")
    assert chat.state.status == "snoozed"
    assert of(sprint, ScheduleTask) == [ScheduleTask("snooze", NOW + timedelta(hours=2), {"step": "role"})]
    assert chat.texts(sprint) == ["No problem. We'll ask again at 12:00. Reply any time to carry on."]
    resumed = chat.send(Resume("snooze"))
    assert [(m.text, m.kind) for m in resumed.messages()] == [("Which best describes you?", "reminder")]
    assert chat.state.status == "waiting"
    chat.send("LATER")
    chat.send("2")
    assert chat.state.values["role"] == "carer"
    assert chat.state.status == "waiting"


def test_back_asks_the_previous_question_and_takes_a_new_answer(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    chat.send("patient")
    assert chat.state.step == "visits"
    sprint = chat.send("back")
    assert chat.texts(sprint) == ["Which best describes you?"]
    assert chat.state.step == "role"
    chat.send("staff")
    assert chat.state.values["role"] == "staff"
    assert chat.state.step == "shift"


def test_back_at_the_first_question_says_so(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    sprint = chat.send("BACK")
    assert chat.texts(sprint)[0] == "This is the first question."
    assert chat.state.step == "consent"


def test_back_works_while_snoozed(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    chat.send("1")
    chat.send("later")
    sprint = chat.send("back")
    assert chat.texts(sprint) == ["Which best describes you?"]
    assert chat.state.step == "role"
    assert chat.state.status == "waiting"


def test_global_words_are_not_read_from_buttons_or_voice(study: LoadedStudy) -> None:
    chat = Chat(example(study), at_step="story")
    chat.send(TextInput("stop", source="voice"))
    assert chat.state.status == "waiting"
    assert chat.state.values["story"] == "stop"
    chat.send(TextInput("Help", button="3"))
    assert chat.state.values["informed"] == 3
    assert chat.state.status == "ended"


# ----------------------------------------------------------------------------- template failures


def test_a_method_call_on_a_missing_field_gives_a_neutral_text_and_a_flag() -> None:
    chat = Chat(purpose_built("templates"))
    flags = of(chat.last, RaiseFlag)
    assert [(f.kind, f.step_id) for f in flags] == [("template_error", "greet")]
    prompt = chat.texts()[0]
    assert "{{" not in prompt and "Undefined" not in prompt and "None" not in prompt
    assert prompt == "Hello, shall we start?"
    assert chat.state.status == "waiting"
    assert of(chat.last, WaitForInput) == [WaitForInput("greet", None)]


def test_a_filter_error_falls_back_to_the_generic_text_and_the_session_continues() -> None:
    chat = Chat(purpose_built("templates"), fields={"name": "Ann", "score": "high"})
    assert chat.texts() == ["Hello ANN, shall we start?"]
    assert not of(chat.last, RaiseFlag)
    sprint = chat.send("yes")
    assert chat.texts(sprint) == ["Sorry, something went wrong with this message."]
    assert [f.kind for f in of(sprint, RaiseFlag)] == ["template_error"]
    chat.send("3")
    assert chat.state.values["score"] == 3
    assert chat.state.step == "next_one"


def test_a_failing_next_condition_flags_and_falls_through(tmp_path: Path) -> None:
    path = tmp_path / "cond.yaml"
    path.write_text(
        "flow: cond\nsteps:\n"
        "  - {id: q, type: number, text: 'How many?', next: [{if: 'participant.age.years > answer', goto: far}]}\n"
        "  - {id: near, type: end, text: Near.}\n"
        "  - {id: far, type: end, text: Far.}\n",
        encoding="utf-8",
    )
    chat = Chat(Engine(load_flow(path).flow))
    sprint = chat.send("3")
    assert [f.kind for f in of(sprint, RaiseFlag)] == ["template_error"]
    assert chat.texts(sprint) == ["Near."]


# ----------------------------------------------------------------------------- timeouts and resume


def test_a_timeout_with_on_timeout_goes_there() -> None:
    chat = Chat(purpose_built("timeouts"))
    assert of(chat.last, ScheduleTask) == [ScheduleTask("timeout", NOW + timedelta(hours=1), {"step": "quick"})]
    assert of(chat.last, WaitForInput) == [WaitForInput("quick", timedelta(hours=1))]
    sprint = chat.send(Timeout("quick"))
    assert of(sprint, RecordAnswer) == [RecordAnswer("quick", "", None, "", "timeout", skipped=True)]
    assert chat.texts(sprint) == ["We'll try again another time."]
    assert of(sprint, SessionEnded) == [SessionEnded("timed")]


def test_a_timeout_without_on_timeout_moves_on_and_a_stale_one_is_ignored() -> None:
    chat = Chat(purpose_built("timeouts"))
    chat.send("yes")
    assert chat.state.step == "slow"
    assert chat.send(Timeout("quick")).events == []
    assert chat.state.step == "slow"
    later = NOW + timedelta(days=2)
    sprint = chat.send(Timeout("slow"), now=later)
    assert chat.texts(sprint) == ["We'll try again another time."]
    assert chat.state.status == "ended"


def test_resume_asks_the_current_question_again_and_does_nothing_once_ended(study: LoadedStudy) -> None:
    chat = Chat(example(study))
    chat.send("yes")
    sprint = chat.send(Resume())
    assert [(m.text, m.kind) for m in sprint.messages()] == [("Which best describes you?", "reminder")]
    assert [b.value for b in sprint.messages()[0].buttons] == ["patient", "carer", "staff"]
    chat.send("no")
    ended = Chat(example(study))
    ended.send("no")
    assert ended.send(Resume()).events == []


# ----------------------------------------------------------------------------- purity and persistence


def _conversation(engine: Engine, inputs: list[str | Input]) -> list[Sprint]:
    chat = Chat(engine)
    return [chat.last] + [chat.send(given) for given in inputs]


INPUTS: list[str | Input] = ["Yes", "nurse?", "3", "LATER", Resume(), "back", "staff", "1 3", "CYMRAEG", "Hir iawn", "4"]


def test_the_engine_is_pure_same_input_same_output_and_no_mutation(study: LoadedStudy) -> None:
    first = _conversation(example(study), INPUTS)
    second = _conversation(example(study), INPUTS)
    assert [s.events for s in first] == [s.events for s in second]
    assert [s.state for s in first] == [s.state for s in second]
    engine = example(study)
    state = first[2].state
    before = state.model_dump_json()
    assert engine.handle(state, TextInput("staff"), NOW).events == engine.handle(state, TextInput("staff"), NOW).events
    assert state.model_dump_json() == before


def test_the_engine_takes_the_time_only_from_now(study: LoadedStudy) -> None:
    engine = example(study)
    chat = Chat(engine)
    chat.send("yes")
    state = chat.state
    early, late = (engine.handle(state, TextInput("later"), at) for at in (NOW, NOW + timedelta(days=400)))
    assert of(early, ScheduleTask)[0].at == NOW + timedelta(hours=2)
    assert of(late, ScheduleTask)[0].at == NOW + timedelta(days=400, hours=2)
    assert [e for e in early.events if not isinstance(e, ScheduleTask)] == [e for e in late.events if not isinstance(e, ScheduleTask)]
    for module in (flows.engine, flows.templating):
        source = inspect.getsource(module)
        # Randomness only as a Random seeded from the session, never the global generator.
        assert not re.search(r"\.(now|utcnow|today)\(|time\.time\(|monotonic\(|random\.(random|randint|choice|shuffle|sample|uniform|seed)\(|Random\(\)", source), module.__name__


def test_session_state_round_trips_through_json_mid_conversation(study: LoadedStudy) -> None:
    engine = example(study)
    live = Chat(engine)
    for given in INPUTS[:6]:
        live.send(given)
    revived = Chat(engine)
    revived.state = SessionState.model_validate_json(live.state.model_dump_json())
    assert revived.state == live.state
    for given in INPUTS[6:]:
        assert revived.send(given).events == live.send(given).events
        assert revived.state == live.state
    assert live.state.status == "ended"
    assert live.state.values["shift"] == ["day", "weekend"]
