"""``doorstep demo seed`` (synthetic cases to try the insights) and ``doorstep insights
rebuild`` (fold every timeline into the insights facts again)."""

from __future__ import annotations

import os

import click

from bot.errors import ConfigError
from bot.settings import Settings


def _settings() -> Settings:
    from bot.settings import load_settings

    try:
        return load_settings()
    except ConfigError as exc:
        raise click.ClickException(f"configuration: {exc}") from None


def _store(settings: Settings):  # noqa: ANN202 - a Store, imported late like the other CLIs
    import redis

    from bot.runtime import resolve_redis_url
    from bot.store import Store

    return Store(redis.Redis.from_url(resolve_redis_url(settings)))


@click.group()
def demo() -> None:
    """Demo data for trying Doorstep (sandbox SMS only)."""


@demo.command("seed")
@click.option("--cases", "count", default=5000, show_default=True,
              type=click.IntRange(min=1), help="How many cases to write.")
@click.option("--days", default=90, show_default=True, type=click.IntRange(min=1),
              help="Spread them over this many days, up to today.")
@click.option("--seed", default=None, type=int,
              help="Random seed: the same seed gives the same cases [default: random].")
@click.option("--workers", default=min(2, os.cpu_count() or 1), show_default=True,
              type=click.IntRange(1, 16), help="Processes writing at once.")
def seed_command(count: int, days: int, seed: int | None, workers: int) -> None:
    """Fill the store with realistic synthetic cases, all closed, for the insights page.

    Never texted: no conversation or message is queued, the numbers are fictional
    (555-01xx), and it refuses to run with Twilio configured."""
    from bot.demo_seed import seed_cases

    settings = _settings()
    last = [0]

    def progress(done: int) -> None:
        if done - last[0] >= 10_000:
            last[0] = done
            click.echo(f"  {done} of {count} cases", err=True)
    try:
        result = seed_cases(_store(settings), count, days=days, seed=seed,
                            timezone=settings.default_timezone, settings=settings,
                            progress=progress, workers=workers)
    except (ConfigError, ValueError) as exc:
        raise click.ClickException(str(exc)) from None
    by = result.closed_by
    click.echo(f"seeded {result.cases} demo cases ({result.entries} timeline entries) opened "
               f"{result.first_day} to {result.last_day}, in {result.seconds:.1f} s")
    click.echo(f"closed by: customer {by.get('customer', 0)}, staff {by.get('staff', 0)}, "
               f"shipper {by.get('shipper', 0)}, expired {by.get('expiry', 0)}"
               + (f"; storm from {result.storm}" if result.storm else ""))


@click.group()
def insights() -> None:
    """The supervisors' insights figures."""


@insights.command("rebuild")
def rebuild_command() -> None:
    """Fold every case's timeline into fresh insights facts (after a change of
    definitions, or for cases from before the insights)."""
    import time

    from bot.insights import rebuild_facts

    started = time.perf_counter()
    count = rebuild_facts(_store(_settings()))
    click.echo(f"rebuilt the insights facts of {count} cases in "
               f"{time.perf_counter() - started:.1f} s")
