"""A choice-experiment task read by the words of the alternative wanted: a level only that
alternative shows ('hospital', 'the next day one', in English or Welsh), or a comparison on a
numeric cost or wait ('the cheaper one'); never a level both show, words of both, a negated
level ('not the hospital one') or a bare number. And after 'Which language would you like?', a
reply that names no language gets the hint and the question again (no try used), while an
answer to the question is taken as it. Through the engine, and through the conversation
service on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import select

from bot.safeguarding import checks_from_env
from bot.service import ConversationService, ReceiveResult
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.built_in_texts import BUILT_IN_TEXTS
from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.loader import load_study
from flows.model import Flow
from flows.steps.choice_experiment import LETTERS, ChoiceExperimentStep
from storage.database import Database
from storage.tables import ANSWERS
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock

NOW = datetime(2030, 1, 1, 9, 0, tzinfo=UTC)
PLACES = {"hospital": {"en": "at the hospital", "cy": "yn yr ysbyty"},
          "surgery": {"en": "at your GP surgery", "cy": "yn eich meddygfa"},
          "home": {"en": "home visit", "cy": "ymweliad cartref"}}
WAITS = {1: {"en": "next day", "cy": "drannoeth"}, 7: {"en": "in a week", "cy": "mewn wythnos"},
         14: {"en": "in two weeks", "cy": "mewn pythefnos"}}
COSTS = {0: {"en": "free", "cy": "am ddim"}, 10: "£10", 20: "£20"}
VISIT: dict[str, Any] = {
    "id": "visit", "type": "choice_experiment",
    "text": {"en": "Which would you choose?", "cy": "Pa un fyddech chi'n ei ddewis?"},
    "attributes": {
        "place": {"levels": list(PLACES), "labels": PLACES},
        "wait": {"levels": list(WAITS), "labels": WAITS, "better": "lower"},
        "cost": {"levels": list(COSTS), "labels": COSTS, "better": "lower"},
    },
    "alternatives": 2, "opt_out": True, "tasks": 6,
}
LABELS: dict[str, dict[Any, Any]] = {"place": PLACES, "wait": WAITS, "cost": COSTS}
HINT = {"en": "Please reply A, B or N for neither.", "cy": BUILT_IN_TEXTS["dce.hint_neither"]["cy"].format(letters="A, B")}


def visit_flow(**changes: Any) -> Flow:
    return Flow.model_validate({"flow": "visits", "steps": [{**VISIT, **changes}, {"id": "bye", "type": "end", "text": "Thank you."}]})


def step_of(flow: Flow) -> ChoiceExperimentStep:
    step = flow.steps[0]
    assert isinstance(step, ChoiceExperimentStep)
    return step


def label(attribute: str, level: Any, language: str = "en") -> str:
    said = LABELS[attribute][level]
    return said[language] if isinstance(said, dict) else said


class Tasks:
    """A participant at each task of the experiment in turn (one block: design order), each
    reached by answering A; a reply is tried from a task without moving the participant on."""

    def __init__(self, flow: Flow, language: str = "en") -> None:
        self.engine, self.step = Engine(flow), step_of(flow)
        assert self.step.blocks == 1
        self.states: list[SessionState] = []
        state = self.engine.start(NOW, seed=1, language=language).state
        for _ in range(self.step.tasks):
            self.states.append(state)
            state = self.engine.handle(state, TextInput("A"), NOW).state

    def profiles(self, done: int) -> list[dict[str, Any]]:
        return self.step.profiles(done)

    def reply(self, done: int, text: str) -> tuple[str | None, list[str]]:
        """The choice recorded for task ``done`` (None: none), and what the participant was told."""
        sprint = self.engine.handle(self.states[done], TextInput(text), NOW)
        recorded = [e.value for e in sprint.events if isinstance(e, RecordAnswer) and e.item]
        assert len(recorded) <= 1
        if recorded:
            assert recorded[0]["task"] == done + 1 and recorded[0]["alternatives"] == self.profiles(done)
        return (recorded[0]["choice"] if recorded else None), [m.text for m in sprint.messages()]


@pytest.fixture(scope="module")
def tasks() -> Tasks:
    return Tasks(visit_flow())


@pytest.fixture(scope="module")
def welsh_tasks() -> Tasks:
    return Tasks(visit_flow(), "cy")


def own_levels(profiles: list[dict[str, Any]]) -> list[tuple[str, Any, str]]:
    """(attribute, level, letter) for each level only one alternative shows."""
    found = []
    for attribute in VISIT["attributes"]:
        shown = [profile[attribute] for profile in profiles]
        found += [(attribute, level, LETTERS[j]) for j, level in enumerate(shown) if shown.count(level) == 1]
    return found


def shared_levels(profiles: list[dict[str, Any]]) -> list[tuple[str, Any]]:
    return [(a, profiles[0][a]) for a in VISIT["attributes"] if all(p[a] == profiles[0][a] for p in profiles)]


# ------------------------------------------------------------------ a level one alternative shows


@pytest.mark.parametrize("form", ["{}", "the {} one", "{} please", "I'd like the {} one", "{}!"])
def test_a_level_only_one_alternative_shows_picks_that_alternative(tasks: Tasks, form: str) -> None:
    tried = 0
    for done in range(tasks.step.tasks):
        for attribute, level, letter in own_levels(tasks.profiles(done)):
            said = form.format(label(attribute, level))
            assert tasks.reply(done, said)[0] == letter, (done, said, tasks.profiles(done))
            tried += 1
    assert tried >= 10


def test_a_place_by_its_own_word_picks_it(tasks: Tasks) -> None:
    """'hospital' for 'at the hospital', 'home' for 'home visit': a word only one alternative has."""
    tried = 0
    for done in range(tasks.step.tasks):
        for attribute, level, letter in own_levels(tasks.profiles(done)):
            if attribute == "place" and level != "surgery":
                assert tasks.reply(done, f"the {level} one please")[0] == letter
                tried += 1
    assert tried >= 3


def test_in_welsh_a_level_picks_by_its_welsh_label(welsh_tasks: Tasks) -> None:
    tried = 0
    for done in range(welsh_tasks.step.tasks):
        for attribute, level, letter in own_levels(welsh_tasks.profiles(done)):
            for form in ("{}", "{} plis", "{} os gwelwch yn dda"):
                said = form.format(label(attribute, level, "cy"))
                assert welsh_tasks.reply(done, said)[0] == letter, (done, said)
                tried += 1
    assert tried >= 30


def test_a_task_shown_in_welsh_still_reads_a_level_in_english(welsh_tasks: Tasks) -> None:
    done, (attribute, level, letter) = next((d, own[0]) for d in range(6) if (own := own_levels(welsh_tasks.profiles(d))))
    assert welsh_tasks.reply(done, label(attribute, level, "en"))[0] == letter


# ------------------------------------------------------------------ asked again, never guessed


def test_a_level_both_alternatives_show_is_asked_again(tasks: Tasks) -> None:
    tried = 0
    for done in range(tasks.step.tasks):
        for attribute, level in shared_levels(tasks.profiles(done)):
            for said in (label(attribute, level), f"the {label(attribute, level)} one"):
                assert tasks.reply(done, said) == (None, [HINT["en"]]), (done, said)
                tried += 1
    assert tried >= 2, "the design shows some level in both alternatives of a task"


def test_words_of_both_alternatives_are_asked_again(tasks: Tasks) -> None:
    tried = 0
    for done in range(tasks.step.tasks):
        own = own_levels(tasks.profiles(done))
        for (a1, l1, x), (a2, l2, y) in itertools.combinations(own, 2):
            if x != y:
                for said in (f"{label(a1, l1)} or {label(a2, l2)}", f"{label(a1, l1)} and {label(a2, l2)}"):
                    assert tasks.reply(done, said)[0] is None, (done, said)
                    tried += 1
    assert tried >= 10


@pytest.mark.parametrize("form", ["not {}", "not the {} one", "I don't want the {} one", "never {}", "no, {}"])
def test_a_negated_level_never_picks_it(tasks: Tasks, form: str) -> None:
    for done in range(tasks.step.tasks):
        for attribute, level, _ in own_levels(tasks.profiles(done)):
            said = form.format(label(attribute, level))
            assert tasks.reply(done, said) == (None, [HINT["en"]]), (done, said)


def test_a_negated_level_in_welsh_never_picks_it_even_where_the_label_holds_ddim(welsh_tasks: Tasks) -> None:
    """'am ddim' (free) holds the Welsh 'not' (ddim): 'ddim yr ysbyty' must not pick the free hospital."""
    tried = 0
    for done in range(welsh_tasks.step.tasks):
        for attribute, level, _ in own_levels(welsh_tasks.profiles(done)):
            for form in ("ddim {}", "nid {}"):
                said = form.format(label(attribute, level, "cy"))
                assert welsh_tasks.reply(done, said)[0] is None, (done, said)
                tried += 1
    assert tried >= 20


def test_a_bare_number_is_a_place_in_the_list_never_a_level() -> None:
    flow = visit_flow(attributes={"place": ["hospital", "surgery", "home"], "wait": [1, 2, 4]}, opt_out=False, tasks=4)
    tasks = Tasks(flow)
    seen = set()
    for done in range(tasks.step.tasks):
        assert tasks.reply(done, "1")[0] == "A" and tasks.reply(done, "2")[0] == "B"
        assert tasks.reply(done, "4")[0] is None and tasks.reply(done, "4 please")[0] is None
        seen |= {p["wait"] for p in tasks.profiles(done)}
    assert {1, 2, 4} <= seen, "each number was shown as a level somewhere, yet read as a place"


# ------------------------------------------------------------------ comparisons on numeric levels


def _cheapest(profiles: list[dict[str, Any]], attribute: str, highest: bool = False) -> str | None:
    values = [p[attribute] for p in profiles]
    best = max(values) if highest else min(values)
    return LETTERS[values.index(best)] if values.count(best) == 1 else None


@pytest.mark.parametrize(("said", "attribute", "highest"), [
    ("the cheaper one", "cost", False), ("cheapest please", "cost", False), ("whichever costs less", "cost", False),
    ("the dearer one", "cost", True), ("the sooner one", "wait", False), ("quickest", "wait", False),
    ("I'd go with the earlier one", "wait", False),
])
def test_a_comparison_picks_the_alternative_lowest_on_that_attribute(tasks: Tasks, said: str, attribute: str, highest: bool) -> None:
    picked = 0
    for done in range(tasks.step.tasks):
        expected = _cheapest(tasks.profiles(done), attribute, highest)
        choice, told = tasks.reply(done, said)
        assert choice == expected, (done, said, tasks.profiles(done))
        if expected is None:  # both the same on it: asked again, saying so
            label = VISIT["attributes"][attribute]["labels"][tasks.profiles(done)[0][attribute]]
            assert told == [f"They are the same on {attribute}: {label['en'] if isinstance(label, dict) else label}. {HINT['en']}"]
        picked += expected is not None
    assert picked >= 3


def test_nearer_compares_a_numeric_travel_attribute() -> None:
    travel = {"levels": [2, 5, 10], "labels": {2: "2 miles away", 5: "5 miles away", 10: "10 miles away"}, "better": "lower"}
    tasks = Tasks(visit_flow(attributes={"place": VISIT["attributes"]["place"], "travel_miles": travel}, tasks=3))
    picked = 0
    for done in range(3):
        expected = _cheapest(tasks.profiles(done), "travel_miles")
        assert tasks.reply(done, "the nearer one")[0] == expected and tasks.reply(done, "yr un agosaf")[0] == expected
        assert tasks.reply(done, "the cheaper one")[0] is None, "no cost in this experiment"
        picked += expected is not None
    assert picked >= 2


def test_a_tie_on_cost_is_asked_again(tasks: Tasks) -> None:
    ties = [d for d in range(tasks.step.tasks) if _cheapest(tasks.profiles(d), "cost") is None]
    assert ties, "the design has a task where both cost the same"
    assert all(tasks.reply(d, "the cheaper one")[0] is None for d in ties)


def test_a_comparison_in_welsh(welsh_tasks: Tasks) -> None:
    for done in range(welsh_tasks.step.tasks):
        assert welsh_tasks.reply(done, "yr un rhatach")[0] == _cheapest(welsh_tasks.profiles(done), "cost")
        assert welsh_tasks.reply(done, "yr un cynt plis")[0] == _cheapest(welsh_tasks.profiles(done), "wait")


@pytest.mark.parametrize("said", ["not the cheaper one", "the cheaper one isn't for me", "ddim yr un rhatach"])
def test_a_negated_comparison_picks_nothing(tasks: Tasks, said: str) -> None:
    for done in range(tasks.step.tasks):
        assert tasks.reply(done, said)[0] is None


def test_a_level_and_a_comparison_that_disagree_are_asked_again(tasks: Tasks) -> None:
    tried = 0
    for done in range(tasks.step.tasks):
        cheaper = _cheapest(tasks.profiles(done), "cost")
        for attribute, level, letter in own_levels(tasks.profiles(done)):
            if cheaper is not None and attribute != "cost":
                said = f"the {label(attribute, level)} one, it's cheaper"
                assert tasks.reply(done, said)[0] == (letter if letter == cheaper else None), (done, said)
                tried += 1
    assert tried >= 4


def test_cheaper_means_nothing_without_one_numeric_cost() -> None:
    no_cost = Tasks(visit_flow(attributes={"place": VISIT["attributes"]["place"], "wait": VISIT["attributes"]["wait"]}, tasks=3))
    assert [no_cost.reply(d, "the cheaper one")[0] for d in range(3)] == [None] * 3
    two_costs = Tasks(visit_flow(attributes={**VISIT["attributes"], "parking_fee": [0, 5]}, tasks=4))
    assert [two_costs.reply(d, "the cheaper one")[0] for d in range(4)] == [None] * 4
    assert any(two_costs.reply(d, "sooner")[0] is not None for d in range(4)), "a wait is still compared"


# ------------------------------------------------------------------ the usual forms still


@pytest.mark.parametrize(("said", "choice"), [
    ("A", "A"), ("option B", "B"), ("the first", "A"), ("the second one", "B"), ("2", "B"), ("3", "none"),
    ("neither", "none"), ("none of them", "none"), ("N", "none"), ("C", None), ("A or B", None),
])
def test_letters_places_and_neither_are_read_as_before(tasks: Tasks, said: str, choice: str | None) -> None:
    assert all(tasks.reply(done, said)[0] == choice for done in range(tasks.step.tasks))


# ------------------------------------------------------------------ after 'Which language would you like?'

ROLE = {"en": "Which best describes you?", "cy": "Pa un sy'n eich disgrifio orau?"}
TALK: dict[str, Any] = {"flow": "talk", "steps": [
    {"id": "role", "type": "choice", "text": ROLE,
     "options": [{"value": "patient", "label": {"en": "Patient", "cy": "Claf"}},
                 {"value": "carer", "label": {"en": "Carer", "cy": "Gofalwr"}}]},
    {**VISIT},
    {"id": "bye", "type": "end", "text": {"en": "Thank you.", "cy": "Diolch."}},
]}
ASK = "Which language would you like? Reply ENGLISH or CYMRAEG."
ROLE_HINT = BUILT_IN_TEXTS["hint_choice_words"]["en"].format(choices="Patient or Carer")  # one-word options: no numbers shown


def a_study(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "talk.yaml").write_text(yaml.safe_dump(TALK, allow_unicode=True), encoding="utf-8")
    study = {"study": "visits", "title": {"en": "Visits", "cy": "Ymweliadau"}, "languages": ["en", "cy"],
             "join": {"start_flow": "talk", "keyword": "VISITS"}, "flows": ["talk.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return folder


class Chat:
    def __init__(self, folder: Path) -> None:
        loaded = load_study(folder)
        self.engine = Engine(loaded.flows["talk"].flow, loaded.study, loaded.flows["talk"].version)
        self.now = NOW
        self.state = self.engine.start(self.now).state
        self.recorded: list[RecordAnswer] = []

    def send(self, text: str) -> list[str]:
        self.now += timedelta(minutes=1)
        sprint = self.engine.handle(self.state, TextInput(text), self.now)
        self.state = sprint.state
        self.recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]
        return [e.text for e in sprint.events if isinstance(e, SendMessage)]


@pytest.mark.parametrize("said", ["hmm", "what do I put", "purple", "yes"])
def test_a_reply_naming_no_language_gets_the_hint_and_the_question_again(tmp_path: Path, said: str) -> None:
    chat = Chat(a_study(tmp_path))
    chat.send("maybe")
    assert chat.state.tries == 1
    assert chat.send("LANGUAGE") == [ASK]
    assert chat.send(said) == [ROLE_HINT, ROLE["en"]]
    assert chat.state.language == "en" and not chat.state.choosing_language and chat.state.step == "role"
    assert chat.state.tries == 1, "the reply may have been meant for the language question: no try used"
    assert chat.send(said) == [ROLE_HINT], "the question just asked: the hint alone, as ever"
    assert chat.state.tries == 2 and not chat.recorded


@pytest.mark.parametrize("said", ["carer", "Carer please", "2", "the second one"])
def test_an_answer_to_the_question_is_taken_and_the_language_kept(tmp_path: Path, said: str) -> None:
    chat = Chat(a_study(tmp_path))
    chat.send("LANGUAGE")
    told = chat.send(said)
    assert [r.value for r in chat.recorded] == ["carer"] and chat.state.language == "en"
    assert told[0].startswith(VISIT["text"]["en"]) and chat.state.step == "visit"


def test_a_language_named_still_switches(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path))
    chat.send("LANGUAGE")
    assert chat.send("cymraeg") == [BUILT_IN_TEXTS["language_changed"]["cy"], ROLE["cy"]]
    assert chat.state.language == "cy"


def test_at_a_choice_task_an_unclear_reply_shows_the_task_again_and_a_level_answers_it(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path))
    chat.send("1")
    profiles = step_of(visit_flow()).profiles(0)  # (the same step, the same design: seeded by its id)
    chat.send("LANGUAGE")
    told = chat.send("not sure")
    assert told[0] == HINT["en"] and told[1].startswith(VISIT["text"]["en"])
    assert all(f"{LETTERS[j]}: " in told[1] for j in range(2)) and chat.state.tries == 0
    attribute, level, letter = own_levels(profiles)[0]
    chat.send("LANGUAGE")
    told = chat.send(label(attribute, level))
    (task,) = [r.value for r in chat.recorded if r.item]
    assert task["choice"] == letter and task["task"] == 1 and told[0].startswith("Choice 2 of 6")


# ------------------------------------------------------------------ through the service, on a real database


@pytest.fixture
def visits(database: Database, tmp_path: Path, clock: FakeClock) -> ConversationService:
    return ConversationService(database, StudyRegistry.from_folder(a_study(tmp_path / "visits")), clock,
                               address_key=TEST_ADDRESS_KEY, safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))


def test_through_the_service_the_question_follows_the_hint_and_a_level_is_stored(visits: ConversationService, database: Database) -> None:
    numbers = itertools.count(1)

    def say(text: str) -> ReceiveResult:
        return visits.receive(InboundMessage("whatsapp", "+447700900456", f"wa-{next(numbers)}", text))

    def told(result: ReceiveResult) -> list[str]:
        assert result.participant_id is not None
        return [row.text for row in visits.outbox_for(result.participant_id) if row.id in result.outbox_ids]

    say("VISITS")
    assert told(say("LANGUAGE"))[0] == ASK
    again = told(say("dunno"))
    assert again[0] == ROLE_HINT and again[1].startswith(ROLE["en"])
    say("1")
    step = step_of(visit_flow())
    attribute, level, letter = own_levels(step.profiles(0))[0]
    say("LANGUAGE")
    assert told(say(f"the {label(attribute, level)} one"))[0].startswith("Choice 2 of 6")
    with database.transaction() as connection:
        rows = connection.execute(select(ANSWERS.c.item, ANSWERS.c.value).where(ANSWERS.c.step_id == "visit")).all()
    assert [(row[0], row[1]["choice"]) for row in rows] == [("task1", letter)]
