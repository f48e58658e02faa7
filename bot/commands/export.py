"""``chorus export``: a study's answers as long CSV plus a data dictionary."""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import Settings, SettingsError


@click.command("export")
@click.option("--study", "study_id", required=True, help="The study id, e.g. ae-waiting.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("exports"),
              show_default=True, help="Folder to write the files to.")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def export_command(study_id: str, out_dir: Path, database_url: str | None) -> None:
    """Export answers (one row per answer) and a data dictionary. No phone numbers or names."""
    from bot.export import UnknownStudy, export_study
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url)
    try:
        result = export_study(database, study_id, out_dir)
    except UnknownStudy as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    click.echo(f"{result.rows} answers -> {result.answers}")
    click.echo(f"data dictionary -> {result.dictionary_csv} and {result.dictionary_md}")


def register(cli: click.Group) -> None:
    cli.add_command(export_command)
