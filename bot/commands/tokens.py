"""``chorus token create|list|revoke`` and ``chorus user create``: access to the desk.

A token is printed once, when it is made; only its hash is kept.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import click

from bot.settings import Settings, SettingsError

UNITS = {"m": "minutes", "h": "hours", "d": "days", "w": "weeks"}
ROLE = click.option("--role", type=click.Choice(["admin", "coordinator", "analyst"]), default="coordinator",
                    show_default=True, help="admin: everything; coordinator: a study's desk; analyst: read only.")
STUDY = click.option("--study", "studies", multiple=True, help="A study id this token may see (repeat for more; '*' for all).")
EXPIRES = click.option("--expires", default="90d", show_default=True, help="Lifetime, e.g. 12h, 30d, 8w; 'never' for none.")
DATABASE = click.option("--database", "database_url", default=None, help="Database URL (default CHORUS_DATABASE_URL).")


def parse_duration(text: str) -> timedelta | None:
    """'30d' -> 30 days; 'never' -> None."""
    if text.strip().lower() == "never":
        return None
    found = re.fullmatch(r"\s*(\d+)\s*([mhdw])\s*", text.lower())
    if not found or int(found.group(1)) == 0:
        raise click.BadParameter(f"'{text}' is not a lifetime; write e.g. 12h, 30d or 8w (or 'never')")
    return timedelta(**{UNITS[found.group(2)]: int(found.group(1))})


def _database(database_url: str | None):  # type: ignore[no-untyped-def]
    from storage.database import init_database

    try:
        settings = Settings.from_env(database_url=database_url)
    except SettingsError as error:
        raise click.ClickException(str(error)) from None
    return init_database(settings.database_url)


def _create(name: str, role: str, studies: tuple[str, ...], expires: str, database_url: str | None) -> None:
    from storage.auth import create_token

    lifetime = parse_duration(expires)
    now = datetime.now(UTC)
    database = _database(database_url)
    try:
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
def create(studies: tuple[str, ...], role: str, name: str | None, expires: str, database_url: str | None) -> None:
    """Make a token and print it (once)."""
    if role != "admin" and not studies:
        raise click.UsageError("say which study the token is for: --study ID (or --role admin)")
    _create(name or f"{role} of {', '.join(studies) or 'everything'}", role, studies, expires, database_url)


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
def create_user(name: str, role: str, studies: tuple[str, ...], expires: str, database_url: str | None) -> None:
    """Give NAME a role (and studies) and print their token (once)."""
    if role != "admin" and not studies:
        raise click.UsageError("say which study they work on: --study ID (or --role admin)")
    _create(name, role, studies, expires, database_url)


def register(cli: click.Group) -> None:
    cli.add_command(token)
    cli.add_command(user)
