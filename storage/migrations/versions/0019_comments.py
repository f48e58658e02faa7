"""Comments: a participant's own words at a question that could not read them as its answer
(a story told at a choice, scale, yes/no or number question: flows/asides.py), kept on the step
instead of being lost as an unclear reply.

Revision ID: 0019_comments
Revises: 0018_answer_languages
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019_comments"
down_revision: str | Sequence[str] | None = "0018_answer_languages"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "comments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("participant_id", sa.String(), nullable=False),
        sa.Column("study_id", sa.String(), nullable=False),
        sa.Column("flow_id", sa.String(), nullable=False),
        sa.Column("flow_version", sa.String(), nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=True),
        sa.Column("step_id", sa.String(), nullable=False),
        sa.Column("item", sa.String(), nullable=True),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("source", sa.String(), nullable=False),
        sa.Column("inbound_id", sa.Integer(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["participant_id"], ["participants.id"]),
        sa.ForeignKeyConstraint(["study_id"], ["studies.id"]),
        sa.ForeignKeyConstraint(["session_id"], ["sessions.id"]),
        sa.ForeignKeyConstraint(["inbound_id"], ["inbound_messages.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_comments_participant_id", "comments", ["participant_id"])
    op.create_index("ix_comments_study_step", "comments", ["study_id", "step_id"])


def downgrade() -> None:
    op.drop_index("ix_comments_study_step", table_name="comments")
    op.drop_index("ix_comments_participant_id", table_name="comments")
    op.drop_table("comments")
