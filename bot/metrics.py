"""Prometheus metrics: what the code counts, and the gauges read from Redis when scraped.

Counters and the turn histogram live in prometheus_client's default registry; the rest of
the code calls the small functions here, which cost one counter increment and no I/O
(nothing is added to a turn's Redis round trips). What describes shared state (queue
depth and age, escalations) is read from Redis at scrape time by :class:`RedisGauges`.

Multi-process: prometheus_client chooses in-memory or file-backed values once, when it is
first imported, from ``PROMETHEUS_MULTIPROC_DIR`` in the process environment (a ``.env``
file is read too late for that). When it is set, every process (gunicorn workers,
``doorstep worker``) writes its counts to files there and :func:`exposition` sums them.
"""

from __future__ import annotations

import functools
import logging
import time
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client import values as prometheus_values
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector

from bot.errors import BusyConversation

if TYPE_CHECKING:
    from dramatiq.brokers.redis import RedisBroker

    from bot.models import Inbound

log = logging.getLogger("doorstep.metrics")

WEBHOOK_REQUESTS = Counter(
    "doorstep_webhook_requests", "Requests to /events and the provider webhooks, by outcome.",
    ["endpoint", "outcome"])
TURNS = Counter(
    "doorstep_turns", "Customer messages the engine took, by outcome (handled, replay: a "
    "message seen before, busy: the conversation stayed locked, error).", ["channel", "outcome"])
TURN_SECONDS = Histogram(
    "doorstep_turn_seconds", "Time to handle one customer message (lock wait included).",
    ["channel"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0))
OUTBOUND_MESSAGES = Counter(
    "doorstep_outbound_messages", "What became of each attempt to send a message to a "
    "customer, by channel and status.", ["channel", "status"])
CALLBACKS = Counter(
    "doorstep_callbacks", "Shipper callback attempts, by outcome.", ["outcome"])

Handle = TypeVar("Handle", bound=Callable[..., bool])


# -- called from the hot path: a counter increment each -----------------------------------
def count_request(endpoint: str, outcome: str) -> None:
    """Count one webhook request (``endpoint``: events, twilio_sms, twilio_status, telegram)."""
    WEBHOOK_REQUESTS.labels(endpoint, outcome).inc()


def count_send(channel: str, status: str, messages: int = 1) -> None:
    """Count what became of ``messages`` outbound messages (sent, failed, retried, ...)."""
    OUTBOUND_MESSAGES.labels(channel, status).inc(messages)


def count_callback(outcome: str) -> None:
    """Count one shipper callback attempt's result (delivered, retried, failed, ...)."""
    CALLBACKS.labels(outcome).inc()


def observe_turn(channel: str, outcome: str, seconds: float) -> None:
    """Count a turn; a handled one's duration goes into the latency histogram."""
    TURNS.labels(channel, outcome).inc()
    if outcome == "handled":
        TURN_SECONDS.labels(channel).observe(seconds)


def timed_turn(handle: Handle) -> Handle:
    """Decorate ``Engine.handle(inbound) -> bool`` to count and time every turn."""
    @functools.wraps(handle)
    def timed(engine: Any, inbound: Inbound, *args: Any, **kwargs: Any) -> bool:
        start, outcome = time.perf_counter(), "error"
        try:
            handled = handle(engine, inbound, *args, **kwargs)
            outcome = "handled" if handled else "replay"
            return handled
        except BusyConversation:
            outcome = "busy"
            raise
        finally:
            observe_turn(inbound.channel, outcome, time.perf_counter() - start)
    return timed  # type: ignore[return-value]


# -- read at scrape time ---------------------------------------------------------------------
EscalationState = Callable[[], tuple[int, int, int, list[float]]]


class RedisGauges:
    """A collector: Dramatiq queue depth and age, escalations and dead letters, from Redis.

    Dramatiq's Redis broker keeps, under its namespace, per queue ``Q``: a list ``Q`` of
    message ids ready to fetch (oldest first), a hash ``Q.msgs`` of every message not yet
    acknowledged (ready, prefetched or running), the same pair ``Q.DQ`` / ``Q.DQ.msgs``
    for delayed messages, and a sorted set ``Q.XQ`` of its own dead letters. A failed
    read is left out and ``doorstep_metrics_redis_up`` drops to 0: a scrape never fails.
    """

    def __init__(self, broker: RedisBroker, escalations: EscalationState,
                 dead_letters: Callable[[], int]) -> None:
        self.broker = broker
        self.escalations = escalations
        self.dead_letters = dead_letters

    def collect(self) -> Iterator[Metric]:
        up = 1
        try:
            yield from self._queues()
        except Exception as exc:  # Redis down, or a message we cannot read: report the rest
            up = 0
            log.warning("metrics: queue figures unavailable (%s)", type(exc).__name__)
        try:
            yield from self._desk()
        except Exception as exc:
            up = 0
            log.warning("metrics: escalation figures unavailable (%s)", type(exc).__name__)
        yield _gauge("doorstep_metrics_redis_up", "1 when every figure read from Redis for "
                     "this scrape was read, else 0.", [((), up)])

    def _queues(self) -> Iterator[Metric]:
        names = sorted(self.broker.get_declared_queues())
        prefix = self.broker.namespace + ":"
        pipe = self.broker.client.pipeline(transaction=False)
        for name in names:
            pipe.hlen(f"{prefix}{name}.msgs")
            pipe.hlen(f"{prefix}{name}.DQ.msgs")
            pipe.zcard(f"{prefix}{name}.XQ")
            pipe.lindex(f"{prefix}{name}", 0)
        found = pipe.execute()
        rows = [found[i:i + 4] for i in range(0, len(found), 4)]
        heads = self._head_messages(prefix, names, [row[3] for row in rows])
        now_ms = time.time() * 1000
        ages = [max(now_ms - _due_ms(head), 0) / 1000 if head else 0.0 for head in heads]
        yield _gauge("doorstep_queue_depth", "Jobs due now and not yet finished (waiting, "
                     "prefetched by a worker or running), per queue.",
                     [((n,), row[0]) for n, row in zip(names, rows, strict=True)], "queue")
        yield _gauge("doorstep_queue_delayed", "Jobs scheduled for later (retries, quiet "
                     "hours, reminders, overdue checks), per queue.",
                     [((n,), row[1]) for n, row in zip(names, rows, strict=True)], "queue")
        yield _gauge("doorstep_queue_dead", "Jobs Dramatiq gave up on (kept a week), per queue.",
                     [((n,), row[2]) for n, row in zip(names, rows, strict=True)], "queue")
        yield _gauge("doorstep_queue_oldest_age_seconds", "How long the job at the head of "
                     "the queue has been due without a worker taking it (0: none waiting).",
                     [((n,), age) for n, age in zip(names, ages, strict=True)], "queue")

    def _head_messages(self, prefix: str, names: list[str],
                       ids: list[bytes | None]) -> list[bytes | None]:
        pipe = self.broker.client.pipeline(transaction=False)
        asked = [(name, mid) for name, mid in zip(names, ids, strict=True) if mid]
        for name, mid in asked:
            pipe.hget(f"{prefix}{name}.msgs", mid)
        raws = iter(pipe.execute() if asked else [])
        # A head fetched between the two reads is gone from the hash: nothing waits there.
        return [next(raws) if mid else None for mid in ids]

    def _desk(self) -> Iterator[Metric]:
        waiting, held, overdue, _ = self.escalations()
        yield _gauge("doorstep_escalations_waiting", "Escalated cases no staff member holds.",
                     [((), waiting)])
        yield _gauge("doorstep_escalations_overdue", "Of those waiting, the ones flagged "
                     "overdue (ESCALATION_OVERDUE_MINUTES).", [((), overdue)])
        yield _gauge("doorstep_escalations_held", "Escalated cases a staff member holds.",
                     [((), held)])
        yield _gauge("doorstep_dead_letters", "Messages and callbacks in the dead-letter list "
                     "for staff.", [((), self.dead_letters())])


def _due_ms(raw: bytes) -> float:
    """When a queued job became due: its enqueue time, or its ETA if it was delayed."""
    from dramatiq import Message

    message = Message.decode(raw)
    return max(float(message.message_timestamp), float(message.options.get("eta") or 0))


def _gauge(name: str, documentation: str, samples: Iterable[tuple[tuple[str, ...], float]],
           *labels: str) -> GaugeMetricFamily:
    family = GaugeMetricFamily(name, documentation, labels=list(labels))
    for label_values, value in samples:
        family.add_metric(list(label_values), value)
    return family


# -- exposition ------------------------------------------------------------------------------
def multiprocess_mode() -> bool:
    """Whether this process's metric values are file-backed (decided at first import)."""
    return prometheus_values.ValueClass is not prometheus_values.MutexValue


class _ThisProcess:
    """The default registry's metrics, as a collector of a per-scrape registry."""

    def collect(self) -> Iterator[Metric]:
        return REGISTRY.collect()


def exposition(gauges: RedisGauges | None = None) -> bytes:
    """Render every metric in the Prometheus text format: this process's, or all the
    processes' sharing ``PROMETHEUS_MULTIPROC_DIR``, plus the Redis gauges."""
    registry = CollectorRegistry()
    if multiprocess_mode():
        MultiProcessCollector(registry)
    else:
        registry.register(_ThisProcess())  # type: ignore[arg-type]
    if gauges is not None:
        registry.register(gauges)  # type: ignore[arg-type]
    return generate_latest(registry)
