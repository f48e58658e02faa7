"""``chorus db``: bring the database schema up to date, publish studies, back up and restore."""

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


@db_group.command("backup")
@click.argument("target", type=click.Path(dir_okay=False, path_type=Path), required=False)
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def backup_command(target: Path | None, database_url: str | None) -> None:
    """Back up the database to TARGET (default var/backups/chorus-<time>.dump): pg_dump's custom
    format on PostgreSQL, a copy of the file on SQLite. The file is readable by you only."""
    from bot.backup import BackupError, backup, default_target

    url = _settings(database_url=database_url).database_url
    try:
        written = backup(url, target or default_target(url))
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up to {written} ({written.stat().st_size} bytes)")


@db_group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database's contents.")
def restore_command(source: Path, database_url: str | None, yes: bool) -> None:
    """Replace the database's contents with the backup in SOURCE, in one transaction on
    PostgreSQL. Stop Chorus first and start it again afterwards."""
    from bot.backup import BackupError, restore

    url = _settings(database_url=database_url).database_url
    if not yes:
        click.confirm(f"Replace everything in the database with {source}?", abort=True)
    try:
        restore(url, source)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored from {source}")


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
