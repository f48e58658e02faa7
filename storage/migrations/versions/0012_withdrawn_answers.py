"""Answers a participant went BACK past: ``answers.withdrawn_at``, set when BACK leaves an
answer behind (the step asked again, or a branch not taken after all). Results and analyses
leave withdrawn answers out; the export keeps every answer and says which were withdrawn.

Revision ID: 0012_withdrawn_answers
Revises: 0011_telegram_provider_ids
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012_withdrawn_answers"
down_revision: str | Sequence[str] | None = "0011_telegram_provider_ids"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("withdrawn_at")
