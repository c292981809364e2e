"""What happened in one synthetic case, as the timeline entries the live code writes.

:class:`Story` plays a case through as the engine, the outbound queue, the support desk
and the callback worker would: each *turn* writes its entries, then ``message.queued``
per reply and ``callback.queued`` per callback (the order of ``Engine.commit``); the
queue's ``message.sent`` / ``message.status`` / ``message.failed`` follow a few seconds
later, as a worker's would. Times are seconds after the case opened. Pure: no I/O; the
seeder (:mod:`bot.demo_seed`) writes the entries through ``Store.append_timeline``.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

# Outcomes per flow: (name, weight). Weights are percentages of that flow's cases.
PLOTS: dict[str, tuple[tuple[str, int], ...]] = {
    "reschedule": (("book_first", 52), ("book_other", 11), ("book_after_full", 4),
                   ("expire", 13), ("escalate", 8), ("shipper_delivered", 5),
                   ("opt_out", 3), ("unreachable", 2), ("handed_back", 2)),
    "address": (("address_changed", 55), ("pickup", 9), ("escalate", 16), ("expire", 13),
                ("shipper_returned", 3), ("opt_out", 2), ("unreachable", 2)),
    "damage": (("damage_reported", 58), ("escalate", 30), ("expire", 10), ("opt_out", 2)),
    "delay": (("delay_accepted", 50), ("switch_reschedule", 8), ("shipper_delivered", 18),
              ("expire", 16), ("escalate", 5), ("opt_out", 3)),
    "missing": (("missing_escalated", 68), ("shipper_delivered", 14), ("shipper_returned", 4),
                ("expire", 12), ("opt_out", 2)),
}
ESCALATION_REASONS = {
    "reschedule": ("customer asked for a person", "angry customer",
                   "bot did not understand twice", "no delivery windows to offer"),
    "address": ("address not understood", "address outside service area",
                "customer asked for a person"),
    "damage": ("claim above the value limit", "danger reported", "customer asked for a person"),
    "delay": ("customer asked for a person", "urgent request", "customer not understood"),
    "missing": ("parcel missing",),
}
STAFF_CODES = {
    "reschedule": ("redelivery_scheduled", "redelivery_scheduled", "no_action_needed",
                   "customer_unreachable"),
    "address": ("address_corrected", "address_corrected", "redelivery_scheduled"),
    "damage": ("replacement_sent", "refund_issued", "claim_opened"),
    "delay": ("redelivery_scheduled", "no_action_needed"),
    "missing": ("parcel_located", "claim_opened", "refund_issued", "replacement_sent"),
}
FIRST_TEXT = {
    "reschedule": "Hi {name}, {carrier} couldn't deliver {parcel} today: {why}. "
                  "Pick a new delivery time:",
    "address": "Hi {name}, {carrier} couldn't find the address for {parcel}. Please reply "
               "with the full street address (and apartment, if any).",
    "damage": "Hi {name}, {parcel} from {carrier} was damaged on the way. Could you send "
              "a photo of the box and the item?",
    "delay": "Hi {name}, {parcel} from {carrier} is delayed: new estimate {eta}. Is that OK?",
    "missing": "Hi {name}, {carrier} shows {parcel} as delivered, but it may have gone to "
               "the wrong place. Did you check with neighbours and around the door?",
}
WHY = {"no_one_home": "nobody was home", "access_problem": "we couldn't get access",
       "business_closed": "the business was closed"}
FAILED_SMS = (("30003", "Unreachable destination handset"), ("30005", "Unknown destination"),
              ("30006", "Landline or unreachable carrier"))
SLOTS = ((8, 12), (12, 17), (17, 21))


@dataclass
class Story:
    """One case's timeline in the making: ``entries`` as (seconds, kind, data)."""

    rng: random.Random
    case_id: str
    flow: str
    channel: str  # "sms" or "telegram"
    opened: datetime  # in the case's timezone
    texts: dict[str, str]  # name, carrier, parcel, why, eta for the canned texts
    staff: tuple[str, str]  # (email, name) of the agent who takes it, if escalated
    webhook_id: str
    t: float = 0.0
    entries: list[tuple[float, str, dict[str, Any]]] = field(default_factory=list)
    status: str = "resolved"
    resolution: dict[str, Any] = field(default_factory=dict)
    handoff: dict[str, Any] | None = None

    # -- writing ---------------------------------------------------------------
    def wait(self, low: float, high: float) -> None:
        self.t += self.rng.uniform(low, high)

    def turn(self, key_base: str, entries: list[tuple[str, dict[str, Any]]],
             replies: Sequence[tuple[str, list[str]]] = (), author: str = "bot",
             callbacks: tuple[str, ...] = (), staff: bool = False,
             fail: bool = False) -> None:
        """One commit: its entries, a ``message.queued`` per reply, a
        ``callback.queued`` per callback; then what the workers record."""
        t = self.t
        self.entries += [(t, kind, data) for kind, data in entries]
        keys = []
        for i, (text, choices) in enumerate(replies):
            key = f"{key_base}:{i}"
            keys.append(key)
            data: dict[str, Any] = {"key": key, "channel": self.channel, "text": text,
                                    "choices": choices, "author": author}
            if staff:
                data.update(staff=self.staff[0], staff_name=self.staff[1])
            self.entries.append((t, "message.queued", data))
        self.entries += [(t, "callback.queued", {"type": c}) for c in callbacks]
        later = t
        for key in keys:
            later += self.rng.uniform(0.3, 2.5)
            if fail:
                code, reason = self.rng.choice(FAILED_SMS)
                self.entries.append((later, "message.failed", {
                    "key": key, "error_code": code, "reason": reason, "channel": self.channel}))
                continue
            self.entries.append((later, "message.sent", {
                "key": key, "provider_id": self._provider_id(), "channel": self.channel}))
            if self.channel == "sms" and self.rng.random() < 0.97:
                self.entries.append((later + self.rng.uniform(2, 15), "message.status", {
                    "key": key, "status": "delivered", "error_code": None}))
        for c in callbacks:
            later += self.rng.uniform(0.2, 1.5)
            self.entries.append((later, "callback.delivered", {"type": c, "status": 204}))
        self.t = max(self.t, later)

    def customer(self, text: str, intent: str, entities: Sequence[dict[str, Any]] = (),
                 attachments: int = 0) -> tuple[str, list[tuple[str, dict[str, Any]]]]:
        """A customer's message: the turn's key base and its first entries."""
        message_id = f"SM{self.rng.getrandbits(128):032x}" if self.channel == "sms" \
            else str(self.rng.randrange(1000, 99999))
        return f"{self.channel}:{message_id}", [
            ("message.in", {"channel": self.channel, "message_id": message_id, "text": text,
                            "attachments": attachments}),
            ("nlu", {"intent": intent, "confidence": round(self.rng.uniform(0.72, 0.99), 3),
                     "entities": list(entities)})]

    def _provider_id(self) -> str:
        if self.channel == "sms":
            return f"SM{self.rng.getrandbits(128):032x}"
        return f"tg:{self.rng.randrange(10**9, 10**10)}:{self.rng.randrange(10, 9999)}"

    def close(self, kind: str, data: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        self.status = "resolved" if kind == "case.resolved" else "expired"
        self.resolution = dict(data)
        return kind, data

    # -- the windows a reschedule offers -------------------------------------------
    def windows(self, count: int) -> list[dict[str, str]]:
        """``count`` business windows from the day after the case opened (no Sundays)."""
        found: list[dict[str, str]] = []
        day = self.opened.date()
        while len(found) < count:
            day += timedelta(days=1)
            if day.weekday() == 6:
                continue
            for start, end in SLOTS:
                zone = self.opened.tzinfo
                found.append({"start": datetime(day.year, day.month, day.day, start,
                                                tzinfo=zone).isoformat(),
                              "end": datetime(day.year, day.month, day.day, end,
                                              tzinfo=zone).isoformat()})
        return found[:count]
