"""Images sent with outbox messages: the ``media`` table and ``outbound_messages.media_id``.

Revision ID: 0006_outbox_attachments
Revises: 0004 (the file 0004_answer_items.py)
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006_outbox_attachments"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "media",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("study_id", sa.String(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("sha256", name="uq_media_sha256"),
    )
    with op.batch_alter_table("outbound_messages") as batch:
        batch.add_column(sa.Column("media_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_outbound_messages_media_id", "media", ["media_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("outbound_messages") as batch:
        batch.drop_constraint("fk_outbound_messages_media_id", type_="foreignkey")
        batch.drop_column("media_id")
    op.drop_table("media")
