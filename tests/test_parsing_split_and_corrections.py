"""flows/parsing.py split into short modules, one for each thing read, with every name still
importable from flows.parsing and no module importing one that imports it back; a NO with a
number after it ('no, 3') to a number read back ("Just to check: 4?") taken as the answer meant;
and a unit a question names in brackets at its end ('How long did you wait (days)?') or in Welsh
('mewn diwrnodau') heeded as one named anywhere else is."""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import pytest

import flows.parsing
from flows.engine import Engine, TextInput
from flows.model import Flow
from flows.parsing import read_number, said_after_no
from flows.words import BUILT_IN_TEXTS
from tests.test_numbers_in_sentences import (
    ASK_AGAIN,
    DELPHI,
    INFORMED,
    NOW,
    VISITS,
    VISITS_HINT,
    VISITS_QUESTION,
    Chat,
    delphi_items,
)

FLOWS = Path(flows.parsing.__file__).parent
PARTS = sorted(path.stem for path in FLOWS.glob("parsing_*.py"))
CHECK = "my son is 4 and has asthma so loads"


# ----------------------------------------------------------------------------- the split


def _imports(module: str) -> set[str]:
    tree = ast.parse((FLOWS / f"{module}.py").read_text(encoding="utf-8"))
    return {node.module.removeprefix("flows.") for node in ast.walk(tree)
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("flows.parsing")}


def test_parsing_is_split_into_short_modules_named_for_what_they_read() -> None:
    assert {"parsing_numbers", "parsing_yes_no", "parsing_options", "parsing_picks"} <= set(PARTS)
    for module in ["parsing", *PARTS]:
        lines = (FLOWS / f"{module}.py").read_text(encoding="utf-8").count("\n")
        assert lines <= 250, f"flows/{module}.py has {lines} lines"


def test_no_parsing_module_imports_one_that_imports_it_back() -> None:
    graph = {module: _imports(module) for module in PARTS}
    assert all(imported in graph for imported in set().union(*graph.values())), "every import is of a module that exists"
    done: set[str] = set()

    def visit(module: str, path: tuple[str, ...]) -> None:
        assert module not in path, f"import cycle: {' -> '.join((*path, module))}"
        if module not in done:
            for imported in graph[module]:
                visit(imported, (*path, module))
            done.add(module)

    for module in PARTS:
        visit(module, ())
    assert "parsing" not in set().union(*graph.values()), "no part imports the module that gathers them"


def test_every_public_name_of_every_part_is_importable_from_flows_parsing_as_the_same_object() -> None:
    for module in PARTS:
        part = importlib.import_module(f"flows.{module}")
        public = {name for name, value in vars(part).items()
                  if not name.startswith("_") and getattr(value, "__module__", part.__name__) == part.__name__
                  and name != "annotations" and not isinstance(value, type(importlib))}
        for name in public:
            assert name in flows.parsing.__all__, f"flows.{module}.{name} is not in flows.parsing.__all__"
            assert getattr(flows.parsing, name) is getattr(part, name)


def test_the_names_other_modules_import_from_flows_parsing_are_all_there() -> None:
    root = FLOWS.parent
    wanted: set[str] = set()
    for folder in ("flows", "bot", "channels", "nlp", "storage", "tests", "scripts"):
        for path in (root / folder).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.ImportFrom) and node.module == "flows.parsing":
                    wanted |= {alias.name for alias in node.names}
    assert {"parse_number", "read_number", "match_option", "parse_yes_no"} <= wanted
    assert wanted <= set(flows.parsing.__all__)


# ----------------------------------------------------------------------------- a NO that corrects


@pytest.mark.parametrize(("reply", "instead"), [
    ("no, 3", "3"), ("no 3", "3"), ("no it's 3", "it's 3"), ("nope, three", "three"), ("na, 3", "3"),
    ("Nac ydw, 3", "3"), ("NO, 3!", "3"), ("sorry, no, 3", "3"), ("noo 3", "3"), ("👎 3", "3"),
])
def test_what_a_no_goes_on_to_say_instead(reply: str, instead: str) -> None:
    assert said_after_no(reply) == instead


@pytest.mark.parametrize("reply", ["no", "no thanks", "no sorry", "not really", "no thank you", "no way", "no problem, 3",
                                   "no, maybe 3", "yes 3", "3", "yes, no"])
def test_a_plain_no_or_no_clear_no_says_nothing_instead(reply: str) -> None:
    assert said_after_no(reply) is None


def checked() -> Chat:
    chat = Chat(VISITS)
    assert chat.send(CHECK) == ["Just to check: 4? Reply YES or NO, or send the number."]
    return chat


@pytest.mark.parametrize("reply", ["no, 3", "no 3", "no it's 3", "nope, three", "No, I meant 3", "no, 3 times"])
def test_a_no_with_a_number_to_the_check_is_that_number_as_the_answer(reply: str) -> None:
    chat = checked()
    said = chat.send(reply)
    assert ASK_AGAIN not in said and VISITS_QUESTION not in said
    assert [(r.value, r.raw) for r in chat.recorded] == [(3, reply)]
    assert chat.state.step == "bye" and chat.state.heard is None


def test_a_welsh_no_with_a_number_is_the_answer_too() -> None:
    chat = Chat(VISITS, language="cy")
    chat.send("mae fy mab yn 4 ac mae asthma arno")
    assert BUILT_IN_TEXTS["confirm_try_again"]["cy"] not in chat.send("na, 3")
    assert chat.values("visits") == [3] and chat.state.step == "bye"


def test_the_number_after_a_no_is_checked_as_any_answer_is() -> None:
    chat = checked()
    assert chat.send("no, 300") == [VISITS_HINT]
    assert chat.recorded == [] and chat.state.step == "visits" and chat.state.heard is None and chat.state.tries == 1
    chat = checked()
    assert chat.send("no, 6 hours") == [f"That looks like 6 hours, which is not what this question asks. {VISITS_HINT}"]
    assert chat.recorded == []
    chat = checked()
    assert chat.send("no, 3 but the nurse was lovely") == ["Just to check: 3? Reply YES or NO, or send the number."]
    chat.send("yes")
    assert chat.values("visits") == [3]


@pytest.mark.parametrize("reply", ["no", "no thanks", "no, that's wrong", "no, 3 or 4"])
def test_a_no_without_one_number_still_asks_again(reply: str) -> None:
    chat = checked()
    assert chat.send(reply) == [ASK_AGAIN, VISITS_QUESTION]
    assert chat.recorded == [] and chat.state.heard is None


def test_a_tapped_no_is_a_plain_no() -> None:
    chat = checked()
    assert chat.send("no, 3", button="no") == [ASK_AGAIN, VISITS_QUESTION]
    assert chat.recorded == []


def test_a_rating_checked_and_corrected() -> None:
    chat = Chat(INFORMED)
    assert chat.send("4 but the nurse was rude") == ["Just to check: 4 (Well)? Reply YES or NO, or send the number."]
    chat.send("no, 2")
    assert chat.values("informed") == [2] and chat.state.step == "bye"


def test_a_delphi_score_checked_and_corrected_goes_on_to_the_next_item() -> None:
    chat = Chat(DELPHI)
    assert chat.send("7 but only at night") == ["Just to check: 7? Reply YES or NO, or send the number."]
    chat.send("no, 6")
    assert delphi_items(chat) == [("parking", 6)]
    assert "2/2: Clear signs" in chat.said[-1].text


def test_a_voice_answer_read_back_is_corrected_by_a_typed_no_and_number() -> None:
    chat = Chat(VISITS)
    chat.send("Four times, because of my asthma.", source="voice")
    chat.send("no, 3")
    assert chat.values("visits") == [3]


def test_at_a_free_text_question_a_no_after_a_voice_note_is_a_plain_no() -> None:
    flow = Flow.model_validate({"flow": "f", "steps": [
        {"id": "story", "type": "open", "text": "What happened?", "confirm": "always"}, {"id": "bye", "type": "end", "text": "Bye."}]})
    engine = Engine(flow)
    state = engine.start(NOW, seed=3).state
    state = engine.handle(state, TextInput("we waited 3 hours", source="voice", confidence=0.99), NOW).state
    sprint = engine.handle(state, TextInput("no, 3 hours and nobody came"), NOW)
    assert sprint.messages()[0].text == BUILT_IN_TEXTS["voice_try_again"]["en"]
    assert sprint.state.step == "story"


# ----------------------------------------------------------------------------- a unit the question names


@pytest.mark.parametrize("question", [
    "How long did you wait (days)?", "How long did you wait? (days)", "How long did you wait (in days)?",
    "Pa mor hir fuoch chi'n aros (mewn diwrnodau)?", "Pa mor hir fuoch chi'n aros, mewn diwrnodau?",
])
def test_a_unit_named_in_brackets_at_the_end_or_in_welsh_is_the_answers(question: str) -> None:
    hours, days = read_number("6 hours", question), read_number("6 days", question)
    assert hours is not None and (hours.doubt, hours.said) == ("other_unit", "6 hours")
    assert days is not None and days.doubt == "clear"


def test_a_number_step_asking_in_days_asks_again_for_hours() -> None:
    chat = Chat({"id": "wait", "type": "number", "text": "How long did you wait (days)?", "min": 0, "max": 365})
    assert chat.send("6 hours")[0].startswith("That looks like 6 hours, which is not what this question asks.")
    assert chat.recorded == []
    chat.send("2 days")
    assert chat.values("wait") == [2]
