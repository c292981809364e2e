"""Outages at the other end: Twilio failing, the shipper down or gone.

* The fake Twilio API answers 500, then 429 (error 20429) for a while, then recovers:
  every text is delivered once, and the gaps between one text's attempts follow
  Dramatiq's backoff (``compute_backoff``: retry r waits ``OUTBOUND_MIN_BACKOFF_MS * 2**r``
  times a jitter in [1, 2)).
* The shipper's endpoint refuses connections, then answers 503, then 503 with
  ``Retry-After``, then 200: every callback is delivered once (one 2xx per webhook-id),
  no retry comes sooner than ``CALLBACK_RETRY_SCHEDULE`` or the ``Retry-After`` says.
* The shipper answers 410 Gone: callbacks are disabled and reported, later ones are
  held in the dead-letter list and never posted, until a supervisor enables them again.

Full run: ``pytest -m long -s tests/test_fault_outage.py``.
"""

from __future__ import annotations

import logging
import time
from collections import defaultdict
from itertools import pairwise

import pytest
from console_api_support import staff_api
from faults import Door, shipper_app, wait_for

from bot.models import Outbound
from support import free_port

MIN_BACKOFF_MS = 200
CALLBACK_SCHEDULE_S = (1, 2, 2, 2, 2, 2, 2, 2, 2, 2)  # non-decreasing: see the gap check
RETRY_AFTER_S = 4  # longer than any schedule entry, so honouring it shows
SLACK_S = 1.0  # scheduling latency allowed on top of 5x a bound (never a tighter ceiling)


def _text(i: int) -> Outbound:
    return Outbound(key=f"fault:outage:{i}", channel="sms", to=f"+1555{6000000 + i:07d}",
                    text=f"Outage-run text {i}: your parcel is on its way.")


@pytest.mark.timeout(180)
@pytest.mark.parametrize("n", [pytest.param(20, id="short"),
                               pytest.param(200, id="full", marks=pytest.mark.long)])
def test_twilio_500_then_429_outage_delivers_each_text_once_backing_off_per_schedule(
        n: int, make_system) -> None:
    system = make_system(OUTBOUND_MIN_BACKOFF_MS=str(MIN_BACKOFF_MS), OUTBOUND_MAX_RETRIES="12")
    twilio, store = system.twilio, system.runtime.store
    twilio.fail_next(n, status=500)  # about one 500 each
    twilio.fail_for(2.5, status=429, code=20429)  # then Too Many Requests for a while
    texts = [_text(i) for i in range(n)]
    for text in texts:
        system.runtime.queue.send([text])
    wait_for(lambda: all(r.get("provider_id") for r in
                         store.outbound_records([t.key for t in texts])),
             60 + n * 0.2, f"all {n} texts to be sent")
    system.drain()

    attempts: dict[str, list[tuple[float, int]]] = defaultdict(list)
    for request in twilio.requests_log:
        attempts[request["body"]].append((request["at"], request["status"]))
    accepted: dict[str, list[str]] = defaultdict(list)
    for message in twilio.messages:
        accepted[message["body"]].append(message["sid"])
    gaps: dict[int, list[float]] = defaultdict(list)  # retry number -> gaps seen (s)
    for text in texts:
        assert accepted[text.text] == [store.outbound_record(text.key)["provider_id"]], \
            f"{text.key} not delivered exactly once"
        tries = sorted(attempts[text.text])
        assert [s for _, s in tries][-1] == 201 and all(s in (500, 429) for _, s in tries[:-1])
        for retry, ((at, _), (next_at, _)) in enumerate(pairwise(tries)):
            low = MIN_BACKOFF_MS * 2 ** retry / 1000
            gap = next_at - at
            # No ceiling: above the backoff a gap also holds the wait behind other texts.
            assert gap >= low, f"{text.key}: retry {retry} came after {gap:.3f}s < {low}s"
            gaps[retry].append(gap)
    statuses = [r["status"] for r in twilio.requests_log]
    spread = ", ".join(f"retry {r}: {min(g) * 1000:.0f}-{max(g) * 1000:.0f}ms (schedule "
                       f"{MIN_BACKOFF_MS * 2 ** r}-{MIN_BACKOFF_MS * 2 ** (r + 1)})"
                       for r, g in sorted(gaps.items()))
    print(f"\n{n} texts through {statuses.count(500)}x500 and {statuses.count(429)}x429: "
          f"{len(accepted)} delivered once each in {len(statuses)} attempts; gaps {spread}")
    assert len(accepted) == n and max(gaps) >= 2  # the outage outlasted several retries


@pytest.mark.timeout(180)
@pytest.mark.parametrize("n", [pytest.param(10, id="short"),
                               pytest.param(100, id="full", marks=pytest.mark.long)])
def test_shipper_refused_then_503_then_200_delivers_each_callback_once_after_schedule(
        n: int, make_system, shipper, caplog: pytest.LogCaptureFixture) -> None:
    door = Door(shipper_app(shipper), free_port())  # closed: connection refused
    system = make_system(SHIPPER_WEBHOOK_URL=f"http://127.0.0.1:{door.port}/callbacks",
                         CALLBACK_RETRY_SCHEDULE=",".join(f"{s}s" for s in CALLBACK_SCHEDULE_S))
    store, queue = system.runtime.store, system.runtime.queue
    caplog.set_level(logging.WARNING)
    keys = [f"fault:callback:{i}" for i in range(n)]
    try:
        for i, key in enumerate(keys):
            queue.callback(key, f"cs_outage{i}", "case.rescheduled",
                           {"case_id": f"cs_outage{i}", "tracking_number": f"1ZOUTAGE{i}"})
        time.sleep(2.5)  # refused: first attempts and first retries fail
        shipper.down(503)
        door.open()
        time.sleep(3.0)  # up, but answering 503
        shipper.respond_with(503, n=n, retry_after=RETRY_AFTER_S)
        shipper.up()
        wait_for(lambda: all(store.callback_outcome(k) for k in keys), 60 + n * 0.2,
                 f"all {n} callbacks to be delivered")
        system.drain()
    finally:
        door.close()

    refused = sum("ConnectionError" in r.getMessage() for r in caplog.records)
    by_id: dict[str, list[dict]] = defaultdict(list)
    for delivery in shipper.callbacks:
        by_id[delivery["id"]].append(delivery)
    assert sorted(by_id) == sorted(keys) and shipper.rejected == []
    honoured = 0
    for key, tries in by_id.items():
        tries.sort(key=lambda d: d["at"])
        assert [d["status"] for d in tries].count(200) == 1 and tries[-1]["status"] == 200, \
            f"{key} not delivered exactly once: {[d['status'] for d in tries]}"
        assert store.callback_outcome(key) == "200"
        # Observed attempt j is at least attempt j + 1 (the refused ones went unseen) and
        # the schedule never shrinks, so schedule[j] bounds the gap after it from below.
        for j, (this, after) in enumerate(pairwise(tries)):
            low = float(CALLBACK_SCHEDULE_S[j])
            if this["retry_after"] is not None:
                low = max(low, float(this["retry_after"]))
                honoured += 1
            gap = after["at"] - this["at"]
            assert gap >= low, f"{key}: attempt {j + 1} came {gap:.2f}s after, < {low}s"
            ceiling = 5 * max(low, max(CALLBACK_SCHEDULE_S)) * 1.1 + SLACK_S
            assert gap <= ceiling, f"{key}: attempt {j + 1} came {gap:.1f}s after"
    seen = sum(len(t) for t in by_id.values())
    print(f"\n{n} callbacks: {refused} attempts refused, {seen - n} answered 503 "
          f"({honoured} with Retry-After {RETRY_AFTER_S}s, each honoured), {n} delivered "
          f"once each (unique webhook-ids {len(by_id)})")
    assert refused >= n and honoured >= 1
    assert store.dead_letters() == []


@pytest.mark.timeout(120)
def test_shipper_410_disables_callbacks_holds_later_ones_until_a_supervisor_enables(
        make_system, shipper, caplog: pytest.LogCaptureFixture) -> None:
    system = make_system()
    store, queue = system.runtime.store, system.runtime.queue
    caplog.set_level(logging.WARNING)
    shipper.respond_with(410)
    queue.callback("fault:gone:0", "cs_gone0", "case.rescheduled", {"case_id": "cs_gone0"})
    disabled = wait_for(store.callbacks_disabled, 10, "callbacks to be disabled")
    assert disabled["status"] == 410 and disabled["at"]
    for i in (1, 2, 3):
        queue.callback(f"fault:gone:{i}", f"cs_gone{i}", "case.expired", {"case_id": f"cs_gone{i}"})
    letters = wait_for(lambda: len(store.dead_letters()) == 4 and store.dead_letters(), 10,
                       "the 410'd callback and three held ones in the dead letters")
    system.drain()
    assert len(shipper.callbacks) == 1, "a callback was posted after the 410"
    assert {(d["kind"], d["case_id"]) for d in letters} == \
        {("callback", f"cs_gone{i}") for i in range(4)}
    assert all(d["id"] and d["reason"] for d in letters)
    assert "callback.gone" in system.timeline_kinds("cs_gone0")
    reported = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any("410" in m and "disabled" in m for m in reported), reported

    supervisor = staff_api(system, "sup@example.test", role="supervisor")
    resp = supervisor.post("/api/callbacks/enable")
    assert resp.status_code == 200, resp.text
    assert resp.json()["enabled"] is True
    delivered = shipper.wait_for_callbacks(5, timeout=15)
    assert sorted(d["id"] for d in delivered[1:]) == [f"fault:gone:{i}" for i in range(4)]
    assert all(d["status"] == 200 for d in delivered[1:])
    wait_for(lambda: not store.dead_letters(), 10, "the dead letters to clear")
    assert store.callbacks_disabled() is None
    print(f"\n410 Gone: callbacks disabled, {len(letters) - 1} later callbacks held (0 posted) "
          f"and reported; after a supervisor enabled them all {len(delivered) - 1} delivered")
