"""The choice experiment step: a design generated identically every time, a block per
participant, compact rendering, replies in every form, and a conditional logit fitted to
answers simulated through the engine recovering the utilities the respondents had."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pytest

from channels.base import render_plain
from flows.analysis.dce_design import DesignSpec, random_design
from flows.analysis.mnl import fit_mnl
from flows.analysis.records import choice_long_format
from flows.engine import Engine, SessionState, TextInput
from flows.events import RecordAnswer, SendMessage
from flows.model import Flow
from flows.population import ItemRecord
from flows.steps.choice_experiment import ChoiceExperimentStep

NOW = datetime(2030, 1, 1, tzinfo=UTC)
STEP = {
    "id": "appointment", "type": "choice_experiment", "text": "Which would you choose?",
    "attributes": {
        "wait": {"levels": [1, 2, 4], "labels": {1: "1 week", 2: "2 weeks", 4: "4 weeks"}, "better": "lower"},
        "who": ["GP", "nurse", "pharmacist"],
        "how": ["in person", "video", "phone"],
    },
    "alternatives": 2, "opt_out": True, "tasks": 6, "blocks": 2,
}


def flow(**changes: object) -> Flow:
    return Flow.model_validate({"flow": "f", "steps": [{**STEP, **changes}]})


def step_of(the_flow: Flow) -> ChoiceExperimentStep:
    step = the_flow.steps[0]
    assert isinstance(step, ChoiceExperimentStep)
    return step


class Respondent:
    def __init__(self, the_flow: Flow, seed: int) -> None:
        self.engine = Engine(the_flow)
        sprint = self.engine.start(NOW, seed=seed)
        self.state: SessionState = sprint.state
        self.said: list[SendMessage] = list(sprint.messages())
        self.recorded: list[RecordAnswer] = []

    def send(self, text: str, button: str | None = None) -> None:
        sprint = self.engine.handle(self.state, TextInput(text, button=button), NOW)
        self.state = sprint.state
        self.said += sprint.messages()
        self.recorded += [e for e in sprint.events if isinstance(e, RecordAnswer)]

    @property
    def tasks(self) -> list[dict]:
        return [e.value for e in self.recorded if e.item]


def test_the_design_is_the_same_every_time_and_has_no_dominated_alternatives() -> None:
    first, second = step_of(flow()).design(), step_of(Flow.model_validate({"flow": "g", "steps": [dict(STEP)]})).design()
    assert np.array_equal(first.levels, second.levels) and np.array_equal(first.blocks, second.blocks)
    assert first.levels.shape == (12, 2, 3) and sorted(np.bincount(first.blocks)) == [6, 6]
    assert first.dominated_tasks() == []
    assert first.d_error < random_design(first.spec, seed=1).d_error
    assert not np.array_equal(step_of(flow(id="other")).design().levels, first.levels)


def test_a_design_that_cannot_identify_the_model_is_refused_when_the_flow_loads() -> None:
    with pytest.raises(ValueError, match="no design can be made"):
        flow(tasks=1, blocks=1)


def test_each_participant_answers_one_block_in_design_order() -> None:
    design = step_of(flow()).design()
    blocks = set()
    for seed in range(12):
        respondent = Respondent(flow(), seed)
        for _ in range(6):
            respondent.send("A")
        assert respondent.state.status == "ended"
        block = {t["block"] for t in respondent.tasks}
        assert len(block) == 1
        expected = [t + 1 for t in range(12) if design.blocks[t] == next(iter(block)) - 1]
        assert [t["task"] for t in respondent.tasks] == expected
        blocks |= block
    assert blocks == {1, 2}


def test_a_task_reads_compactly_as_text_and_offers_three_buttons() -> None:
    respondent = Respondent(flow(), 0)
    prompt = respondent.said[-1]
    step = step_of(flow())
    lines = prompt.text.splitlines()
    assert lines[:2] == ["Which would you choose?", "Choice 1 of 6:"]
    assert lines[2].startswith("A: ") and lines[3].startswith("B: ") and len(lines) == 4
    assert all(part in {"1 week", "2 weeks", "4 weeks", *step.attributes["who"].levels, *step.attributes["how"].levels}
               for line in lines[2:] for part in line[3:].split(", "))
    assert [(b.label, b.value) for b in prompt.buttons] == [("A", "A"), ("B", "B"), ("Neither", "none")]
    assert len(render_plain(prompt.text, prompt.buttons)) < 160


@pytest.mark.parametrize(("reply", "button", "choice", "chosen"), [
    ("A", None, "A", 1), ("b", None, "B", 2), ("B)", None, "B", 2), ("1", None, "A", 1), ("2", None, "B", 2), ("3", None, "none", 0),
    ("N", None, "none", 0), ("neither", None, "none", 0), ("none of them", None, "none", 0), ("", "none", "none", 0), ("", "B", "B", 2),
])
def test_a_choice_is_read_in_every_form_and_recorded_with_the_levels_shown(reply: str, button: str | None, choice: str, chosen: int) -> None:
    respondent = Respondent(flow(), 3)
    respondent.send(reply, button)
    (task,) = respondent.tasks
    assert (task["choice"], task["chosen"]) == (choice, chosen)
    step = step_of(flow())
    assert task["alternatives"] == step.profiles(task["task"] - 1)
    assert task["opt_out"] is True and respondent.recorded[0].item == f"task{task['task']}"


def test_an_unclear_reply_gets_a_hint() -> None:
    respondent = Respondent(flow(), 0)
    respondent.send("purple")
    assert respondent.said[-1].text == "Please reply A, B or N for neither." and respondent.tasks == []
    respondent.send("the cheaper one")  # no cost here: what the choices differ in is said
    assert respondent.said[-1].text == ("These choices have no cost to compare; they differ in: wait, who, how. "
                                        "Please reply A, B or N for neither.") and respondent.tasks == []


def test_a_logit_fitted_to_answers_through_the_engine_recovers_the_respondents_utilities() -> None:
    truth = {"wait": -0.6, "who[nurse]": -0.5, "who[pharmacist]": -1.2, "how[video]": -0.4, "how[phone]": -0.9, "opt_out": -1.5}
    rng = np.random.default_rng(11)
    the_flow = flow()
    step = step_of(the_flow)
    attributes = [(name, attr.levels) for name, attr in step.attributes.items()]
    records: list[ItemRecord] = []
    for person in range(150):
        respondent = Respondent(the_flow, person)
        while respondent.state.status != "ended":
            task = step.profiles(_current_task(respondent, step))
            utilities = [sum(truth[f] * x for f, x in _coded(profile).items()) for profile in task] + [truth["opt_out"]]
            pick = int(np.argmax(np.array(utilities) + rng.gumbel(size=3)))
            respondent.send("ABN"[pick])
        records += [ItemRecord(f"p{person}", "patient", e.step_id, e.item, e.value) for e in respondent.recorded if e.item]
    long, features = choice_long_format(records, attributes)
    assert set(features) == set(truth) and long["choice_set"].nunique() == 900
    result = fit_mnl(long, choice_set="choice_set", chosen="chosen", features=features)
    for feature, value in truth.items():
        estimate, se = result.coefficient(feature), result.se(feature)
        assert np.sign(estimate) == np.sign(value), feature
        assert abs(estimate - value) < 3.5 * se, (feature, estimate, value, se)
    assert result.coefficient("who[pharmacist]") < result.coefficient("who[nurse]")
    assert result.coefficient("how[phone]") < result.coefficient("how[video]")


def _current_task(respondent: Respondent, step: ChoiceExperimentStep) -> int:
    prompt = [m for m in respondent.said if m.kind == "prompt"][-1].text.splitlines()
    shown = [line[3:] for line in prompt if line[:3] in ("A: ", "B: ")]
    design = step.design()
    for t in range(len(design.levels)):
        profiles = step.profiles(t)
        if [", ".join(_label(step, k, v) for k, v in p.items()) for p in profiles] == shown:
            return t
    raise AssertionError(f"task not in the design: {shown}")


def _label(step: ChoiceExperimentStep, name: str, level: object) -> str:
    labels = step.attributes[name].labels or {}
    return str(labels.get(str(level), level))


def _coded(profile: dict) -> dict[str, float]:
    coded = {"wait": float(profile["wait"])}
    for name in ("who", "how"):
        coded[f"{name}[{profile[name]}]"] = 1.0
    return {k: v for k, v in coded.items() if k in ("wait", "who[nurse]", "who[pharmacist]", "how[video]", "how[phone]")}


def test_the_design_spec_matches_the_step() -> None:
    spec: DesignSpec = step_of(flow()).design().spec
    assert spec.parameters == ("wait", "who[nurse]", "who[pharmacist]", "how[video]", "how[phone]", "opt_out")
    assert spec.tasks == 12 and spec.blocks == 2 and spec.opt_out
