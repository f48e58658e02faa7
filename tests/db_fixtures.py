"""Database fixtures (SQLite and PostgreSQL); filled in by the storage work."""
