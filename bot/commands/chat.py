from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path

import click

from bot.chat import VOICE_COMMAND, ChatSession, ChatTarget, bot_lines, open_target, starting_at
from bot.chat_channels import CHANNELS, TAP_COMMAND, ChatChannel
from flows.events import SendMessage
from flows.loader import LoadError
from flows.population import RecordedPopulation

SHOWN_KEPT = 50
"""The bot's latest messages ``/tap`` may tap a button of (the newest with buttons): a keyboard
stays under its message after a hint without one, as on Telegram."""
ECHO = "> "
"""Before each reply read from piped input, in the transcript printed."""


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--flow", "flow_id", help="Start this flow of the study instead of its start flow.")
@click.option("--lang", "language", help="Language code, e.g. en or cy.")
@click.option("--group", help="The participant's group, e.g. patient or staff.")
@click.option("--at", "at", metavar="'YYYY-MM-DD HH:MM' | HH:MM",
              help="Start the chat's clock then, in the study's time zone (default: a Monday at 10:00).")
@click.option("--channel", type=click.Choice(CHANNELS),
              help="Show each message as this channel sends it: Telegram's buttons, WhatsApp's quick replies "
                   "(as the study's templates allow), SMS parts with their segments; '/tap N' taps a button.")
@click.option("--population", "ratings", type=click.Path(exists=True, dir_okay=False), metavar="CSV",
              help="Earlier Delphi ratings (participant, group, item, score; round, delphi optional; "
                   "participant 'you' is you), so a later round shows the group's feedback.")
def chat(path: str, flow_id: str | None, language: str | None, group: str | None, at: str | None,
         channel: str | None, ratings: str | None) -> None:
    """Be a participant: chat with a study or flow in the terminal.

    Interactive on a terminal; with answers piped on stdin (one per line) it prints
    the bot's messages to stdout, each reply before them as "> reply", and stops at
    the end of the input. A line
    "/voice FILE" sends that audio file as a voice note: it is transcribed (what was
    heard goes to stderr) before the next line is read. The clock is a fake one, a
    minute on for each reply; --at starts it at night to try LATER or quiet hours.

    With --channel, messages look as that channel sends them and the hints are its own
    ("tap" where buttons were shown); "/tap 2" (or "/tap Carer", or "/tap 1 3" to tick a
    multiple choice and tap Done) taps a button of the latest message with buttons.
    """
    try:
        target = open_target(path, flow_id)
    except LoadError as error:
        for problem in error.problems:
            click.echo(str(problem), err=True)
        raise SystemExit(1) from None
    except KeyError as error:
        click.echo(f"error: {error.args[0]}", err=True)
        raise SystemExit(1) from None
    try:
        start = starting_at(at, target.study) if at is not None else None
    except ValueError as error:
        click.echo(f"error: --at: {error}", err=True)
        raise SystemExit(2) from None
    population = _population(ratings, target) if ratings is not None else None
    interactive = sys.stdin.isatty()
    shown_as = ChatChannel.of(channel, target.study) if channel is not None else None
    keyboards = shown_as.keyboards if shown_as is not None else ()
    session = ChatSession(target, language, group, start=start, keyboards=keyboards,
                          voice_notes=shown_as is not None and shown_as.voice_notes, population=population, channel=channel)
    rendered = shown_as.lines if shown_as is not None else bot_lines
    shown = list(session.opening)
    _show(rendered(shown, session.option_texts))
    while not session.finished or interactive:
        try:
            text = input("you> ") if interactive else sys.stdin.readline()
        except (EOFError, KeyboardInterrupt):
            break
        if not interactive and text == "":
            break
        text = text.rstrip("\n")
        if not interactive:  # the reply, as a terminal would have shown it: the transcript reads in order
            _show([f"{ECHO}{text}"])
        replies = _reply(session, text, shown_as, shown)
        shown = [*shown, *replies][-SHOWN_KEPT:]
        _show(rendered(replies, session.option_texts))
        if session.finished and interactive:
            break


def _population(ratings: str, target: ChatTarget) -> RecordedPopulation:
    from bot.chat_population import PopulationFileError, population_from_csv

    try:
        return population_from_csv(ratings, target)
    except PopulationFileError as error:
        click.echo(f"error: --population: {error}", err=True)
        raise SystemExit(2) from None


def _reply(session: ChatSession, text: str, channel: ChatChannel | None = None,
           shown: Sequence[SendMessage] = ()) -> list[SendMessage]:
    """The bot's replies to one line: a typed message, ``/voice FILE``, or with a channel,
    ``/tap N`` on the latest of the messages ``shown`` with buttons."""
    from nlp.transcribe import ModelNotFoundError

    command, _, named = text.partition(" ")
    if channel is not None and command.lower() == TAP_COMMAND:
        try:
            return session.give(channel.tap(shown, named))
        except ValueError as error:
            click.echo(f"{TAP_COMMAND}: {error}", err=True)
            return []
    if channel is not None and command.lower() == VOICE_COMMAND and not channel.voice_notes:
        click.echo(f"{VOICE_COMMAND}: {channel.name} carries no voice notes (try --channel whatsapp or telegram)", err=True)
        return []
    if command.lower() != VOICE_COMMAND:
        return session.give(channel.typed(text)) if channel is not None else session.send(text)
    audio = Path(named.strip()).expanduser()
    if not named.strip() or not audio.is_file():
        click.echo(f"{VOICE_COMMAND} needs an audio file, e.g. {VOICE_COMMAND} story.ogg ({named.strip() or 'none given'} is not one)",
                   err=True)
        return []
    try:
        heard, replies = session.hear(audio)
    except ModelNotFoundError as error:
        click.echo(f"error: {error}", err=True)
        return []
    click.echo(f"(heard: {heard})" if heard is not None else "(heard no words)", err=True)
    return replies


def _show(lines: list[str]) -> None:
    for line in lines:
        click.echo(line)
        click.echo()


def register(cli: click.Group) -> None:
    cli.add_command(chat)
