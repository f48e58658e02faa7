"""An option that goes alone at a multiple choice (``exclusive: true``: "None of these", "Don't
know"): a reply that picks it with others is asked again, naming what cannot go together, in
English and Welsh; alone it is a whole answer. ``chorus validate`` warns of such an option left
unmarked and refuses the mark where one option only is taken. On Telegram's tick keyboard, a tick
of it clears the other ticks and a tick of another option clears it. The export's codes are as before."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from bot.export import codes
from flows.engine import TextInput
from flows.model import Flow
from flows.validate import validate_paths
from tests.channel_helpers import provider_env, running_chorus
from tests.engine_chat import RecordingChat
from tests.fake_telegram import FakeTelegram, LocalServer
from tests.test_telegram import CHAT, say
from tests.test_telegram_taps import labels, tap_statuses, tick

NONE = {"value": "none", "label": {"en": "None of these", "cy": "Dim un o'r rhain"}, "exclusive": True}
HELP: dict[str, Any] = {
    "id": "help_with",
    "type": "choice",
    "multiple": True,
    "text": {"en": "What help do you get at home?", "cy": "Pa help ydych chi'n ei gael gartref?"},
    "options": [
        {"value": "nurses", "label": {"en": "Nurses", "cy": "Nyrsys"}},
        {"value": "family", "label": {"en": "Family", "cy": "Teulu"}},
        {"value": "gp", "label": {"en": "The GP", "cy": "Y meddyg teulu"}},
        NONE,
    ],
}
ASKED_AGAIN = {
    "en": "\"None of these\" cannot go with other answers (Nurses, The GP). Please reply with just \"None of these\", or leave it out.",
    "cy": "Ni all \"Dim un o'r rhain\" fynd gydag atebion eraill (Nyrsys, Y meddyg teulu). "
          "Atebwch gyda \"Dim un o'r rhain\" yn unig, neu ei adael allan.",
}


def stored(chat: RecordingChat) -> list[Any]:
    return [answer.value for answer in chat.recorded if answer.step_id == "help_with"]


@pytest.mark.parametrize(("language", "reply"), [
    ("en", "1 3 4"), ("en", "nurses, the gp and none of these"), ("cy", "1 3 4"), ("cy", "nyrsys, y meddyg teulu, dim un o'r rhain"),
])
def test_an_exclusive_option_picked_with_others_is_asked_again(language: str, reply: str) -> None:
    chat = RecordingChat(HELP, language=language)
    assert chat.send(reply) == [ASKED_AGAIN[language]]
    assert stored(chat) == [] and chat.state.step == "help_with"
    assert chat.send("4") == [{"en": "Bye.", "cy": "Hwyl."}[language]]
    assert stored(chat) == [["none"]]


def test_the_same_reply_without_the_mark_keeps_both_and_other_picks_are_kept_as_ever() -> None:
    unmarked = copy.deepcopy(HELP)
    del unmarked["options"][3]["exclusive"]
    chat = RecordingChat(unmarked)
    chat.send("1 4")
    assert stored(chat) == [["nurses", "none"]]
    marked = RecordingChat(HELP)
    marked.send("1 3")
    assert stored(marked) == [["nurses", "gp"]]


def test_ticks_sent_together_with_done_are_asked_again_too() -> None:
    """A Telegram Done whose keyboard could not be cleared (its check out of reach) sends both values."""
    chat = RecordingChat(HELP)
    sprint = chat.engine.handle(chat.state, TextInput("", button="family|none", source="button"), chat.now)
    said = [m.text for m in sprint.messages()]
    assert said == [ASKED_AGAIN["en"].replace("Nurses, The GP", "Family"), "What help do you get at home?"], "with a fresh keyboard"
    assert sprint.state.step == "help_with"


def test_an_exclusive_option_alone_answers_a_step_that_asks_for_more_picks() -> None:
    chat = RecordingChat({**HELP, "min_picks": 2}, language="cy")
    assert chat.send("dim un o'r rhain") == ["Hwyl."]
    assert stored(chat) == [["none"]]
    short = RecordingChat({**HELP, "min_picks": 2})
    assert short.send("2") != ["Bye."], "another option alone still needs its second pick"


def test_the_export_codes_read_the_stored_values_as_before() -> None:
    step = Flow.model_validate({"flow": "f", "steps": [HELP]}).steps[0]
    assert codes(step, "en") == ["nurses = Nurses", "family = Family", "gp = The GP", "none = None of these",
                                 "(several may be picked: value is a JSON list)"]


# ----------------------------------------------------------------------------- chorus validate


def validated(tmp_path: Path, options: str, multiple: bool = True, kind: str = "choice") -> list[tuple[int, str, str]]:
    """(line, severity, message) of every problem with an option's going alone, in a flow of one step."""
    settings = "    multiple: true\n" if multiple and kind == "choice" else ""
    flow = tmp_path / "help.yaml"
    flow.write_text("flow: help\nsteps:\n  - id: help_with\n"
                    f"    type: {kind}\n    text: What help do you get?\n{settings}    options:\n{options}"
                    "  - {id: bye, type: end, text: Thank you.}\n", encoding="utf-8")
    problems, _ = validate_paths([flow])
    return [(p.line, p.severity, f"{p.message} ({p.hint})") for p in problems if "exclusive" in f"{p.message} {p.hint}"]


@pytest.mark.parametrize("label", [
    "None of these", "None", "Dim un", "Dim un o'r rhain", "Not applicable", "N/A", "Ddim yn berthnasol", "Don't know",
    "I don’t know", "Ddim yn gwybod", "Prefer not to say",
])
def test_validate_warns_of_an_option_that_reads_as_going_alone_left_unmarked(tmp_path: Path, label: str) -> None:
    options = f"      - {{value: nurses, label: Nurses}}\n      - {{value: gp, label: The GP}}\n      - {{value: other, label: \"{label}\"}}\n"
    found = validated(tmp_path, options)
    assert len(found) == 1
    line, severity, said = found[0]
    assert (line, severity) == (10, "warning")
    assert "option 'other' of step 'help_with'" in said and '("1 3")' in said and "add 'exclusive: true'" in said


def test_validate_says_nothing_of_marked_or_ordinary_options(tmp_path: Path) -> None:
    options = ("      - {value: nurses, label: Nurses}\n      - {value: something_else, label: Something else}\n"
               "      - {value: night, label: None of the time}\n"
               "      - {value: none, label: {en: None of these, cy: Dim un o'r rhain}, exclusive: true}\n")
    assert validated(tmp_path, options) == []


@pytest.mark.parametrize("kind", ["choice", "rank"])
def test_validate_refuses_the_mark_where_one_option_only_is_taken(tmp_path: Path, kind: str) -> None:
    options = "      - {value: nurses, label: Nurses}\n      - {value: gp, label: The GP}\n      - value: none\n        label: None\n        exclusive: true\n"
    found = validated(tmp_path, options, multiple=False, kind=kind)
    assert len(found) == 1
    line, severity, said = found[0]
    assert (line, severity) == (11, "error")
    assert "means nothing here: step 'help_with' takes one option only" in said and "add 'multiple: true'" in said


# ----------------------------------------------------------------------------- Telegram's ticks

STUDY = """study: home-help
title: {en: Help at home, cy: Help gartref}
languages: [en, cy]
join:
  start_flow: help
  routes:
    - telegram: help
    - telegram: help-cy
      language: cy
"""
FLOW = """flow: help
steps:
  - id: help_with
    type: choice
    multiple: true
    max_picks: 2
    text: {en: What help do you get at home?, cy: Pa help ydych chi'n ei gael gartref?}
    options:
      - {value: nurses, label: {en: Nurses, cy: Nyrsys}}
      - {value: family, label: {en: Family, cy: Teulu}}
      - {value: gp, label: {en: The GP, cy: Y meddyg teulu}}
      - {value: none, label: {en: None of these, cy: Dim un o'r rhain}, exclusive: true}
  - {id: bye, type: end, text: {en: Thank you., cy: Diolch.}}
"""


@pytest.fixture
def fake_telegram() -> Any:
    fake = FakeTelegram()
    with LocalServer(fake.app) as server:
        yield fake, server.url


@pytest.fixture
def studies(tmp_path: Path) -> Path:
    folder = tmp_path / "studies" / "home-help"
    folder.mkdir(parents=True)
    (folder / "study.yaml").write_text(STUDY, encoding="utf-8")
    (folder / "help.yaml").write_text(FLOW, encoding="utf-8")
    return folder.parent


def ticked(message: dict[str, Any]) -> list[str]:
    return [label[2:] for label in labels(message) if label.startswith("\u2713 ")]


@pytest.mark.parametrize(("language", "limited"), [("en", False), ("cy", True)])
def test_a_tick_of_an_exclusive_option_clears_the_others_and_the_other_way_round(
        language: str, limited: bool, studies: Path, database_url: str, fake_telegram: Any) -> None:
    """With a limit on ticks or without: the tick that clears the others is no tick past it."""
    fake, url = fake_telegram
    welsh = language == "cy"
    if not limited:
        (studies / "home-help" / "help.yaml").write_text(FLOW.replace("    max_picks: 2\n", ""), encoding="utf-8")
    with running_chorus(database_url, provider_env(fake, url), studies_dir=studies) as running:
        say(running, fake, fake.message_update(CHAT, "/start help-cy" if welsh else "/start help"))
        question = fake.last_to(CHAT)
        tick(running, fake, "nurses", question)
        tick(running, fake, "gp", question)
        assert ticked(question) == (["Nyrsys", "Y meddyg teulu"] if welsh else ["Nurses", "The GP"])
        tick(running, fake, "none", question)  # not refused as a third (max_picks: 2): it goes alone
        assert ticked(question) == (["Dim un o'r rhain"] if welsh else ["None of these"])
        tick(running, fake, "family", question)
        assert ticked(question) == (["Teulu"] if welsh else ["Family"])
        tick(running, fake, "none", question)
        done = "wedi gorffen" if welsh else "done"  # typed: the ticks as the keyboard shows them
        assert say(running, fake, fake.message_update(CHAT, done)) == (["Diolch."] if welsh else ["Thank you."])
        running.settle()
        assert running.answers() == [("help_with", ["none"])]
        assert tap_statuses(running) == [("none", "processed")]
