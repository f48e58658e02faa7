"""An index for BACK and corrections: ``ix_answers_session`` on ``answers (session_id, step_id)``.
Withdrawing the answers a participant went back past (storage/repository.py
``withdraw_answers``) and finding the answer a correction changes look a session's answers up
by its id; without an index each BACK read the whole answers table.

Revision ID: 0017_answers_session_index
Revises: 0016_outbox_channel_index
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0017_answers_session_index"
down_revision: str | Sequence[str] | None = "0016_outbox_channel_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_answers_session", "answers", ["session_id", "step_id"])


def downgrade() -> None:
    op.drop_index("ix_answers_session", table_name="answers")
