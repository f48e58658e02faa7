"""Property tests: whatever a participant sends, at any step of any example flow, the engine
never raises and always leaves the session waiting on a question, paused, stopped or ended.

Every flow of every study under flows/examples/ is found by glob, so a new example is
covered without touching this file.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from functools import cache
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flows.engine import Engine, Input, Resume, SessionState, Sprint, TextInput, Timeout
from flows.events import SendMessage
from flows.loader import load_study
from flows.model import Option
from flows.steps.base import InputStep
from flows.words import BUILT_IN_WORDS, ERASE_KINDS, LANGUAGE_WORDS, SKIP_WORDS, Words

EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"
NOW = datetime(2030, 6, 1, 12, 0, tzinfo=UTC)


@cache
def example_engines() -> tuple[Engine, ...]:
    engines = []
    for study_file in sorted(EXAMPLES.glob("*/study.y*ml")):
        study = load_study(study_file)
        engines += [Engine(loaded.flow, study.study, loaded.version) for loaded in study.flows.values()]
    return tuple(engines)


GLOBAL_WORDS = sorted(
    {w for by_language in BUILT_IN_WORDS.values() for words in by_language.values() for w in words}
    | {w for words in LANGUAGE_WORDS.values() for w in words}
    | SKIP_WORDS
    | {"language", "language cy", "language en", "language fr", "STOP", "Start", "HELP!"}
)
LIKELY = [
    "yes", "no", "y", "n", "1", "2", "3", "7", "10", "0", "-1", "B", "b)", "the second one", "seven",
    "7/9", "I'd say 4 thanks", "yes and no", "2 or 3", "1 and 3", "1,3", "A C", "maybe", "unsure",
    "Not sure", "don't know", "ydw", "nac ydw", "👍", "👎", "carer", "Staff", "days and nights",
    "very good", "{{ participant.name }}", "{% for x in y %}", "1e308", "NaN", "inf", "99999999999999999999",
    "½", "4️⃣", "\u200d", "\x00", " ", "",
]
EMOJI = st.text(alphabet=st.sampled_from("👍👎😀🎉🙂❌✅🏽\u200d\ufe0f\u20e3#*0123456789 "), max_size=12)
TEXTS = st.one_of(
    st.sampled_from(GLOBAL_WORDS),
    st.sampled_from(LIKELY),
    st.text(max_size=40),
    EMOJI,
    st.builds(lambda words: " ".join(words), st.lists(st.sampled_from(LIKELY + GLOBAL_WORDS), max_size=6)),
    st.builds(lambda word, n: word * n, st.sampled_from(["seven ", "a", "1 and ", "yes ", "🙂", "x" * 50]), st.integers(50, 400)),
)


@st.composite
def an_input(draw: st.DrawFn, engine: Engine) -> Input:
    step_ids = engine.flow.step_ids()
    buttons = sorted({o.value for s in engine.flow.steps for o in getattr(s, "options", []) if isinstance(o, Option)} | {"yes", "no", "unsure", "3"})
    return draw(
        st.one_of(
            st.builds(TextInput, TEXTS),
            st.builds(TextInput, TEXTS, button=st.sampled_from(buttons), source=st.just("button")),
            st.builds(TextInput, TEXTS, source=st.just("voice"), confidence=st.floats(0, 1)),
            st.builds(Timeout, st.sampled_from(step_ids)),
            st.builds(Resume, st.sampled_from(["reminder", "snooze"])),
        )
    )


def check_settled(engine: Engine, state: SessionState) -> None:
    """Waiting on a question (possibly paused or stopped), or ended."""
    if state.status == "ended":
        assert state.outcome, "an ended session says how it ended"
        return
    assert state.status in ("waiting", "snoozed", "stopped"), state.status
    step = engine.flow.step(state.step) if state.step else None
    if isinstance(step, InputStep):
        return
    # Only a participant who said STOP after the end may sit on a non-question; START leaves them ended.
    assert state.status == "stopped", f"{state.status} on non-question step {state.step}"
    assert engine.handle(state, TextInput("START"), NOW).state.status == "ended"


def check_messages(engine: Engine, before: SessionState, given: Input, sprint: Sprint) -> None:
    messages = [e for e in sprint.events if isinstance(e, SendMessage)]
    echoed = " ".join(str(v) for v in [*sprint.state.fields.values(), *sprint.state.displays.values()])
    for message in messages:
        assert message.text.strip(), "an empty message was sent"
        leaked = [mark for mark in ("{{", "{%") if mark in message.text and mark not in echoed]
        assert not leaked, f"template source reached the participant: {message.text!r}"
    # While stopped, only START gets a reply, and the DELETE MY DATA exchange (it works after STOP).
    if before.status == "stopped" and messages and not all(m.kind in ERASE_KINDS for m in messages):
        assert isinstance(given, TextInput) and given.button is None and given.source != "voice"
        assert Words(engine.study).command(given.text) == "start", f"sent {messages[0].text!r} while stopped"


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_no_input_at_any_step_of_any_example_flow_breaks_the_engine(data: st.DataObject) -> None:
    engine = data.draw(st.sampled_from(example_engines()), label="flow")
    study_languages = engine.study.languages if engine.study else ["en"]
    first = engine.start(
        NOW,
        language=data.draw(st.sampled_from([*study_languages, "fr"]), label="language"),
        fields=data.draw(st.fixed_dictionaries({}, optional={"name": st.text(max_size=10), "group": st.sampled_from(["staff", "patient", ""])}), label="fields"),
        at_step=data.draw(st.sampled_from([None, *engine.flow.step_ids()]), label="at_step"),
    )
    state = first.state
    check_settled(engine, state)
    now = NOW
    for given_input in data.draw(st.lists(an_input(engine), max_size=12), label="inputs"):
        now += timedelta(minutes=5)
        sprint = engine.handle(state, given_input, now)
        check_messages(engine, state, given_input, sprint)
        check_settled(engine, sprint.state)
        assert SessionState.model_validate_json(sprint.state.model_dump_json()) == sprint.state
        state = sprint.state


def test_every_example_flow_is_covered() -> None:
    names = {engine.flow.flow for engine in example_engines()}
    assert {"understand", "vision", "codesign", "evaluate"} <= names
