"""A children's asthma clinic study written by a new coordinator (tests/data/asthma): parents and
school nurses choose between clinics differing in clinic time, distance, who you see and the cost
to the family. What parents typed at its choice tasks was stored as the wrong choice:

- Welsh "yr un rhatach" ("the cheaper one") and "yr un agosach" ("the nearer one") were read as
  naming the alternative showing "yr un nyrs asthma" ("the same asthma nurse"), as its label
  opens with "yr un": where the costs tied that alternative was stored, and where the other was
  cheaper the reply was asked again;
- "the one after school" or "same nurse", where no alternative of the task shows that level, was
  stored as the alternative whose level shares a word with it ("during school hours", "any asthma
  nurse").

Every task of the design is tried, the expected alternative worked out from the levels shown."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from bot.chat import ChatSession, open_target
from flows.events import RecordAnswer
from flows.inputs import TextInput
from flows.steps.choice_experiment import ChoiceExperimentStep

STUDY = Path(__file__).resolve().parent / "data" / "asthma"
Profiles = list[dict[str, Any]]


def _step() -> ChoiceExperimentStep:
    step = open_target(STUDY, "choices").flows["choices"].flow.step("clinic")
    assert isinstance(step, ChoiceExperimentStep)
    return step


def _tasks() -> list[tuple[int, int, Profiles]]:
    """(block, tasks done before it, its alternatives) for every task of the design."""
    step = _step()
    return [(block, done, step.profiles(task)) for block in range(step.blocks)
            for done, task in enumerate(step._task_numbers(block))]


def _chosen(block: int, done: int, reply: str, language: str) -> str | None:
    """The choice stored for ``reply`` at that task ('A', 'B', 'none'), or None when asked again."""
    session = ChatSession(open_target(STUDY, "choices"), language=language, channel="whatsapp")
    assert session.state.step == "clinic"
    session.state.step_data = {"block": block, "done": done, "choices": [None] * done}
    sprint = session.engine.handle(session.state, TextInput(reply), session._clock())
    stored = [event for event in sprint.events if isinstance(event, RecordAnswer) and event.item is not None]
    return str(stored[0].value["choice"]) if stored else None


def _lowest(attribute: str) -> Callable[[Profiles], str | None]:
    def pick(profiles: Profiles) -> str | None:
        values = [profile[attribute] for profile in profiles]
        return "AB"[values.index(min(values))] if values.count(min(values)) == 1 else None
    return pick


def _showing(attribute: str, level: object) -> Callable[[Profiles], str | None]:
    def pick(profiles: Profiles) -> str | None:
        found = [i for i, profile in enumerate(profiles) if profile[attribute] == level]
        return "AB"[found[0]] if len(found) == 1 else None
    return pick


def _nowhere(attribute: str, level: str) -> Callable[[Profiles], bool]:
    return lambda profiles: all(profile[attribute] != level for profile in profiles)


@pytest.mark.parametrize(("reply", "language", "expected"), [
    ("yr un rhatach", "cy", _lowest("cost")),
    ("yr un agosach", "cy", _lowest("distance")),
    ("y un rhataf", "cy", _lowest("cost")),
    ("yr un am ddim", "cy", _showing("cost", 0)),
    ("the cheaper one", "en", _lowest("cost")),
])
def test_welsh_the_one_before_a_description_picks_what_it_describes(reply: str, language: str,
                                                                    expected: Callable[[Profiles], str | None]) -> None:
    """At a tie nothing is stored (asked again); otherwise the alternative described."""
    tried = [(block, done, expected(profiles)) for block, done, profiles in _tasks()]
    assert {want for _, _, want in tried} == {"A", "B", None}, "the design has tasks of every kind"
    assert [(block, done, _chosen(block, done, reply, language)) for block, done, _ in tried] == tried


@pytest.mark.parametrize(("reply", "language", "attribute", "level"), [
    ("the one after school", "en", "time", "after_school"),
    ("ar ôl ysgol", "cy", "time", "after_school"),
    ("the one with the same nurse", "en", "who", "same_nurse"),
    ("same nurse", "en", "who", "same_nurse"),
])
def test_a_level_no_alternative_shows_is_asked_again_not_read_as_one_sharing_a_word(reply: str, language: str,
                                                                                  attribute: str, level: str) -> None:
    absent = [(block, done) for block, done, profiles in _tasks() if _nowhere(attribute, level)(profiles)]
    assert absent, "the design has a task without that level"
    assert [(block, done, _chosen(block, done, reply, language)) for block, done in absent] == [
        (block, done, None) for block, done in absent]
    shown = [(block, done, _showing(attribute, level)(profiles)) for block, done, profiles in _tasks()
             if _showing(attribute, level)(profiles) is not None]
    assert [(block, done, _chosen(block, done, reply, language)) for block, done, _ in shown] == shown, "where shown, it picks it"


def test_a_label_opening_with_yr_un_is_still_read_by_its_words() -> None:
    """'yr un nyrs asthma' (the same asthma nurse) keeps its 'yr un': it is the level's own name."""
    for block, done, profiles in _tasks():
        assert _chosen(block, done, "yr un nyrs asthma", "cy") == _showing("who", "same_nurse")(profiles)
