"""SIGKILL the `doorstep worker` process again and again while it sends: nothing is lost.

The test process queues N texts through the real ``OutboundQueue.send`` (each with its own
body, so every copy the fake Twilio API accepts maps back to its outbound key), while a
``doorstep worker`` subprocess sends them. A replacement worker is started beside the
running one; once it is ready the old one gets SIGKILL, mid-send. Jobs the dead worker
held come back when its heartbeat is older than ``QUEUE_HEARTBEAT_MS``.

A copy sent twice is allowed only where the kill fell between Twilio's 201 and the
worker recording the SID (or with the request in flight): the outbound record then holds
the SID of a later copy and the earlier copy's SID was never recorded. Each such case is
counted and printed. Full run: ``pytest -m long -s tests/test_fault_worker_kill.py``.
"""

from __future__ import annotations

import random
import time
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

import pytest
from faults import WorkerProcess, app_env, wait_for

from bot.models import Outbound
from bot.settings import load_settings
from webhook_server import build

THREADS = 4
API_LATENCY_S = 0.3  # a busy Twilio API: the run outlasts several worker restarts


def _outbound(i: int) -> Outbound:
    return Outbound(key=f"fault:kill:{i}", channel="sms", to=f"+1555{7000000 + i:07d}",
                    text=f"Fault-run text {i}: your parcel is on its way.")


@pytest.fixture
def workers() -> Iterator[list[WorkerProcess]]:
    """Worker processes a test starts; every one is SIGKILLed at teardown, pass or fail."""
    started: list[WorkerProcess] = []
    yield started
    for worker in started:
        worker.kill()


def _unsent(store, keys: list[str]) -> list[str]:  # noqa: ANN001
    return [k for k, r in zip(keys, store.outbound_records(keys), strict=True)
            if not r.get("provider_id")]


@pytest.mark.timeout(600)
@pytest.mark.parametrize("n", [pytest.param(200, id="short"),
                               pytest.param(1000, id="full", marks=pytest.mark.long)])
def test_worker_sigkill_delivers_every_send_duplicates_only_between_201_and_record(
        n: int, redis_client, redis_url, twilio_api, shipper, workers: list[WorkerProcess],
        tmp_path: Path) -> None:
    env = app_env(redis_url, twilio_api, shipper, tmp_path / "data",
                  QUEUE_WORKER_THREADS=str(THREADS), QUEUE_HEARTBEAT_MS="2500",
                  # Every broker command may requeue a dead worker's jobs: no waiting on luck.
                  QUEUE_MAINTENANCE_CHANCE="1000000", OUTBOUND_MIN_BACKOFF_MS="100")
    runtime = build(load_settings(env, read_dotenv=False))  # enqueues only: no workers here
    twilio_api.slow_down(API_LATENCY_S)
    kills = 0
    began = time.monotonic()
    try:
        workers.append(WorkerProcess(env, tmp_path / "worker-0.log"))
        outbounds = [_outbound(i) for i in range(n)]
        for outbound in outbounds:
            runtime.queue.send([outbound])
        keys = [o.key for o in outbounds]
        deadline = time.monotonic() + 60 + n * 0.3
        unsent = keys
        while unsent and time.monotonic() < deadline:
            current = workers[-1]
            wait_for(current.ready, 60, "a worker to start")
            # Its successor starts now; when ready, the current one dies mid-send.
            successor = WorkerProcess(env, tmp_path / f"worker-{len(workers)}.log")
            workers.append(successor)
            min_life = time.monotonic() + random.uniform(1.5, 3.0)
            while time.monotonic() < deadline:
                unsent = _unsent(runtime.store, keys)
                if not unsent or (successor.ready() and time.monotonic() >= min_life):
                    break
                time.sleep(0.05)
            if unsent:
                current.kill()
                kills += 1
        assert not unsent, f"{len(unsent)} of {n} never sent after {kills} kills: {unsent[:5]}"
        elapsed = time.monotonic() - began
    finally:
        for worker in workers:
            worker.kill()  # before reading the outcome: no send may land after it
        runtime.close()

    by_body: dict[str, list[str]] = defaultdict(list)
    for message in twilio_api.messages:
        by_body[message["body"]].append(message["sid"])
    expected = {o.text: o.key for o in outbounds}
    assert set(by_body) == set(expected), "the fake Twilio API got texts nobody queued"
    store = runtime.store
    duplicates, explained = 0, 0
    for body, sids in by_body.items():
        recorded = store.outbound_record(expected[body])["provider_id"]
        assert recorded in sids, f"{expected[body]} records {recorded}, not one Twilio issued"
        if len(sids) == 1:
            continue
        duplicates += len(sids) - 1
        # The allowed kind: every other copy was accepted but its SID never recorded.
        others = [s for s in sids if s != recorded]
        if all(store.key_for_provider_id(s) is None for s in others):
            explained += len(others)
    print(f"\n{n} sends, {kills} worker SIGKILLs, {len(by_body)} delivered, {duplicates} "
          f"duplicates ({explained} kill-between-201-and-record), {elapsed:.0f}s")
    assert len(by_body) == n
    assert explained == duplicates, "a duplicate whose SID was recorded: two workers sent it"
    assert duplicates <= kills * THREADS
