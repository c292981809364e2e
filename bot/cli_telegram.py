"""``doorstep telegram ...``: register the webhook, check the bot."""

from __future__ import annotations

import click

from bot.errors import ConfigError
from bot.settings import Settings, load_settings


def _settings() -> Settings:
    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    if not settings.telegram_enabled:
        raise click.ClickException("set TELEGRAM_BOT_TOKEN and TELEGRAM_WEBHOOK_SECRET first")
    return settings


@click.group()
def telegram() -> None:
    """The Telegram channel."""


@telegram.command("set-webhook")
@click.option("--url", default=None, help="Webhook URL [default: PUBLIC_URL/webhooks/telegram].")
def set_webhook_command(url: str | None) -> None:
    """Register PUBLIC_URL/webhooks/telegram with Telegram, with TELEGRAM_WEBHOOK_SECRET."""
    from channels.telegram import WEBHOOK_PATH, bot_username, set_webhook
    from webhook_server import telegram_client

    settings = _settings()
    target = url or settings.public_url + WEBHOOK_PATH
    if not target.startswith("https://"):
        click.echo(f"warning: Telegram only delivers to https URLs; {target} will be refused "
                   "unless TELEGRAM_API_BASE_URL points at a local Bot API server", err=True)
    client = telegram_client(settings)
    try:
        set_webhook(client, target, settings.telegram_webhook_secret or "")
        username = bot_username(client)
    except Exception as exc:  # report any failure to the operator plainly
        raise click.ClickException(f"Telegram refused or was unreachable: "
                                   f"{type(exc).__name__}: {exc}") from None
    click.echo(f"webhook set: {target} (bot @{username})")
    if settings.telegram_bot_username and settings.telegram_bot_username != username:
        click.echo(f"warning: TELEGRAM_BOT_USERNAME is {settings.telegram_bot_username} but "
                   f"the token belongs to @{username}; deep links will not work", err=True)
    elif not settings.telegram_bot_username:
        click.echo(f"set TELEGRAM_BOT_USERNAME={username} to enable deep links", err=True)
