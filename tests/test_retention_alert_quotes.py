"""A study's message retention takes the participant's words out of the alerts that quote them
(safeguarding, after_end): the alert stays, with its kind, flow, step, time and acknowledgement,
and says the quote was removed; alerts quoting nothing are left alone. Erasure deletes the
participant's alerts. A scheduler enforces retention at its first tick after it starts (so a
restored backup's old quotes go as soon as Chorus runs again). On SQLite and PostgreSQL; the
desk's participant page shows each alert's flow and step."""

from __future__ import annotations

import html
import itertools
import re
import shutil
import time
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import insert, select

from bot import retention
from bot.api.queries import acknowledge_flag
from bot.concerns import NOT_SENT_AGAIN, flag_text
from bot.safeguarding import Concern, checks_from_env
from bot.scheduler import Scheduler
from bot.service import ConversationService
from bot.sprint_writes import after_end_alert
from bot.studies import StudyRegistry
from channels.base import InboundMessage
from flows.loader import load_study
from storage.database import Database
from storage.tables import FLAGS, INBOUND
from tests.db_fixtures import TEST_ADDRESS_KEY, FakeClock
from tests.desk_helpers import add_flag, desk_app

EXAMPLE = Path(__file__).resolve().parent.parent / "flows" / "examples" / "ae-waiting"
STORY = "Honestly I can't go on like this, I just want to end my life, ring me on 07700 900123"
AFTER = "and the toilets were dirty, nobody cleaned them all night"
GONE = "[removed after 30 days: retention]"
A, B = "+447700900001", "+447700900002"


class Deployment:
    """The example study with ``retention: {messages: 30d}``, a service and a scheduler on one clock."""

    def __init__(self, database: Database, clock: FakeClock, folder: Path) -> None:
        shutil.copytree(EXAMPLE, folder)
        path = folder / "study.yaml"
        path.write_text(path.read_text(encoding="utf-8") + "retention: {messages: 30d}\n", encoding="utf-8")
        self.database, self.clock = database, clock
        self.studies = StudyRegistry([load_study(folder)])
        self.service = ConversationService(database, self.studies, clock, address_key=TEST_ADDRESS_KEY,
                                           safety=checks_from_env({"CHORUS_SAFEGUARDING": "patterns"}))
        self._ids = itertools.count(1)

    def say(self, text: str, address: str) -> str:
        result = self.service.receive(InboundMessage("sms", address, f"in-{next(self._ids)}", text))
        assert result.participant_id is not None
        return result.participant_id

    def flags(self) -> dict[int, dict[str, Any]]:
        with self.database.transaction() as connection:
            rows = connection.execute(select(*FLAGS.c).order_by(FLAGS.c.id)).mappings().all()
        return {int(row["id"]): dict(row) for row in rows}

    def of(self, pid: str, kind: str) -> dict[str, Any]:
        [flag] = [f for f in self.flags().values() if f["participant_id"] == pid and f["kind"] == kind]
        return flag

    def add_flag(self, pid: str, kind: str, message: str, now: datetime) -> None:
        with self.database.transaction() as connection:
            connection.execute(insert(FLAGS).values(kind=kind, message=message, participant_id=pid, study_id="ae-waiting",
                                                    flow_id="understand", step_id="story", acknowledged=False, created_at=now))


@pytest.fixture
def deployment(database: Database, clock: FakeClock, tmp_path: Path) -> Deployment:
    return Deployment(database, clock, tmp_path / "study")


def alarmed(deployment: Deployment, address: str) -> str:
    """A patient who wrote something risky at the story step, finished, then wrote once more."""
    pid = deployment.say("WAIT", address)
    for reply in ("yes", "1", "3", STORY, "2", AFTER):
        deployment.say(reply, address)
    return pid


def test_old_alerts_lose_their_quotes_and_keep_the_rest(deployment: Deployment) -> None:
    start = deployment.clock.now
    pid = alarmed(deployment, A)
    warning, after_end = deployment.of(pid, "safeguarding"), deployment.of(pid, "after_end")
    assert 'they wrote: "Honestly' in warning["message"] and "[PHONE]" in warning["message"]
    assert after_end["message"] == f'written after the conversation ended: "{AFTER}"'
    assert acknowledge_flag(deployment.database, "ae-waiting", warning["id"], "token:someone", deployment.clock.now)
    deployment.add_flag(pid, "voice_skipped", "voice note 9 was not transcribed: too_old", deployment.clock.now)
    deployment.add_flag(pid, "moderation", "new idea #3 to check: more chairs", deployment.clock.now)
    deployment.clock.now = start + timedelta(days=20)
    later = alarmed(deployment, B)
    before = deployment.flags()

    deployment.clock.now = start + timedelta(days=29)
    assert retention.enforce(deployment.service, deployment.studies, deployment.clock.now)["messages"] == 0
    assert deployment.flags() == before, "nothing is 30 days old yet"

    deployment.clock.now = start + timedelta(days=31)
    assert retention.enforce(deployment.service, deployment.studies, deployment.clock.now)["messages"] > 0
    after = deployment.flags()
    reason = warning["message"].split("they wrote: ")[0]
    assert after[warning["id"]]["message"] == f"{reason}they wrote: {GONE}"
    assert after[after_end["id"]]["message"] == f"written after the conversation ended: {GONE}"
    for flag_id in (warning["id"], after_end["id"]):
        assert {k: v for k, v in after[flag_id].items() if k != "message"} == {k: v for k, v in before[flag_id].items() if k != "message"}
    assert after[warning["id"]]["acknowledged"] and after[warning["id"]]["step_id"] == "story"
    changed = {flag_id for flag_id in before if before[flag_id] != after[flag_id]}
    assert changed == {warning["id"], after_end["id"]}, "no quote, or B's alerts not 30 days old: as they were"
    with deployment.database.transaction() as connection:
        assert set(connection.execute(select(INBOUND.c.text).where(INBOUND.c.participant_id == pid)).scalars()) == {""}
    words = " ".join(f["message"] for f in after.values() if f["participant_id"] == pid)
    # (the reason keeps the words the patterns matched, "can't go on like this": not a quote of the rest)
    assert "Honestly" not in words and "ring me" not in words and "toilets" not in words and "PHONE" not in words

    assert retention.enforce(deployment.service, deployment.studies, deployment.clock.now)["messages"] == 0
    assert deployment.flags() == after, "taken out once"

    assert deployment.service.erase(pid, "test") is not None
    assert {f["participant_id"] for f in deployment.flags().values()} == {later}, "erasure deletes every alert of theirs"


def test_a_safeguarding_alert_keeps_that_the_signposting_was_not_sent_again() -> None:
    tricky = STORY + ' and they wrote: "nothing"'
    said = flag_text(Concern("suicide", "mentions 'end my life'"), 7, tricky, signposted_before=True)
    assert "contains a phone number" in said
    assert retention.without_quote("safeguarding", said, GONE) == (
        f"possible suicide (inbound 7): mentions 'end my life'; they wrote: {GONE}; {NOT_SENT_AGAIN}")
    assert retention.without_quote("after_end", after_end_alert(STORY), GONE) == f"written after the conversation ended: {GONE}"
    for kind, message in (("safeguarding", "possible suicide (inbound 7): mentions 'x'"), ("max_tries", "no clear answer to 'story'")):
        assert retention.without_quote(kind, message, GONE) == message
    assert retention.removed_after(timedelta(weeks=1)) == "[removed after 7 days: retention]"
    assert retention.removed_after(timedelta(hours=36)) == "[removed after 36 hours: retention]"


def test_a_scheduler_enforces_retention_at_its_first_tick(deployment: Deployment) -> None:
    """As after a restore: the restored database holds alerts past the retention, and the first
    tick of a scheduler that starts (bot/scheduler.py, as the server and worker start it) takes
    their quotes out, without waiting the hour between retention rounds."""
    start = deployment.clock.now
    pid = alarmed(deployment, A)
    deployment.clock.now = start + timedelta(days=31)
    assert "Honestly" in deployment.of(pid, "safeguarding")["message"]
    scheduler = Scheduler(deployment.database, deployment.service, deployment.studies, deployment.clock)
    scheduler.start(interval=3600)
    try:
        deadline = time.monotonic() + 30
        while GONE not in deployment.of(pid, "safeguarding")["message"] and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()
    assert deployment.of(pid, "safeguarding")["message"].endswith(f"they wrote: {GONE}")
    assert deployment.of(pid, "after_end")["message"] == f"written after the conversation ended: {GONE}"


def test_the_participant_page_says_where_each_alert_came_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHORUS_SAFEGUARDING", "patterns")
    with desk_app(tmp_path) as desk:
        desk.client.post("/login", data={"token": desk.token("coordinator", ("ae-waiting",))})
        pid, _ = desk.join("ae-waiting")
        add_flag(desk.database, "ae-waiting", pid, "max_tries", "no clear answer to 'story' after 3 tries")
        with desk.database.transaction() as connection:
            connection.execute(insert(FLAGS).values(kind="voice_skipped", message="voice note 4 was not transcribed",
                                                    participant_id=pid, study_id="ae-waiting", flow_id=None, step_id=None,
                                                    acknowledged=False, created_at=desk.clock.now))
        page = desk.client.get(f"/dashboard/studies/ae-waiting/participants/{pid}")
    assert page.status_code == 200
    listed = re.search(r'<ul id="open-alerts">(.*?)</ul>', page.text, re.S)
    assert listed is not None
    items = [" ".join(html.unescape(re.sub(r"<[^>]+>", "", item)).split()) for item in re.findall(r"<li>(.*?)</li>", listed.group(1), re.S)]
    assert items == ["max_tries (flow understand, step story) no clear answer to 'story' after 3 tries",
                     "voice_skipped voice note 4 was not transcribed"]
