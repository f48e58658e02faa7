"""``chorus token create|list|revoke`` and ``chorus user create``: access to the desk.

A token is printed once, when it is made; only its hash is kept. The studies it names must be
known: in the studies folder (as the server finds them, bot/studies.py) or published to the
database already (the server's folder may be elsewhere). ``*`` names every study, those to
come included.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import click

from bot.settings import Settings, SettingsError

if TYPE_CHECKING:  # the database loads when a command needs it, not with the CLI
    from storage.database import Database

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ROLE = click.option("--role", type=click.Choice(["admin", "coordinator", "analyst"]), default="coordinator",
                    show_default=True, help="admin: everything; coordinator: a study's desk; analyst: read only.")
STUDY = click.option("--study", "studies", multiple=True, help="A study id this token may see (repeat for more; '*' for all).")
EXPIRES = click.option("--expires", default="90d", show_default=True, help="Lifetime, e.g. 12h, 30d, 8w; 'never' for none.")
DATABASE = click.option("--database", "database_url", default=None, help="Database URL (default CHORUS_DATABASE_URL).")
STUDIES = click.option("--studies", "studies_dir", type=click.Path(file_okay=False, path_type=Path), default=None,
                       help="Folder of studies that --study must be in, or else published (default CHORUS_STUDIES_DIR).")


def parse_duration(text: str) -> timedelta | None:
    """'30d' -> 30 days; 'never' -> None."""
    if text.strip().lower() == "never":
        return None
    found = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text.lower())
    if not found or int(found.group(1)) == 0:
        raise click.BadParameter(f"'{text}' is not a lifetime; write e.g. 12h, 30d or 8w (or 'never')")
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


def _settings(database_url: str | None, studies_dir: Path | None = None) -> Settings:
    try:
        return Settings.from_env(database_url=database_url, studies_dir=studies_dir)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None


def _database(database_url: str | None) -> Database:
    from storage.database import init_database

    return init_database(_settings(database_url).database_url)


def folder_studies(folder: Path) -> list[str]:
    """The ids of the studies in ``folder`` (each study.yaml's ``study``), found as the server
    finds them; a flow's problems do not matter here, and no folder means no studies."""
    import yaml

    from bot.studies import STUDY_FILES, study_folders
    from flows.loader import LoadError

    try:
        folders = study_folders(folder)
    except LoadError:
        return []
    found = []
    for study_folder in folders:
        path = next(study_folder / name for name in STUDY_FILES if (study_folder / name).exists())
        try:
            raw = yaml.safe_load(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, yaml.YAMLError):
            continue
        if isinstance(raw, dict) and isinstance(raw.get("study"), str):
            found.append(raw["study"])
    return found


def published_studies(database: Database) -> list[str]:
    from sqlalchemy import select

    from storage.tables import STUDIES

    with database.reading() as session:
        return [str(study_id) for study_id in session.execute(select(STUDIES.c.id)).scalars()]


def check_studies(wanted: Iterable[str], database: Database, folder: Path) -> None:
    """A one-line error naming the known studies if any of ``wanted`` is neither in ``folder`` nor published."""
    from storage.auth import ALL_STUDIES

    known = sorted(set(folder_studies(folder)) | set(published_studies(database)))
    unknown = [s for s in dict.fromkeys(wanted) if s != ALL_STUDIES and s not in known]
    if unknown:
        named = ", ".join(f"'{s}'" for s in unknown)
        raise click.ClickException(f"no study {named} in {folder} or the database; known studies: "
                                   f"{', '.join(known) or 'none'} (or '*' for every study)")


def _create(name: str, role: str, studies: tuple[str, ...], expires: str, database_url: str | None,
            studies_dir: Path | None) -> None:
    from storage.auth import create_token
    from storage.database import init_database

    lifetime = parse_duration(expires)
    now = datetime.now(UTC)
    settings = _settings(database_url, studies_dir)
    database = init_database(settings.database_url)
    try:
        if role != "admin":
            check_studies(studies, database, settings.studies_dir)
        secret, info = create_token(database, name, role, list(studies), now, now + lifetime if lifetime else None)
    except ValueError as error:
        raise click.ClickException(str(error)) from None
    finally:
        database.dispose()
    scope = "all studies" if "*" in info.studies else ", ".join(info.studies)
    until = info.expires_at.strftime("%Y-%m-%d %H:%M UTC") if info.expires_at else "never"
    click.echo(f"token {info.id} for {name} ({role}; {scope}; expires {until}). Keep it secret; it is shown only now:", err=True)
    click.echo(secret)


@click.group("token")
def token() -> None:
    """Tokens for the dashboard and the API."""


@token.command("create")
@STUDY
@ROLE
@click.option("--name", default=None, help="Who holds it (shown in the audit log).")
@EXPIRES
@DATABASE
@STUDIES
def create(studies: tuple[str, ...], role: str, name: str | None, expires: str, database_url: str | None,
           studies_dir: Path | None) -> None:
    """Make a token and print it (once)."""
    if role != "admin" and not studies:
        raise click.UsageError("say which study the token is for: --study ID (or --role admin)")
    _create(name or f"{role} of {', '.join(studies) or 'everything'}", role, studies, expires, database_url, studies_dir)


@token.command("list")
@DATABASE
def list_command(database_url: str | None) -> None:
    """Every token: id, holder, role, studies, and whether it is still live."""
    from storage.auth import list_tokens

    database = _database(database_url)
    try:
        found = list_tokens(database)
    finally:
        database.dispose()
    now = datetime.now(UTC)
    for t in found:
        state = "revoked" if t.revoked_at else "expired" if not t.active(now) else "live"
        until = t.expires_at.strftime("%Y-%m-%d") if t.expires_at else "never"
        click.echo(f"{t.id:>4}  {t.hint}…  {state:<8} {t.role:<11} {','.join(t.studies):<24} expires {until:<10}  {t.name}")
    if not found:
        click.echo("no tokens yet: chorus token create --study ID", err=True)


@token.command("revoke")
@click.argument("token_id", type=int)
@DATABASE
def revoke(token_id: int, database_url: str | None) -> None:
    """Revoke a token by its id (see chorus token list); its dashboard sessions end at once."""
    from storage.auth import revoke_token

    database = _database(database_url)
    try:
        done = revoke_token(database, token_id, datetime.now(UTC))
    finally:
        database.dispose()
    if not done:
        raise click.ClickException(f"no live token {token_id}")
    click.echo(f"token {token_id} revoked")


@click.group("user")
def user() -> None:
    """People who use the desk (each holds a token)."""


@user.command("create")
@click.argument("name")
@ROLE
@STUDY
@EXPIRES
@DATABASE
@STUDIES
def create_user(name: str, role: str, studies: tuple[str, ...], expires: str, database_url: str | None,
                studies_dir: Path | None) -> None:
    """Give NAME a role (and studies) and print their token (once)."""
    if role != "admin" and not studies:
        raise click.UsageError("say which study they work on: --study ID (or --role admin)")
    _create(name, role, studies, expires, database_url, studies_dir)


def register(cli: click.Group) -> None:
    cli.add_command(token)
    cli.add_command(user)
