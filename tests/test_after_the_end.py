"""Words written after a conversation ended reach the coordinator. "Can I change my answer…"
or the second half of a split text used to get "Thank you, that's all for now." and stay an
inbound row nobody reads; now each is an ``after_end`` alert on the desk, masked as every alert
is. Thanks, OK, global words and join keywords raise nothing. Someone who ended at consent
without a YES is told how to begin again (START or the join word), and nothing they wrote is
shown: they have not agreed to take part. Through the conversation service on SQLite and
PostgreSQL, and the desk's alerts page."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.service import ConversationService, ReceiveResult
from channels.base import InboundMessage
from storage.database import Database
from storage.tables import FLAGS
from tests.desk_helpers import Desk, add_flag, desk_app

Say = Callable[..., ReceiveResult]
ENDED = "Thank you, that's all for now."
BEGIN_AGAIN = "You're not taking part at the moment. If you'd like to take part, reply START or WAIT."
CORRECTION = "can I change my answer about how many times? it was 4 not 3, ring me on 07700 900123"


def texts(service: ConversationService, result: ReceiveResult) -> list[str]:
    assert result.participant_id is not None
    return [row.text for row in service.outbox_for(result.participant_id) if row.id in result.outbox_ids]


def alerts(database: Database, kind: str = "after_end") -> list[tuple[str, str, str]]:
    with database.transaction() as connection:
        query = select(FLAGS.c.participant_id, FLAGS.c.flow_id, FLAGS.c.message).where(FLAGS.c.kind == kind).order_by(FLAGS.c.id)
        return [(str(pid), str(flow), str(message)) for pid, flow, message in connection.execute(query)]


def finish(say: Say) -> str:
    """A patient who answered the whole example flow by SMS."""
    pid = say("WAIT").participant_id
    for reply in ("yes", "1", "3", "Long and cold", "2"):
        last = say(reply)
    assert pid is not None and last.participant_id == pid
    return pid


def test_a_correction_after_the_end_is_an_alert_with_its_number_masked(service: ConversationService, database: Database,
                                                                       say: Say) -> None:
    pid = finish(say)
    result = say(CORRECTION)
    assert texts(service, result) == [ENDED], "the participant is answered as before"
    [(who, flow, message)] = alerts(database)
    assert who == pid and flow == "understand"
    assert message.startswith('written after the conversation ended: "can I change my answer about how many times?')
    assert "[PHONE]" in message and "900123" not in message and "contains a phone number" in message


def test_each_part_of_a_split_answer_after_the_end_is_kept(service: ConversationService, database: Database, say: Say) -> None:
    finish(say)
    say("The wait was awful. We sat in the corridor for")
    say("eleven hours and my mum is 89")
    assert [message.split(": ", 1)[1] for _, _, message in alerts(database)] == [
        '"The wait was awful. We sat in the corridor for"', '"eleven hours and my mum is 89"']


def test_a_batch_of_webhooks_after_the_end_keeps_each_message(service: ConversationService, database: Database) -> None:
    """The inbox worker's way (several webhooks written in one quick batch), as a burst of texts comes."""
    ids = iter(range(1000))
    batch = ["WAIT", "yes", "1", "3", "Long and cold", "2", "and the toilets were dirty", "thanks", "nobody cleaned them all night"]
    results = service.accept_many([InboundMessage("sms", "+447700900003", f"SM-{next(ids)}", text) for text in batch], process=True)
    assert [message.split(": ", 1)[1] for _, _, message in alerts(database)] == [
        '"and the toilets were dirty"', '"nobody cleaned them all night"']
    assert texts(service, results[-1]) == [ENDED]


@pytest.mark.parametrize("reply", ["Thanks!", "thank you very much", "ok 👍", "👍", "Diolch yn fawr", "HELP", "WAIT",
                                   "join wait", "BACK", "STOP", "Cymraeg", "later"])
def test_thanks_global_words_and_the_join_word_after_the_end_raise_nothing(service: ConversationService, database: Database,
                                                                           say: Say, reply: str) -> None:
    finish(say)
    say(reply)
    assert alerts(database) == []


def test_a_button_tapped_after_the_end_raises_nothing(service: ConversationService, database: Database, say: Say) -> None:
    finish(say)
    say("", channel="sms", button="yes")
    assert alerts(database) == []


def test_words_before_the_end_are_answers_not_alerts(service: ConversationService, database: Database, say: Say) -> None:
    say("WAIT")
    say("yes")
    say("1")
    say("3")
    say(CORRECTION)  # the open question: an answer
    assert alerts(database) == []


@pytest.mark.parametrize("refusal", [("no thanks",), ("maybe", "what is it", "hmm not sure")], ids=["declined", "no_consent"])
def test_someone_who_did_not_consent_is_told_how_to_begin_again(service: ConversationService, database: Database, say: Say,
                                                                refusal: tuple[str, ...]) -> None:
    say("WAIT")
    for reply in refusal:
        say(reply)
    assert texts(service, say("sorry i meant yes")) == [BEGIN_AGAIN]
    assert alerts(database) == [], "nothing of someone who has not agreed to take part is shown"
    assert "Reply YES to take part" in texts(service, say("WAIT"))[0], "the join word asks for consent again"


def test_the_way_back_is_told_in_welsh(service: ConversationService, database: Database, say: Say) -> None:
    joined = service.join("sms", "+447700900001", "ae-waiting", language="cy")
    assert joined.status == "joined"
    say("nac ydw")
    assert texts(service, say("sori, ydw")) == [
        "Dydych chi ddim yn cymryd rhan ar hyn o bryd. Os hoffech chi gymryd rhan, atebwch DECHRAU neu WAIT."]
    assert "Atebwch YDW" in texts(service, say("dechrau"))[0], "DECHRAU asks again"


# ----------------------------------------------------------------------------- the desk


@pytest.fixture
def desk(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Desk]:
    monkeypatch.setenv("CHORUS_SAFEGUARDING", "patterns")
    with desk_app(tmp_path) as made:
        made.client.post("/login", data={"token": made.token("coordinator", ("ae-waiting",))})
        yield made


def test_the_desk_lists_messages_after_the_end_masked(desk: Desk) -> None:
    service: ConversationService = desk.app.state.chorus.service
    for number, text in enumerate(["WAIT", "yes", "1", "3", "Long and cold", "2", CORRECTION]):
        result = service.receive(InboundMessage("sms", "+447700900002", f"SM{number}", text))
    assert result.participant_id is not None
    add_flag(desk.database, "ae-waiting", result.participant_id, kind="safeguarding", message="needs a call")
    listed = desk.client.get("/dashboard/studies/ae-waiting/alerts", params={"kind": "after_end"})
    assert listed.status_code == 200
    assert "written after the conversation ended" in listed.text and "ring me on [PHONE]" in listed.text
    assert "900123" not in listed.text and "needs a call" not in listed.text, "masked, and only that kind"
    every = desk.client.get("/dashboard/studies/ae-waiting/alerts").text
    assert 'id="after-end"' in every and "needs a call" in every and "ring me on [PHONE]" in every
