"""Gunicorn settings for Doorstep's web processes: ``gunicorn -c python:bot.gunicorn_config``
(``gunicorn.conf.py`` in the repository root is the same for a working copy).

What Prometheus' multi-process mode needs, and loading the insights table once a worker
is up; workers, threads and the bind address stay
on the command line (see README, "Deploying"). With ``PROMETHEUS_MULTIPROC_DIR`` set in
the environment of gunicorn and of every ``doorstep worker``, each process writes its
counts there and ``/metrics`` sums them. Empty the directory before starting the whole
set (not when restarting one part): files of processes that are gone are still summed.
"""

from __future__ import annotations

import os
from typing import Any


def on_starting(server: Any) -> None:
    """Create the metrics directory if it is missing (prometheus_client needs it)."""
    path = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if path:
        os.makedirs(path, exist_ok=True)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges (its counters stay in the sums, as they should)."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(worker.pid)


def post_worker_init(worker: Any) -> None:
    """Load the insights table in the background, so a supervisor's first insights page
    does not wait for it (100 000 cases: a few seconds)."""
    runtime = getattr(worker.wsgi, "extensions", {}).get("doorstep")
    if runtime is not None:
        runtime.insights.warm_up()
