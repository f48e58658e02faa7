"""STOP after finishing a flow stops the messages, not the finish. Someone who completed a flow
and then texted STOP used to have their session changed from ended to stopped, so the desk's
funnel showed "1 finished, 1 stopped" and a drop-off for a person who had answered everything.
Now the session stays ended (the opt-out is kept on the enrolment, and START still opts back
in); a STOP in the middle of a conversation still stops it. Sessions stored the old way are
counted as finished too. On SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update

from bot.api.queries import funnel
from bot.service import ConversationService, ReceiveResult
from storage.database import Database
from storage.tables import ENROLMENTS, SESSIONS

Say = Callable[..., ReceiveResult]


def finish(say: Say, address: str) -> str:
    pid = say("WAIT", address=address).participant_id
    for reply in ("yes", "1", "3", "Long and cold", "2"):
        say(reply, address=address)
    assert pid is not None
    return pid


def understand_funnel(service: ConversationService, database: Database) -> dict[str, Any]:
    [found] = [f for f in funnel(database, service.studies.get("ae-waiting")) if f["flow"] == "understand"]
    return found


def opted_out(database: Database, pid: str) -> bool:
    with database.transaction() as connection:
        return bool(connection.execute(select(ENROLMENTS.c.opted_out).where(ENROLMENTS.c.participant_id == pid)).scalar_one())


def test_stop_after_finishing_keeps_the_session_finished(service: ConversationService, database: Database, say: Say) -> None:
    finisher, other = finish(say, "+447700900401"), finish(say, "+447700900402")
    stopped = say("Stop please 🙏", address="+447700900401")
    assert [m.kind for m in service.outbox_for(finisher) if m.id in stopped.outbox_ids] == ["stopped"]
    assert service.session_status(finisher) == "ended" and opted_out(database, finisher)
    counted = understand_funnel(service, database)
    assert (counted["started"], counted["finished"], counted["stopped"]) == (2, 2, 0)
    assert counted["outcomes"] == {"completed": 2}
    assert all(row["drop_off"] == 0 for row in counted["steps"]), "nobody dropped off"
    assert service.session_status(other) == "ended"


def test_start_after_that_opts_back_in_and_the_session_stays_finished(service: ConversationService, database: Database,
                                                                      say: Say) -> None:
    pid = finish(say, "+447700900403")
    say("STOP", address="+447700900403")
    assert say("anything?", address="+447700900403").outbox_ids == (), "nothing is sent after STOP"
    back = say("START", address="+447700900403")
    assert [m.text for m in service.outbox_for(pid) if m.id in back.outbox_ids] == ["Welcome back."]
    assert not opted_out(database, pid) and service.session_status(pid) == "ended"


def test_stop_in_the_middle_still_stops_the_conversation(service: ConversationService, database: Database, say: Say) -> None:
    pid = say("WAIT", address="+447700900404").participant_id
    say("yes", address="+447700900404")
    say("STOP", address="+447700900404")
    assert pid is not None and service.session_status(pid) == "stopped"
    counted = understand_funnel(service, database)
    assert (counted["finished"], counted["stopped"]) == (0, 1)


def test_a_session_stored_as_stopped_after_it_ended_counts_as_finished(service: ConversationService, database: Database,
                                                                       say: Say) -> None:
    """Sessions written before this fix: status 'stopped', their state saying it had ended."""
    pid = finish(say, "+447700900405")
    with database.transaction() as connection:
        connection.execute(update(SESSIONS).where(SESSIONS.c.participant_id == pid).values(status="stopped"))
        state = connection.execute(select(SESSIONS.c.state).where(SESSIONS.c.participant_id == pid)).scalar_one()
        connection.execute(update(SESSIONS).where(SESSIONS.c.participant_id == pid)
                           .values(state={**state, "status": "stopped", "before_stop": "ended"}))
    counted = understand_funnel(service, database)
    assert (counted["finished"], counted["stopped"]) == (1, 0)
