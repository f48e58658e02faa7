"""``chorus participant set``: correct one field of a participant, and re-plan what depends on it.

For the ``planning`` alert "participant.birth_date is not a date ...": ask the participant,
then ``chorus participant set p-3f9c... birth_date 2026-11-01 --study postnatal``. Their
follow-ups counted from the date are planned (or moved), the alert is closed, and the audit
log keeps who did it. The desk's API does the same:
``POST /api/v1/studies/{study}/participants/{id}/fields``. See bot/corrections.py.
"""

from __future__ import annotations

import click

DATABASE = click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")


def register(cli: click.Group) -> None:
    cli.add_command(participant)


@click.group()
def participant() -> None:
    """One participant's details (by pseudonymous id)."""


@participant.command("set")
@click.argument("participant_id", metavar="PARTICIPANT")
@click.argument("name", metavar="FIELD")
@click.argument("value")
@click.option("--study", "study_id", default=None, help="The study (needed when the participant is in more than one).")
@click.option("--by", "actor", default=None, help="Who made the change (kept in the audit log; default: your user name).")
@DATABASE
def set_field(participant_id: str, name: str, value: str, study_id: str | None, actor: str | None, database_url: str | None) -> None:
    """Set FIELD of PARTICIPANT to VALUE: a date a schedule counts from (e.g. birth_date
    2026-11-01), group, contact_hours (08:00-18:00), timezone (Europe/London) or any field a
    flow saves. Follow-ups that depend on it are planned again, and the planning alert it
    answers is closed."""
    import getpass
    from datetime import UTC, datetime

    from bot.commands.schedule import _database, _studies
    from bot.corrections import FieldError
    from bot.corrections import set_field as correct
    from storage import repository

    database = _database(database_url)
    try:
        studies = _studies(database)
        with database.transaction() as connection:
            enrolled = [e.study_id for e in repository.enrolments_of(connection, participant_id)]
            study = studies.get(_study_of(participant_id, enrolled, study_id))
            if study is None:
                raise click.ClickException(f"study '{study_id}' is not published in this database")
            done = correct(connection, study, participant_id, name, value, f"cli:{actor or getpass.getuser()}", datetime.now(UTC))
    except (FieldError, LookupError) as error:
        raise click.ClickException(str(error.args[0]) if error.args else str(error)) from None  # (a KeyError's str is quoted)
    finally:
        database.dispose()
    for line in done.lines():
        click.echo(line)


def _study_of(participant_id: str, enrolled: list[str], study_id: str | None) -> str:
    """The study named, or the participant's only one."""
    if not enrolled:
        raise click.ClickException(f"no participant '{participant_id}' (use the pseudonymous id, e.g. p-3f9c...)")
    if study_id is None and len(enrolled) > 1:
        raise click.ClickException(f"{participant_id} is in {', '.join(enrolled)}: say which with --study")
    if study_id is not None and study_id not in enrolled:
        raise click.ClickException(f"{participant_id} is not in {study_id} (they are in {', '.join(enrolled)})")
    return study_id or enrolled[0]
