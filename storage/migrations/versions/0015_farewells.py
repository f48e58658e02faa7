"""The confirmation of an erasure, waiting to be sent: ``farewells``. It names no participant
(they are gone) and keeps the address it goes to encrypted, as ``contacts`` does, only until
it is sent (storage/outbox.py).

Revision ID: 0015_farewells
Revises: 0014_voice_claims
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015_farewells"
down_revision: str | Sequence[str] | None = "0014_voice_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "farewells",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("channel", sa.String(), nullable=False),
        sa.Column("address_sealed", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("status", sa.String(), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("delivery_key", sa.String(length=64), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("claimed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_farewells_status", "farewells", ["status", "due_at"])


def downgrade() -> None:
    op.drop_index("ix_farewells_status", table_name="farewells")
    op.drop_table("farewells")
