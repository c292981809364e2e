"""``doorstep staff ...``: add, list and disable console accounts; issue API tokens."""

from __future__ import annotations

import click

from bot.desk import ROLES
from bot.errors import ConfigError, StaffError
from bot.staff import StaffDirectory


def _redis():  # noqa: ANN202 - click helper
    import redis

    from bot.runtime import resolve_redis_url
    from bot.settings import load_settings

    try:
        settings = load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None
    return redis.Redis.from_url(resolve_redis_url(settings))


def _directory() -> StaffDirectory:
    return StaffDirectory(_redis())


@click.group()
def staff() -> None:
    """Console accounts for support staff."""


@staff.command("add")
@click.argument("email")
@click.option("--role", required=True, metavar="|".join(ROLES),
              help="agent: conversations; supervisor: also canned responses, codes and staff.")
@click.option("--name", default=None,
              help="First name customers see [default: from the email, sam.lee@… → Sam].")
@click.option("--password-stdin", is_flag=True,
              help="Read the password from the first line of standard input (for scripts).")
def add_command(email: str, role: str, name: str | None, password_stdin: bool) -> None:
    """Create an account for EMAIL (asks for its password twice)."""
    if role not in ROLES:
        raise click.ClickException(f"role must be one of {', '.join(ROLES)}, not {role!r}")
    if password_stdin:
        password = click.get_text_stream("stdin").readline().rstrip("\r\n")
    else:
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        member = _directory().add(email, role, password, name=name)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"added {member.email} ({member.role}, shown to customers as {member.name})")


@staff.command("list")
def list_command() -> None:
    """Show every account: email, name, role, enabled or disabled."""
    members = _directory().all()
    if not members:
        click.echo("no staff accounts yet: add one with `doorstep staff add EMAIL --role agent`")
        return
    rows = [("EMAIL", "NAME", "ROLE", "STATE")] + [
        (m.email, m.name, m.role, "disabled" if m.disabled else "enabled") for m in members]
    widths = [max(len(row[i]) for row in rows) for i in range(3)]
    for row in rows:
        click.echo("  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False))
                   + "  " + row[3])


@staff.command("disable")
@click.argument("email")
def disable_command(email: str) -> None:
    """Disable EMAIL's account: its sessions and API token stop working at once."""
    from bot.sessions import SessionStore
    from bot.store import Store

    client = _redis()
    try:
        member = StaffDirectory(client).disable(email)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    ended = SessionStore(client, idle_s=1).revoke_all(member.email)
    Store(client).forget_staff_presence(member.email)
    click.echo(f"disabled {member.email} ({ended} session{'s' if ended != 1 else ''} ended)")


@staff.command("token")
@click.argument("email")
def token_command(email: str) -> None:
    """Print a new API token for EMAIL (replacing any earlier one); send it as
    ``Authorization: Bearer <token>``."""
    try:
        token = _directory().issue_token(email)
    except StaffError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(token)
