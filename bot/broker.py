"""Dramatiq's Redis broker as Doorstep runs it: retries that survive a Redis outage.

Dramatiq acknowledges a job only after it ran; a job whose worker died is redelivered
once that worker's heartbeat is older than ``QUEUE_HEARTBEAT_MS``.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import dramatiq
import redis
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import (
    AgeLimit,
    Callbacks,
    CurrentMessage,
    Pipelines,
    Retries,
    ShutdownNotifications,
    TimeLimit,
)

from bot.settings import Settings

log = logging.getLogger("doorstep.queue")
REQUEUE_PATIENCE_S = 15 * 60  # how long a worker waits for Redis to queue a retry


class DurableRetries(Retries):
    """Dramatiq's retries, except that a retry Redis could not take is not lost.

    A job that failed because Redis went away (a send got its 201, then recording the
    SID failed) cannot queue its retry either; Dramatiq would log that and acknowledge
    the job once Redis is back, dropping it. Here the worker thread waits for Redis and
    queues the retry then.
    """

    def after_process_message(self, broker: Any, message: Any, *, result: Any = None,
                              exception: BaseException | None = None) -> None:
        options = dict(message.options)
        deadline = time.monotonic() + REQUEUE_PATIENCE_S
        while True:
            try:
                super().after_process_message(broker, message, result=result,
                                              exception=exception)
                return
            except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError):
                if time.monotonic() > deadline:
                    raise
                message.options.clear()
                message.options.update(options)  # as before the failed attempt
                log.warning("Redis unavailable: retry of a %s job waits for it",
                            message.actor_name)
                time.sleep(1)


def build_broker(settings: Settings, redis_url: str) -> RedisBroker:
    """A Redis broker with our retry defaults; one per process."""
    return RedisBroker(
        url=redis_url,
        namespace="doorstep-queue",
        heartbeat_timeout=settings.queue_heartbeat_ms,
        maintenance_chance=settings.queue_maintenance_chance,
        middleware=[
            AgeLimit(), TimeLimit(time_limit=120_000), ShutdownNotifications(), Callbacks(),
            Pipelines(), CurrentMessage(),
            DurableRetries(max_retries=settings.outbound_max_retries,
                    min_backoff=settings.outbound_min_backoff_ms,
                    max_backoff=3_600_000),
        ],
    )




def start_worker(broker: RedisBroker, threads: int) -> dramatiq.Worker:
    """Run ``threads`` worker threads in this process; call ``.stop()`` to end them."""
    worker = dramatiq.Worker(broker, worker_threads=threads, worker_timeout=200)
    worker.start()
    return worker
