"""``chorus chat --channel sms|whatsapp|telegram`` shows each message as that channel sends it
(bot/chat_channels.py): Telegram's keyboard as ``[ Patient ]`` rows, WhatsApp's quick replies or
list picker where the study's templates fit (numbered text otherwise), SMS as numbered text in
parts with a segment note; the hints are the channel's ("tap" where buttons were shown), and
``/tap N`` taps a button. ``--population`` previews a later Delphi round's group feedback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.chat import ChatSession, open_target
from bot.chat_channels import VOICE_CHANNELS, ChatChannel, sms_note
from bot.cli import cli
from bot.dispatch_rules import WhatsAppConfig
from channels.base import render_plain
from flows.events import Button, SendMessage
from flows.sms import count_segments

EXAMPLES = Path(__file__).resolve().parent.parent / "flows" / "examples"
AE = EXAMPLES / "ae-waiting"
PRIORITIES = EXAMPLES / "priorities"
WHATSAPP_TEMPLATES = """
whatsapp:
  quick_reply: {content_sid: HX00000000000000000000000000000001}
  list_picker: {content_sid: HX00000000000000000000000000000002}
"""


def run(path: Path, script: str, *options: str) -> tuple[list[str], str]:
    outcome = CliRunner().invoke(cli, ["chat", str(path), *options], input=script)
    assert outcome.exit_code == 0, outcome.output
    return [line for line in outcome.stdout.splitlines() if line], outcome.stderr


@pytest.fixture
def with_templates(tmp_path: Path) -> Path:
    study = tmp_path / "ae-waiting"
    shutil.copytree(AE, study)
    with (study / "study.yaml").open("a", encoding="utf-8") as handle:
        handle.write(WHATSAPP_TEMPLATES)
    return study


def test_without_a_channel_the_chat_is_as_before() -> None:
    lines, _ = run(AE, "yes\n")
    assert lines[lines.index("Which best describes you?") + 1:][:3] == ["1) Patient", "2) Carer or family", "3) Staff"]
    assert not any(line.startswith("[") for line in lines), "no buttons and no SMS notes"


def test_telegram_shows_buttons_and_its_hint_says_tap() -> None:
    lines, _ = run(AE, "yes\nmaybe\n", "--channel", "telegram")
    assert "[ Yes ] [ No ]" in lines, "short labels share a row, as keyboard_for lays them out"
    asked = lines.index("Which best describes you?")
    assert lines[asked + 1:asked + 4] == ["[ Patient ]", "[ Carer or family ]", "[ Staff ]"]
    assert not any(line.startswith("1) ") for line in lines), "no numbered lines where buttons are shown"
    assert lines[-1].startswith("Please tap one of the buttons"), lines[-1]


def test_sms_hint_says_reply_with_numbers_and_each_message_has_its_segments() -> None:
    lines, _ = run(AE, "yes\nmaybe\n", "--channel", "sms")
    assert lines[lines.index("3) Staff") + 1] == "[1 SMS, GSM-7]"
    hint = lines[lines.index("> maybe") + 1]
    assert hint.startswith("Please reply with a number from 1 to 3") and "tap" not in hint.lower()


def test_sms_in_welsh_names_the_letter_that_makes_it_ucs2() -> None:
    lines, _ = run(AE, "", "--channel", "sms", "--lang", "cy")
    assert lines[1] == "[2 SMS, UCS-2: î]", lines[:2]


def test_a_long_sms_is_split_into_parts_as_twilio_sends_it(tmp_path: Path) -> None:
    sentence = "The waiting room was cold and nobody told us how long it would be, so we sat there for hours. "
    flow = tmp_path / "long.yaml"
    flow.write_text(f"flow: long\nsteps:\n  - id: intro\n    type: message\n    text: \"{sentence * 8}\"\n"
                    "  - id: done\n    type: end\n    text: Bye.\n", encoding="utf-8")
    lines, _ = run(flow, "", "--channel", "sms")
    notes = [line for line in lines if line.startswith("[part ")]
    assert [note.split(":")[0] for note in notes] == ["[part 1 of 2", "[part 2 of 2"], lines
    parts = [lines[lines.index(note) - 1] for note in notes]
    assert all(count_segments(part).segments <= 3 for part in parts)
    assert " ".join(parts) == (sentence * 8).strip(), "split at sentences, nothing lost"


def test_whatsapp_without_templates_is_numbered_text_with_templates_quick_replies(with_templates: Path) -> None:
    plain, _ = run(AE, "yes\nmaybe\n", "--channel", "whatsapp")
    assert "1) Patient" in plain and plain[-1].startswith("Please reply with a number from 1 to 3")
    buttons, _ = run(with_templates, "yes\nmaybe\n", "--channel", "whatsapp")
    assert "[ Patient ] [ Carer or family ] [ Staff ]" in buttons
    assert buttons[-1].startswith("Please tap one of the buttons")


def test_whatsapp_shows_a_list_picker_beyond_three_options() -> None:
    channel = ChatChannel.of("whatsapp", open_target(PRIORITIES).study)
    with_config = ChatChannel("whatsapp", WhatsAppConfig.from_dict(
        {"list_picker": {"content_sid": "HX2"}, "quick_reply": {"content_sid": "HX1"}}))
    options = tuple(Button(label, label.lower()) for label in ("Bus", "Car", "Walk", "Taxi"))
    message = SendMessage("How did you come?", "travel", options)
    assert with_config.render(message) == ["How did you come?\n[ list ]\n  - Bus\n  - Car\n  - Walk\n  - Taxi"]
    assert channel.render(message) == [render_plain(message.text, options)], "no templates: as text"


def test_tap_by_number_and_by_label_answers_the_question() -> None:
    lines, errors = run(AE, "yes\n/tap 2\n", "--channel", "telegram")
    assert lines[-1].startswith("How many times have you been to A&E"), "Carer or family tapped"
    lines, _ = run(AE, "yes\n/tap staff\n", "--channel", "telegram")
    assert lines[-5:] == ["Which shifts do you usually work?", "[ Days ]", "[ Nights ]", "[ Weekends ]", "[ Done ]"]
    assert not errors


def test_taps_tick_a_multiple_choice_and_are_recorded_as_the_answer() -> None:
    target = open_target(AE)
    channel = ChatChannel.of("telegram", target.study)
    session = ChatSession(target, keyboards=channel.keyboards, voice_notes=channel.voice_notes)
    shown = [*session.opening]
    for line in ("yes", "/tap 3", "/tap 1 3"):
        given = channel.tap(shown, line.removeprefix("/tap ")) if line.startswith("/tap") else channel.typed(line)
        shown += session.give(given)
    assert session.state.step == "story"
    assert session.state.values["shift"] == ["day", "weekend"]


def test_tap_is_refused_plainly_where_there_is_nothing_to_tap() -> None:
    lines, errors = run(AE, "/tap 1\nyes\n/tap 9\n/tap 2\n/tap 1\n", "--channel", "telegram")
    assert "/tap: there are 3 buttons" in errors
    assert "/tap: the question asked now has no buttons: type the reply" in errors, "an answered question's keyboard is not tapped"
    _, sms_errors = run(AE, "yes\n/tap 1\n", "--channel", "sms")
    assert "/tap: SMS has no buttons: type the reply" in sms_errors


def test_tap_one_of_a_single_choice_only() -> None:
    _, errors = run(AE, "yes\n/tap 1 2\n", "--channel", "telegram")
    assert "this question takes one answer" in errors


def test_telegram_reads_its_commands() -> None:
    lines, _ = run(AE, "/stop\n", "--channel", "telegram")
    stopped, _ = run(AE, "STOP\n")
    assert lines[-1] == stopped[-1]


def test_sms_refuses_a_voice_note(tmp_path: Path) -> None:
    audio = tmp_path / "story.ogg"
    audio.write_bytes(b"OggS")
    _, errors = run(AE, f"/voice {audio}\n", "--channel", "sms")
    assert "sms carries no voice notes" in errors


def test_voice_channels_are_the_services() -> None:
    from bot.service import VOICE_CHANNELS as SERVICE_VOICE_CHANNELS

    assert VOICE_CHANNELS == SERVICE_VOICE_CHANNELS


def test_sms_note_describes_an_invisible_character() -> None:
    assert sms_note("a\u00a0b", 1, 1) == "[1 SMS, UCS-2: U+00A0]"
    assert sms_note("x" * 200, 2, 3) == "[part 2 of 3: 2 SMS, GSM-7]"


# ----------------------------------------------------------------------------- Delphi round 2 feedback

RATINGS = """participant,group,item,score
you,patient,Seeing the same nurse each time,4
a,patient,Seeing the same nurse each time,8
b,patient,Seeing the same nurse each time,5
c,patient,Seeing the same nurse each time,3
d,staff,Seeing the same nurse each time,7
e,staff,Seeing the same nurse each time,2
"""


def chat_with_ratings(tmp_path: Path, ratings: str) -> list[str]:
    path = tmp_path / "ratings.csv"
    path.write_text(ratings, encoding="utf-8")
    return run(PRIORITIES, "", "--flow", "round2", "--population", str(path))[0]


def test_population_shows_round_two_feedback(tmp_path: Path) -> None:
    without, _ = run(PRIORITIES, "", "--flow", "round2")
    lines = chat_with_ratings(tmp_path, RATINGS)
    assert not any("Last time you said" in line for line in without)
    assert lines[1] == without[1] == "1/6: Seeing the same nurse each time"
    feedback = lines[2]
    assert feedback.startswith("Last time you said 4. Everyone: 33% said 7-9 (median 4.5)"), feedback


def test_population_drops_an_item_agreed_in_round_one(tmp_path: Path) -> None:
    agreed = "participant,group,item,score\n" + "".join(f"p{n},patient,Seeing the same nurse each time,8\n" for n in range(6))
    lines = chat_with_ratings(tmp_path, agreed)
    assert lines[1] == "1/5: Knowing when the nurse will arrive", "drop_consensus: the agreed item is not asked again"


def test_population_file_errors_are_plain(tmp_path: Path) -> None:
    ratings = tmp_path / "ratings.csv"
    ratings.write_text("participant,group,item,score\na,patient,Free parking,5\n", encoding="utf-8")
    outcome = CliRunner().invoke(cli, ["chat", str(PRIORITIES), "--flow", "round2", "--population", str(ratings)], input="")
    assert outcome.exit_code == 2
    assert "no Delphi item is 'Free parking'" in outcome.stderr
