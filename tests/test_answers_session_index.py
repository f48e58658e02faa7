"""BACK withdraws the answers a participant went back past (storage/repository.py
``withdraw_answers``) by their session: ``ix_answers_session`` (migration 0017) finds them
without reading the whole answers table, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select, text

from storage.tables import ANSWERS


def test_withdrawing_a_sessions_answers_looks_them_up_by_session(service: Any, say: Callable[..., Any]) -> None:
    for reply in ("WAIT", "yes", "patient"):
        say(reply, address="+447700900321")
    database = service.database
    with database.transaction() as connection:
        row = connection.execute(select(ANSWERS).where(ANSWERS.c.session_id.is_not(None))).mappings().first()
        assert row is not None
        others = [{**{k: v for k, v in row.items() if k != "id"}, "session_id": None} for _ in range(3000)]
        connection.execute(insert(ANSWERS), others)  # (answers of earlier studies: many, none of this session's)
        connection.execute(text("ANALYZE"))
    mark = "?" if database.is_sqlite else "%s"
    update = (f"UPDATE answers SET withdrawn_at = {mark} WHERE session_id = {mark} AND withdrawn_at IS NULL"
              f" AND step_id IN ({mark}) AND (path_position IS NULL OR path_position >= {mark})")
    explain = "EXPLAIN QUERY PLAN " if database.is_sqlite else "EXPLAIN "
    with database.transaction() as connection:
        plan = [str(line[-1]) for line in connection.exec_driver_sql(
            explain + update, (row["answered_at"], row["session_id"], row["step_id"], 0))]
    used = "\n".join(plan)
    assert "ix_answers_session" in used, used
    assert "SCAN answers\n" not in used + "\n" and "Seq Scan on answers" not in used, used
