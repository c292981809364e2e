"""The one place that knows Redis keys (spelled by ``bot.store_keys.key_for``).

Keys carry a hash tag (``{...}``) per conversation or case so that, on Redis
Cluster, the keys one turn touches share a slot. Every write accepts an optional
``pipe`` so callers can batch writes atomically.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any

import redis

from bot.errors import BusyConversation
from bot.insights_facts import CHANGED_KEY, MARK_CHANGED, VERSION_KEY, apply_ops, fold
from bot.models import ESCALATED, Case, Conversation, Window
from bot.store_keys import Pipe, key_for, now_iso, optout_hash_key
from bot.store_outbound import OutboundRecords

EVENT_MEMORY_S = 5 * 24 * 3600  # longer than Standard Webhooks' ~3-day retry horizon
INBOUND_MEMORY_S = 4 * 24 * 3600


# Pace sends: the next free moment for both a per-destination and a global slot.
# A slot further away than ARGV[3] ms is not taken: the caller comes back later instead of
# holding a worker thread (or stacking up reservations nobody uses).
_PACE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local at = math.max(now, tonumber(redis.call('GET', KEYS[1]) or '0'),
                    tonumber(redis.call('GET', KEYS[2]) or '0'))
if at - now > tonumber(ARGV[3]) then return at - now end
local one, all = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('SET', KEYS[1], at + one, 'PX', at - now + one + 1000)
redis.call('SET', KEYS[2], at + all, 'PX', at - now + all + 1000)
return at - now
"""
LINK_FAILURE_WINDOW_S = 3600
# Console live updates: every change to a case is announced here (Redis pub/sub, so every
# web process's Server-Sent Events stream hears it).
CONSOLE_CHANNEL = key_for("console")
CLAIM_WAITS_KEPT = 50

_RESERVE = """
local used = tonumber(redis.call('GET', KEYS[1]) or '0')
if used >= tonumber(ARGV[1]) then return 0 end
redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return 1
"""


class Store(OutboundRecords):
    """Cases, timelines, conversations, idempotency marks and capacity, on Redis."""

    def __init__(self, client: redis.Redis) -> None:
        self.redis = client
        self._reserve = client.register_script(_RESERVE)
        self._pace = client.register_script(_PACE)

    def pipeline(self) -> Pipe:
        return self.redis.pipeline(transaction=True)

    # -- cases -------------------------------------------------------------
    def get_case(self, case_id: str) -> Case | None:
        raw = self.redis.get(key_for("case", tag=case_id))
        return Case.from_dict(json.loads(raw)) if raw else None

    def save_case(self, case: Case, pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        target.set(key_for("case", tag=case.id), json.dumps(case.to_dict()))
        target.zadd(key_for("cases"), {case.id: datetime.fromisoformat(case.created_at)
                                       .timestamp()})

    def append_timeline(self, case_id: str, kind: str, pipe: Pipe | None = None,
                        **data: Any) -> None:
        """Append one entry to the case's append-only timeline, and fold it into the
        case's insights facts in the same pipeline (``data`` may carry ``at``)."""
        target = pipe if pipe is not None else self.pipeline()
        entry = {"at": now_iso(), "kind": kind, **data}
        target.rpush(key_for("case", "timeline", tag=case_id), json.dumps(entry))
        ops = fold(entry)
        if ops:
            apply_ops(target, case_id, ops)
            self.mark_insights_changed(case_id, target)
        if pipe is None:
            target.execute()

    def mark_insights_changed(self, case_id: str, pipe: Pipe) -> None:
        """Tell every process's insights table that this case's facts changed."""
        # EVAL, not EVALSHA: a registered script costs a SCRIPT EXISTS round trip per
        # pipeline, and a script cache emptied by a Redis restart would drop the mark.
        pipe.eval(MARK_CHANGED, 2, VERSION_KEY, CHANGED_KEY, case_id)

    def record_event(self, case_id: str | None, kind: str, **data: Any) -> None:
        """Append to a case's timeline and tell open consoles, in one round trip."""
        if case_id:
            pipe = self.pipeline()
            self.append_timeline(case_id, kind, pipe, **data)
            self.publish_case(case_id, pipe=pipe)
            pipe.execute()

    def timeline(self, case_id: str) -> list[dict[str, Any]]:
        raw = self.redis.lrange(key_for("case", "timeline", tag=case_id), 0, -1)
        return [json.loads(r) for r in raw]

    def last_timeline_entry(self, case_id: str, kind: str,
                            chunk: int = 64) -> dict[str, Any] | None:
        """The latest entry of ``kind``, read from the end a chunk at a time (a long
        timeline is not read and parsed whole for it)."""
        key, needle = key_for("case", "timeline", tag=case_id), json.dumps(kind).encode()
        end = -1
        while True:
            raw = self.redis.lrange(key, end - chunk + 1, end)
            for item in reversed(raw):
                if needle in item and (entry := json.loads(item)).get("kind") == kind:
                    return entry
            if len(raw) < chunk:
                return None
            end -= chunk

    def recent_timeline(self, case_id: str, count: int) -> list[dict[str, Any]]:
        raw = self.redis.lrange(key_for("case", "timeline", tag=case_id), -count, -1)
        return [json.loads(r) for r in raw]

    def recent_timelines(self, case_ids: list[str], count: int) -> list[list[dict[str, Any]]]:
        """The last ``count`` timeline entries of several cases, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for case_id in case_ids:
            pipe.lrange(key_for("case", "timeline", tag=case_id), -count, -1)
        return [[json.loads(r) for r in raw] for raw in pipe.execute()] if case_ids else []

    @contextmanager
    def case_lock(self, case_id: str) -> Iterator[None]:
        """For cases no conversation reaches (no phone, no chat): staff actions take this."""
        with self._lock(key_for("case", "lock", tag=case_id), timeout=30):
            yield

    def recent_case_ids(self, limit: int = 50) -> list[str]:
        return [c.decode() for c in self.redis.zrevrange(key_for("cases"), 0, limit - 1)]

    def open_case_for(self, carrier: str, tracking: str) -> str | None:
        raw = self.redis.get(key_for("shipment", tag=f"{carrier}:{tracking}"))
        return raw.decode() if raw else None

    def set_open_case(self, carrier: str, tracking: str, case_id: str | None,
                      pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        key = key_for("shipment", tag=f"{carrier}:{tracking}")
        if case_id is None:
            target.delete(key)
        else:
            target.set(key, case_id)

    def index_case(self, case: Case, recipients: list[tuple[str, str]],
                   pipe: Pipe | None = None) -> None:
        """Find this case later by tracking number and by its recipients' channels."""
        target = pipe if pipe is not None else self.redis
        target.sadd(key_for("tracking", tag=case.tracking_number.upper()), case.id)
        for channel, address in recipients:
            target.sadd(key_for("recipient", tag=self._conv_tag(channel, address)), case.id)

    def cases_for_tracking(self, tracking: str) -> list[Case]:
        ids = self.redis.smembers(key_for("tracking", tag=tracking.upper()))
        return self.get_cases(sorted(i.decode() for i in ids))

    def cases_for_recipient(self, channel: str, address: str) -> list[Case]:
        """Every case sent to this phone number or chat, newest first."""
        ids = self.redis.smembers(key_for("recipient", tag=self._conv_tag(channel, address)))
        cases = self.get_cases([i.decode() for i in ids])
        return sorted(cases, key=lambda c: c.updated_at, reverse=True)

    def get_cases(self, case_ids: list[str]) -> list[Case]:
        if not case_ids:
            return []
        pipe = self.redis.pipeline(transaction=False)
        for case_id in case_ids:
            pipe.get(key_for("case", tag=case_id))
        return [Case.from_dict(json.loads(raw)) for raw in pipe.execute() if raw]

    # -- support desk ------------------------------------------------------
    def publish_case(self, case_id: str, case_status: str | None = None,
                     pipe: Pipe | None = None) -> None:
        """Tell every console watching that this case changed."""
        target = pipe if pipe is not None else self.redis
        target.publish(CONSOLE_CHANNEL, json.dumps({"type": "conversation.updated",
                                                    "id": case_id, "case_status": case_status}))

    def index_escalation(self, case: Case, pipe: Pipe | None = None) -> None:
        """Keep the set of escalated cases (by escalation time) in step with ``case``."""
        target = pipe if pipe is not None else self.redis
        key = key_for("desk", "escalated")
        if case.status == ESCALATED and case.handoff:
            at = datetime.fromisoformat(case.handoff["escalated_at"]).timestamp()
            target.zadd(key, {case.id: at})
        else:
            target.zrem(key, case.id)

    def escalated_case_ids(self) -> list[str]:
        """Escalated cases, newest escalation first."""
        return [c.decode() for c in self.redis.zrevrange(key_for("desk", "escalated"), 0, -1)]

    def record_claim_wait(self, seconds: float, pipe: Pipe | None = None) -> None:
        """Remember how long an escalation waited for a person (the last few, for ETAs)."""
        target = pipe if pipe is not None else self.redis
        key = key_for("desk", "claim_waits")
        target.lpush(key, round(seconds, 1))
        target.ltrim(key, 0, CLAIM_WAITS_KEPT - 1)

    def claim_waits(self) -> list[float]:
        return [float(x) for x in self.redis.lrange(key_for("desk", "claim_waits"), 0, -1)]

    def touch_staff(self, email: str) -> None:
        """Note that a staff member is at the console now (for "agents online")."""
        self.redis.zadd(key_for("desk", "seen"), {email: datetime.now(UTC).timestamp()})

    def staff_online(self, within_s: float) -> int:
        since = datetime.now(UTC).timestamp() - within_s
        return int(self.redis.zcount(key_for("desk", "seen"), since, "+inf"))

    def forget_staff_presence(self, email: str) -> None:
        self.redis.zrem(key_for("desk", "seen"), email)

    # -- linking Telegram chats --------------------------------------------
    def link_failures(self, chat: str) -> int:
        return int(self.redis.get(key_for("linkfail", tag=chat)) or 0)

    def add_link_failure(self, chat: str) -> int:
        """Count a failed attempt; the count forgets itself an hour after the first."""
        key = key_for("linkfail", tag=chat)
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(key, 0, ex=LINK_FAILURE_WINDOW_S, nx=True)  # the hour starts at the first
        pipe.incr(key)
        return int(pipe.execute()[1])

    def clear_link_failures(self, chat: str, pipe: Pipe | None = None) -> None:
        (pipe if pipe is not None else self.redis).delete(key_for("linkfail", tag=chat))

    # -- inbound hand-off --------------------------------------------------
    def claim_update(self, source: str, update_id: str) -> bool:
        """True the first time an update is seen; replays get False."""
        key = key_for("update", source, update_id)
        return bool(self.redis.set(key, 1, nx=True, ex=INBOUND_MEMORY_S))

    def release_update(self, source: str, update_id: str) -> None:
        self.redis.delete(key_for("update", source, update_id))

    def stash_inbound(self, key: str, payload: str) -> None:
        """Keep an inbound message for a worker (queue jobs carry keys, never bodies)."""
        self.redis.set(key_for("inbound", key), payload, ex=INBOUND_MEMORY_S)

    def stashed_inbound(self, key: str) -> str | None:
        raw = self.redis.get(key_for("inbound", key))
        return raw.decode() if raw else None

    def drop_inbound(self, key: str) -> None:
        self.redis.delete(key_for("inbound", key))

    def pace(self, channel: str, address: str, per_destination_ms: int, overall_ms: int,
             max_wait_s: float = 3600.0) -> float:
        """Reserve the next send slot; return the seconds to wait before sending.

        A slot more than ``max_wait_s`` away is not reserved: the answer (above
        ``max_wait_s``) is then how long until asking again is worthwhile.
        """
        keys = [key_for("pace", tag=self._conv_tag(channel, address)), key_for("pace", channel)]
        args = [per_destination_ms, overall_ms, int(max_wait_s * 1000)]
        return int(self._pace(keys=keys, args=args)) / 1000

    # -- events ------------------------------------------------------------
    def case_for_event(self, webhook_id: str) -> str | None:
        raw = self.redis.get(key_for("event", webhook_id))
        return raw.decode() if raw else None

    def remember_event(self, webhook_id: str, case_id: str, pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        target.set(key_for("event", webhook_id), case_id, ex=EVENT_MEMORY_S)

    @contextmanager
    def event_lock(self, webhook_id: str) -> Iterator[None]:
        with self._lock(key_for("event", webhook_id, "lock"), timeout=30):
            yield

    # -- conversations -----------------------------------------------------
    @staticmethod
    def _conv_tag(channel: str, address: str) -> str:
        return f"{channel}:{address}"

    def get_conversation(self, channel: str, address: str) -> Conversation:
        raw = self.redis.get(key_for("conv", tag=self._conv_tag(channel, address)))
        if raw:
            return Conversation.from_dict(json.loads(raw))
        return Conversation(channel=channel, address=address)

    def save_conversation(self, conv: Conversation, pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        target.set(key_for("conv", tag=self._conv_tag(conv.channel, conv.address)),
                   json.dumps(conv.to_dict()))

    @contextmanager
    def conversation_lock(self, channel: str, address: str,
                          wait_s: float = 10.0) -> Iterator[None]:
        """Hold the conversation's turn lock: one turn at a time, across processes."""
        key = key_for("conv", "lock", tag=self._conv_tag(channel, address))
        with self._lock(key, timeout=30, wait_s=wait_s):
            yield

    def load_turn(self, channel: str, address: str,
                  message_id: str) -> tuple[bool, Conversation, bool]:
        """In one round trip: was this message seen, the conversation, is the sender opted out."""
        tag = self._conv_tag(channel, address)
        pipe = self.redis.pipeline(transaction=False)
        pipe.exists(key_for("conv", "seen", message_id, tag=tag))
        pipe.get(key_for("conv", tag=tag))
        pipe.exists(key_for("optout", tag=tag), optout_hash_key(channel, address))
        seen, raw, opted_out = pipe.execute()
        conv = Conversation.from_dict(json.loads(raw)) if raw else \
            Conversation(channel=channel, address=address)
        return bool(seen), conv, bool(opted_out)

    def mark_inbound(self, channel: str, address: str, message_id: str,
                     pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        key = key_for("conv", "seen", message_id, tag=self._conv_tag(channel, address))
        target.set(key, 1, ex=INBOUND_MEMORY_S)

    # -- opt-out -----------------------------------------------------------
    def set_opted_out(self, channel: str, address: str, opted_out: bool,
                      pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        key = key_for("optout", tag=self._conv_tag(channel, address))
        if opted_out:
            target.set(key, now_iso())
        else:  # START: also the opt-out kept (hashed) after the customer was forgotten
            target.delete(key, optout_hash_key(channel, address))

    def is_opted_out(self, channel: str, address: str) -> bool:
        """Opted out on this channel: by STOP, the provider, or kept through an erasure."""
        return bool(self.redis.exists(key_for("optout", tag=self._conv_tag(channel, address)),
                                      optout_hash_key(channel, address)))

    # -- delivery capacity -------------------------------------------------
    @staticmethod
    def _capacity_key(window: Window) -> str:
        return key_for("capacity", window.start.isoformat(), window.end.isoformat())

    def reserve_window(self, window: Window, capacity: int) -> bool:
        """Atomically take one slot of ``window``; False when it is full."""
        ttl = max(int(window.end.timestamp() - datetime.now(UTC).timestamp()) + 86400 * 30, 60)
        return bool(self._reserve(keys=[self._capacity_key(window)], args=[capacity, ttl]))

    def window_load(self, window: Window) -> int:
        return int(self.redis.get(self._capacity_key(window)) or 0)

    def window_loads(self, windows: list[Window]) -> list[int]:
        """Slots taken in each window, in one round trip."""
        pipe = self.redis.pipeline(transaction=False)  # not MGET: keys live in many slots
        for window in windows:
            pipe.get(self._capacity_key(window))
        return [int(r or 0) for r in pipe.execute()]

    # -- helpers -----------------------------------------------------------
    @contextmanager
    def _lock(self, key: str, timeout: float, wait_s: float = 10.0) -> Iterator[None]:
        lock = self.redis.lock(key, timeout=timeout, blocking_timeout=wait_s)
        if not lock.acquire():
            # Not the key: it names the customer's number.
            raise BusyConversation(f"could not take the turn lock within {wait_s}s")
        try:
            yield
        finally:
            try:
                lock.release()
            except redis.exceptions.LockError:
                pass  # expired while held: the turn took > timeout; nothing left to release
