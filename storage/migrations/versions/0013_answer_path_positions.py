"""Where in its session's path each answer was given: ``answers.path_position``, how many steps
the session had entered then. A flow that loops back to a step gives each pass its own
position, so BACK withdraws the answers of the pass it undoes and leaves the earlier passes'.
Answers stored before have none (BACK treats them as it did).

Revision ID: 0013_answer_path_positions
Revises: 0012_withdrawn_answers
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013_answer_path_positions"
down_revision: str | Sequence[str] | None = "0012_withdrawn_answers"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("path_position", sa.Integer(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("path_position")
