"""Telegram messages sent before this kept ``chat_id:message_id`` as their provider id: the
chat id is the participant's address, which Chorus otherwise keeps only sealed with their
contact. Keep just the message id, as Telegram sends are recorded now.

Revision ID: 0011_telegram_provider_ids
Revises: 0010_dispatchers
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011_telegram_provider_ids"
down_revision: str | Sequence[str] | None = "0010_dispatchers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    outbound = sa.table("outbound_messages", sa.column("id", sa.Integer), sa.column("channel", sa.String),
                        sa.column("provider_id", sa.String))
    connection = op.get_bind()
    found = connection.execute(
        sa.select(outbound.c.id, outbound.c.provider_id)
        .where(outbound.c.channel == "telegram", outbound.c.provider_id.like("%:%"))
    ).all()
    for row_id, provider_id in found:
        connection.execute(
            sa.update(outbound).where(outbound.c.id == row_id).values(provider_id=provider_id.rsplit(":", 1)[1])
        )


def downgrade() -> None:
    pass  # the chat ids are not kept anywhere in plain text to put back
