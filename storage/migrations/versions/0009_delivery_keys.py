"""Delivery keys on the outbox and an index for the inbox worker.

``outbound_messages.delivery_key``: the idempotency key a row is sent with, written
(with status ``sending``) before the provider is called and reused if the send is
retried after a crash. ``ix_inbound_status``: the inbox worker reads messages still
``received`` in id order.

Revision ID: 0009_delivery_keys
Revises: 0007_privacy
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009_delivery_keys"
down_revision: str | Sequence[str] | None = "0007_privacy"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("delivery_key", sa.String(length=64), nullable=True))
    op.create_index("ix_inbound_status", "inbound_messages", ["status", "id"])


def downgrade() -> None:
    op.drop_index("ix_inbound_status", table_name="inbound_messages")
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_column("delivery_key")
