"""``chorus submissions STUDY``: list, approve or reject participants' own statements and ideas."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from bot.population import Submission


@click.command("submissions")
@click.argument("study_id")
@click.option("--approve", "approve", multiple=True, type=int, help="Approve a submission by its number (repeatable).")
@click.option("--reject", "reject", multiple=True, type=int, help="Reject a submission by its number (repeatable).")
@click.option("--by", "by", default="coordinator", show_default=True, help="Who moderated, for the record.")
@click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")
def submissions_command(study_id: str, approve: tuple[int, ...], reject: tuple[int, ...], by: str, database_url: str | None) -> None:
    """Statements and ideas participants added: approved ones are shown to others (statement
    voting, pairwise comparison). Without --approve or --reject, list those waiting, as others
    will see them: phone numbers, e-mail addresses, NHS numbers, postcodes and dates of birth
    masked, and a note under any that held some, or whose wording may be abusive (name-calling,
    a slur, a threat), with the words found. A submission's "to check" alert on the desk
    is closed once it is approved or rejected."""
    from bot.api.queries import acknowledge_flag
    from bot.population import moderate, submissions
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url)
    now = datetime.now(UTC)
    decisions = [(n, True) for n in approve] + [(n, False) for n in reject]
    try:
        with database.transaction() as connection:
            in_study = {s.id: s for s in submissions(connection, study_id)}
            alerts: dict[int, list[int]] = {}
            for number, approved in decisions:
                if number not in in_study or not moderate(connection, number, approved, by, now):
                    raise click.ClickException(f"no submission {number} in study {study_id}")
                alerts[number] = _open_alerts(connection, in_study[number])
            if not decisions:
                _list_waiting([s for s in in_study.values() if s.status == "pending"])
        for number, approved in decisions:  # as the desk closes an alert: acknowledged by whoever moderated, audited
            closed = [flag for flag in alerts[number] if acknowledge_flag(database, study_id, flag, by, now)]
            click.echo(f"{number}: {'approved' if approved else 'rejected'}{', its alert closed' if closed else ''}"
                       f"{_masked_note(in_study[number]) if approved else ''}")
    finally:
        database.dispose()


def _open_alerts(connection: Connection, submission: Submission) -> list[int]:
    """The open 'moderation' flags raised for ``submission`` (bot/population.py, store_submissions,
    words them "new <kind> #<id> to check: ...")."""
    from sqlalchemy import select

    from storage.tables import FLAGS

    raised = f"new {submission.kind} #{submission.id} to check:"
    query = select(FLAGS.c.id).where(FLAGS.c.study_id == submission.study_id, FLAGS.c.kind == "moderation",
                                     FLAGS.c.acknowledged.is_(False), FLAGS.c.message.startswith(raised, autoescape=True))
    return [int(flag) for flag in connection.execute(query).scalars()]


def _list_waiting(waiting: list[Submission]) -> None:
    """Each submission as participants will see it once approved; one that held personal
    details says so on the line below, so that a moderator does not take its masks for the
    participant's own words, nor think the details are shown to anyone."""
    from bot.population import details_note

    held = abusive = 0
    for s in waiting:
        click.echo(f"{s.id}\t{s.kind}\t{s.step_id}\t{s.shown}")
        abuse = s.abuse
        if abuse:
            abusive += 1
            click.echo(f"\t! {abuse}: check before approving")
        note = details_note(s.personal_details)
        if note:
            held += 1
            click.echo(f"\t! {note}: masked as above wherever it is shown")
    counts = ([f"{held} with personal details, masked"] if held else []) + ([f"{abusive} that may be abusive"] if abusive else [])
    click.echo(f"{len(waiting)} waiting for moderation" + (f" ({'; '.join(counts)})" if counts else ""))


def _masked_note(submission: Submission) -> str:
    """For an approval: what of the submission participants will not see, and what of its wording
    was flagged as possibly abusive (approving is the coordinator's decision, on the record)."""
    from bot.population import details_note

    note = details_note(submission.personal_details)
    masked = f' (it {note}; participants see: "{submission.shown}")' if note else ""
    return masked + (f" (approved although it {submission.abuse})" if submission.abuse else "")


def register(cli: click.Group) -> None:
    cli.add_command(submissions_command)
