"""``python -m bench load`` in a tiny form: the whole run starts, measures, prints its
table with ratios to the baseline, drains without loss, and stops every process."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RATIO = r"\d+\.\d\d"


def row(table: str, name: str) -> str:
    found = [line for line in table.splitlines() if line.startswith(name)]
    assert found, f"no row {name!r} in:\n{table}"
    return found[0]


@pytest.mark.timeout(240)  # the session trains the NLU model first (about 40 s)
def test_tiny_load_bench_prints_every_row_with_ratios_and_drains_without_loss(tmp_path):
    # NLU_MODEL_DIR (the session's trained model) is inherited: nothing is trained here.
    env = {**os.environ, "TMPDIR": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "bench", "load", "--duration", "1", "--concurrency", "1,4",
         "--rate", "10", "--drain", "20", "--events-concurrency", "4"],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr[-3000:]
    table = done.stdout

    for name in ("SMS turns/s, 1 conversation", "SMS turns/s, 4 conversations",
                 "events/s, 4 in flight"):
        assert re.search(rf"req/s.*\s{RATIO}\s+0\s", row(table, name)), row(table, name)
    assert re.search(rf"ms\s+{RATIO} / {RATIO}", row(table, "  latency p50 / p99"))
    assert re.search(rf"{RATIO} \(web\)", row(table, "  CPU/turn web+queue+Redis"))
    reply = row(table, "reply time at 10 turns/s")
    assert re.search(rf"\(HTTP\)\s+{RATIO} / {RATIO}\s+0\s", reply), reply
    assert row(table, "drain 20 events").rstrip().endswith("PASS")
    assert "cases 20/20, texts received 40/40, phones reached 20, dead letters 0" in table
    assert re.search(r"RSS per web worker \(MB\)\s+\d+ / \d+\s+\d+ / \d+\s+" + RATIO,
                     table)
    assert "RSS per queue worker (MB)" in table
    assert not list(tmp_path.glob("doorstep-load-*")), "the run's directory was left behind"
