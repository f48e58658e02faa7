"""Alembic migrations, shipped inside the package so an installed Chorus can upgrade itself."""
