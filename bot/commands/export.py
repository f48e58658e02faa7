"""``chorus export``: a study's answers in long format (CSV and/or Parquet) plus a data dictionary."""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import click

from bot.settings import Settings, SettingsError


@click.command("export")
@click.option("--study", "study_id", required=True, help="The study id, e.g. ae-waiting.")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("exports"),
              show_default=True, help="Folder to write the files to.")
@click.option("--format", "fmt", type=click.Choice(["csv", "parquet", "both"]), default="csv", show_default=True,
              help="CSV, Parquet, or both; the data dictionary is always written.")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def export_command(study_id: str, out_dir: Path, fmt: str, database_url: str | None) -> None:
    """Export answers (one row per answer) and a data dictionary. Participants appear by
    pseudonymous id; answers saving to a field named for a name, contact detail, NHS number or
    birth date (``mothers_name``, ``birth_date``) are withheld, and free text has phone numbers,
    e-mails, NHS numbers, postcodes and dates of birth masked (names written inside
    free text are not detected: read it before sharing). The data dictionary gives every
    step's codes and each item of a many-item step: a Delphi item's rating scale per round,
    statement vote codes, pairwise answers, and a choice experiment's attributes, levels and
    the options each task showed."""
    from bot.api.exports import FORMATS, export_bundle
    from bot.export import UnknownStudy
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url)
    formats = FORMATS if fmt == "both" else (fmt,)
    try:
        with click.progressbar(length=100, label=f"exporting {study_id}", file=sys.stderr) as bar:
            shown = 0

            def progress(fraction: float, message: str) -> None:
                nonlocal shown
                step = int(fraction * 100) - shown
                if step > 0:
                    bar.update(step)
                    shown += step

            files = export_bundle(database, study_id, out_dir, formats, progress)
            bar.update(100 - shown)
    except UnknownStudy as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    answers_csv = out_dir / f"{study_id}-answers.csv"
    if answers_csv.exists():
        with answers_csv.open(encoding="utf-8", newline="") as handle:
            click.echo(f"{sum(1 for _ in csv.reader(handle)) - 1} answers")
    for path in files:
        click.echo(f"-> {path}")


def register(cli: click.Group) -> None:
    cli.add_command(export_command)
