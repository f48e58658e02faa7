"""The ``chorus`` command line."""

from __future__ import annotations

import importlib
import pkgutil
import sys

import click

import bot.commands


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="chorus")
def cli() -> None:
    """Chorus: listen to patients, carers and staff at scale, by chat."""


@cli.group()
def analyse() -> None:
    """Analyse data: from a study, or your own CSV files."""


def _register_commands() -> None:
    for module in pkgutil.iter_modules(bot.commands.__path__):
        loaded = importlib.import_module(f"bot.commands.{module.name}")
        register = getattr(loaded, "register", None)
        if register is not None:
            register(cli)


_register_commands()


def main() -> None:
    """``chorus``: a database that cannot be reached or used is said in one line, not a traceback."""
    from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError

    from storage.database import UnsupportedDatabase

    try:
        cli()
    except OperationalError as error:  # unreachable, wrong credentials, gone mid-way (psycopg's words: never a password)
        reason = str(error.orig if error.orig is not None else error).strip().splitlines()[0]
        click.echo(f"Error: the database could not be used: {reason}", err=True)
        sys.exit(1)
    except UnsupportedDatabase as error:
        click.echo(f"Error: CHORUS_DATABASE_URL (or --database) is {error}", err=True)
        sys.exit(2)
    except (NoSuchModuleError, ArgumentError):  # (its message would repeat the URL, password and all)
        click.echo("Error: CHORUS_DATABASE_URL (or --database) is not a database URL Chorus can read", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
