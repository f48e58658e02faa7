"""The outbox dispatchers alive now, so that together they keep to the channels' rate limits.

``dispatchers``: one row per running dispatcher, refreshed every few seconds
(storage/peers.py); each dispatcher paces its sends at its share of each limit.

Revision ID: 0010_dispatchers
Revises: 0009_delivery_keys
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010_dispatchers"
down_revision: str | Sequence[str] | None = "0009_delivery_keys"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "dispatchers",
        sa.Column("id", sa.String(length=64), primary_key=True),
        sa.Column("process", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("dispatchers")
