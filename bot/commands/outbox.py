"""``chorus outbox retry``: send again, once and in order, the messages that failed for good
because of something since put right (a wrong TWILIO_ACCOUNT_SID: Twilio's 401, error 20003).

Never to a participant who opted out or blocked us (STOP, Twilio 21610 and its kin, Telegram's
403), nor after an erasure (their messages went with them); not a question the conversation
has moved past, nor one asked again since. The running dispatcher (``chorus serve`` or
``chorus worker``) sends them within seconds, with its usual rules: quiet hours, WhatsApp's
24-hour window, the channel's rate.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import click
from sqlalchemy import Connection

from bot.dispatch_rules import ALREADY_ASKED, NO_LONGER_CURRENT, error_code, why_not_again
from storage import outbox as outbox_rows
from storage import repository

DATABASE = click.option("--database", "database_url", default=None, help="Database URL (default: CHORUS_DATABASE_URL).")


def register(cli: click.Group) -> None:
    cli.add_command(outbox)


@dataclass
class RetryReport:
    queued: Counter[str] = field(default_factory=Counter)
    """Messages queued again (or that would be, on a dry run), by channel."""
    left: Counter[str] = field(default_factory=Counter)
    """Failed messages left as they are, by why."""
    dry_run: bool = False

    def lines(self, scope: str) -> list[str]:
        total = sum(self.queued.values())
        if not total and not self.left:
            return [f"no failed messages {scope}"]
        verb = "would queue again" if self.dry_run else "queued again"
        channels = ", ".join(f"{channel} {count}" for channel, count in sorted(self.queued.items()))
        lines = [f"{verb} {total} failed message{'' if total == 1 else 's'} {scope}" + (f": {channels}" if channels else "")]
        lines += [f"left failed: {count} ({why})" for why, count in self.left.most_common()]
        if self.dry_run:
            lines.append("nothing changed (--dry-run)")
        elif total:
            lines.append("a running chorus serve or chorus worker sends them within seconds (in quiet hours, when they end)")
        return lines


def retry_failed(connection: Connection, now: datetime, actor: str, since: timedelta | None = None, study_id: str | None = None,
                 channel: str | None = None, code: str | None = None, dry_run: bool = False) -> RetryReport:
    """Queue again the failed messages that may go (see the module's docstring), oldest first."""
    report = RetryReport(dry_run=dry_run)
    found = [m for m in outbox_rows.failed_messages(connection, now - since if since else None, study_id, channel)
             if code is None or error_code(m.error) == code]
    allowed = []
    for message in found:
        why = why_not_again(message, code)
        if why is None:
            allowed.append(message)
        else:
            report.left[why] += 1
    moved_past = set(outbox_rows.questions_no_longer_asked(connection, [m.id for m in allowed]))
    asked = outbox_rows.asked_again(connection, allowed)
    questions: set[tuple[int | None, str | None]] = set()
    chosen = []
    for message in allowed:
        question = (message.session_id, message.step_id) if message.kind in outbox_rows.QUESTION_KINDS else None
        if message.id in moved_past:
            report.left[NO_LONGER_CURRENT] += 1
        elif message.id in asked or question in questions:  # (the first of the same question goes)
            report.left[ALREADY_ASKED] += 1
        else:
            if question is not None:
                questions.add(question)
            chosen.append(message)
    done = {m.id for m in chosen} if dry_run else set(outbox_rows.queue_again(connection, [m.id for m in chosen]))
    report.queued.update(m.channel for m in chosen if m.id in done)
    if done and not dry_run:
        repository.audit(connection, actor, "outbox_retried", now, study_id, queued=dict(report.queued), left=dict(report.left),
                         channel=channel, error_code=code, since=str(since) if since else None)
    return report


@click.group()
def outbox() -> None:
    """The messages Chorus sends."""


@outbox.command("retry")
@click.option("--study", "study_id", default=None, help="Only this study's messages.")
@click.option("--channel", type=click.Choice(["sms", "whatsapp", "telegram"]), default=None, help="Only this channel's.")
@click.option("--since", default="24h", show_default=True,
              help="Only those queued within this long (30m, 2h, 3d, 1w), or 'all'.")
@click.option("--error-code", "code", default=None,
              help="Only those that failed with this provider error code (20003: Twilio refused the credentials).")
@click.option("--dry-run", is_flag=True, help="Say what would be queued again, and change nothing.")
@click.option("--by", "actor", default=None, help="Who did it (kept in the audit log; default: your user name).")
@DATABASE
def retry(study_id: str | None, channel: str | None, since: str, code: str | None, dry_run: bool, actor: str | None,
          database_url: str | None) -> None:
    """Queue again the messages that failed for good, once their cause is fixed (bad
    credentials, a sender not set up, the provider down for longer than the retries lasted),
    in the order they were first queued. Prints how many per channel, and why any are left."""
    import getpass
    from datetime import UTC

    from bot.commands.schedule import _database
    from flows.model import parse_duration

    try:
        window = None if since.strip().lower() == "all" else parse_duration(since)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--since") from None
    database = _database(database_url)
    try:
        with database.transaction() as connection:
            report = retry_failed(connection, datetime.now(UTC), f"cli:{actor or getpass.getuser()}", window, study_id, channel,
                                  code, dry_run)
    finally:
        database.dispose()
    scope = ("queued at any time" if window is None else f"queued in the last {since.strip()}") + "".join(
        part for part in (f" in study {study_id}" if study_id else "", f" on {channel}" if channel else "",
                          f" with error code {code}" if code else ""))
    for line in report.lines(scope):
        click.echo(line)
