"""A question's own answers against the global words, BACK leaving a branch behind, and the
built-in texts in a study's languages: the engine, ``chorus validate`` and ``chorus texts``."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

from bot.cli import cli
from flows.engine import Engine, SessionState, Sprint, TextInput
from flows.events import OptedOut, RecordAnswer, SendMessage, SetField
from flows.loader import Problem, load_study
from flows.validate import validate_paths
from flows.words import BUILT_IN_TEXTS, Words

NOW = datetime(2001, 2, 3, 10, 0, tzinfo=UTC)

FLOW = """\
flow: visits
steps:
  - id: lounge
    type: choice
    text: How is the lounge when visitors come?
    options:
      - {value: quiet, label: Quiet}
      - {value: busy, label: Busy}
  - id: pain
    type: choice
    text: Where do you get most pain?
    options: [{value: back, label: Back}, {value: knees, label: Knees}]
  - id: speak
    type: choice
    text: What do you speak at home?
    options: [{value: en, label: English}, {value: cy, label: Welsh}, {value: other, label: Another language}]
  - id: when
    type: choice
    text: When do visits happen?
    options: [{value: morning, label: Morning}, {value: end, label: End of the day}]
  - id: bye
    type: end
    text: Thank you.
"""

BRANCHES = """\
flow: intake
steps:
  - id: who
    type: choice
    text: Are you...
    options: [mother, midwife]
    save_to: participant.group
    next:
      - if: answer == "midwife"
        goto: shift
  - id: weeks
    type: number
    text: How many weeks?
  - id: ward
    type: choice
    text: Where did you give birth?
    options: [home, ward]
    save_to: participant.place
  - id: shift
    type: number
    text: How long was your shift?
  - id: bye
    type: end
    text: Thanks.
"""


def a_study(folder: Path, flow: str, languages: list[str], texts: dict[str, dict[str, str]] | None = None) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    name = yaml.safe_load(flow)["flow"]
    (folder / f"{name}.yaml").write_text(flow, encoding="utf-8")
    study = {"study": "s", "title": {code: "A study" for code in languages}, "languages": languages,
             "join": {"start_flow": name, "keyword": "JOIN"}, "flows": [f"{name}.yaml"]}
    if texts:
        study["texts"] = texts
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return folder


class Chat:
    def __init__(self, folder: Path, flow: str) -> None:
        loaded = load_study(folder)
        self.engine = Engine(loaded.flows[flow].flow, loaded.study, loaded.flows[flow].version)
        self.state: SessionState = self.engine.start(NOW).state
        self.last: Sprint | None = None

    def send(self, text: str) -> list[str]:
        self.last = self.engine.handle(self.state, TextInput(text), NOW)
        self.state = self.last.state
        return [e.text for e in self.last.events if isinstance(e, SendMessage)]


def test_an_option_that_is_also_a_global_word_answers_the_question(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, FLOW, ["en", "cy"]), "visits")
    chat.send("busy")  # LATER's word, but this question's option
    assert chat.state.values["lounge"] == "busy" and chat.state.status == "waiting"
    chat.send("Back.")  # BACK's word
    assert chat.state.values["pain"] == "back" and chat.state.step == "speak"
    chat.send("welsh")  # a language switch's word
    assert chat.state.values["speak"] == "cy" and chat.state.language == "en"
    texts = chat.send("busy")  # not an option here: LATER still snoozes
    assert chat.state.status == "snoozed" and "ask again" in texts[0]


def test_stop_stops_even_where_it_is_an_option(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, FLOW, ["en"]), "visits")
    for answer in ("1", "1", "1"):
        chat.send(answer)
    assert chat.state.step == "when"
    chat.send("END")
    assert chat.state.status == "stopped"
    assert chat.last is not None and any(isinstance(e, OptedOut) for e in chat.last.events)
    assert "when" not in chat.state.values


def test_validate_warns_of_an_option_that_is_a_stop_word(tmp_path: Path) -> None:
    problems, _ = validate_paths([a_study(tmp_path, FLOW, ["en"])])
    warned = [p.message for p in problems]
    assert warned == ["the value 'end' of an option of step 'when' is also a STOP word: a participant "
                      "who types it is opted out of every message"]


def test_back_forgets_the_answers_of_a_branch_left_behind(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, BRANCHES, ["en"]), "intake")
    for answer in ("mother", "38", "ward", "back", "back", "back"):
        chat.send(answer)
    assert chat.state.step == "who"
    chat.send("midwife")  # another branch: 'weeks' and 'ward' are never asked again
    chat.send("12")
    assert chat.state.status == "ended"
    assert chat.state.values == {"who": "midwife", "shift": 12}
    assert set(chat.state.displays) == {"who", "shift"}
    assert chat.state.fields == {"group": "midwife"}


def test_back_clears_a_field_saved_by_a_step_left_behind(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, BRANCHES, ["en"]), "intake")
    for answer in ("mother", "38", "home"):
        chat.send(answer)
    assert chat.state.step == "shift"
    chat.send("back")  # back to 'ward': it is asked again, its answer still shown as the earlier one
    assert chat.state.step == "ward" and chat.state.fields["place"] == "home"
    chat.send("back")  # 'ward' is left behind now
    assert chat.state.step == "weeks"
    assert chat.last is not None and SetField("place", None) in chat.last.events
    assert "place" not in chat.state.fields and "ward" not in chat.state.values


def test_help_offers_the_study_languages_and_a_bare_language_asks(tmp_path: Path) -> None:
    english_only = Chat(a_study(tmp_path / "en", FLOW, ["en"]), "visits")
    assert "CYMRAEG" not in english_only.send("help")[0]
    two = Chat(a_study(tmp_path / "two", FLOW, ["en", "cy", "pl"]), "visits")
    assert two.send("help")[0].endswith("For another language, reply CYMRAEG or LANGUAGE PL.")
    pair = Chat(a_study(tmp_path / "pair", FLOW, ["en", "cy"]), "visits")
    assert pair.send("help")[0].endswith("HELP. For Welsh, reply CYMRAEG.")
    assert pair.send("CYMRAEG")[0] == "Byddwn yn ysgrifennu yn Gymraeg o hyn ymlaen."
    assert pair.send("help")[0].endswith("HELP. Am Saesneg, atebwch ENGLISH.")
    assert two.send("language")[0] == "Which language would you like? Reply ENGLISH, CYMRAEG or LANGUAGE PL."
    assert two.state.language == "en"


def _study_file_problems(folder: Path) -> list[Problem]:
    """The study file's problems: the flow's own texts are in English only, which is one
    warning of the flow file (tests/test_missing_translations.py)."""
    problems, _ = validate_paths([folder])
    flow_file = [p for p in problems if Path(p.file).name == "visits.yaml"]
    assert len(flow_file) == 1 and "no 'pl' version" in flow_file[0].message
    return [p for p in problems if p not in flow_file]


def test_a_study_language_without_built_in_texts_is_warned_of_and_texts_prints_them(tmp_path: Path) -> None:
    folder = a_study(tmp_path, FLOW.replace("value: end", "value: evening"), ["en", "pl"])
    problems = _study_file_problems(folder)
    assert len(problems) == 1 and problems[0].severity == "warning"
    assert "'pl' participants would get them in English" in problems[0].message
    assert "chorus texts --lang pl" in problems[0].hint

    printed = CliRunner().invoke(cli, ["texts", "--lang", "pl", str(folder)])
    assert printed.exit_code == 0, printed.output
    blank = yaml.safe_load(printed.output)["texts"]
    assert blank["yes"] == {"en": "Yes", "pl": ""} and blank["stopped"]["pl"] == ""
    study = yaml.safe_load((folder / "study.yaml").read_text(encoding="utf-8"))
    study["texts"] = blank
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    problems = _study_file_problems(folder)  # pasted as printed: every blank is an error
    assert len(problems) == len(blank) and {p.severity for p in problems} == {"error"}
    assert all("is empty in 'pl'" in p.message for p in problems)

    study["texts"] = {key: {"en": texts["en"], "pl": f"PL {key}"} for key, texts in blank.items()}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    assert _study_file_problems(folder) == []
    chat = Chat(folder, "visits")
    assert chat.send("language pl") == ["PL language_changed", "How is the lounge when visitors come?"]
    assert chat.send("STOP") == ["PL stopped"]


def test_stop_said_politely_or_twice_stops_but_a_sentence_about_stopping_is_an_answer(tmp_path: Path) -> None:
    for said in ("Stop please", "stop it", "STOP STOP", "stop, thanks!", "Stopio plis"):
        chat = Chat(a_study(tmp_path / said.replace(" ", "_"), FLOW, ["en", "cy"]), "visits")
        chat.send(said)
        assert chat.state.status == "stopped", said
    words = Words()
    assert words.command("stop making us wait") is None and words.command("Just me") is None
    assert words.command("help me") == "help" and words.command("later please") == "later"


def test_a_tap_counts_only_for_the_question_its_buttons_were_offered_with(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, FLOW, ["en"]), "visits")
    first = chat.engine.start(NOW).events
    offered = next(e for e in first if isinstance(e, SendMessage)).buttons
    at = offered[0].at
    assert len(at) == 4 and {b.at for b in offered} == {at}
    chat.send("help")  # asked again: the same place, so the buttons first shown still work
    assert chat.last is not None
    again = next(e for e in chat.last.events if isinstance(e, SendMessage) and e.buttons).buttons
    assert {b.at for b in again} == {at}

    def tap(value: str, place: str) -> None:
        chat.last = chat.engine.handle(chat.state, TextInput.received("", f"{place}~{value}"), NOW)
        chat.state = chat.last.state

    tap("busy", at)
    assert chat.state.values == {"lounge": "busy"} and chat.state.step == "pain"
    tap("quiet", at)  # the second tap of a double tap
    assert chat.state.values == {"lounge": "busy"} and chat.state.step == "pain"
    assert chat.last is not None and chat.last.events == []
    chat.send("previous")  # BACK to the first question ('back' is an option of this one): its first buttons answer it again
    tap("quiet", at)
    assert chat.state.values == {"lounge": "quiet"} and chat.state.step == "pain"
    assert TextInput.received("", "abcd~a|abcd~b") == TextInput("", button="a|b", source="button", at="abcd")
    assert TextInput.received("", "plain") == TextInput("", button="plain", source="button")


def test_a_template_that_fails_leaves_out_its_sentence_not_a_hole_in_it() -> None:
    from flows.templating import TemplateFailure, render, render_what_works

    source = "Thanks for taking part.\nYou said visits are in the {{ answers.when | lower }}. You scored {{ values.feel * 20 }}%."
    context = {"answers": {"when": "Morning"}, "values": {"feel": None}}
    with pytest.raises(TemplateFailure):
        render(source, context)
    assert render_what_works(source, context) == "Thanks for taking part.\nYou said visits are in the morning."
    assert render_what_works("You scored {{ values.feel * 20 }}%.", context) == ""


LABELLED = """\
flow: labels
steps:
  - id: contact
    type: yesno
    text: May we contact you?
    yes_label: Yes please
    no_label: No thanks
  - id: compare
    type: pairwise
    text: Which matters more?
    ideas: [Shorter waits, Kinder staff, Better food]
    pairs: 2
    submissions: false
    undecided_label: Can't choose
  - id: bye
    type: end
    text: "You said {{ answers.contact }}."
"""


def test_answers_are_shown_as_the_labels_the_participant_saw(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, LABELLED, ["en"]), "labels")
    chat.send("yes")
    assert chat.state.values["contact"] == "yes" and chat.state.displays["contact"] == "Yes please"
    assert chat.send("maybe") == ["Please reply A, B or 'Can't choose'."]
    chat.send("cant choose")  # the coordinator's own label, typed without its apostrophe
    assert chat.state.step_data["results"][0]["tie"] is True
    assert chat.send("A")[-1] == "You said Yes please."


def test_an_empty_message_is_no_word_and_help_after_the_end_says_what_still_works(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, FLOW, ["en"]), "visits")
    assert chat.send("") == ["Sorry, we can only read text. Please type your answer."]  # (not a try: flows/replies.py)
    assert chat.send(" ? ")[0].startswith("Reply to the question to answer it.")
    for answer in ("1", "1", "1", "1"):
        chat.send(answer)
    assert chat.state.status == "ended"
    assert chat.send("help") == [BUILT_IN_TEXTS["help_ended"]["en"]], "between rounds, HELP still helps"
    assert chat.send("") == ["Thank you, that's all for now."]


def test_chat_with_a_flow_file_of_a_study_runs_it_within_its_study(tmp_path: Path) -> None:
    folder = a_study(tmp_path, LABELLED.replace("text: May we contact you?", "text: Welcome to {{ study.title }}. May we contact you?"), ["en"])
    alone = CliRunner().invoke(cli, ["chat", str(folder / "labels.yaml")], input="")
    assert alone.exit_code == 0, alone.output
    assert "Welcome to A study. May we contact you?" in alone.output
    (folder / "study.yaml").write_text("study: [broken\n", encoding="utf-8")  # a study that does not load: the flow alone
    broken = CliRunner().invoke(cli, ["chat", str(folder / "labels.yaml")], input="")
    assert broken.exit_code == 0 and broken.output.startswith("May we contact you?"), "no title to fill: its sentence left out"


PICKS = """\
flow: picks
steps:
  - id: three
    type: choice
    text: Pick up to three.
    multiple: true
    max_picks: 3
    options: [a, b, c, d, e, f]
  - id: two
    type: choice
    text: Pick at least two.
    multiple: true
    min_picks: 2
    options: [a, b, c]
  - id: rate
    type: scale
    text: How was it?
    min: 1
    max: 5
    unsure: true
  - id: bye
    type: end
    text: Thanks.
"""


def test_hints_say_how_many_may_be_picked_and_that_not_sure_is_an_answer(tmp_path: Path) -> None:
    chat = Chat(a_study(tmp_path, PICKS, ["en"]), "picks")
    assert chat.send("1 2 3 4") == ["Please reply with up to 3 numbers from 1 to 6, e.g. 1 3."]
    chat.send("1 2")
    assert chat.send("1") == ["Please reply with at least 2 numbers from 1 to 3, e.g. 1 3."]
    chat.send("1 3")
    assert chat.send("9") == ["Please reply with a number from 1 to 5, or 'Not sure'."]


def test_a_number_of_one_is_shown_with_its_unit_in_the_singular() -> None:
    from flows.unit_words import singular

    assert [singular(u) for u in ("hours", "nappies", "glasses", "mmHg", "kg", "minutes")] == [
        "hour", "nappy", "glass", "mmHg", "kg", "minute"]


RATINGS = """\
flow: ratings
steps:
  - id: first
    type: yesno
    text: Ready?
  - id: order
    type: rank
    text: Put these in order.
    options: [waits, pain, comfort]
  - id: bye
    type: end
    text: Thanks.
"""


def test_back_within_a_many_item_step_asks_its_last_part_again_and_withdraws_only_that(tmp_path: Path) -> None:
    from flows.events import AnswersWithdrawn

    def withdrawn(chat: Chat) -> list[AnswersWithdrawn]:
        assert chat.last is not None
        return [e for e in chat.last.events if isinstance(e, AnswersWithdrawn)]

    ranking = Chat(a_study(tmp_path / "rank", RATINGS, ["en"]), "ratings")
    ranking.send("yes")
    assert ranking.send("back") == ["Ready?"], "at the first part, BACK goes to the question before"
    ranking.send("yes")
    asked = ranking.send("2")  # 'pain' first, recorded as place 1 with the reply that picked it
    ranking.send("back")
    assert ranking.state.step == "order" and ranking.state.step_data == {} and [w.items for w in withdrawn(ranking)] == [("1",)]
    assert ranking.send("2") == asked
    ranking.send("3")  # each option keeps its number: 3 is still 'comfort'
    assert ranking.state.status == "ended" and ranking.state.values["order"] == ["pain", "comfort", "waits"]

    pairs = Chat(a_study(tmp_path / "pairs", LABELLED, ["en"]), "labels")
    pairs.send("yes")
    asked_first = pairs.send("A")
    assert pairs.last is not None
    pair = next(e.item for e in pairs.last.events if isinstance(e, RecordAnswer) and e.item)
    pairs.send("previous")  # BACK: the first pair again, its answer withdrawn
    assert withdrawn(pairs) == [AnswersWithdrawn(("compare",), (pair,), from_position=len(pairs.state.history))]
    assert pairs.state.step == "compare" and "results" not in pairs.state.step_data
    assert pairs.send("B") == asked_first, "then the same second pair as before"
    assert pairs.state.step_data["results"][0]["winner"] == pair.split(" vs ")[1]
