"""Insights figures at scale: seeding, the in-memory table, the figures, the CSV, the
page over HTTP, and what recording a case's events adds to a turn.

On a scratch Redis (a private redis-server, or ``REDIS_URL`` if it is empty), seed N
cases with :func:`bot.demo_seed.seed_cases`, then time: a cold load of the table
(``Insights.refresh`` from empty); ``Insights.figures`` warm for the default 90 days and
with a type + carrier filter; the CSV export of every row; ``GET /console/insights``,
``GET /api/insights`` and ``GET /api/insights/export.csv`` through the real Flask app
served by waitress, with a supervisor's API token: right after a new case event (the
figures cache misses and the table reads that case) and cached. Recording: the real
``Engine.commit`` of a typical turn (the customer's "yes" that books a window: seven
timeline entries with its two replies and a callback, case and conversation saved) with
the fold on, and with ``fold`` patched to return nothing.

Targets (issue 7): the insights page for 100 000 cases in under 500 ms server time;
recording a case event adds under 1 ms to a turn.
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import redis

from bench.insights_turn import recording_cost

TARGETS = {"page": 500.0, "api": 500.0, "record_added": 1.0}  # ms


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _times(fn: Callable[[], object], runs: int) -> list[float]:
    out = []
    for _ in range(runs):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


@contextmanager
def scratch_redis(workdir: Path) -> Iterator[str]:
    """``REDIS_URL`` when set (it must be empty), else a private redis-server."""
    if os.environ.get("REDIS_URL"):
        url = os.environ["REDIS_URL"]
        if redis.Redis.from_url(url).dbsize():
            raise SystemExit("REDIS_URL is not empty: the benchmark writes cases into it; "
                             "point it at an empty database")
        yield url
        return
    from bot.redis_server import redis_server_binary

    sock = workdir / "redis.sock"
    proc = subprocess.Popen([redis_server_binary(), "--port", "0", "--unixsocket", str(sock),
                             "--save", "", "--appendonly", "no", "--dir", str(workdir)],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"unix://{sock}"
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.exceptions.RedisError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


class Table:
    """Rows of (figure, measured, target) printed like ``bench nlu``."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, str, str, str]] = []

    def add(self, name: str, measured: str, target: float | None = None,
            value: float | None = None) -> None:
        verdict = "" if target is None or value is None else \
            ("PASS" if value <= target else "FAIL")
        self.rows.append((name, measured, "" if target is None else f"< {target:g} ms",
                          verdict))

    def print(self) -> None:
        print(f"{'figure':<44}{'measured':>26}{'target':>12}  ok")
        for name, measured, target, verdict in self.rows:
            print(f"{name:<44}{measured:>26}{target:>12}  {verdict}")


def _dist(values: list[float]) -> str:
    return f"{statistics.median(values):.1f} / {_percentile(values, 0.95):.1f} ms"


def run(cases: int = 100_000, runs: int = 20, workers: int = 1) -> Table:
    """Measure and print; return the table."""
    from bot.demo_seed import seed_cases
    from bot.insights import Filters, Insights
    from bot.store import Store
    from console.insights import csv_lines

    workdir = Path(tempfile.mkdtemp(prefix="doorstep-bench-insights-"))
    table = Table()
    try:
        with scratch_redis(workdir) as url:
            store = Store(redis.Redis.from_url(url))
            tz = "America/New_York"
            result = seed_cases(store, cases, seed=7, timezone=tz, workers=workers)
            table.add(f"seed {cases} cases ({result.entries} entries)",
                      f"{result.seconds:.1f} s")
            insights = Insights(store, tz)
            t0 = time.perf_counter()
            insights.refresh()
            table.add("cold load (Insights.refresh from empty)",
                      f"{time.perf_counter() - t0:.2f} s")
            everything = Filters.from_query({}, insights.today())
            narrow = Filters(everything.start, everything.end, ("delivery.failed",), ("ups",))
            assert insights.figures(everything)["cases"] == cases
            table.add("figures, 90 days (median / p95)",
                      _dist(_times(lambda: insights.figures(everything), runs)))
            table.add("figures, type + carrier (median / p95)",
                      _dist(_times(lambda: insights.figures(narrow), runs)))
            t0 = time.perf_counter()
            size = sum(len(chunk) for chunk in csv_lines(insights.rows(everything)))
            table.add(f"CSV export, all rows ({size / 2**20:.1f} MB)",
                      f"{(time.perf_counter() - t0) * 1000:.0f} ms")
            _http(table, url, workdir, runs)
            added = recording_cost(store)
            table.add("recording: turn without fold (median/p99)",
                      f"{added['off_median']:.2f} / {added['off_p99']:.2f} ms")
            table.add("recording: turn with fold (median/p99)",
                      f"{added['on_median']:.2f} / {added['on_p99']:.2f} ms")
            table.add("recording adds to a turn, median", f"{added['median']:.3f} ms",
                      TARGETS["record_added"], added["median"])
            table.add("recording adds to a turn, p99", f"{added['p99']:.3f} ms",
                      TARGETS["record_added"], added["p99"])
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"insights, {cases} cases, {os.cpu_count()} CPUs, {runs} runs each")
    table.print()
    return table


def _http(table: Table, url: str, workdir: Path, runs: int) -> None:
    """The three routes over real HTTP (waitress), or a line saying why not."""
    try:
        from console import insights as _routes  # noqa: F401 - present?
    except ImportError:
        table.add("HTTP: console/insights.py not there yet", "skipped")
        return
    from bench.insights_http import measure_routes

    for name, measured, target, value in measure_routes(url, workdir, runs):
        table.add(name, measured, TARGETS.get(target) if target else None, value)
