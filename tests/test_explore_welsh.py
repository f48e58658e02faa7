"""A bilingual home-care study a Welsh health board coordinator wrote (tests/data/gofal-cartref),
played by a carer on a basic phone (SMS) and a patient on WhatsApp who both prefer Welsh, over
signed Twilio webhooks and a fake Twilio: what they and the coordinator ran into."""

from __future__ import annotations

import csv
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot.cli import cli
from bot.export import export_study
from flows.parsing import read_number
from flows.steps.base import Reply
from flows.steps.statements import read_vote, vote_display
from flows.validate import validate_paths
from tests.channel_helpers import (
    provider_env,
    running_chorus,
    text_and_settle,
)
from tests.fake_telegram import wait_for
from tests.fake_twilio import FakeTwilio

STUDY = Path(__file__).resolve().parent / "data" / "gofal-cartref"
CARER = "+447700900321"
PATIENT = "whatsapp:+447700900654"
CONSENT_EN = "Hello from the health board. We'd like to hear about care at home. It takes 10 minutes. Reply YES to take part or NO."
CONSENT_CY = "Helo gan y bwrdd iechyd. Hoffem glywed am ofal yn y cartref. Mae'n cymryd 10 munud. Atebwch IE i gymryd rhan neu NA."
OFFER_WELSH = "Am Gymraeg, atebwch CYMRAEG."


def chat(replies: list[str], flow: str = "deall", language: str = "cy") -> str:
    outcome = CliRunner().invoke(cli, ["chat", str(STUDY), "--flow", flow, "--lang", language],
                                 input="".join(f"{r}\n" for r in replies))
    assert outcome.exit_code == 0, outcome.output
    return outcome.output


def after(transcript: str, reply: str) -> str:
    """What the bot said right after ``> reply``."""
    return transcript.split(f"> {reply}\n", 1)[1].split("\n> ", 1)[0].strip()


# ----------------------------------------------------------------------------- joining in Welsh


@pytest.mark.parametrize("sender", [CARER, PATIENT], ids=["sms", "whatsapp"])
def test_the_welsh_keyword_starts_in_welsh_and_the_english_one_offers_welsh_in_welsh(
    database_url: str, fake_twilio: FakeTwilio, sender: str,
) -> None:
    """A route keyword could not say its language: GOFAL (Welsh) started in English, and whoever
    joined by CARE was never told, in Welsh, that they could have it in Welsh."""
    fake = fake_twilio
    other = sender.replace("654", "655").replace("321", "322")
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=STUDY) as running:
        assert text_and_settle(running, fake, sender, "gofal") == [CONSENT_CY], "its own IE and NA: no (Atebwch Ydw neu Nac ydw) line"
        assert text_and_settle(running, fake, other, "CARE") == [f"{CONSENT_EN}\n\n{OFFER_WELSH}"]
        assert text_and_settle(running, fake, other, "cymraeg")[1].startswith(CONSENT_CY)
        assert text_and_settle(running, fake, other, "ie")[0].startswith("Pa un sy'n eich disgrifio orau?")
        assert text_and_settle(running, fake, other, "ENGLISH")[1].startswith("Which best describes you?"), "the offer is said only once"


def test_someone_in_no_study_is_told_how_to_join_in_english_and_in_welsh(database_url: str, fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=STUDY) as running:
        assert text_and_settle(running, fake, CARER, "hello") == [
            "Hello. To take part in Care at home, reply CARE.\n\nHelo. I gymryd rhan yn Gofal yn y cartref, atebwch GOFAL."]
        assert text_and_settle(running, fake, CARER.replace("321", "323"), "helo") == [  # written in Welsh: Welsh first
            "Helo. I gymryd rhan yn Gofal yn y cartref, atebwch GOFAL.\n\nHello. To take part in Care at home, reply CARE."]


def test_a_route_language_the_study_does_not_have_is_an_error(tmp_path: Path) -> None:
    study = tmp_path / "gofal-cartref"
    shutil.copytree(STUDY, study)
    path = study / "study.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("language: cy", "language: cym"), encoding="utf-8")
    errors = [p for p in validate_paths([study])[0] if p.severity == "error"]
    assert [p.message for p in errors] == ["language 'cym' is not one of the study's languages"]
    assert "did you mean 'cy'?" in errors[0].hint


# ----------------------------------------------------------------------------- answers in Welsh


@pytest.mark.parametrize(("reply", "number"), [("ddau", 2), ("dri", 3), ("tri", 3), ("bedwar", 4), ("rhyw ddau", 2),
                                               ("tua dri", 3), ("a phedair", 4), ("ddeg", 10), ("dim", 0)])
def test_welsh_numbers_as_mutation_leaves_them_are_numbers(reply: str, number: int) -> None:
    """'ddau' and 'dri' (dau, tri after 'rhyw', 'tua', 'i') were asked again: 'Atebwch gyda rhif o 0 i 6.'"""
    reading = read_number(reply)
    assert reading is not None and (reading.value, reading.doubt) == (number, "clear")


def test_a_mutated_number_answers_a_number_question_in_the_conversation() -> None:
    transcript = chat(["ie", "2", "ddau"])
    assert after(transcript, "ddau").startswith("Pa mor dda yw'r gofal yn y cartref?")


@pytest.mark.parametrize("reply", ["dim syniad", "ddim yn gwybod", "dwn i ddim", "Ddim yn siŵr"])
def test_welsh_dont_know_is_unsure_on_a_delphi_item(reply: str) -> None:
    """'dim syniad' (no idea) and 'ddim yn gwybod' (don't know) were refused at a Delphi item
    though the prompt offers DDIM YN SIŴR, and a plain scale took them."""
    transcript = chat(["ie", "2", "2", "4", "ie", "hepgor", reply])
    assert after(transcript, reply).startswith("2/3: Gofalwyr yn cyrraedd ar amser")


@pytest.mark.parametrize("reply", ["yr ail un", "yr ail", "y trydydd"])
def test_a_welsh_ordinal_on_a_scale_is_read_as_the_english_one_is(reply: str) -> None:
    """'the second one' was 2 at once; 'yr ail un' asked 'I wneud yn siŵr: 2?' first."""
    transcript = chat(["ie", "2", "2", "4", "ie", "hepgor", reply])
    assert after(transcript, reply).startswith("2/3:")
    english = read_number("the second one", rating=True, out_of=9)
    assert english is not None and english.doubt == "clear"


def test_a_score_read_from_a_sentence_at_the_last_delphi_item_is_read_back_as_the_score() -> None:
    """It was read back as the whole step: 'Just to check: 3 of 3 rated?'."""
    reply = "7 because mum waits all day"
    transcript = chat(["yes", "2", "2", "4", "yes", "skip", "8", "9", reply], language="en")
    assert after(transcript, reply) == "Just to check: 7? Reply YES or NO, or send the number."
    assert after(chat(["ie", "2", "2", "4", "ie", "hepgor", "8", "9", "yr ail un"]), "yr ail un").startswith(
        "Beth ddylem ni ei wella gyntaf?"), "the last item scored, the ranking next"


def test_pasio_leaves_out_a_question_that_may_be_skipped() -> None:
    """'pasio' (pass) was stored as the story itself; 'pass' and 'hepgor' skipped it."""
    transcript = chat(["ie", "2", "2", "4", "ie", "pasio"])
    assert after(transcript, "pasio").startswith("Symudwn ymlaen.\n\nPa mor bwysig yw hyn")


@pytest.mark.parametrize(("reply", "vote", "shown"), [
    ("anghytuno braidd", -1, "disagree (somewhat)"), ("braidd yn cytuno", 1, "agree (somewhat)"),
    ("cytuno i raddau", 1, "agree (somewhat)"), ("anghytuno ychydig", -1, "disagree (somewhat)"),
    ("cytuno'n gryf", 1, "agree (strongly)"),
])
def test_a_welsh_statement_vote_may_say_how_strongly(reply: str, vote: int, shown: str) -> None:
    """'anghytuno braidd' (disagree somewhat) was asked again, as 'somewhat disagree' never is."""
    said = Reply(reply, None, "text", None)
    assert read_vote(said) == vote and vote_display(vote, said) == shown


# ----------------------------------------------------------------------------- commands and the coordinator


@pytest.mark.parametrize("erase", ["DILEU FY NGWYBODAETH", "dilëwch fy nata", "dilewch fy nata plis", "Anghofiwch fi"])
def test_welsh_ways_to_ask_for_deletion_ask_to_confirm(database_url: str, fake_twilio: FakeTwilio, erase: str) -> None:
    """'Dileu fy ngwybodaeth' (delete my information) and 'dilëwch fy nata' were read as answers
    to the question: only 'dileu fy nata' was known."""
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=STUDY) as running:
        text_and_settle(running, fake, CARER, "GOFAL")
        text_and_settle(running, fake, CARER, "ie")
        assert text_and_settle(running, fake, CARER, erase)[0].startswith("Atebwch YDW i ddileu")
        text_and_settle(running, fake, CARER, "YDW")
        wait_for(lambda: running.answers() == [], what="the erasure")


def test_the_export_says_which_language_each_participant_answered_in(database_url: str, fake_twilio: FakeTwilio, tmp_path: Path) -> None:
    """A coordinator of a bilingual study could not tell the Welsh answers from the English ones;
    then the export gave each answer the participant's language at export, not the answer's."""
    fake = fake_twilio
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=STUDY) as running:
        for reply in ("GOFAL", "ie", "2", "dri"):
            text_and_settle(running, fake, CARER, reply)
        for reply in ("CARE", "yes", "1", "CYMRAEG", "dau"):
            text_and_settle(running, fake, PATIENT, reply)
        exported = export_study(running.chorus.database, "gofal-cartref", tmp_path)
    with exported.answers.open(encoding="utf-8", newline="") as handle:
        rows = [(r["channel"], r["step"], r["language"], r["display"]) for r in csv.DictReader(handle)]
    assert sorted(rows) == [
        ("sms", "consent", "cy", "Ydw"), ("sms", "role", "cy", "Rwy'n gofalu am rywun"), ("sms", "visits", "cy", "3"),
        ("whatsapp", "consent", "en", "Yes"), ("whatsapp", "role", "en", "I get care at home"), ("whatsapp", "visits", "cy", "2"),
    ], "each answer in the language it was given in: the patient switched to Welsh before the last"
