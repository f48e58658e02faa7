"""``chorus submissions STUDY``: list, approve or reject participants' own statements and ideas."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from bot.settings import Settings, SettingsError


@click.command("submissions")
@click.argument("study_id")
@click.option("--approve", "approve", multiple=True, type=int, help="Approve a submission by its number (repeatable).")
@click.option("--reject", "reject", multiple=True, type=int, help="Reject a submission by its number (repeatable).")
@click.option("--by", "by", default="coordinator", show_default=True, help="Who moderated, for the record.")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def submissions_command(study_id: str, approve: tuple[int, ...], reject: tuple[int, ...], by: str, database_url: str | None) -> None:
    """Statements and ideas participants added: approved ones are shown to others (statement
    voting, pairwise comparison). Without --approve or --reject, list those waiting."""
    from bot.population import moderate, submissions
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url)
    now = datetime.now(UTC)
    try:
        with database.transaction() as connection:
            for number, approved in [(n, True) for n in approve] + [(n, False) for n in reject]:
                if not moderate(connection, number, approved, by, now):
                    raise click.ClickException(f"no submission {number}")
                click.echo(f"{number}: {'approved' if approved else 'rejected'}")
            if not approve and not reject:
                waiting = submissions(connection, study_id, "pending")
                for s in waiting:
                    click.echo(f"{s.id}\t{s.kind}\t{s.step_id}\t{s.text}")
                click.echo(f"{len(waiting)} waiting for moderation")
    finally:
        database.dispose()


def register(cli: click.Group) -> None:
    cli.add_command(submissions_command)
