"""``chorus db``: bring the database schema up to date, publish studies."""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import Settings, SettingsError


def _settings(database_url: str | None, studies_dir: Path | None = None) -> Settings:
    try:
        return Settings.from_env(database_url=database_url, studies_dir=studies_dir)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


@click.group("db")
def db_group() -> None:
    """The database: schema migrations and published studies."""


@db_group.command("upgrade")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def upgrade(database_url: str | None) -> None:
    """Create or migrate the schema to the latest version (alembic upgrade head)."""
    from storage.database import init_database

    database = init_database(_settings(database_url=database_url).database_url)
    click.echo(f"database at revision {database.current_revision()}")
    database.dispose()


@db_group.command("publish")
@click.option("--studies", "studies_dir", type=click.Path(exists=True, path_type=Path), default=None,
              help="A study folder, or a folder of study folders (default: CHORUS_STUDIES_DIR).")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def publish(studies_dir: Path | None, database_url: str | None) -> None:
    """Store the current version of every study and flow; running sessions keep theirs."""
    from bot.service import utc_now
    from bot.studies import StudyRegistry
    from flows.loader import LoadError
    from storage.database import init_database

    settings = _settings(database_url=database_url, studies_dir=studies_dir)
    try:
        registry = StudyRegistry.from_folder(settings.studies_dir)
    except LoadError as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url)
    published = registry.publish(database, utc_now())
    database.dispose()
    for (study_id, flow_id), flow in sorted(published.items()):
        click.echo(f"{study_id}/{flow_id} @ {flow.version}")


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
