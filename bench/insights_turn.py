"""What recording a case's events adds to a turn: the real ``Engine.commit`` of a typical
turn with the insights fold on, and with ``fold`` patched to return nothing."""

from __future__ import annotations

import statistics
import tempfile
import time
from typing import Any

from bot.engine import Engine, Turn
from bot.models import Case, Conversation, Outbound, Reply
from bot.settings import generated_secret, load_settings
from bot.store import Store

WINDOW = {"start": "2026-11-25T12:00:00-05:00", "end": "2026-11-25T17:00:00-05:00"}


class _NoDispatch:
    """A dispatcher that queues nothing (the queue's cost is not the fold's)."""

    def send(self, outbounds: list[Outbound]) -> float | None:
        return None

    def callback(self, key: str, case_id: str, type: str, data: dict[str, Any]) -> None:  # noqa: A002
        pass

    def check_idle(self, *args: Any) -> None:
        pass

    def check_overdue(self, *args: Any) -> None:
        pass


def _turn(i: int) -> tuple[Turn, str]:
    case = Case(id=f"cs_bench{i:08d}", type="delivery.failed", status="resolved",
                tracking_number=f"1ZBENCH{i:08d}", carrier="ups", order_ref=None,
                recipient_name="Test Person", phone="+12125550100", telegram_chat_id=None,
                language="en", timezone="America/New_York", reason="no_one_home",
                details={"reason": "no_one_home"},
                shipment={"address": {"postal_code": "10001"}},
                created_at="2026-11-24T15:00:00.000+00:00",
                updated_at="2026-11-24T15:05:00.000+00:00", resolution={"outcome": "rescheduled"})
    conv = Conversation("sms", f"+1212555{i % 10000:04d}", case_id=case.id, flow="reschedule")
    message_id = f"SMbench{i:010d}"
    timeline = [
        ("message.in", {"channel": "sms", "message_id": message_id, "text": "yes",
                        "attachments": 0}),
        ("nlu", {"intent": "affirm", "confidence": 0.97, "entities": []}),
        ("window.reserved", {"window": WINDOW}),
        ("case.resolved", {"outcome": "rescheduled", "window": WINDOW})]
    turn = Turn(case=case, conv=conv, timeline=timeline,
                replies=[Reply("Booked: your parcel will arrive Wed Nov 25, 12:00-17:00."),
                         Reply("Thank you!")],
                callbacks=[("case.rescheduled", {"window": WINDOW})], closed=True)
    return turn, message_id


def recording_cost(store: Store, turns: int = 3000, block: int = 100) -> dict[str, float]:
    """Per-turn commit times (ms) with and without the fold, in alternating blocks."""
    import bot.store as store_module

    with tempfile.TemporaryDirectory() as tmp:
        settings = load_settings({"DOORSTEP_DATA_DIR": tmp, "QUIET_HOURS": "off",
                                  "EVENTS_WEBHOOK_SECRET": generated_secret()},
                                 read_dotenv=False)
    engine = Engine(store, None, _NoDispatch(), settings)  # type: ignore[arg-type]
    real_fold = store_module.fold
    times: dict[bool, list[float]] = {True: [], False: []}
    i = 0
    for n in range(turns // block + 2):  # two warm-up blocks, not counted
        on = n % 2 == 0
        store_module.fold = real_fold if on else (lambda entry: [])  # type: ignore[assignment]
        try:
            for _ in range(block):
                turn, message_id = _turn(i)
                i += 1
                t0 = time.perf_counter()
                engine.commit(turn, key_base=f"sms:{message_id}", proactive=False,
                              mark=("sms", turn.conv.address, message_id))
                if n >= 2:
                    times[on].append((time.perf_counter() - t0) * 1000)
        finally:
            store_module.fold = real_fold

    def p99(values: list[float]) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, int(round(0.99 * (len(ordered) - 1))))]
    on_median, off_median = statistics.median(times[True]), statistics.median(times[False])
    return {"on_median": on_median, "off_median": off_median, "on_p99": p99(times[True]),
            "off_p99": p99(times[False]), "median": on_median - off_median,
            "p99": p99(times[True]) - p99(times[False])}
