"""A transcript's comment: ``transcripts.comment_id``. A story said in a voice note at a question
that takes no free text is kept as a comment (flows/asides.py), and its transcript row points at
it as a voice answer's points at the answer, so that the comments export can say how sure the
recogniser was.

Revision ID: 0020_transcript_comments
Revises: 0019_comments
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0020_transcript_comments"
down_revision: str | Sequence[str] | None = "0019_comments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.add_column(sa.Column("comment_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_transcripts_comment_id", "comments", ["comment_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("transcripts") as batch:
        batch.drop_constraint("fk_transcripts_comment_id", type_="foreignkey")
        batch.drop_column("comment_id")
