"""``chorus erase PARTICIPANT``: delete everything about one participant, for good."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:
    from bot.safeguarding import SafetyChecks


@click.command("erase")
@click.argument("participant")
@click.option("--channel", type=click.Choice(["sms", "whatsapp", "telegram", "web"]), default=None,
              help="Find the participant by address on this channel (PARTICIPANT is then a phone number "
                   "with its country code, written in any usual way, or a chat id).")
@click.option("--by", "actor", default=None, help="Who asked (kept in the audit log; default: your user name).")
@click.option("--yes", is_flag=True, help="Do not ask to confirm.")
@click.option("--database", "database_url", default=None, help="Database URL (default CHORUS_DATABASE_URL).")
@click.option("--studies", "studies_dir", default=None, help="Folder of studies (default CHORUS_STUDIES_DIR).")
def erase(participant: str, channel: str | None, actor: str | None, yes: bool, database_url: str | None, studies_dir: str | None) -> None:
    """Erase PARTICIPANT (a pseudonymous id such as p-3f9c0a1b2c3d4e5f): contact details,
    fields, answers, voice notes, transcripts and messages. The participant of the same phone
    number on the other channel (SMS and WhatsApp are two participants) is erased too. An
    audit record is kept."""
    import getpass

    from bot.service import ConversationService
    from bot.studies import StudyRegistry
    from channels.addresses import AddressError, stored_address
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url, studies_dir=studies_dir)
        address = stored_address(channel, participant) if channel else None
    except (SettingsError, AddressError) as error:
        raise click.ClickException(str(error)) from None
    database = init_database(settings.database_url, sealer=settings.sealer())
    try:
        service = ConversationService(database, StudyRegistry.from_folder(settings.studies_dir), address_key=settings.address_key(),
                                      safety=_no_checks())
        pid = service.participant_for(channel, address) if channel is not None and address is not None else participant
        if pid is None:
            raise click.ClickException("no participant has that address")
        if not yes:
            click.confirm(f"Erase everything about {pid} (and the same number on the other channel)? This cannot be undone",
                          abort=True)
        erased = service.erase_person(pid, f"cli:{actor or getpass.getuser()}", "coordinator")
    finally:
        database.dispose()
    if not erased:
        raise click.ClickException(f"no participant {pid}")
    for index, one in enumerate(erased):
        removed = ", ".join(f"{count} {table}" for table, count in one.counts.items() if count)
        same = " (the same number on another channel)" if index else ""
        click.echo(f"erased {one.participant_id}{same}: {removed}")
    click.echo(f"erased {len(erased)} participant{'s' if len(erased) != 1 else ''}")


def _no_checks() -> SafetyChecks:
    from bot.safeguarding import SafetyChecks

    return SafetyChecks()


def register(cli: click.Group) -> None:
    cli.add_command(erase)
