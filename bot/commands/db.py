"""``chorus db``: bring the database schema up to date, publish studies, back up and restore."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot import restoring


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
    if registry.refused:  # (chorus validate lists the same problems)
        said = [f"{refusal.study_id}: not published ({'its last publication stays live' if refusal.kept else 'never published'}):\n"
                + "\n".join(f"  {problem}" for problem in refusal.errors) for refusal in registry.refused.values()]
        raise click.ClickException("\n".join(said))


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
    click.echo(f"backed up to {written.resolve()} ({written.stat().st_size} bytes)")


@db_group.command("restore")
@click.argument("source", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
@click.option("--yes", is_flag=True, help="Do not ask before replacing the database's contents.")
@click.option("--force", is_flag=True, help="Restore even though Chorus still seems to be running on the database "
              "(what it does meanwhile, erasures included, may be lost).")
def restore_command(source: Path, database_url: str | None, yes: bool, force: bool) -> None:
    """Replace the database's contents with the backup in SOURCE, in one transaction on
    PostgreSQL. Stop Chorus first (this refuses while it runs) and start it again afterwards.
    Participants erased since the backup was taken are erased again."""
    from bot import restoring
    from bot.backup import BackupError, restore

    url = _settings(database_url=database_url).database_url
    running = None if force else restoring.still_running(url)
    if running:
        raise click.ClickException(f"Chorus is still running on this database ({running}): stop it first, "
                                   "or add --force to restore anyway")
    if not yes:
        click.confirm(f"Replace everything in the database with {source}? Participants erased since it was taken "
                      "will be erased again.", abort=True)
    try:
        before: restoring.BeforeRestore | None = restoring.read_before_restore(url)
        unreadable = ""
    except restoring.Unreadable as why:
        before, unreadable = None, str(why)
    try:
        restore(url, source)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored from {source}")
    if before is None:
        _warn_erasures_not_reapplied(url, source, unreadable)
        return
    try:
        after = restoring.erase_again(url, before, source.name)
    except Exception as error:  # the restore is done: say what is left to do, with the ids it needs
        ids = " ".join(dict.fromkeys(e.participant_id for e in before.erasures))
        raise click.ClickException(f"restored, but the participants erased before the restore could not be erased again "
                                   f"({type(error).__name__}: {str(error)[:200]}): erase them before Chorus starts "
                                   f"(chorus erase ID --yes for each of: {ids})") from None
    _report(after)


def _warn_erasures_not_reapplied(url: str, source: Path, why: str) -> None:
    from bot.backup import taken_at

    click.secho(f"WARNING: no erasures could be read from the database replaced ({why}): anyone erased after this "
                f"backup was taken ({taken_at(url, source)}) is back, with their answers and follow-ups, and cannot be "
                "erased again by this restore. Erase each of them again now, before Chorus starts (chorus erase ID "
                "--yes): find them in your records or in Chorus's logs since then ('participant p-... erased').",
                err=True, fg="red", bold=True)


def _report(after: restoring.AfterRestore) -> None:
    count, kept = len(after.erased_again), after.records_kept
    click.echo(f"erased again {count} participant{'' if count == 1 else 's'} erased before the restore"
               + (f" ({kept} erasure record{'' if kept == 1 else 's'} carried over)" if kept else ""))
    if after.farewells_kept:
        click.echo(f"{after.farewells_kept} confirmation(s) of an erasure still to send queued again")
    if after.migrated:
        click.echo("(the backup's schema was older: it was brought up to date to erase them)")
    if after.confirmation_forgotten:
        click.secho(f"WARNING: {len(after.confirmation_forgotten)} participant(s) had asked to erase their data and were "
                    "asked to reply YES after this backup was taken; the restored database does not know, so their YES "
                    f"would not erase them. Ask them again, or erase them (chorus erase): {', '.join(after.confirmation_forgotten)}",
                    err=True, fg="yellow")


def register(cli: click.Group) -> None:
    cli.add_command(db_group)
