"""What Doorstep sent: outbound message records, provider ids, callback outcomes, the
dead-letter list and the shipper-callback switch. Part of :class:`bot.store.Store`."""

from __future__ import annotations

import json
import time
from typing import Any

import redis

from bot.store_keys import Pipe, key_for, now_iso

RECORD_TTL_S = 90 * 86400
DEAD_LETTERS_KEPT = 5000
CALLBACK_PAYLOAD_TTL_S = 6 * 86400  # longer than the ~3-day retry schedule
SEND_ORDER_TTL_S = 7 * 86400
# A send job parks itself while an earlier one to its destination is unfinished...
_PARK = """
local done = tonumber(redis.call('hget', KEYS[1], 'done') or '0')
if done >= tonumber(ARGV[1]) - 1 then return 0 end
redis.call('hset', KEYS[1], 'parked:' .. ARGV[1], ARGV[2])
redis.call('expire', KEYS[1], ARGV[3])
return 1
"""
# ...and the one that finishes raises "done" (never lowers it) and reads the next one.
_DONE = """
local done = tonumber(redis.call('hget', KEYS[1], 'done') or '0')
if done < tonumber(ARGV[1]) then
  done = tonumber(ARGV[1])
  redis.call('hset', KEYS[1], 'done', done)
end
redis.call('expire', KEYS[1], ARGV[2])
local parked = 'parked:' .. (done + 1)
return redis.call('hget', KEYS[1], parked)
"""


def send_order_key(channel: str, address: str) -> str:
    """Where one destination's send jobs are numbered; in the conversation's slot."""
    return key_for("sendorder", tag=f"{channel}:{address}")


class OutboundRecords:
    """Records of messages and callbacks; mixed into ``Store`` (which owns ``redis``)."""

    redis: redis.Redis

    # -- outbound messages -------------------------------------------------
    def outbound_record(self, key: str) -> dict[str, str]:
        raw = self.redis.hgetall(key_for("out", key))
        return {k.decode(): v.decode() for k, v in raw.items()}

    def outbound_records(self, keys: list[str]) -> list[dict[str, str]]:
        """Several outbound records in one round trip."""
        pipe = self.redis.pipeline(transaction=False)
        for key in keys:
            pipe.hgetall(key_for("out", key))
        return [{k.decode(): v.decode() for k, v in raw.items()} for raw in pipe.execute()]

    def update_outbound(self, key: str, pipe: Pipe | None = None, **fields: str) -> None:
        target = pipe if pipe is not None else self.redis
        target.hset(key_for("out", key), mapping=fields)
        target.expire(key_for("out", key), RECORD_TTL_S)

    # -- per-destination order -------------------------------------------
    def number_send(self, channel: str, address: str, pipe: Pipe) -> None:
        """Queue the next number for a send job to this destination (read it from the
        pipeline's result): jobs are sent in the order they were numbered."""
        key = send_order_key(channel, address)
        pipe.hincrby(key, "queued", 1)
        pipe.expire(key, SEND_ORDER_TTL_S)

    def park_send(self, channel: str, address: str, number: int, payload: str) -> bool:
        """Park job ``number`` if an earlier job to this destination is unfinished (True);
        False: it may go now. Atomic with :meth:`finish_send`: no wake-up is missed."""
        return bool(self.redis.eval(_PARK, 1, send_order_key(channel, address), number,
                                    payload, SEND_ORDER_TTL_S))

    def finish_send(self, channel: str, address: str, number: int) -> str | None:
        """Job ``number`` is finished (sent or given up); the payload of the next job if it
        is parked: the caller queues it, then :meth:`unpark_send` s it."""
        raw = self.redis.eval(_DONE, 1, send_order_key(channel, address), number,
                              SEND_ORDER_TTL_S)
        return raw.decode() if raw else None

    def unpark_send(self, channel: str, address: str, number: int) -> bool:
        """Take job ``number`` out of the parked ones; False if someone already did."""
        return bool(self.redis.hdel(send_order_key(channel, address), f"parked:{number}"))

    def link_provider_id(self, provider_id: str, key: str, pipe: Pipe | None = None) -> None:
        target = pipe if pipe is not None else self.redis
        target.set(key_for("provider", provider_id), key, ex=RECORD_TTL_S)

    def key_for_provider_id(self, provider_id: str) -> str | None:
        raw = self.redis.get(key_for("provider", provider_id))
        return raw.decode() if raw else None

    # -- callbacks ---------------------------------------------------------
    def callback_outcome(self, key: str) -> str | None:
        """How the callback with this idempotency key ended, or None while it is pending."""
        raw = self.redis.get(key_for("callback", key))
        return raw.decode() if raw else None

    def set_callback_outcome(self, key: str, outcome: str, case_id: str | None = None) -> None:
        """Settle a callback; its stashed payload is no longer needed."""
        pipe = self.redis.pipeline(transaction=True)
        pipe.set(key_for("callback", key), outcome, ex=30 * 86400)
        if case_id:
            pipe.hdel(key_for("callback", "payloads", tag=case_id), key)
        pipe.execute()

    def stash_callback(self, case_id: str, key: str, payload: dict[str, Any]) -> None:
        """Keep a queued callback's payload beside its case (queue jobs carry keys only)."""
        target = key_for("callback", "payloads", tag=case_id)
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(target, key, json.dumps(payload))
        pipe.expire(target, CALLBACK_PAYLOAD_TTL_S)
        pipe.execute()

    def stashed_callback(self, case_id: str, key: str) -> dict[str, Any] | None:
        raw = self.redis.hget(key_for("callback", "payloads", tag=case_id), key)
        return json.loads(raw) if raw else None

    def clear_callback_outcome(self, key: str) -> None:
        self.redis.delete(key_for("callback", key))

    def callbacks_disabled(self) -> dict[str, Any] | None:
        """Why shipper callbacks are switched off (the endpoint answered 410), or None."""
        raw = self.redis.get(key_for("callbacks", "disabled"))
        return json.loads(raw) if raw else None

    def disable_callbacks(self, why: dict[str, Any]) -> bool:
        """Switch callbacks off; False if they already were (the first reason stays)."""
        return bool(self.redis.set(key_for("callbacks", "disabled"),
                                   json.dumps({**why, "at": now_iso()}), nx=True))

    def enable_callbacks(self) -> bool:
        return bool(self.redis.delete(key_for("callbacks", "disabled")))

    # -- dead letters ------------------------------------------------------
    def add_dead_letter(self, entry: dict[str, Any]) -> None:
        """Record a message or callback that finally failed (``entry["id"]`` names it)."""
        entry = {**entry, "failed_at": now_iso()}
        pipe = self.redis.pipeline(transaction=True)
        pipe.hset(key_for("deadletter"), entry["id"], json.dumps(entry))
        pipe.zadd(key_for("deadletter", "order"), {entry["id"]: time.time()})
        pipe.execute()
        # Bound the list: the oldest beyond the limit are dropped (they stay in the timeline).
        extra = self.redis.zcard(key_for("deadletter", "order")) - DEAD_LETTERS_KEPT
        if extra > 0:
            oldest = [i.decode() for i in
                      self.redis.zrange(key_for("deadletter", "order"), 0, extra - 1)]
            self.remove_dead_letters(oldest)

    def dead_letters(self, limit: int = 500) -> list[dict[str, Any]]:
        """The most recent dead letters first."""
        ids = self.redis.zrevrange(key_for("deadletter", "order"), 0, limit - 1)
        if not ids:
            return []
        raws = self.redis.hmget(key_for("deadletter"), ids)
        return [json.loads(r) for r in raws if r]

    def dead_letter_count(self) -> int:
        return int(self.redis.zcard(key_for("deadletter", "order")))

    def dead_letter(self, item_id: str) -> dict[str, Any] | None:
        raw = self.redis.hget(key_for("deadletter"), item_id)
        return json.loads(raw) if raw else None

    def remove_dead_letters(self, item_ids: list[str]) -> int:
        if not item_ids:
            return 0
        pipe = self.redis.pipeline(transaction=True)
        pipe.hdel(key_for("deadletter"), *item_ids)
        pipe.zrem(key_for("deadletter", "order"), *item_ids)
        return int(pipe.execute()[0])

    # -- the sandbox outbox ------------------------------------------------
    def push_outbox(self, message: dict[str, Any]) -> None:
        """Keep a message in the sandbox outbox (no provider configured)."""
        self.redis.rpush(key_for("outbox"), json.dumps(message))

    def outbox(self, to: str | None = None) -> list[dict[str, Any]]:
        items = [json.loads(r) for r in self.redis.lrange(key_for("outbox"), 0, -1)]
        return [m for m in items if to is None or m["to"] == to]

