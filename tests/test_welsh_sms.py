"""Welsh over SMS: the reply to someone when there is no study to join (Welsh and English),
`chorus validate` counting the offer of Welsh that the first message carries at joining, saying
what UCS-2 costs, and Chorus's own Welsh reply words (DDIM YN SIŴR, YN ÔL) sent by SMS without
the to bach when that spares a segment, which the parser reads the same."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from bot.safeguarding import checks_from_env
from bot.service import ConversationService
from bot.studies import StudyRegistry, invitation
from channels import twilio
from channels.base import InboundMessage, OutboundMessage
from flows.built_in_texts import BUILT_IN_TEXTS, NOTHING_TO_JOIN
from flows.engine import Engine, TextInput
from flows.events import RecordAnswer
from flows.loader import load_study
from flows.model import Flow
from flows.sms import count_segments, gsm7_reply_words, sms_text
from flows.validate import validate_paths
from flows.words import Words, option_texts
from storage import repository
from storage.database import Database
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.fake_twilio import FakeTwilio

NOW = datetime(2030, 1, 1, tzinfo=UTC)
GOFAL = Path(__file__).resolve().parent / "data" / "gofal-cartref"
EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
BOTH = [("CARE", "Care at home", "en"), ("GOFAL", "Gofal yn y cartref", "cy")]
ENGLISH_WAY = "Hello. To take part in Care at home, reply CARE."
WELSH_WAY = "Helo. I gymryd rhan yn Gofal yn y cartref, atebwch GOFAL."
PHONE = "+447700900456"
WELSH_HELP = BUILT_IN_TEXTS["help"]["cy"]


# ----------------------------------------------------------------------------- nothing to join


def test_with_no_study_to_join_the_reply_is_in_welsh_then_english_in_one_gsm7_segment() -> None:
    said = invitation([])
    assert said == f"{NOTHING_TO_JOIN['cy']}\n\n{NOTHING_TO_JOIN['en']}"
    assert said.startswith("Mae'n ddrwg gennym") and said.endswith("Sorry, there is nothing to take part in here at the moment.")
    assert (count_segments(said).encoding, count_segments(said).segments) == ("GSM-7", 1)


@pytest.mark.parametrize("language", ["en", "cy"])
def test_with_no_study_to_join_someone_whose_language_is_known_is_told_in_it_alone(language: str) -> None:
    assert invitation([], language) == NOTHING_TO_JOIN[language]
    assert invitation([], "pl") == invitation([]), "a language Chorus has no words in: both"


def test_a_stranger_texting_a_deployment_with_no_study_is_answered_in_both_languages(database: Database, clock: FakeClock) -> None:
    service = ConversationService(database, StudyRegistry([]), clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    result = service.receive(InboundMessage("sms", PHONE, "SM1", "Helo"))
    assert result.status == "not_enrolled" and result.participant_id is not None
    assert [entry.text for entry in service.outbox_for(result.participant_id)] == [invitation([])]


# ----------------------------------------------------------------------------- how to join, in the person's language


def test_the_way_in_is_put_in_the_persons_language_first_and_costs_the_same() -> None:
    assert invitation(BOTH) == f"{ENGLISH_WAY}\n\n{WELSH_WAY}"
    assert invitation(BOTH, said_in="cy") == invitation(BOTH, "cy") == f"{WELSH_WAY}\n\n{ENGLISH_WAY}"
    assert invitation(BOTH, said_in="en") == invitation(BOTH, "pl") == invitation(BOTH)
    assert count_segments(invitation(BOTH, said_in="cy")) == count_segments(invitation(BOTH)), "the order costs nothing on SMS"


def test_a_known_language_offers_each_study_once_in_it() -> None:
    """GOFAL for a Welsh speaker (one GSM-7 segment, not both paragraphs); WAIT, which names no
    language, with the Welsh title, as it enrols them in Welsh; a language a study lacks: all its ways."""
    gofal, example = StudyRegistry.from_folder(GOFAL), StudyRegistry.from_folder(EXAMPLE)
    assert gofal.join_keywords("cy") == [("GOFAL", "Gofal yn y cartref", "cy")] and gofal.join_keywords("en") == [BOTH[0]]
    assert invitation(gofal.join_keywords("cy"), "cy") == WELSH_WAY and count_segments(WELSH_WAY).segments == 1
    assert example.join_keywords("cy") == [("WAIT", "Aros yn yr Adran Achosion Brys", "cy")]
    assert gofal.join_keywords("pl") == gofal.join_keywords() == BOTH


@pytest.mark.parametrize(("said", "written_in_welsh"), [("Helo", True), ("Shwmae", True), ("bore da", True),
                                                        ("dw i eisiau ymuno", True), ("DECHRAU", True), ("hello", False),
                                                        ("Hi, is this the survey?", False), ("bored", False)])
def test_a_message_in_welsh_gets_the_welsh_way_in_first(database: Database, clock: FakeClock, said: str,
                                                        written_in_welsh: bool) -> None:
    service = ConversationService(database, StudyRegistry.from_folder(GOFAL), clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    result = service.receive(InboundMessage("sms", PHONE, "SM1", said))
    assert result.participant_id is not None
    expected = f"{WELSH_WAY}\n\n{ENGLISH_WAY}" if written_in_welsh else f"{ENGLISH_WAY}\n\n{WELSH_WAY}"
    assert [entry.text for entry in service.outbox_for(result.participant_id)] == [expected]


def test_someone_known_to_use_welsh_is_told_in_welsh_and_joins_in_welsh(database: Database, clock: FakeClock) -> None:
    """Their language is known (a study they were in chose it): WAIT, in Welsh, whatever they
    wrote; and WAIT then starts the study in Welsh."""
    service = ConversationService(database, StudyRegistry.from_folder(EXAMPLE), clock, address_key=TEST_ADDRESS_KEY,
                                  safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
    pid = service.receive(InboundMessage("sms", PHONE, "SM1", "hello")).participant_id
    assert pid is not None
    with database.transaction() as connection:
        repository.save_participant(connection, repository.ParticipantRef(pid, "cy", {}))
    again = service.receive(InboundMessage("sms", PHONE, "SM2", "hello"))
    assert [e.text for e in service.outbox_for(pid) if e.id in again.outbox_ids] == [
        "Helo. I gymryd rhan yn Aros yn yr Adran Achosion Brys, atebwch WAIT."]
    joined = service.receive(InboundMessage("sms", PHONE, "SM3", "WAIT"))
    with database.transaction() as connection:
        assert [e.language for e in repository.enrolments_of(connection, pid)] == ["cy"]
    assert joined.status == "joined"


# ----------------------------------------------------------------------------- reply words on SMS


def test_welsh_reply_words_lose_the_to_bach_on_sms_only_when_that_spares_a_segment() -> None:
    assert count_segments(WELSH_HELP).segments == 2
    sent = gsm7_reply_words(WELSH_HELP)
    assert sent == WELSH_HELP.replace("YN ÔL", "YN OL")
    assert (count_segments(sent).encoding, count_segments(sent).segments) == ("GSM-7", 1)
    short = BUILT_IN_TEXTS["correction_use_back"]["cy"]
    assert gsm7_reply_words(short) == short, "one segment either way: spelt correctly"
    mixed = "Sut mae'r dŵr ar y ward heddiw, a'r bwyd? Dywedwch wrthym yn eich geiriau eich hun. Atebwch DDIM YN SIŴR"
    assert gsm7_reply_words(mixed) == mixed, "dŵr still needs UCS-2: respelling the reply word would save nothing"


@pytest.mark.parametrize("prose", [
    BUILT_IN_TEXTS["no_consent"]["cy"],  # "doedden ni ddim yn siŵr": prose, not a reply word
    BUILT_IN_TEXTS["restarted"]["cy"] + " " + "Atebwch y cwestiwn nesaf yn ôl y drefn arferol, os gwelwch yn dda." * 2,
])
def test_welsh_prose_is_never_respelt(prose: str) -> None:
    assert gsm7_reply_words(prose) == prose


def test_a_quoted_reply_word_is_respelt_like_one_in_capitals() -> None:
    hint = BUILT_IN_TEXTS["hint_scale_unsure"]["cy"].format(low=1, high=5, unsure="Ddim yn siŵr") + " " + "x" * 40
    assert count_segments(hint).segments == 2
    assert gsm7_reply_words(hint) == hint.replace("'Ddim yn siŵr'", "'Ddim yn siwr'")


def _welsh_engine(step: dict[str, Any]) -> Engine:
    bye = {"id": "bye", "type": "end", "text": {"en": "Bye", "cy": "Hwyl"}}
    return Engine(Flow.model_validate({"flow": "f", "languages": ["en", "cy"], "steps": [step, bye]}))


@pytest.mark.parametrize("step", [
    {"id": "rate", "type": "scale", "min": 1, "max": 5, "unsure": True, "text": {"en": "How was it?", "cy": "Sut oedd e?"}},
    {"id": "rate", "type": "delphi", "items": ["Parcio", "Bwyd"], "unsure": True, "text": {"en": "How important?", "cy": "Pa mor bwysig?"}},
], ids=["scale", "delphi"])
@pytest.mark.parametrize("reply", ["DDIM YN SIWR", "DDIM YN SIŴR", "ddim yn siwr"])
def test_the_unsure_answer_is_read_with_or_without_the_to_bach(step: dict[str, Any], reply: str) -> None:
    engine = _welsh_engine(step)
    started = engine.start(NOW, language="cy", seed=1)
    shown = sms_text(started.messages()[0].text, started.messages()[0].buttons, False, option_texts("cy"))
    assert "DDIM YN SIŴR" in shown, "the prompt offers the built-in unsure answer"
    answered = engine.handle(started.state, TextInput(reply), NOW)
    recorded = [event for event in answered.events if isinstance(event, RecordAnswer)]
    assert recorded, f"{reply!r} was not read as an answer"
    value = recorded[0].value
    assert value is None or value.get("score", 0) is None, "read as unsure, not as a score"


@pytest.mark.parametrize("reply", ["YN OL", "YN ÔL", "yn ol"])
def test_back_is_read_with_or_without_the_to_bach(reply: str) -> None:
    assert Words(None).command(reply) == "back"


def test_a_welsh_delphi_item_with_not_sure_goes_in_one_gsm7_segment_instead_of_two() -> None:
    engine = _welsh_engine({"id": "rate", "type": "delphi", "items": ["Parcio", "Bwyd"], "unsure": True,
                            "text": {"en": "How important?", "cy": "Pa mor bwysig?"}})
    message = engine.start(NOW, language="cy", seed=1).messages()[0]
    shown = sms_text(message.text, message.buttons, False, option_texts("cy"))
    assert count_segments(shown).segments == 2
    sent = gsm7_reply_words(shown)
    assert sent.endswith("(Atebwch 1-9 neu DDIM YN SIWR)") and count_segments(sent).segments == 1


def test_twilio_sends_the_gsm7_spelling_by_sms_and_the_correct_one_by_whatsapp(fake_twilio: FakeTwilio) -> None:
    fake = fake_twilio
    settings = twilio.TwilioSettings(fake.account_sid, fake.auth_token, sms_from="+447700900999",
                                     whatsapp_from="+447700900888", api_base=fake.url)
    asyncio.run(twilio.TwilioChannel("sms", settings).send(OutboundMessage("sms", PHONE, WELSH_HELP)))
    asyncio.run(twilio.TwilioChannel("whatsapp", settings).send(OutboundMessage("whatsapp", PHONE, WELSH_HELP)))
    assert fake.bodies_to(PHONE) == [WELSH_HELP.replace("YN ÔL", "YN OL")]
    assert fake.bodies_to("whatsapp:" + PHONE) == [WELSH_HELP]


# ----------------------------------------------------------------------------- validate


QUESTION = {"en": "Hello from the health board. We would like to hear how care at home has been for you and your family "
                  "this winter. Tell us in your own words.",
            "cy": "Helo gan y bwrdd iechyd. Hoffem glywed sut mae gofal yn y cartref wedi bod."}
"""The English prompt fits one GSM-7 segment (146 characters) until the offer of Welsh follows it at joining."""


def _study(folder: Path, join: dict[str, Any], first: dict[str, Any] | None = None) -> Path:
    folder.mkdir()
    steps = [*([first] if first else []), {"id": "story", "type": "open", "text": QUESTION},
             {"id": "bye", "type": "end", "text": {"en": "Thank you.", "cy": "Diolch."}}]
    (folder / "care.yaml").write_text(yaml.safe_dump({"flow": "care", "steps": steps}, allow_unicode=True), encoding="utf-8")
    study = {"study": "care", "title": {"en": "Care at home", "cy": "Gofal yn y cartref"}, "languages": ["en", "cy"],
             "join": {"start_flow": "care", **join}, "flows": ["care.yaml"]}
    (folder / "study.yaml").write_text(yaml.safe_dump(study, allow_unicode=True), encoding="utf-8")
    return folder


def _segment_warnings(folder: Path) -> list[str]:
    return [p.message for p in validate_paths([folder], NOW)[0] if "SMS segments" in p.message]


def test_validate_counts_the_offer_of_welsh_sent_with_the_first_question_at_joining(tmp_path: Path) -> None:
    assert count_segments(QUESTION["en"]).segments == 1
    folder = _study(tmp_path / "care", {"keyword": "CARE"})
    (warning,) = _segment_warnings(folder)
    assert warning.startswith("on SMS, the English ('en') prompt of step 'story', with the offer of Welsh ('cy') it ends with at joining, "
                              "takes 2 SMS segments"), warning
    loaded = load_study(folder)
    engine = Engine(loaded.flows["care"].flow, loaded.study)
    sent = engine.start(NOW, language="en", offer_languages=True).messages()[0].text
    assert sent.endswith("\n\nAm Gymraeg, atebwch CYMRAEG.")
    assert f"({count_segments(sent).units} characters in GSM-7)" in warning, "the count is that of the SMS sent"


def test_a_way_in_that_names_its_language_offers_none_so_nothing_is_added(tmp_path: Path) -> None:
    assert _segment_warnings(_study(tmp_path / "care", {"keyword": "CARE", "language": "en"})) == []


def test_the_offer_goes_with_a_message_step_before_the_first_question(tmp_path: Path) -> None:
    hello = {"id": "hello", "type": "message", "text": QUESTION}
    (warning,) = _segment_warnings(_study(tmp_path / "care", {"keyword": "CARE"}, hello))
    assert "prompt of step 'hello', with the offer of Welsh" in warning, warning


def test_validate_says_what_ucs2_costs(tmp_path: Path) -> None:
    flow = tmp_path / "curly.yaml"
    flow.write_text("flow: curly\nsteps:\n  - id: story\n    type: open\n    text: We’d like to hear what waiting was like "
                    "for you. Type your answer, or send a voice note.\n", encoding="utf-8")
    (problem,) = validate_paths([flow], NOW)[0]
    assert "'’' (U+2019) forces UCS-2" in problem.message
    assert problem.message.endswith("so it takes 2 segments instead of 1"), problem.message
