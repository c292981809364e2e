"""Erase what has been quiet for ``RETENTION_DAYS``, keeping anonymised case statistics.

A case whose last activity (its latest timeline entry, status change or creation) is
older than the retention period is erased as :meth:`bot.privacy.Privacy.erase_case`
erases it, together with its conversations when they have nothing newer. Cases are
found through the ``cases`` index (scored by creation time: a case created after the
cutoff cannot be quiet since before it), from a watermark below which every case is
already erased, so a sweep reads only the cases it may have work on.

Two safety nets for what no case leads to (a stranger's Telegram chat, an SMS from an
unknown number): conversations get a TTL of the retention period when they have none
(any turn's write clears it again, so only a quiet conversation expires); outbound
records and message-id marks (4 days) a TTL no longer than it. These are set by walking
the keyspace a slice per sweep with SCAN, never KEYS: a mark or a reply to a message no
case recorded may outlive the period by up to one full walk.

Workers sweep about hourly (:func:`start_sweeper`); one process at a time, through a
Redis lock. ``doorstep retention sweep`` runs one now.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import redis

from bot.errors import BusyConversation
from bot.models import Case
from bot.privacy import Erased, Privacy, is_erased
from bot.settings import Settings
from bot.store import Store, key_for
from bot.store_outbound import send_order_key

log = logging.getLogger("doorstep.retention")

SWEEP_EVERY_S = 3600
CHECK_EVERY_S = 300  # each worker looks this often whether a sweep is due
LOCK_S = 15 * 60
BATCH = 200
MAX_ERASED_PER_SWEEP = 5000  # the watermark keeps the rest for the next sweep
SCAN_CALLS_PER_SWEEP = 50
SCAN_COUNT = 1000
WATERMARK = key_for("retention", "watermark")
SCAN_CURSOR = key_for("retention", "cursor")
LOCK = key_for("retention", "lock")
DUE = key_for("retention", "due")


@dataclass
class SweepResult:
    """What one sweep did."""

    examined: int = 0
    erased: Erased = field(default_factory=Erased)
    kept_active: int = 0
    busy: int = 0
    ttls_set: int = 0
    erased_ids: set[str] = field(default_factory=set)

    def summary(self) -> str:
        return (f"{self.examined} old case(s) examined, {self.kept_active} still active, "
                f"{self.busy} busy (next sweep); {self.erased.summary()}; "
                f"{self.ttls_set} TTL(s) set")


class Retention:
    """Sweep expired customer data out of Redis and the media directory."""

    def __init__(self, privacy: Privacy, retention_days: int,
                 clock: Callable[[], datetime] | None = None) -> None:
        self.privacy = privacy
        self.store: Store = privacy.store
        self.redis = privacy.redis
        self.retention = timedelta(days=retention_days)
        self.clock = clock or (lambda: datetime.now(UTC))

    def sweep(self) -> SweepResult:
        """Erase every case quiet since before the cutoff (up to a per-sweep limit)."""
        result = SweepResult()
        cutoff = self.clock() - self.retention
        mark = float(self.redis.get(WATERMARK) or 0)
        index, offset, advancing = key_for("cases"), 0, True
        while result.erased.cases < MAX_ERASED_PER_SWEEP:
            rows = self.redis.zrangebyscore(index, mark, cutoff.timestamp(), start=offset,
                                            num=BATCH, withscores=True)
            if not rows:
                break
            offset += len(rows)
            ids = [r[0].decode() for r in rows]
            cases = {c.id: c for c in self.store.get_cases(ids)}
            lasts = dict(zip(ids, self.store.recent_timelines(ids, 1), strict=True))
            for (_, score), case_id in zip(rows, ids, strict=True):
                done = self._sweep_case(cases.get(case_id), lasts[case_id], cutoff, result)
                advancing = advancing and done
                if advancing:
                    mark = score  # every case up to here is erased (or gone)
        self.redis.set(WATERMARK, mark)
        if result.erased_ids:
            result.erased.dead_letters += self.privacy.drop_dead_letters(result.erased_ids)
        result.ttls_set = self._expire_quiet_keys()
        return result

    def _sweep_case(self, case: Case | None, last: list[dict[str, Any]], cutoff: datetime,
                    result: SweepResult) -> bool:
        """Erase ``case`` if it is quiet; True when nothing of it is left to erase."""
        if case is None or is_erased(case):
            return True
        result.examined += 1
        times = [case.created_at, case.updated_at] + [e["at"] for e in last if e.get("at")]
        if max(datetime.fromisoformat(t) for t in times) >= cutoff:
            result.kept_active += 1
            return False
        channels = ([("sms", case.phone)] if case.phone else []) + (
            [("telegram", str(case.telegram_chat_id))] if case.telegram_chat_id else [])
        try:
            with self.privacy.locked(channels, wait_s=1.0):
                result.erased.add(self.privacy.erase_case(case.id, "retention"))
                result.erased_ids.add(case.id)
                for channel, address in channels:
                    result.erased.add(self._erase_quiet_conversation(
                        channel, address, case.id, cutoff))
        except BusyConversation:
            result.busy += 1  # a turn is running: hardly quiet; look again next time
            return False
        return True

    def _erase_quiet_conversation(self, channel: str, address: str, case_id: str,
                                  cutoff: datetime) -> Erased:
        """Delete the conversation if it is about this case (or none) and quiet too."""
        erased = Erased()
        conv = self.store.get_conversation(channel, address)
        last = conv.last_inbound_at
        quiet = last is None or datetime.fromisoformat(last) < cutoff
        if conv.case_id in (None, case_id) and quiet:
            pipe = self.redis.pipeline()
            pipe.delete(key_for("conv", tag=f"{channel}:{address}"))
            pipe.delete(send_order_key(channel, address))
            erased.conversations += int(pipe.execute()[0])
        return erased

    def _expire_quiet_keys(self) -> int:
        """Walk a slice of the keyspace: TTLs on conversations and outbound records."""
        ttl_s = int(self.retention.total_seconds())
        cursor = int(self.redis.get(SCAN_CURSOR) or 0)
        conv_prefix, out_prefix = key_for("conv", "").encode(), key_for("out", "").encode()
        changed = 0
        for _ in range(SCAN_CALLS_PER_SWEEP):
            cursor, keys = self.redis.scan(cursor, count=SCAN_COUNT)
            # A conversation's own key is ds:conv:{channel:address}; its lock carries a
            # suffix and a short TTL; its message-id marks (":seen:") a TTL of 4 days.
            wanted = [k for k in keys if k.startswith(out_prefix) or k.startswith(conv_prefix)
                      and (k.endswith(b"}") or b":seen:" in k)]
            if wanted:
                pipe = self.redis.pipeline(transaction=False)
                for key in wanted:
                    pipe.ttl(key)
                ttls = pipe.execute()
                for key, ttl in zip(wanted, ttls, strict=True):
                    if ttl == -1 or ttl > ttl_s:
                        pipe.expire(key, ttl_s)
                changed += sum(bool(r) for r in pipe.execute())
            if cursor == 0:
                break
        self.redis.set(SCAN_CURSOR, cursor)
        return changed

    def sweep_if_due(self, every_s: float = SWEEP_EVERY_S) -> SweepResult | None:
        """Sweep when no process has in the last ``every_s`` and none is sweeping now."""
        if not self.redis.set(DUE, 1, nx=True, ex=int(every_s)):
            return None
        return self.sweep_locked()

    def sweep_locked(self) -> SweepResult | None:
        """Sweep under the cluster-wide lock; None when another process holds it."""
        lock = self.redis.lock(LOCK, timeout=LOCK_S, blocking=False)
        if not lock.acquire():
            return None
        try:
            return self.sweep()
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # expired while sweeping: nothing left to release


class Sweeper:
    """A daemon thread that sweeps about every ``every_s`` across all worker processes."""

    def __init__(self, retention: Retention, every_s: float = SWEEP_EVERY_S,
                 check_s: float = CHECK_EVERY_S) -> None:
        self.retention = retention
        self.every_s, self.check_s = every_s, check_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="retention-sweeper",
                                        daemon=True)

    def start(self) -> Sweeper:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        # Spread processes that started together; then look every check_s.
        delay = random.uniform(0, min(self.check_s, 60))
        while not self._stop.wait(delay):
            delay = self.check_s
            try:
                result = self.retention.sweep_if_due(self.every_s)
            except Exception as exc:  # noqa: BLE001 - keep the thread alive; try next time
                log.error("retention sweep failed: %s", type(exc).__name__)
                continue
            if result is not None:
                log.info("retention sweep: %s", result.summary(),
                         extra={"erased": result.erased.to_dict(),
                                "examined": result.examined, "ttls_set": result.ttls_set})


def build_retention(store: Store, settings: Settings) -> Retention:
    """The retention sweeper for these settings (``RETENTION_DAYS``, ``DOORSTEP_DATA_DIR``)."""
    return Retention(Privacy(store, settings.media_dir), settings.retention_days)


def start_sweeper(store: Store, settings: Settings) -> Sweeper:
    """Start sweeping in the background of a worker process; ``.stop()`` on shutdown."""
    return Sweeper(build_retention(store, settings)).start()
