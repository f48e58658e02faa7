"""An index for the dispatcher's claims, one channel at a time: ``ix_outbound_channel_queue`` on
``outbound_messages (status, channel, id)``. Each channel's claim (bot/dispatcher.py) asks for
its oldest queued rows; with ``ix_outbound_status`` alone it read every queued row of every
channel in id order to find one channel's few, so a backlog on SMS slowed Telegram's claims.

Revision ID: 0016_outbox_channel_index
Revises: 0015_farewells
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0016_outbox_channel_index"
down_revision: str | Sequence[str] | None = "0015_farewells"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_outbound_channel_queue", "outbound_messages", ["status", "channel", "id"])


def downgrade() -> None:
    op.drop_index("ix_outbound_channel_queue", table_name="outbound_messages")
