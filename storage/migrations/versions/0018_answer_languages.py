"""The language each answer was given in: ``answers.language``. The export's ``language``
column was the participant's language now, so a participant who changed language part way
through had every earlier answer labelled with the new one. Answers stored before this
revision did not keep theirs: they are given their participant's language in the study at
the upgrade (what the export said of them until now).

Revision ID: 0018_answer_languages
Revises: 0017_answers_session_index
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0018_answer_languages"
down_revision: str | Sequence[str] | None = "0017_answers_session_index"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.add_column(sa.Column("language", sa.String(), nullable=True))
    op.execute(
        "UPDATE answers SET language = (SELECT enrolments.language FROM enrolments"
        " WHERE enrolments.participant_id = answers.participant_id AND enrolments.study_id = answers.study_id)"
        " WHERE language IS NULL"
    )


def downgrade() -> None:
    with op.batch_alter_table("answers") as batch:
        batch.drop_column("language")
