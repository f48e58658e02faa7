"""``chorus telegram set-webhook``: tell Telegram where to post updates, with the secret it must send."""

from __future__ import annotations

import asyncio

import click


@click.group()
def telegram() -> None:
    """Telegram bot set-up."""


@telegram.command("set-webhook")
@click.option("--url", default=None, help="Public base URL (default CHORUS_PUBLIC_URL); /webhooks/telegram is added.")
@click.option("--drop-pending", is_flag=True, help="Discard updates Telegram is still holding.")
def set_webhook(url: str | None, drop_pending: bool) -> None:
    """Register POST <url>/webhooks/telegram with TELEGRAM_WEBHOOK_SECRET as its secret token."""
    import os

    from channels.telegram import ALLOWED_UPDATES, TelegramChannel, TelegramSettings, make_bot

    settings = TelegramSettings.from_env()
    if settings is None:
        raise click.ClickException("set TELEGRAM_BOT_TOKEN first")
    if not settings.secret:
        raise click.ClickException("set TELEGRAM_WEBHOOK_SECRET first (1-256 of A-Z a-z 0-9 _ -)")
    base = url or os.environ.get("CHORUS_PUBLIC_URL")
    if not base:
        raise click.ClickException("give --url or set CHORUS_PUBLIC_URL")
    target = base.rstrip("/") + "/webhooks/telegram"

    async def register() -> str:
        channel = TelegramChannel(make_bot(settings))
        try:
            bot = await channel._initialised()
            await bot.set_webhook(target, secret_token=settings.secret, allowed_updates=list(ALLOWED_UPDATES),
                                  drop_pending_updates=drop_pending)
            return bot.username or "bot"
        finally:
            await channel.close()

    try:
        name = asyncio.run(register())
    except Exception as error:  # the token is wrong, or Telegram refused the URL
        raise click.ClickException(f"Telegram refused: {error}") from None
    click.echo(f"@{name} now posts updates to {target}")


def register(cli: click.Group) -> None:
    cli.add_command(telegram)
