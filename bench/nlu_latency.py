"""Embedded NLU figures: training time, model load time, parse latency, resident memory.

Parse latency is measured on one core (the process is pinned to CPU 0 where the OS
allows) after a warm-up pass, over every message of the held-out test split, including
entity extraction. Targets from the NLU issue: median <= 2 ms, p99 <= 10 ms, training
<= 30 s, model load <= 2 s, engine memory <= 300 MB.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

TARGETS = {"parse_median_ms": 2.0, "parse_p99_ms": 10.0, "train_s": 30.0, "load_s": 2.0,
           "engine_rss_mb": 300.0}


def _rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def run(rounds: int = 5) -> dict[str, float]:
    """Measure and print; return the figures."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {0})
    base_rss = _rss_mb()
    from nlu.embedded import EmbeddedNLU, load_model
    from nlu.evaluate import REFERENCE_TIME, REFERENCE_TZ
    from nlu.training_data import DATA_DIR, load

    texts = [e.text for e in load(DATA_DIR / "test").examples]
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        load_model(Path(tmp), force_train=True)
        train_s = time.perf_counter() - started
        started = time.perf_counter()
        engine = EmbeddedNLU(load_model(Path(tmp))[0])
        load_s = time.perf_counter() - started
    for text in texts:  # warm-up
        engine.parse(text, REFERENCE_TIME, REFERENCE_TZ)
    samples = []
    for _ in range(rounds):
        for text in texts:
            t0 = time.perf_counter()
            engine.parse(text, REFERENCE_TIME, REFERENCE_TZ)
            samples.append((time.perf_counter() - t0) * 1000)
    figures = {"parse_median_ms": statistics.median(samples),
               "parse_p99_ms": _percentile(samples, 0.99), "train_s": train_s,
               "load_s": load_s, "engine_rss_mb": _rss_mb() - base_rss}
    print(f"embedded NLU, {len(texts)} test messages x {rounds} rounds, one core")
    print(f"{'figure':<18}{'measured':>10}{'target':>10}  ok")
    for name, value in figures.items():
        print(f"{name:<18}{value:>10.2f}{TARGETS[name]:>10.2f}  "
              f"{'yes' if value <= TARGETS[name] else 'NO'}")
    print(f"(process RSS {_rss_mb():.0f} MB, of which the engine and its libraries "
          f"{figures['engine_rss_mb']:.0f} MB)")
    return figures
