"""``chorus report STUDY``: tables and charts for each engagement method a study used."""

from __future__ import annotations

from pathlib import Path

import click

from bot.settings import Settings, SettingsError


@click.command("report")
@click.argument("study_id")
@click.option("--out", "out_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Folder to write to (default: reports/STUDY).")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def report_command(study_id: str, out_dir: Path | None, database_url: str | None) -> None:
    """Write CSV tables and PNG/SVG charts: Delphi rounds, rankings, statement voting,
    pairwise scores, choice-model estimates with each attribute's relative importance and
    willingness to trade (95% intervals), and the follow-ups' response rates, measures over
    time and before/after changes, from the study's answers."""
    from bot.report import UnknownStudy, gather, write_report
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url)
    try:
        written = write_report(gather(database, study_id), out_dir or Path("reports") / study_id)
    except UnknownStudy as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    if not written:
        click.echo("nothing to report yet: no answers to Delphi, rank, statements, pairwise or choice steps, "
                   "nor to follow-ups (FFT, SUS, scale questions)")
    for path in written:
        click.echo(str(path))


def register(cli: click.Group) -> None:
    cli.add_command(report_command)
