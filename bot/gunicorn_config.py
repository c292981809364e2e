"""Gunicorn settings for Doorstep's web processes: ``gunicorn -c python:bot.gunicorn_config``
(``gunicorn.conf.py`` in the repository root is the same for a working copy).

What Prometheus' multi-process mode needs, and loading the insights table once a worker
is up; workers, threads and the bind address stay
on the command line (see README, "Deploying"). With ``PROMETHEUS_MULTIPROC_DIR`` set in
the environment of gunicorn and of every ``doorstep worker``, each process writes its
counts there and ``/metrics`` sums them. Empty the directory before starting the whole
set (not when restarting one part): files of processes that are gone are still summed.

gunicorn's own log lines (its error log, and the access log when ``--access-logfile`` is
given) go through Doorstep's redaction like every other line: an access line holds the
request line and the referrer, where a tracking-page token (``/t/<token>``), a query
string or a phone number would otherwise be written out.
"""

from __future__ import annotations

import os
from typing import Any

from gunicorn.glogging import Logger

from bot.logs import RedactingFilter


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


class RedactingLogger(Logger):
    """gunicorn's logger with Doorstep's redaction on each of its handlers."""

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, RedactingFilter) for f in handler.filters):
                    handler.addFilter(RedactingFilter())


logger_class = RedactingLogger
