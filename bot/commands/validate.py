"""``chorus validate`` and ``chorus schema``: the coordinator's checks before publishing."""

from __future__ import annotations

import sys

import click

from flows.schema import schema_text
from flows.validate import validate_paths


def register(cli: click.Group) -> None:
    cli.add_command(validate)
    cli.add_command(schema)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit code 1).")
@click.option("--quiet", "-q", is_flag=True, help="Print problems only, no summary line.")
def validate(paths: tuple[str, ...], strict: bool, quiet: bool) -> None:
    """Check study and flow files: PATH may be a study folder, a study.yaml, a flow file
    or a folder of flows.

    Every problem is printed as file:line:column: severity: message (hint). The exit
    code is 1 if there is an error (or, with --strict, a warning), else 0.
    """
    try:
        problems, files = validate_paths(paths)
    except Exception as error:  # validate_paths guards each file; this is the last net
        click.echo(
            f"{paths[0]}:1:1: error: internal error: {type(error).__name__}: {error} (this is a bug in chorus; please report it)"
        )
        sys.exit(1)
    for problem in problems:
        click.echo(str(problem))
    errors = sum(1 for p in problems if p.severity == "error")
    warnings = len(problems) - errors
    sys.stdout.flush()  # the summary goes to stderr: keep it after the problems
    if not quiet:
        checked = f"{files} file{'s' if files != 1 else ''} checked"
        if problems:
            click.echo(
                f"{checked}: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}",
                err=True,
            )
        else:
            click.echo(f"{checked}: no problems", err=True)
    if errors or (strict and warnings):
        sys.exit(1)


@click.command()
def schema() -> None:
    """Print the JSON Schema of study and flow files (for editors; see chorus.schema.json)."""
    click.echo(schema_text(), nl=False)
