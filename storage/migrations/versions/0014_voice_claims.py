"""Which process transcribes a voice note: ``inbound_messages.claimed_by`` (``host:pid:token``).
A note claimed by a process that is no longer running is picked up again at the next start,
not only once its claim is ten minutes old (bot/voice.py). Claims made before have none.

Revision ID: 0014_voice_claims
Revises: 0013_answer_path_positions
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014_voice_claims"
down_revision: str | Sequence[str] | None = "0013_answer_path_positions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.add_column(sa.Column("claimed_by", sa.String(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("inbound_messages") as batch:
        batch.drop_column("claimed_by")
