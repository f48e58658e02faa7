"""A due task's lease: ``due_tasks.leased_at``, when it was claimed by the database's clock
(storage/database_clock.py). The lease on a claim is judged by it, so that a scheduler whose
clock is off neither takes over a task another still holds nor leaves a dead one's waiting past
the lease; ``claimed_at`` keeps the claiming scheduler's own time, which what that scheduler
wrote (a reminder, a session) is compared with. Claims made before have none: their lease runs
from ``claimed_at``, as before.

Revision ID: 0021_due_task_leases
Revises: 0020_transcript_comments
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0021_due_task_leases"
down_revision: str | Sequence[str] | None = "0020_transcript_comments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("due_tasks") as batch:
        batch.add_column(sa.Column("leased_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("due_tasks") as batch:
        batch.drop_column("leased_at")
