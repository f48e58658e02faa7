from __future__ import annotations

import sys
from pathlib import Path

import click

from bot.chat import VOICE_COMMAND, ChatSession, bot_lines, open_target
from flows.events import SendMessage
from flows.loader import LoadError

ECHO = "> "
"""Before each reply read from piped input, in the transcript printed."""


@click.command()
@click.argument("path", type=click.Path(exists=True))
@click.option("--flow", "flow_id", help="Start this flow of the study instead of its start flow.")
@click.option("--lang", "language", help="Language code, e.g. en or cy.")
@click.option("--group", help="The participant's group, e.g. patient or staff.")
def chat(path: str, flow_id: str | None, language: str | None, group: str | None) -> None:
    """Be a participant: chat with a study or flow in the terminal.

    Interactive on a terminal; with answers piped on stdin (one per line) it prints
    the bot's messages to stdout, each reply before them as "> reply", and stops at
    the end of the input. A line
    "/voice FILE" sends that audio file as a voice note: it is transcribed (what was
    heard goes to stderr) before the next line is read.
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
    interactive = sys.stdin.isatty()
    session = ChatSession(target, language, group)
    _show(bot_lines(session.opening, session.option_texts))
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
        _show(bot_lines(_reply(session, text), session.option_texts))
        if session.finished and interactive:
            break


def _reply(session: ChatSession, text: str) -> list[SendMessage]:
    """The bot's replies to one line: a typed message, or ``/voice FILE``."""
    from nlp.transcribe import ModelNotFoundError

    command, _, named = text.partition(" ")
    if command.lower() != VOICE_COMMAND:
        return session.send(text)
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
