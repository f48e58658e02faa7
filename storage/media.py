"""Images the bot sends, stored once per content and referenced by outbox rows."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select
from sqlalchemy.dialects import postgresql, sqlite

from storage.tables import MEDIA


@dataclass(frozen=True)
class StoredMedia:
    id: int
    content_type: str
    data: bytes


def store(connection: Connection, data: bytes, content_type: str, now: datetime, study_id: str | None = None) -> int:
    """The id of the row holding ``data``, inserted unless the same bytes are already stored.

    ``ON CONFLICT DO NOTHING`` keeps two participants' transactions that store the same
    chart at once from failing each other (PostgreSQL would abort on a plain duplicate)."""
    digest = hashlib.sha256(data).hexdigest()
    found = connection.execute(select(MEDIA.c.id).where(MEDIA.c.sha256 == digest)).scalar()
    if found is not None:
        return int(found)
    dialect = postgresql if connection.dialect.name == "postgresql" else sqlite
    values = {"sha256": digest, "content_type": content_type, "data": data, "study_id": study_id, "created_at": now}
    connection.execute(dialect.insert(MEDIA).values(**values).on_conflict_do_nothing(index_elements=["sha256"]))
    return int(connection.execute(select(MEDIA.c.id).where(MEDIA.c.sha256 == digest)).scalar_one())


def load(connection: Connection, media_id: int) -> StoredMedia | None:
    row = connection.execute(select(MEDIA.c.id, MEDIA.c.content_type, MEDIA.c.data).where(MEDIA.c.id == media_id)).first()
    return None if row is None else StoredMedia(int(row[0]), str(row[1]), bytes(row[2]))
