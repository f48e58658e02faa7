"""A diabetes foot-care study written by a new coordinator from the README alone
(tests/data/foot-care), tried over SMS and WhatsApp through signed Twilio webhooks and a fake
Twilio, and through `chorus validate`: what such a coordinator and their participants ran into."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from flows.validate import validate_paths
from tests.channel_helpers import (
    provider_env,
    running_chorus,
    text_and_settle,
)
from tests.fake_telegram import wait_for
from tests.fake_twilio import FakeTwilio

STUDY = Path(__file__).resolve().parent / "data" / "foot-care"
PHONE = "+447700900123"
STOPPED = "You will get no more messages from us. Reply START if you change your mind."


@pytest.mark.parametrize("sender", [PHONE, "whatsapp:" + PHONE], ids=["sms", "whatsapp"])
@pytest.mark.parametrize("stop", ["OPTOUT", "opt-out", "Revoke", "stop all", "Stopiwch", "stopiwch os gwelwch yn dda"])
def test_twilios_opt_out_words_and_welsh_stopiwch_stop_mid_flow(database_url: str, fake_twilio: FakeTwilio, sender: str, stop: str) -> None:
    """Twilio's own opt-out words (OPTOUT, REVOKE: Twilio blocks the number after them) and the
    Welsh imperative 'stopiwch' used to be stored as the answer to the question."""
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=STUDY) as running:
        assert "Reply YES to take part" in text_and_settle(running, fake, sender, "feet")[0]
        assert text_and_settle(running, fake, sender, "yep")[0].startswith("Which best describes you?")
        assert text_and_settle(running, fake, sender, stop) == [STOPPED]
        assert text_and_settle(running, fake, sender, "2") == [], "nothing is sent after an opt-out"
        assert running.answers() == [("consent", "yes")]


def test_choice_experiment_levels_written_as_a_text_per_language_give_one_error_with_the_shape(tmp_path: Path) -> None:
    """Levels written per language used to give an error per level ("'attributes.where[0]'
    should be a number or a whole number or text, not a mapping") that never said how to
    translate a level."""
    vision = (STUDY / "vision.yaml").read_text(encoding="utf-8")
    start = vision.index("      where:")
    end = vision.index("    alternatives:")
    flow = tmp_path / "vision.yaml"
    flow.write_text(vision[:start] + "      where: [{en: local clinic, cy: clinig lleol}, {en: hospital, cy: ysbyty}, "
                    "{en: home visit, cy: ymweliad cartref}]\n" + vision[end:], encoding="utf-8")
    problems, _ = validate_paths([flow])
    errors = [p for p in problems if p.severity == "error"]
    assert [(p.line, p.message) for p in errors] == [
        (vision[:start].count("\n") + 1,
         "the levels of attribute 'where' are written as texts per language, but a level is a short name or a number"),
    ]
    assert errors[0].hint.startswith("write where: {levels: [local_clinic, hospital, home_visit], "
                                     "labels: {local_clinic: {en: local clinic, cy: clinig lleol}, ...}}")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(vision, encoding="utf-8")
    assert not [p for p in validate_paths([fixed])[0] if p.severity == "error"], "levels by name with labels per language, as the study writes them, are valid"


def chat(flow: str, replies: list[str]) -> str:
    """The transcript of ``chorus chat`` on the foot-care study with these replies piped in."""
    outcome = CliRunner().invoke(cli, ["chat", str(STUDY), "--flow", flow], input="".join(f"{r}\n" for r in replies))
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def after(transcript: str, reply: str) -> str:
    """What the bot said right after ``> reply``."""
    return transcript.split(f"> {reply}\n", 1)[1].split("\n> ", 1)[0].strip()


@pytest.mark.parametrize("neither", ["nope neither", "no, neither", "Nah none of them thanks"])
def test_a_no_in_front_of_neither_picks_neither_in_a_choice_experiment(neither: str) -> None:
    """'no, neither' used to be asked again: the 'no' was read as negating 'neither'."""
    transcript = chat("vision", ["3 1 2", neither])
    assert after(transcript, neither).startswith("Choice 2 of 4:")


@pytest.mark.parametrize(("reply", "picked"), [("no, never", True), ("Nope never", True), ("no, every day", False)])
def test_a_no_agreeing_with_a_negative_option_picks_it_and_never_negates_another(tmp_path: Path, reply: str, picked: bool) -> None:
    """'no, never' to a 'how often' question whose option is 'Never' (here relabelled) is that
    option; 'no, every day' still negates 'Every day' and is asked again."""
    study = tmp_path / "foot-care"
    shutil.copytree(STUDY, study)
    understand = study / "understand.yaml"
    understand.write_text(understand.read_text(encoding="utf-8").replace("en: Hardly ever", "en: Never"), encoding="utf-8")
    outcome = CliRunner().invoke(cli, ["chat", str(study)], input=f"yes\n1\n{reply}\n")
    said = after(outcome.output, reply)
    assert said.startswith("How confident are you") == picked, said


@pytest.mark.parametrize("sender", [PHONE, "whatsapp:" + PHONE], ids=["sms", "whatsapp"])
def test_a_basic_phone_participant_takes_part_then_has_their_data_deleted(database_url: str, fake_twilio: FakeTwilio, sender: str) -> None:
    """The whole understand flow as a participant on a basic phone writes it, then DELETE MY DATA."""
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=STUDY) as running:
        text_and_settle(running, fake, sender, "feet")
        text_and_settle(running, fake, sender, "yep")
        assert text_and_settle(running, fake, sender, "2)")[0].startswith("How often do you check your feet?")
        assert text_and_settle(running, fake, sender, "the second one")[0].startswith("How confident")
        assert text_and_settle(running, fake, sender, "9") == ["Please reply with a number from 1 to 5."]
        assert "BACK (previous question)" in text_and_settle(running, fake, sender, "HELP")[0]
        assert text_and_settle(running, fake, sender, "four")[0].startswith("Tell us about the last time")
        assert text_and_settle(running, fake, sender, "BACK")[0].startswith("How confident")
        text_and_settle(running, fake, sender, "3")
        story = "slipper rubbed and i didnt notice for days, then A&E for 6 hours 😢"
        assert text_and_settle(running, fake, sender, story) == ["What makes it hard to get to a foot check?"]
        assert text_and_settle(running, fake, sender, "no car 🚌") == ["Thank you. We'll be in touch in a week."]
        assert running.answers() == [("consent", "yes"), ("role", "carer"), ("check", "most"), ("confidence", 4),
                                     ("confidence", 3), ("story", story), ("barrier", "no car 🚌")]
        assert text_and_settle(running, fake, sender, "DELETE MY DATA")[0].startswith("Reply YES to delete everything")
        farewell = "Your data has been deleted. You will get no more messages from this study."
        text_and_settle(running, fake, sender, "YES")
        wait_for(lambda: fake.bodies_to(sender)[-1] == farewell, what="the farewell")  # sent from `farewells`, after the erasure
        assert running.answers() == []
