"""``doorstep customer export|forget PHONE`` and ``doorstep retention sweep``.

Export prints everything held about a customer as JSON on stdout. Forget erases it
and keeps anonymised case statistics (see :mod:`bot.privacy`); its summary names
nobody. Both read PHONE in any usual format (``+1 555 019 1234``, ``(555) 019-1234``);
one that is not a phone number is a usage error (exit code 2).
"""

from __future__ import annotations

import json

import click

from bot.errors import BusyConversation, ConfigError
from bot.phones import mask_phone, normalise_phone
from bot.privacy import Privacy
from bot.settings import Settings


def _settings() -> Settings:
    from bot.settings import load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def _privacy(settings: Settings) -> Privacy:
    import redis

    from bot.runtime import resolve_redis_url
    from bot.store import Store

    store = Store(redis.Redis.from_url(resolve_redis_url(settings)))
    return Privacy(store, settings.media_dir)


def _phone(ctx: click.Context, param: click.Parameter, value: str) -> str:
    phone = normalise_phone(value)
    if phone is None:
        raise click.BadParameter(f"{value!r} is not a phone number; give it in E.164 "
                                 "(+15551230001) or as dialled in the US", ctx, param)
    return phone


@click.group()
def customer() -> None:
    """A customer's data: export it, or forget it."""


@customer.command("export")
@click.argument("phone", callback=_phone)
def export_command(phone: str) -> None:
    """Print everything Doorstep holds about PHONE as JSON: cases, timelines,
    conversations (SMS and linked Telegram chats), outbound messages, photos, opt-out."""
    data = _privacy(_settings()).export(phone)
    click.echo(json.dumps(data, indent=2, ensure_ascii=False))
    if not data["found"]:
        click.echo(f"nothing found for {mask_phone(phone)}", err=True)


@customer.command("forget")
@click.argument("phone", callback=_phone)
def forget_command(phone: str) -> None:
    """Erase PHONE's conversations, message texts, photos, names, numbers and addresses.

    Keeps anonymised case statistics (type, carrier, status, times, resolution code,
    timeline kinds) and, if the customer opted out, a one-way hash of the number so
    STOP stays honoured. Running it again changes nothing.
    """
    try:
        found, erased = _privacy(_settings()).forget(phone)
    except BusyConversation:
        raise click.ClickException("a conversation of this customer is busy right now; "
                                   "run the command again in a minute") from None
    who = mask_phone(phone)
    if not found:
        click.echo(f"nothing found for {who}; nothing to erase")
        return
    click.echo(f"forgot {who}: {erased.summary()}")
    if erased.optouts_hashed:
        click.echo("kept: the opt-out (STOP), as a one-way hash, so it stays honoured")


@click.group()
def retention() -> None:
    """Erase data older than RETENTION_DAYS."""


@retention.command("sweep")
def sweep_command() -> None:
    """Erase conversations, texts and photos of cases quiet for RETENTION_DAYS now
    (workers also do this about hourly); keeps anonymised case statistics."""
    from bot.retention import build_retention

    settings = _settings()
    done = build_retention(_privacy(settings).store, settings).sweep_locked()
    if done is None:
        raise click.ClickException("another process is sweeping right now; try again later")
    click.echo(f"retention ({settings.retention_days} days): {done.summary()}")
