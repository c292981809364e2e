"""Wire one process's parts together: Redis, store, NLU, queue, engine, case opener."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from functools import partial

import redis

from bot.broker import build_broker
from bot.callbacks import ShipperCallbacks
from bot.cases import CaseOpener
from bot.deadletters import DeadLetters
from bot.desk import SupportDesk
from bot.engine import Engine
from bot.failover import undeliverable
from bot.idle import idle_check
from bot.inbox import Inbox
from bot.insights import Insights
from bot.media import FileMediaStore, MediaFetcher, MediaIntake
from bot.playbook import Playbook
from bot.ports import Sender
from bot.queue import OutboundQueue
from bot.redis_server import embedded_redis_url
from bot.sessions import LoginThrottle, SessionStore
from bot.settings import Settings
from bot.staff import StaffDirectory
from bot.store import Store
from nlu.base import NLU

log = logging.getLogger("doorstep")


@dataclass
class Runtime:
    """Everything a web or worker process needs, built once."""

    settings: Settings
    redis_url: str
    redis: redis.Redis
    store: Store
    nlu: NLU
    queue: OutboundQueue
    engine: Engine
    opener: CaseOpener
    inbox: Inbox
    desk: SupportDesk
    playbook: Playbook
    staff: StaffDirectory
    sessions: SessionStore
    login_throttle: LoginThrottle
    dead_letters: DeadLetters
    insights: Insights

    def close(self) -> None:
        """Drop this process's Redis connections (the broker keeps its own pool)."""
        self.queue.broker.close()
        self.queue.broker.client.connection_pool.disconnect()
        self.redis.connection_pool.disconnect()


def resolve_redis_url(settings: Settings) -> str:
    """``REDIS_URL``, or the embedded server under ``DOORSTEP_DATA_DIR`` (started if needed)."""
    return settings.redis_url or embedded_redis_url(settings.data_dir)


def build_runtime(settings: Settings, senders: Callable[[Store], dict[str, Sender]],
                  nlu: NLU, clock: Callable[[], datetime] | None = None,
                  fetchers: dict[str, MediaFetcher] | None = None) -> Runtime:
    """Build the runtime; ``senders`` maps channel names to senders and ``fetchers`` to
    media downloaders (both from ``channels/``)."""
    url = resolve_redis_url(settings)
    client = redis.Redis.from_url(url, health_check_interval=30)
    store = Store(client)
    callbacks = (ShipperCallbacks(settings.shipper_webhook_url, settings.shipper_webhook_secret)
                 if settings.shipper_webhook_url and settings.shipper_webhook_secret else None)
    queue = OutboundQueue(build_broker(settings, url), store, settings, senders(store),
                          callbacks, clock)
    media = MediaIntake(fetchers or {}, FileMediaStore(settings.media_dir),
                        settings.media_max_bytes)
    engine = Engine(store, nlu, queue, settings, clock, media)
    queue.idle_handler = partial(idle_check, engine)
    queue.inbound_handler = engine.handle
    queue.undeliverable_handler = partial(undeliverable, engine)
    inbox = Inbox(engine)
    playbook = Playbook(client, settings.resolution_codes)
    desk = SupportDesk(engine, inbox, playbook)
    queue.overdue_handler = desk.check_overdue
    return Runtime(settings, url, client, store, nlu, queue, engine, CaseOpener(engine),
                   inbox, desk, playbook, StaffDirectory(client),
                   SessionStore(client, settings.session_idle_s),
                   LoginThrottle(client, settings.login_max_failures, settings.login_lock_s),
                   DeadLetters(store, queue), Insights(store, settings.default_timezone))
