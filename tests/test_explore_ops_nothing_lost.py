"""Found by an operator running `chorus serve` and `chorus worker` on PostgreSQL and breaking it:

* while the database dropped connections (a restart, a failover, pg_terminate_backend) the
  inbox worker marked the messages it was processing 'failed', for good, and went on to the
  sender's next message: a failing database is not the message's fault, so it stays
  'received' and is processed, in order, once the database answers again;
* a Telegram update whose text held half a UTF-16 pair answered 500 (no database can store
  it), so it was never stored;
* `chorus keys rotate` left the messages waiting in the spool sealed with the old key.
"""

from __future__ import annotations

import asyncio
import json
import logging
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import select, text

from bot.cli import cli
from bot.inbox import InboxWorker
from bot.service import ConversationService
from bot.spool import Spool
from channels.base import InboundMessage
from storage import batching
from storage.crypto import Sealer, generate_key
from storage.tables import INBOUND, OUTBOUND
from tests.channel_helpers import TELEGRAM_SECRET, provider_env, running_chorus
from tests.db_fixtures import TEST_DATA_KEY
from tests.fake_telegram import wait_for

PHONE = "+447700900001"


def _statuses(service: ConversationService) -> list[str]:
    with service.database.transaction() as connection:
        return list(connection.execute(select(INBOUND.c.status).order_by(INBOUND.c.id)).scalars())


def _drops_connections(times: int, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The next ``times`` claims of messages lose their connection: the server ends it, as a
    PostgreSQL restart or failover does (a real OperationalError from the real database)."""
    real = batching.claim
    dropped: list[int] = []

    def claim(connection: Any, *args: Any, **kwargs: Any) -> Any:
        if len(dropped) < times:
            dropped.append(1)
            connection.execute(text("SELECT pg_terminate_backend(pg_backend_pid())"))
        return real(connection, *args, **kwargs)

    monkeypatch.setattr(batching, "claim", claim)
    return dropped


@pytest.mark.parametrize("database_kind", [pytest.param("postgresql", marks=pytest.mark.postgres)])  # a server that ends connections
def test_messages_whose_processing_lost_its_connection_are_processed_once_it_is_back(
    service: ConversationService, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture,
) -> None:
    service.accept(InboundMessage("sms", PHONE, "SM1", "WAIT"))
    service.accept(InboundMessage("sms", PHONE, "SM2", "YES my chest hurts"))
    dropped = _drops_connections(2, monkeypatch)  # the batch, then (before the fix) the message on its own

    async def run() -> None:
        worker = InboxWorker(service.database, service)
        try:
            await worker.drain(timeout=30)
        finally:
            await worker.stop()

    with caplog.at_level(logging.INFO):
        asyncio.run(run())
    assert len(dropped) == 2
    assert _statuses(service) == ["joined", "processed"], "neither message is given up on"
    with service.database.transaction() as connection:
        replies = connection.execute(select(OUTBOUND.c.step_id).order_by(OUTBOUND.c.id)).scalars().all()
    assert len(replies) >= 2, "both were answered, once"
    logged = "\n".join(record.getMessage() + (record.exc_text or "") for record in caplog.records)
    assert "processing messages failed; database unreachable" in logged
    assert "chest" not in logged, "what they wrote stays out of the log"


def test_a_telegram_message_with_a_lone_surrogate_is_stored_and_answered(database_url: str, fake_telegram: Any) -> None:
    """JSON may escape half of a UTF-16 pair (``"\\ud83d"``) on its own; neither database can store
    it, so the webhook answered 500 and Telegram sent the update again and again, never stored."""
    fake, url = fake_telegram
    chat = 515151
    with running_chorus(database_url, provider_env(fake, url)) as running:
        update = fake.message_update(chat, "half an emoji \ud83d here")
        body = json.dumps(update).encode("ascii")  # the surrogate escaped, as JSON allows
        headers = {"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET, "Content-Type": "application/json"}
        response = running.client.post("/webhooks/telegram", content=body, headers=headers)
        assert response.status_code == 200, response.text
        wait_for(lambda: fake.texts_to(chat), what="the reply")
        assert "To take part" in fake.texts_to(chat)[0]
        with running.chorus.database.transaction() as connection:
            stored = connection.execute(select(INBOUND.c.text)).scalars().all()
        assert stored == ["half an emoji \ufffd here"], "kept, with the broken character shown as broken"


def test_every_text_field_of_a_message_loses_what_no_database_can_hold(service: ConversationService) -> None:
    message = InboundMessage("telegram", "61\udc00", "tg-\ud800", "\udfff", button="b\ud800", start_param="p\x00\ud800")
    assert (message.address, message.provider_id, message.text, message.button, message.start_param) == (
        "61\ufffd", "tg-\ufffd", "\ufffd", "b\ufffd", "p\ufffd")
    assert service.receive(message).status == "not_enrolled"


def test_keys_rotate_reseals_the_messages_waiting_in_the_spool(database: Any, tmp_path: Path) -> None:
    """Found rotating keys after a database outage: `chorus keys rotate` re-sealed the addresses
    in the database and said the older keys could go, but the messages still waiting in this
    machine's spool stayed sealed with the old key; dropped, they were set aside as corrupt, lost."""
    folder = tmp_path / "spool"
    new = generate_key()
    waiting = [InboundMessage("sms", "+447700900123", f"SM{n}", f"still waiting {n}") for n in range(3)]
    old_spool = Spool(folder, Sealer([TEST_DATA_KEY]))
    paths = [old_spool.write(f"{n:020d}-000000000-1", message) for n, message in enumerate(waiting)]
    (folder / "corrupt").mkdir()
    env = {"CHORUS_DATA_KEYS": f"{new},{TEST_DATA_KEY}", "CHORUS_DATABASE_URL": database.url, "CHORUS_SPOOL_DIR": str(folder)}
    result = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert result.exit_code == 0, result.output
    assert f"re-encrypted 3 of 3 messages waiting in the spool {folder}" in result.output
    new_only = Spool(folder, Sealer([new]))
    assert [new_only.read(path) for path in paths] == waiting, "they open with the newest key alone"
    assert sorted(p.name for p in folder.iterdir()) == sorted([*(p.name for p in paths), "corrupt"]), "nothing left half-written"
    again = CliRunner().invoke(cli, ["keys", "rotate"], env=env)
    assert "re-encrypted 0 of 3 messages waiting in the spool" in again.output
    following = CliRunner().invoke(cli, ["keys", "rotate"], env={**env, "CHORUS_DATA_KEYS": f"{generate_key()},{new}"})
    assert following.exit_code == 0 and "re-encrypted 3 of 3 messages" in following.output
