"""Addresses encrypted at rest: contacts.address (plain text) becomes contacts.address_sealed
(a Fernet token, storage/crypto.py). Existing rows are encrypted with the newest data key.

Revision ID: 0007_privacy
Revises: 0006_outbox_attachments
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import sqlalchemy as sa
from alembic import op

from storage.crypto import Sealer, sealer_from_env

revision: str = "0007_privacy"
down_revision: str | Sequence[str] | None = "0006_outbox_attachments"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_contacts = sa.table("contacts", sa.column("id", sa.Integer), sa.column("address", sa.String),
                     sa.column("address_sealed", sa.Text))


def _sealer() -> Sealer:
    """The database's sealer (handed over by storage.database), else the environment's; only
    asked for when there are rows to convert, so an empty database makes no key file."""
    config = op.get_context().config
    given: Callable[[], Sealer] | None = config.attributes.get("sealer") if config is not None else None
    return given() if given is not None else sealer_from_env()


def upgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("address_sealed", sa.Text(), nullable=False, server_default=""))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_contacts.c.id, _contacts.c.address)).all()
    if rows:
        sealer = _sealer()
        for row_id, address in rows:
            bind.execute(_contacts.update().where(_contacts.c.id == row_id).values(address_sealed=sealer.seal(address)))
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("address")
        batch.alter_column("address_sealed", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("contacts") as batch:
        batch.add_column(sa.Column("address", sa.String(), nullable=False, server_default=""))
    bind = op.get_bind()
    rows = bind.execute(sa.select(_contacts.c.id, _contacts.c.address_sealed)).all()
    if rows:
        sealer = _sealer()
        for row_id, sealed in rows:
            bind.execute(_contacts.update().where(_contacts.c.id == row_id).values(address=sealer.open(sealed)))
    with op.batch_alter_table("contacts") as batch:
        batch.drop_column("address_sealed")
        batch.alter_column("address", server_default=None)
