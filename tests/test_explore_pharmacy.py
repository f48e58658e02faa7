"""A community pharmacy study for people with long-term conditions, written by a coordinator from
the README (tests/data/pharmacy-ltc: patients on SMS, carers on WhatsApp, pharmacists on
Telegram, in English and Welsh), played through the webhooks: what they ran into.

A place in a list ('the first one', 'y cyntaf', 'the last one') was read as NOT SURE on a
Delphi item and on a scale that allows it: the unsure words were matched as a list of one
option, whose first and last place they are. And Welsh 'dim syniad' (no idea) on a 0-10 scale
was read as a score of 0 ('dim': nothing), so the participant was asked "Just to check: 0?"."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from flows.validate import validate_paths
from storage.tables import ANSWERS
from tests.channel_helpers import provider_env, running_chorus, text_and_settle
from tests.engine_chat import RecordingChat
from tests.fake_twilio import FakeTwilio

STUDY = Path(__file__).resolve().parent / "data" / "pharmacy-ltc"
DELPHI = {"id": "priorities", "type": "delphi", "delphi": "services",
          "items": [{"id": "reviews", "text": {"en": "Medicine reviews", "cy": "Adolygiadau meddyginiaeth"}},
                    {"id": "delivery", "text": {"en": "Home delivery", "cy": "Danfon i'r cartref"}}]}
CHANGED = {"id": "changed", "type": "scale", "min": 0, "max": 10, "unsure": True,
           "text": {"en": "Has it got better? 0 (worse) to 10 (much better)", "cy": "Ydy hi wedi gwella? 0 i 10"}}


def scores(chat: RecordingChat) -> list[Any]:
    return [answer.value["score"] for answer in chat.recorded if answer.item is not None]


@pytest.mark.parametrize(("language", "said", "score"), [
    ("en", "the first one", 1), ("en", "first", 1), ("en", "number one", 1), ("cy", "y cyntaf", 1), ("en", "the second one", 2),
])
def test_a_place_on_a_delphi_item_is_its_score_not_unsure(language: str, said: str, score: int) -> None:
    chat = RecordingChat(DELPHI, language=language)
    chat.send(said)
    assert scores(chat) == [score]


@pytest.mark.parametrize(("language", "said"), [("en", "the last one"), ("en", "last"), ("cy", "yr un olaf"), ("en", "the one")])
def test_a_place_a_delphi_item_cannot_read_is_asked_again(language: str, said: str) -> None:
    chat = RecordingChat(DELPHI, language=language)
    reply = chat.send(said)
    assert chat.recorded == [], "nothing stored, least of all NOT SURE"
    assert reply[0].startswith(("Please reply with a number from 1 to 9", "Atebwch gyda rhif o 1 i 9"))


@pytest.mark.parametrize(("language", "said"), [
    ("en", "not sure"), ("en", "not sur"), ("en", "dunno"), ("en", "i dont know"), ("en", "not sure tbh"), ("cy", "dim syniad"),
    ("cy", "ddim yn siŵr"),
])
def test_unsure_words_on_a_delphi_item_are_still_unsure(language: str, said: str) -> None:
    chat = RecordingChat(DELPHI, language=language)
    chat.send(said)
    assert scores(chat) == [None]


@pytest.mark.parametrize(("language", "said", "value"), [
    ("en", "the last one", 10), ("en", "last", 10), ("cy", "yr un olaf", 10), ("en", "the first one", 1),
    ("en", "not sure", None), ("en", "not sur", None), ("cy", "dim syniad", None), ("cy", "ddim yn gwybod", None),
])
def test_a_scale_that_allows_unsure_reads_places_as_places(language: str, said: str, value: int | None) -> None:
    chat = RecordingChat(CHANGED, language=language)
    reply = chat.send(said)
    assert [answer.value for answer in chat.recorded] == [value], reply
    assert not reply[0].startswith(("Just to check", "I wneud yn siŵr")), "asked nothing: 'dim syniad' is no 0"


@pytest.mark.parametrize("said", ["a", "the one"])
def test_a_lone_letter_or_the_one_on_a_numbered_scale_is_asked_again(said: str) -> None:
    chat = RecordingChat(CHANGED)
    reply = chat.send(said)
    assert chat.recorded == []
    assert reply[0] == "Please reply with a number from 0 to 10, or 'Not sure'."


def test_the_coordinators_study_validates_without_errors() -> None:
    problems, _ = validate_paths([STUDY])
    assert [p for p in problems if p.severity == "error"] == []


def test_a_welsh_patient_by_sms_rates_a_delphi_item_by_its_place(database_url: str, fake_twilio: FakeTwilio,
                                                                  tmp_path: Path) -> None:
    """Through the Twilio webhook, as a Welsh patient texts: 'y cyntaf' (the first) was stored
    as unsure, and the team's results counted one score fewer."""
    study = shutil.copytree(STUDY, tmp_path / "pharmacy-ltc")
    text = (study / "study.yaml").read_text(encoding="utf-8")
    (study / "study.yaml").write_text(text.replace('quiet_hours: "21:00-08:00"\n', ""), encoding="utf-8")  # any hour the test runs
    phone = "+447700900404"
    env = provider_env(twilio=fake_twilio, twilio_url=fake_twilio.url)
    with running_chorus(database_url, env, studies_dir=study) as running:
        for reply in ("FFERYLL", "ie", "1", "tua 5", "bob mis", "Does dim digon o staff", "pasio", "da iawn"):
            text_and_settle(running, fake_twilio, phone, reply)
        with running.chorus.database.transaction() as connection:
            participant = connection.execute(select(ANSWERS.c.participant_id)).scalars().first()
        running.chorus.service.start_flow(participant, "pharmacy-ltc", "vision")
        running.settle()
        assert fake_twilio.bodies_to(phone)[-1].startswith("Pa mor bwysig yw pob gwasanaeth?")
        assert text_and_settle(running, fake_twilio, phone, "y cyntaf")[0].startswith("Pam rhoesoch chi'r sgôr honno?"), (
            "a score of 1 is extreme: its reason is asked")
        assert text_and_settle(running, fake_twilio, phone, "dim syniad")[0].startswith("2/4: Danfon"), "no reason"
        got = text_and_settle(running, fake_twilio, phone, "dim syniad")
        assert got[0].startswith("3/4: Negeseuon atgoffa")
        with running.chorus.database.transaction() as connection:
            rated = connection.execute(select(ANSWERS.c.item, ANSWERS.c.value).where(ANSWERS.c.step_id == "priorities")
                                       .order_by(ANSWERS.c.id)).all()
        assert [(item, value["score"]) for item, value in rated] == [("reviews", 1), ("delivery", None)]
