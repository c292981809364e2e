"""Fold case timeline entries into per-case facts, the one input of the insights.

The timeline is the source of truth. As each entry is appended, :func:`fold` turns it
into a few hash writes on the case's facts (``ds:insights:{<case>}``), in the same
pipeline as the entry itself, so figures never drift from timelines: set once
(``setnx``: when the case opened, was first escalated, first heard from a person),
overwrite (``set``: status, outcome) or count (``incr``: messages per channel).
Durations are worked out when read, from the times kept here.

Every fold also marks the case as changed (a version counter and a sorted set of case
ids by the version of their last change), so each web process's in-memory table
(:mod:`bot.insights`) reads only the cases changed since it last looked.
``doorstep insights rebuild`` folds whole timelines again, with the same function.

Facts hold no personal data: codes, times, counts, and the postal code.
"""

from __future__ import annotations

from typing import Any

from bot.models import Case
from bot.store_keys import key_for

# Both in one hash slot, as the marking script touches both (Redis Cluster).
VERSION_KEY = key_for("insights", "version", tag="insights")
CHANGED_KEY = key_for("insights", "changed", tag="insights")
CHANNELS = ("sms", "telegram", "web")
MESSAGE_COUNTS = ("queued", "sent", "delivered", "failed", "suppressed")
SHIPPER_OUTCOMES = frozenset({"delivered", "returned"})
_STATUS_KINDS = {"case.awaiting_customer": "awaiting_customer", "case.escalated": "escalated",
                 "case.resolved": "resolved", "case.expired": "expired",
                 "staff.handed_back": "awaiting_customer"}
_MESSAGE_KINDS = {"message.queued": "queued", "message.sent": "sent",
                  "message.failed": "failed", "message.suppressed": "suppressed"}

# Mark a case changed: one version number per change, so readers can ask "since v".
MARK_CHANGED = """
local v = redis.call('INCR', KEYS[1])
redis.call('ZADD', KEYS[2], v, ARGV[1])
return v
"""

Op = tuple[str, str, Any]  # ("setnx" | "set" | "incr", field, value)


def facts_key(case_id: str) -> str:
    """The hash of one case's facts (tagged like the case's own keys)."""
    return key_for("insights", tag=case_id)


def case_dimensions(case: Case) -> dict[str, Any]:
    """What the insights group a case by, for its ``case.opened`` entry."""
    address = case.shipment.get("address") or {}
    postal = str(address.get("postal_code") or "").strip().upper()
    return {"type": case.type, "carrier": case.carrier.strip().lower(), "reason": case.reason,
            "postal_code": postal or None}


def closed_by(data: dict[str, Any]) -> str:
    """Who closed a resolved case: ``staff``, the ``shipper`` (an event) or the ``customer``."""
    if data.get("resolved_by"):
        return "staff"
    if data.get("outcome") in SHIPPER_OUTCOMES:
        return "shipper"
    return "customer"


def fold(entry: dict[str, Any]) -> list[Op]:
    """The fact writes one timeline entry makes (none for most entries)."""
    kind, at = entry.get("kind"), entry.get("at")
    ops: list[Op] = []
    if kind == "case.opened":
        ops.append(("setnx", "opened", at))
        for name in ("type", "carrier", "reason", "postal_code"):
            if entry.get(name):
                ops.append(("setnx", name, str(entry[name])))
    elif kind == "event.received":
        ops.append(("incr", "events", 1))
    if kind in _STATUS_KINDS:
        ops.append(("set", "status", _STATUS_KINDS[kind]))
    if kind == "case.escalated":
        ops.append(("setnx", "escalated", at))
    elif kind in ("case.resolved", "case.expired"):
        ops += [("set", "closed", at), ("set", "outcome", str(entry.get("outcome") or
                                                             entry.get("reason") or "")),
                ("set", "closed_by", closed_by(entry) if kind == "case.resolved" else "expiry")]
    elif kind in _MESSAGE_KINDS:
        channel = entry.get("channel")
        if channel in CHANNELS:
            ops.append(("incr", f"{_MESSAGE_KINDS[kind]}:{channel}", 1))
            if kind == "message.queued":
                ops.append(("setnx", "channel", channel))
                if entry.get("author") == "staff":
                    ops.append(("setnx", "first_staff", at))
    elif kind == "message.status" and entry.get("status") == "delivered":
        ops.append(("incr", "delivered:sms", 1))  # only Twilio reports delivery
    elif kind == "customer.opted_out":
        ops.append(("setnx", "opted_out", at))
    elif kind == "windows.offered":
        ops.append(("setnx", "offered", ",".join(entry.get("windows") or ())))
    elif kind == "window.reserved":
        ops.append(("set", "booked", (entry.get("window") or {}).get("start", "")))
    elif kind == "window.full":
        ops.append(("incr", "full", 1))
    return ops


def apply_ops(pipe: Any, case_id: str, ops: list[Op]) -> None:
    """Queue ``ops`` on ``pipe`` (a Redis pipeline) for the case's facts hash."""
    key = facts_key(case_id)
    for op, name, value in ops:
        if op == "setnx":
            pipe.hsetnx(key, name, value)
        elif op == "set":
            pipe.hset(key, name, value)
        else:
            pipe.hincrby(key, name, value)
