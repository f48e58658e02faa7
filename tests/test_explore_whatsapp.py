"""A WhatsApp study of living with a long-term condition, written by a coordinator from the README
(tests/data/wa-ltc: quick replies for a 3-option question, a list picker for 7, an approved
template for the follow-up 4 weeks later), played by patients through signed Twilio webhooks and
the fake Twilio, whose content templates show what a phone would: what they and the coordinator
ran into."""

from __future__ import annotations

import json
import secrets
import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select, update

from bot.api import queries
from flows.validate import validate_paths
from storage.tables import INBOUND, OUTBOUND, PARTICIPANTS
from tests.channel_helpers import Running, post_twilio, provider_env, running_chorus
from tests.fake_twilio import FakeTwilio, quick_reply, status_form

STUDY = Path(__file__).resolve().parent / "data" / "wa-ltc"
PATIENT = "whatsapp:+447700900321"
TWO, THREE, SEVEN = ("HX" + f"{n:032x}" for n in (2, 3, 7))
SIZED = f"""  quick_reply:
    - {{content_sid: {TWO}, options: 2}}
    - {{content_sid: {THREE}, options: 3}}
  list_picker: {{content_sid: {SEVEN}, options: 7}}
"""


def inbound(body: str, **extra: str) -> dict[str, str]:
    return {"MessageSid": "SM" + secrets.token_hex(16), "AccountSid": "AC" + "0" * 32, "From": PATIENT,
            "To": "whatsapp:+447700900888", "Body": body, "NumMedia": "0", **extra}


def write(running: Running, fake: FakeTwilio, body: str, **extra: str) -> list[dict[str, Any]]:
    """What the patient got back for ``body`` (with Twilio's ButtonPayload or ListId for a tap)."""
    before = len(fake.messages)
    assert post_twilio(running, inbound(body, **extra), fake.auth_token).status_code == 200
    running.settle()
    return fake.messages[before:]


def study_with(tmp_path: Path, buttons: str) -> Path:
    """The coordinator's study with its quick-reply and list-picker lines replaced by ``buttons``."""
    study = shutil.copytree(STUDY, tmp_path / "wa-ltc")
    lines = (study / "study.yaml").read_text(encoding="utf-8").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith(("  quick_reply:", "  list_picker:"))]
    at = next(n for n, line in enumerate(kept) if line.startswith("signposting:"))
    (study / "study.yaml").write_text("".join(kept[:at]) + buttons + "".join(kept[at:]), encoding="utf-8")
    return study


def fake_with_templates(fake: FakeTwilio) -> FakeTwilio:
    fake.contents.update({TWO: quick_reply(2), THREE: quick_reply(3), SEVEN: quick_reply(7, "Item")})
    return fake


def test_each_question_gets_the_template_made_for_its_number_of_options(database_url: str, fake_twilio: FakeTwilio,
                                                                         tmp_path: Path) -> None:
    """A quick-reply template has a fixed number of buttons, and Twilio shows its samples in those a
    question leaves unfilled: the README's single quick_reply put a sample 'Option 3' button under
    every YES/NO question. Templates named with their count (options: n) are used for that count only."""
    fake = fake_with_templates(fake_twilio)
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=study_with(tmp_path, SIZED)) as running:
        consent = write(running, fake, "WELL")[-1]
        assert consent["content_sid"] == TWO and consent["shows"]["buttons"] == [("Yes", "yes"), ("No", "no")]
        often = write(running, fake, "Yes", ButtonText="Yes", ButtonPayload="yes")[-1]
        assert often["content_sid"] == THREE and [t for t, _ in often["shows"]["buttons"]] == ["Every month", "Every few months", "Hardly ever"]
        condition = write(running, fake, "Hardly ever", ButtonText="Hardly ever", ButtonPayload=often["shows"]["buttons"][2][1])[-1]
        assert condition["content_sid"] == SEVEN and len(condition["shows"]["buttons"]) == 7
        assert not any(title.startswith(("Option", "Item")) for title, _ in condition["shows"]["buttons"])
        services = write(running, fake, "COPD", ListId=condition["shows"]["buttons"][1][1], ListTitle="COPD")[-1]
        assert services["content_sid"] is None and "12) Online services" in services["body"], "12 options: numbered text"
        write(running, fake, "online")
        assert running.answers() == [("consent", "yes"), ("often", "Hardly ever"), ("condition", "COPD"), ("services", "Online services")]


def test_a_whatsapp_block_slip_is_named_by_validate(tmp_path: Path) -> None:
    """A misspelt key, a placeholder Chorus does not fill and a cut-off SID used to pass silently
    (the key ignored, '{name}' sent to patients as written, every send refused by Twilio)."""
    study = study_with(tmp_path, f"  quick_replies: {{content_sid: {THREE}, options: 3}}\n  list_picker: {{content_sid: HX123, options: 12}}\n")
    text = (study / "study.yaml").read_text(encoding="utf-8").replace('"1": "{study}"', '"1": "{name}"')
    (study / "study.yaml").write_text(text, encoding="utf-8")
    problems, _ = validate_paths([study])
    found = {(p.line, p.message) for p in problems if p.file.endswith("study.yaml") and p.severity == "error"}
    line = text.splitlines().index
    assert found == {
        (line(next(t for t in text.splitlines() if "{name}" in t)) + 1,
         "variable 1 uses {name}, which Chorus does not fill: participants would get it as written"),
        (line(next(t for t in text.splitlines() if "quick_replies" in t)) + 1, "unknown WhatsApp setting 'quick_replies'"),
        (line(next(t for t in text.splitlines() if "HX123" in t)) + 1, "'HX123' is not a Twilio content SID"),
        (line(next(t for t in text.splitlines() if "HX123" in t)) + 1, "options should be a number of items from 1 to 10"),
    }
    as_in_readme, _ = validate_paths([STUDY])
    assert [p.message.split(": Twilio")[0] for p in as_in_readme if "template has" in p.message] == [
        "say how many buttons this template has (options: n)", "say how many items this template has (options: n)"]


def test_a_follow_up_twilio_fails_with_63016_after_accepting_it_waits_for_the_patient(
        database_url: str, fake_twilio: FakeTwilio, tmp_path: Path) -> None:
    """Twilio reports 63016 (outside the 24-hour window) in the status callback of a message it
    accepted. The question was marked failed for good: the patient's next message ("hi, sorry, was
    away") was read as its answer ("Please reply with a number from 1 to 3") and the question never went."""
    fake = fake_with_templates(fake_twilio)
    with running_chorus(database_url, provider_env(twilio=fake, twilio_url=fake.url), studies_dir=study_with(tmp_path, SIZED)) as running:
        for reply in ("WELL", "YES", "1", "2", "3", "Seeing the same nurse each time"):
            write(running, fake, reply)
        with running.chorus.database.transaction() as connection:
            connection.execute(update(INBOUND).values(received_at=datetime.now(UTC) - timedelta(hours=23)))
            pid = connection.execute(select(PARTICIPANTS.c.id)).scalar_one()
        before = len(fake.messages)
        running.chorus.service.start_flow(pid, "living-well", "followup")
        running.settle()
        question = fake.messages[before]
        assert question["content_sid"] == THREE, "the window looked open: the quick reply went"
        report = status_form(question, "failed", "63016")
        assert post_twilio(running, report, fake.auth_token, "/webhooks/twilio/status").status_code == 204
        held = queries.held_page(running.chorus.database, "living-well", 100, None).items
        assert [(m["step"], m["reason"].startswith("whatsapp 24-hour window closed")) for m in held] == [("better", True)]

        answers = running.answers()
        got = write(running, fake, "hi, sorry, was away")
        assert [(m["content_sid"], json.loads(m["content_variables"])["1"]) for m in got] == [
            (THREE, "Since we last spoke, has your care got better?")], "the question itself, sent again"
        assert got[0]["key"] != question["key"], "a new delivery key: a relay that drops repeats must not swallow it"
        assert running.answers() == answers, "what they wrote answered no question they had seen"
        assert not queries.held_page(running.chorus.database, "living-well", 100, None).items
        write(running, fake, "Worse", ButtonText="Worse", ButtonPayload="Worse")
        assert running.answers()[-1] == ("better", "Worse")
        o = OUTBOUND.c
        with running.chorus.database.transaction() as connection:
            assert "failed" not in set(connection.execute(select(o.status)).scalars())
