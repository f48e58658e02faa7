"""A choice task answered by describing the alternative wanted, in a workforce study whose
attributes are pay, shift length, break cover and travel: 'the one with more pay', 'the
shorter shift', 'the one with break cover', 'less travel'. These were asked again. Read when
exactly one alternative of the task shown fits; asked again when none or both do, or two
descriptions disagree. And 'pay' (money the participant gets) is no cost: 'the cheaper one'
here is asked again, saying what the choices differ in, where it once could pick the lowest pay."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from flows.built_in_texts import BUILT_IN_TEXTS
from flows.choice_comparisons import is_cost
from flows.model import Flow
from flows.schema import json_schema
from flows.steps.choice_experiment import LETTERS
from flows.validate import validate_paths
from tests.test_dce_words_and_language_choice import Tasks

PAY = {"levels": [0, 1000, 2000], "labels": {0: "no extra pay", 1000: "£1,000 more a year", 2000: "£2,000 more a year"},
       "better": "higher"}
SHIFT = {"levels": [8, 10, 12], "labels": {8: "8-hour shifts", 10: "10-hour shifts", 12: "12-hour shifts"}}
COVER = {"levels": ["yes", "no"], "labels": {"yes": {"en": "break cover", "cy": "cyflenwi egwyl"},
                                             "no": {"en": "no break cover", "cy": "dim cyflenwi egwyl"}}}
TRAVEL = {"levels": [10, 30, 60], "labels": {10: {"en": "10 minutes travel", "cy": "10 munud o deithio"},
                                             30: {"en": "30 minutes travel", "cy": "30 munud o deithio"},
                                             60: {"en": "60 minutes travel", "cy": "60 munud o deithio"}}}
JOBS: dict[str, Any] = {
    "id": "jobs", "type": "choice_experiment", "text": {"en": "Which job would you choose?", "cy": "Pa swydd fyddech chi'n ei dewis?"},
    "attributes": {"pay": PAY, "shift_hours": SHIFT, "break_cover": COVER, "travel_minutes": TRAVEL},
    "alternatives": 2, "opt_out": False, "tasks": 8,
}
HINT = "Please reply A or B."


def jobs_flow(**changes: Any) -> Flow:
    return Flow.model_validate({"flow": "jobs", "steps": [{**JOBS, **changes}, {"id": "bye", "type": "end", "text": "Thank you."}]})


@pytest.fixture(scope="module")
def tasks() -> Tasks:
    return Tasks(jobs_flow())


def extreme(profiles: list[dict[str, Any]], attribute: str, highest: bool) -> str | None:
    values = [p[attribute] for p in profiles]
    best = max(values) if highest else min(values)
    return LETTERS[values.index(best)] if values.count(best) == 1 else None


def having(profiles: list[dict[str, Any]], level: str) -> str | None:
    shown = [p["break_cover"] == level for p in profiles]
    return LETTERS[shown.index(True)] if shown.count(True) == 1 else None


@pytest.mark.parametrize(("said", "attribute", "highest"), [
    ("the one with more pay", "pay", True), ("more pay please", "pay", True), ("higher pay", "pay", True),
    ("the one with less pay", "pay", False),
    ("the shorter shift", "shift_hours", False), ("shorter shifts", "shift_hours", False), ("the longer shift", "shift_hours", True),
    ("less travel", "travel_minutes", False), ("the one with less travel", "travel_minutes", False),
    ("more travel", "travel_minutes", True), ("the nearer one", "travel_minutes", False),
])
def test_a_description_picks_the_one_alternative_that_fits(tasks: Tasks, said: str, attribute: str, highest: bool) -> None:
    picked = ties = 0
    for done in range(tasks.step.tasks):
        expected = extreme(tasks.profiles(done), attribute, highest)
        choice, told = tasks.reply(done, said)
        assert choice == expected, (done, said, tasks.profiles(done))
        if expected is None:  # a tie is asked again, saying what they are the same on
            label = JOBS["attributes"][attribute]["labels"][tasks.profiles(done)[0][attribute]]
            same = f"They are the same on {attribute.replace('_', ' ')}: {label['en'] if isinstance(label, dict) else label}."
            assert told == [f"{same} {HINT}"], (done, said)
            ties += 1
        picked += expected is not None
    assert picked >= 3 and ties >= 1


@pytest.mark.parametrize(("said", "level"), [
    ("the one with break cover", "yes"), ("with break cover", "yes"), ("the one that has break cover", "yes"),
    ("the one without break cover", "no"), ("no break cover", "no"),
])
def test_the_one_with_or_without_a_feature(tasks: Tasks, said: str, level: str) -> None:
    for done in range(tasks.step.tasks):
        assert tasks.reply(done, said)[0] == having(tasks.profiles(done), level), (done, said, tasks.profiles(done))
    three = Tasks(jobs_flow(alternatives=3, tasks=6))
    ties = [d for d in range(6) if having(three.profiles(d), level) is None]
    assert ties and all(three.reply(d, said)[0] is None for d in ties), "two of three with break cover: asked again"


def test_a_welsh_tie_is_told_in_welsh() -> None:
    welsh = Tasks(jobs_flow(), "cy")
    tied = [d for d in range(8) if extreme(welsh.profiles(d), "travel_minutes", False) is None]
    assert tied, "the design has a task both alternatives are as near in"
    level = welsh.profiles(tied[0])[0]["travel_minutes"]
    choice, told = welsh.reply(tied[0], "yr un agosach")
    assert choice is None and told[0].startswith(f"Maen nhw'r un fath o ran travel minutes: {JOBS['attributes']['travel_minutes']['labels'][level]['cy']}.")


def test_pay_is_no_cost_so_cheaper_is_asked_again_saying_what_the_choices_differ_in(tasks: Tasks) -> None:
    said = "These choices have no cost to compare; they differ in: pay, shift hours, break cover, travel minutes."
    for done in range(tasks.step.tasks):
        assert tasks.reply(done, "the cheaper one") == (None, [f"{said} {HINT}"])
        assert tasks.reply(done, "the dearer one")[0] is None
    welsh = Tasks(jobs_flow(), "cy")
    (told,) = welsh.reply(0, "yr un rhatach")[1]
    assert told.startswith(BUILT_IN_TEXTS["dce.no_cost"]["cy"].format(attributes="pay, shift hours, break cover, travel minutes"))


@pytest.mark.parametrize(("name", "cost"), [
    ("pay", False), ("salary", False), ("income", False), ("pay_enhancement", False), ("weekend_pay", False),
    ("cost", True), ("price_gbp", True), ("parking_fee", True), ("prescription_charge", True), ("bus_fare", True),
    ("costs", True), ("travel_time", False), ("wait_weeks", False),
])
def test_an_attribute_is_a_cost_by_a_word_of_its_name_that_says_so(name: str, cost: bool) -> None:
    assert is_cost(name, None) is cost
    assert is_cost(name, not cost) is (not cost), "what the flow declares wins"


def test_a_cost_the_flow_declares_is_compared_and_one_it_denies_is_not() -> None:
    declared = Tasks(jobs_flow(attributes={**JOBS["attributes"], "pay": {**PAY, "cost": True}}))
    assert all(declared.reply(d, "the cheaper one")[0] == extreme(declared.profiles(d), "pay", False) for d in range(8))
    assert any(declared.reply(d, "the cheaper one")[0] is not None for d in range(8))
    parking = {"levels": [0, 5, 10], "labels": {0: "free parking", 5: "£5 parking", 10: "£10 parking"}}
    named = Tasks(jobs_flow(attributes={**JOBS["attributes"], "parking_fee": parking}, tasks=9))
    assert any(named.reply(d, "the cheaper one")[0] is not None for d in range(9)), "a fee is a cost by its name"
    denied = Tasks(jobs_flow(attributes={**JOBS["attributes"], "parking_fee": {**parking, "cost": False}}, tasks=9))
    assert all(denied.reply(d, "the cheaper one")[0] is None for d in range(9))


def test_a_description_negated_or_disagreeing_is_asked_again(tasks: Tasks) -> None:
    tried = 0
    for done in range(tasks.step.tasks):
        profiles = tasks.profiles(done)
        assert tasks.reply(done, "not the one with more pay")[0] is None
        assert tasks.reply(done, "not the shorter shift")[0] is None
        more_pay, short = extreme(profiles, "pay", True), extreme(profiles, "shift_hours", False)
        if more_pay is not None and short is not None:
            both = tasks.reply(done, "more pay and shorter shifts")[0]
            assert both == (more_pay if more_pay == short else None), (done, profiles)
            tried += 1
    assert tried >= 3


def test_in_welsh_a_description_by_the_words_of_its_labels(tasks: Tasks) -> None:
    welsh = Tasks(jobs_flow(), "cy")
    for done in range(welsh.step.tasks):
        assert welsh.reply(done, "llai o deithio")[0] == extreme(welsh.profiles(done), "travel_minutes", False)
        assert welsh.reply(done, "yr un gyda cyflenwi egwyl")[0] == having(welsh.profiles(done), "yes")


def test_the_schema_and_validate_know_the_cost_key(tmp_path: Path) -> None:
    assert json_schema()["$defs"]["AttributeSpec"]["properties"]["cost"]["anyOf"][0] == {"type": "boolean"}
    with pytest.raises(ValueError, match="cost: true compares the levels as amounts, but they are not all numbers"):
        jobs_flow(attributes={**JOBS["attributes"], "break_cover": {**COVER, "cost": True}})
    steps = [{**JOBS, "attributes": {**JOBS["attributes"], "parking_fee": [0, 5], "bus_fare": [0, 2]}, "tasks": 10},
             {"id": "bye", "type": "end", "text": "Thank you."}]
    path = tmp_path / "jobs.yaml"
    path.write_text(yaml.safe_dump({"flow": "jobs", "steps": steps}, allow_unicode=True, sort_keys=False), encoding="utf-8")
    [warning] = [p for p in validate_paths([path])[0] if "costs" in p.message]
    assert warning.severity == "warning" and warning.message.startswith("step 'jobs' has 2 costs (parking_fee, bus_fare)")
    assert "'cost: false'" in warning.hint
