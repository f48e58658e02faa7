"""``chorus validate`` and ``chorus schema``: the coordinator's checks before publishing."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import click

from flows.schema import schema_text
from flows.validate import validate_paths


def register(cli: click.Group) -> None:
    cli.add_command(validate)
    cli.add_command(schema)
    cli.add_command(texts)


@click.command()
@click.argument("paths", nargs=-1, required=True)
@click.option("--strict", is_flag=True, help="Treat warnings as errors (exit code 1).")
@click.option("--quiet", "-q", is_flag=True, help="Print problems only, no summary line.")
def validate(paths: tuple[str, ...], strict: bool, quiet: bool) -> None:
    """Check study and flow files: PATH may be a study folder, a study.yaml, a flow file
    or a folder of flows.

    Every problem is printed as file:line:column: severity: message (hint), one a line,
    then a summary line (not with --quiet). The exit code is 1 if there is an error (or,
    with --strict, a warning), else 0.
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
    if not quiet:  # on stdout, its own line after the problems however the two streams are captured
        click.echo(_summary(files, errors, warnings))
    if errors or (strict and warnings):
        sys.exit(1)


def _summary(files: int, errors: int, warnings: int) -> str:
    """'7 files checked: 2 errors, 9 warnings', or '...: no problems'."""
    checked = f"{files} file{'s' if files != 1 else ''} checked"
    if not errors and not warnings:
        return f"{checked}: no problems"
    return f"{checked}: {errors} error{'s' if errors != 1 else ''}, {warnings} warning{'s' if warnings != 1 else ''}"


@click.command()
def schema() -> None:
    """Print the JSON Schema of study and flow files (for editors; see chorus.schema.json)."""
    click.echo(schema_text(), nl=False)


@click.command()
@click.option("--lang", "language", default=None, metavar="CODE",
              help="Leave a blank for this language beside each English text, to fill in.")
@click.argument("study", required=False)
def texts(language: str | None, study: str | None) -> None:
    """Print Chorus's own texts (hints, HELP, STOP's reply...) as a 'texts:' block for
    study.yaml. With --lang, each gets a line for that language to fill in; with STUDY, only
    those the study has not translated yet."""
    from flows.loader import read_study
    from flows.words import BUILT_IN_TEXTS, untranslated

    keys, shown = list(BUILT_IN_TEXTS), ["en", "cy"]
    if study is not None:
        loaded, problems, _ = read_study(Path(study))
        if loaded is None:
            raise click.ClickException(f"{study}: not a study ({problems[0].message if problems else 'unreadable'})")
        shown = [code for code in shown if code in loaded.study.languages]
        if language is not None:
            keys = untranslated(loaded.study, language)
    click.echo("texts:")
    for key in keys:
        click.echo(f"  {_yaml_scalar(key)}:")
        for code, text in BUILT_IN_TEXTS[key].items():
            if code in shown:
                click.echo(f"    {code}: {_yaml_scalar(text)}")
        if language is not None and language not in BUILT_IN_TEXTS[key]:
            click.echo(f'    {language}: ""  # translate: {_yaml_scalar(BUILT_IN_TEXTS[key]["en"])}')


def _yaml_scalar(text: str) -> str:
    """One line of YAML that reads back as ``text`` (quoted: texts hold colons and braces)."""
    return json.dumps(text, ensure_ascii=False)
