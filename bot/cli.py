"""The ``chorus`` command line."""

from __future__ import annotations

import importlib
import pkgutil

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
    cli()


if __name__ == "__main__":
    main()
