"""``python -m bench load``: Doorstep under load, beside a baseline, in one run (issue 8).

Starts Redis, a lean fake Twilio (:mod:`bench.load_fakes`), Doorstep under gunicorn
(``-c gunicorn.conf.py``, app ``webhook_server:create_app()``) with ``doorstep worker``
queue processes, and the baseline app (:mod:`bench.baseline_app`) under the same gunicorn
settings. A separate load process (:mod:`bench.load_driver`) drives both over loopback.
Between steps the bench waits until the queue has sent everything (not timed), so one
step's backlog does not slow the next. Prints a table (:mod:`bench.load_table`).

Logs of every process go to a temporary directory, removed at the end unless
``BENCH_KEEP_WORKDIR=1``.
"""

from __future__ import annotations

import argparse
import math
import multiprocessing
import os
import secrets
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import redis
import requests

from bench import load_table
from bench.load_driver import EVENTS_SIGNED_PER_SECOND, TEXTS, sms_turn
from bench.load_procs import Processes, cpu_seconds, rss_mb
from bot.queue import CALLBACK_QUEUE, IDLE_QUEUE, INBOUND_QUEUE, NEXT_QUEUE, OUTBOUND_QUEUE

# Where a job that is yet to send something waits: due now, or delayed for a retry. Not
# the idle queue (reminder checks wait hours) nor outbound_next's delayed jobs (each parked
# send leaves a watchdog there for ORDER_PATIENCE_S; the send itself is queued when the
# job before it finishes).
BUSY_QUEUES = [OUTBOUND_QUEUE, NEXT_QUEUE, INBOUND_QUEUE, CALLBACK_QUEUE,
               f"{OUTBOUND_QUEUE}.DQ", f"{INBOUND_QUEUE}.DQ", f"{CALLBACK_QUEUE}.DQ"]
ALL_QUEUES = [OUTBOUND_QUEUE, NEXT_QUEUE, INBOUND_QUEUE, CALLBACK_QUEUE, IDLE_QUEUE]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``load`` subcommand's options."""
    add = parser.add_argument
    add("--web-workers", type=int, default=2, help="gunicorn workers [2]")
    add("--worker-class", choices=("gthread", "sync"), default="gthread",
        help="gunicorn worker class [gthread]")
    add("--threads", type=int, default=4, help="threads per gthread worker [4]")
    add("--queue-workers", type=int, default=1, help="`doorstep worker` processes [1]")
    add("--queue-threads", type=int, default=4, help="QUEUE_WORKER_THREADS of each [4]")
    add("--duration", type=float, default=8.0, help="seconds per timed step [8]")
    add("--concurrency", default="1,50,200",
        help="concurrent conversations, comma-separated [1,50,200]")
    add("--events-concurrency", type=int, default=50, help="events in flight [50]")
    add("--rate", type=float, default=100.0, help="open-loop turns/s for reply time [100]")
    add("--drain", type=int, default=2000,
        help="events to post and drain at the end; 0 skips it [2000]")
    add("--redis-url", default=None,
        help="a scratch Redis to use instead of starting one (it is written to, not flushed)")


class Driver:
    """The load process, and a pipe to it."""

    def __init__(self) -> None:
        from bench import load_driver

        context = multiprocessing.get_context("spawn")
        self.conn, child = context.Pipe()
        self.process = context.Process(target=load_driver.serve, args=(child,), daemon=True)
        self.process.start()
        child.close()  # so that a dead driver is an EOFError here, not a hang

    def __call__(self, op: str, **arguments: Any) -> dict[str, Any]:
        self.conn.send({"op": op, **arguments})
        try:
            result = self.conn.recv()
        except EOFError:
            raise RuntimeError(f"load driver died (exit code {self.process.exitcode})"
                               ) from None
        if "failed" in result:
            raise RuntimeError(f"load driver: {result['failed']}")
        return result

    def stop(self) -> None:
        if self.process.is_alive():
            try:
                self.conn.send({"op": "stop"})
            except OSError:
                pass
            self.process.join(10)
        if self.process.is_alive():
            self.process.kill()


class Bench:
    """One run: the processes, the driver, what was measured."""

    def __init__(self, args: argparse.Namespace, procs: Processes, driver: Driver) -> None:
        self.args, self.procs, self.driver = args, procs, driver
        self.redis = redis.Redis.from_url(procs.redis_url)
        self.http = requests.Session()
        self.http.trust_env = False
        self.area_code = secrets.choice(range(201, 990))  # phones no earlier run used
        self.seen = 0  # fake Twilio arrivals read so far
        self.arrivals: dict[str, list[float]] = {}  # phone -> arrival times (monotonic)
        self.rejected_sends = 0

    def phone(self, block: int, i: int) -> str:
        """The i-th customer phone of a block (1 conversations, 2 events, 3 drain)."""
        return f"+1{self.area_code}{block}{i:06d}"

    # -- the fake Twilio and the queue ---------------------------------------
    def read_arrivals(self) -> None:
        found = self.http.get(f"{self.procs.fake_url}/bench/arrivals?after={self.seen}",
                              timeout=30).json()
        self.seen = found["next"]
        self.rejected_sends = found["rejected"]
        for to, arrived in found["arrivals"]:
            self.arrivals.setdefault(to, []).append(arrived)

    def queue_depth(self) -> int:
        pipe = self.redis.pipeline(transaction=False)
        for name in BUSY_QUEUES:
            pipe.hlen(f"doorstep-queue:{name}.msgs")
        return sum(pipe.execute())

    def wait_until_sent(self, timeout: float = 600) -> float:
        """Wait until the queue has nothing due (every reply sent); the seconds it took."""
        started = time.monotonic()
        quiet = 0
        while quiet < 2:
            quiet = quiet + 1 if self.queue_depth() == 0 else 0
            if time.monotonic() - started > timeout:
                raise RuntimeError(f"queue not empty after {timeout:.0f} s")
            time.sleep(0.1)
        self.read_arrivals()
        return time.monotonic() - started

    def commands_processed(self) -> int:
        return int(self.redis.info("stats")["total_commands_processed"])

    def usage(self) -> dict[str, float]:
        """CPU seconds used so far by each kind of process, and Redis commands run."""
        used = {kind: cpu_seconds(pids) for kind, pids in self.procs.cpu_pids().items()}
        return {**used, "commands": self.commands_processed()}

    def cost_per(self, before: dict[str, float], handled: int) -> dict[str, float]:
        """What each turn (or event) cost since ``before``: CPU ms per kind, commands."""
        after = self.usage()
        return {kind: (after[kind] - before[kind]) * (1 if kind == "commands" else 1000)
                / max(1, handled) for kind in after}

    # -- the steps ----------------------------------------------------------
    def open_cases(self, phones: list[str]) -> None:
        done = self.driver("events", url=self.procs.doorstep_url, secret=self.procs.secret,
                           phones=phones, concurrency=min(50, len(phones)), duration=None)
        if done["errors"]:
            raise RuntimeError(f"opening the conversations' cases failed: {done['errors']}")
        self.wait_until_sent()

    def calibrate(self, phone: str) -> dict[str, int]:
        """How many texts answer each dialogue turn (so the reply-time step knows when a
        turn is fully answered)."""
        procs, counts = self.procs, {}
        for text in TEXTS:
            before = len(self.arrivals.get(phone, []))
            body, headers, _ = sms_turn(procs.doorstep_url, procs.validator, procs.account_sid,
                                        procs.from_number, phone, text)
            resp = self.http.post(procs.doorstep_url + "/webhooks/twilio/sms", data=body,
                                  headers=headers, timeout=30)
            resp.raise_for_status()
            self.wait_until_sent()
            counts[text] = len(self.arrivals.get(phone, [])) - before
            if counts[text] < 1:
                raise RuntimeError(f"no reply to {text!r}: the bench's dialogue needs updating")
        return counts

    def turns(self, url: str, phones: list[str]) -> dict[str, Any]:
        """Closed-loop turns against ``url``; with what they cost (backlog included)."""
        before = self.usage()
        result = self.driver("turns", url=url, public_url=self.procs.doorstep_url,
                             twilio=self.procs.twilio, phones=phones,
                             duration=self.args.duration)
        result["backlog_s"] = self.wait_until_sent()
        # one untimed turn per conversation opened its connection: it cost too
        result["cost"] = self.cost_per(before, result["ok"] + len(phones))
        return result

    def replies(self, url: str, phones: list[str], fake: bool,
                replies_per_text: dict[str, int]) -> dict[str, Any]:
        return self.driver("replies", url=url, public_url=self.procs.doorstep_url,
                           twilio=self.procs.twilio, phones=phones, rate=self.args.rate,
                           duration=self.args.duration,
                           fake_url=self.procs.fake_url if fake else None,
                           replies_per_text=replies_per_text)

    def events(self) -> dict[str, Any]:
        args = self.args
        cap = math.ceil(args.duration * EVENTS_SIGNED_PER_SECOND) + args.events_concurrency
        before = self.usage()
        result = self.driver("events", url=self.procs.doorstep_url, secret=self.procs.secret,
                             phones=[self.phone(2, i) for i in range(cap)],
                             concurrency=self.args.events_concurrency,
                             duration=self.args.duration)
        result["backlog_s"] = self.wait_until_sent()
        result["cost"] = self.cost_per(before, result["ok"] + self.args.events_concurrency)
        return result

    def drain(self, count: int, per_case: int) -> dict[str, Any]:
        phones = [self.phone(3, i) for i in range(count)]
        cases_before = self.redis.zcard("ds:cases")
        dead_before = self.dead_letters()
        posted = self.driver("events", url=self.procs.doorstep_url, secret=self.procs.secret,
                             phones=phones, concurrency=self.args.events_concurrency,
                             duration=None)
        waited = self.wait_until_sent(timeout=max(120.0, count / 20))
        firsts = [self.arrivals[p][0] for p in phones if p in self.arrivals]
        received = sum(len(self.arrivals.get(p, [])) for p in phones)
        return {"count": count, "posted": posted,
                "seconds": (max(firsts) - posted["started_at"]) if firsts else None,
                "reached": len(firsts), "received": received, "expected": count * per_case,
                "cases": self.redis.zcard("ds:cases") - cases_before,
                "dead": self.dead_letters() - dead_before, "waited": waited,
                "rejected": self.rejected_sends}

    def dead_letters(self) -> int:
        """Staff dead letters (``ds:deadletter``) and Dramatiq's own (``*.XQ``)."""
        dead = self.redis.zcard("ds:deadletter:order")
        for name in ALL_QUEUES:
            dead += self.redis.zcard(f"doorstep-queue:{name}.XQ")
        return int(dead)


def measure(bench: Bench) -> dict[str, Any]:
    """Every step, in order; what the table needs."""
    args = bench.args
    levels = sorted({int(c) for c in args.concurrency.split(",") if c.strip()})
    conversations = [bench.phone(1, i) for i in range(max(*levels, math.ceil(2 * args.rate)))]
    calibration = bench.phone(9, 0)
    bench.open_cases(conversations + [calibration])
    per_case = len(bench.arrivals.get(calibration, []))
    replies_per_text = bench.calibrate(calibration)
    found: dict[str, Any] = {"levels": levels, "baseline": {}, "turns": {}}
    for level in sorted(set(levels) | {args.events_concurrency}):
        found["baseline"][level] = bench.turns(bench.procs.baseline_url, conversations[:level])
        if level in levels:
            found["turns"][level] = bench.turns(bench.procs.doorstep_url, conversations[:level])
    found["baseline_open"] = bench.replies(bench.procs.baseline_url, conversations, False, {})
    found["replies"] = bench.replies(bench.procs.doorstep_url, conversations, True,
                                     replies_per_text)
    found["replies"]["backlog_s"] = bench.wait_until_sent()
    found["events"] = bench.events()
    found["ping"] = {n: bench.driver("ping", redis_url=bench.procs.redis_url, concurrency=n,
                                     duration=1.0) for n in (1, 50)}
    if args.drain:
        found["drain"] = bench.drain(args.drain, per_case)
    found["rss"] = {"web": [rss_mb(p) for p in bench.procs.web_worker_pids("doorstep")],
                    "baseline": [rss_mb(p) for p in bench.procs.web_worker_pids("baseline")],
                    "queue": [rss_mb(p.pid) for p in bench.procs.queue_workers]}
    found["rejected_sends"] = bench.rejected_sends
    found["delayed"] = {name: bench.redis.hlen(f"doorstep-queue:{name}.DQ.msgs")
                        for name in (IDLE_QUEUE, NEXT_QUEUE)}
    return found


def run(args: argparse.Namespace) -> None:
    """Run the whole bench and print the table."""
    started = time.monotonic()

    def stop_on_sigterm(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    workdir = Path(tempfile.mkdtemp(prefix="doorstep-load-"))
    driver: Driver | None = None
    try:
        with Processes(args, workdir) as procs:
            print(f"started in {time.monotonic() - started:.0f} s: {procs.describe()}",
                  file=sys.stderr)
            driver = Driver()
            found = measure(Bench(args, procs, driver))
            found["redis_version"] = procs.redis_version
        load_table.print_table(args, found, time.monotonic() - started)
    except KeyboardInterrupt:
        print("interrupted: stopped every process", file=sys.stderr)
        sys.exit(130)
    finally:
        if driver is not None:
            driver.stop()
        if not os.environ.get("BENCH_KEEP_WORKDIR"):
            shutil.rmtree(workdir, ignore_errors=True)
